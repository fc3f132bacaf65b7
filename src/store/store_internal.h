/* What the store's files share (store.c: agents, store_tenants.c:
 * tenants and keys). Not for use outside src/store/. */
#ifndef EVOCLAW_STORE_STORE_INTERNAL_H
#define EVOCLAW_STORE_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
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

#endif
