/* The e2b provider (DESIGN §3, issue 8): agents' sandboxes on E2B's cloud
 * (Firecracker microVMs) or on anything that speaks its API, such as
 * another evoclaw. A sandbox is created from a template (tagged with its
 * owner, its agent and a spawn key in E2B's metadata), its command is
 * started through envd (process.Process/Start, tagged, so that a restart
 * reconnects to it by tag) and followed until it ends; then the sandbox is
 * killed. Every reconcile_sec the remote list is compared with what is
 * followed: a sandbox that vanished ends its agent, one nobody follows is
 * reported (never adopted or killed). */
#ifndef EVOCLAW_RUNTIME_E2B_PROVIDER_E2B_H
#define EVOCLAW_RUNTIME_E2B_PROVIDER_E2B_H

#include "runtime/e2b/e2b_api.h"
#include "runtime/provider.h"

struct provider_e2b_config {
	struct e2b_api_config api;
	const char *agent_command; /* run when a spawn names no command */
	uint32_t reconcile_sec;
	/* What agents in these sandboxes are told (DESIGN §10). */
	const char *orchestrator_url;
	const char *mqtt_broker;
	uint32_t mqtt_port;
};

/* Configure the provider (once per process) and check the key with one
 * list request: AUTH when E2B refuses it, INVALID without a key. An API
 * that cannot be reached now is not an error (it is retried when used);
 * *reachable says which. */
int provider_e2b_open(const struct provider_e2b_config *cfg, bool *reachable,
		      const struct provider **out, struct evo_error *err);

#endif
