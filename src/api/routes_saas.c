/* SaaS mode (DESIGN §6-7, issue 5): tenants and their API keys.
 *   POST   /api/saas/register  {email, max_agents, credit_limit_usd}   admin
 *          -> 201 {tenant_id, ..., api_key} (the key is shown this once)
 *   GET    /api/saas/usage     a tenant's limits, running agents, spend
 *   GET    /api/saas/keys      a tenant's keys (prefixes, never keys)
 *   POST   /api/saas/keys      {replaces?} -> 201 a new key (rotation when
 *                              replaces names a key, revoked at once)
 *   DELETE /api/saas/keys/{id} revoke now -> 204
 * A tenant acts on itself; the admin names the tenant with ?tenant=. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/http.h"
#include "api/json_input.h"
#include "api/requests.h"
#include "core/budget.h"
#include "store/store.h"

static json_t *usd_json(usd_micros v)
{
	return json_real((double)v / 1e6);
}

static json_t *time_json(int64_t ms)
{
	char text[32];
	agent_format_time(ms, text);
	return text[0] ? json_string(text) : json_null();
}

/* The tenant a request is about: the caller's own, or for the admin
 * ?tenant=. false with *ret answered. */
static bool target_tenant(struct api *api, struct MHD_Connection *c, struct api_request *req,
			  struct tenant *out, enum MHD_Result *ret)
{
	const char *id = req->caller.tenant;
	if (req->caller.admin) {
		id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "tenant");
		if (id == NULL || *id == '\0') {
			*ret = http_send_error(c, 400, "invalid_request",
					       "tenant: required for the admin (?tenant=ten_...)");
			return false;
		}
	}
	struct evo_error err = {0};
	if (store_tenant_get(api->store, id, out, &err) < 0) {
		*ret = http_send_error(c, 404, "not_found", "no tenant %.40s", id);
		return false;
	}
	return true;
}

int api_tenant_spend(struct api *api, const char *tenant, usd_micros *spent, uint32_t *running,
		     struct evo_error *err)
{
	/* Finished and destroyed agents from the store; live ones as the
	 * orchestrator sees them now (they accrue). */
	usd_micros total;
	if (store_spend_finished(api->store, tenant, &total, err) < 0)
		return -1;
	struct store_agent_filter live = {.tenant = tenant, .active_only = true};
	struct agent *rows = NULL;
	size_t n = 0;
	if (orch_list(api->orch, &live, 0, 1000000, &rows, &n, NULL, err) < 0)
		return -1;
	*running = 0;
	for (size_t i = 0; i < n; i++) {
		if (!agent_is_finished(&rows[i])) {
			total += rows[i].cost;
			(*running)++;
		}
		agent_clear(&rows[i]);
	}
	free(rows);
	*spent = total;
	return 0;
}

const char *api_caller_tenant(const struct api_request *req)
{
	return req->caller.admin ? NULL : req->caller.tenant;
}

int api_caller_spawn(struct api *api, const struct api_request *req, struct orch_spawn *s,
		     struct evo_error *err)
{
	if (req->caller.admin)
		return 0;
	struct tenant t;
	if (store_tenant_get(api->store, req->caller.tenant, &t, err) < 0)
		return -1;
	s->tenant = req->caller.tenant;
	s->tenant_max_agents = t.max_agents;
	s->tenant_credit_limit = t.credit_limit;
	return 0;
}

static enum MHD_Result register_tenant(struct api *api, struct MHD_Connection *c,
				       struct api_request *req)
{
	if (!req->caller.admin && !api->cfg->saas.open_registration)
		return http_send_error(c, 403, "forbidden",
				       "registration is for the admin key (saas.openRegistration is off)");
	enum MHD_Result ret;
	json_t *body = api_body_object(c, req, &ret);
	if (body == NULL)
		return ret;
	struct register_request rr;
	struct evo_error err = {0};
	int r = request_parse_register(body, api->cfg, &rr, &err);
	json_decref(body);
	if (r < 0)
		return http_send_evo_error(c, &err);
	struct tenant t = {.max_agents = rr.max_agents, .credit_limit = rr.credit_limit,
			   .created_at_ms = api_now_ms()};
	auth_new_id("ten_", t.id);
	snprintf(t.email, sizeof t.email, "%s", rr.email);
	char key[API_KEY_TEXT_MAX];
	struct api_key_record rec;
	auth_new_key(api->key_secret, t.id, t.created_at_ms, key, &rec);
	if (store_tenant_insert(api->store, &t, &rec, &err) < 0)
		return http_send_evo_error(c, &err);
	return http_send_json(c, 201,
			      json_pack("{s:s, s:s, s:i, s:o, s:s, s:s, s:o}", "tenant_id", t.id,
					"email", t.email, "max_agents", (int)t.max_agents,
					"credit_limit_usd", usd_json(t.credit_limit), "api_key", key,
					"key_id", rec.id, "created_at", time_json(t.created_at_ms)));
}

