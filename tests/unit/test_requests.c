/* Request bodies of the agent routes: typed, validated, errors naming the
 * field. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "api/json_input.h"
#include "api/requests.h"

static struct evo_config cfg;

static void setup(void)
{
	config_defaults(&cfg);
}

static int parse(bool deploy, const char *text, struct spawn_request *r, struct evo_error *err)
{
	json_t *body = json_loads(text, 0, NULL);
	cr_assert_not_null(body, "bad test JSON: %s", text);
	int rc = deploy ? request_parse_agents_deploy(body, &cfg, r, err)
			: request_parse_cloud_spawn(body, &cfg, r, err);
	json_decref(body);
	return rc;
}

static void expect_refused(bool deploy, const char *text, const char *message)
{
	struct spawn_request r;
	struct evo_error err = {0};
	cr_assert_eq(parse(deploy, text, &r, &err), -1, "accepted: %s", text);
	cr_expect_eq(err.kind, EVO_ERR_INVALID);
	cr_expect(strstr(err.msg, message) != NULL, "for %s: want \"%s\" in \"%s\"", text, message,
		  err.msg);
}

Test(requests, cloud_spawn_every_field, .init = setup)
{
	struct spawn_request r;
	struct evo_error err = {0};
	cr_assert_eq(parse(false,
			   "{\"template_id\":\"base\",\"agent_id\":\"trader-1\",\"agent_type\":\"trader\","
			   "\"task\":\"t\",\"command\":[\"sh\",\"-c\",\"x\"],\"mqtt_broker\":\"b\","
			   "\"mqtt_port\":1884,\"timeout_sec\":60,\"genome\":{\"z\":1,\"a\":2},"
			   "\"env\":{\"K\":\"v\"},\"keep_alive\":true}",
			   &r, &err),
		     0, "%s", err.msg);
	const struct orch_spawn *s = &r.spawn;
	cr_expect_str_eq(s->template_name, "base");
	cr_expect_str_eq(s->id, "trader-1");
	cr_expect_str_eq(s->agent_type, "trader");
	cr_expect_str_eq(s->task, "t");
	cr_expect_str_eq(s->command_json, "[\"sh\",\"-c\",\"x\"]");
	cr_expect_str_eq(s->mqtt_broker, "b");
	cr_expect_eq(s->mqtt_port, 1884);
	cr_expect_eq(s->timeout_sec, 60);
	cr_expect_str_eq(s->genome_json, "{\"a\":2,\"z\":1}");
	cr_expect_str_eq(s->env_json, "{\"K\":\"v\"}");
	cr_expect(s->keep_alive);
	request_free(&r);
}

Test(requests, defaults_and_nulls, .init = setup)
{
	struct spawn_request r;
	struct evo_error err = {0};
	cr_assert_eq(parse(false, "{\"template_id\":null}", &r, &err), 0, "%s", err.msg);
	cr_expect_str_eq(r.spawn.agent_type, "trader");
	cr_expect_null(r.spawn.template_name);
	cr_expect_null(r.spawn.id);
	cr_expect_eq(r.spawn.timeout_sec, 0); /* the orchestrator's default */
	request_free(&r);
	cr_assert_eq(parse(true, "{\"agent_name\":\"n\"}", &r, &err), 0, "%s", err.msg);
	cr_expect_str_eq(r.spawn.agent_type, "coder");
	cr_expect_str_eq(r.spawn.name, "n");
	request_free(&r);
}

Test(requests, deploy_config, .init = setup)
{
	struct spawn_request r;
	struct evo_error err = {0};
	cr_assert_eq(parse(true,
			   "{\"agent_name\":\"n\",\"capabilities\":[\"web\",\"code\"],"
			   "\"environment\":{\"A_1\":\"x\"},\"config\":{\"timeout\":5,"
			   "\"command\":[\"true\"],\"keep_alive\":true}}",
			   &r, &err),
		     0, "%s", err.msg);
	cr_expect_eq(r.spawn.timeout_sec, 5);
	cr_expect_str_eq(r.spawn.command_json, "[\"true\"]");
	cr_expect_str_eq(r.spawn.capabilities_json, "[\"web\",\"code\"]");
	cr_expect(r.spawn.keep_alive);
	request_free(&r);
}

