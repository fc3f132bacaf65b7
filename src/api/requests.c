#include "api/requests.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_input.h"
#include "common/cleanup.h"
#include "common/text.h"
#include "core/budget.h"
#include "core/genome.h"

static const char *const agent_types[] = {"researcher", "coder",   "analyst", "tester",
					  "trader",     "monitor", "sensor",  NULL};

bool request_agent_type_valid(const char *type)
{
	for (const char *const *t = agent_types; *t; t++)
		if (strcmp(*t, type) == 0)
			return true;
	return false;
}

bool request_agent_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 63 || id[0] == '.')
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

void request_free(struct spawn_request *r)
{
	json_decref(r->body);
	free(r->command);
	free(r->env);
	free(r->genome);
	free(r->capabilities);
	memset(r, 0, sizeof *r);
}

static int check_type(const char *path, const char *type, struct evo_error *err)
{
	if (request_agent_type_valid(type))
		return 0;
	return evo_error_set(err, EVO_ERR_INVALID, 0,
			     "%s: \"%.64s\" is not an agent type (researcher, coder, analyst, "
			     "tester, trader, monitor, sensor)",
			     path, type);
}

/* "provider": where the agent's sandbox runs (DESIGN §3); absent: the
 * server's default. Whether this server has it is the orchestrator's to
 * say. */
static int parse_provider(json_t *body, const char **out, struct evo_error *err)
{
	if (json_input_string(body, "", "provider", 16, false, out, err) < 0)
		return -1;
	if (*out && strcmp(*out, "local") != 0 && strcmp(*out, "e2b") != 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "provider: \"%.16s\" is not a provider (local, e2b)", *out);
	return 0;
}

int request_parse_cloud_spawn(json_t *body, const struct evo_config *cfg,
			      struct spawn_request *out, struct evo_error *err)
{
	static const char *const fields[] = {"template_id", "agent_id",    "agent_type", "task",
					     "command",     "mqtt_broker", "mqtt_port",  "timeout_sec",
					     "genome",      "env",         "keep_alive", "provider",
					     NULL};
	memset(out, 0, sizeof *out);
	out->body = json_incref(body);
	struct orch_spawn *s = &out->spawn;
	s->agent_type = "trader";
	uint64_t port = 0, timeout = 0;
	int r = json_input_known_keys(body, "", fields, err);
	if (r == 0)
		r = json_input_string(body, "", "template_id", 64, false, &s->template_name, err);
	if (r == 0)
		r = parse_provider(body, &s->provider, err);
	if (r == 0)
		r = json_input_string(body, "", "agent_id", 63, false, &s->id, err);
	if (r == 0 && s->id && !request_agent_id_valid(s->id))
		r = evo_error_set(err, EVO_ERR_INVALID, 0,
				  "agent_id: \"%.64s\" must be 1 to 63 of [A-Za-z0-9._-], not starting with a dot",
				  s->id);
	if (r == 0)
		r = json_input_string(body, "", "agent_type", 32, false, &s->agent_type, err);
	if (r == 0)
		r = check_type("agent_type", s->agent_type, err);
	if (r == 0)
		r = json_input_string(body, "", "task", AGENT_TEXT_MAX - 1, false, &s->task, err);
	if (r == 0)
		r = json_input_string_array(body, "", "command", 256, 32768, &out->command, err);
	if (r == 0)
		r = json_input_string(body, "", "mqtt_broker", 255, false, &s->mqtt_broker, err);
	if (r == 0)
		r = json_input_uint(body, "", "mqtt_port", 1, 65535, &port, err);
	if (r == 0)
		r = json_input_uint(body, "", "timeout_sec", 1, cfg->cloud.max_lifetime_sec, &timeout,
				    err);
	if (r == 0)
		r = json_input_object(body, "", "genome", 65536, &out->genome, err);
	/* The genome of a trader that the edge agent runs (no command of the
	 * caller's) is its strategy (core/genome.h): checked here, so a broken
	 * one is refused now rather than failing the agent later. */
	if (r == 0 && out->genome && out->command == NULL && strcmp(s->agent_type, "trader") == 0) {
		struct genome g;
		r = genome_parse(out->genome, "genome", &g, err);
	}
	if (r == 0)
		r = json_input_env(body, "", "env", &out->env, err);
	if (r == 0)
		r = json_input_bool(body, "", "keep_alive", &s->keep_alive, err);
	s->command_json = out->command;
	s->env_json = out->env;
	s->genome_json = out->genome;
	s->mqtt_port = (uint32_t)port;
	s->timeout_sec = (uint32_t)timeout;
	if (r < 0)
		request_free(out);
	return r;
}

