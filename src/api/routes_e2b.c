/* E2B's control-plane API (../shared/specs/e2b-compat.md §3) on evoclaw:
 * /sandboxes and /v2/sandboxes, so the unmodified e2b SDK creates, lists,
 * extends and kills sandboxes here. An E2B sandbox is an agent of mode
 * "e2b" with no command (it idles, like E2B's), so it counts against
 * maxAgents and the budget, is billed and shows in costs and metrics
 * like any agent. Errors use E2B's shape, {"code": <status>, "message"}.
 * Pause freezes the sandbox's cgroup: no CPU, not billed, its deadline
 * stands still; connect (or resume) thaws it. envd is routes_envd.c. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/http.h"
#include "api/json_input.h"
#include "api/requests.h"
#include "common/cleanup.h"
#include "common/text.h"
#include "core/budget.h"
#include "runtime/template.h"

/* What we tell the SDK envd is: it gates features client-side (spec §5). */
#define E2B_ENVD_VERSION "0.6.4"
#define E2B_LIST_LIMIT_MAX 100

enum MHD_Result api_e2b_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	size_t len;
	char *text = http_json_text(json_pack("{s:i, s:s}", "code", (int)status, "message", message),
				    &len);
	if (text == NULL)
		return MHD_NO;
	/* The SDK retries a 429 only when told when (spec §3.2). */
	return http_send_json_text_with(c, status, text, len, status == 429 ? "Retry-After" : NULL,
					"1");
}

/* evoclaw's error kinds in E2B's shape. */
static enum MHD_Result e2b_evo_error(struct MHD_Connection *c, const struct evo_error *err)
{
	unsigned status = err->kind == EVO_ERR_INVALID	   ? 400
			  : err->kind == EVO_ERR_NOT_FOUND ? 404
			  : err->kind == EVO_ERR_CONFLICT  ? 409
			  : err->kind == EVO_ERR_LIMIT	   ? 429
			  : err->kind == EVO_ERR_BUDGET	   ? 402
							   : 500;
	return api_e2b_error(c, status, "%s", err->msg);
}

static enum MHD_Result no_content(struct MHD_Connection *c)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	return http_queue(c, 204, r);
}

static json_t *time_json(int64_t ms)
{
	char text[32];
	agent_format_time(ms, text);
	return text[0] ? json_string(text) : json_null();
}

/* The Sandbox schema (create, connect). */
static json_t *sandbox_json(const struct agent *a)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n}", "sandboxID", a->id, "templateID",
			 a->template_name, "clientID", "evoclaw", "alias", a->template_name,
			 "envdVersion", E2B_ENVD_VERSION, "envdAccessToken", a->envd_token, "domain",
			 "trafficAccessToken");
}

/* The SandboxDetail / ListedSandbox schema. */
static json_t *sandbox_detail_json(const struct agent *a)
{
	json_t *o = sandbox_json(a);
	struct template t;
	struct template_resources res = {0};
	if (template_load(a->template_name, &t, NULL) == 0) {
		res = t.resources;
		template_free(&t);
	}
	json_t *metadata = a->metadata_json ? json_loads(a->metadata_json, 0, NULL) : NULL;
	json_object_set_new(o, "metadata", metadata ? metadata : json_object());
	json_object_set_new(o, "startedAt", time_json(a->started_at_ms ? a->started_at_ms
								     : a->created_at_ms));
	json_object_set_new(o, "endAt", time_json(a->deadline_ms));
	json_object_set_new(o, "state", json_string(a->paused_at_ms ? "paused" : "running"));
	json_object_set_new(o, "cpuCount", json_integer((res.cpu_millis + 999) / 1000));
	json_object_set_new(o, "memoryMB", json_integer(res.memory_mb));
	json_object_set_new(o, "diskSizeMB", json_integer(res.disk_mb));
	json_object_set_new(o, "allowInternetAccess", json_false());
	json_object_set_new(o, "lifecycle", json_pack("{s:s, s:b}", "onTimeout", "kill",
						      "autoResume", 0));
	json_object_set_new(o, "volumeMounts", json_array());
	return o;
}

/* The live E2B sandbox with this id, or an answered 404. */
static bool find_sandbox(struct api *api, struct MHD_Connection *c, const char *id,
			 struct agent *out, enum MHD_Result *ret)
{
	struct evo_error err = {0};
	if (orch_get(api->orch, id, out, &err) < 0) {
		*ret = api_e2b_error(c, 404, "sandbox \"%.64s\" not found", id);
		return false;
	}
	if (strcmp(out->mode, "e2b") != 0 || agent_is_finished(out)) {
		agent_clear(out);
		*ret = api_e2b_error(c, 404, "sandbox \"%.64s\" not found", id);
		return false;
	}
	return true;
}

