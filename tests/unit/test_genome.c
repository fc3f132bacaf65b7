/* src/core/genome.c and rng.c: parsing, mutation and crossover. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/genome.h"

Test(genome, parses_both_strategies_with_defaults)
{
	struct genome g;
	struct evo_error err = {0};
	cr_assert_eq(genome_parse("{\"strategy\":\"momentum\",\"lookback_periods\":20,\"threshold\":0.02}",
				  "genome", &g, &err), 0, "%s", err.msg);
	cr_expect_eq(g.strategy, GENOME_MOMENTUM);
	cr_expect_eq(g.lookback_periods, 20);
	cr_expect_float_eq(g.threshold, 0.02, 1e-12);
	cr_expect_float_eq(g.position_size, 0.5, 1e-12);
	cr_assert_eq(genome_parse("{\"strategy\":\"mean_reversion\",\"window\":30,\"z_entry\":2.5,"
				  "\"z_exit\":0.25,\"position_size\":1}",
				  "genome", &g, &err), 0, "%s", err.msg);
	cr_expect_eq(g.strategy, GENOME_MEAN_REVERSION);
	cr_expect_eq(g.window, 30);
	cr_expect_float_eq(g.z_exit, 0.25, 1e-12);
	char *json = genome_to_json(&g);
	struct genome back;
	cr_assert_eq(genome_parse(json, "genome", &back, &err), 0, "%s: %s", json, err.msg);
	cr_expect(genome_equal(&back, &g), "%s", json);
	cr_expect_null(strstr(json, "lookback"), "only its own strategy's parameters: %s", json);
	free(json);
}

Test(genome, broken_genomes_name_the_field)
{
	static const struct {
		const char *json, *message;
	} bad[] = {
		{"[1]", "genome: must be an object"},
		{"{\"strategy\":", "genome: not valid JSON"},
		{"{}", "genome.strategy: must be"},
		{"{\"strategy\":\"yolo\"}", "genome.strategy: \"yolo\" is not"},
		{"{\"strategy\":\"momentum\",\"window\":3}", "genome.window: not a parameter of momentum"},
		{"{\"strategy\":\"momentum\",\"threshold\":\"x\"}", "genome.threshold: must be a number"},
		{"{\"strategy\":\"momentum\",\"lookback_periods\":1}", "genome.lookback_periods: must be an integer from 2"},
		{"{\"strategy\":\"momentum\",\"lookback_periods\":2.5}", "genome.lookback_periods: must be an integer"},
		{"{\"strategy\":\"momentum\",\"position_size\":0}", "genome.position_size: must be a number"},
		{"{\"strategy\":\"mean_reversion\",\"z_entry\":1,\"z_exit\":2}", "genome.z_exit: must not be above z_entry"},
		{"{\"strategy\":\"momentum\",\"nope\":1}", "genome.nope: not a parameter"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct genome g;
		struct evo_error err = {0};
		cr_expect_eq(genome_parse(bad[i].json, "genome", &g, &err), -1, "%s", bad[i].json);
		cr_expect_eq(err.kind, EVO_ERR_INVALID);
		cr_expect_not_null(strstr(err.msg, bad[i].message), "%s -> %s", bad[i].json, err.msg);
	}
}

static void expect_valid(const struct genome *g)
{
	char *json = genome_to_json(g);
	struct genome back;
	struct evo_error err = {0};
	cr_expect_eq(genome_parse(json, "genome", &back, &err), 0, "%s: %s", json, err.msg);
	free(json);
}

Test(genome, mutation_and_crossover_stay_valid_and_are_deterministic)
{
	struct rng r, again;
	rng_seed(&r, 42);
	rng_seed(&again, 42);
	struct genome a, b, c;
	genome_default(GENOME_MOMENTUM, &a);
	genome_default(GENOME_MEAN_REVERSION, &b);
	int switched = 0, changed = 0;
	for (int i = 0; i < 5000; i++) {
		struct genome before = a;
		genome_mutate(&a, 0.5, &r);
		expect_valid(&a);
		switched += a.strategy != before.strategy;
		changed += !genome_equal(&a, &before);
		genome_crossover(&a, &b, &r, &c);
		expect_valid(&c);
		cr_expect(c.strategy == a.strategy || c.strategy == b.strategy);
		b = c;
	}
	cr_expect_gt(switched, 10, "strategies switch now and then (%d)", switched);
	cr_expect_gt(changed, 4000, "a rate of 0.5 changes most genomes (%d)", changed);
	/* The same seed, the same mutations. */
	struct genome x, y;
	genome_default(GENOME_MOMENTUM, &x);
	y = x;
	struct rng r1, r2;
	rng_seed(&r1, 7);
	rng_seed(&r2, 7);
	for (int i = 0; i < 100; i++) {
		genome_mutate(&x, 0.3, &r1);
		genome_mutate(&y, 0.3, &r2);
	}
	cr_expect(genome_equal(&x, &y));
	/* Rate 0 changes nothing. */
	struct genome z = x;
	genome_mutate(&z, 0, &again);
	cr_expect(genome_equal(&x, &z));
}

Test(rng, uniform_below_and_normal_look_right)
{
	struct rng r;
	rng_seed(&r, 1);
	double sum = 0, sq = 0;
	int counts[5] = {0};
	for (int i = 0; i < 100000; i++) {
		double u = rng_uniform(&r);
		cr_assert(u >= 0 && u < 1);
		counts[rng_below(&r, 5)]++;
		double n = rng_normal(&r);
		sum += n;
		sq += n * n;
	}
	for (int i = 0; i < 5; i++)
		cr_expect(counts[i] > 19000 && counts[i] < 21000, "bucket %d: %d", i, counts[i]);
	cr_expect(fabs(sum / 100000) < 0.02);
	cr_expect(fabs(sq / 100000 - 1) < 0.03);
}
