/* The per-sandbox supervisor (like containerd-shim): a small daemon that
 * owns one sandbox so it outlives whatever created it.
 *
 * Its state lives in <run dir>/sandboxes/<id>/:
 *   state.json   what the sandbox is (id, template, pids, times, limits)
 *   control.sock SEQPACKET socket speaking the init protocol plus SUP_*
 *   output.log   the entrypoint's stdout and stderr (bounded, rotated)
 * Clients connect to control.sock to exec, attach, read stats, set the
 * timeout, pause and resume, or kill. Requests other than SUP_* are
 * relayed to init with the stream id rewritten per client, so clients
 * never see each other's streams. When the sandbox ends (killed, timed out, init exited), the
 * supervisor removes everything, then exits. */
#ifndef EVOCLAW_RUNTIME_LOCAL_SUPERVISOR_H
#define EVOCLAW_RUNTIME_LOCAL_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/local/sandbox.h"
#include "runtime/local/state.h"

/* Entrypoint output kept on disk: output.log rotates to output.log.1 at
 * this size, so between one and two times this much is kept. */
#define SUPERVISOR_LOG_ROTATE_BYTES (512u * 1024u)

/* Client stream ids must stay below this (the supervisor tags the rest). */
#define SUPERVISOR_CLIENT_STREAM_MAX 0x00ffffffu

/* Start a supervisor daemon that spawns the sandbox described by spec.
 * Returns once the sandbox runs (its id in id_out) or failed (err says
 * why). timeout_ms 0 = no timeout. pool_key names the warm pool the
 * sandbox is made for (NULL for none). */
int supervisor_start(const struct sandbox_spec *spec, uint64_t timeout_ms, const char *pool_key,
		     char id_out[SANDBOX_ID_MAX], struct evo_error *err);

/* Directory of a sandbox's state, and its control socket path. */
void supervisor_dir(const char *id, char *out, size_t size);
void supervisor_socket_path(const char *id, char *out, size_t size);

/* Ids of all sandboxes with a state directory, sorted; NULL-terminated. */
char **supervisor_list_ids(void);

/* What a running sandbox is (its state file). NOT_FOUND when there is no
 * such sandbox; a sandbox whose supervisor died is cleaned up and reported
 * as NOT_FOUND too. */
int supervisor_info(const char *id, struct sandbox_state *out, struct evo_error *err);

/* Kill a sandbox and wait until nothing of it remains. */
int supervisor_kill(const char *id, struct evo_error *err);

/* Wait until the supervisor of sandbox id has exited (at once if there is
 * none); false if it has not within timeout_ms. */
bool supervisor_wait(const char *id, int timeout_ms);

/* How an owned sandbox ended, kept after its state directory is gone
 * (<run dir>/ended/<id>.json) so an owner that was down at the time still
 * learns it. Only sandboxes with an owner leave one; the owner removes it. */
struct supervisor_end {
	char reason[16];   /* exited, timeout, killed, stopped, init-exited, ... */
	int32_t exit_code; /* -1 unless exited */
	int32_t signal;
	bool oom;
	long long ended_ms;
	char owner[128];
};

/* Read (and with remove, delete) the end record of sandbox id.
 * NOT_FOUND when there is none. */
int supervisor_end_read(const char *id, bool remove, struct supervisor_end *out,
			struct evo_error *err);

/* Delete every end record of owner; returns how many. */
int supervisor_end_sweep(const char *owner);

/* Remove what dead supervisors left behind (state dirs, cgroups). Returns
 * the number of sandboxes cleaned. */
int supervisor_collect_garbage(void);

#endif