static enum MHD_Result usage(struct api *api, struct MHD_Connection *c, struct api_request *req)
{
	enum MHD_Result ret;
	struct tenant t;
	if (!target_tenant(api, c, req, &t, &ret))
		return ret;
	usd_micros spent;
	uint32_t running;
	struct evo_error err = {0};
	if (api_tenant_spend(api, t.id, &spent, &running, &err) < 0)
		return http_send_evo_error(c, &err);
	usd_micros left = t.credit_limit > spent ? t.credit_limit - spent : 0;
	return http_send_json(c, 200,
			      json_pack("{s:s, s:s, s:i, s:o, s:i, s:o, s:o}", "tenant_id", t.id,
					"email", t.email, "max_agents", (int)t.max_agents,
					"credit_limit_usd", usd_json(t.credit_limit), "running_agents",
					(int)running, "spent_usd", usd_json(spent), "remaining_usd",
					usd_json(left)));
}

static enum MHD_Result list_keys(struct api *api, struct MHD_Connection *c,
				 struct api_request *req)
{
	enum MHD_Result ret;
	struct tenant t;
	if (!target_tenant(api, c, req, &t, &ret))
		return ret;
	struct api_key_record *keys = NULL;
	size_t n = 0;
	struct evo_error err = {0};
	if (store_key_list(api->store, t.id, &keys, &n, &err) < 0)
		return http_send_evo_error(c, &err);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *k = json_pack("{s:s, s:s, s:o, s:o, s:b}", "id", keys[i].id, "prefix",
				      keys[i].prefix, "created_at", time_json(keys[i].created_at_ms),
				      "revoked_at",
				      keys[i].revoked_at_ms ? time_json(keys[i].revoked_at_ms)
							    : json_null(),
				      "current", strcmp(keys[i].id, req->caller.key_id) == 0);
		json_array_append_new(list, k);
	}
	free(keys);
	return http_send_json(c, 200, json_pack("{s:s, s:o}", "tenant_id", t.id, "keys", list));
}

static enum MHD_Result new_key(struct api *api, struct MHD_Connection *c, struct api_request *req)
{
	enum MHD_Result ret;
	struct tenant t;
	if (!target_tenant(api, c, req, &t, &ret))
		return ret;
	const char *replaces = NULL;
	json_t *body = NULL;
	struct evo_error err = {0};
	if (req->body.len > 0) {
		body = api_body_object(c, req, &ret);
		if (body == NULL)
			return ret;
		static const char *const fields[] = {"replaces", NULL};
		if (json_input_known_keys(body, "", fields, &err) < 0 ||
		    json_input_string(body, "", "replaces", TENANT_ID_MAX - 1, false, &replaces,
				      &err) < 0) {
			json_decref(body);
			return http_send_evo_error(c, &err);
		}
	}
	char key[API_KEY_TEXT_MAX];
	struct api_key_record rec;
	int64_t now = api_now_ms();
	auth_new_key(api->key_secret, t.id, now, key, &rec);
	int r = store_key_add(api->store, &rec, replaces, now, &err);
	json_decref(body);
	if (r < 0)
		return http_send_evo_error(c, &err);
	return http_send_json(c, 201,
			      json_pack("{s:s, s:s, s:s, s:s}", "tenant_id", t.id, "key_id", rec.id,
					"prefix", rec.prefix, "api_key", key));
}

static enum MHD_Result revoke_key(struct api *api, struct MHD_Connection *c,
				  struct api_request *req, const char *key_id)
{
	enum MHD_Result ret;
	struct tenant t;
	if (!target_tenant(api, c, req, &t, &ret))
		return ret;
	struct evo_error err = {0};
	if (store_key_revoke(api->store, t.id, key_id, api_now_ms(), &err) < 0)
		return http_send_evo_error(c, &err);
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	return r ? http_queue(c, 204, r) : MHD_NO;
}

/* POST /api/saas/agents {mode, count, ...and /api/cloud/spawn's fields}:
 * on-demand agents for the calling tenant, within its limits; mode burst
 * {count, genome, generations, survivors, mutation_rate, eval_seconds, ...}
 * runs a tournament of the tenant's (orchestrator/tournament.h); mode
 * scheduled {schedule, ...} starts an agent in each window of a schedule
 * (orchestrator/scheduler.h). */
