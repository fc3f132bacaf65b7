/* Request limits of the HTTP server (issue 5): a token bucket per API key
 * and per client address, in a fixed table, so a flood of new names costs
 * no memory (an evicted bucket comes back full: the table fails open for
 * the names it forgot, never closed for a good client). */
#ifndef EVOCLAW_API_LIMITER_H
#define EVOCLAW_API_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

struct api_limiter;

struct api_limiter *api_limiter_new(void);
void api_limiter_free(struct api_limiter *l);

/* A request by `name` ("ip:127.0.0.1", "key:key_..."): true if its bucket
 * (rate a second, burst at most) had a token; else *retry_after seconds.
 * rate 0 means no limit. Thread-safe. */
bool api_limiter_take(struct api_limiter *l, const char *name, uint32_t rate, uint32_t burst,
		      int64_t now_ms, uint32_t *retry_after);

#endif