int request_parse_agents_deploy(json_t *body, const struct evo_config *cfg,
				struct spawn_request *out, struct evo_error *err)
{
	static const char *const fields[] = {"agent_name",  "agent_type",   "task_description",
					     "template",    "environment",  "capabilities",
					     "config",      "provider",     NULL};
	static const char *const config_fields[] = {"timeout", "command", "keep_alive", NULL};
	memset(out, 0, sizeof *out);
	out->body = json_incref(body);
	struct orch_spawn *s = &out->spawn;
	s->agent_type = "coder";
	uint64_t timeout = 0;
	json_t *config = json_object_get(body, "config");
	int r = json_input_known_keys(body, "", fields, err);
	if (r == 0)
		r = json_input_string(body, "", "agent_name", 127, true, &s->name, err);
	if (r == 0)
		r = json_input_string(body, "", "agent_type", 32, false, &s->agent_type, err);
	if (r == 0)
		r = check_type("agent_type", s->agent_type, err);
	if (r == 0)
		r = json_input_string(body, "", "task_description", AGENT_TEXT_MAX - 1, false, &s->task,
				      err);
	if (r == 0)
		r = json_input_string(body, "", "template", 64, false, &s->template_name, err);
	if (r == 0)
		r = parse_provider(body, &s->provider, err);
	if (r == 0)
		r = json_input_env(body, "", "environment", &out->env, err);
	if (r == 0)
		r = json_input_string_array(body, "", "capabilities", 64, 128, &out->capabilities, err);
	if (r == 0 && config && !json_is_null(config) && !json_is_object(config))
		r = evo_error_set(err, EVO_ERR_INVALID, 0, "config: must be an object");
	if (r == 0 && json_is_object(config)) {
		r = json_input_known_keys(config, "config.", config_fields, err);
		if (r == 0)
			r = json_input_uint(config, "config.", "timeout", 1, cfg->cloud.max_lifetime_sec,
					    &timeout, err);
		if (r == 0)
			r = json_input_string_array(config, "config.", "command", 256, 32768,
						    &out->command, err);
		if (r == 0)
			r = json_input_bool(config, "config.", "keep_alive", &s->keep_alive, err);
	}
	s->env_json = out->env;
	s->capabilities_json = out->capabilities;
	s->command_json = out->command;
	s->timeout_sec = (uint32_t)timeout;
	if (r < 0)
		request_free(out);
	return r;
}

int request_parse_register(json_t *body, const struct evo_config *cfg,
			   struct register_request *out, struct evo_error *err)
{
	static const char *const fields[] = {"email", "max_agents", "credit_limit_usd", NULL};
	memset(out, 0, sizeof *out);
	const char *email = NULL;
	uint64_t max_agents = 0;
	if (json_input_known_keys(body, "", fields, err) < 0 ||
	    json_input_string(body, "", "email", TENANT_EMAIL_MAX, true, &email, err) < 0)
		return -1;
	if (!tenant_email_valid(email))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "email: not an e-mail address");
	snprintf(out->email, sizeof out->email, "%s", email);
	if (json_input_uint(body, "", "max_agents", 1, cfg->cloud.max_agents, &max_agents, err) < 0)
		return -1;
	if (max_agents == 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "max_agents: required (1 to maxAgents, %u)", cfg->cloud.max_agents);
	out->max_agents = (uint32_t)max_agents;
	json_t *limit = json_object_get(body, "credit_limit_usd");
	double usd = json_is_number(limit) ? json_number_value(limit) : -1;
	if (!(usd > 0 && usd <= 1e9))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "credit_limit_usd: required, a number of dollars above 0");
	out->credit_limit = budget_usd_to_micros(usd);
	return 0;
}

/* ---- E2B's control plane ------------------------------------------------ */

