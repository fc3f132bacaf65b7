#include "core/ratelimit.h"

#include <math.h>

bool rate_take(struct rate_bucket *b, double rate, double burst, int64_t now_ms,
	       uint32_t *retry_after)
{
	if (b->last_ms == 0) {
		b->tokens = burst;
	} else if (now_ms > b->last_ms) {
		b->tokens += rate * (double)(now_ms - b->last_ms) / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	if (now_ms > b->last_ms)
		b->last_ms = now_ms;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return true;
	}
	double wait = rate > 0 ? (1.0 - b->tokens) / rate : 3600.0;
	*retry_after = (uint32_t)fmax(1.0, ceil(wait));
	return false;
}
