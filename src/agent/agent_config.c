/* The edge agent's settings: environment variables, after an agent.toml. */
#include "agent/agent.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileutil.h"
#include "common/toml.h"
#include "core/agent_toml.h"

const char *const agent_log_level_names[4] = {"debug", "info", "warn", "error"};

static int copy_env(const char *name, char *out, size_t size, struct evo_error *err)
{
	const char *v = getenv(name);
	if (v == NULL)
		return 0;
	if (strlen(v) >= size)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: at most %zu characters", name,
				     size - 1);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int uint_env(const char *name, uint32_t min, uint32_t max, uint32_t *out,
		    struct evo_error *err)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		return 0;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || *end || v[0] == '-' || n < min || n > max)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: \"%.32s\" is not an integer from %u to %u",
				     name, v, min, max);
	*out = (uint32_t)n;
	return 0;
}

static int price_env(const char *name, double *out, struct evo_error *err)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		return 0;
	char *end;
	double d = strtod(v, &end);
	if (*end || !isfinite(d) || d < 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: \"%.32s\" is not a price (a number >= 0)",
				     name, v);
	*out = d;
	return 0;
}

static int bool_env(const char *name, bool *out, struct evo_error *err)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		return 0;
	if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0)
		*out = false;
	else
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: \"%.32s\" is not true or false", name, v);
	return 0;
}

/* Set name=value unless the environment has it already (it wins). */
static void default_env(const char *name, const char *value)
{
	setenv(name, value, 0);
}

/* An agent.toml's settings as environment defaults: the same file that
 * `evoclaw cloud spawn --config` takes ([agent], [mqtt], [genome], [env]). */
static int apply_toml(const char *path, struct evo_error *err)
{
	size_t len;
	_cleanup_free_ char *text = read_file_all(path, &len);
	if (text == NULL)
		return evo_error_errno(err, "cannot read %s", path);
	json_t *doc = NULL;
	if (toml_parse(text, len, path, &doc, err) < 0)
		return -1;
	json_t *spawn = json_object();
	int r = agent_toml_to_spawn(doc, spawn, err);
	json_decref(doc);
	if (r < 0) {
		json_decref(spawn);
		return evo_error_prefix(err, "%s", path);
	}
	static const struct {
		const char *field, *env;
	} map[] = {
		{"agent_id", "EVOCLAW_AGENT_ID"}, {"agent_type", "EVOCLAW_AGENT_TYPE"},
		{"mqtt_broker", "MQTT_BROKER"},   {"task", "EVOCLAW_TASK"},
	};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
		json_t *v = json_object_get(spawn, map[i].field);
		if (json_is_string(v))
			default_env(map[i].env, json_string_value(v));
	}
	json_t *port = json_object_get(spawn, "mqtt_port");
	if (json_is_integer(port)) {
		char text_port[24];
		snprintf(text_port, sizeof text_port, "%lld", (long long)json_integer_value(port));
		default_env("MQTT_PORT", text_port);
	}
	json_t *genome = json_object_get(spawn, "genome");
	if (genome) {
		char *g = json_dumps(genome, JSON_COMPACT | JSON_REAL_PRECISION(17));
		if (g)
			default_env("EVOCLAW_GENOME", g);
		free(g);
	}
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(spawn, "env"), k, v)
		if (json_is_string(v))
			default_env(k, json_string_value(v));
	json_decref(spawn);
	return 0;
}

