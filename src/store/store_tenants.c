/* Tenants and API keys in SQLite (migration 6). A key is stored as its
 * keyed hash only, with a short prefix to tell keys apart in listings. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "store/store_internal.h"

static void tenant_from_row(sqlite3_stmt *st, struct tenant *t)
{
	memset(t, 0, sizeof *t);
	snprintf(t->id, sizeof t->id, "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(t->email, sizeof t->email, "%s", (const char *)sqlite3_column_text(st, 1));
	t->max_agents = (uint32_t)sqlite3_column_int64(st, 2);
	t->credit_limit = sqlite3_column_int64(st, 3);
	t->created_at_ms = sqlite3_column_int64(st, 4);
}

static void key_from_row(sqlite3_stmt *st, struct api_key_record *k)
{
	memset(k, 0, sizeof *k);
	snprintf(k->id, sizeof k->id, "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(k->tenant_id, sizeof k->tenant_id, "%s", (const char *)sqlite3_column_text(st, 1));
	if (sqlite3_column_bytes(st, 2) == API_KEY_HASH_LEN)
		memcpy(k->hash, sqlite3_column_blob(st, 2), API_KEY_HASH_LEN);
	snprintf(k->prefix, sizeof k->prefix, "%s", (const char *)sqlite3_column_text(st, 3));
	k->created_at_ms = sqlite3_column_int64(st, 4);
	k->revoked_at_ms = sqlite3_column_int64(st, 5);
}

#define TENANT_COLUMNS "id, email, max_agents, credit_limit_micros, created_at_ms"
#define KEY_COLUMNS "id, tenant_id, hash, prefix, created_at_ms, revoked_at_ms"

/* Caller holds the lock. */
static int insert_key(struct store *s, const struct api_key_record *k, struct evo_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO api_keys (" KEY_COLUMNS ") VALUES (?,?,?,?,?,0)",
			       -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "add key");
		goto out;
	}
	sqlite3_bind_text(st, 1, k->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, k->tenant_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, k->hash, API_KEY_HASH_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, k->prefix, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, k->created_at_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_db_error(s, err, "add key");
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

/* Caller holds the lock. NOT_FOUND unless the tenant has the key in use. */
static int revoke_key(struct store *s, const char *tenant_id, const char *key_id, int64_t now_ms,
		      struct evo_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(s->db,
			       "UPDATE api_keys SET revoked_at_ms = ?1 WHERE id = ?2 AND tenant_id = ?3"
			       " AND revoked_at_ms = 0",
			       -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "revoke key");
		goto out;
	}
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, key_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, tenant_id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_db_error(s, err, "revoke key");
		goto out;
	}
	if (sqlite3_changes(s->db) == 0) {
		evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no key %.40s in use", key_id);
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

/* Run body(s, ...) in one transaction under the lock. */
#define IN_TRANSACTION(s, err, call)                                                               \
	({                                                                                         \
		pthread_mutex_lock(&(s)->lock);                                                    \
		int _r = store_exec((s), "BEGIN IMMEDIATE;", (err));                                \
		if (_r == 0) {                                                                     \
			_r = (call);                                                               \
			store_exec((s), _r == 0 ? "COMMIT;" : "ROLLBACK;", NULL);                  \
		}                                                                                  \
		pthread_mutex_unlock(&(s)->lock);                                                  \
		_r;                                                                                \
	})

static int insert_tenant_and_key(struct store *s, const struct tenant *t,
				 const struct api_key_record *key, struct evo_error *err)
{
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO tenants (" TENANT_COLUMNS ") VALUES (?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "register tenant");
		goto out;
	}
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, t->email, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, t->max_agents);
	sqlite3_bind_int64(st, 4, t->credit_limit);
	sqlite3_bind_int64(st, 5, t->created_at_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_db_error(s, err, "register tenant");
		if (err && err->kind == EVO_ERR_CONFLICT)
			evo_error_set(err, EVO_ERR_CONFLICT, 0, "email: %.254s is registered already",
				      t->email);
		goto out;
	}
	r = insert_key(s, key, err);
