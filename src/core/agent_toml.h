/* agent.toml: an agent described in a file, turned into the body of
 * POST /api/cloud/spawn (docs/api.md).
 *
 *   [agent]   id, type, template, provider, task, command, timeout_sec,
 *             keep_alive -> agent_id, agent_type, template_id, provider,
 *                task, command, timeout_sec, keep_alive
 *   [mqtt]    broker, port -> mqtt_broker, mqtt_port;
 *             username, password -> env MQTT_USERNAME, MQTT_PASSWORD
 *   [genome]  the whole table -> genome
 *   [env]     NAME = value -> env; numbers and booleans become their text
 *
 * Unknown tables and keys and wrong types are errors that name them
 * ("agent.toml: [agent].tymeout_sec: unknown key"), never ignored. Checks
 * that need the server's configuration (agent types, the longest
 * timeout) are left to the server. Pure: the caller reads and parses the
 * file (toml_parse). */
#ifndef EVOCLAW_CORE_AGENT_TOML_H
#define EVOCLAW_CORE_AGENT_TOML_H

#include <jansson.h>

#include "common/error.h"

/* Add what doc (a parsed agent.toml) says to spawn, an object the caller
 * owns. What spawn already holds wins, as command-line flags should: a
 * field present is not replaced, and env is merged name by name with the
 * names already there kept. Nothing is added unless all of doc is valid.
 * Returns 0, or -1 with err filled (EVO_ERR_INVALID). */
int agent_toml_to_spawn(const json_t *doc, json_t *spawn, struct evo_error *err);

#endif
