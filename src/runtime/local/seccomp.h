/* The sandbox syscall filter.
 *
 * Compiled once per process with libseccomp into a classic BPF program and
 * then loaded into each sandbox with one seccomp(2) call, so creating a
 * sandbox never pays for compilation. */
#ifndef EVOCLAW_RUNTIME_LOCAL_SECCOMP_H
#define EVOCLAW_RUNTIME_LOCAL_SECCOMP_H

#include <linux/filter.h>

#include "common/error.h"

struct seccomp_program {
	struct sock_fprog fprog; /* filter points into owned memory */
};

/* Compile the filter (cached for the life of the process). */
int sandbox_seccomp_program(const struct seccomp_program **out, struct evo_error *err);

/* Load into the calling thread. Needs no_new_privs (set here). Async-
 * signal-safe: meant for the child between clone and exec. Returns 0 or
 * -errno. */
int sandbox_seccomp_load(const struct seccomp_program *prog);

#endif