Test(requests, errors_name_the_field, .init = setup)
{
	expect_refused(false, "{\"timeout_sec\":\"10\"}", "timeout_sec: must be an integer from 1 to 86400");
	expect_refused(false, "{\"timeout_sec\":0}", "timeout_sec:");
	expect_refused(false, "{\"timeout_sec\":86401}", "timeout_sec:");
	expect_refused(false, "{\"agent_type\":\"wizard\"}", "agent_type: \"wizard\" is not an agent type");
	expect_refused(false, "{\"agent_id\":\".hidden\"}", "agent_id:");
	expect_refused(false, "{\"agent_id\":\"a/b\"}", "agent_id:");
	expect_refused(false, "{\"agent_id\":\"\"}", "agent_id: must be 1 to 63");
	expect_refused(false, "{\"command\":[]}", "command: must be an array of 1 to 256 strings");
	expect_refused(false, "{\"command\":[\"ok\",\"\"]}", "command[1]:");
	expect_refused(false, "{\"env\":{\"A-B\":\"x\"}}", "env.A-B: not a variable name");
	expect_refused(false, "{\"env\":{\"A\":1}}", "env.A: must be a string");
	expect_refused(false, "{\"mqtt_port\":70000}", "mqtt_port:");
	expect_refused(false, "{\"genome\":\"fast\"}", "genome: must be an object");
	expect_refused(false, "{\"keep_alive\":1}", "keep_alive: must be true or false");
	expect_refused(false, "{\"task\":\"a\\u0001b\"}", "task:");
	expect_refused(false, "{\"colour\":1}", "colour: unknown field");
	expect_refused(true, "{}", "agent_name: required");
	expect_refused(true, "{\"agent_name\":\"n\",\"config\":[]}", "config: must be an object");
	expect_refused(true, "{\"agent_name\":\"n\",\"config\":{\"x\":1}}", "config.x: unknown field");
	expect_refused(true, "{\"agent_name\":\"n\",\"config\":{\"timeout\":-5}}", "config.timeout:");
	expect_refused(true, "{\"agent_name\":\"n\",\"capabilities\":[1]}", "capabilities[0]:");
}

Test(requests, max_lifetime_bounds_the_timeout, .init = setup)
{
	cfg.cloud.max_lifetime_sec = 100;
	expect_refused(false, "{\"timeout_sec\":101}", "from 1 to 100");
	expect_refused(true, "{\"agent_name\":\"n\",\"config\":{\"timeout\":101}}", "from 1 to 100");
}

Test(requests, register_a_tenant, .init = setup)
{
	struct register_request rr;
	struct evo_error err = {0};
	json_t *ok = json_loads("{\"email\":\"a@b.co\",\"max_agents\":2,\"credit_limit_usd\":1.5}", 0,
				NULL);
	cr_assert_eq(request_parse_register(ok, &cfg, &rr, &err), 0, "%s", err.msg);
	cr_expect_str_eq(rr.email, "a@b.co");
	cr_expect_eq(rr.max_agents, 2);
	cr_expect_eq(rr.credit_limit, 1500000);
	json_decref(ok);
	const char *bad[][2] = {
		{"{\"max_agents\":2,\"credit_limit_usd\":1}", "email: required"},
		{"{\"email\":\"a b@c.d\",\"max_agents\":2,\"credit_limit_usd\":1}", "email: not"},
		{"{\"email\":\"a@b.co\",\"credit_limit_usd\":1}", "max_agents: required"},
		{"{\"email\":\"a@b.co\",\"max_agents\":11,\"credit_limit_usd\":1}", "max_agents"},
		{"{\"email\":\"a@b.co\",\"max_agents\":1,\"credit_limit_usd\":0}", "credit_limit_usd"},
		{"{\"email\":\"a@b.co\",\"max_agents\":1,\"credit_limit_usd\":1,\"x\":1}", "x: unknown"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *b = json_loads(bad[i][0], 0, NULL);
		cr_assert_eq(request_parse_register(b, &cfg, &rr, &err), -1, "accepted %s", bad[i][0]);
		cr_expect(strstr(err.msg, bad[i][1]) != NULL, "%s: %s", bad[i][0], err.msg);
		json_decref(b);
	}
}

Test(requests, the_field_an_error_names)
{
	char field[64];
	static const struct {
		const char *message, *field;
	} named[] = {
		{"agent_name: must be 1 to 127 characters", "agent_name"},
		{"config.timeout: must be an integer", "config.timeout"},
		{"capabilities[1]: must be a string", "capabilities[1]"},
		{"a.b[0].c_2: x", "a.b[0].c_2"},
		{"environment.BAD NAME: not a variable name", "environment.BAD NAME"},
	};
	for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
		cr_expect(json_input_error_field(named[i].message, field, sizeof field), "%s",
			  named[i].message);
		cr_expect_str_eq(field, named[i].field);
	}
	static const char *const unnamed[] = {
		"body is not valid JSON: x", "body must be a JSON object", "no agent x", ": x",
		"a.: x", "a[]: x", "a[1: x", "1a: x", "a:x", "Content-Type: x", "",
	};
	for (size_t i = 0; i < sizeof unnamed / sizeof *unnamed; i++)
		cr_expect_not(json_input_error_field(unnamed[i], field, sizeof field), "%s",
			      unnamed[i]);
	char small[4];
	cr_expect_not(json_input_error_field("agent_name: x", small, sizeof small));
}
