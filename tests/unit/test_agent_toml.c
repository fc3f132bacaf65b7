#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/toml.h"
#include "core/agent_toml.h"

static json_t *parse_toml(const char *text)
{
	json_t *doc;
	struct evo_error err = {0};
	cr_assert_eq(toml_parse(text, strlen(text), "agent.toml", &doc, &err), 0, "%s", err.msg);
	return doc;
}

static json_t *parse_json(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);
	cr_assert_not_null(v, "bad JSON in the test: %s", jerr.text);
	return v;
}

/* toml mapped into a body that starts as flags_json must be want_json. */
static void expect_spawn(const char *toml, const char *flags_json, const char *want_json)
{
	json_t *doc = parse_toml(toml);
	json_t *spawn = parse_json(flags_json);
	json_t *want = parse_json(want_json);
	struct evo_error err = {0};
	cr_assert_eq(agent_toml_to_spawn(doc, spawn, &err), 0, "%s", err.msg);
	char *got = json_dumps(spawn, JSON_COMPACT | JSON_SORT_KEYS);
	cr_expect(json_equal(spawn, want), "%s\n got: %s\nwant: %s", toml, got, want_json);
	free(got);
	json_decref(want);
	json_decref(spawn);
	json_decref(doc);
}

/* toml must be refused with exactly want, and leave the body alone. */
static void expect_error(const char *toml, const char *want)
{
	json_t *doc = parse_toml(toml);
	json_t *spawn = parse_json("{\"task\": \"from a flag\"}");
	struct evo_error err = {0};
	cr_expect_eq(agent_toml_to_spawn(doc, spawn, &err), -1, "%s: accepted", toml);
	cr_expect_eq(err.kind, EVO_ERR_INVALID);
	cr_expect_str_eq(err.msg, want, "input: %s", toml);
	cr_expect_eq(json_object_size(spawn), 1, "an invalid file changed the body");
	json_decref(spawn);
	json_decref(doc);
}

static const char full[] =
	"# a whole agent.toml\n"
	"[agent]\n"
	"id = \"trader-01\"\n"
	"type = \"trader\"\n"
	"template = \"evoclaw-agent\"\n"
	"provider = \"e2b\"\n"
	"task = \"Watch BTC/USD\"\n"
	"command = [\"python3\", \"-m\", \"agent\"]\n"
	"timeout_sec = 3_600\n"
	"keep_alive = true\n"
	"\n"
	"[mqtt]\n"
	"broker = \"mqtt.local\"\n"
	"port = 1884\n"
	"username = \"agent\"\n"
	"password = 's3cret'\n"
	"\n"
	"[genome]\n"
	"risk = 0.25\n"
	"strategies = [\"momentum\"]\n"
	"limits = { max_position = 1000 }\n"
	"[genome.weights]\n"
	"rsi = 0.5\n"
	"\n"
	"[env]\n"
	"LOG_LEVEL = \"debug\"\n"
	"WORKERS = 4\n"
	"DRY_RUN = false\n"
	"RATIO = 1.5e-3\n"
	"WHOLE = 2.0\n"
	"WHEN = 1979-05-27\n";

Test(agent_toml, every_table_maps_to_the_spawn_body)
{
	expect_spawn(full, "{}",
		     "{\"agent_id\": \"trader-01\", \"agent_type\": \"trader\","
		     " \"template_id\": \"evoclaw-agent\", \"provider\": \"e2b\","
		     " \"task\": \"Watch BTC/USD\","
		     " \"command\": [\"python3\", \"-m\", \"agent\"], \"timeout_sec\": 3600,"
		     " \"keep_alive\": true, \"mqtt_broker\": \"mqtt.local\", \"mqtt_port\": 1884,"
		     " \"genome\": {\"risk\": 0.25, \"strategies\": [\"momentum\"],"
		     "   \"limits\": {\"max_position\": 1000}, \"weights\": {\"rsi\": 0.5}},"
		     " \"env\": {\"LOG_LEVEL\": \"debug\", \"WORKERS\": \"4\", \"DRY_RUN\": \"false\","
		     "   \"RATIO\": \"0.0015\", \"WHOLE\": \"2.0\", \"WHEN\": \"1979-05-27\","
		     "   \"MQTT_USERNAME\": \"agent\", \"MQTT_PASSWORD\": \"s3cret\"}}");
}

