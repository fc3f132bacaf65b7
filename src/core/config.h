/* evoclaw.json: the orchestrator's configuration (DESIGN §8).
 *
 * Every key is optional; with no file at all evoclaw serves on
 * 127.0.0.1:8420 from ./data with the local provider. Unknown keys and
 * wrong types are errors that name the JSON path ("cloud.maxAgents: must
 * be an integer from 0 to 100000"), never silently ignored. Pure: parsing
 * takes text and an environment lookup, so tests need no files. */
#ifndef EVOCLAW_CORE_CONFIG_H
#define EVOCLAW_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define CONFIG_STRING_MAX 512

enum config_auth_mode {
	CONFIG_AUTH_KEY,  /* X-API-Key required (default) */
	CONFIG_AUTH_NONE, /* "auth": {"mode": "none"} */
};

struct evo_config {
	char listen[CONFIG_STRING_MAX]; /* "host:port" */
	char data_dir[CONFIG_STRING_MAX];
	struct {
		bool enabled;
		char provider[32]; /* "local" | "e2b" */
		/* The e2b provider (issue 8): E2B's API or another server that
		 * speaks it. The key is a secret: never shown or logged. */
		char e2b_api_key[CONFIG_STRING_MAX];
		char e2b_api_url[CONFIG_STRING_MAX];    /* default https://api.e2b.app */
		char e2b_sandbox_url[CONFIG_STRING_MAX]; /* envd of every sandbox, "" by domain */
		char e2b_domain[CONFIG_STRING_MAX];      /* default e2b.app */
		/* What an agent on E2B runs when its spawn names no command. */
		char e2b_agent_command[CONFIG_STRING_MAX];
		/* The size of an E2B sandbox, for vCPU/RAM pricing. */
		uint32_t e2b_vcpus, e2b_memory_mb;
		/* How often remote sandboxes are checked against our agents. */
		uint32_t e2b_reconcile_sec;
		/* How the orchestrator is reached from outside this machine
		 * (ORCHESTRATOR_URL of remote agents); "" when it is not. */
		char public_url[CONFIG_STRING_MAX];
		char default_template[64];
		uint32_t max_agents;
		double credit_budget_usd;
		uint32_t default_timeout_sec;
		uint32_t max_lifetime_sec;
		/* How often spend over time is sampled (the dashboard's chart). */
		uint32_t spend_sample_sec;
	} cloud;
	struct {
		double sandbox_usd_per_sec;
		double usd_per_token;
		/* Remote (E2B) sandboxes: e2b_vcpu_usd_per_sec and
		 * e2b_gib_usd_per_sec, when either is set, price a sandbox
		 * of cloud.e2bVcpus and e2bMemoryMb; else e2b_usd_per_sec. */
		double e2b_usd_per_sec;
		double e2b_vcpu_usd_per_sec;
		double e2b_gib_usd_per_sec;
	} pricing;
	/* The broker agents report to (issue 7). The orchestrator subscribes
	 * with username/password; agents get agent_username/agent_password
	 * (a broker's ACL lets them only publish). Neither is ever shown. */
	struct {
		char broker[CONFIG_STRING_MAX];
		uint32_t port;
		char username[CONFIG_STRING_MAX];
		char password[CONFIG_STRING_MAX];
		char agent_username[CONFIG_STRING_MAX];
		char agent_password[CONFIG_STRING_MAX];
		/* The broker as remote (E2B) agents reach it; "" and 0: the
		 * same as broker and port. */
		char public_broker[CONFIG_STRING_MAX];
		uint32_t public_port;
	} mqtt;
	/* What every agent is given besides its identity (DESIGN §10). The
	 * exchange credentials are secrets: passed to agents' sandboxes at
	 * start, never recorded with the agent, shown or logged. */
	struct {
		char log_level[16]; /* EVOCLAW_LOG_LEVEL: debug, info, warn, error */
		char hyperliquid_api_key[CONFIG_STRING_MAX];
		char hyperliquid_api_secret[CONFIG_STRING_MAX];
	} agents;
	enum config_auth_mode auth_mode;
	struct {
		bool open_registration; /* POST /api/saas/register without the admin key */
	} saas;
	/* Requests a second (and bursts) per API key and per client address;
	 * 0 turns a limit off. */
	struct {
		uint32_t key_per_sec, key_burst;
		uint32_t ip_per_sec, ip_burst;
		uint32_t connections_per_ip; /* of the server's 1024 */
		uint32_t idle_timeout_sec;   /* a connection silent this long is closed */
	} limits;
};

/* The built-in defaults (DESIGN §8). */
void config_defaults(struct evo_config *c);

/* Apply a JSON document over what c holds. `source` names it in errors
 * (a file name). Errors are EVO_ERR_INVALID and name the JSON path. */
int config_parse(struct evo_config *c, const char *json, size_t len, const char *source,
		 struct evo_error *err);

/* Apply the environment overrides (E2B_API_KEY, EVOCLAW_LISTEN,
 * EVOCLAW_DATA_DIR); lookup is getenv in production. */
int config_apply_env(struct evo_config *c, const char *(*lookup)(const char *name),
		     struct evo_error *err);

/* Split c->listen into host and port; -1 with err if it is malformed. */
int config_listen_address(const struct evo_config *c, char *host, size_t host_size,
			  uint16_t *port, struct evo_error *err);

#endif
