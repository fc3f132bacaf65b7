#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/fileutil.h"

#include "store/store_internal.h"

/* Migration n takes the schema from version n-1 to n. Append only: a
 * shipped migration is never edited. */
static const char *const migrations[] = {
	/* 1: agents, one record for both API surfaces (DESIGN §5) */
	"CREATE TABLE agents ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL DEFAULT '',"
	" tenant TEXT NOT NULL DEFAULT '',"
	" agent_type TEXT NOT NULL DEFAULT '',"
	" template TEXT NOT NULL DEFAULT '',"
	" provider TEXT NOT NULL DEFAULT '',"
	" sandbox_id TEXT NOT NULL DEFAULT '',"
	" status TEXT NOT NULL,"
	" stop_reason TEXT NOT NULL DEFAULT '',"
	" task_description TEXT NOT NULL DEFAULT '',"
	" environment TEXT, capabilities TEXT, genome TEXT,"
	" mode TEXT NOT NULL DEFAULT 'on-demand',"
	" timeout_sec INTEGER NOT NULL DEFAULT 0,"
	" keep_alive INTEGER NOT NULL DEFAULT 0,"
	" tokens_used INTEGER NOT NULL DEFAULT 0,"
	" cost_micros INTEGER NOT NULL DEFAULT 0,"
	" execution_time_ms INTEGER NOT NULL DEFAULT 0,"
	" exit_code INTEGER,"
	" error_message TEXT NOT NULL DEFAULT '',"
	" created_at_ms INTEGER NOT NULL,"
	" started_at_ms INTEGER NOT NULL DEFAULT 0,"
	" completed_at_ms INTEGER NOT NULL DEFAULT 0,"
	" tournament_id TEXT NOT NULL DEFAULT '',"
	" generation INTEGER NOT NULL DEFAULT 0,"
	" fitness REAL NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX agents_by_tenant ON agents (tenant, created_at_ms DESC);"
	"CREATE INDEX agents_by_status ON agents (status);",
	/* 2: the command an agent runs, its sandbox's deadline (for the
	 * worst-case budget across restarts), and spend that outlives the
	 * records of destroyed agents. */
	"ALTER TABLE agents ADD COLUMN command TEXT;"
	"ALTER TABLE agents ADD COLUMN deadline_ms INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE ledger (name TEXT PRIMARY KEY, micros INTEGER NOT NULL);"
	"INSERT INTO ledger VALUES ('destroyed_agents_spend', 0);",
	/* 3: the newest-first page of all agents (GET /api/agents) without a
	 * sort of the whole table. */
	"CREATE INDEX agents_by_created ON agents (created_at_ms DESC, id);",
	/* 4: sandboxes made through the E2B API: their metadata and the
	 * token that guards their envd. */
	"ALTER TABLE agents ADD COLUMN metadata TEXT;"
	"ALTER TABLE agents ADD COLUMN envd_token TEXT NOT NULL DEFAULT '';",
	/* 5: paused sandboxes (E2B pause): since when, and how long they
	 * were paused before, which is not billed. */
	"ALTER TABLE agents ADD COLUMN paused_at_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE agents ADD COLUMN paused_total_ms INTEGER NOT NULL DEFAULT 0;",
	/* 6: SaaS tenants and their API keys (keyed hashes only). */
	"CREATE TABLE tenants (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE,"
	" max_agents INTEGER NOT NULL, credit_limit_micros INTEGER NOT NULL,"
	" created_at_ms INTEGER NOT NULL);"
	"CREATE TABLE api_keys (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
	" hash BLOB NOT NULL UNIQUE, prefix TEXT NOT NULL, created_at_ms INTEGER NOT NULL,"
	" revoked_at_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at_ms);",
	/* 7: the audit log of mutating calls, append-only (triggers refuse
	 * changes to what was written). */
	"CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,"
	" actor TEXT NOT NULL, key_id TEXT NOT NULL, address TEXT NOT NULL, method TEXT NOT NULL,"
	" route TEXT NOT NULL, target TEXT NOT NULL, status INTEGER NOT NULL);"
	"CREATE INDEX audit_by_actor ON audit (actor, seq);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
	/* 8: spend over time, sampled by the orchestrator, per tenant and
	 * in all (the dashboard's chart). */
	"CREATE TABLE spend_samples (scope TEXT NOT NULL, at_ms INTEGER NOT NULL,"
	" spent_micros INTEGER NOT NULL, PRIMARY KEY (scope, at_ms)) WITHOUT ROWID;"
	"CREATE INDEX spend_samples_by_time ON spend_samples (at_ms);",
	/* 9: agents' telemetry (issue 7): the token their reports carry,
	 * when they last reported, their last metrics. */
	"ALTER TABLE agents ADD COLUMN agent_token TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE agents ADD COLUMN last_seen_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE agents ADD COLUMN metrics TEXT;",
	/* 10: how often an agent said it sends heartbeats (stale detection
	 * across restarts). */
	"ALTER TABLE agents ADD COLUMN heartbeat_sec INTEGER NOT NULL DEFAULT 0;",
	/* 11: evolution tournaments (issue 7 §3): each, and every member of
	 * every generation with its parents and fitness. */
	"CREATE TABLE tournaments (id TEXT PRIMARY KEY, tenant TEXT NOT NULL DEFAULT '',"
	" state TEXT NOT NULL, params TEXT NOT NULL, generation INTEGER NOT NULL DEFAULT 0,"
	" champion TEXT, champion_fitness REAL, champion_agent TEXT NOT NULL DEFAULT '',"
	" champion_generation INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',"
	" created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL,"
	" completed_at_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX tournaments_by_tenant ON tournaments (tenant, created_at_ms);"
	"CREATE TABLE tournament_entries (tournament_id TEXT NOT NULL REFERENCES tournaments(id),"
	" generation INTEGER NOT NULL, idx INTEGER NOT NULL, genome TEXT NOT NULL,"
	" parent_a INTEGER NOT NULL, parent_b INTEGER NOT NULL, survivor INTEGER NOT NULL,"
	" agent_id TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, fitness REAL,"
	" note TEXT NOT NULL DEFAULT '', PRIMARY KEY (tournament_id, generation, idx)) WITHOUT ROWID;",
	/* 12: scheduled agents (issue 7 §4): what to start, when, and which
	 * window was served last (so a restart does not serve it twice). */
	"CREATE TABLE schedules (id TEXT PRIMARY KEY, tenant TEXT NOT NULL DEFAULT '',"
	" state TEXT NOT NULL, spawn TEXT NOT NULL, schedule TEXT NOT NULL,"
	" agent_id TEXT NOT NULL DEFAULT '', window_open_ms INTEGER NOT NULL DEFAULT 0,"
	" runs INTEGER NOT NULL DEFAULT 0, note TEXT NOT NULL DEFAULT '',"
	" created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);"
	"CREATE INDEX schedules_by_tenant ON schedules (tenant, created_at_ms);",
	/* 13: when an agent last reported a fitness (0: never), so a fitness
	 * of 0 and none can be told apart (tournaments rank on it). */
	"ALTER TABLE agents ADD COLUMN fitness_at_ms INTEGER NOT NULL DEFAULT 0;",
};

