#include "runtime/local/doors.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/paths.h"

/* 0755 whatever the umask, and host root's: sandboxes may look in and
 * connect, never write. */
static int make_open_dir(const char *path, struct evo_error *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return evo_error_errno(err, "create %s", path);
	if (chmod(path, 0755) < 0)
		return evo_error_errno(err, "chmod %s", path);
	return 0;
}

int doors_host_root(char *out, size_t size, struct evo_error *err)
{
	snprintf(out, size, "%s/doors", evo_paths_get()->run);
	return make_open_dir(out, err);
}

void doors_sandbox_path(const char *owner, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s/%s", DOORS_SANDBOX_DIR, owner, name);
}

static void host_path(const char *owner, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/doors/%s/%s", evo_paths_get()->run, owner, name);
}

int doors_listen(const char *owner, const char *name, struct evo_error *err)
{
	char root[PATH_MAX], dir[PATH_MAX];
	if (doors_host_root(root, sizeof root, err) < 0)
		return -1;
	snprintf(dir, sizeof dir, "%s/%s", root, owner);
	if (make_open_dir(dir, err) < 0)
		return -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof sa.sun_path)
		return evo_error_set(err, EVO_ERR_INVALID, ENAMETOOLONG,
				     "%s/%s: too long for a unix socket path (shorten EVOCLAW_RUN_DIR)",
				     dir, name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return evo_error_errno(err, "socket for %s", sa.sun_path);
	/* A socket file left by a run that crashed would refuse the bind. */
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    /* Any sandbox user may connect; what it can ask is limited by
	     * what listens. */
	    chmod(sa.sun_path, 0666) < 0 || listen(fd, 128) < 0) {
		evo_error_errno(err, "listen on %s", sa.sun_path);
		close(fd);
		return -1;
	}
	return fd;
}

void doors_remove(const char *owner, const char *name)
{
	char path[PATH_MAX];
	host_path(owner, name, path, sizeof path);
	unlink(path);
}

/* ---- the relay --------------------------------------------------------- */

/* At most this many relayed connections at once; more are refused. */
#define RELAY_MAX_CONNECTIONS 4096

struct door_relay {
	int listen_fd;
	int stop_fd; /* eventfd: readable once stopping */
	char host[256];
	uint16_t port;
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_cond_t idle; /* signalled when the last connection ends */
	unsigned connections;
};

struct relay_pair {
	struct door_relay *relay;
	int inside; /* from the sandbox */
};

static int connect_upstream(const struct door_relay *r)
{
	char service[8];
	snprintf(service, sizeof service, "%u", r->port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	if (getaddrinfo(r->host, service, &hints, &ai) != 0)
		return -1;
	int fd = -1;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd;
}

/* Move what is readable on `from` to `to`: 1 while open, 0 at the end. */
static int pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof buf);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		off += w;
	}
	return 1;
}

static void *relay_connection(void *arg)
{
	struct relay_pair *p = arg;
	struct door_relay *r = p->relay;
	int inside = p->inside;
	free(p);
	int outside = connect_upstream(r);
	if (outside >= 0) {
		/* The sandbox's side was accepted non-blocking; copies block. */
		fcntl(inside, F_SETFL, fcntl(inside, F_GETFL) & ~O_NONBLOCK);
		struct pollfd fds[3] = {{.fd = inside, .events = POLLIN},
					{.fd = outside, .events = POLLIN},
					{.fd = r->stop_fd, .events = POLLIN}};
		for (;;) {
			if (poll(fds, 3, -1) < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			if (fds[2].revents)
				break;
			/* MQTT has no half-close: either end closing ends both. */
			if (fds[0].revents && pump(inside, outside) == 0)
				break;
			if (fds[1].revents && pump(outside, inside) == 0)
				break;
		}
		close(outside);
	}
	close(inside);
	pthread_mutex_lock(&r->lock);
	if (--r->connections == 0)
		pthread_cond_broadcast(&r->idle);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void *relay_accept(void *arg)
{
	struct door_relay *r = arg;
	struct pollfd fds[2] = {{.fd = r->listen_fd, .events = POLLIN},
				{.fd = r->stop_fd, .events = POLLIN}};
	for (;;) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (!fds[0].revents)
			continue;
		int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&r->lock);
		bool room = r->connections < RELAY_MAX_CONNECTIONS;
		if (room)
			r->connections++;
		pthread_mutex_unlock(&r->lock);
		if (!room) {
			close(fd);
			continue;
		}
		struct relay_pair *p = xmalloc(sizeof *p);
		*p = (struct relay_pair){.relay = r, .inside = fd};
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 64 * 1024);
		pthread_t t;
		if (pthread_create(&t, &attr, relay_connection, p) != 0) {
			free(p);
			close(fd);
			pthread_mutex_lock(&r->lock);
			if (--r->connections == 0)
				pthread_cond_broadcast(&r->idle);
			pthread_mutex_unlock(&r->lock);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

struct door_relay *door_relay_start(int listen_fd, const char *host, uint16_t port,
				    struct evo_error *err)
{
	struct door_relay *r = xcalloc(1, sizeof *r);
	r->listen_fd = listen_fd;
	r->port = port;
	snprintf(r->host, sizeof r->host, "%s", host);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->idle, NULL);
	r->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (r->stop_fd < 0 || pthread_create(&r->acceptor, NULL, relay_accept, r) != 0) {
		evo_error_errno(err, "start the relay to %s:%u", host, port);
		if (r->stop_fd >= 0)
			close(r->stop_fd);
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->idle);
		free(r);
		return NULL;
	}
	return r;
}

void door_relay_stop(struct door_relay *r)
{
	if (r == NULL)
		return;
	uint64_t one = 1;
	if (write(r->stop_fd, &one, sizeof one) < 0)
		abort(); /* an eventfd write of 1 cannot fail */
	pthread_join(r->acceptor, NULL);
	pthread_mutex_lock(&r->lock);
	while (r->connections > 0)
		pthread_cond_wait(&r->idle, &r->lock);
	pthread_mutex_unlock(&r->lock);
	close(r->listen_fd);
	close(r->stop_fd);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->idle);
	free(r);
}