static enum MHD_Result create(struct api *api, struct MHD_Connection *c, struct api_request *req)
{
	enum MHD_Result ret;
	json_t *body = api_body_object(c, req, &ret);
	if (body == NULL)
		return ret;
	struct e2b_create_request cr;
	struct evo_error err = {0};
	int r = request_parse_e2b_create(body, api->cfg, &cr, &err);
	json_decref(body);
	if (r == 0 && api_check_template("templateID", cr.template_name, &err) < 0) {
		/* E2B answers an unknown template with 404. */
		ret = api_e2b_error(c, 404, "template \"%.64s\" not found", cr.template_name);
		request_e2b_create_free(&cr);
		return ret;
	}
	struct orch_spawn s = {
		.agent_type = "sandbox",
		.template_name = cr.template_name,
		/* E2B's API here serves sandboxes of this machine (and its
		 * envd routes reach them through their supervisors). */
		.provider = "local",
		.env_json = cr.env,
		.timeout_sec = cr.timeout_sec,
		.mode = "e2b",
		.metadata_json = cr.metadata,
		.envd_token = true,
	};
	struct agent a;
	if (r == 0)
		r = api_caller_spawn(api, req, &s, &err);
	if (r == 0)
		r = orch_spawn(api->orch, &s, &a, &err);
	request_e2b_create_free(&cr);
	if (r < 0)
		return e2b_evo_error(c, &err);
	/* E2B answers create once the sandbox can run a command: until then
	 * the request is parked, not one of the server's threads. */
	snprintf(req->waiting_for, sizeof req->waiting_for, "%s", a.id);
	req->resume = api_e2b_create_resume;
	agent_clear(&a);
	return api_e2b_create_resume(api, c, req);
}

enum MHD_Result api_e2b_create_resume(struct api *api, struct MHD_Connection *c,
				      struct api_request *req)
{
	if (req->parked) {
		api_wait_done(api, req->parked);
		req->parked = NULL;
	}
	struct agent a;
	struct evo_error err = {0};
	if (orch_get(api->orch, req->waiting_for, &a, &err) < 0)
		return api_e2b_error(c, 500, "sandbox did not start: %s", err.msg);
	if (a.status == AGENT_RUNNING) {
		json_t *out = sandbox_json(&a);
		agent_clear(&a);
		return http_send_json(c, 201, out);
	}
	if (agent_is_finished(&a)) {
		enum MHD_Result ret = api_e2b_error(c, 500, "sandbox did not start: %s",
						a.error_message[0] ? a.error_message
								   : agent_stop_reason_name(a.stop_reason));
		agent_clear(&a);
		return ret;
	}
	agent_clear(&a);
	/* Park, then look again: a start in between must not be missed. */
	req->parked = api_wait_park(api, c, req->waiting_for);
	if (req->parked == NULL)
		return api_e2b_error(c, 503, "the server is stopping");
	if (!orch_is_pending(api->orch, req->waiting_for))
		api_wait_wake(api, req->parked);
	return MHD_YES;
}

static bool metadata_matches(const struct agent *a, json_t *want)
{
	if (json_object_size(want) == 0)
		return true;
	json_t *have = a->metadata_json ? json_loads(a->metadata_json, 0, NULL) : NULL;
	bool ok = have != NULL;
	const char *k;
	json_t *v;
	json_object_foreach(want, k, v) {
		json_t *h = json_object_get(have, k);
		if (!ok || !json_is_string(h) || strcmp(json_string_value(h), json_string_value(v)) != 0)
			ok = false;
	}
	json_decref(have);
	return ok;
}