/* An object of string values (metadata, envVars) as compact JSON. */
static int string_map(json_t *body, const char *key, char **out, struct evo_error *err)
{
	json_t *v = json_object_get(body, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v) || json_object_size(v) > 256)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "%s: must be an object of at most 256 string values", key);
	const char *k;
	json_t *val;
	json_object_foreach(v, k, val)
		if (!json_is_string(val) || strlen(k) == 0 || strlen(k) > 256 ||
		    json_string_length(val) > 32768)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "%s.%.64s: must be a string (keys of 1 to 256 bytes)", key, k);
	*out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	return 0;
}

int request_parse_e2b_create(json_t *body, const struct evo_config *cfg,
			     struct e2b_create_request *out, struct evo_error *err)
{
	/* Fields this server does not act on (network, mcp, autoPause, ...)
	 * are accepted, as the SDK sends some by default (spec §9). */
	memset(out, 0, sizeof *out);
	out->body = json_incref(body);
	out->template_name = "base";
	uint64_t timeout = E2B_DEFAULT_TIMEOUT_SEC;
	if (timeout > cfg->cloud.max_lifetime_sec)
		timeout = cfg->cloud.max_lifetime_sec;
	int r = json_input_string(body, "", "templateID", 64, false, &out->template_name, err);
	if (r == 0)
		r = json_input_uint(body, "", "timeout", 1, cfg->cloud.max_lifetime_sec, &timeout, err);
	if (r == 0)
		r = string_map(body, "metadata", &out->metadata, err);
	if (r == 0)
		r = json_input_env(body, "", "envVars", &out->env, err);
	out->timeout_sec = (uint32_t)timeout;
	if (r < 0)
		request_e2b_create_free(out);
	return r;
}

void request_e2b_create_free(struct e2b_create_request *r)
{
	free(r->metadata);
	free(r->env);
	json_decref(r->body);
	memset(r, 0, sizeof *r);
}

/* The SDK's metadata filter: "k1=v1&k2=v2" (libmicrohttpd has undone the
 * outer encoding), each key and value percent-encoded twice more. */
json_t *request_e2b_metadata_filter(const char *query, struct evo_error *err)
{
	json_t *want = json_object();
	char *copy = xstrdup(query);
	char *save = NULL;
	for (char *pair = strtok_r(copy, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');
		if (eq == NULL) {
			evo_error_set(err, EVO_ERR_INVALID, 0, "metadata: \"%.64s\" is not key=value", pair);
			json_decref(want);
			free(copy);
			return NULL;
		}
		*eq = '\0';
		char *k = pair, *v = eq + 1;
		if (!text_percent_decode(k) || !text_percent_decode(k) || !text_percent_decode(v) || !text_percent_decode(v)) {
			evo_error_set(err, EVO_ERR_INVALID, 0, "metadata: bad percent-encoding");
			json_decref(want);
			free(copy);
			return NULL;
		}
		json_object_set_new(want, k, json_string(v));
	}
	free(copy);
	return want;
}

/* ---- an agent's telemetry report ----------------------------------------- */

#define REPORT_METRICS_MAX 64
#define REPORT_MESSAGE_MAX 1000

static int parse_report_metrics(json_t *body, char **out, struct evo_error *err)
{
	json_t *metrics = json_object_get(body, "metrics");
	if (metrics == NULL || json_is_null(metrics))
		return 0;
	if (!json_is_object(metrics))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "metrics: must be an object of numbers");
	if (json_object_size(metrics) > REPORT_METRICS_MAX)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "metrics: at most %d of them",
				     REPORT_METRICS_MAX);
	const char *k;
	json_t *v;
	json_object_foreach(metrics, k, v) {
		if (strlen(k) == 0 || strlen(k) > 64)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "metrics: names are 1 to 64 characters");
		if (!json_is_number(v))
			return evo_error_set(err, EVO_ERR_INVALID, 0, "metrics.%.64s: must be a number", k);
	}
	*out = json_dumps(metrics, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	if (*out == NULL)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "metrics: cannot be written back");
	return 0;
}

