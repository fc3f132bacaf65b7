#include "api/server.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "common/text.h"
#include "api/envd_session.h"
#include "api/http.h"
#include "api/mqtt_ingest.h"
#include "orchestrator/scheduler.h"
#include "orchestrator/tournament.h"
#include "api/limiter.h"
#include "api/page_cache.h"
#include "common/cleanup.h"
#include "common/fileutil.h"
#include "common/proto.h"
#include "runtime/local/doors.h"
#include "runtime/local/sandbox.h"
#include "runtime/e2b/provider_e2b.h"
#include "runtime/provider.h"
#include "runtime/template.h"
#include "store/store.h"


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

int64_t api_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *api_body_object(struct MHD_Connection *c, const struct api_request *req,
			enum MHD_Result *ret)
{
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (req->body.len > 0 && type && strncasecmp(type, "application/json", 16) != 0) {
		*ret = http_send_error(c, 415, "unsupported_media_type",
				       "Content-Type must be application/json");
		return NULL;
	}
	json_error_t jerr;
	json_t *body = req->body.len ? json_loadb((const char *)req->body.data, req->body.len,
						  JSON_REJECT_DUPLICATES, &jerr)
				     : json_object();
	if (body == NULL) {
		*ret = http_send_error(c, 400, "invalid_request",
				       "body is not valid JSON: %s at line %d column %d", jerr.text,
				       jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(body)) {
		json_decref(body);
		*ret = http_send_error(c, 400, "invalid_request", "body must be a JSON object");
		return NULL;
	}
	return body;
}

static enum MHD_Result wrong_method(struct MHD_Connection *c, const char *method,
				    const char *route, const char *allowed)
{
	return http_send_error(c, 405, "method_not_allowed", "%.16s %s: use %s", method, route,
			       allowed);
}

/* "ip:<the client's address>" */
static void client_name(struct MHD_Connection *c, char *out, size_t size)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char addr[INET6_ADDRSTRLEN] = "unknown";
	if (info && info->client_addr) {
		const struct sockaddr *sa = info->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
				  sizeof addr);
	}
	snprintf(out, size, "ip:%s", addr);
}

/* 429 with Retry-After, in the shape of the route's surface. */
static enum MHD_Result too_many(struct MHD_Connection *c, bool e2b, uint32_t retry,
				const char *what)
{
	char message[160], seconds[16];
	snprintf(message, sizeof message, "rate limit: too many %s; retry in %u s", what, retry);
	snprintf(seconds, sizeof seconds, "%u", retry);
	json_t *body = e2b ? json_pack("{s:i, s:s}", "code", 429, "message", message)
			   : json_pack("{s:{s:s, s:s}}", "error", "code", "rate_limited", "message",
				       message);
	size_t len;
	char *text = http_json_text(body, &len);
	if (text == NULL)
		return MHD_NO;
	return http_send_json_text_with(c, 429, text, len, "Retry-After", seconds);
}

/* Is this agent the calling tenant's? Unknown ids are not. */
static bool caller_owns(struct api *api, const struct api_request *req, const char *id)
{
	struct agent a;
	if (orch_get(api->orch, id, &a, NULL) < 0)
		return false;
	bool mine = strcmp(a.tenant, req->caller.tenant) == 0;
	agent_clear(&a);
	return mine;
}

