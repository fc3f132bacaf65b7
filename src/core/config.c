#include "core/config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_defaults(struct evo_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen, sizeof c->listen, "127.0.0.1:8420");
	snprintf(c->data_dir, sizeof c->data_dir, "./data");
	c->cloud.enabled = true;
	snprintf(c->cloud.provider, sizeof c->cloud.provider, "local");
	snprintf(c->cloud.default_template, sizeof c->cloud.default_template, "evoclaw-agent");
	c->cloud.max_agents = 10;
	c->cloud.credit_budget_usd = 50.0;
	c->cloud.default_timeout_sec = 600;
	c->cloud.max_lifetime_sec = 86400;
	c->cloud.spend_sample_sec = 60;
	c->pricing.sandbox_usd_per_sec = 0.0001;
	c->pricing.usd_per_token = 0.0001;
	c->pricing.e2b_usd_per_sec = 0.0001;
	snprintf(c->cloud.e2b_api_url, sizeof c->cloud.e2b_api_url, "https://api.e2b.app");
	snprintf(c->cloud.e2b_domain, sizeof c->cloud.e2b_domain, "e2b.app");
	snprintf(c->cloud.e2b_agent_command, sizeof c->cloud.e2b_agent_command,
		 "/usr/local/bin/evoclaw-agent");
	c->cloud.e2b_vcpus = 2;
	c->cloud.e2b_memory_mb = 512;
	c->cloud.e2b_reconcile_sec = 60;
	snprintf(c->agents.log_level, sizeof c->agents.log_level, "info");
	c->mqtt.port = 1883;
	c->auth_mode = CONFIG_AUTH_KEY;
	/* Far above what a person or an SDK does, well below a flood. */
	c->limits.key_per_sec = 200;
	c->limits.key_burst = 2000;
	c->limits.ip_per_sec = 400;
	c->limits.ip_burst = 4000;
	/* The e2b SDK alone opens ~310 to one server (spec §2). */
	c->limits.connections_per_ip = 600;
	c->limits.idle_timeout_sec = 30;
}

static int path_error(struct evo_error *err, const char *source, const char *path,
		      const char *what)
{
	return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: %s: %s", source, path, what);
}

/* A table of what an object may hold: its keys and how to read each. */
enum field_kind { F_STRING, F_BOOL, F_UINT, F_MONEY, F_OBJECT };

struct field {
	const char *key;
	enum field_kind kind;
	void *target;
	size_t size;        /* F_STRING: buffer size */
	uint64_t min, max;  /* F_UINT */
	const struct field *children; /* F_OBJECT */
	const char *const *choices;   /* F_STRING: allowed values, NULL = any */
};

static int read_object(json_t *obj, const char *prefix, const struct field *fields,
		       const char *source, struct evo_error *err);

static int read_field(json_t *v, const char *path, const struct field *f, const char *source,
		      struct evo_error *err)
{
	char what[160];
	switch (f->kind) {
	case F_STRING: {
		if (!json_is_string(v))
			return path_error(err, source, path, "must be a string");
		const char *s = json_string_value(v);
		if (strlen(s) >= f->size) {
			snprintf(what, sizeof what, "must be shorter than %zu characters", f->size);
			return path_error(err, source, path, what);
		}
		if (f->choices) {
			bool ok = false;
			for (const char *const *c = f->choices; *c; c++)
				ok = ok || strcmp(*c, s) == 0;
			if (!ok) {
				size_t n = (size_t)snprintf(what, sizeof what, "must be one of");
				for (const char *const *c = f->choices; *c && n < sizeof what; c++)
					n += (size_t)snprintf(what + n, sizeof what - n, " \"%s\"", *c);
				return path_error(err, source, path, what);
			}
		}
		snprintf(f->target, f->size, "%s", s);
		return 0;
	}
	case F_BOOL:
		if (!json_is_boolean(v))
			return path_error(err, source, path, "must be true or false");
		*(bool *)f->target = json_is_true(v);
		return 0;
	case F_UINT:
		if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)f->min ||
		    (uint64_t)json_integer_value(v) > f->max) {
			snprintf(what, sizeof what, "must be an integer from %llu to %llu",
				 (unsigned long long)f->min, (unsigned long long)f->max);
			return path_error(err, source, path, what);
		}
		*(uint32_t *)f->target = (uint32_t)json_integer_value(v);
		return 0;
	case F_MONEY:
		/* Money and rates: a non-negative number, integer or real. */
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1e12)
			return path_error(err, source, path, "must be a number from 0 to 1e12");
		*(double *)f->target = json_number_value(v);
		return 0;
	case F_OBJECT:
		if (!json_is_object(v))
			return path_error(err, source, path, "must be an object");
		return read_object(v, path, f->children, source, err);
	}
	return path_error(err, source, path, "unsupported");
}