Test(agent_toml, every_key_is_optional)
{
	expect_spawn("", "{}", "{}");
	expect_spawn("[agent]\n[mqtt]\n[env]", "{}", "{}");
	expect_spawn("[agent]\ntask = \"t\"", "{}", "{\"task\": \"t\"}");
	expect_spawn("[genome]", "{}", "{\"genome\": {}}");
	expect_spawn("[mqtt]\npassword = \"p\"", "{}", "{\"env\": {\"MQTT_PASSWORD\": \"p\"}}");
}

Test(agent_toml, flags_already_in_the_body_win)
{
	expect_spawn(full,
		     "{\"agent_id\": \"from-flag\", \"timeout_sec\": 60, \"genome\": {\"g\": 1},"
		     " \"command\": [\"sh\"], \"env\": {\"LOG_LEVEL\": \"info\", \"EXTRA\": \"x\","
		     " \"MQTT_PASSWORD\": \"flag\"}}",
		     "{\"agent_id\": \"from-flag\", \"agent_type\": \"trader\","
		     " \"template_id\": \"evoclaw-agent\", \"provider\": \"e2b\","
		     " \"task\": \"Watch BTC/USD\","
		     " \"command\": [\"sh\"], \"timeout_sec\": 60,"
		     " \"keep_alive\": true, \"mqtt_broker\": \"mqtt.local\", \"mqtt_port\": 1884,"
		     " \"genome\": {\"g\": 1},"
		     " \"env\": {\"LOG_LEVEL\": \"info\", \"EXTRA\": \"x\", \"WORKERS\": \"4\","
		     "   \"DRY_RUN\": \"false\", \"RATIO\": \"0.0015\", \"WHOLE\": \"2.0\","
		     "   \"WHEN\": \"1979-05-27\", \"MQTT_USERNAME\": \"agent\","
		     "   \"MQTT_PASSWORD\": \"flag\"}}");
	/* An env that is not an object is the caller's, and stays. */
	expect_spawn("[env]\nA = \"1\"", "{\"env\": \"weird\"}", "{\"env\": \"weird\"}");
}

Test(agent_toml, the_body_does_not_share_values_with_the_document)
{
	json_t *doc = parse_toml(full);
	json_t *spawn = json_object();
	struct evo_error err = {0};
	cr_assert_eq(agent_toml_to_spawn(doc, spawn, &err), 0, "%s", err.msg);
	json_decref(doc);
	/* Freed document; the body must still be whole (ASan would catch a
	 * use after free). */
	char *text = json_dumps(spawn, JSON_COMPACT);
	cr_expect(strstr(text, "\"momentum\""));
	cr_expect(strstr(text, "\"LOG_LEVEL\":\"debug\""));
	free(text);
	json_decref(spawn);
}

Test(agent_toml, unknown_tables_and_keys_are_named)
{
	expect_error("[agent]\ntymeout_sec = 5",
		     "agent.toml: [agent].tymeout_sec: unknown key (known: id type template "
		     "provider task command timeout_sec keep_alive)");
	expect_error("[mqtt]\nhost = \"h\"",
		     "agent.toml: [mqtt].host: unknown key (known: broker port username password)");
	expect_error("[agnet]\nid = \"a\"",
		     "agent.toml: [agnet]: unknown table (known: [agent] [mqtt] [genome] [env])");
	expect_error("[agent.sub]", "agent.toml: [agent].sub: unknown key (known: id type "
				    "template provider task command timeout_sec keep_alive)");
	expect_error("name = \"x\"",
		     "agent.toml: name: unknown key (known tables: [agent] [mqtt] [genome] [env])");
	expect_error("agent = 5", "agent.toml: agent: must be a table");
	expect_error("env = [1]", "agent.toml: env: must be a table");
	expect_error("\"odd key\" = 1",
		     "agent.toml: \"odd key\": unknown key (known tables: [agent] [mqtt] [genome] [env])");
	expect_error("[agent]\n\"a\\nb\" = 1",
		     "agent.toml: [agent].\"a\\u000Ab\": unknown key (known: id type template "
		     "provider task command timeout_sec keep_alive)");
}

