/* Market feeds for paper trading (issue 7): a price series either replayed
 * from CSV or generated from a seed. Pure.
 *
 * The generator walks through regimes (trending up, trending down,
 * range-bound and mean-reverting, volatile), switching every 100 to 400
 * steps, so momentum and mean-reversion strategies each have times to win
 * and to lose; the same seed always gives the same series. */
#ifndef EVOCLAW_CORE_MARKET_H
#define EVOCLAW_CORE_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct market {
	double *price; /* malloc'd, n > 0 prices, all > 0 */
	size_t n;
};

enum market_regime {
	MARKET_TREND_UP,
	MARKET_TREND_DOWN,
	MARKET_RANGE,
	MARKET_VOLATILE,
};

/* n prices (2 .. 10,000,000) from `seed`, starting at `start` (> 0). The
 * regime of each step is written to regimes when not NULL (n entries). */
int market_generate(uint64_t seed, size_t n, double start, struct market *out,
		    enum market_regime *regimes, struct evo_error *err);

/* A CSV replay: a header naming a "price" or "close" column (any case;
 * other columns ignored), then one row per step; blank lines and lines
 * starting with # are skipped. Errors name the line. At least 2 rows. */
int market_parse_csv(const char *text, size_t len, struct market *out, struct evo_error *err);

void market_free(struct market *m);

#endif
