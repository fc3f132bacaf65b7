/* Token buckets (issue 5: per-key and per-IP request limits). Pure: the
 * caller gives the time and keeps the buckets. A bucket holds up to
 * `burst` tokens and gains `rate` a second; a request takes one. */
#ifndef EVOCLAW_CORE_RATELIMIT_H
#define EVOCLAW_CORE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct rate_bucket {
	double tokens;
	int64_t last_ms; /* 0: new, full */
};

/* Take a token at now_ms. false when there is none, with *retry_after the
 * whole seconds (at least 1) until there is. */
bool rate_take(struct rate_bucket *b, double rate, double burst, int64_t now_ms,
	       uint32_t *retry_after);

#endif
