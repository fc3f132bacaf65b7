/* The orchestrator's state in SQLite (DESIGN §11): WAL mode, versioned
 * migrations, every change in a transaction, so `kill -9` loses no
 * committed record. One connection behind a mutex: callers may be on any
 * thread. */
#ifndef EVOCLAW_STORE_STORE_H
#define EVOCLAW_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "core/agent.h"

struct store;

/* Open (creating if needed) <data_dir>/evoclaw.db and bring its schema up
 * to date. The directory is created with mode 0700. */
int store_open(const char *data_dir, struct store **out, struct evo_error *err);
void store_close(struct store *s);

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

/* Agents newest first, of one tenant (NULL: all), a page at a time.
 * *out is malloc'd (free each with agent_clear, then the array). */
int store_agent_list(struct store *s, const char *tenant, size_t offset, size_t limit,
		     struct agent **out, size_t *count, struct evo_error *err);

/* Agents pending or running (NULL tenant: all). */
int store_agent_count_active(struct store *s, const char *tenant, uint32_t *count,
			     struct evo_error *err);

#endif