int store_db_error(struct store *s, struct evo_error *err, const char *what)
{
	int code = sqlite3_extended_errcode(s->db);
	enum evo_error_kind kind = (code & 0xff) == SQLITE_CONSTRAINT ? EVO_ERR_CONFLICT
								     : EVO_ERR_SYSTEM;
	return evo_error_set(err, kind, 0, "%s: %s", what, sqlite3_errmsg(s->db));
}

int store_exec(struct store *s, const char *sql, struct evo_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		evo_error_set(err, EVO_ERR_SYSTEM, 0, "%s", msg ? msg : "sqlite error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

uint64_t store_generation(struct store *s)
{
	return __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE);
}

int store_schema_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;
	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	return v;
}

static int migrate(struct store *s, struct evo_error *err)
{
	int have = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return store_db_error(s, err, "read schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	int want = (int)(sizeof migrations / sizeof *migrations);
	if (have > want)
		return evo_error_set(err, EVO_ERR_CONFLICT, 0,
				     "the database has schema version %d; this evoclaw knows up to %d "
				     "(upgrade evoclaw, or use another data directory)",
				     have, want);
	for (int v = have + 1; v <= want; v++) {
		char bump[64];
		snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", v);
		if (store_exec(s, "BEGIN IMMEDIATE;", err) < 0)
			return -1;
		if (store_exec(s, migrations[v - 1], err) < 0 || store_exec(s, bump, err) < 0) {
			store_exec(s, "ROLLBACK;", NULL);
			return evo_error_prefix(err, "migration %d", v);
		}
		if (store_exec(s, "COMMIT;", err) < 0)
			return evo_error_prefix(err, "migration %d", v);
	}
	return 0;
}

int store_open(const char *data_dir, struct store **out, struct evo_error *err)
{
	if (mkdir_parents(data_dir, 0700) < 0)
		return evo_error_errno(err, "create data directory %s", data_dir);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/evoclaw.db", data_dir);
	struct store *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		evo_error_set(err, EVO_ERR_SYSTEM, 0, "open %s: %s", path,
			      s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL: readers never block the writer; NORMAL sync keeps every
	 * committed transaction across a process crash (kill -9). */
	/* A 64 MiB page cache: tens of thousands of agents stay in memory. */
	if (store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
		    " PRAGMA cache_size=-65536;",
		 err) < 0 ||
	    migrate(s, err) < 0) {
		evo_error_prefix(err, "%s", path);
		store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* ---- helpers of the store's files (store_internal.h) ---- */

void store_text_column(char *out, size_t size, sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	snprintf(out, size, "%s", v ? (const char *)v : "");
}

char *store_text_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	return v ? xstrdup((const char *)v) : NULL;
}

/* Prepare, or say why not; caller holds the lock. */
sqlite3_stmt *store_prepare(struct store *s, const char *sql, const char *what,
			     struct evo_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, what);
		return NULL;
	}
	return st;
}

