/* A small deterministic random number generator (xoshiro256**, seeded by
 * splitmix64): the same seed gives the same market, mutations and
 * tournaments on every machine, so evolution runs can be replayed and
 * tested. Not for secrets (libsodium makes those). */
#ifndef EVOCLAW_CORE_RNG_H
#define EVOCLAW_CORE_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1). */
double rng_uniform(struct rng *r);
/* Uniform integer in [0, n); n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Standard normal (mean 0, deviation 1). */
double rng_normal(struct rng *r);

#endif
