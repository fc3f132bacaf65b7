/* Evolution tournaments in SQLite (migration 11): each tournament and
 * every member of every generation (orchestrator/tournament.h). */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "store/store_internal.h"

#define TOURNAMENT_COLUMNS                                                                      \
	"id, tenant, state, params, generation, champion, champion_fitness, champion_agent,"    \
	" champion_generation, error, created_at_ms, updated_at_ms, completed_at_ms"
#define ENTRY_COLUMNS                                                                           \
	"generation, idx, genome, parent_a, parent_b, survivor, agent_id, state, fitness, note"

void tournament_record_clear(struct tournament_record *t)
{
	free(t->params_json);
	free(t->champion_json);
	memset(t, 0, sizeof *t);
}

void tournament_entries_free(struct tournament_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++)
		free(e[i].genome_json);
	free(e);
}

static void tournament_from_row(sqlite3_stmt *st, void *out)
{
	struct tournament_record *t = out;
	memset(t, 0, sizeof *t);
	store_text_column(t->id, sizeof t->id, st, 0);
	store_text_column(t->tenant, sizeof t->tenant, st, 1);
	store_text_column(t->state, sizeof t->state, st, 2);
	t->params_json = store_text_dup(st, 3);
	t->generation = sqlite3_column_int(st, 4);
	t->champion_json = store_text_dup(st, 5);
	t->champion_fitness = sqlite3_column_double(st, 6);
	store_text_column(t->champion_agent, sizeof t->champion_agent, st, 7);
	t->champion_generation = sqlite3_column_int(st, 8);
	store_text_column(t->error, sizeof t->error, st, 9);
	t->created_at_ms = sqlite3_column_int64(st, 10);
	t->updated_at_ms = sqlite3_column_int64(st, 11);
	t->completed_at_ms = sqlite3_column_int64(st, 12);
}

static void entry_from_row(sqlite3_stmt *st, struct tournament_entry *e)
{
	memset(e, 0, sizeof *e);
	e->generation = sqlite3_column_int(st, 0);
	e->index = sqlite3_column_int(st, 1);
	e->genome_json = store_text_dup(st, 2);
	e->parent_a = sqlite3_column_int(st, 3);
	e->parent_b = sqlite3_column_int(st, 4);
	e->survivor = sqlite3_column_int(st, 5) != 0;
	store_text_column(e->agent_id, sizeof e->agent_id, st, 6);
	store_text_column(e->state, sizeof e->state, st, 7);
	e->has_fitness = sqlite3_column_type(st, 8) != SQLITE_NULL;
	e->fitness = sqlite3_column_double(st, 8);
	store_text_column(e->note, sizeof e->note, st, 9);
}

/* Caller holds the lock. */
static int insert_entries(struct store *s, const char *id, const struct tournament_entry *e,
			  size_t n, struct evo_error *err)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = store_prepare(s,
					   "INSERT INTO tournament_entries (tournament_id, " ENTRY_COLUMNS
					   ") VALUES (?,?,?,?,?,?,?,?,?,?,?)",
					   "add a tournament's member", err);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, e[i].generation);
		sqlite3_bind_int(st, 3, e[i].index);
		sqlite3_bind_text(st, 4, e[i].genome_json, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 5, e[i].parent_a);
		sqlite3_bind_int(st, 6, e[i].parent_b);
		sqlite3_bind_int(st, 7, e[i].survivor);
		sqlite3_bind_text(st, 8, e[i].agent_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 9, e[i].state, -1, SQLITE_TRANSIENT);
		if (e[i].has_fitness)
			sqlite3_bind_double(st, 10, e[i].fitness);
		sqlite3_bind_text(st, 11, e[i].note, -1, SQLITE_TRANSIENT);
		if (store_step_done(s, st, "add a tournament's member", err) < 0)
			return -1;
	}
	return 0;
}

/* Caller holds the lock. */
static int update_tournament(struct store *s, const struct tournament_record *t,
			     struct evo_error *err)
{
	sqlite3_stmt *st = store_prepare(s,
				   "UPDATE tournaments SET state = ?2, generation = ?3, champion = ?4,"
				   " champion_fitness = ?5, champion_agent = ?6, champion_generation = ?7,"
				   " error = ?8, updated_at_ms = ?9, completed_at_ms = ?10 WHERE id = ?1",
				   "update a tournament", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, t->state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, t->generation);
	if (t->champion_json) {
		sqlite3_bind_text(st, 4, t->champion_json, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 5, t->champion_fitness);
	}
	sqlite3_bind_text(st, 6, t->champion_agent, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 7, t->champion_generation);
	sqlite3_bind_text(st, 8, t->error, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, t->updated_at_ms);
	sqlite3_bind_int64(st, 10, t->completed_at_ms);
	return store_step_done(s, st, "update a tournament", err);
}