/* Step a statement that returns no rows, then finalize it. */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what, struct evo_error *err)
{
	int r = sqlite3_step(st) == SQLITE_DONE ? 0 : store_db_error(s, err, what);
	sqlite3_finalize(st);
	return r;
}

/* End a transaction begun with BEGIN: commit if its body went well
 * (rc_of_body 0), else roll back. Caller holds the lock. */
int store_finish_transaction(struct store *s, int rc_of_body, struct evo_error *err)
{
	if (rc_of_body < 0) {
		store_exec(s, "ROLLBACK;", NULL);
		return -1;
	}
	if (store_exec(s, "COMMIT;", err) < 0) {
		store_exec(s, "ROLLBACK;", NULL);
		return -1;
	}
	__atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
	return 0;
}

int store_get_scoped(struct store *s, const char *sql, const char *id, const char *tenant,
		     store_row_fn from_row, void *out, const char *what, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	int r = -1;
	sqlite3_stmt *st = store_prepare(s, sql, what, err);
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (tenant)
			sqlite3_bind_text(st, 2, tenant, -1, SQLITE_TRANSIENT);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			from_row(st, out);
			r = 0;
		} else if (rc == SQLITE_DONE) {
			evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no %s %.40s", what, id);
		} else {
			store_db_error(s, err, what);
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_list_scoped(struct store *s, const char *sql, const char *tenant, int flag,
		      size_t elem_size, store_row_fn from_row, void **out, size_t *count,
		      const char *what, struct evo_error *err)
{
	*out = NULL;
	*count = 0;
	pthread_mutex_lock(&s->lock);
	int r = -1;
	sqlite3_stmt *st = store_prepare(s, sql, what, err);
	if (st) {
		if (tenant)
			sqlite3_bind_text(st, 1, tenant, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, flag);
		size_t cap = 0;
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (*count == cap) {
				cap = cap ? cap * 2 : 8;
				*out = xrealloc(*out, cap * elem_size);
			}
			from_row(st, (char *)*out + (*count)++ * elem_size);
		}
		r = rc == SQLITE_DONE ? 0 : store_db_error(s, err, what);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

#define AGENT_COLUMNS \
	"id, name, tenant, agent_type, template, provider, sandbox_id, status, stop_reason," \
	" task_description, environment, capabilities, genome, mode, timeout_sec, keep_alive," \
	" tokens_used, cost_micros, execution_time_ms, exit_code, error_message, created_at_ms," \
	" started_at_ms, completed_at_ms, tournament_id, generation, fitness, command, deadline_ms," \
	" metadata, envd_token, paused_at_ms, paused_total_ms, agent_token, last_seen_ms, metrics," \
	" heartbeat_sec, fitness_at_ms"

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Bind the 38 columns in AGENT_COLUMNS order, from index 1. */
static void bind_agent(sqlite3_stmt *st, const struct agent *a)
{
	int i = 1;
	sqlite3_bind_text(st, i++, a->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, a->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, a->tenant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, a->agent_type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, a->template_name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, a->provider, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, a->sandbox_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, agent_status_name(a->status), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, agent_stop_reason_name(a->stop_reason), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, a->task_description, -1, SQLITE_TRANSIENT);
	bind_text_or_null(st, i++, a->environment_json);
	bind_text_or_null(st, i++, a->capabilities_json);
	bind_text_or_null(st, i++, a->genome_json);
	sqlite3_bind_text(st, i++, a->mode[0] ? a->mode : "on-demand", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, i++, a->timeout_sec);
	sqlite3_bind_int(st, i++, a->keep_alive);
	sqlite3_bind_int64(st, i++, a->tokens_used);
	sqlite3_bind_int64(st, i++, a->cost);
	sqlite3_bind_int64(st, i++, a->execution_time_ms);
	if (a->has_exit_code)
		sqlite3_bind_int(st, i++, a->exit_code);
	else
		sqlite3_bind_null(st, i++);
	sqlite3_bind_text(st, i++, a->error_message, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, i++, a->created_at_ms);
	sqlite3_bind_int64(st, i++, a->started_at_ms);
	sqlite3_bind_int64(st, i++, a->completed_at_ms);
	sqlite3_bind_text(st, i++, a->tournament_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, i++, a->generation);
	sqlite3_bind_double(st, i++, a->fitness);
	bind_text_or_null(st, i++, a->command_json);
	sqlite3_bind_int64(st, i++, a->deadline_ms);
	bind_text_or_null(st, i++, a->metadata_json);
	sqlite3_bind_text(st, i++, a->envd_token, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, i++, a->paused_at_ms);
	sqlite3_bind_int64(st, i++, a->paused_total_ms);
	sqlite3_bind_text(st, i++, a->agent_token, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, i++, a->last_seen_ms);
	bind_text_or_null(st, i++, a->metrics_json);
	sqlite3_bind_int64(st, i++, a->heartbeat_sec);
	sqlite3_bind_int64(st, i++, a->fitness_at_ms);
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static char *dup_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? xstrdup((const char *)t) : NULL;
}

static void read_agent(sqlite3_stmt *st, struct agent *a)
{
	memset(a, 0, sizeof *a);
	int i = 0;
	copy_text(a->id, sizeof a->id, st, i++);
	copy_text(a->name, sizeof a->name, st, i++);
	copy_text(a->tenant, sizeof a->tenant, st, i++);
	copy_text(a->agent_type, sizeof a->agent_type, st, i++);
	copy_text(a->template_name, sizeof a->template_name, st, i++);
	copy_text(a->provider, sizeof a->provider, st, i++);
	copy_text(a->sandbox_id, sizeof a->sandbox_id, st, i++);
	int status = agent_status_parse((const char *)sqlite3_column_text(st, i++));
	a->status = status < 0 ? AGENT_FAILED : (enum agent_status)status;
	int reason = agent_stop_reason_parse((const char *)sqlite3_column_text(st, i++));
	a->stop_reason = reason < 0 ? AGENT_STOP_ERROR : (enum agent_stop_reason)reason;
	copy_text(a->task_description, sizeof a->task_description, st, i++);
	a->environment_json = dup_text(st, i++);
	a->capabilities_json = dup_text(st, i++);
	a->genome_json = dup_text(st, i++);
	copy_text(a->mode, sizeof a->mode, st, i++);
	a->timeout_sec = (uint32_t)sqlite3_column_int64(st, i++);
	a->keep_alive = sqlite3_column_int(st, i++) != 0;
	a->tokens_used = sqlite3_column_int64(st, i++);
	a->cost = sqlite3_column_int64(st, i++);
	a->execution_time_ms = sqlite3_column_int64(st, i++);
	a->has_exit_code = sqlite3_column_type(st, i) != SQLITE_NULL;
	a->exit_code = sqlite3_column_int(st, i++);
	copy_text(a->error_message, sizeof a->error_message, st, i++);
	a->created_at_ms = sqlite3_column_int64(st, i++);
	a->started_at_ms = sqlite3_column_int64(st, i++);
	a->completed_at_ms = sqlite3_column_int64(st, i++);
	copy_text(a->tournament_id, sizeof a->tournament_id, st, i++);
	a->generation = sqlite3_column_int(st, i++);
	a->fitness = sqlite3_column_double(st, i++);
	a->command_json = dup_text(st, i++);
	a->deadline_ms = sqlite3_column_int64(st, i++);
	a->metadata_json = dup_text(st, i++);
	copy_text(a->envd_token, sizeof a->envd_token, st, i++);
	a->paused_at_ms = sqlite3_column_int64(st, i++);
	a->paused_total_ms = sqlite3_column_int64(st, i++);
	copy_text(a->agent_token, sizeof a->agent_token, st, i++);
	a->last_seen_ms = sqlite3_column_int64(st, i++);
	a->metrics_json = dup_text(st, i++);
	a->heartbeat_sec = (uint32_t)sqlite3_column_int64(st, i++);
	a->fitness_at_ms = sqlite3_column_int64(st, i++);
}

/* Run one statement that changes rows; NOT_FOUND when it changed none
 * and `must_change` is set. */
static int run_change(struct store *s, const char *sql, const struct agent *a, const char *id,
		      bool must_change, const char *what, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, what);
		goto out;
	}
	if (a)
		bind_agent(st, a);
	else
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_db_error(s, err, what);
		goto out;
	}
	if (must_change && sqlite3_changes(s->db) == 0) {
		evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no agent %s", a ? a->id : id);
		goto out;
	}
	__atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
	r = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_agent_insert(struct store *s, const struct agent *a, struct evo_error *err)
{
	int r = run_change(s,
			   "INSERT INTO agents (" AGENT_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
			   "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			   a, NULL, false, "insert agent", err);
	if (r < 0 && err && err->kind == EVO_ERR_CONFLICT)
		evo_error_set(err, EVO_ERR_CONFLICT, 0, "an agent with id %s already exists", a->id);
	return r;
}

int store_agent_update(struct store *s, const struct agent *a, struct evo_error *err)
{
	/* Every column is rewritten (id, ?1, selects the row) but what the
	 * agent's reports own (store_agent_report): its fitness, when it was
	 * last seen, its metrics and heartbeat stay as the row has them, and
	 * its token count never goes down. A record read before a report and
	 * written after it (the start of a fast agent, its end) must not undo
	 * the report. */
	return run_change(s,
			  "UPDATE agents SET (" AGENT_COLUMNS ") = (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
			  "?12,?13,?14,?15,?16,max(tokens_used, ?17),?18,?19,?20,?21,?22,?23,?24,?25,?26,"
			  "fitness,?28,?29,?30,?31,?32,?33,?34,last_seen_ms,metrics,heartbeat_sec,fitness_at_ms)"
			  " WHERE id = ?1",
			  a, NULL, true, "update agent", err);
}

int store_agent_delete(struct store *s, const char *id, struct evo_error *err)
{
	return run_change(s, "DELETE FROM agents WHERE id = ?1", NULL, id, true, "delete agent", err);
}

int store_agent_get(struct store *s, const char *id, struct agent *out, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, "SELECT " AGENT_COLUMNS " FROM agents WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK) {
		store_db_error(s, err, "read agent");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_agent(st, out);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no agent %s", id);
	} else {
		store_db_error(s, err, "read agent");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* The WHERE clause of a filter; its parameters are bound from ?3 on. */
static void filter_sql(const struct store_agent_filter *f, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, " WHERE 1");
	if (f && f->tenant)
		n += (size_t)snprintf(out + n, size - n, " AND tenant = ?3");
	if (f && f->active_only)
		n += (size_t)snprintf(out + n, size - n, " AND status IN ('pending','running')");
	if (f && f->status)
		n += (size_t)snprintf(out + n, size - n, " AND status = ?4");
	if (f && f->agent_type)
		n += (size_t)snprintf(out + n, size - n, " AND agent_type = ?5");
	if (f && f->mode)
		n += (size_t)snprintf(out + n, size - n, " AND mode = ?6");
	if (f && f->name_contains)
		snprintf(out + n, size - n, " AND name LIKE ?7 ESCAPE '\\'");
}

/* "%text%" with LIKE's wildcards in text escaped. */
static char *like_pattern(const char *text)
{
	size_t len = strlen(text);
	char *p = xmalloc(2 * len + 3), *w = p;
	*w++ = '%';
	for (const char *c = text; *c; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			*w++ = '\\';
		*w++ = *c;
	}
	*w++ = '%';
	*w = '\0';
	return p;
}

/* ORDER BY for a list: the column, then id so equal values page stably. */
static const char *order_sql(const struct store_agent_filter *f)
{
	static const char *const columns[][2] = {
		[STORE_SORT_CREATED] = {"created_at_ms DESC, id", "created_at_ms, id DESC"},
		[STORE_SORT_NAME] = {"name COLLATE NOCASE DESC, id DESC", "name COLLATE NOCASE, id"},
		[STORE_SORT_STATUS] = {"status DESC, id DESC", "status, id"},
		[STORE_SORT_TYPE] = {"agent_type DESC, id DESC", "agent_type, id"},
		[STORE_SORT_TOKENS] = {"tokens_used DESC, id DESC", "tokens_used, id"},
		[STORE_SORT_COST] = {"cost_micros DESC, id DESC", "cost_micros, id"},
		[STORE_SORT_RUN_TIME] = {"execution_time_ms DESC, id DESC", "execution_time_ms, id"},
	};
	if (f == NULL || (unsigned)f->sort >= sizeof columns / sizeof *columns)
		return columns[STORE_SORT_CREATED][0];
	return columns[f->sort][f->ascending ? 1 : 0];
}

static void bind_filter(sqlite3_stmt *st, const struct store_agent_filter *f)
{
	if (f && f->tenant)
		sqlite3_bind_text(st, 3, f->tenant, -1, SQLITE_TRANSIENT);
	if (f && f->status)
		sqlite3_bind_text(st, 4, f->status, -1, SQLITE_TRANSIENT);
	if (f && f->agent_type)
		sqlite3_bind_text(st, 5, f->agent_type, -1, SQLITE_TRANSIENT);
	if (f && f->mode)
		sqlite3_bind_text(st, 6, f->mode, -1, SQLITE_TRANSIENT);
	if (f && f->name_contains)
		sqlite3_bind_text(st, 7, like_pattern(f->name_contains), -1, free);
}

int store_agent_list(struct store *s, const struct store_agent_filter *filter, size_t offset,
		     size_t limit, struct agent **out, size_t *count, struct evo_error *err)
{
	*out = NULL;
	*count = 0;
	char where[256], sql[1024];
	filter_sql(filter, where, sizeof where);
	snprintf(sql, sizeof sql,
		 "SELECT " AGENT_COLUMNS " FROM agents%s ORDER BY %s LIMIT ?1 OFFSET ?2", where,
		 order_sql(filter));
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "list agents");
		goto out;
	}
	sqlite3_bind_int64(st, 1, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)offset);
	bind_filter(st, filter);
	size_t cap = limit < 64 ? limit : 64;
	if (cap == 0)
		cap = 1;
	struct agent *list = xcalloc(cap, sizeof *list);
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			list = xrealloc(list, cap * sizeof *list);
		}
		read_agent(st, &list[n++]);
	}
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < n; i++)
			agent_clear(&list[i]);
		free(list);
		store_db_error(s, err, "list agents");
		goto out;
	}
	*out = list;
	*count = n;
	r = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* One integer from a query with a filter (count, sum). */
