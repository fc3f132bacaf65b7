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

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
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

/* A tournament's parameters (orchestrator/tournament.h), as a request
 * gives them: {"count": 2..256 (required), "generations": 1..100 (3),
 * "survivors": 1..count (count/4), "mutation_rate": 0..1 (0.2),
 * "eval_seconds": 1..3600 (60), "genome": the seed genome (momentum's
 * defaults), "market_seed": 0..2^53 (absent: the caller picks one),
 * "steps": 2..1000000 (500), "step_ms": 0..60000 (0)}. */
#define TOURNAMENT_COUNT_MAX 256
#define TOURNAMENT_GENERATIONS_MAX 100

struct tournament_params {
	struct evolution_params evo; /* count (population), survivors, generations, mutation_rate */
	struct genome seed;          /* generation 0 is it and mutations of it */
	bool has_market_seed;
	uint64_t market_seed;        /* EVOCLAW_MARKET=generated:<seed> */
	uint32_t steps;              /* prices each agent trades */
	uint32_t step_ms;            /* pause between prices */
	uint32_t eval_seconds;       /* each agent's timeout */
	char provider[16];           /* where its agents run; "": the server's default */
};

/* Parse and check; errors name the field; unknown fields are refused. */
int tournament_params_parse(json_t *body, struct tournament_params *out, struct evo_error *err);
json_t *tournament_params_json(const struct tournament_params *p);

#endif
