/* Token buckets: a burst, then the rate, and how long to wait. */
#include <criterion/criterion.h>

#include "core/ratelimit.h"

Test(ratelimit, burst_then_rate)
{
	struct rate_bucket b = {0};
	uint32_t retry = 0;
	for (int i = 0; i < 5; i++)
		cr_assert(rate_take(&b, 2.0, 5.0, 1000, &retry), "burst request %d", i);
	cr_assert(!rate_take(&b, 2.0, 5.0, 1000, &retry));
	cr_expect_eq(retry, 1, "one token comes in 0.5 s: say 1");
	cr_assert(!rate_take(&b, 2.0, 5.0, 1400, &retry), "0.8 tokens after 0.4 s");
	cr_assert(rate_take(&b, 2.0, 5.0, 1500, &retry), "one after 0.5 s");
	/* Idle time refills up to the burst, never beyond. */
	for (int i = 0; i < 5; i++)
		cr_assert(rate_take(&b, 2.0, 5.0, 100000, &retry));
	cr_assert(!rate_take(&b, 2.0, 5.0, 100000, &retry));
	/* A slow rate says how long. */
	struct rate_bucket slow = {0};
	cr_assert(rate_take(&slow, 0.1, 1.0, 5000, &retry));
	cr_assert(!rate_take(&slow, 0.1, 1.0, 5000, &retry));
	cr_expect_eq(retry, 10);
	/* A clock that goes back takes nothing away. */
	cr_assert(!rate_take(&slow, 0.1, 1.0, 4000, &retry));
	cr_assert(rate_take(&slow, 0.1, 1.0, 15000, &retry));
}
