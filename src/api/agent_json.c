/* The agent object of docs/api.md, shared by both surfaces. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static json_t *time_or_null(int64_t ms)
{
	if (ms <= 0)
		return json_null();
	char text[32];
	agent_format_time(ms, text);
	return json_string(text);
}

static json_t *text_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *parsed_or(const char *json, json_t *fallback)
{
	json_t *v = json ? json_loads(json, 0, NULL) : NULL;
	if (v == NULL)
		return fallback;
	json_decref(fallback);
	return v;
}

/* Keys only: values may be secrets (API keys, passwords). */
static json_t *env_keys(const char *env_json)
{
	json_t *keys = json_array();
	json_t *env = env_json ? json_loads(env_json, 0, NULL) : NULL;
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v)
		json_array_append_new(keys, json_string(k));
	json_decref(env);
	return keys;
}

json_t *api_agent_json(const struct agent *a)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(a->id));
	json_object_set_new(o, "name", json_string(a->name));
	json_object_set_new(o, "agent_type", json_string(a->agent_type));
	json_object_set_new(o, "template", json_string(a->template_name));
	json_object_set_new(o, "provider", json_string(a->provider));
	json_object_set_new(o, "sandbox_id", text_or_null(a->sandbox_id));
	json_object_set_new(o, "status", json_string(agent_status_name(a->status)));
	json_object_set_new(o, "stop_reason", a->stop_reason == AGENT_STOP_NONE
						      ? json_null()
						      : json_string(agent_stop_reason_name(a->stop_reason)));
	json_object_set_new(o, "task_description", json_string(a->task_description));
	json_object_set_new(o, "capabilities", parsed_or(a->capabilities_json, json_array()));
	json_object_set_new(o, "genome", parsed_or(a->genome_json, json_null()));
	json_object_set_new(o, "mode", json_string(a->mode));
	json_object_set_new(o, "timeout_sec", json_integer(a->timeout_sec));
	json_object_set_new(o, "keep_alive", json_boolean(a->keep_alive));
	json_object_set_new(o, "tokens_used", json_integer(a->tokens_used));
	json_object_set_new(o, "cost_usd", json_real((double)a->cost / USD_MICROS_PER_USD));
	json_object_set_new(o, "execution_time_ms", json_integer(a->execution_time_ms));
	json_object_set_new(o, "exit_code", a->has_exit_code ? json_integer(a->exit_code) : json_null());
	json_object_set_new(o, "error_message", text_or_null(a->error_message));
	json_object_set_new(o, "created_at", time_or_null(a->created_at_ms));
	json_object_set_new(o, "started_at", time_or_null(a->started_at_ms));
	json_object_set_new(o, "completed_at", time_or_null(a->completed_at_ms));
	json_object_set_new(o, "deadline_at", a->completed_at_ms ? json_null() : time_or_null(a->deadline_ms));
	json_object_set_new(o, "environment_keys", env_keys(a->environment_json));
	json_object_set_new(o, "command", parsed_or(a->command_json, json_null()));
	return o;
}
