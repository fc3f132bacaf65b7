/* A local sandbox: evoclaw-init as PID 1 in fresh user, pid, mount, net,
 * uts, ipc and cgroup namespaces, on an overlay rootfs, under cgroup
 * limits, seccomp and dropped capabilities.
 *
 * sandbox_spawn() creates one and returns once init runs; the caller (a
 * supervisor, or `sandbox run` in the foreground) owns the result: the
 * init channel, init's pidfd, and the cgroup. sandbox_destroy() leaves
 * nothing behind. */
#ifndef EVOCLAW_RUNTIME_LOCAL_SANDBOX_H
#define EVOCLAW_RUNTIME_LOCAL_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/proto.h"
#include "runtime/local/cgroup.h"
#include "runtime/template.h"

#define SANDBOX_ID_LEN 20
#define SANDBOX_ID_MAX 64


struct sandbox_spec {
	char id[SANDBOX_ID_MAX];          /* empty: generate one */
	const struct template *tmpl;
	struct template_resources resources; /* effective limits */
	char *const *entry_argv;          /* NULL: no entrypoint, init idles */
	char *const *entry_env;           /* extra KEY=VALUE over the template's */
	bool entry_stdin;                 /* give the entrypoint a stdin pipe */
	bool exit_with_entrypoint;        /* init exits when the entrypoint does */
	const char *owner;                /* supervisor's state.json "owner", NULL: none */
};

struct sandbox {
	char id[SANDBOX_ID_MAX];
	pid_t init_pid;   /* host pid of evoclaw-init */
	int init_pidfd;
	int channel;      /* SEQPACKET to init (fd 3 inside) */
	struct cgroup cgroup;
	long long created_ms; /* unix ms */
	/* Its ids 0..65535 are host ids from idrange_host_base(id_slot): an
	 * unprivileged range of its own (idrange.h). */
	uint32_t id_slot;
	bool has_id_slot;
};

/* Fill id with a fresh random sandbox id (SANDBOX_ID_LEN chars [a-z0-9]). */
void sandbox_generate_id(char id[SANDBOX_ID_MAX]);

/* Is id well formed ([a-z0-9][a-z0-9-]{0,62})? */
bool sandbox_id_valid(const char *id);

/* Create the run directory (EVOCLAW_RUN_DIR) if missing, else check that
 * it is root's, writable by nobody else, and searchable. */
int sandbox_check_run_dir(struct evo_error *err);

/* Resolve the cgroup parent once per process; sandbox_spawn calls it. */
int sandbox_cgroup_root(const struct cgroup_root **out, struct evo_error *err);

/* Create the sandbox. On failure nothing is left behind and err says
 * which step failed. */
int sandbox_spawn(const struct sandbox_spec *spec, struct sandbox *out, struct evo_error *err);

/* The environment of a template's commands in sandbox `id`: HOME, USER,
 * HOSTNAME, PATH, the template's env, then extra (KEY=VALUE) over it.
 * NULL-terminated; free with sandbox_strv_free. */
char **sandbox_entry_env(const struct template *t, char *const *extra, const char *id);
void sandbox_strv_free(char **v);

/* Append to b a PROC_START for argv on stream, as the template's user in
 * its workdir with sandbox_entry_env's environment. EVO_ERR_INVALID (E2BIG)
 * when it does not fit in one request. */
int sandbox_entry_request(struct evo_buf *b, uint32_t stream, const struct template *t,
			  char *const *argv, char *const *extra_env, const char *id, bool stdin_pipe,
			  struct evo_error *err);

/* Kill everything in the sandbox, reap init, remove the cgroup, close the
 * fds. Safe on a partly torn-down sandbox; returns the first failure. */
int sandbox_destroy(struct sandbox *sb, struct evo_error *err);

#endif