/* Routes and the methods they accept. req->route gets the pattern. */
static enum MHD_Result route(struct api *api, struct MHD_Connection *c, const char *method,
			     const char *url, struct api_request *req)
{
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0,
	     del = strcmp(method, "DELETE") == 0;
	char id[AGENT_ID_MAX];
	if (req->envd != NULL)
		return api_envd_route(api, c, method, url, req);
	/* The door inside agent sandboxes leads to telemetry and nothing
	 * else; each report is limited per agent, since every sandbox comes
	 * through the one socket. */
	if (req->door) {
		if (!api_path_id(url, "/api/agents/", "/telemetry", id, sizeof id)) {
			req->route = "door";
			return http_send_error(c, 404, "not_found",
					       "this socket serves only POST /api/agents/{id}/telemetry");
		}
		req->route = "/api/agents/{id}/telemetry";
		if (!post)
			return wrong_method(c, method, req->route, "POST");
		char name[96];
		snprintf(name, sizeof name, "agent:%s", id);
		uint32_t retry;
		if (!api_limiter_take(api->limiter, name, api->cfg->limits.ip_per_sec,
				      api->cfg->limits.ip_burst, api_now_ms(), &retry))
			return too_many(c, false, retry, "reports from this agent");
		return api_agents_report(api, c, req, id);
	}
	if (strcmp(url, "/healthz") == 0) {
		req->route = "/healthz";
		if (!get)
			return wrong_method(c, method, req->route, "GET");
		return http_send_json(c, 200, json_pack("{s:s}", "status", "ok"));
	}
	if (strcmp(url, "/metrics") == 0) {
		req->route = "/metrics";
		if (!get)
			return wrong_method(c, method, req->route, "GET");
		return api_metrics_serve(api, c);
	}
	if (strcmp(url, "/dashboard") == 0 || strncmp(url, "/dashboard/", 11) == 0)
		return api_dashboard_route(c, method, url, req);
	bool e2b = api_e2b_path(url);
	if (!e2b && strncmp(url, "/api/", 5) != 0) {
		req->route = "other";
		return http_send_error(c, 404, "not_found", "no route %s %.200s", method, url);
	}
	req->route = e2b ? "/sandboxes/*" : "/api/*";
	/* Per client address before any key is looked at, so guessing keys
	 * is limited too; then per key. */
	char name[96];
	client_name(c, name, sizeof name);
	snprintf(req->address, sizeof req->address, "%s", name + 3);
	/* Every call that may change something is logged when it ends,
	 * refused ones too (who tried what matters as much). */
	req->audited = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
		       strcmp(method, "OPTIONS") != 0;
	req->caller = (struct api_caller){.anonymous = true}; /* until a key says who */
	const struct evo_config *cfg = api->cfg;
	uint32_t retry;
	if (!api_limiter_take(api->limiter, name, cfg->limits.ip_per_sec, cfg->limits.ip_burst,
			      api_now_ms(), &retry))
		return too_many(c, e2b, retry, "requests from this address");
	/* An agent's telemetry carries its own token instead of a key. Not
	 * audited: heartbeats would drown the log. */
	if (api_path_id(url, "/api/agents/", "/telemetry", id, sizeof id)) {
		req->route = "/api/agents/{id}/telemetry";
		req->audited = false;
		if (!post)
			return wrong_method(c, method, req->route, "POST");
		return api_agents_report(api, c, req, id);
	}
	if (api->cfg->auth_mode != CONFIG_AUTH_KEY) {
		req->caller = (struct api_caller){.admin = true};
	} else {
		const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
		char message[PATH_MAX + 80];
		struct evo_error err = {0};
		message[0] = '\0';
		bool open = cfg->saas.open_registration && strcmp(url, "/api/saas/register") == 0;
		if ((key == NULL || *key == '\0') && !open)
			snprintf(message, sizeof message,
				 "missing X-API-Key header (the admin key is in %s/admin.key)",
				 api->cfg->data_dir);
		else if (key == NULL || *key == '\0')
			; /* open registration: anonymous */
		else if (text_same_secret(key, api->admin_key))
			req->caller = (struct api_caller){.admin = true};
		else if (auth_identify_tenant(api->store, api->key_secret, key, &req->caller, &err) < 0)
			snprintf(message, sizeof message, "%s", err.msg);
		if (message[0])
			return e2b ? api_e2b_unauthorized(c, message)
				   : http_send_error(c, 401, "unauthorized", "%s", message);
		snprintf(name, sizeof name, "key:%s",
			 req->caller.admin ? "admin" : req->caller.key_id[0] ? req->caller.key_id : "none");
		if (!req->caller.anonymous &&
		    !api_limiter_take(api->limiter, name, cfg->limits.key_per_sec, cfg->limits.key_burst,
				      api_now_ms(), &retry))
			return too_many(c, e2b, retry, "requests with this API key");
	}
	/* A tenant reaches only its own agents and sandboxes: another's are
	 * not found (404, not 403, so ids do not leak). Lists and spawns are
	 * scoped by the routes themselves. */
	char owned[AGENT_ID_MAX];
	const char *pattern;
	if (api_url_agent_id(url, owned, &pattern)) {
		snprintf(req->target, sizeof req->target, "%s", owned);
		if (!req->caller.admin && !caller_owns(api, req, owned)) {
			req->route = pattern;
			return e2b ? api_e2b_error(c, 404, "sandbox \"%.64s\" not found", owned)
				   : http_send_error(c, 404, "not_found", "no agent %.64s", owned);
		}
	}
	if (api_saas_path(url))
		return api_saas_route(api, c, method, url, req);
	if (e2b)
		return api_e2b_route(api, c, method, url, req);
	if (strcmp(url, "/api/audit") == 0) {
		req->route = "/api/audit";
		if (!get)
			return wrong_method(c, method, req->route, "GET");
		return api_audit_list(api, c, req);
	}
	if (strcmp(url, "/api/templates") == 0) {
		req->route = "/api/templates";
		if (!get)
			return wrong_method(c, method, req->route, "GET");
		return get_templates(c);
	}
	if (strcmp(url, "/api/cloud/spawn") == 0) {
		req->route = "/api/cloud/spawn";
		if (!post)
			return wrong_method(c, method, req->route, "POST");
		return api_spawn(api, c, req, false);
	}
	if (strcmp(url, "/api/cloud") == 0) {
		req->route = "/api/cloud";
		if (!get)
			return wrong_method(c, method, req->route, "GET");
		return api_cloud_list(api, c, req);
	}
	if (strcmp(url, "/api/cloud/costs") == 0) {
		req->route = "/api/cloud/costs";
		if (!get)
			return wrong_method(c, method, req->route, "GET");
		return api_cloud_costs(api, c, req);
	}
	if (strcmp(url, "/api/cloud/costs/history") == 0) {
		req->route = "/api/cloud/costs/history";
		if (!get)
			return wrong_method(c, method, req->route, "GET");
		return api_cloud_costs_history(api, c, req);
	}
	if (strcmp(url, "/api/summary") == 0) {
		req->route = "/api/summary";
		if (!get)
			return wrong_method(c, method, req->route, "GET");
		return api_summary(api, c, req);
	}
	if (api_path_id(url, "/api/cloud/", "", id, sizeof id)) {
		req->route = "/api/cloud/{id}";
		if (!del)
			return wrong_method(c, method, req->route, "DELETE");
		return api_cloud_kill(api, c, id);
	}
	if (strncmp(url, "/api/tournaments", 16) == 0 && (url[16] == '\0' || url[16] == '/'))
		return api_collection_route(api, c, method, url, req, &api_tournaments);
	if (strncmp(url, "/api/schedules", 14) == 0 && (url[14] == '\0' || url[14] == '/'))
		return api_collection_route(api, c, method, url, req, &api_schedules);
	if (strcmp(url, "/api/agents") == 0) {
		req->route = "/api/agents";
		if (!get)
			return wrong_method(c, method, req->route, "GET");
		return api_agents_list(api, c, req);
	}
	if (strcmp(url, "/api/agents/deploy") == 0) {
		req->route = "/api/agents/deploy";
		if (!post)
			return wrong_method(c, method, req->route, "POST");
		return api_spawn(api, c, req, true);
	}
	if (api_path_id(url, "/api/agents/", "/logs", id, sizeof id)) {
		req->route = "/api/agents/{id}/logs";
		if (!get)
			return wrong_method(c, method, req->route, "GET");
		return api_agents_logs(api, c, req, id);
	}
	if (api_path_id(url, "/api/agents/", "", id, sizeof id)) {
		req->route = "/api/agents/{id}";
		if (get)
			return api_agents_get(api, c, id);
		if (del)
			return api_agents_delete(api, c, id);
		return wrong_method(c, method, req->route, "GET or DELETE");
	}
	return http_send_error(c, 404, "not_found", "no route %s %.200s", method, url);
}

