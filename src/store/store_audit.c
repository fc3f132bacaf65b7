/* The audit log (migration 7): one row per mutating API call, never
 * changed once written (triggers refuse UPDATE and DELETE). It holds who,
 * what and the outcome, never request bodies, so no secret reaches it. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "store/store_internal.h"

int store_audit_append(struct store *s, const struct audit_entry *e, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO audit (at_ms, actor, key_id, address, method, route,"
			       " target, status) VALUES (?,?,?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "audit");
		goto out;
	}
	sqlite3_bind_int64(st, 1, e->at_ms);
	sqlite3_bind_text(st, 2, e->actor, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, e->key_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, e->address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, e->method, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, e->route, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, e->target, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 8, e->status);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_db_error(s, err, "audit");
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

int store_audit_list(struct store *s, const struct audit_filter *f, size_t limit,
		     struct audit_entry **out, size_t *count, struct evo_error *err)
{
	/* Every condition is always there, disabled by its own parameter,
	 * so one statement serves all filters. */
	static const char sql[] =
		"SELECT seq, at_ms, actor, key_id, address, method, route, target, status FROM audit"
		" WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR method = ?2)"
		" AND (?3 IS NULL OR route = ?3) AND (?4 = 0 OR status = ?4)"
		" AND (?5 = 0 OR at_ms >= ?5) AND (?6 = 0 OR at_ms < ?6) AND (?7 = 0 OR seq < ?7)"
		" ORDER BY seq DESC LIMIT ?8";
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	struct audit_entry *rows = NULL;
	size_t n = 0;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "read the audit log");
		goto out;
	}
	const char *texts[] = {f->actor, f->method, f->route};
	for (int i = 0; i < 3; i++) {
		if (texts[i])
			sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, i + 1);
	}
	sqlite3_bind_int(st, 4, f->status);
	sqlite3_bind_int64(st, 5, f->since_ms);
	sqlite3_bind_int64(st, 6, f->until_ms);
	sqlite3_bind_int64(st, 7, f->before_seq);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)limit);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		rows = xrealloc(rows, (n + 1) * sizeof *rows);
		struct audit_entry *e = &rows[n++];
		memset(e, 0, sizeof *e);
		e->seq = sqlite3_column_int64(st, 0);
		e->at_ms = sqlite3_column_int64(st, 1);
		copy_col(e->actor, sizeof e->actor, st, 2);
		copy_col(e->key_id, sizeof e->key_id, st, 3);
		copy_col(e->address, sizeof e->address, st, 4);
		copy_col(e->method, sizeof e->method, st, 5);
		copy_col(e->route, sizeof e->route, st, 6);
		copy_col(e->target, sizeof e->target, st, 7);
		e->status = sqlite3_column_int(st, 8);
	}
	if (step != SQLITE_DONE) {
		store_db_error(s, err, "read the audit log");
		free(rows);
		goto out;
	}
	*out = rows;
	*count = n;
	r = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}
