/* A pool of ready network namespaces.
 *
 * Creating a network namespace costs the kernel ~0.5 ms, a third of a
 * sandbox's start. The pool keeps a few made in advance, each with lo up,
 * as bind mounts in <run dir>/netns/, so a sandbox takes one in ~50 us.
 * Each namespace is used by exactly one sandbox and dies with it; nothing
 * is reused. Pooled namespaces belong to the host's user namespace, so a
 * sandbox's root cannot reconfigure its own network (it could in one it
 * created itself). A detached refiller tops the pool up in batches, off
 * the critical path. EVOCLAW_NETNS_POOL=0 disables it. */
#ifndef EVOCLAW_RUNTIME_LOCAL_NETPOOL_H
#define EVOCLAW_RUNTIME_LOCAL_NETPOOL_H

#include "common/error.h"

/* How many namespaces the refiller keeps ready, and the level below which
 * a take starts a refill. */
#define NETPOOL_TARGET 8
#define NETPOOL_LOW_WATER 4

/* Take a namespace: returns an fd for setns(2), or -1 when the pool is
 * empty or disabled (the caller then makes its own). Never blocks on a
 * refill. */
int netpool_take(void);

/* Start a detached refill if the pool is below its low-water mark. */
void netpool_refill_async(void);

/* Fill the pool up to target now (what the refiller runs). Returns the
 * number added, or -1 with err set. */
int netpool_fill(int target, struct evo_error *err);

/* Unmount and remove every pooled namespace. Returns how many. */
int netpool_drain(void);

/* Bring lo up in the calling thread's network namespace (a fresh one has
 * it down). Returns 0 or -1 with errno set. */
int netns_loopback_up(void);

/* Namespaces ready now. */
int netpool_count(void);

#endif