static enum MHD_Result handle_request(struct api *api, bool door, struct MHD_Connection *c,
				      const char *url, const char *method,
				      const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct api_request *req = *con_cls;
	if (req == NULL) {
		/* First call: headers only. The answer must come on the next
		 * call, or libmicrohttpd drops keep-alive connections; a body
		 * declared too large is refused now, before any of it is read. */
		*con_cls = req = xcalloc(1, sizeof *req);
		req->route = "other";
		req->door = door;
		snprintf(req->method, sizeof req->method, "%s", method);
		/* A request naming a sandbox is for its envd (E2B routes them
		 * so); it may take its body as it arrives, unbounded. */
		if (!door && MHD_lookup_connection_value(c, MHD_HEADER_KIND, "E2b-Sandbox-Id") != NULL)
			api_envd_begin(api, c, method, url, req);
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (req->consume == NULL && cl != NULL && strtoull(cl, NULL, 10) > API_MAX_BODY) {
			enum MHD_Result r = http_send_error(c, 413, "payload_too_large",
							    "request body is larger than %u bytes",
							    API_MAX_BODY);
			req->status = http_take_status();
			return r;
		}
		return MHD_YES;
	}
	if (req->status != 0)
		return MHD_YES; /* answered already (413); the rest is dropped */
	if (*upload_size > 0 && req->consume != NULL) {
		req->consume(api, req, upload_data, *upload_size);
		*upload_size = 0;
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
	enum MHD_Result r;
	if (req->resume != NULL)
		r = req->resume(api, c, req); /* parked, and woken */
	else if (req->too_large)
		r = http_send_error(c, 413, "payload_too_large", "request body is larger than %u bytes",
				    API_MAX_BODY);
	else
		r = route(api, c, method, url, req);
	req->status = http_take_status();
	return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	(void)version;
	return handle_request(cls, false, c, url, method, upload_data, upload_size, con_cls);
}

/* Requests through the door in agent sandboxes (doors.h). */
static enum MHD_Result handle_door(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_size, void **con_cls)
{
	(void)version;
	return handle_request(cls, true, c, url, method, upload_data, upload_size, con_cls);
}

/* One audit log entry for a finished mutating call. Never the body: no
 * secret can reach the log. */
static void audit(struct api *api, const struct api_request *req, unsigned status)
{
	struct audit_entry e = {.at_ms = api_now_ms(), .status = (int)status};
	const struct api_caller *who = &req->caller;
	snprintf(e.actor, sizeof e.actor, "%s",
		 who->admin ? "admin" : who->tenant[0] ? who->tenant : "anonymous");
	snprintf(e.key_id, sizeof e.key_id, "%s", who->key_id);
	snprintf(e.address, sizeof e.address, "%s", req->address);
	snprintf(e.method, sizeof e.method, "%s", req->method);
	snprintf(e.route, sizeof e.route, "%s", req->route);
	snprintf(e.target, sizeof e.target, "%s", req->target);
	struct evo_error err = {0};
	if (store_audit_append(api->store, &e, &err) < 0)
		fprintf(stderr, "evoclaw: audit log: %s\n", err.msg);
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	(void)c;
	(void)code;
	struct api *api = cls;
	struct api_request *req = *con_cls;
	if (req != NULL) {
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
		unsigned status = req->status ? req->status : info ? info->http_status : 0;
		api_metrics_count(api->metrics, req->route, req->method, status);
		if (req->parked)
			api_wait_done(api, req->parked);
		if (req->envd)
			api_envd_done(api, req);
		if (req->audited)
			audit(api, req, status);
		evo_buf_free(&req->body);
		free(req);
		*con_cls = NULL;
	}
}

/* The doors of our agents' sandboxes (runtime/local/doors.h): telemetry
 * served on its own socket by a small daemon of its own, and the relay to
 * the broker when one is configured. */
struct doors {
	struct MHD_Daemon *telemetry;
	struct door_relay *mqtt;
};

static int doors_open(struct api *api, struct doors *out, struct evo_error *err)
{
	const char *owner = orch_owner(api->orch);
	int fd = doors_listen(owner, DOORS_ORCHESTRATOR, err);
	if (fd < 0)
		return -1;
	out->telemetry = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		handle_door, api, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 1024u,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)api->cfg->limits.idle_timeout_sec,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, request_done, api, MHD_OPTION_END);
	if (out->telemetry == NULL) {
		close(fd);
		doors_remove(owner, DOORS_ORCHESTRATOR);
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "cannot serve the agents' telemetry socket");
	}
	const struct evo_config *cfg = api->cfg;
	if (cfg->mqtt.broker[0] == '\0')
		return 0;
	fd = doors_listen(owner, DOORS_MQTT, err);
	if (fd < 0 ||
	    (out->mqtt = door_relay_start(fd, cfg->mqtt.broker, (uint16_t)cfg->mqtt.port, err)) == NULL) {
		if (fd >= 0)
			close(fd);
		MHD_stop_daemon(out->telemetry);
		doors_remove(owner, DOORS_ORCHESTRATOR);
		return -1;
	}
	return 0;
}

