/* src/core/evolution.c: ranking, elitism, breeding, lineage; and a whole
 * tournament on a generated market (what issue 7 asks of burst mode). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/evolution.h"
#include "core/trader.h"

Test(evolution, rank_is_best_first_and_stable)
{
	double f[] = {0.5, 2, -1, 2, 0};
	size_t order[5];
	evolution_rank(f, 5, order);
	size_t want[] = {1, 3, 0, 4, 2};
	cr_expect_eq(memcmp(order, want, sizeof want), 0);
}

Test(evolution, parameters_are_checked)
{
	struct evo_error err = {0};
	struct evolution_params ok = {.population = 8, .survivors = 2, .generations = 3, .mutation_rate = 0.2};
	cr_expect_eq(evolution_check(&ok, &err), 0);
	struct evolution_params bad = ok;
	bad.survivors = 9;
	cr_expect_eq(evolution_check(&bad, &err), -1);
	cr_expect_not_null(strstr(err.msg, "survivors"));
	bad = ok;
	bad.mutation_rate = 1.5;
	cr_expect_eq(evolution_check(&bad, &err), -1);
	cr_expect_not_null(strstr(err.msg, "mutation_rate"));
	bad = ok;
	bad.population = 1;
	cr_expect_eq(evolution_check(&bad, &err), -1);
}

Test(evolution, a_tournament_never_loses_its_best_and_keeps_lineage)
{
	struct market m;
	struct evo_error err = {0};
	cr_assert_eq(market_generate(2026, 4000, 100, &m, NULL, &err), 0);
	struct trade_costs costs;
	trader_default_costs(&costs);
	enum { N = 8, K = 2, G = 3 };
	struct rng r;
	rng_seed(&r, 99);
	struct genome seed;
	genome_default(GENOME_MOMENTUM, &seed);
	struct evolution_member gen[G][N];
	evolution_seed(&seed, N, 0.3, &r, gen[0]);
	cr_expect(genome_equal(&gen[0][0].genome, &seed), "the seed itself is in generation 0");
	double best[G];
	for (int g = 0; g < G; g++) {
		struct genome genomes[N];
		double fitness[N];
		best[g] = -1e300;
		for (int i = 0; i < N; i++) {
			struct trade_result res;
			trader_run(&gen[g][i].genome, &m, &costs, &res);
			gen[g][i].fitness = fitness[i] = res.fitness;
			genomes[i] = gen[g][i].genome;
			if (res.fitness > best[g])
				best[g] = res.fitness;
		}
		if (g + 1 < G)
			evolution_breed(genomes, fitness, N, K, 0.3, &r, gen[g + 1]);
	}
	/* Elitism on the same data: the best never falls. */
	for (int g = 1; g < G; g++)
		cr_expect_geq(best[g], best[g - 1], "generation %d: %f < %f", g, best[g], best[g - 1]);
	/* Lineage: survivors are their parent unchanged; every child names
	 * two members of the generation before. */
	for (int g = 1; g < G; g++) {
		int survivors = 0;
		for (int i = 0; i < N; i++) {
			struct evolution_member *e = &gen[g][i];
			cr_assert(e->parent_a >= 0 && e->parent_a < N);
			if (e->survivor) {
				survivors++;
				cr_expect_eq(e->parent_b, -1);
				cr_expect(genome_equal(&e->genome, &gen[g - 1][e->parent_a].genome));
			} else {
				cr_assert(e->parent_b >= 0 && e->parent_b < N);
			}
		}
		cr_expect_eq(survivors, K);
		/* The survivors are the previous generation's best K. */
		double f[N];
		size_t order[N];
		for (int i = 0; i < N; i++)
			f[i] = gen[g - 1][i].fitness;
		evolution_rank(f, N, order);
		cr_expect_eq((size_t)gen[g][0].parent_a, order[0]);
		cr_expect_eq((size_t)gen[g][1].parent_a, order[1]);
	}
	market_free(&m);
}
