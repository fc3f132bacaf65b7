/* The orchestrator: agents from spawn to end (DESIGN §5, §9, §11).
 *
 * It is the typed interface under both HTTP surfaces (and what tests call
 * without HTTP): spawn, terminate, destroy, get, list, costs, logs. Under
 * it, a provider runs the sandboxes and the store keeps every record.
 *
 * Threads: launchers start the sandboxes of pending agents; one monitor
 * follows every running sandbox (output into the agent's log, the end into
 * its record); one ticker enforces the budget and extends keep-alive
 * agents. One mutex covers the set of live (pending or running) agents and
 * the spend of finished ones, so admission against maxAgents and the
 * budget is exact however many spawns race.
 *
 * Restart after a crash: agents the store says are live are re-adopted
 * from their sandboxes, or marked failed / orchestrator_lost when those are
 * gone; sandboxes of ours that no agent claims are killed. */
#ifndef EVOCLAW_ORCHESTRATOR_ORCHESTRATOR_H
#define EVOCLAW_ORCHESTRATOR_ORCHESTRATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/proto.h"
#include "core/agent.h"
#include "core/config.h"
#include "runtime/provider.h"
#include "store/store.h"

struct orchestrator;

/* A validated spawn (the HTTP layer parses requests into this). JSON
 * fields are compact JSON text or NULL; the orchestrator copies them. */
struct orch_spawn {
	const char *id;            /* NULL: generate */
	const char *name;          /* NULL: the id */
	const char *agent_type;
	const char *template_name; /* NULL: cloud.defaultTemplate */
	const char *provider;      /* NULL: the default (cloud.provider) */
	const char *task;          /* may be NULL */
	const char *command_json;  /* argv array, NULL: the template's entrypoint */
	const char *env_json;      /* object of strings, may be NULL */
	const char *capabilities_json;
	const char *genome_json;
	const char *mqtt_broker;   /* NULL: config's */
	uint32_t mqtt_port;        /* 0: config's */
	uint32_t timeout_sec;      /* 0: cloud.defaultTimeoutSec */
	bool keep_alive;
	const char *mode;          /* NULL: "on-demand"; "e2b" for E2B API sandboxes */
	const char *metadata_json; /* E2B metadata, an object, may be NULL */
	bool envd_token;           /* give it a fresh envd access token */
	const char *tournament_id; /* a tournament's member (tournament.h), NULL: none */
	int32_t generation;
	/* A tenant's agent (SaaS mode): its id and limits, checked with the
	 * operator's under the same lock. NULL: the operator's own. */
	const char *tenant;
	uint32_t tenant_max_agents;
	usd_micros tenant_credit_limit;
};

struct orch_costs {
	usd_micros spent;      /* finished agents + what live ones accrued */
	usd_micros committed;  /* worst case still possible from live agents */
	usd_micros budget;
	uint32_t live_agents;
	uint32_t max_agents;
};

/* Called when an agent started, its log grew or it ended, so requests
 * that wait for it (log streams, E2B's create) can go on. */
typedef void (*orch_log_hook)(void *ctx, const char *agent_id);

#define ORCH_PROVIDERS_MAX 4

/* Open: recover from the store, then start the threads. Sandboxes run on
 * providers (the first is the default for spawns that name none); an
 * agent recorded on a provider not among them is recorded as lost. */
int orch_open(const struct evo_config *cfg, struct store *store,
	      const struct provider *const *providers, size_t provider_count,
	      struct orchestrator **out, struct evo_error *err);
/* Stop the threads. Sandboxes keep running (a restart re-adopts them). */
void orch_close(struct orchestrator *o);

void orch_set_log_hook(struct orchestrator *o, orch_log_hook hook, void *ctx);

/* The tag of this orchestrator's sandboxes (and of its doors). */
const char *orch_owner(const struct orchestrator *o);

/* A fresh id: prefix (4 characters, "agt_") + 16 random hex digits. */
void orch_new_id(char out[AGENT_ID_MAX], const char *prefix);

/* 0 when this orchestrator runs sandboxes on the provider named (NULL:
 * its default), else INVALID naming the field "provider" and the ones it
 * has. */
int orch_check_provider(const struct orchestrator *o, const char *name, struct evo_error *err);

/* The providers this orchestrator has (the default first) and what a
 * second of each one's sandbox costs, in USD; returns how many (at most
 * max). */
size_t orch_provider_rates(const struct orchestrator *o, const char **names, double *usd_per_sec,
			   size_t max);

/* Admit and record a new agent (pending); its sandbox starts in the
 * background. LIMIT (429) at maxAgents, BUDGET (402) past the budget,
 * CONFLICT for a taken id, INVALID for a provider it does not have. */
