/* Request bodies of the agent routes, parsed and validated into typed
 * spawns. Pure (no I/O, no HTTP): what the fuzz target drives. Errors are
 * EVO_ERR_INVALID naming the field. */
#ifndef EVOCLAW_API_REQUESTS_H
#define EVOCLAW_API_REQUESTS_H

#include <jansson.h>

#include "common/error.h"
#include "core/config.h"
#include "core/tenant.h"
#include "orchestrator/orchestrator.h"

struct spawn_request {
	struct orch_spawn spawn; /* its strings point into body or the fields below */
	json_t *body;            /* a reference, kept while spawn is used */
	char *command, *env, *genome, *capabilities; /* owned JSON texts */
};

/* POST /api/cloud/spawn (EvoClaw surface). */
int request_parse_cloud_spawn(json_t *body, const struct evo_config *cfg,
			      struct spawn_request *out, struct evo_error *err);

/* POST /api/agents/deploy (BeClever surface). */
int request_parse_agents_deploy(json_t *body, const struct evo_config *cfg,
				struct spawn_request *out, struct evo_error *err);

void request_free(struct spawn_request *r);

/* POST /api/saas/register {email, max_agents, credit_limit_usd}. */
struct register_request {
	char email[TENANT_EMAIL_MAX + 1];
	uint32_t max_agents;
	usd_micros credit_limit;
};
int request_parse_register(json_t *body, const struct evo_config *cfg,
			   struct register_request *out, struct evo_error *err);

/* One of researcher, coder, analyst, tester, trader, monitor, sensor? */
bool request_agent_type_valid(const char *type);

/* [A-Za-z0-9._-]{1,63}, not starting with a dot (it names files). */
bool request_agent_id_valid(const char *id);

/* POST /v2/sandboxes (E2B create): templateID (default base), timeout
 * (seconds, default 300, at most maxLifetimeSec), metadata (an object of
 * strings, compact JSON), envVars. Unknown fields are accepted, as E2B's
 * SDK sends ones this server does not act on. */
#define E2B_DEFAULT_TIMEOUT_SEC 300
struct e2b_create_request {
	json_t *body;               /* template_name points into it */
	const char *template_name;
	uint32_t timeout_sec;
	char *metadata, *env;       /* owned JSON texts, NULL when absent */
};
int request_parse_e2b_create(json_t *body, const struct evo_config *cfg,
			     struct e2b_create_request *out, struct evo_error *err);
void request_e2b_create_free(struct e2b_create_request *r);

/* The metadata filter of GET /v2/sandboxes: "k1=v1&k2=v2" (the outer
 * encoding undone), each key and value percent-encoded twice more, as
 * the SDK sends it (spec §3.3). An object of strings, or NULL with err. */
json_t *request_e2b_metadata_filter(const char *query, struct evo_error *err);

/* POST /api/agents/{id}/telemetry, an agent's report (issue 7):
 *   {"kind": "heartbeat" | "metrics" | "fitness" | "log" | "alert",
 *    "fitness": number (fitness: required), "tokens_used": integer >= 0,
 *    "metrics": {name: number, ...} (at most 64),
 *    "level": "debug" | "info" | "warn" | "error" (log), "message": text (log
 *    and alert: required, at most 1000 characters), "interval_sec": 1..3600
 *    (how often it sends heartbeats), "state": text (at most 32),
 *    "seq": 1..2^53 (numbers an agent's reports: one no higher than the last
 *    taken is a repeat, recorded once)} */
struct report_request {
	struct orch_report report; /* level and message point into body */
	json_t *body;              /* a reference, kept while report is used */
	char *metrics;             /* owned compact JSON, NULL when absent */
};
/* An MQTT telemetry topic, evoclaw/agents/<id>/<kind>: the id (copied,
 * shorter than id_size) and the kind (pointing into topic; checked by
 * request_parse_report). False for any other topic. */
bool request_parse_topic(const char *topic, char *id, size_t id_size, const char **kind);

/* The kinds' names on the wire ("heartbeat", ...; an MQTT topic's last part). */
extern const char *const report_kind_names[ORCH_REPORT_KINDS];
int request_parse_report(json_t *body, struct report_request *out, struct evo_error *err);
void request_report_free(struct report_request *r);

#endif