static enum MHD_Result list(struct api *api, struct MHD_Connection *c,
			    const struct api_request *req)
{
	const char *state = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");
	const char *meta = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "metadata");
	const char *tmpl = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "template");
	const char *limit_text = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
	const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "nextToken");
	long long limit = E2B_LIST_LIMIT_MAX, offset = 0;
	if (limit_text) {
		char *end;
		limit = strtoll(limit_text, &end, 10);
		if (*end || end == limit_text || limit < 1 || limit > E2B_LIST_LIMIT_MAX)
			return api_e2b_error(c, 400, "limit: must be an integer from 1 to %d",
					 E2B_LIST_LIMIT_MAX);
	}
	if (token && *token) {
		char *end;
		offset = strtoll(token, &end, 10);
		if (*end || end == token || offset < 0)
			return api_e2b_error(c, 400, "nextToken: not a token this server gave");
	}
	/* Without a state filter, both (spec §3.3). */
	bool any_state = state == NULL || *state == '\0';
	bool want_running = any_state || strstr(state, "running") != NULL;
	bool want_paused = any_state || strstr(state, "paused") != NULL;
	struct evo_error err = {0};
	json_t *want_meta = meta ? request_e2b_metadata_filter(meta, &err) : json_object();
	if (want_meta == NULL)
		return e2b_evo_error(c, &err);
	struct agent *rows = NULL;
	size_t n = 0;
	struct store_agent_filter f = {.mode = "e2b", .active_only = true,
				       .tenant = api_caller_tenant(req)};
	if ((want_running || want_paused) &&
	    orch_list(api->orch, &f, 0, 100000, &rows, &n, NULL, &err) < 0) {
		json_decref(want_meta);
		return e2b_evo_error(c, &err);
	}
	json_t *out = json_array();
	long long matched = 0;
	bool more = false;
	for (size_t i = 0; i < n; i++) {
		struct agent *a = &rows[i];
		bool state_ok = a->paused_at_ms ? want_paused : want_running;
		if (state_ok && (tmpl == NULL || strcmp(tmpl, a->template_name) == 0) &&
		    metadata_matches(a, want_meta)) {
			if (matched >= offset && matched < offset + limit)
				json_array_append_new(out, sandbox_detail_json(a));
			else if (matched >= offset + limit)
				more = true;
			matched++;
		}
		agent_clear(a);
	}
	free(rows);
	json_decref(want_meta);
	size_t len;
	char *text = http_json_text(out, &len);
	if (text == NULL)
		return MHD_NO;
	/* Another page exists: its cursor (spec §3.3). */
	char next[32];
	snprintf(next, sizeof next, "%lld", offset + limit);
	return http_send_json_text_with(c, 200, text, len, more ? "X-Next-Token" : NULL, next);
}

/* A body's {"<key>": seconds}, 1..maxLifetimeSec; def when absent. */
static int seconds_field(struct api *api, struct MHD_Connection *c, struct api_request *req,
			 const char *key, uint64_t def, uint64_t *out, enum MHD_Result *ret)
{
	json_t *body = api_body_object(c, req, ret);
	if (body == NULL)
		return -1;
	struct evo_error err = {0};
	*out = def;
	int r = json_input_uint(body, "", key, 0, api->cfg->cloud.max_lifetime_sec, out, &err);
	json_decref(body);
	if (r < 0)
		*ret = e2b_evo_error(c, &err);
	return r;
}

/* Apply a body's {"<key>": seconds} as the sandbox's time to live (only
 * when it lengthens it, with only_extend). false with *ret answered. */
static bool apply_timeout(struct api *api, struct MHD_Connection *c, struct api_request *req,
			  const char *id, bool only_extend, const char *key, enum MHD_Result *ret)
{
	struct agent a;
	if (!find_sandbox(api, c, id, &a, ret))
		return false;
	int64_t deadline = a.deadline_ms;
	agent_clear(&a);
	uint64_t seconds;
	if (seconds_field(api, c, req, key, E2B_DEFAULT_TIMEOUT_SEC, &seconds, ret) < 0)
		return false;
	struct evo_error err = {0};
	bool extends = api_now_ms() + (int64_t)seconds * 1000 > deadline;
	if ((!only_extend || extends) && orch_set_timeout(api->orch, id, (uint32_t)seconds, &err) < 0) {
		*ret = e2b_evo_error(c, &err);
		return false;
	}
	return true;
}

static enum MHD_Result set_timeout(struct api *api, struct MHD_Connection *c,
				   struct api_request *req, const char *id, bool only_extend,
				   const char *key)
{
	enum MHD_Result ret;
	return apply_timeout(api, c, req, id, only_extend, key, &ret) ? no_content(c) : ret;
}

/* The Sandbox schema of id, as it is now. */
static enum MHD_Result answer_sandbox(struct api *api, struct MHD_Connection *c, const char *id,
				      unsigned status)
{
	struct agent a;
	struct evo_error err = {0};
	if (orch_get(api->orch, id, &a, &err) < 0)
		return e2b_evo_error(c, &err);
	json_t *out = sandbox_json(&a);
	agent_clear(&a);
	return http_send_json(c, status, out);
}

/* Resume a paused sandbox with the body's {"timeout"} (or the time it
 * had left) and answer 201; a sandbox that is not paused is CONFLICT,
 * answered 409 unless `running_ok`. false with *ret answered. */
