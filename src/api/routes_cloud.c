/* The EvoClaw surface (seed "Cloud Deployment Guide"): /api/cloud. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "api/http.h"
#include "api/requests.h"
#include "core/budget.h"
#include "runtime/template.h"
#include "store/store.h"

int api_check_template(const char *path, const char *tmpl, struct evo_error *err)
{
	struct template t;
	struct evo_error terr = {0};
	if (!template_name_valid(tmpl) || template_load(tmpl, &t, &terr) < 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "%s: no template \"%.64s\" (GET /api/templates lists them)", path,
				     tmpl);
	template_free(&t);
	return 0;
}

int api_check_spawn_template(const struct api *api, const char *path,
			     const struct orch_spawn *spawn, struct evo_error *err)
{
	const char *tmpl = spawn->template_name ? spawn->template_name
						: api->cfg->cloud.default_template;
	if (orch_check_provider(api->orch, spawn->provider, err) < 0)
		return -1;
	const char *provider = spawn->provider ? spawn->provider : api->cfg->cloud.provider;
	if (strcmp(provider, "local") == 0)
		return api_check_template(path, tmpl, err);
	/* A remote provider's templates are its own: the name must do. */
	if (!template_name_valid(tmpl))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "%s: \"%.64s\" is not a template name ([a-z0-9._-], at most 63)",
				     path, tmpl);
	return 0;
}

/* Parse, check the template, spawn, answer with shape(). */
enum MHD_Result api_spawn(struct api *api, struct MHD_Connection *c, struct api_request *req,
			  bool deploy)
{
	enum MHD_Result ret;
	json_t *body = api_body_object(c, req, &ret);
	if (body == NULL)
		return ret;
	struct spawn_request sr;
	struct evo_error err = {0};
	int r = deploy ? request_parse_agents_deploy(body, api->cfg, &sr, &err)
		       : request_parse_cloud_spawn(body, api->cfg, &sr, &err);
	json_decref(body);
	if (r < 0)
		return http_send_evo_error(c, &err);
	struct agent a;
	r = api_check_spawn_template(api, deploy ? "template" : "template_id", &sr.spawn, &err);
	if (r == 0)
		r = api_caller_spawn(api, req, &sr.spawn, &err);
	if (r == 0)
		r = orch_spawn(api->orch, &sr.spawn, &a, &err);
	request_free(&sr);
	if (r < 0)
		return http_send_evo_error(c, &err);
	json_t *out = deploy ? json_pack("{s:s, s:o, s:s}", "agent_id", a.id, "sandbox_id",
					 a.sandbox_id[0] ? json_string(a.sandbox_id) : json_null(),
					 "status", agent_status_name(a.status))
			     : api_agent_json(&a);
	agent_clear(&a);
	return http_send_json(c, 201, out);
}

static json_t *agents_array(struct agent *list, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, api_agent_json(&list[i]));
		agent_clear(&list[i]);
	}
	free(list);
	return arr;
}

enum MHD_Result api_cloud_list(struct api *api, struct MHD_Connection *c,
			       const struct api_request *req)
{
	struct agent *list;
	size_t n;
	struct evo_error err = {0};
	struct store_agent_filter live = {.active_only = true, .tenant = api_caller_tenant(req)};
	if (orch_list(api->orch, &live, 0, 100000, &list, &n, NULL, &err) < 0)
		return http_send_evo_error(c, &err);
	return http_send_json(c, 200, json_pack("{s:o, s:I}", "agents", agents_array(list, n),
						"count", (json_int_t)n));
}

static double usd(usd_micros v)
{
	return (double)v / USD_MICROS_PER_USD;
}

/* The money and limits the caller answers to: the operator's for the
 * admin, a tenant's own otherwise. */
static int caller_costs(struct api *api, const struct api_request *req, struct orch_costs *out,
			struct evo_error *err)
{
	const char *tenant = api_caller_tenant(req);
	if (tenant == NULL)
		return orch_costs(api->orch, out, err);
	struct tenant t;
	if (store_tenant_get(api->store, tenant, &t, err) < 0)
		return -1;
	*out = (struct orch_costs){.budget = t.credit_limit, .max_agents = t.max_agents};
	if (api_tenant_spend(api, tenant, &out->spent, &out->live_agents, err) < 0)
		return -1;
	out->committed = out->spent;
	return 0;
}