static int query_int(struct store *s, const char *select, const struct store_agent_filter *f,
		     int64_t *out, const char *what, struct evo_error *err)
{
	char where[256], sql[512];
	filter_sql(f, where, sizeof where);
	snprintf(sql, sizeof sql, "%s%s", select, where);
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, what);
		goto out;
	}
	bind_filter(st, f);
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_db_error(s, err, what);
		goto out;
	}
	*out = sqlite3_column_int64(st, 0);
	r = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_agent_count(struct store *s, const struct store_agent_filter *filter, int64_t *count,
		      struct evo_error *err)
{
	return query_int(s, "SELECT count(*) FROM agents", filter, count, "count agents", err);
}

/* The ledger row that keeps destroyed agents' spend: everyone's, or one
 * tenant's. */
static void ledger_name(const char *tenant, char *out, size_t size)
{
	if (tenant && *tenant)
		snprintf(out, size, "tenant:%s", tenant);
	else
		snprintf(out, size, "destroyed_agents_spend");
}

int store_spend_finished(struct store *s, const char *tenant, usd_micros *out,
			 struct evo_error *err)
{
	struct store_agent_filter done = {.status = "completed", .tenant = tenant};
	struct store_agent_filter failed = {.status = "failed", .tenant = tenant};
	int64_t c = 0, f = 0;
	if (query_int(s, "SELECT coalesce(sum(cost_micros), 0) FROM agents", &done, &c,
		      "sum spend", err) < 0 ||
	    query_int(s, "SELECT coalesce(sum(cost_micros), 0) FROM agents", &failed, &f,
		      "sum spend", err) < 0)
		return -1;
	char name[128];
	ledger_name(tenant, name, sizeof name);
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	int64_t destroyed = 0;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(micros), 0) FROM ledger WHERE name = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "read the ledger");
	} else {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			destroyed = sqlite3_column_int64(st, 0);
			r = 0;
		} else {
			store_db_error(s, err, "read the ledger");
		}
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (r == 0)
		*out = c + f + destroyed;
	return r;
}