int orch_spawn(struct orchestrator *o, const struct orch_spawn *req, struct agent *out,
	       struct evo_error *err);

/* A running agent's sandbox now dies `seconds` from now: never past
 * maxLifetimeSec after its start (INVALID), nor past the budget (BUDGET).
 * NOT_FOUND when it is not running. */
int orch_set_timeout(struct orchestrator *o, const char *id, uint32_t seconds,
		     struct evo_error *err);

/* Freeze a running agent's sandbox (E2B pause): no CPU, not billed, its
 * deadline stands still. CONFLICT when paused already, NOT_FOUND when it
 * is not running. A paused agent stays "running" with paused_at_ms set. */
int orch_pause(struct orchestrator *o, const char *id, struct evo_error *err);

/* Thaw it: it has the time it had left, or `seconds` from now when not 0
 * (bounded like orch_set_timeout). CONFLICT when it is not paused. */
int orch_resume(struct orchestrator *o, const char *id, uint32_t seconds, struct evo_error *err);

/* What a running agent's sandbox uses now. */
int orch_stats(struct orchestrator *o, const char *id, struct provider_stats *out,
	       struct evo_error *err);

/* Stop an agent and keep its record (completed, stop_reason terminated).
 * CONFLICT if it had already finished. */
int orch_terminate(struct orchestrator *o, const char *id, struct agent *out,
		   struct evo_error *err);

/* Stop an agent if it runs, then delete its record and logs. */
int orch_destroy(struct orchestrator *o, const char *id, struct evo_error *err);

/* The record, with cost and run time accrued up to now if it is live. */
int orch_get(struct orchestrator *o, const char *id, struct agent *out, struct evo_error *err);

/* A page of agents (newest first) and how many match in all. */
int orch_list(struct orchestrator *o, const struct store_agent_filter *filter, size_t offset,
	      size_t limit, struct agent **out, size_t *count, int64_t *total,
	      struct evo_error *err);

int orch_costs(struct orchestrator *o, struct orch_costs *out, struct evo_error *err);

/* A telemetry report from an agent (issue 7): what the HTTP layer (or
 * the MQTT subscriber) parsed. */
enum orch_report_kind {
	ORCH_REPORT_HEARTBEAT,
	ORCH_REPORT_METRICS,
	ORCH_REPORT_FITNESS,
	ORCH_REPORT_LOG,
	ORCH_REPORT_ALERT,
	ORCH_REPORT_KINDS
};
struct orch_report {
	enum orch_report_kind kind;
	struct agent_report report; /* fitness, tokens, metrics (seen_ms is set here) */
	const char *level;          /* log: "debug", "info", "warn", "error" */
	const char *state;          /* heartbeat: what it is doing ("trading"), may be NULL */
	uint32_t interval_sec;      /* heartbeat: how often it beats, 0: not said */
	const char *message;        /* log and alert: a line for the agent's log */
	uint64_t seq;               /* MQTT: the agent's message number, 0: none */
};

/* What proves a report is the agent's own: its token (over HTTP), or its
 * token's signature of the message (over MQTT, see telemetry_sig.h): the
 * signed bytes are signed[0..signed_len) + "}". */
struct orch_credential {
	const char *token;
	const char *signed_bytes;
	size_t signed_len;
	const char *sig_hex;
};

/* Record a report of a live agent with its credential: it was seen now;
 * its fitness, token count (its cost moves with it) and metrics as the
 * report says; log and alert lines go to its log. AUTH for a wrong
 * credential or an unknown id, CONFLICT when the agent has ended (except
 * a signed report within a minute of the end: one a broker held back is
 * still recorded, but for its log line). A report numbered (seq) no higher
 * than one already taken is a repeat: 1, and nothing recorded. */
int orch_report(struct orchestrator *o, const char *id, const struct orch_credential *cred,
		const struct orch_report *r, struct evo_error *err);


/* Per-agent output, bounded: <data>/logs/<id>.log, rotated to .log.1. */
void orch_log_path(const struct orchestrator *o, const char *id, bool previous, char *out,
		   size_t size);

/* The last n lines of an agent's output (both files), as a malloc'd
 * NULL-terminated array. */
char **orch_log_tail(const struct orchestrator *o, const char *id, size_t n);
void orch_lines_free(char **lines);

/* Is the agent still pending or running? */
bool orch_is_live(struct orchestrator *o, const char *id);

/* Is it still waiting for its sandbox? */
bool orch_is_pending(struct orchestrator *o, const char *id);

/* Prometheus text for the orchestrator's part of GET /metrics. */
void orch_metrics(struct orchestrator *o, struct evo_buf *out);

#endif