static bool resume_from_body(struct api *api, struct MHD_Connection *c, struct api_request *req,
			     const char *id, bool running_ok, enum MHD_Result *ret)
{
	uint64_t seconds;
	struct evo_error err = {0};
	if (seconds_field(api, c, req, "timeout", 0, &seconds, ret) < 0)
		return false;
	if (orch_resume(api->orch, id, (uint32_t)seconds, &err) < 0 &&
	    !(running_ok && err.kind == EVO_ERR_CONFLICT)) {
		*ret = e2b_evo_error(c, &err);
		return false;
	}
	return true;
}

/* Connect resumes a paused sandbox (201), with the body's timeout or the
 * time it had left; a running one's time to live is only ever extended
 * (200). */
static enum MHD_Result connect_sandbox(struct api *api, struct MHD_Connection *c,
				       struct api_request *req, const char *id)
{
	enum MHD_Result ret;
	struct agent a;
	if (!find_sandbox(api, c, id, &a, &ret))
		return ret;
	bool paused = a.paused_at_ms != 0;
	agent_clear(&a);
	/* Resumed by another request meanwhile is as good. */
	if (paused)
		return resume_from_body(api, c, req, id, true, &ret)
			       ? answer_sandbox(api, c, id, 201)
			       : ret;
	if (!apply_timeout(api, c, req, id, true, "timeout", &ret))
		return ret;
	return answer_sandbox(api, c, id, 200);
}

/* The older resume call: 201, or 409 when it is not paused. */
static enum MHD_Result resume_sandbox(struct api *api, struct MHD_Connection *c,
				      struct api_request *req, const char *id)
{
	enum MHD_Result ret;
	struct agent a;
	if (!find_sandbox(api, c, id, &a, &ret))
		return ret;
	agent_clear(&a);
	return resume_from_body(api, c, req, id, false, &ret) ? answer_sandbox(api, c, id, 201)
							       : ret;
}

/* Pause: 204, or 409 when paused already (the SDK's false). */
static enum MHD_Result pause_sandbox(struct api *api, struct MHD_Connection *c, const char *id)
{
	enum MHD_Result ret;
	struct agent a;
	if (!find_sandbox(api, c, id, &a, &ret))
		return ret;
	agent_clear(&a);
	struct evo_error err = {0};
	if (orch_pause(api->orch, id, &err) < 0)
		return e2b_evo_error(c, &err);
	return no_content(c);
}

static enum MHD_Result metrics(struct api *api, struct MHD_Connection *c, const char *id)
{
	enum MHD_Result ret;
	struct agent a;
	if (!find_sandbox(api, c, id, &a, &ret))
		return ret;
	struct provider_stats st;
	struct evo_error err = {0};
	int64_t now = api_now_ms(), started = a.started_at_ms;
	struct template t;
	uint64_t disk_mb = 0;
	if (template_load(a.template_name, &t, NULL) == 0) {
		disk_mb = t.resources.disk_mb;
		template_free(&t);
	}
	agent_clear(&a);
	if (orch_stats(api->orch, id, &st, &err) < 0)
		return e2b_evo_error(c, &err);
	uint32_t cpus = (st.cpu_millis + 999) / 1000;
	double elapsed_us = (double)(now - started) * 1000.0;
	double pct = elapsed_us > 0 && cpus > 0 ? 100.0 * (double)st.cpu_usec / (elapsed_us * cpus)
					       : 0.0;
	json_t *sample = json_pack("{s:o, s:I, s:i, s:f, s:I, s:I, s:i, s:i, s:I}", "timestamp",
				   time_json(now), "timestampUnix", (json_int_t)(now / 1000),
				   "cpuCount", (int)cpus, "cpuUsedPct", pct, "memUsed",
				   (json_int_t)st.memory_bytes, "memTotal",
				   (json_int_t)st.memory_limit_bytes, "memCache", 0, "diskUsed", 0,
				   "diskTotal", (json_int_t)(disk_mb * 1024 * 1024));
	return http_send_json(c, 200, json_pack("[o]", sample));
}

static enum MHD_Result logs(struct api *api, struct MHD_Connection *c, const char *id)
{
	enum MHD_Result ret;
	struct agent a;
	if (!find_sandbox(api, c, id, &a, &ret))
		return ret;
	int64_t started = a.started_at_ms;
	agent_clear(&a);
	char **lines = orch_log_tail(api->orch, id, 1000);
	json_t *plain = json_array(), *entries = json_array();
	for (char **l = lines; l && *l; l++) {
		json_array_append_new(plain, json_pack("{s:o, s:s}", "timestamp", time_json(started),
						       "line", *l));
		json_array_append_new(entries,
				      json_pack("{s:o, s:s, s:s, s:{}}", "timestamp", time_json(started),
						"level", "info", "message", *l, "fields"));
	}
	orch_lines_free(lines);
	return http_send_json(c, 200, json_pack("{s:o, s:o}", "logs", plain, "logEntries", entries));
}

