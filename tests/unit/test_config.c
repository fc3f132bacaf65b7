#include <criterion/criterion.h>
#include <stdio.h>
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

/* A config each case refuses, and what its message must say. */
struct refusal {
	const char *json, *want;
};

static void expect_refusals(const struct refusal *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct evo_config c;
		struct evo_error err = {0};
		cr_expect_eq(parse(&c, cases[i].json, &err), -1, "case %zu accepted: %s", i, cases[i].json);
		cr_expect_eq(err.kind, EVO_ERR_INVALID, "case %zu", i);
		cr_expect(strstr(err.msg, cases[i].want) != NULL, "case %zu: want \"%s\" in \"%s\"", i,
			  cases[i].want, err.msg);
		cr_expect(strncmp(err.msg, "evoclaw.json:", 13) == 0, "case %zu names the file: %s", i,
			  err.msg);
	}
}

Test(config, errors_name_the_json_path)
{
	static const struct refusal cases[] = {
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
	expect_refusals(cases, sizeof cases / sizeof *cases);
}

static const char *fake_env(const char *name)
{
	if (strcmp(name, "EVOCLAW_LISTEN") == 0)
		return "[::1]:9999";
	if (strcmp(name, "E2B_API_KEY") == 0)
		return "e2b_secret";
	if (strcmp(name, "HYPERLIQUID_API_KEY") == 0)
		return "hl_key";
	if (strcmp(name, "HYPERLIQUID_API_SECRET") == 0)
		return "hl_secret";
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
	cr_expect_str_eq(c.agents.hyperliquid_api_key, "hl_key");
	cr_expect_str_eq(c.agents.hyperliquid_api_secret, "hl_secret");
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

Test(config, e2b_keys_default)
{
	struct evo_config c;
	config_defaults(&c);
	cr_expect_str_eq(c.cloud.e2b_api_url, "https://api.e2b.app");
	cr_expect_str_eq(c.cloud.e2b_sandbox_url, "", "envd is reached by domain");
	cr_expect_str_eq(c.cloud.e2b_domain, "e2b.app");
	cr_expect_str_eq(c.cloud.e2b_agent_command, "/usr/local/bin/evoclaw-agent");
	cr_expect_eq(c.cloud.e2b_vcpus, 2);
	cr_expect_eq(c.cloud.e2b_memory_mb, 512);
	cr_expect_eq(c.cloud.e2b_reconcile_sec, 60);
	cr_expect_str_eq(c.cloud.public_url, "");
	cr_expect_float_eq(c.pricing.e2b_usd_per_sec, 0.0001, 1e-12);
	cr_expect_float_eq(c.pricing.e2b_vcpu_usd_per_sec, 0.0, 1e-15);
	cr_expect_float_eq(c.pricing.e2b_gib_usd_per_sec, 0.0, 1e-15);
	cr_expect_str_eq(c.mqtt.public_broker, "", "the same as broker");
	cr_expect_eq(c.mqtt.public_port, 0, "the same as port");
}

Test(config, e2b_keys_parse)
{
	struct evo_config c;
	struct evo_error err = {0};
	int r = parse(&c,
		      "{\"cloud\": {\"provider\": \"e2b\", \"e2bSandboxUrl\": \"http://127.0.0.1:49983\","
		      " \"e2bDomain\": \"sandbox.example\", \"e2bAgentCommand\": \"/opt/agent --x\","
		      " \"e2bVcpus\": 8, \"e2bMemoryMb\": 2048, \"e2bReconcileSec\": 5,"
		      " \"publicUrl\": \"https://orch.example:8443\"},"
		      " \"pricing\": {\"e2bUsdPerSec\": 0.00002, \"e2bVcpuUsdPerSec\": 0.000014,"
		      " \"e2bGibUsdPerSec\": 4.5e-6},"
		      " \"mqtt\": {\"broker\": \"localhost\", \"publicBroker\": \"mqtt.example\","
		      " \"publicPort\": 8883}}",
		      &err);
	cr_assert_eq(r, 0, "%s", err.msg);
	cr_expect_str_eq(c.cloud.e2b_sandbox_url, "http://127.0.0.1:49983");
	cr_expect_str_eq(c.cloud.e2b_domain, "sandbox.example");
	cr_expect_str_eq(c.cloud.e2b_agent_command, "/opt/agent --x");
	cr_expect_eq(c.cloud.e2b_vcpus, 8);
	cr_expect_eq(c.cloud.e2b_memory_mb, 2048);
	cr_expect_eq(c.cloud.e2b_reconcile_sec, 5);
	cr_expect_str_eq(c.cloud.public_url, "https://orch.example:8443");
	cr_expect_float_eq(c.pricing.e2b_usd_per_sec, 0.00002, 1e-15);
	cr_expect_float_eq(c.pricing.e2b_vcpu_usd_per_sec, 0.000014, 1e-15);
	cr_expect_float_eq(c.pricing.e2b_gib_usd_per_sec, 4.5e-6, 1e-15);
	cr_expect_str_eq(c.mqtt.broker, "localhost");
	cr_expect_str_eq(c.mqtt.public_broker, "mqtt.example");
	cr_expect_eq(c.mqtt.public_port, 8883);
	cr_expect_eq(c.mqtt.port, 1883, "the local port keeps its default");

	/* The bounds themselves are accepted; integers are numbers too. */
	cr_assert_eq(parse(&c,
			   "{\"cloud\": {\"e2bVcpus\": 64, \"e2bMemoryMb\": 128, \"e2bReconcileSec\": 3600},"
			   " \"pricing\": {\"e2bUsdPerSec\": 0, \"e2bGibUsdPerSec\": 1},"
			   " \"mqtt\": {\"publicPort\": 65535}}",
			   &err),
		     0, "%s", err.msg);
	cr_expect_eq(c.cloud.e2b_vcpus, 64);
	cr_expect_eq(c.cloud.e2b_memory_mb, 128);
	cr_expect_eq(c.cloud.e2b_reconcile_sec, 3600);
	cr_expect_float_eq(c.pricing.e2b_usd_per_sec, 0.0, 1e-15);
	cr_expect_float_eq(c.pricing.e2b_gib_usd_per_sec, 1.0, 1e-15);
	cr_expect_eq(c.mqtt.public_port, 65535);
}

Test(config, e2b_key_errors_name_the_json_path)
{
	char long_url[CONFIG_STRING_MAX + 64];
	snprintf(long_url, sizeof long_url, "{\"cloud\": {\"publicUrl\": \"%0*d\"}}",
		 CONFIG_STRING_MAX, 0);
	const struct refusal cases[] = {
		{"{\"cloud\": {\"e2bSandboxUrl\": 1}}", "cloud.e2bSandboxUrl: must be a string"},
		{"{\"cloud\": {\"e2bDomain\": null}}", "cloud.e2bDomain: must be a string"},
		{"{\"cloud\": {\"e2bAgentCommand\": [\"/bin/agent\"]}}",
		 "cloud.e2bAgentCommand: must be a string"},
		{"{\"cloud\": {\"publicUrl\": true}}", "cloud.publicUrl: must be a string"},
		{long_url, "cloud.publicUrl: must be shorter than"},
		{"{\"cloud\": {\"e2bVcpus\": 0}}", "cloud.e2bVcpus: must be an integer from 1 to 64"},
		{"{\"cloud\": {\"e2bVcpus\": 65}}", "cloud.e2bVcpus: must be an integer from 1 to 64"},
		{"{\"cloud\": {\"e2bVcpus\": 2.5}}", "cloud.e2bVcpus: must be an integer"},
		{"{\"cloud\": {\"e2bMemoryMb\": 127}}", "cloud.e2bMemoryMb: must be an integer from 128"},
		{"{\"cloud\": {\"e2bMemoryMb\": \"512\"}}", "cloud.e2bMemoryMb: must be an integer"},
		{"{\"cloud\": {\"e2bReconcileSec\": 0}}",
		 "cloud.e2bReconcileSec: must be an integer from 1 to 3600"},
		{"{\"cloud\": {\"e2bReconcileSec\": 3601}}", "cloud.e2bReconcileSec"},
		{"{\"cloud\": {\"e2bReconcileSecs\": 5}}", "cloud.e2bReconcileSecs: unknown key"},
		{"{\"pricing\": {\"e2bUsdPerSec\": -0.1}}",
		 "pricing.e2bUsdPerSec: must be a number from 0 to 1e12"},
		{"{\"pricing\": {\"e2bUsdPerSec\": \"0.1\"}}", "pricing.e2bUsdPerSec: must be a number"},
		{"{\"pricing\": {\"e2bVcpuUsdPerSec\": -1}}", "pricing.e2bVcpuUsdPerSec: must be a number"},
		{"{\"pricing\": {\"e2bGibUsdPerSec\": 1e13}}", "pricing.e2bGibUsdPerSec: must be a number"},
		{"{\"pricing\": {\"e2bGibUsdPerSec\": false}}", "pricing.e2bGibUsdPerSec"},
		{"{\"mqtt\": {\"publicBroker\": 5}}", "mqtt.publicBroker: must be a string"},
		{"{\"mqtt\": {\"publicPort\": 0}}", "mqtt.publicPort: must be an integer from 1 to 65535"},
		{"{\"mqtt\": {\"publicPort\": 65536}}", "mqtt.publicPort: must be an integer from 1 to 65535"},
		{"{\"mqtt\": {\"publicPort\": \"8883\"}}", "mqtt.publicPort: must be an integer"},
	};
	expect_refusals(cases, sizeof cases / sizeof *cases);
}

Test(config, agents_section)
{
	struct evo_config c;
	struct evo_error err = {0};
	config_defaults(&c);
	cr_expect_str_eq(c.agents.log_level, "info");
	cr_expect_str_eq(c.agents.hyperliquid_api_key, "");
	cr_assert_eq(parse(&c,
			   "{\"agents\": {\"logLevel\": \"debug\", \"hyperliquidApiKey\": \"k\", "
			   "\"hyperliquidApiSecret\": \"s\"}}",
			   &err),
		     0, "%s", err.msg);
	cr_expect_str_eq(c.agents.log_level, "debug");
	cr_expect_str_eq(c.agents.hyperliquid_api_key, "k");
	cr_expect_str_eq(c.agents.hyperliquid_api_secret, "s");
	cr_expect_eq(parse(&c, "{\"agents\": {\"logLevel\": \"loud\"}}", &err), -1);
	cr_expect(strstr(err.msg, "agents.logLevel") != NULL, "%s", err.msg);
	cr_expect_eq(parse(&c, "{\"agents\": {\"paperMode\": false}}", &err), -1);
	cr_expect(strstr(err.msg, "agents.paperMode: unknown key") != NULL, "%s", err.msg);
}