int agent_config_load(const char *config_path, struct agent_config *c, struct evo_error *err)
{
	if (config_path && apply_toml(config_path, err) < 0)
		return -1;
	*c = (struct agent_config){
		.kind = AGENT_TRADER,
		.log_level = LOG_INFO,
		.paper_mode = true,
		.mqtt_port = 1883,
		.steps = 2000,
		.report_every = 100,
		.heartbeat_sec = 5,
		.sensor_interval_ms = 1000,
	};
	snprintf(c->market, sizeof c->market, "generated:1");
	if (gethostname(c->id, sizeof c->id) < 0 || c->id[0] == '\0')
		snprintf(c->id, sizeof c->id, "edge-agent");
	c->id[sizeof c->id - 1] = '\0';

	const char *type = getenv("EVOCLAW_AGENT_TYPE");
	if (type && *type) {
		if (strcmp(type, "trader") == 0)
			c->kind = AGENT_TRADER;
		else if (strcmp(type, "monitor") == 0)
			c->kind = AGENT_MONITOR;
		else if (strcmp(type, "sensor") == 0)
			c->kind = AGENT_SENSOR;
		else if (strcmp(type, "researcher") == 0 || strcmp(type, "coder") == 0 ||
			 strcmp(type, "analyst") == 0 || strcmp(type, "tester") == 0)
			c->kind = AGENT_STANDBY;
		else
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "EVOCLAW_AGENT_TYPE: \"%.32s\" is not an agent type "
					     "(trader, monitor, sensor; researcher, coder, analyst "
					     "and tester stand by)",
					     type);
	}
	const char *level = getenv("EVOCLAW_LOG_LEVEL");
	if (level && *level) {
		size_t i = 0;
		while (i < 4 && strcasecmp(level, agent_log_level_names[i]) != 0)
			i++;
		if (i == 4)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "EVOCLAW_LOG_LEVEL: \"%.16s\" is not debug, info, warn or error",
					     level);
		c->log_level = (enum agent_log_level)i;
	}
	const char *genome = getenv("EVOCLAW_GENOME");
	if (genome && *genome && strcmp(genome, "{}") != 0) {
		if (genome_parse(genome, "EVOCLAW_GENOME", &c->genome, err) < 0)
			return -1;
	} else {
		genome_default(GENOME_MOMENTUM, &c->genome);
	}
	if (copy_env("EVOCLAW_AGENT_ID", c->id, sizeof c->id, err) < 0 ||
	    copy_env("ORCHESTRATOR_URL", c->orchestrator_url, sizeof c->orchestrator_url, err) < 0 ||
	    copy_env("EVOCLAW_AGENT_TOKEN", c->token, sizeof c->token, err) < 0 ||
	    copy_env("MQTT_BROKER", c->mqtt_broker, sizeof c->mqtt_broker, err) < 0 ||
	    copy_env("MQTT_USERNAME", c->mqtt_username, sizeof c->mqtt_username, err) < 0 ||
	    copy_env("MQTT_PASSWORD", c->mqtt_password, sizeof c->mqtt_password, err) < 0 ||
	    copy_env("EVOCLAW_MARKET", c->market, sizeof c->market, err) < 0 ||
	    uint_env("MQTT_PORT", 0, 65535, &c->mqtt_port, err) < 0 ||
	    uint_env("EVOCLAW_STEPS", 2, 10000000, &c->steps, err) < 0 ||
	    uint_env("EVOCLAW_STEP_MS", 0, 3600000, &c->step_ms, err) < 0 ||
	    uint_env("EVOCLAW_REPORT_EVERY", 1, 10000000, &c->report_every, err) < 0 ||
	    uint_env("EVOCLAW_HEARTBEAT_SEC", 1, 3600, &c->heartbeat_sec, err) < 0 ||
	    uint_env("EVOCLAW_SENSOR_INTERVAL_MS", 10, 3600000, &c->sensor_interval_ms, err) < 0 ||
	    uint_env("EVOCLAW_SENSOR_READINGS", 0, 100000000, &c->sensor_readings, err) < 0 ||
	    price_env("EVOCLAW_MONITOR_ABOVE", &c->monitor_above, err) < 0 ||
	    price_env("EVOCLAW_MONITOR_BELOW", &c->monitor_below, err) < 0 ||
	    bool_env("EVOCLAW_PAPER_MODE", &c->paper_mode, err) < 0)
		return -1;
	/* A broker named by a path is a unix socket (in a sandbox, its
	 * orchestrator's relay), which libmosquitto reaches with port 0. */
	if (c->mqtt_broker[0] == '/')
		c->mqtt_port = 0;
	else if (c->mqtt_broker[0] && c->mqtt_port == 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "MQTT_PORT: 0 is only for a broker at a unix socket path");
	if (c->id[0] == '\0' || strpbrk(c->id, "/+#") != NULL)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "EVOCLAW_AGENT_ID: \"%.63s\" cannot name MQTT topics (no /, + or #)",
				     c->id);
	/* Standing by is only useful to someone listening: without a report
	 * channel such an agent would idle forever, unseen. */
	if (c->kind == AGENT_STANDBY && !c->mqtt_broker[0] && !c->orchestrator_url[0])
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "EVOCLAW_AGENT_TYPE=%s stands by reporting heartbeats, but neither "
				     "MQTT_BROKER nor ORCHESTRATOR_URL is set",
				     type);
	/* Live trading is not in scope: an agent told to trade real money
	 * refuses rather than pretending. */
	if (c->kind == AGENT_TRADER && !c->paper_mode)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "EVOCLAW_PAPER_MODE=false: live trading is not supported by this "
				     "agent; it only paper-trades (set EVOCLAW_PAPER_MODE=true)");
	return 0;
}
