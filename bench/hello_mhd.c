/* The peer of bench/http.sh: the smallest libmicrohttpd server, set up
 * the way evoclaw-server is (src/api/server.c): an internal polling
 * thread pool of one thread per core over epoll, suspend/resume allowed,
 * 1024 connections, 30 s idle timeout; it answers on the handler's second
 * call, with a response made per request and the same three headers, so
 * what is left between the two is evoclaw's own work per request.
 *   hello_mhd PORT [FILE]   (serves until SIGINT/SIGTERM)
 * FILE, when given, is the body instead of the small one: the same bytes
 * as an evoclaw answer, to tell the cost of its size from evoclaw's work.
 * Build: cc -O2 -o hello_mhd bench/hello_mhd.c -lmicrohttpd */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char small[] = "{\"status\":\"ok\",\"hello\":\"world\"}";
static const char *body = small;
static size_t body_len = sizeof small - 1;

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	(void)cls, (void)url, (void)method, (void)version, (void)upload_data;
	static int first;
	if (*con_cls == NULL) { /* headers only: answer on the next call */
		*con_cls = &first;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	struct MHD_Response *r =
		MHD_create_response_from_buffer(body_len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: hello_mhd PORT [BODY_FILE]\n");
		return 2;
	}
	if (argc == 3) {
		FILE *f = fopen(argv[2], "rb");
		static char buf[4 << 20];
		if (f == NULL || (body_len = fread(buf, 1, sizeof buf, f)) == 0) {
			fprintf(stderr, "hello_mhd: cannot read %s\n", argv[2]);
			return 1;
		}
		fclose(f);
		body = buf;
	}
	unsigned port = (unsigned)strtoul(argv[1], NULL, 10);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			MHD_ALLOW_SUSPEND_RESUME,
		(uint16_t)port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &sa,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cores > 0 ? cores : 1),
		MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "hello_mhd: cannot listen on 127.0.0.1:%u\n", port);
		return 1;
	}
	int sig;
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	return 0;
}
