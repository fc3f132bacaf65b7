/* The sandbox syscall filter.
 *
 * The policy (seccomp_policy.c) is compiled with libseccomp into a classic
 * BPF program once, when evoclaw is built, and embedded; each sandbox then
 * loads it with one seccomp(2) call, so creating a sandbox never pays for
 * compilation. */
#ifndef EVOCLAW_RUNTIME_LOCAL_SECCOMP_H
#define EVOCLAW_RUNTIME_LOCAL_SECCOMP_H

#include <linux/filter.h>

#include "common/error.h"

struct seccomp_program {
	struct sock_fprog fprog; /* filter points into owned memory */
};

/* The embedded, precompiled filter. Cannot fail. */
int sandbox_seccomp_program(const struct seccomp_program **out, struct evo_error *err);

/* Compile the policy with libseccomp (build time and tests only: not
 * linked into evoclaw). The caller frees prog->filter. */
int seccomp_policy_compile(struct sock_fprog *prog, struct evo_error *err);

/* Load into the calling thread. Needs no_new_privs (set here). Async-
 * signal-safe: meant for the child between clone and exec. Returns 0 or
 * -errno. */
int sandbox_seccomp_load(const struct seccomp_program *prog);

#endif