out:
	sqlite3_finalize(st);
	return r;
}

int store_tenant_insert(struct store *s, const struct tenant *t, const struct api_key_record *key,
			struct evo_error *err)
{
	return IN_TRANSACTION(s, err, insert_tenant_and_key(s, t, key, err));
}

static int add_key(struct store *s, const struct api_key_record *key, const char *replaces,
		   int64_t now_ms, struct evo_error *err)
{
	if (replaces && revoke_key(s, key->tenant_id, replaces, now_ms, err) < 0)
		return -1;
	return insert_key(s, key, err);
}

int store_key_add(struct store *s, const struct api_key_record *key, const char *replaces,
		  int64_t now_ms, struct evo_error *err)
{
	return IN_TRANSACTION(s, err, add_key(s, key, replaces, now_ms, err));
}

int store_key_revoke(struct store *s, const char *tenant_id, const char *key_id, int64_t now_ms,
		     struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	int r = revoke_key(s, tenant_id, key_id, now_ms, err);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* One row by a text or blob parameter: 1 found, 0 none, -1 error. */
static int select_one(struct store *s, const char *sql, const void *param, int param_len,
		      void (*from_row)(sqlite3_stmt *, void *), void *out, struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "read");
		goto out;
	}
	if (param_len < 0)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_blob(st, 1, param, param_len, SQLITE_TRANSIENT);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		from_row(st, out);
		r = 1;
	} else if (step == SQLITE_DONE) {
		r = 0;
	} else {
		store_db_error(s, err, "read");
	}
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void tenant_row(sqlite3_stmt *st, void *out)
{
	tenant_from_row(st, out);
}

static void key_row(sqlite3_stmt *st, void *out)
{
	key_from_row(st, out);
}

int store_tenant_get(struct store *s, const char *id, struct tenant *out, struct evo_error *err)
{
	int r = select_one(s, "SELECT " TENANT_COLUMNS " FROM tenants WHERE id = ?1", id, -1,
			   tenant_row, out, err);
	if (r == 0)
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no tenant %.40s", id);
	return r < 0 ? -1 : 0;
}

int store_key_find(struct store *s, const uint8_t hash[API_KEY_HASH_LEN],
		   struct api_key_record *out, struct evo_error *err)
{
	int r = select_one(s, "SELECT " KEY_COLUMNS " FROM api_keys WHERE hash = ?1", hash,
			   API_KEY_HASH_LEN, key_row, out, err);
	if (r == 0)
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no such key");
	return r < 0 ? -1 : 0;
}

/* Every row of a query with at most one text parameter, into a malloc'd
 * array of records of `size` bytes. */
static int select_all(struct store *s, const char *sql, const char *param, size_t size,
		      void (*from_row)(sqlite3_stmt *, void *), void **out, size_t *count,
		      struct evo_error *err)
{
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = NULL;
	char *rows = NULL;
	size_t n = 0;
	int r = -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_error(s, err, "list");
		goto out;
	}
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		rows = xrealloc(rows, (n + 1) * size);
		from_row(st, rows + n * size);
		n++;
	}
	if (step != SQLITE_DONE) {
		store_db_error(s, err, "list");
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

int store_tenant_list(struct store *s, struct tenant **out, size_t *count, struct evo_error *err)
{
	return select_all(s, "SELECT " TENANT_COLUMNS " FROM tenants ORDER BY created_at_ms, id", NULL,
			  sizeof **out, tenant_row, (void **)out, count, err);
}

int store_key_list(struct store *s, const char *tenant_id, struct api_key_record **out,
		   size_t *count, struct evo_error *err)
{
	return select_all(s,
			  "SELECT " KEY_COLUMNS " FROM api_keys WHERE tenant_id = ?1"
			  " ORDER BY created_at_ms, id",
			  tenant_id, sizeof **out, key_row, (void **)out, count, err);
}