enum MHD_Result api_cloud_costs(struct api *api, struct MHD_Connection *c,
				const struct api_request *req)
{
	struct orch_costs costs;
	struct evo_error err = {0};
	struct agent *list;
	size_t n;
	struct store_agent_filter mine = {.tenant = api_caller_tenant(req)};
	if (caller_costs(api, req, &costs, &err) < 0 ||
	    orch_list(api->orch, &mine, 0, 100000, &list, &n, NULL, &err) < 0)
		return http_send_evo_error(c, &err);
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++) {
		struct agent *a = &list[i];
		json_array_append_new(
			rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:I, s:f}", "id", a->id, "name",
					a->name, "agent_type", a->agent_type, "status",
					agent_status_name(a->status), "provider", a->provider,
					"runtime_sec",
					(double)a->execution_time_ms / 1000.0, "tokens_used",
					(json_int_t)a->tokens_used, "cost_usd", usd(a->cost)));
		agent_clear(a);
	}
	free(list);
	/* Each provider's rate: what a second of its sandbox costs. */
	const char *names[ORCH_PROVIDERS_MAX];
	double rates[ORCH_PROVIDERS_MAX];
	size_t m = orch_provider_rates(api->orch, names, rates, ORCH_PROVIDERS_MAX);
	json_t *by_provider = json_object();
	for (size_t i = 0; i < m; i++)
		json_object_set_new(by_provider, names[i], json_real(rates[i]));
	return http_send_json(
		c, 200,
		json_pack("{s:f, s:f, s:f, s:f, s:i, s:i, s:f, s:o, s:f, s:o}", "total_spent_usd",
			  usd(costs.spent), "budget_usd", usd(costs.budget), "remaining_usd",
			  usd(costs.budget - costs.spent), "committed_usd", usd(costs.committed),
			  "running_agents", (int)costs.live_agents, "max_agents", (int)costs.max_agents,
			  "sandbox_usd_per_sec", api->cfg->pricing.sandbox_usd_per_sec,
			  "provider_usd_per_sec", by_provider, "usd_per_token",
			  api->cfg->pricing.usd_per_token, "agents", rows));
}

enum MHD_Result api_summary(struct api *api, struct MHD_Connection *c,
			    const struct api_request *req)
{
	struct orch_costs costs;
	struct store_agent_summary sum;
	struct evo_error err = {0};
	const char *tenant = api_caller_tenant(req);
	if (caller_costs(api, req, &costs, &err) < 0 ||
	    store_agent_summarize(api->store, tenant, &sum, &err) < 0)
		return http_send_evo_error(c, &err);
	usd_micros remaining = costs.budget > costs.spent ? costs.budget - costs.spent : 0;
	return http_send_json(
		c, 200,
		json_pack("{s:{s:b, s:s?}, s:{s:I, s:I, s:I, s:I, s:I}, s:I, s:I, s:I, s:f, s:f, s:f,"
			  " s:f, s:i}",
			  "caller", "admin", req->caller.admin, "tenant", tenant, "agents", "total",
			  (json_int_t)sum.total, "pending", (json_int_t)sum.pending, "running",
			  (json_int_t)sum.running, "completed", (json_int_t)sum.completed, "failed",
			  (json_int_t)sum.failed, "sandboxes_total", (json_int_t)sum.sandboxes,
			  "active_agents", (json_int_t)(sum.pending + sum.running), "tokens_used",
			  (json_int_t)sum.tokens, "total_spent_usd", usd(costs.spent), "budget_usd",
			  usd(costs.budget), "remaining_usd", usd(remaining), "committed_usd",
			  usd(costs.committed), "max_agents", (int)costs.max_agents));
}

/* At most this many points in a window, so a week costs what an hour does. */
#define HISTORY_POINTS 240

enum MHD_Result api_cloud_costs_history(struct api *api, struct MHD_Connection *c,
					const struct api_request *req)
{
	enum MHD_Result ret;
	long long window;
	if (api_query_number(c, "window_sec", 60, 30LL * 24 * 3600, 3600, &window, &ret) < 0)
		return ret;
	int64_t now = api_now_ms(), since = now - window * 1000;
	const char *tenant = api_caller_tenant(req);
	struct spend_sample *points;
	size_t n;
	struct orch_costs costs;
	struct evo_error err = {0};
	/* The orchestrator's samples, then now: what the cards say. */
	if (caller_costs(api, req, &costs, &err) < 0 ||
	    store_spend_history(api->store, tenant ? tenant : "", since,
				window * 1000 / HISTORY_POINTS, &points, &n, &err) < 0)
		return http_send_evo_error(c, &err);
	points = xrealloc(points, (n + 1) * sizeof *points);
	points[n++] = (struct spend_sample){.at_ms = now, .spent = costs.spent};
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char at[32];
		agent_format_time(points[i].at_ms, at);
		json_array_append_new(arr, json_pack("{s:s, s:f}", "at", at, "spent_usd",
						     usd(points[i].spent)));
	}
	free(points);
	return http_send_json(c, 200,
			      json_pack("{s:I, s:o}", "window_sec", (json_int_t)window, "points", arr));
}

enum MHD_Result api_cloud_kill(struct api *api, struct MHD_Connection *c, const char *id)
{
	struct agent a;
	struct evo_error err = {0};
	if (orch_terminate(api->orch, id, &a, &err) < 0)
		return http_send_evo_error(c, &err);
	json_t *out = api_agent_json(&a);
	agent_clear(&a);
	return http_send_json(c, 200, out);
}
