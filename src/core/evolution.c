#include "core/evolution.h"

#include <jansson.h>

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

/* ---- a tournament's parameters ---- */

static const char *const param_fields[] = {
	"count",  "generations", "survivors", "mutation_rate", "eval_seconds",
	"genome", "market_seed", "steps",     "step_ms",       "provider", NULL,
};

/* A whole number from min to max, or default when absent; errors name it. */
static int param_uint(json_t *body, const char *key, uint64_t min, uint64_t max, uint64_t dflt,
		      bool required, uint64_t *out, struct evo_error *err)
{
	json_t *v = json_object_get(body, key);
	if (v == NULL || json_is_null(v)) {
		if (required)
			return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: required", key);
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "%s: must be a whole number from %llu to %llu", key,
				     (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int tournament_params_parse(json_t *body, struct tournament_params *out, struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v) {
		size_t i = 0;
		while (param_fields[i] && strcmp(param_fields[i], key) != 0)
			i++;
		if (param_fields[i] == NULL)
			return evo_error_set(err, EVO_ERR_INVALID, 0, "%.64s: unknown field", key);
	}
	uint64_t count, generations, survivors, eval, seed, steps, step_ms;
	if (param_uint(body, "count", 2, TOURNAMENT_COUNT_MAX, 0, true, &count, err) < 0 ||
	    param_uint(body, "generations", 1, TOURNAMENT_GENERATIONS_MAX, 3, false, &generations,
		       err) < 0 ||
	    param_uint(body, "survivors", 1, count, count / 4 ? count / 4 : 1, false, &survivors,
		       err) < 0 ||
	    param_uint(body, "eval_seconds", 1, 3600, 60, false, &eval, err) < 0 ||
	    param_uint(body, "market_seed", 0, (uint64_t)1 << 53, 0, false, &seed, err) < 0 ||
	    param_uint(body, "steps", 2, 1000000, 500, false, &steps, err) < 0 ||
	    param_uint(body, "step_ms", 0, 60000, 0, false, &step_ms, err) < 0)
		return -1;
	double rate = 0.2;
	json_t *r = json_object_get(body, "mutation_rate");
	if (r && !json_is_null(r)) {
		if (!json_is_number(r) || !(json_number_value(r) >= 0 && json_number_value(r) <= 1))
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "mutation_rate: must be a number from 0 to 1");
		rate = json_number_value(r);
	}
	json_t *g = json_object_get(body, "genome");
	if (g && !json_is_null(g)) {
		if (!json_is_object(g))
			return evo_error_set(err, EVO_ERR_INVALID, 0, "genome: must be an object");
		char *text = json_dumps(g, JSON_COMPACT);
		int rc = text ? genome_parse(text, "genome", &out->seed, err)
			      : evo_error_set(err, EVO_ERR_INVALID, 0, "genome: cannot be read");
		free(text);
		if (rc < 0)
			return -1;
	} else {
		genome_default(GENOME_MOMENTUM, &out->seed);
	}
	json_t *provider = json_object_get(body, "provider");
	if (provider && !json_is_null(provider)) {
		const char *name = json_string_value(provider);
		if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof out->provider)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "provider: must be a provider's name, e.g. \"local\" or \"e2b\"");
		snprintf(out->provider, sizeof out->provider, "%s", name);
	}
	out->has_market_seed = json_object_get(body, "market_seed") != NULL;
	out->evo = (struct evolution_params){.population = count, .survivors = survivors,
					     .generations = generations, .mutation_rate = rate};
	out->market_seed = seed;
	out->steps = (uint32_t)steps;
	out->step_ms = (uint32_t)step_ms;
	out->eval_seconds = (uint32_t)eval;
	return evolution_check(&out->evo, err);
}

json_t *tournament_params_json(const struct tournament_params *p)
{
	char *g = genome_to_json(&p->seed);
	json_t *genome = json_loads(g, 0, NULL);
	free(g);
	json_t *o = json_pack("{s:I, s:I, s:I, s:f, s:I, s:o, s:I, s:I, s:I}", "count",
			 (json_int_t)p->evo.population, "generations", (json_int_t)p->evo.generations,
			 "survivors", (json_int_t)p->evo.survivors, "mutation_rate",
			 p->evo.mutation_rate, "eval_seconds", (json_int_t)p->eval_seconds, "genome",
			 genome ? genome : json_object(), "market_seed", (json_int_t)p->market_seed,
			 "steps", (json_int_t)p->steps, "step_ms", (json_int_t)p->step_ms);
	if (o && p->provider[0])
		json_object_set_new(o, "provider", json_string(p->provider));
	return o;
}

