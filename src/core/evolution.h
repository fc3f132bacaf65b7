/* Evolution tournaments (issue 7): from one generation's genomes and their
 * fitness, the next generation. Pure and deterministic for a given rng.
 *
 * The top `survivors` go on unchanged (elitism: the best fitness never
 * falls from one generation to the next on the same market), and the rest
 * are bred from the ranked generation: two parents each picked by a
 * tournament of three (the fitter of three random members), crossed, then
 * mutated at `mutation_rate`. Every child's parents are recorded (their
 * indices in the previous generation), so lineage can be traced. */
#ifndef EVOCLAW_CORE_EVOLUTION_H
#define EVOCLAW_CORE_EVOLUTION_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "core/genome.h"
#include "core/rng.h"

struct evolution_params {
	size_t population;    /* N: 2..1000 */
	size_t survivors;     /* K: 1..N */
	size_t generations;   /* G: 1..100 */
	double mutation_rate; /* 0..1 */
};

/* Check a tournament's parameters; errors name the field. */
int evolution_check(const struct evolution_params *p, struct evo_error *err);

/* A generation's member, ranked. */
struct evolution_member {
	struct genome genome;
	double fitness;
	int parent_a, parent_b; /* indices into the previous generation, -1: none */
	bool survivor;          /* carried over unchanged */
};

/* Order indices of `fitness` best first (ties: lower index first). */
void evolution_rank(const double *fitness, size_t n, size_t *order);

/* The next generation (n members, written to next; fitness left 0) from
 * the current one's genomes and fitness. */
void evolution_breed(const struct genome *current, const double *fitness, size_t n,
		     size_t survivors, double mutation_rate, struct rng *r,
		     struct evolution_member *next);

/* Generation 0: n members from a seed genome — the seed itself, then
 * mutations of it (at a higher rate, for diversity). */
void evolution_seed(const struct genome *seed, size_t n, double mutation_rate, struct rng *r,
		    struct evolution_member *out);

#endif
