/* A trading strategy's genome (DESIGN §10): which strategy a trader agent
 * runs and its parameters. Parsed from the JSON of EVOCLAW_GENOME or a
 * spawn's "genome", mutated and crossed by evolution tournaments. Pure.
 *
 *   {"strategy": "momentum", "lookback_periods": 20, "threshold": 0.02,
 *    "position_size": 0.5}
 *   {"strategy": "mean_reversion", "window": 30, "z_entry": 2.0, "z_exit": 0.5}
 *
 * momentum: long when the price rose more than `threshold` (a fraction)
 * over `lookback_periods`, short when it fell as much, flat between.
 * mean_reversion: long when the price is `z_entry` standard deviations
 * under its `window` mean, short as far above, flat once back within
 * `z_exit`. position_size: the fraction of equity a position takes. */
#ifndef EVOCLAW_CORE_GENOME_H
#define EVOCLAW_CORE_GENOME_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "core/rng.h"

enum genome_strategy {
	GENOME_MOMENTUM,
	GENOME_MEAN_REVERSION,
};

struct genome {
	enum genome_strategy strategy;
	uint32_t lookback_periods; /* momentum: 2..500 */
	double threshold;          /* momentum: 0..0.5 */
	uint32_t window;           /* mean_reversion: 2..500 */
	double z_entry;            /* mean_reversion: 0.1..10 */
	double z_exit;             /* mean_reversion: 0..z_entry */
	double position_size;      /* (0, 1], default 0.5 */
};

#define GENOME_PERIODS_MIN 2
#define GENOME_PERIODS_MAX 500

/* The defaults of a strategy. */
void genome_default(enum genome_strategy s, struct genome *out);

/* Parse and check a genome; the error names the field under `path`
 * ("genome.threshold: must be a number from 0 to 0.5"). */
int genome_parse(const char *json, const char *path, struct genome *out, struct evo_error *err);

/* Compact JSON of a genome (malloc'd). */
char *genome_to_json(const struct genome *g);

/* Change each parameter with probability `rate` (a small multiplicative
 * or ±step change, kept within bounds), and switch strategy with
 * probability rate / 4 (to the other's defaults, then mutated). */
void genome_mutate(struct genome *g, double rate, struct rng *r);

/* A child of two parents: the strategy of one of them; each parameter of
 * that strategy from either parent when both run it. */
void genome_crossover(const struct genome *a, const struct genome *b, struct rng *r,
		      struct genome *child);

const char *genome_strategy_name(enum genome_strategy s);

/* The same strategy with the same parameters (those of its strategy). */
bool genome_equal(const struct genome *a, const struct genome *b);

#endif