int store_agent_destroy(struct store *s, const char *id, usd_micros spent, struct evo_error *err)
{
	/* Its spend goes to everyone's ledger row and to its tenant's, read
	 * before the record goes. */
	static const char *const steps[] = {
		"INSERT OR IGNORE INTO ledger (name, micros)"
		" SELECT 'tenant:' || tenant, 0 FROM agents WHERE id = ?1 AND tenant != ''",
		"UPDATE ledger SET micros = micros + ?2 WHERE name = 'destroyed_agents_spend'"
		" OR name = (SELECT 'tenant:' || tenant FROM agents WHERE id = ?1 AND tenant != '')",
		"DELETE FROM agents WHERE id = ?1",
	};
	pthread_mutex_lock(&s->lock);
	int r = -1;
	if (store_exec(s, "BEGIN IMMEDIATE;", err) < 0)
		goto out;
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(s->db, steps[i], -1, &st, NULL) != SQLITE_OK) {
			store_db_error(s, err, "destroy agent");
			goto rollback;
		}
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (sqlite3_bind_parameter_count(st) >= 2)
			sqlite3_bind_int64(st, 2, spent);
		int step = sqlite3_step(st);
		sqlite3_finalize(st);
		if (step != SQLITE_DONE) {
			store_db_error(s, err, "destroy agent");
			goto rollback;
		}
	}
	if (sqlite3_changes(s->db) == 0) {
		evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no agent %s", id);
		goto rollback;
	}
	if (store_exec(s, "COMMIT;", err) < 0)
		goto rollback;
	__atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
	r = 0;
	goto out;