static int read_object(json_t *obj, const char *prefix, const struct field *fields,
		       const char *source, struct evo_error *err)
{
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value) {
		char path[256];
		snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
		const struct field *f = fields;
		while (f->key && strcmp(f->key, key) != 0)
			f++;
		if (f->key == NULL)
			return path_error(err, source, path, "unknown key");
		if (read_field(value, path, f, source, err) < 0)
			return -1;
	}
	return 0;
}

int config_parse(struct evo_config *c, const char *json, size_t len, const char *source,
		 struct evo_error *err)
{
	static const char *const providers[] = {"local", "e2b", NULL};
	static const char *const auth_modes[] = {"key", "none", NULL};
	static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
	char auth_mode[16] = "";
	const struct field cloud[] = {
		{"enabled", F_BOOL, &c->cloud.enabled, 0, 0, 0, NULL, NULL},
		{"provider", F_STRING, c->cloud.provider, sizeof c->cloud.provider, 0, 0, NULL, providers},
		{"e2bApiKey", F_STRING, c->cloud.e2b_api_key, sizeof c->cloud.e2b_api_key, 0, 0, NULL, NULL},
		{"e2bApiUrl", F_STRING, c->cloud.e2b_api_url, sizeof c->cloud.e2b_api_url, 0, 0, NULL, NULL},
		{"e2bSandboxUrl", F_STRING, c->cloud.e2b_sandbox_url, sizeof c->cloud.e2b_sandbox_url, 0, 0, NULL, NULL},
		{"e2bDomain", F_STRING, c->cloud.e2b_domain, sizeof c->cloud.e2b_domain, 0, 0, NULL, NULL},
		{"e2bAgentCommand", F_STRING, c->cloud.e2b_agent_command, sizeof c->cloud.e2b_agent_command, 0, 0, NULL, NULL},
		{"e2bVcpus", F_UINT, &c->cloud.e2b_vcpus, 0, 1, 64, NULL, NULL},
		{"e2bMemoryMb", F_UINT, &c->cloud.e2b_memory_mb, 0, 128, 1u << 20, NULL, NULL},
		{"e2bReconcileSec", F_UINT, &c->cloud.e2b_reconcile_sec, 0, 1, 3600, NULL, NULL},
		{"publicUrl", F_STRING, c->cloud.public_url, sizeof c->cloud.public_url, 0, 0, NULL, NULL},
		{"defaultTemplate", F_STRING, c->cloud.default_template, sizeof c->cloud.default_template, 0, 0, NULL, NULL},
		{"maxAgents", F_UINT, &c->cloud.max_agents, 0, 0, 100000, NULL, NULL},
		{"creditBudgetUsd", F_MONEY, &c->cloud.credit_budget_usd, 0, 0, 0, NULL, NULL},
		{"defaultTimeoutSec", F_UINT, &c->cloud.default_timeout_sec, 0, 1, 31u * 24 * 3600, NULL, NULL},
		{"maxLifetimeSec", F_UINT, &c->cloud.max_lifetime_sec, 0, 1, 366u * 24 * 3600, NULL, NULL},
		{"spendSampleSec", F_UINT, &c->cloud.spend_sample_sec, 0, 1, 3600, NULL, NULL},
		{NULL, 0, NULL, 0, 0, 0, NULL, NULL},
	};
	const struct field pricing[] = {
		{"sandboxUsdPerSec", F_MONEY, &c->pricing.sandbox_usd_per_sec, 0, 0, 0, NULL, NULL},
		{"usdPerToken", F_MONEY, &c->pricing.usd_per_token, 0, 0, 0, NULL, NULL},
		{"e2bUsdPerSec", F_MONEY, &c->pricing.e2b_usd_per_sec, 0, 0, 0, NULL, NULL},
		{"e2bVcpuUsdPerSec", F_MONEY, &c->pricing.e2b_vcpu_usd_per_sec, 0, 0, 0, NULL, NULL},
		{"e2bGibUsdPerSec", F_MONEY, &c->pricing.e2b_gib_usd_per_sec, 0, 0, 0, NULL, NULL},
		{NULL, 0, NULL, 0, 0, 0, NULL, NULL},
	};
	const struct field mqtt[] = {
		{"broker", F_STRING, c->mqtt.broker, sizeof c->mqtt.broker, 0, 0, NULL, NULL},
		{"port", F_UINT, &c->mqtt.port, 0, 1, 65535, NULL, NULL},
		{"username", F_STRING, c->mqtt.username, sizeof c->mqtt.username, 0, 0, NULL, NULL},
		{"password", F_STRING, c->mqtt.password, sizeof c->mqtt.password, 0, 0, NULL, NULL},
		{"agentUsername", F_STRING, c->mqtt.agent_username, sizeof c->mqtt.agent_username, 0, 0, NULL, NULL},
		{"agentPassword", F_STRING, c->mqtt.agent_password, sizeof c->mqtt.agent_password, 0, 0, NULL, NULL},
		{"publicBroker", F_STRING, c->mqtt.public_broker, sizeof c->mqtt.public_broker, 0, 0, NULL, NULL},
		{"publicPort", F_UINT, &c->mqtt.public_port, 0, 1, 65535, NULL, NULL},
		{NULL, 0, NULL, 0, 0, 0, NULL, NULL},
	};
	const struct field agents[] = {
		{"logLevel", F_STRING, c->agents.log_level, sizeof c->agents.log_level, 0, 0, NULL, log_levels},
		{"hyperliquidApiKey", F_STRING, c->agents.hyperliquid_api_key, sizeof c->agents.hyperliquid_api_key, 0, 0, NULL, NULL},
		{"hyperliquidApiSecret", F_STRING, c->agents.hyperliquid_api_secret, sizeof c->agents.hyperliquid_api_secret, 0, 0, NULL, NULL},
		{NULL, 0, NULL, 0, 0, 0, NULL, NULL},
	};
	const struct field auth[] = {
		{"mode", F_STRING, auth_mode, sizeof auth_mode, 0, 0, NULL, auth_modes},
		{NULL, 0, NULL, 0, 0, 0, NULL, NULL},
	};
	const struct field saas[] = {
		{"openRegistration", F_BOOL, &c->saas.open_registration, 0, 0, 0, NULL, NULL},
		{NULL, 0, NULL, 0, 0, 0, NULL, NULL},
	};
	const struct field limits[] = {
		{"keyRequestsPerSec", F_UINT, &c->limits.key_per_sec, 0, 0, 1000000, NULL, NULL},
		{"keyBurst", F_UINT, &c->limits.key_burst, 0, 1, 10000000, NULL, NULL},
		{"ipRequestsPerSec", F_UINT, &c->limits.ip_per_sec, 0, 0, 1000000, NULL, NULL},
		{"ipBurst", F_UINT, &c->limits.ip_burst, 0, 1, 10000000, NULL, NULL},
		{"connectionsPerIp", F_UINT, &c->limits.connections_per_ip, 0, 1, 1024, NULL, NULL},
		{"idleTimeoutSec", F_UINT, &c->limits.idle_timeout_sec, 0, 1, 3600, NULL, NULL},
		{NULL, 0, NULL, 0, 0, 0, NULL, NULL},
	};
	const struct field root[] = {
		{"listen", F_STRING, c->listen, sizeof c->listen, 0, 0, NULL, NULL},
		{"dataDir", F_STRING, c->data_dir, sizeof c->data_dir, 0, 0, NULL, NULL},
		{"cloud", F_OBJECT, NULL, 0, 0, 0, cloud, NULL},
		{"pricing", F_OBJECT, NULL, 0, 0, 0, pricing, NULL},
		{"mqtt", F_OBJECT, NULL, 0, 0, 0, mqtt, NULL},
		{"agents", F_OBJECT, NULL, 0, 0, 0, agents, NULL},
		{"auth", F_OBJECT, NULL, 0, 0, 0, auth, NULL},
		{"saas", F_OBJECT, NULL, 0, 0, 0, saas, NULL},
		{"limits", F_OBJECT, NULL, 0, 0, 0, limits, NULL},
		{NULL, 0, NULL, 0, 0, 0, NULL, NULL},
	};