static void doors_close(struct api *api, struct doors *d)
{
	const char *owner = orch_owner(api->orch);
	if (d->mqtt) {
		door_relay_stop(d->mqtt);
		doors_remove(owner, DOORS_MQTT);
	}
	if (d->telemetry) {
		MHD_stop_daemon(d->telemetry);
		doors_remove(owner, DOORS_ORCHESTRATOR);
	}
}

/* What api_serve made before it listens, the orchestrator first (its
 * threads use the rest). */
static void api_free_parts(struct api *api)
{
	orch_close(api->orch);
	api_followers_free(api->followers);
	envd_hub_free(api->envd);
	api_limiter_free(api->limiter);
	page_cache_free(api->pages);
	api_metrics_free(api->metrics);
	store_close(api->store);
}

/* Where sandboxes can run: the configured default first, then the local
 * provider (always there: the E2B-compatible API runs its sandboxes
 * here), and e2b whenever a key is configured. A key E2B refuses stops
 * the server: better now than at every spawn. */
static int open_providers(const struct evo_config *cfg,
			  const struct provider *providers[ORCH_PROVIDERS_MAX], size_t *n,
			  struct evo_error *err)
{
	const struct provider *e2b = NULL;
	bool want_e2b = strcmp(cfg->cloud.provider, "e2b") == 0;
	if (want_e2b || cfg->cloud.e2b_api_key[0]) {
		struct provider_e2b_config ec = {
			.api = {.api_url = cfg->cloud.e2b_api_url,
				.api_key = cfg->cloud.e2b_api_key,
				.sandbox_url = cfg->cloud.e2b_sandbox_url,
				.domain = cfg->cloud.e2b_domain},
			.agent_command = cfg->cloud.e2b_agent_command,
			.reconcile_sec = cfg->cloud.e2b_reconcile_sec,
			.orchestrator_url = cfg->cloud.public_url,
			.mqtt_broker = cfg->mqtt.public_broker[0] ? cfg->mqtt.public_broker
								 : cfg->mqtt.broker,
			.mqtt_port = cfg->mqtt.public_port ? cfg->mqtt.public_port : cfg->mqtt.port,
		};
		bool reachable = false;
		if (provider_e2b_open(&ec, &reachable, &e2b, err) < 0)
			return evo_error_prefix(err, "the e2b provider (%s)", cfg->cloud.e2b_api_url);
		if (!reachable)
			fprintf(stderr,
				"evoclaw: the E2B API at %s cannot be reached now; e2b spawns retry "
				"until it can\n",
				cfg->cloud.e2b_api_url);
		/* Not an error (a spawn may run a command that reports nothing),
		 * but an edge agent there would have nowhere to report. */
		if (cfg->cloud.public_url[0] == '\0' && ec.mqtt_broker[0] == '\0')
			fprintf(stderr, "evoclaw: agents on e2b cannot report to this server: set "
					"cloud.publicUrl (how they reach its API) or mqtt.broker\n");
	}
	*n = 0;
	if (want_e2b)
		providers[(*n)++] = e2b;
	providers[(*n)++] = provider_local();
	if (e2b && !want_e2b)
		providers[(*n)++] = e2b;
	return 0;
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

