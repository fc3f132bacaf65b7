/* The orchestrator's state in SQLite (DESIGN §11): WAL mode, versioned
 * migrations, every change in a transaction, so `kill -9` loses no
 * committed record. One connection behind a mutex: callers may be on any
 * thread. */
#ifndef EVOCLAW_STORE_STORE_H
#define EVOCLAW_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "core/agent.h"
#include "core/tenant.h"

struct store;

/* Open (creating if needed) <data_dir>/evoclaw.db and bring its schema up
 * to date. The directory is created with mode 0700. */
int store_open(const char *data_dir, struct store **out, struct evo_error *err);
void store_close(struct store *s);

/* Counts committed writes to agents: equal values mean nothing changed in
 * between (what cached renderings of agents are checked against). */
uint64_t store_generation(struct store *s);

/* Schema version after migrations (tests, diagnostics). */
int store_schema_version(struct store *s);

/* CONFLICT when the id exists. */
int store_agent_insert(struct store *s, const struct agent *a, struct evo_error *err);
/* NOT_FOUND when there is none; the caller frees with agent_clear. */
int store_agent_get(struct store *s, const char *id, struct agent *out, struct evo_error *err);
/* Replace every field of the record with this id; NOT_FOUND if absent. */
int store_agent_update(struct store *s, const struct agent *a, struct evo_error *err);
/* NOT_FOUND if absent. */
int store_agent_delete(struct store *s, const char *id, struct evo_error *err);

/* The column a list is sorted by (then by id, so pages are stable). */
enum store_agent_sort {
	STORE_SORT_CREATED = 0, /* the default: newest first */
	STORE_SORT_NAME,
	STORE_SORT_STATUS,
	STORE_SORT_TYPE,
	STORE_SORT_TOKENS,
	STORE_SORT_COST,
	STORE_SORT_RUN_TIME,
};

/* Which agents a list or count covers (NULL fields match all), and the
 * order of a list. */
struct store_agent_filter {
	const char *tenant;
	const char *status;     /* "pending", "running", ... */
	const char *agent_type;
	const char *mode;       /* "on-demand", "e2b", ... */
	const char *name_contains; /* case-insensitive (ASCII) substring of the name */
	bool active_only;       /* pending or running */
	enum store_agent_sort sort;
	bool ascending;         /* false: largest (newest) first */
};

/* Agents in the filter's order, a page at a time. *out is malloc'd (free
 * each with agent_clear, then the array). filter may be NULL. */
int store_agent_list(struct store *s, const struct store_agent_filter *filter, size_t offset,
		     size_t limit, struct agent **out, size_t *count, struct evo_error *err);

int store_agent_count(struct store *s, const struct store_agent_filter *filter, int64_t *count,
		      struct evo_error *err);

/* What finished agents cost, including destroyed ones: everyone's (tenant
 * NULL) or one tenant's. */
int store_spend_finished(struct store *s, const char *tenant, usd_micros *out,
			 struct evo_error *err);

/* The dashboard's counts of one tenant's agents (NULL: everyone's). */
struct store_agent_summary {
	int64_t total, pending, running, completed, failed;
	int64_t sandboxes; /* agents that got a sandbox */
	int64_t tokens;
};
int store_agent_summarize(struct store *s, const char *tenant, struct store_agent_summary *out,
			  struct evo_error *err);

/* What one telemetry report changes in an agent's record: it was seen at
 * `seen_ms`; the rest only when `has_*` / not NULL. */
struct agent_report {
	int64_t seen_ms;
	bool has_fitness;
	double fitness;
	bool has_tokens;
	int64_t tokens_used;    /* its total so far (never lowered) */
	const char *metrics_json; /* a JSON object */
	uint32_t heartbeat_sec;   /* 0: not said */
};
/* NOT_FOUND when there is no such agent. */
int store_agent_report(struct store *s, const char *id, const struct agent_report *r,
		       struct evo_error *err);

/* Delete an agent's record, keeping what it spent in the ledger: one
 * transaction. NOT_FOUND if absent. */