	json_error_t jerr;
	/* Money needs exact decimal input; jansson keeps doubles as given. */
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s:%d:%d: %s", source, jerr.line,
				     jerr.column, jerr.text);
	int r;
	if (!json_is_object(doc))
		r = path_error(err, source, "(root)", "must be an object");
	else
		r = read_object(doc, "", root, source, err);
	json_decref(doc);
	if (r == 0 && auth_mode[0])
		c->auth_mode = strcmp(auth_mode, "none") == 0 ? CONFIG_AUTH_NONE : CONFIG_AUTH_KEY;
	if (r == 0) {
		char host[CONFIG_STRING_MAX];
		uint16_t port;
		if (config_listen_address(c, host, sizeof host, &port, err) < 0)
			return evo_error_prefix(err, "%s: listen", source);
	}
	return r;
}

int config_apply_env(struct evo_config *c, const char *(*lookup)(const char *name),
		     struct evo_error *err)
{
	static const struct {
		const char *name;
		size_t offset, size;
	} vars[] = {
		{"E2B_API_KEY", offsetof(struct evo_config, cloud.e2b_api_key), CONFIG_STRING_MAX},
		{"HYPERLIQUID_API_KEY", offsetof(struct evo_config, agents.hyperliquid_api_key), CONFIG_STRING_MAX},
		{"HYPERLIQUID_API_SECRET", offsetof(struct evo_config, agents.hyperliquid_api_secret), CONFIG_STRING_MAX},
		{"EVOCLAW_LISTEN", offsetof(struct evo_config, listen), CONFIG_STRING_MAX},
		{"EVOCLAW_DATA_DIR", offsetof(struct evo_config, data_dir), CONFIG_STRING_MAX},
	};
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		const char *v = lookup(vars[i].name);
		if (v == NULL || *v == '\0')
			continue;
		if (strlen(v) >= vars[i].size)
			return evo_error_set(err, EVO_ERR_INVALID, 0, "%s is too long", vars[i].name);
		snprintf((char *)c + vars[i].offset, vars[i].size, "%s", v);
	}
	char host[CONFIG_STRING_MAX];
	uint16_t port;
	if (config_listen_address(c, host, sizeof host, &port, err) < 0)
		return evo_error_prefix(err, "EVOCLAW_LISTEN");
	return 0;
}

int config_listen_address(const struct evo_config *c, char *host, size_t host_size,
			  uint16_t *port, struct evo_error *err)
{
	const char *colon = strrchr(c->listen, ':');
	if (colon == NULL || colon == c->listen)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "\"%s\" is not HOST:PORT (e.g. 127.0.0.1:8420)", c->listen);
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || p < 1 || p > 65535)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "\"%s\": port must be 1 to 65535",
				     c->listen);
	size_t hlen = (size_t)(colon - c->listen);
	/* [::1]:8420 */
	const char *h = c->listen;
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= host_size)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "\"%s\": bad host", c->listen);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}
