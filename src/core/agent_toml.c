#include "core/agent_toml.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/toml.h"

enum value_kind { VALUE_STRING, VALUE_INTEGER, VALUE_BOOL, VALUE_ARGV };

/* One key of [agent] or [mqtt] and the body field it fills. */
struct key_rule {
	const char *key;
	const char *field; /* in the body, or in env when to_env */
	enum value_kind kind;
	bool to_env;
	json_int_t min, max; /* VALUE_INTEGER; max 0: no upper bound here */
};

/* The longest timeout depends on the server's maxLifetimeSec: it checks. */
static const struct key_rule agent_rules[] = {
	{"id", "agent_id", VALUE_STRING, false, 0, 0},
	{"type", "agent_type", VALUE_STRING, false, 0, 0},
	{"template", "template_id", VALUE_STRING, false, 0, 0},
	{"provider", "provider", VALUE_STRING, false, 0, 0},
	{"task", "task", VALUE_STRING, false, 0, 0},
	{"command", "command", VALUE_ARGV, false, 0, 0},
	{"timeout_sec", "timeout_sec", VALUE_INTEGER, false, 1, 0},
	{"keep_alive", "keep_alive", VALUE_BOOL, false, 0, 0},
	{NULL, NULL, 0, false, 0, 0},
};

static const struct key_rule mqtt_rules[] = {
	{"broker", "mqtt_broker", VALUE_STRING, false, 0, 0},
	{"port", "mqtt_port", VALUE_INTEGER, false, 1, 65535},
	{"username", "MQTT_USERNAME", VALUE_STRING, true, 0, 0},
	{"password", "MQTT_PASSWORD", VALUE_STRING, true, 0, 0},
	{NULL, NULL, 0, false, 0, 0},
};

static int key_error(struct evo_error *err, const char *table, const char *key, const char *what)
{
	char name[96];
	return evo_error_set(err, EVO_ERR_INVALID, 0, "agent.toml: [%s].%s: %s", table,
			     toml_key_text(key, name, sizeof name), what);
}

/* A copy of v, checked against rule. */
static int read_value(const char *table, const char *key, const json_t *v,
		      const struct key_rule *rule, json_t **out, struct evo_error *err)
{
	char what[96];
	switch (rule->kind) {
	case VALUE_STRING:
		if (!json_is_string(v))
			return key_error(err, table, key, "must be a string");
		break;
	case VALUE_INTEGER:
		if (!json_is_integer(v))
			return key_error(err, table, key, "must be an integer");
		if (json_integer_value(v) < rule->min ||
		    (rule->max != 0 && json_integer_value(v) > rule->max)) {
			if (rule->max != 0)
				snprintf(what, sizeof what, "must be from %" JSON_INTEGER_FORMAT
					 " to %" JSON_INTEGER_FORMAT, rule->min, rule->max);
			else
				snprintf(what, sizeof what, "must be at least %" JSON_INTEGER_FORMAT,
					 rule->min);
			return key_error(err, table, key, what);
		}
		break;
	case VALUE_BOOL:
		if (!json_is_boolean(v))
			return key_error(err, table, key, "must be true or false");
		break;
	case VALUE_ARGV: {
		bool ok = json_is_array(v) && json_array_size(v) > 0;
		for (size_t i = 0; ok && i < json_array_size(v); i++)
			ok = json_is_string(json_array_get(v, i));
		if (!ok)
			return key_error(err, table, key,
					 "must be a non-empty array of strings (the argv)");
		break;
	}
	}
	*out = json_deep_copy(v);
	return 0;
}

static int unknown_key(struct evo_error *err, const char *table, const char *key,
		       const struct key_rule *rules)
{
	char what[256];
	size_t n = (size_t)snprintf(what, sizeof what, "unknown key (known:");
	for (const struct key_rule *r = rules; r->key && n < sizeof what; r++)
		n += (size_t)snprintf(what + n, sizeof what - n, " %s", r->key);
	if (n < sizeof what)
		snprintf(what + n, sizeof what - n, ")");
	return key_error(err, table, key, what);
}

/* [agent] or [mqtt] into body and env. */
static int read_table(const json_t *table, const char *name, const struct key_rule *rules,
		      json_t *body, json_t *env, struct evo_error *err)
{
	const char *key;
	json_t *value;
	/* jansson iterates only non-const objects; nothing here writes. */
	json_object_foreach((json_t *)table, key, value) {
		const struct key_rule *rule = rules;
		while (rule->key && strcmp(rule->key, key) != 0)
			rule++;
		if (rule->key == NULL)
			return unknown_key(err, name, key, rules);
		json_t *copy = NULL;
		if (read_value(name, key, value, rule, &copy, err) < 0)
			return -1;
		json_t *dest = rule->to_env ? env : body;
		if (json_object_get(dest, rule->field)) {
			char what[96];
			json_decref(copy);
			snprintf(what, sizeof what, "conflicts with [env].%s; set one of them",
				 rule->field);
			return key_error(err, name, key, what);
		}
		json_object_set_new(dest, rule->field, copy);
	}
	return 0;
}

