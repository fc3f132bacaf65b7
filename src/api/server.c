#include "api/server.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/http.h"
#include "common/cleanup.h"
#include "common/fileutil.h"
#include "common/proto.h"
#include "runtime/template.h"
#include "store/store.h"

struct server {
	const struct evo_config *cfg;
	struct store *store;
	char admin_key[80];
};

/* One request's state across libmicrohttpd's calls of the handler. */
struct request {
	struct evo_buf body;
	bool too_large;
};

/* The admin key lives in the data directory, readable by root alone; it
 * is created on first start. Its value is never printed or logged. */
static int load_admin_key(const char *data_dir, char *key, size_t size, struct evo_error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/admin.key", data_dir);
	char buf[128];
	ssize_t n = read_file_small(path, buf, sizeof buf);
	if (n >= 0) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (strncmp(buf, "evo_admin_", 10) != 0 || strlen(buf) != 10 + 48)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "%s is not an admin key; remove it to have a new one made",
					     path);
		snprintf(key, size, "%s", buf);
		return 0;
	}
	if (errno != ENOENT)
		return evo_error_errno(err, "read %s", path);
	unsigned char raw[24];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return evo_error_errno(err, "generate an admin key");
	int len = snprintf(key, size, "evo_admin_");
	for (size_t i = 0; i < sizeof raw && (size_t)len + 2 < size; i++)
		len += snprintf(key + len, size - (size_t)len, "%02x", raw[i]);
	/* Whole or not at all: a crash mid-write must not leave a short key. */
	char line[96];
	int l = snprintf(line, sizeof line, "%s\n", key);
	if (write_file_atomic(path, line, (size_t)l, 0600) < 0)
		return evo_error_errno(err, "create %s", path);
	fprintf(stderr, "evoclaw: created the admin key in %s (mode 0600)\n", path);
	return 0;
}

/* Equal strings, in time that does not depend on where they differ. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = (unsigned char)(la != lb);
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return diff == 0;
}

static enum MHD_Result get_templates(struct MHD_Connection *c)
{
	char **names = template_list();
	json_t *list = json_array();
	for (char **n = names; *n; n++) {
		struct template t;
		struct evo_error err = {0};
		if (template_load(*n, &t, &err) < 0)
			continue;
		json_array_append_new(
			list, json_pack("{s:s, s:s, s:f, s:i, s:i, s:i}", "name", t.name, "description",
					t.description ? t.description : "", "vcpu",
					t.resources.cpu_millis / 1000.0, "memory_mb",
					(int)t.resources.memory_mb, "disk_mb", (int)t.resources.disk_mb,
					"pids", (int)t.resources.pids));
		template_free(&t);
	}
	template_names_free(names);
	return http_send_json(c, 200, json_pack("{s:o}", "templates", list));
}

/* Routes and the methods they accept. */
static enum MHD_Result route(struct server *srv, struct MHD_Connection *c, const char *method,
			     const char *url, struct request *req)
{
	(void)req;
	bool is_get = strcmp(method, "GET") == 0;
	if (strcmp(url, "/healthz") == 0) {
		if (!is_get)
			return http_send_error(c, 405, "method_not_allowed", "%s /healthz: use GET", method);
		return http_send_json(c, 200, json_pack("{s:s}", "status", "ok"));
	}
	if (strncmp(url, "/api/", 5) == 0 && srv->cfg->auth_mode == CONFIG_AUTH_KEY) {
		const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
		if (key == NULL || *key == '\0')
			return http_send_error(c, 401, "unauthorized",
					       "missing X-API-Key header (the admin key is in %s/admin.key)",
					       srv->cfg->data_dir);
		if (!same_secret(key, srv->admin_key))
			return http_send_error(c, 401, "unauthorized", "invalid API key");
	}
	if (strcmp(url, "/api/templates") == 0) {
		if (!is_get)
			return http_send_error(c, 405, "method_not_allowed", "%s /api/templates: use GET",
					       method);
		return get_templates(c);
	}
	return http_send_error(c, 404, "not_found", "no route %s %.200s", method, url);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	(void)version;
	struct request *req = *con_cls;
	if (req == NULL) {
		/* First call: headers only. The answer must come on the next
		 * call, or libmicrohttpd drops keep-alive connections; a body
		 * declared too large is refused now, before any of it is read. */
		*con_cls = req = xcalloc(1, sizeof *req);
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > API_MAX_BODY)
			return http_send_error(c, 413, "payload_too_large",
					       "request body is larger than %u bytes", API_MAX_BODY);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* A body of undeclared size (chunked) that grows too large is
		 * read to its end and dropped; the idle timeout bounds it. */
		if (req->body.len + *upload_size > API_MAX_BODY)
			req->too_large = true;
		else if (!req->too_large)
			evo_buf_append(&req->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->too_large)
		return http_send_error(c, 413, "payload_too_large",
				       "request body is larger than %u bytes", API_MAX_BODY);
	return route(cls, c, method, url, req);
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	(void)cls;
	(void)c;
	(void)code;
	struct request *req = *con_cls;
	if (req != NULL) {
		evo_buf_free(&req->body);
		free(req);
		*con_cls = NULL;
	}
}

int api_serve(const struct evo_config *cfg, struct evo_error *err)
{
	char host[CONFIG_STRING_MAX];
	uint16_t port;
	if (config_listen_address(cfg, host, sizeof host, &port, err) < 0)
		return evo_error_prefix(err, "listen");
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char service[8];
	snprintf(service, sizeof service, "%u", port);
	int gai = getaddrinfo(host, service, &hints, &ai);
	if (gai != 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "listen: %s: %s", host, gai_strerror(gai));

	struct server srv = {.cfg = cfg};
	if (store_open(cfg->data_dir, &srv.store, err) < 0) {
		freeaddrinfo(ai);
		return -1;
	}
	if (load_admin_key(cfg->data_dir, srv.admin_key, sizeof srv.admin_key, err) < 0) {
		freeaddrinfo(ai);
		store_close(srv.store);
		return -1;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* One polling thread per core; bounded connections and idle time,
	 * so a flood of slow clients cannot exhaust the server. */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, port, NULL, NULL, handle, &srv, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cores > 0 ? cores : 1),
		MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
		MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (d == NULL) {
		store_close(srv.store);
		return evo_error_set(err, EVO_ERR_SYSTEM, 0,
				     "cannot listen on %s (in use, or not an address of this host?)",
				     cfg->listen);
	}
	fprintf(stderr, "evoclaw: serving on http://%s (data in %s)\n", cfg->listen, cfg->data_dir);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	int sig;
	sigwait(&stop, &sig);
	fprintf(stderr, "evoclaw: stopping (%s)\n", strsignal(sig));
	MHD_stop_daemon(d);
	store_close(srv.store);
	return 0;
}
