/* The EvoClaw surface (seed "Cloud Deployment Guide"): /api/cloud. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/http.h"
#include "api/json_input.h"
#include "core/budget.h"
#include "runtime/template.h"

static const char *const agent_types[] = {"researcher", "coder",   "analyst", "tester",
					  "trader",     "monitor", "sensor",  NULL};

int api_check_type_and_template(const char *path_type, const char *type,
				const char *path_template, const char *tmpl,
				struct evo_error *err)
{
	bool known = false;
	for (const char *const *t = agent_types; *t && !known; t++)
		known = strcmp(*t, type) == 0;
	if (!known)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "%s: \"%.64s\" is not an agent type (researcher, coder, analyst, "
				     "tester, trader, monitor, sensor)",
				     path_type, type);
	if (tmpl == NULL)
		return 0;
	struct template t;
	struct evo_error terr = {0};
	if (!template_name_valid(tmpl) || template_load(tmpl, &t, &terr) < 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: no template \"%.64s\" (GET /api/templates lists them)",
				     path_template, tmpl);
	template_free(&t);
	return 0;
}

static bool agent_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 63)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return false;
	return id[0] != '.';
}

enum MHD_Result api_cloud_spawn(struct api *api, struct MHD_Connection *c, struct api_request *req)
{
	enum MHD_Result ret;
	json_t *body = api_body_object(c, req, &ret);
	if (body == NULL)
		return ret;
	static const char *const fields[] = {"template_id", "agent_id",  "agent_type", "task",
					     "command",     "mqtt_broker", "mqtt_port", "timeout_sec",
					     "genome",      "env",       "keep_alive", NULL};
	struct orch_spawn s = {.agent_type = "trader"};
	uint64_t port = 0, timeout = 0;
	char *command = NULL, *env = NULL, *genome = NULL;
	struct evo_error err = {0};
	const struct evo_config *cfg = api->cfg;
	int r = json_input_known_keys(body, "", fields, &err);
	if (r == 0)
		r = json_input_string(body, "", "template_id", 64, false, &s.template_name, &err);
	if (r == 0)
		r = json_input_string(body, "", "agent_id", 63, false, &s.id, &err);
	if (r == 0 && s.id && !agent_id_valid(s.id))
		r = evo_error_set(&err, EVO_ERR_INVALID, 0,
				  "agent_id: \"%.64s\" must be 1 to 63 of [A-Za-z0-9._-], not starting with a dot",
				  s.id);
	if (r == 0)
		r = json_input_string(body, "", "agent_type", 32, false, &s.agent_type, &err);
	if (r == 0)
		r = json_input_string(body, "", "task", AGENT_TEXT_MAX - 1, false, &s.task, &err);
	if (r == 0)
		r = json_input_string_array(body, "", "command", 256, 32768, &command, &err);
	if (r == 0)
		r = json_input_string(body, "", "mqtt_broker", 255, false, &s.mqtt_broker, &err);
	if (r == 0)
		r = json_input_uint(body, "", "mqtt_port", 1, 65535, &port, &err);
	if (r == 0)
		r = json_input_uint(body, "", "timeout_sec", 1, cfg->cloud.max_lifetime_sec, &timeout,
				    &err);
	if (r == 0)
		r = json_input_object(body, "", "genome", 65536, &genome, &err);
	if (r == 0)
		r = json_input_env(body, "", "env", &env, &err);
	if (r == 0)
		r = json_input_bool(body, "", "keep_alive", &s.keep_alive, &err);
	if (r == 0)
		r = api_check_type_and_template("agent_type", s.agent_type, "template_id",
						s.template_name ? s.template_name
								: cfg->cloud.default_template,
						&err);
	s.command_json = command;
	s.env_json = env;
	s.genome_json = genome;
	s.mqtt_port = (uint32_t)port;
	s.timeout_sec = (uint32_t)timeout;
	struct agent a;
	if (r == 0)
		r = orch_spawn(api->orch, &s, &a, &err);
	json_decref(body);
	free(command);
	free(env);
	free(genome);
	if (r < 0)
		return http_send_evo_error(c, &err);
	json_t *out = api_agent_json(&a);
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

enum MHD_Result api_cloud_list(struct api *api, struct MHD_Connection *c)
{
	struct agent *list;
	size_t n;
	struct evo_error err = {0};
	struct store_agent_filter live = {.active_only = true};
	if (orch_list(api->orch, &live, 0, 100000, &list, &n, NULL, &err) < 0)
		return http_send_evo_error(c, &err);
	return http_send_json(c, 200, json_pack("{s:o, s:I}", "agents", agents_array(list, n),
						"count", (json_int_t)n));
}

static double usd(usd_micros v)
{
	return (double)v / USD_MICROS_PER_USD;
}

enum MHD_Result api_cloud_costs(struct api *api, struct MHD_Connection *c)
{
	struct orch_costs costs;
	struct evo_error err = {0};
	struct agent *list;
	size_t n;
	if (orch_costs(api->orch, &costs, &err) < 0 ||
	    orch_list(api->orch, NULL, 0, 100000, &list, &n, NULL, &err) < 0)
		return http_send_evo_error(c, &err);
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++) {
		struct agent *a = &list[i];
		json_array_append_new(
			rows, json_pack("{s:s, s:s, s:s, s:s, s:f, s:I, s:f}", "id", a->id, "name",
					a->name, "agent_type", a->agent_type, "status",
					agent_status_name(a->status), "runtime_sec",
					(double)a->execution_time_ms / 1000.0, "tokens_used",
					(json_int_t)a->tokens_used, "cost_usd", usd(a->cost)));
		agent_clear(a);
	}
	free(list);
	return http_send_json(
		c, 200,
		json_pack("{s:f, s:f, s:f, s:f, s:i, s:i, s:f, s:f, s:o}", "total_spent_usd",
			  usd(costs.spent), "budget_usd", usd(costs.budget), "remaining_usd",
			  usd(costs.budget - costs.spent), "committed_usd", usd(costs.committed),
			  "running_agents", (int)costs.live_agents, "max_agents", (int)costs.max_agents,
			  "sandbox_usd_per_sec", api->cfg->pricing.sandbox_usd_per_sec, "usd_per_token",
			  api->cfg->pricing.usd_per_token, "agents", rows));
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
