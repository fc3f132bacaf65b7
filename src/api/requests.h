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

#endif