int store_agent_destroy(struct store *s, const char *id, usd_micros spent, struct evo_error *err);

/* ---- spend over time (store_spend.c) ---------------------------------------- */

/* Cumulative spend of one scope ("" for everyone, else a tenant id) at a
 * moment. */
struct spend_sample {
	char scope[TENANT_ID_MAX];
	int64_t at_ms;
	usd_micros spent;
};

/* What finished and destroyed agents cost, per tenant (the operator's own
 * agents under ""): *out malloc'd. */
int store_spend_finished_by_tenant(struct store *s, struct spend_sample **out, size_t *count,
				   struct evo_error *err);

/* Record samples and forget those older than keep_after_ms, in one
 * transaction. */
int store_spend_record(struct store *s, const struct spend_sample *samples, size_t n,
		       int64_t keep_after_ms, struct evo_error *err);

/* A scope's samples from since_ms on, at most one per bucket_ms (the last
 * of each), oldest first, preceded by the last sample before since_ms
 * (moved to since_ms) when there is one: what a chart of the window
 * needs. *out malloc'd. */
int store_spend_history(struct store *s, const char *scope, int64_t since_ms, int64_t bucket_ms,
			struct spend_sample **out, size_t *count, struct evo_error *err);

/* ---- the audit log (store_audit.c) ------------------------------------------ */

struct audit_entry {
	int64_t seq;
	int64_t at_ms;
	char actor[64];   /* "admin", a tenant id, or "anonymous" */
	char key_id[40];  /* the tenant key used, "" for the admin */
	char address[64]; /* the client's */
	char method[8];
	char route[64];   /* the route pattern ("/api/agents/{id}") */
	char target[64];  /* the id the path named, "" if none */
	int status;
};

/* Append one entry (its seq is assigned). */
int store_audit_append(struct store *s, const struct audit_entry *e, struct evo_error *err);

struct audit_filter {
	const char *actor, *method, *route; /* NULL: any */
	int status;                         /* 0: any */
	int64_t since_ms, until_ms;         /* 0: unbounded */
	int64_t before_seq;                 /* 0: from the newest */
};
/* Entries newest first, at most limit; *out malloc'd. */
int store_audit_list(struct store *s, const struct audit_filter *f, size_t limit,
		     struct audit_entry **out, size_t *count, struct evo_error *err);

/* ---- tenants and their keys (store_tenants.c) ------------------------------- */

/* A new tenant and its first key, in one transaction. CONFLICT when the
 * e-mail address is registered already. */
int store_tenant_insert(struct store *s, const struct tenant *t, const struct api_key_record *key,
			struct evo_error *err);
/* NOT_FOUND when there is none. */
int store_tenant_get(struct store *s, const char *id, struct tenant *out, struct evo_error *err);
/* Every tenant, oldest first; *out malloc'd. */
int store_tenant_list(struct store *s, struct tenant **out, size_t *count, struct evo_error *err);

/* The key with this hash, revoked or not; NOT_FOUND when there is none. */
int store_key_find(struct store *s, const uint8_t hash[API_KEY_HASH_LEN],
		   struct api_key_record *out, struct evo_error *err);
/* A tenant's keys, oldest first (revoked ones too); *out malloc'd. */
int store_key_list(struct store *s, const char *tenant_id, struct api_key_record **out,
		   size_t *count, struct evo_error *err);
/* Add a key for its tenant; with `replaces` (not NULL), revoke that key of
 * the same tenant in the same transaction (rotation). NOT_FOUND when
 * `replaces` is not a key of that tenant in use. */
int store_key_add(struct store *s, const struct api_key_record *key, const char *replaces,
		  int64_t now_ms, struct evo_error *err);
/* Revoke a tenant's key now; NOT_FOUND when it has no such key in use. */
int store_key_revoke(struct store *s, const char *tenant_id, const char *key_id, int64_t now_ms,
		     struct evo_error *err);

/* ---- evolution tournaments (store_tournaments.c) ---------------------------- */

