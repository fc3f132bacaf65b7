#include "core/evolution.h"

#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

int evolution_check(const struct evolution_params *p, struct evo_error *err)
{
	if (p->population < 2 || p->population > 1000)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "count: must be from 2 to 1000");
	if (p->survivors < 1 || p->survivors > p->population)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "survivors: must be from 1 to count (%zu)",
				     p->population);
	if (p->generations < 1 || p->generations > 100)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "generations: must be from 1 to 100");
	if (!(p->mutation_rate >= 0 && p->mutation_rate <= 1))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "mutation_rate: must be from 0 to 1");
	return 0;
}

void evolution_rank(const double *fitness, size_t n, size_t *order)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	/* Insertion sort: stable, and generations are small. */
	for (size_t i = 1; i < n; i++) {
		size_t v = order[i], j = i;
		while (j > 0 && fitness[order[j - 1]] < fitness[v]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
}

/* The fitter of three random members (by rank: a lower rank is fitter). */
static size_t pick(const size_t *order, size_t n, struct rng *r)
{
	size_t best = rng_below(r, n);
	for (int i = 0; i < 2; i++) {
		size_t other = rng_below(r, n);
		if (other < best)
			best = other;
	}
	return order[best];
}

void evolution_breed(const struct genome *current, const double *fitness, size_t n,
		     size_t survivors, double mutation_rate, struct rng *r,
		     struct evolution_member *next)
{
	size_t *order = xcalloc(n, sizeof *order);
	evolution_rank(fitness, n, order);
	if (survivors > n)
		survivors = n;
	for (size_t i = 0; i < survivors; i++) {
		next[i] = (struct evolution_member){
			.genome = current[order[i]],
			.parent_a = (int)order[i],
			.parent_b = -1,
			.survivor = true,
		};
	}
	for (size_t i = survivors; i < n; i++) {
		size_t a = pick(order, n, r), b = pick(order, n, r);
		struct evolution_member *m = &next[i];
		*m = (struct evolution_member){.parent_a = (int)a, .parent_b = (int)b};
		genome_crossover(&current[a], &current[b], r, &m->genome);
		genome_mutate(&m->genome, mutation_rate, r);
	}
	free(order);
}

void evolution_seed(const struct genome *seed, size_t n, double mutation_rate, struct rng *r,
		    struct evolution_member *out)
{
	double rate = mutation_rate * 2 > 1 ? 1 : mutation_rate * 2;
	for (size_t i = 0; i < n; i++) {
		out[i] = (struct evolution_member){.genome = *seed, .parent_a = -1, .parent_b = -1};
		if (i > 0)
			genome_mutate(&out[i].genome, rate, r);
	}
}