static enum MHD_Result kill_sandbox(struct api *api, struct MHD_Connection *c, const char *id)
{
	enum MHD_Result ret;
	struct agent a;
	if (!find_sandbox(api, c, id, &a, &ret))
		return ret;
	agent_clear(&a);
	struct evo_error err = {0};
	if (orch_terminate(api->orch, id, &a, &err) < 0)
		return err.kind == EVO_ERR_CONFLICT ? api_e2b_error(c, 404, "sandbox \"%s\" not found", id)
						    : e2b_evo_error(c, &err);
	agent_clear(&a);
	return no_content(c);
}

enum MHD_Result api_e2b_unauthorized(struct MHD_Connection *c, const char *message)
{
	return api_e2b_error(c, 401, "%s", message);
}

enum MHD_Result api_e2b_route(struct api *api, struct MHD_Connection *c, const char *method,
			      const char *url, struct api_request *req)
{
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0,
	     del = strcmp(method, "DELETE") == 0;
	char id[AGENT_ID_MAX];
	if (strcmp(url, "/sandboxes") == 0 || strcmp(url, "/v2/sandboxes") == 0) {
		req->route = url[1] == 'v' ? "/v2/sandboxes" : "/sandboxes";
		if (post)
			return create(api, c, req);
		if (get)
			return list(api, c, req);
		return api_e2b_error(c, 405, "%.16s %s: use GET or POST", method, req->route);
	}
	if (api_path_id(url, "/v2/sandboxes/", "/connect", id, sizeof id)) {
		req->route = "/v2/sandboxes/{id}/connect";
		return post ? connect_sandbox(api, c, req, id)
			    : api_e2b_error(c, 405, "%.16s %s: use POST", method, req->route);
	}
	if (api_path_id(url, "/sandboxes/", "/timeout", id, sizeof id)) {
		req->route = "/sandboxes/{id}/timeout";
		return post ? set_timeout(api, c, req, id, false, "timeout")
			    : api_e2b_error(c, 405, "%.16s %s: use POST", method, req->route);
	}
	if (api_path_id(url, "/sandboxes/", "/refreshes", id, sizeof id)) {
		req->route = "/sandboxes/{id}/refreshes";
		return post ? set_timeout(api, c, req, id, true, "duration")
			    : api_e2b_error(c, 405, "%.16s %s: use POST", method, req->route);
	}
	if (api_path_id(url, "/sandboxes/", "/metrics", id, sizeof id)) {
		req->route = "/sandboxes/{id}/metrics";
		return get ? metrics(api, c, id)
			   : api_e2b_error(c, 405, "%.16s %s: use GET", method, req->route);
	}
	if (api_path_id(url, "/sandboxes/", "/logs", id, sizeof id)) {
		req->route = "/sandboxes/{id}/logs";
		return get ? logs(api, c, id) : api_e2b_error(c, 405, "%.16s %s: use GET", method, req->route);
	}
	if (api_path_id(url, "/sandboxes/", "/pause", id, sizeof id)) {
		req->route = "/sandboxes/{id}/pause";
		return post ? pause_sandbox(api, c, id)
			    : api_e2b_error(c, 405, "%.16s %s: use POST", method, req->route);
	}
	if (api_path_id(url, "/sandboxes/", "/resume", id, sizeof id)) {
		req->route = "/sandboxes/{id}/resume";
		return post ? resume_sandbox(api, c, req, id)
			    : api_e2b_error(c, 405, "%.16s %s: use POST", method, req->route);
	}
	if (api_path_id(url, "/sandboxes/", "", id, sizeof id)) {
		req->route = "/sandboxes/{id}";
		if (get) {
			enum MHD_Result ret;
			struct agent a;
			if (!find_sandbox(api, c, id, &a, &ret))
				return ret;
			json_t *out = sandbox_detail_json(&a);
			agent_clear(&a);
			return http_send_json(c, 200, out);
		}
		if (del)
			return kill_sandbox(api, c, id);
		return api_e2b_error(c, 405, "%.16s %s: use GET or DELETE", method, req->route);
	}
	req->route = "/sandboxes/*";
	return api_e2b_error(c, 404, "no route %.16s %.200s", method, url);
}
