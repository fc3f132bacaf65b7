/* A sandbox's state file (state.json in its runtime directory): what a
 * supervisor writes so other processes can find, list and clean up the
 * sandbox. Written atomically (rename), read without locking. */
#ifndef EVOCLAW_RUNTIME_LOCAL_STATE_H
#define EVOCLAW_RUNTIME_LOCAL_STATE_H

#include <sys/types.h>

#include "common/error.h"
#include "runtime/local/cgroup.h"
#include "runtime/local/sandbox.h"

struct sandbox_state {
	char id[SANDBOX_ID_MAX];
	char template_name[TEMPLATE_NAME_MAX + 1];
	pid_t supervisor_pid;
	pid_t init_pid;
	long long created_ms;
	long long deadline_ms; /* 0 = none (always while paused) */
	struct template_resources resources;
	bool has_entrypoint;
	struct cgroup cgroup;
	char pool_key[128]; /* warm pool it was made for, "" if none */
	int id_slot;        /* host id range (idrange.h), -1 if unknown */
	char owner[128];    /* who it belongs to (an orchestrator's tag), "" if nobody */
	/* Paused (its cgroup frozen) since paused_ms; its deadline is then
	 * stopped, remaining_ms from the moment it resumes (0 = none). */
	bool paused;
	long long paused_ms;
	long long remaining_ms;
};

int sandbox_state_write(const char *path, const struct sandbox_state *st, struct evo_error *err);
int sandbox_state_read(const char *path, struct sandbox_state *out, struct evo_error *err);

#endif
