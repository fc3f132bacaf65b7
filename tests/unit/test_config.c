#include <criterion/criterion.h>
#include <string.h>

#include "core/config.h"

static int parse(struct evo_config *c, const char *json, struct evo_error *err)
{
	config_defaults(c);
	return config_parse(c, json, strlen(json), "evoclaw.json", err);
}

Test(config, defaults_need_no_file)
{
	struct evo_config c;
	config_defaults(&c);
	cr_expect_str_eq(c.listen, "127.0.0.1:8420");
	cr_expect_str_eq(c.data_dir, "./data");
	cr_expect_str_eq(c.cloud.provider, "local");
	cr_expect_eq(c.cloud.max_agents, 10);
	cr_expect_float_eq(c.cloud.credit_budget_usd, 50.0, 1e-9);
	cr_expect_eq(c.auth_mode, CONFIG_AUTH_KEY);
	cr_expect_eq(c.mqtt.port, 1883);
}

Test(config, the_design_example_parses)
{
	struct evo_config c;
	struct evo_error err = {0};
	int r = parse(&c,
		      "{\"listen\": \"0.0.0.0:9000\", \"dataDir\": \"/var/lib/evoclaw\","
		      " \"cloud\": {\"enabled\": true, \"provider\": \"e2b\", \"e2bApiKey\": \"k\","
		      " \"e2bApiUrl\": \"http://x\", \"defaultTemplate\": \"base\", \"maxAgents\": 3,"
		      " \"creditBudgetUsd\": 12.5, \"defaultTimeoutSec\": 60, \"maxLifetimeSec\": 3600},"
		      " \"pricing\": {\"sandboxUsdPerSec\": 0.0002, \"usdPerToken\": 0},"
		      " \"mqtt\": {\"broker\": \"localhost\", \"port\": 1884}, \"auth\": {\"mode\": \"none\"}}",
		      &err);
	cr_assert_eq(r, 0, "%s", err.msg);
	cr_expect_str_eq(c.listen, "0.0.0.0:9000");
	cr_expect_str_eq(c.cloud.provider, "e2b");
	cr_expect_eq(c.cloud.max_agents, 3);
	cr_expect_float_eq(c.cloud.credit_budget_usd, 12.5, 1e-9);
	cr_expect_float_eq(c.pricing.sandbox_usd_per_sec, 0.0002, 1e-12);
	cr_expect_eq(c.mqtt.port, 1884);
	cr_expect_eq(c.auth_mode, CONFIG_AUTH_NONE);
	/* Keys not given keep their defaults. */
	struct evo_config d;
	cr_assert_eq(parse(&d, "{\"cloud\": {\"maxAgents\": 0}}", &err), 0, "%s", err.msg);
	cr_expect_eq(d.cloud.max_agents, 0);
	cr_expect_str_eq(d.listen, "127.0.0.1:8420");
}

Test(config, errors_name_the_json_path)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{"{", "evoclaw.json:1:"},
		{"[]", "(root): must be an object"},
		{"{\"colour\": 1}", "colour: unknown key"},
		{"{\"cloud\": {\"maxAgent\": 5}}", "cloud.maxAgent: unknown key"},
		{"{\"cloud\": {\"maxAgents\": \"5\"}}", "cloud.maxAgents: must be an integer"},
		{"{\"cloud\": {\"maxAgents\": -1}}", "cloud.maxAgents: must be an integer from 0"},
		{"{\"cloud\": {\"creditBudgetUsd\": \"50\"}}", "cloud.creditBudgetUsd: must be a number"},
		{"{\"cloud\": {\"creditBudgetUsd\": -1}}", "cloud.creditBudgetUsd"},
		{"{\"cloud\": {\"provider\": \"aws\"}}", "cloud.provider: must be one of \"local\" \"e2b\""},
		{"{\"cloud\": {\"enabled\": 1}}", "cloud.enabled: must be true or false"},
		{"{\"cloud\": []}", "cloud: must be an object"},
		{"{\"mqtt\": {\"port\": 70000}}", "mqtt.port"},
		{"{\"auth\": {\"mode\": \"maybe\"}}", "auth.mode"},
		{"{\"listen\": \"8420\"}", "listen"},
		{"{\"listen\": \"host:99999\"}", "port must be 1 to 65535"},
		{"{\"listen\": 8420}", "listen: must be a string"},
		{"{\"dataDir\": \"a\", \"dataDir\": \"b\"}", "duplicate"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct evo_config c;
		struct evo_error err = {0};
		cr_expect_eq(parse(&c, cases[i].json, &err), -1, "case %zu accepted: %s", i, cases[i].json);
		cr_expect_eq(err.kind, EVO_ERR_INVALID, "case %zu", i);
		cr_expect(strstr(err.msg, cases[i].want) != NULL, "case %zu: want \"%s\" in \"%s\"", i,
			  cases[i].want, err.msg);
	}
}

static const char *fake_env(const char *name)
{
	if (strcmp(name, "EVOCLAW_LISTEN") == 0)
		return "[::1]:9999";
	if (strcmp(name, "E2B_API_KEY") == 0)
		return "e2b_secret";
	return NULL;
}

static const char *bad_listen_env(const char *name)
{
	return strcmp(name, "EVOCLAW_LISTEN") == 0 ? "nonsense" : NULL;
}

Test(config, environment_overrides)
{
	struct evo_config c;
	struct evo_error err = {0};
	config_defaults(&c);
	cr_assert_eq(config_apply_env(&c, fake_env, &err), 0, "%s", err.msg);
	cr_expect_str_eq(c.listen, "[::1]:9999");
	cr_expect_str_eq(c.cloud.e2b_api_key, "e2b_secret");
	cr_expect_str_eq(c.data_dir, "./data");
	char host[64];
	uint16_t port;
	cr_assert_eq(config_listen_address(&c, host, sizeof host, &port, &err), 0, "%s", err.msg);
	cr_expect_str_eq(host, "::1");
	cr_expect_eq(port, 9999);
	config_defaults(&c);
	cr_expect_eq(config_apply_env(&c, bad_listen_env, &err), -1);
	cr_expect(strstr(err.msg, "EVOCLAW_LISTEN") != NULL, "%s", err.msg);
}

Test(config, saas_and_limits)
{
	struct evo_config c;
	struct evo_error err = {0};
	config_defaults(&c);
	cr_expect(!c.saas.open_registration);
	cr_expect_gt(c.limits.key_per_sec, 0, "limits are on by default");
	cr_assert_eq(parse(&c, "{\"saas\":{\"openRegistration\":true},"
			       "\"limits\":{\"keyRequestsPerSec\":0,\"ipBurst\":7}}",
			   &err),
		     0, "%s", err.msg);
	cr_expect(c.saas.open_registration);
	cr_expect_eq(c.limits.key_per_sec, 0, "0 turns a limit off");
	cr_expect_eq(c.limits.ip_burst, 7);
	cr_expect_eq(parse(&c, "{\"limits\":{\"ipBurst\":0}}", &err), -1);
	cr_expect(strstr(err.msg, "limits.ipBurst") != NULL, "%s", err.msg);
	cr_expect_eq(parse(&c, "{\"saas\":{\"open\":true}}", &err), -1);
	cr_expect(strstr(err.msg, "saas.open") != NULL, "%s", err.msg);
}
