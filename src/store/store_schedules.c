/* Scheduled agents in SQLite (migration 12): what each schedule starts,
 * and which window it served last (orchestrator/scheduler.h). */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "store/store_internal.h"

#define SCHEDULE_COLUMNS                                                                        \
	"id, tenant, state, spawn, schedule, agent_id, window_open_ms, runs, note,"             \
	" created_at_ms, updated_at_ms"

void schedule_record_clear(struct schedule_record *r)
{
	free(r->spawn_json);
	free(r->schedule_json);
	memset(r, 0, sizeof *r);
}

static void schedule_from_row(sqlite3_stmt *st, void *out)
{
	struct schedule_record *r = out;
	memset(r, 0, sizeof *r);
	store_text_column(r->id, sizeof r->id, st, 0);
	store_text_column(r->tenant, sizeof r->tenant, st, 1);
	store_text_column(r->state, sizeof r->state, st, 2);
	r->spawn_json = store_text_dup(st, 3);
	r->schedule_json = store_text_dup(st, 4);
	store_text_column(r->agent_id, sizeof r->agent_id, st, 5);
	r->window_open_ms = sqlite3_column_int64(st, 6);
	r->runs = sqlite3_column_int64(st, 7);
	store_text_column(r->note, sizeof r->note, st, 8);
	r->created_at_ms = sqlite3_column_int64(st, 9);
	r->updated_at_ms = sqlite3_column_int64(st, 10);
}

int store_schedule_insert(struct store *s, const struct schedule_record *r, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	int rc = -1;
	sqlite3_stmt *st = store_prepare(s,
					 "INSERT INTO schedules (" SCHEDULE_COLUMNS
					 ") VALUES (?,?,?,?,?,?,?,?,?,?,?)",
					 "add a schedule", err);
	if (st) {
		sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, r->tenant, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, r->state, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, r->spawn_json, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, r->schedule_json, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 6, r->agent_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 7, r->window_open_ms);
		sqlite3_bind_int64(st, 8, r->runs);
		sqlite3_bind_text(st, 9, r->note, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 10, r->created_at_ms);
		sqlite3_bind_int64(st, 11, r->updated_at_ms);
		rc = store_step_done(s, st, "add a schedule", err);
		if (rc == 0)
			__atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int store_schedule_get(struct store *s, const char *id, const char *tenant,
		       struct schedule_record *out, struct evo_error *err)
{
	return store_get_scoped(s,
				"SELECT " SCHEDULE_COLUMNS " FROM schedules WHERE id = ?1"
				" AND (?2 IS NULL OR tenant = ?2)",
				id, tenant, schedule_from_row, out, "schedule", err);
}

int store_schedule_list(struct store *s, const char *tenant, bool active_only,
			struct schedule_record **out, size_t *count, struct evo_error *err)
{
	return store_list_scoped(s,
				 "SELECT " SCHEDULE_COLUMNS " FROM schedules WHERE"
				 " (?1 IS NULL OR tenant = ?1) AND (?2 = 0 OR state = 'active')"
				 " ORDER BY created_at_ms DESC, id",
				 tenant, active_only, sizeof **out, schedule_from_row, (void **)out,
				 count, "schedule", err);
}

int store_schedule_update(struct store *s, const struct schedule_record *r, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	int rc = -1;
	sqlite3_stmt *st = store_prepare(s,
					 "UPDATE schedules SET state = ?2, agent_id = ?3, window_open_ms = ?4,"
					 " runs = ?5, note = ?6, updated_at_ms = ?7 WHERE id = ?1",
					 "update a schedule", err);
	if (st) {
		sqlite3_bind_text(st, 1, r->id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, r->state, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, r->agent_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, r->window_open_ms);
		sqlite3_bind_int64(st, 5, r->runs);
		sqlite3_bind_text(st, 6, r->note, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 7, r->updated_at_ms);
		rc = store_step_done(s, st, "update a schedule", err);
		if (rc == 0)
			__atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
