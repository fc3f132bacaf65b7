/* The agent record and its life cycle (DESIGN §5): one record serves the
 * EvoClaw and BeClever API surfaces. Pure: no I/O.
 *
 *   pending -> running -> completed | failed
 *   pending -> failed   (the sandbox never started)
 *   pending -> completed (terminated before it started)
 *
 * stop_reason says why an agent stopped: exited (its command ended: exit 0
 * is completed, anything else failed), terminated (asked to stop: completed),
 * timeout, budget, error, orchestrator_lost (all failed). destroyed removes
 * the record, so it is never stored. */
#ifndef EVOCLAW_CORE_AGENT_H
#define EVOCLAW_CORE_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

enum agent_status {
	AGENT_PENDING,
	AGENT_RUNNING,
	AGENT_COMPLETED,
	AGENT_FAILED,
};

enum agent_stop_reason {
	AGENT_STOP_NONE,
	AGENT_STOP_EXITED,
	AGENT_STOP_TIMEOUT,
	AGENT_STOP_TERMINATED,
	AGENT_STOP_DESTROYED,
	AGENT_STOP_BUDGET,
	AGENT_STOP_ERROR,
	AGENT_STOP_ORCHESTRATOR_LOST,
};

/* Money is counted in micro-dollars (1e-6 USD) so sums are exact. */
typedef int64_t usd_micros;
#define USD_MICROS_PER_USD 1000000

#define AGENT_ID_MAX 64
#define AGENT_TEXT_MAX 4096
#define AGENT_NAME_MAX 128

struct agent {
	char id[AGENT_ID_MAX];
	char name[AGENT_NAME_MAX];
	char tenant[64];        /* "" = the operator */
	char agent_type[64];
	char template_name[64];
	char provider[16];
	char sandbox_id[64];
	enum agent_status status;
	enum agent_stop_reason stop_reason;
	char task_description[AGENT_TEXT_MAX];
	char *environment_json;  /* owned, may be NULL */
	char *capabilities_json; /* owned, may be NULL */
	char *genome_json;       /* owned, may be NULL */
	char *command_json;      /* owned, may be NULL: argv as a JSON array */
	char *metadata_json;     /* owned, may be NULL: E2B sandbox metadata, an object */
	char envd_token[72];     /* E2B sandboxes: what envd requests must carry; "" if none */
	char mode[16];           /* on-demand | burst | scheduled */
	uint32_t timeout_sec;
	bool keep_alive;
	int64_t tokens_used;
	usd_micros cost;
	int64_t execution_time_ms;
	int32_t exit_code;
	bool has_exit_code;
	char error_message[1024];
	int64_t created_at_ms, started_at_ms, completed_at_ms; /* 0 = not yet */
	int64_t deadline_ms; /* when its sandbox dies unless extended; 0 = not started */
	int64_t paused_at_ms;    /* paused (E2B pause) since; 0 = not paused. While paused
				  * deadline_ms - paused_at_ms is the time it has left */
	int64_t paused_total_ms; /* paused before, not billed */
	char tournament_id[64];
	int32_t generation;
	double fitness;
	/* Telemetry (issue 7): the token its reports must carry (handed to it
	 * as EVOCLAW_AGENT_TOKEN, never shown), when it last reported, and its
	 * last metrics (a JSON object, owned, may be NULL). */
	char agent_token[72];
	int64_t last_seen_ms;
	char *metrics_json;
	uint32_t heartbeat_sec; /* how often it said it reports, 0: not said */
	int64_t fitness_at_ms;  /* when it last reported a fitness, 0: never */
	/* Live, reporting, and silent for 3 of its heartbeat intervals: set by
	 * the orchestrator when it answers, not stored. */
	bool stale;
};

const char *agent_status_name(enum agent_status s);
const char *agent_stop_reason_name(enum agent_stop_reason r);
/* -1 for an unknown name. */
int agent_status_parse(const char *name);
int agent_stop_reason_parse(const char *name);

bool agent_is_finished(const struct agent *a);

/* The sandbox started. CONFLICT unless pending. */
int agent_mark_running(struct agent *a, int64_t now_ms, struct evo_error *err);

/* The agent stopped for `reason` (exit_code used for EXITED). Sets status,
 * completed_at and execution time. CONFLICT if already finished; a
 * pending agent fails unless it was terminated (it never ran). */
int agent_mark_stopped(struct agent *a, enum agent_stop_reason reason, int32_t exit_code,
		       const char *error_message, int64_t now_ms, struct evo_error *err);

/* Free the owned JSON strings (the struct itself is the caller's). */
void agent_clear(struct agent *a);

/* RFC 3339 UTC with milliseconds ("2026-11-22T03:55:08.123Z"); "" for 0. */
void agent_format_time(int64_t ms, char out[32]);

#endif