int store_tournament_insert(struct store *s, const struct tournament_record *t,
			    const struct tournament_entry *entries, size_t n, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	int r = store_exec(s, "BEGIN IMMEDIATE;", err);
	if (r == 0) {
		sqlite3_stmt *st = store_prepare(s,
					   "INSERT INTO tournaments (" TOURNAMENT_COLUMNS
					   ") VALUES (?,?,?,?,?,NULL,NULL,'',0,'',?,?,0)",
					   "add a tournament", err);
		r = st ? 0 : -1;
		if (st) {
			sqlite3_bind_text(st, 1, t->id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, t->tenant, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, t->state, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 4, t->params_json, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(st, 5, t->generation);
			sqlite3_bind_int64(st, 6, t->created_at_ms);
			sqlite3_bind_int64(st, 7, t->updated_at_ms);
			r = store_step_done(s, st, "add a tournament", err);
		}
		if (r == 0)
			r = insert_entries(s, t->id, entries, n, err);
		r = store_finish_transaction(s, r, err);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_tournament_get(struct store *s, const char *id, const char *tenant,
			 struct tournament_record *out, struct evo_error *err)
{
	return store_get_scoped(s,
				"SELECT " TOURNAMENT_COLUMNS " FROM tournaments WHERE id = ?1"
				" AND (?2 IS NULL OR tenant = ?2)",
				id, tenant, tournament_from_row, out, "tournament", err);
}

int store_tournament_list(struct store *s, const char *tenant, bool running_only,
			  struct tournament_record **out, size_t *count, struct evo_error *err)
{
	return store_list_scoped(s,
				 "SELECT " TOURNAMENT_COLUMNS " FROM tournaments WHERE"
				 " (?1 IS NULL OR tenant = ?1) AND (?2 = 0 OR state = 'running')"
				 " ORDER BY created_at_ms DESC, id",
				 tenant, running_only, sizeof **out, tournament_from_row,
				 (void **)out, count, "tournament", err);
}

int store_tournament_update(struct store *s, const struct tournament_record *t,
			    struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	int r = update_tournament(s, t, err);
	if (r == 0)
		__atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_tournament_entries(struct store *s, const char *id, int generation,
			     struct tournament_entry **out, size_t *count, struct evo_error *err)
{
	*out = NULL;
	*count = 0;
	pthread_mutex_lock(&s->lock);
	int r = -1;
	sqlite3_stmt *st = store_prepare(s,
				   "SELECT " ENTRY_COLUMNS " FROM tournament_entries WHERE"
				   " tournament_id = ?1 AND (?2 < 0 OR generation = ?2)"
				   " ORDER BY generation, idx",
				   "read a tournament's members", err);
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, generation);
		size_t cap = 0;
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (*count == cap) {
				cap = cap ? cap * 2 : 16;
				*out = xrealloc(*out, cap * sizeof **out);
			}
			entry_from_row(st, &(*out)[(*count)++]);
		}
		r = rc == SQLITE_DONE ? 0 : store_db_error(s, err, "read a tournament's members");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_tournament_entry_update(struct store *s, const char *id,
				  const struct tournament_entry *e, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	int r = -1;
	sqlite3_stmt *st = store_prepare(s,
				   "UPDATE tournament_entries SET agent_id = ?4, state = ?5, fitness = ?6,"
				   " note = ?7 WHERE tournament_id = ?1 AND generation = ?2 AND idx = ?3",
				   "update a tournament's member", err);
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, e->generation);
		sqlite3_bind_int(st, 3, e->index);
		sqlite3_bind_text(st, 4, e->agent_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, e->state, -1, SQLITE_TRANSIENT);
		if (e->has_fitness)
			sqlite3_bind_double(st, 6, e->fitness);
		sqlite3_bind_text(st, 7, e->note, -1, SQLITE_TRANSIENT);
		r = store_step_done(s, st, "update a tournament's member", err);
		if (r == 0)
			__atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_tournament_advance(struct store *s, const struct tournament_record *t,
			     const struct tournament_entry *entries, size_t n, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	int r = store_exec(s, "BEGIN IMMEDIATE;", err);
	if (r == 0) {
		r = insert_entries(s, t->id, entries, n, err);
		if (r == 0)
			r = update_tournament(s, t, err);
		r = store_finish_transaction(s, r, err);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}
