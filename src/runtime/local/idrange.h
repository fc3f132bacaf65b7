/* Host id ranges, one per sandbox.
 *
 * A sandbox's ids 0..65535 map onto a host range of its own, so the kernel
 * limits that count per host user (inotify instances, epoll watches, pipe
 * buffers, user namespaces) are per sandbox: one sandbox cannot exhaust
 * them for the others. A range is claimed with an O_EXCL file
 * <run dir>/idranges/<slot> naming the sandbox, released when it ends, and
 * collected when its sandbox is gone (a killed supervisor or `run`). */
#ifndef EVOCLAW_RUNTIME_LOCAL_IDRANGE_H
#define EVOCLAW_RUNTIME_LOCAL_IDRANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define IDRANGE_SIZE 65536u
/* Above the ids a host hands out to its own users and services. */
#define IDRANGE_BASE 1000000u
/* So the last range still ends below 2^32 - 1 (an invalid id). */
#define IDRANGE_SLOTS 16384u

/* Claim a free range for sandbox `id`; *slot identifies it. LIMIT when
 * IDRANGE_SLOTS sandboxes exist at once. */
int idrange_claim(const char *id, uint32_t *slot, struct evo_error *err);

/* First host id of a slot's range. */
uint32_t idrange_host_base(uint32_t slot);

/* Release a slot if sandbox `id` still holds it. */
void idrange_release(uint32_t slot, const char *id);

/* Release the ranges of sandboxes that `is_live` says are gone (and that
 * are older than a minute, so a sandbox being made is never robbed).
 * Returns how many were released. */
int idrange_collect_garbage(bool (*is_live)(const char *id, void *ctx), void *ctx);

#endif