Test(agent_toml, wrong_types_are_named)
{
	expect_error("[agent]\ntimeout_sec = \"60\"",
		     "agent.toml: [agent].timeout_sec: must be an integer");
	expect_error("[agent]\ntimeout_sec = 1.5",
		     "agent.toml: [agent].timeout_sec: must be an integer");
	expect_error("[agent]\ntimeout_sec = 0", "agent.toml: [agent].timeout_sec: must be at least 1");
	expect_error("[agent]\nid = 7", "agent.toml: [agent].id: must be a string");
	expect_error("[agent]\ntype = [\"coder\"]", "agent.toml: [agent].type: must be a string");
	expect_error("[agent]\ntemplate = true", "agent.toml: [agent].template: must be a string");
	expect_error("[agent]\nprovider = 1", "agent.toml: [agent].provider: must be a string");
	expect_error("[agent]\ntask = {a = 1}", "agent.toml: [agent].task: must be a string");
	expect_error("[agent]\nkeep_alive = \"yes\"",
		     "agent.toml: [agent].keep_alive: must be true or false");
	expect_error("[agent]\ncommand = \"python3 -m agent\"",
		     "agent.toml: [agent].command: must be a non-empty array of strings (the argv)");
	expect_error("[agent]\ncommand = []",
		     "agent.toml: [agent].command: must be a non-empty array of strings (the argv)");
	expect_error("[agent]\ncommand = [\"sh\", 1]",
		     "agent.toml: [agent].command: must be a non-empty array of strings (the argv)");
	expect_error("[mqtt]\nport = 0", "agent.toml: [mqtt].port: must be from 1 to 65535");
	expect_error("[mqtt]\nport = 65536", "agent.toml: [mqtt].port: must be from 1 to 65535");
	expect_error("[mqtt]\nport = \"1883\"", "agent.toml: [mqtt].port: must be an integer");
	expect_error("[mqtt]\nbroker = 1", "agent.toml: [mqtt].broker: must be a string");
	expect_error("[mqtt]\nusername = false", "agent.toml: [mqtt].username: must be a string");
}

Test(agent_toml, env_holds_text_under_valid_names)
{
	expect_spawn("[env]\nN = -12\nF = 0.1\nB = true\nBIG = 1e300\n_x9 = ''", "{}",
		     "{\"env\": {\"N\": \"-12\", \"F\": \"0.1\", \"B\": \"true\","
		     " \"BIG\": \"1e+300\", \"_x9\": \"\"}}");
	expect_error("[env]\nLIST = [1]", "agent.toml: [env].LIST: must be a string, number or boolean");
	expect_error("[env]\nT = {a = 1}", "agent.toml: [env].T: must be a string, number or boolean");
	expect_error("[env]\n\"A=B\" = \"x\"",
		     "agent.toml: [env].\"A=B\": not an environment variable name (letters, digits "
		     "and _, not starting with a digit)");
	expect_error("[env]\n9LIVES = \"x\"",
		     "agent.toml: [env].9LIVES: not an environment variable name (letters, digits "
		     "and _, not starting with a digit)");
	expect_error("[env]\nMQTT_USERNAME = \"a\"\n[mqtt]\nusername = \"b\"",
		     "agent.toml: [mqtt].username: conflicts with [env].MQTT_USERNAME; set one "
		     "of them");
}

Test(agent_toml, arguments_that_are_not_objects)
{
	struct evo_error err = {0};
	json_t *obj = json_object(), *arr = json_array();
	cr_expect_eq(agent_toml_to_spawn(arr, obj, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_INTERNAL);
	cr_expect_eq(agent_toml_to_spawn(obj, arr, &err), -1);
	cr_expect_eq(agent_toml_to_spawn(NULL, obj, NULL), -1);
	json_decref(obj);
	json_decref(arr);
}
