/* libFuzzer target: the TOML reader on arbitrary bytes, and on success the
 * agent.toml mapping. Never a crash or leak; a failure always says where
 * and what, in text that can go into a JSON error as it is; a success is
 * an object that jansson can write out. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/toml.h"
#include "core/agent_toml.h"

static void check_error(const struct evo_error *err, const char *prefix)
{
	if (err->kind != EVO_ERR_INVALID || strncmp(err->msg, prefix, strlen(prefix)) != 0)
		abort();
	json_t *text = json_string(err->msg); /* NULL unless valid UTF-8 */
	if (text == NULL)
		abort();
	json_decref(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc;
	struct evo_error err = {0};
	if (toml_parse((const char *)data, size, "fuzz.toml", &doc, &err) < 0) {
		if (doc != NULL)
			abort();
		check_error(&err, "fuzz.toml:");
		return 0;
	}
	if (!json_is_object(doc))
		abort();
	char *text = json_dumps(doc, JSON_COMPACT);
	if (text == NULL)
		abort();
	free(text);

	/* Once into an empty body, once into one that flags have filled. */
	json_t *spawn = json_object();
	if (agent_toml_to_spawn(doc, spawn, &err) < 0) {
		check_error(&err, "agent.toml: ");
		if (json_object_size(spawn) != 0)
			abort();
	}
	json_decref(spawn);
	spawn = json_pack("{s:s, s:i, s:{s:s}}", "agent_id", "flag", "timeout_sec", 5, "env",
			  "MQTT_USERNAME", "flag");
	if (agent_toml_to_spawn(doc, spawn, &err) == 0 &&
	    (strcmp(json_string_value(json_object_get(spawn, "agent_id")), "flag") != 0 ||
	     json_integer_value(json_object_get(spawn, "timeout_sec")) != 5))
		abort();
	json_decref(spawn);
	json_decref(doc);
	return 0;
}