struct tournament_record {
	char id[40];
	char tenant[40];          /* "" for the operator's */
	char state[16];           /* running, completed, cancelled */
	char *params_json;        /* tournament_params_json, owned */
	int generation;           /* the one being run (0-based) */
	char *champion_json;      /* the champion's genome, NULL until there is one */
	double champion_fitness;
	char champion_agent[64];
	int champion_generation;
	char error[256];          /* why it failed or was cancelled, "" */
	int64_t created_at_ms, updated_at_ms, completed_at_ms;
};
void tournament_record_clear(struct tournament_record *t);

/* One member of one generation. */
struct tournament_entry {
	int generation, index;
	char *genome_json;        /* owned */
	int parent_a, parent_b;   /* indices in the previous generation, -1: none */
	bool survivor;            /* carried over unchanged from the previous one */
	char agent_id[64];        /* "" until its agent was started */
	char state[16];           /* waiting, running, done, failed */
	bool has_fitness;
	double fitness;
	char note[256];           /* why it failed, "" */
};
void tournament_entries_free(struct tournament_entry *e, size_t n);

/* A new tournament with its first generation, in one transaction. */
int store_tournament_insert(struct store *s, const struct tournament_record *t,
			    const struct tournament_entry *entries, size_t n, struct evo_error *err);
/* NOT_FOUND when there is none (or it is another tenant's, with tenant set). */
int store_tournament_get(struct store *s, const char *id, const char *tenant,
			 struct tournament_record *out, struct evo_error *err);
/* Newest first; a tenant's only with tenant set; running ones only with
 * running_only. *out malloc'd (tournament_record_clear each). */
int store_tournament_list(struct store *s, const char *tenant, bool running_only,
			  struct tournament_record **out, size_t *count, struct evo_error *err);
/* State, generation, champion, error, times. */
int store_tournament_update(struct store *s, const struct tournament_record *t,
			    struct evo_error *err);
/* Entries of one generation (generation -1: all), by generation and index. */
int store_tournament_entries(struct store *s, const char *id, int generation,
			     struct tournament_entry **out, size_t *count, struct evo_error *err);
/* An entry's agent, state, fitness and note. */
int store_tournament_entry_update(struct store *s, const char *id,
				  const struct tournament_entry *e, struct evo_error *err);
/* The next generation's entries and the tournament's new state, in one
 * transaction (a restart finds both or neither). */
int store_tournament_advance(struct store *s, const struct tournament_record *t,
			     const struct tournament_entry *entries, size_t n, struct evo_error *err);

/* ---- scheduled agents (store_schedules.c) ----------------------------------- */

struct schedule_record {
	char id[40];
	char tenant[40];          /* "" for the operator's */
	char state[16];           /* active, cancelled */
	char *spawn_json;         /* the agent each window starts (orchestrator/scheduler.h), owned */
	char *schedule_json;      /* core/schedule.h's object, owned */
	char agent_id[64];        /* the latest window's agent, "" before the first */
	int64_t window_open_ms;   /* when that window opened, 0 before the first */
	int64_t runs;             /* windows it has started an agent in */
	char note[256];           /* why the last start failed or waits, "" */
	int64_t created_at_ms, updated_at_ms;
};
void schedule_record_clear(struct schedule_record *r);

int store_schedule_insert(struct store *s, const struct schedule_record *r, struct evo_error *err);
/* NOT_FOUND when there is none (or it is another tenant's, with tenant set). */
int store_schedule_get(struct store *s, const char *id, const char *tenant,
		       struct schedule_record *out, struct evo_error *err);
/* Newest first; a tenant's only with tenant set; active ones only with
 * active_only. *out malloc'd (schedule_record_clear each). */
int store_schedule_list(struct store *s, const char *tenant, bool active_only,
			struct schedule_record **out, size_t *count, struct evo_error *err);
/* State, agent, window, runs, note, updated_at. */
int store_schedule_update(struct store *s, const struct schedule_record *r, struct evo_error *err);

#endif