static enum MHD_Result saas_spawn(struct api *api, struct MHD_Connection *c,
				  struct api_request *req)
{
	enum MHD_Result ret;
	json_t *body = api_body_object(c, req, &ret);
	if (body == NULL)
		return ret;
	struct evo_error err = {0};
	const char *mode = "on-demand";
	uint64_t count = 1;
	int r = json_input_string(body, "", "mode", 32, false, &mode, &err);
	if (r == 0 && strcmp(mode, "burst") == 0) {
		/* A tournament of the tenant's (routes_tournaments.c); its
		 * agents are traders. */
		const char *type = json_string_value(json_object_get(body, "agent_type"));
		if (json_object_get(body, "agent_type") && (type == NULL || strcmp(type, "trader") != 0)) {
			json_decref(body);
			return http_send_error(c, 400, "invalid_request",
					       "agent_type: burst mode runs traders (evolution tournaments)");
		}
		json_object_del(body, "mode");
		json_object_del(body, "agent_type");
		ret = api_tournament_create(api, c, req, body);
		json_decref(body);
		return ret;
	}
	if (r == 0)
		r = json_input_uint(body, "", "count", 1, 100, &count, &err);
	if (r == 0 && strcmp(mode, "scheduled") == 0) {
		/* One agent per window of the schedule (routes_schedules.c). */
		if (count != 1) {
			json_decref(body);
			return http_send_error(c, 400, "invalid_request",
					       "count: a schedule starts one agent per window");
		}
		json_object_del(body, "mode");
		json_object_del(body, "count");
		ret = api_schedule_create(api, c, req, body);
		json_decref(body);
		return ret;
	}
	if (r == 0 && strcmp(mode, "on-demand") != 0)
		r = evo_error_set(&err, EVO_ERR_INVALID, 0,
				  "mode: must be on-demand, burst or scheduled");
	/* The rest is /api/cloud/spawn's body. */
	json_t *spawn_body = json_deep_copy(body);
	json_object_del(spawn_body, "mode");
	json_object_del(spawn_body, "count");
	json_decref(body);
	struct spawn_request sr = {0};
	if (r == 0)
		r = request_parse_cloud_spawn(spawn_body, api->cfg, &sr, &err);
	json_decref(spawn_body);
	if (r == 0 && sr.spawn.id && count > 1)
		r = evo_error_set(&err, EVO_ERR_INVALID, 0, "agent_id: only with count 1");
	if (r == 0)
		r = api_check_spawn_template(api, "template_id", &sr.spawn, &err);
	if (r == 0)
		r = api_caller_spawn(api, req, &sr.spawn, &err);
	json_t *made = json_array();
	for (uint64_t i = 0; r == 0 && i < count; i++) {
		struct agent a;
		if ((r = orch_spawn(api->orch, &sr.spawn, &a, &err)) == 0) {
			json_array_append_new(made, api_agent_json(&a));
			agent_clear(&a);
		}
	}
	request_free(&sr);
	if (r < 0 && json_array_size(made) > 0)
		evo_error_prefix(&err, "spawned %zu of %llu", json_array_size(made),
				 (unsigned long long)count);
	if (r < 0) {
		json_decref(made);
		return http_send_evo_error(c, &err);
	}
	return http_send_json(c, 201, json_pack("{s:o, s:I}", "agents", made, "count",
						(json_int_t)json_array_size(made)));
}

static enum MHD_Result saas_agents(struct api *api, struct MHD_Connection *c,
				   struct api_request *req)
{
	struct store_agent_filter mine = {.tenant = req->caller.tenant};
	struct agent *list = NULL;
	size_t n = 0;
	int64_t total = 0;
	struct evo_error err = {0};
	if (orch_list(api->orch, &mine, 0, 1000, &list, &n, &total, &err) < 0)
		return http_send_evo_error(c, &err);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, api_agent_json(&list[i]));
		agent_clear(&list[i]);
	}
	free(list);
	return http_send_json(c, 200,
			      json_pack("{s:o, s:I}", "agents", arr, "total", (json_int_t)total));
}

enum MHD_Result api_saas_route(struct api *api, struct MHD_Connection *c, const char *method,
			       const char *url, struct api_request *req)
{
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0,
	     del = strcmp(method, "DELETE") == 0;
	char id[TENANT_ID_MAX];
	if (strcmp(url, "/api/saas/register") == 0) {
		req->route = "/api/saas/register";
		return post ? register_tenant(api, c, req)
			    : http_send_error(c, 405, "method_not_allowed", "use POST");
	}
	if (strcmp(url, "/api/saas/usage") == 0) {
		req->route = "/api/saas/usage";
		return get ? usage(api, c, req)
			   : http_send_error(c, 405, "method_not_allowed", "use GET");
	}
	if (strcmp(url, "/api/saas/keys") == 0) {
		req->route = "/api/saas/keys";
		if (get)
			return list_keys(api, c, req);
		if (post)
			return new_key(api, c, req);
		return http_send_error(c, 405, "method_not_allowed", "use GET or POST");
	}
	if (api_path_id(url, "/api/saas/keys/", "", id, sizeof id)) {
		req->route = "/api/saas/keys/{id}";
		return del ? revoke_key(api, c, req, id)
			   : http_send_error(c, 405, "method_not_allowed", "use DELETE");
	}
	if (strcmp(url, "/api/saas/agents") == 0) {
		req->route = "/api/saas/agents";
		if (req->caller.admin)
			return http_send_error(c, 403, "forbidden",
					       "/api/saas/agents is a tenant's (use /api/agents)");
		if (post)
			return saas_spawn(api, c, req);
		if (get)
			return saas_agents(api, c, req);
		return http_send_error(c, 405, "method_not_allowed", "use GET or POST");
	}
	req->route = "/api/saas/*";
	return http_send_error(c, 404, "not_found", "no route %.16s %.200s", method, url);
}