bool request_parse_topic(const char *topic, char *id, size_t id_size, const char **kind)
{
	static const char prefix[] = "evoclaw/agents/";
	if (strncmp(topic, prefix, sizeof prefix - 1) != 0)
		return false;
	const char *start = topic + sizeof prefix - 1;
	const char *slash = strchr(start, '/');
	if (slash == NULL || slash == start || (size_t)(slash - start) >= id_size ||
	    slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
		return false;
	memcpy(id, start, (size_t)(slash - start));
	id[slash - start] = '\0';
	*kind = slash + 1;
	return true;
}

const char *const report_kind_names[ORCH_REPORT_KINDS] = {
	[ORCH_REPORT_HEARTBEAT] = "heartbeat", [ORCH_REPORT_METRICS] = "metrics",
	[ORCH_REPORT_FITNESS] = "fitness",     [ORCH_REPORT_LOG] = "log",
	[ORCH_REPORT_ALERT] = "alert",
};

int request_parse_report(json_t *body, struct report_request *out, struct evo_error *err)
{
	static const char *const fields[] = {"kind",    "fitness",      "tokens_used",
					     "metrics", "level",        "message",
					     "interval_sec", "state",   "seq",
					     NULL};
	static const char *const levels[] = {"debug", "info", "warn", "error"};
	memset(out, 0, sizeof *out);
	if (json_input_known_keys(body, "", fields, err) < 0)
		return -1;
	const char *kind = NULL;
	if (json_input_string(body, "", "kind", 16, true, &kind, err) < 0)
		return -1;
	size_t k = 0;
	while (k < ORCH_REPORT_KINDS && strcmp(kind, report_kind_names[k]) != 0)
		k++;
	if (k == ORCH_REPORT_KINDS)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "kind: \"%.16s\" is not heartbeat, metrics, fitness, log or alert",
				     kind);
	struct orch_report *r = &out->report;
	r->kind = (enum orch_report_kind)k;
	json_t *fitness = json_object_get(body, "fitness");
	if (fitness && !json_is_null(fitness)) {
		if (!json_is_number(fitness) || !isfinite(json_number_value(fitness)) ||
		    fabs(json_number_value(fitness)) > 1e12)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "fitness: must be a number from -1e12 to 1e12");
		r->report.has_fitness = true;
		r->report.fitness = json_number_value(fitness);
	} else if (r->kind == ORCH_REPORT_FITNESS) {
		return evo_error_set(err, EVO_ERR_INVALID, 0, "fitness: required in a fitness report");
	}
	uint64_t tokens;
	if (json_object_get(body, "tokens_used") && !json_is_null(json_object_get(body, "tokens_used"))) {
		if (json_input_uint(body, "", "tokens_used", 0, (uint64_t)1 << 53, &tokens, err) < 0)
			return -1;
		r->report.has_tokens = true;
		r->report.tokens_used = (int64_t)tokens;
	}
	if (json_input_string(body, "", "level", 8, false, &r->level, err) < 0)
		return -1;
	if (r->level) {
		size_t l = 0;
		while (l < sizeof levels / sizeof *levels && strcmp(r->level, levels[l]) != 0)
			l++;
		if (l == sizeof levels / sizeof *levels)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "level: must be debug, info, warn or error");
	}
	uint64_t interval = 0;
	if (json_input_uint(body, "", "interval_sec", 1, 3600, &interval, err) < 0 ||
	    json_input_string(body, "", "state", 32, false, &r->state, err) < 0)
		return -1;
	r->interval_sec = (uint32_t)interval;
	uint64_t seq = 0;
	if (json_input_uint(body, "", "seq", 1, (uint64_t)1 << 53, &seq, err) < 0)
		return -1;
	r->seq = seq;
	bool wants_message = r->kind == ORCH_REPORT_LOG || r->kind == ORCH_REPORT_ALERT;
	if (json_input_string(body, "", "message", REPORT_MESSAGE_MAX, wants_message, &r->message,
			      err) < 0)
		return -1;
	if (!wants_message)
		r->message = NULL; /* a line only from logs and alerts */
	if (parse_report_metrics(body, &out->metrics, err) < 0)
		return -1;
	r->report.metrics_json = out->metrics;
	out->body = json_incref(body);
	return 0;
}

void request_report_free(struct report_request *r)
{
	free(r->metrics);
	json_decref(r->body);
	memset(r, 0, sizeof *r);
}