static bool is_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	}
	return true;
}

/* The shortest text that reads back as v, with a ".0" when it would
 * otherwise look like an integer, as TOML and JSON write floats. */
static void float_text(double v, char *buf, size_t size)
{
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(buf, size, "%.*g", precision, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (strpbrk(buf, ".eEn") == NULL)
		strncat(buf, ".0", size - strlen(buf) - 1);
}

/* [env]: an environment needs text, so numbers and booleans are written
 * out; tables and arrays are errors. */
static int read_env(const json_t *table, json_t *env, struct evo_error *err)
{
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)table, key, value) {
		char text[64];
		if (!is_env_name(key))
			return key_error(err, "env", key,
					 "not an environment variable name (letters, digits and _, "
					 "not starting with a digit)");
		switch (json_typeof(value)) {
		case JSON_STRING:
			json_object_set_new(env, key, json_copy(value));
			continue;
		case JSON_INTEGER:
			snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
			break;
		case JSON_REAL:
			float_text(json_real_value(value), text, sizeof text);
			break;
		case JSON_TRUE:
		case JSON_FALSE:
			snprintf(text, sizeof text, "%s", json_is_true(value) ? "true" : "false");
			break;
		default:
			return key_error(err, "env", key, "must be a string, number or boolean");
		}
		json_object_set_new(env, key, json_string(text));
	}
	return 0;
}

static int read_document(const json_t *doc, json_t *body, json_t *env, struct evo_error *err)
{
	static const char *const tables[] = {"agent", "mqtt", "genome", "env", NULL};
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)doc, key, value) {
		char name[96];
		const char *const *t = tables;
		while (*t && strcmp(*t, key) != 0)
			t++;
		toml_key_text(key, name, sizeof name);
		if (*t == NULL && json_is_object(value))
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "agent.toml: [%s]: unknown table (known: [agent] [mqtt] "
					     "[genome] [env])", name);
		if (*t == NULL)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "agent.toml: %s: unknown key (known tables: [agent] "
					     "[mqtt] [genome] [env])", name);
		if (!json_is_object(value))
			return evo_error_set(err, EVO_ERR_INVALID, 0, "agent.toml: %s: must be a table",
					     name);
	}
	/* [env] first, so that a clash with [mqtt] is reported at [mqtt]. */
	const json_t *env_table = json_object_get(doc, "env");
	const json_t *agent = json_object_get(doc, "agent");
	const json_t *mqtt = json_object_get(doc, "mqtt");
	const json_t *genome = json_object_get(doc, "genome");
	if (env_table && read_env(env_table, env, err) < 0)
		return -1;
	if (agent && read_table(agent, "agent", agent_rules, body, env, err) < 0)
		return -1;
	if (mqtt && read_table(mqtt, "mqtt", mqtt_rules, body, env, err) < 0)
		return -1;
	if (genome)
		json_object_set_new(body, "genome", json_deep_copy(genome));
	return 0;
}

int agent_toml_to_spawn(const json_t *doc, json_t *spawn, struct evo_error *err)
{
	if (!json_is_object(doc) || !json_is_object(spawn))
		return evo_error_set(err, EVO_ERR_INTERNAL, 0,
				     "agent_toml_to_spawn: document and body must be objects");
	json_auto_t *body = json_object();
	json_auto_t *env = json_object();
	if (read_document(doc, body, env, err) < 0)
		return -1;

	const char *key;
	json_t *value;
	json_object_foreach(body, key, value) {
		if (json_object_get(spawn, key) == NULL)
			json_object_set(spawn, key, value);
	}
	if (json_object_size(env) == 0)
		return 0;
	json_t *spawn_env = json_object_get(spawn, "env");
	if (spawn_env == NULL) {
		json_object_set(spawn, "env", env);
	} else if (json_is_object(spawn_env)) {
		json_object_foreach(env, key, value) {
			if (json_object_get(spawn_env, key) == NULL)
				json_object_set(spawn_env, key, value);
		}
	}
	/* An env that is not an object came from the caller: it wins too,
	 * and the server will say what is wrong with it. */
	return 0;
}