	struct api api = {.cfg = cfg};
	if (store_open(cfg->data_dir, &api.store, err) < 0) {
		freeaddrinfo(ai);
		return -1;
	}
	const struct provider *providers[ORCH_PROVIDERS_MAX];
	size_t provider_count = 0;
	if (load_admin_key(cfg->data_dir, api.admin_key, sizeof api.admin_key, err) < 0 ||
	    auth_load_secret(cfg->data_dir, api.key_secret, err) < 0 ||
	    sandbox_check_run_dir(err) < 0 ||
	    open_providers(cfg, providers, &provider_count, err) < 0 ||
	    orch_open(cfg, api.store, providers, provider_count, &api.orch, err) < 0) {
		freeaddrinfo(ai);
		store_close(api.store);
		return -1;
	}
	api.metrics = api_metrics_new();
	api.followers = api_followers_new();
	api.pages = page_cache_new();
	api.envd = envd_hub_new(provider_local());
	api.limiter = api_limiter_new();
	struct doors doors = {0};
	if (doors_open(&api, &doors, err) < 0) {
		freeaddrinfo(ai);
		api_free_parts(&api);
		return -1;
	}
	orch_set_log_hook(api.orch, api_followers_wake, api.followers);
	api.tournaments = tournament_runner_start(api.orch, api.store);
	if (api.tournaments == NULL)
		fprintf(stderr, "evoclaw: cannot start the tournament runner; tournaments wait\n");
	api.scheduler = scheduler_start(api.orch, api.store, cfg);
	if (api.scheduler == NULL)
		fprintf(stderr, "evoclaw: cannot start the scheduler; schedules wait\n");
	if (mqtt_ingest_start(cfg, api.orch, &api.mqtt, err) < 0) {
		fprintf(stderr, "evoclaw: %s; agents' MQTT reports are not read\n", err->msg);
		api.mqtt = NULL;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* One polling thread per core; bounded connections and idle time,
	 * so a flood of slow clients cannot exhaust the server. */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, port, NULL, NULL, handle, &api, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cores > 0 ? cores : 1),
		MHD_OPTION_CONNECTION_LIMIT, 1024u,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->limits.idle_timeout_sec,
		/* One address cannot take every connection; request line and
		 * headers must fit 32 KiB (431 past it). */
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->limits.connections_per_ip,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, request_done, &api, MHD_OPTION_END);
	freeaddrinfo(ai);
	int result = 0;
	if (d == NULL) {
		result = evo_error_set(err, EVO_ERR_SYSTEM, 0,
				       "cannot listen on %s (in use, or not an address of this host?)",
				       cfg->listen);
	} else {
		fprintf(stderr, "evoclaw: serving on http://%s (data in %s)\n", cfg->listen,
			cfg->data_dir);
		sigset_t stop;
		sigemptyset(&stop);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGTERM);
		int sig;
		sigwait(&stop, &sig);
		fprintf(stderr, "evoclaw: stopping (%s); sandboxes keep running\n", strsignal(sig));
		/* Log streams end first, so no connection stays suspended. */
		api_followers_stop(api.followers);
		envd_hub_stop(api.envd);
		MHD_stop_daemon(d);
	}
	mqtt_ingest_stop(api.mqtt);
	tournament_runner_stop(api.tournaments);
	scheduler_stop(api.scheduler);
	doors_close(&api, &doors);
	orch_set_log_hook(api.orch, NULL, NULL);
	api_free_parts(&api);
	return result;
}