rollback:
	store_exec(s, "ROLLBACK;", NULL);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_agent_summarize(struct store *s, const char *tenant, struct store_agent_summary *out,
			  struct evo_error *err)
{
	static const char sql[] =
		"SELECT count(*), coalesce(sum(status = 'pending'), 0),"
		" coalesce(sum(status = 'running'), 0), coalesce(sum(status = 'completed'), 0),"
		" coalesce(sum(status = 'failed'), 0), coalesce(sum(sandbox_id != ''), 0),"
		" coalesce(sum(tokens_used), 0) FROM agents WHERE ?1 IS NULL OR tenant = ?1";
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "summarize agents");
		goto out;
	}
	bind_text_or_null(st, 1, tenant);
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_db_error(s, err, "summarize agents");
		goto out;
	}
	*out = (struct store_agent_summary){
		.total = sqlite3_column_int64(st, 0),
		.pending = sqlite3_column_int64(st, 1),
		.running = sqlite3_column_int64(st, 2),
		.completed = sqlite3_column_int64(st, 3),
		.failed = sqlite3_column_int64(st, 4),
		.sandboxes = sqlite3_column_int64(st, 5),
		.tokens = sqlite3_column_int64(st, 6),
	};
	r = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_agent_report(struct store *s, const char *id, const struct agent_report *r,
		       struct evo_error *err)
{
	/* Only what the report says: NULL parameters leave a column alone. */
	static const char sql[] =
		"UPDATE agents SET last_seen_ms = max(last_seen_ms, ?2),"
		" fitness = coalesce(?3, fitness), tokens_used = max(tokens_used, coalesce(?4, 0)),"
		" metrics = coalesce(?5, metrics), heartbeat_sec = coalesce(?6, heartbeat_sec),"
		" fitness_at_ms = CASE WHEN ?3 IS NULL THEN fitness_at_ms"
		" ELSE CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) END"
		" WHERE id = ?1";
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	int result = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "record a report");
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, r->seen_ms);
	if (r->has_fitness)
		sqlite3_bind_double(st, 3, r->fitness);
	if (r->has_tokens)
		sqlite3_bind_int64(st, 4, r->tokens_used);
	bind_text_or_null(st, 5, r->metrics_json);
	if (r->heartbeat_sec)
		sqlite3_bind_int64(st, 6, r->heartbeat_sec);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_db_error(s, err, "record a report");
		goto out;
	}
	if (sqlite3_changes(s->db) == 0) {
		evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no agent %s", id);
		goto out;
	}
	__atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
	result = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return result;
}
