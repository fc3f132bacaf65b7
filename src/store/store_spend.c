/* Spend over time (migration 8): samples of cumulative spend, everyone's
 * (scope "") and each tenant's, taken by the orchestrator when spend
 * changes and kept for a week; what the dashboard's chart draws. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "store/store_internal.h"

/* Append a sample to a growing array. */
static void push(struct spend_sample **list, size_t *n, size_t *cap, const char *scope,
		 int64_t at_ms, usd_micros spent)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*list = xrealloc(*list, *cap * sizeof **list);
	}
	struct spend_sample *e = &(*list)[(*n)++];
	snprintf(e->scope, sizeof e->scope, "%s", scope);
	e->at_ms = at_ms;
	e->spent = spent;
}

static struct spend_sample *find_scope(struct spend_sample *list, size_t n, const char *scope)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].scope, scope) == 0)
			return &list[i];
	return NULL;
}

/* Run one query into *list (caller holds the lock). Its parameters, as
 * many as it has: ?1 scope, ?2 since_ms, ?3 bucket_ms. With scope NULL its
 * rows are (scope, spent), summed per scope; else (at_ms, spent) of that
 * scope, appended. */
static int collect(struct store *s, const char *sql, const char *scope, int64_t since_ms,
		   int64_t bucket_ms, struct spend_sample **list, size_t *n, size_t *cap,
		   struct evo_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_db_error(s, err, "read spend");
	int params = sqlite3_bind_parameter_count(st);
	if (params >= 1)
		sqlite3_bind_text(st, 1, scope, -1, SQLITE_TRANSIENT);
	if (params >= 2)
		sqlite3_bind_int64(st, 2, since_ms);
	if (params >= 3)
		sqlite3_bind_int64(st, 3, bucket_ms);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		usd_micros spent = sqlite3_column_int64(st, 1);
		if (scope) {
			push(list, n, cap, scope, sqlite3_column_int64(st, 0), spent);
			continue;
		}
		const char *row_scope = (const char *)sqlite3_column_text(st, 0);
		struct spend_sample *e = find_scope(*list, *n, row_scope ? row_scope : "");
		if (e)
			e->spent += spent;
		else
			push(list, n, cap, row_scope ? row_scope : "", 0, spent);
	}
	int r = rc == SQLITE_DONE ? 0 : store_db_error(s, err, "read spend");
	sqlite3_finalize(st);
	return r;
}

/* Run queries in turn into a new list. */
static int collect_all(struct store *s, const char *const *queries, size_t count,
		       const char *scope, int64_t since_ms, int64_t bucket_ms,
		       struct spend_sample **out, size_t *n, struct evo_error *err)
{
	struct spend_sample *list = NULL;
	size_t got = 0, cap = 0;
	int r = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t q = 0; q < count && r == 0; q++)
		r = collect(s, queries[q], scope, since_ms, bucket_ms, &list, &got, &cap, err);
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		free(list);
		return -1;
	}
	*out = list;
	*n = got;
	return 0;
}

int store_spend_finished_by_tenant(struct store *s, struct spend_sample **out, size_t *count,
				   struct evo_error *err)
{
	/* Finished records per tenant, then the ledger rows that keep what
	 * destroyed ones spent ("tenant:<id>"; the operator's own are
	 * everyone's row less the tenants'). */
	static const char *const queries[] = {
		"SELECT tenant, sum(cost_micros) FROM agents"
		" WHERE status IN ('completed', 'failed') GROUP BY tenant",
		"SELECT substr(name, 8), micros FROM ledger WHERE name LIKE 'tenant:%'",
		"SELECT '', micros - (SELECT coalesce(sum(micros), 0) FROM ledger"
		" WHERE name LIKE 'tenant:%') FROM ledger WHERE name = 'destroyed_agents_spend'",
	};
	return collect_all(s, queries, sizeof queries / sizeof *queries, NULL, 0, 0, out, count,
			   err);
}

int store_spend_record(struct store *s, const struct spend_sample *samples, size_t n,
		       int64_t keep_after_ms, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	int r = -1;
	sqlite3_stmt *insert = NULL, *prune = NULL;
	if (store_exec(s, "BEGIN IMMEDIATE;", err) < 0)
		goto out;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO spend_samples (scope, at_ms, spent_micros)"
			       " VALUES (?1, ?2, ?3)",
			       -1, &insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM spend_samples WHERE at_ms < ?1", -1, &prune,
			       NULL) != SQLITE_OK) {
		store_db_error(s, err, "record spend");
		goto rollback;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(insert);
		sqlite3_bind_text(insert, 1, samples[i].scope, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(insert, 2, samples[i].at_ms);
		sqlite3_bind_int64(insert, 3, samples[i].spent);
		if (sqlite3_step(insert) != SQLITE_DONE) {
			store_db_error(s, err, "record spend");
			goto rollback;
		}
	}
	sqlite3_bind_int64(prune, 1, keep_after_ms);
	if (sqlite3_step(prune) != SQLITE_DONE) {
		store_db_error(s, err, "forget old spend");
		goto rollback;
	}
	if (store_exec(s, "COMMIT;", err) < 0)
		goto rollback;
	r = 0;
	goto out;
rollback:
	store_exec(s, "ROLLBACK;", NULL);
out:
	sqlite3_finalize(insert);
	sqlite3_finalize(prune);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int store_spend_history(struct store *s, const char *scope, int64_t since_ms, int64_t bucket_ms,
			struct spend_sample **out, size_t *count, struct evo_error *err)
{
	/* Cumulative spend never falls, so a bucket's last sample is its
	 * largest. */
	static const char *const queries[] = {
		"SELECT ?2, spent_micros FROM spend_samples WHERE scope = ?1 AND at_ms < ?2"
		" ORDER BY at_ms DESC LIMIT 1",
		"SELECT max(at_ms), max(spent_micros) FROM spend_samples"
		" WHERE scope = ?1 AND at_ms >= ?2 GROUP BY (at_ms - ?2) / ?3 ORDER BY 1",
	};
	return collect_all(s, queries, sizeof queries / sizeof *queries, scope, since_ms,
			   bucket_ms < 1 ? 1 : bucket_ms, out, count, err);
}
