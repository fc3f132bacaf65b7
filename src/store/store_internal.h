/* What the store's files share (store.c: agents, store_tenants.c:
 * tenants and keys). Not for use outside src/store/. */
#ifndef EVOCLAW_STORE_STORE_INTERNAL_H
#define EVOCLAW_STORE_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct store {
	sqlite3 *db;
	pthread_mutex_t lock;
	uint64_t generation; /* writes so far (store_generation) */
};

/* err from the connection's last error (CONFLICT for a constraint);
 * returns -1. Caller holds the lock. */
int store_db_error(struct store *s, struct evo_error *err, const char *what);
/* Run SQL without results. Caller holds the lock. */
int store_exec(struct store *s, const char *sql, struct evo_error *err);

/* A text column, copied into out (bounded; "" for NULL), or strdup'd
 * (NULL for NULL). */
void store_text_column(char *out, size_t size, sqlite3_stmt *st, int i);
char *store_text_dup(sqlite3_stmt *st, int i);
/* Prepare, or fill err saying `what` failed (NULL). Caller holds the lock. */
sqlite3_stmt *store_prepare(struct store *s, const char *sql, const char *what,
			    struct evo_error *err);
/* Step a statement that returns no rows, then finalize it. */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what, struct evo_error *err);
/* End a transaction begun with BEGIN: commit when rc_of_body is 0, else
 * roll back; a commit counts as a write (store_generation). */
int store_finish_transaction(struct store *s, int rc_of_body, struct evo_error *err);

/* A row into out (a record the callback fills). */
typedef void (*store_row_fn)(sqlite3_stmt *st, void *out);
/* One row of sql (?1 the id, ?2 a tenant or NULL for any): NOT_FOUND
 * ("no <what> <id>") when there is none. */
int store_get_scoped(struct store *s, const char *sql, const char *id, const char *tenant,
		     store_row_fn from_row, void *out, const char *what, struct evo_error *err);
/* Every row of sql (?1 a tenant or NULL for any, ?2 flag) into a malloc'd
 * array of elem_size records. */
int store_list_scoped(struct store *s, const char *sql, const char *tenant, int flag,
		      size_t elem_size, store_row_fn from_row, void **out, size_t *count,
		      const char *what, struct evo_error *err);

#endif
