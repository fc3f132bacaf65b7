#include "core/genome.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

static const char *const strategy_names[] = {
	[GENOME_MOMENTUM] = "momentum",
	[GENOME_MEAN_REVERSION] = "mean_reversion",
};

const char *genome_strategy_name(enum genome_strategy s)
{
	return (unsigned)s < sizeof strategy_names / sizeof *strategy_names ? strategy_names[s] : "?";
}

void genome_default(enum genome_strategy s, struct genome *out)
{
	*out = (struct genome){
		.strategy = s,
		.lookback_periods = 20,
		.threshold = 0.02,
		.window = 30,
		.z_entry = 2.0,
		.z_exit = 0.5,
		.position_size = 0.5,
	};
}

/* The parameters, their bounds and which strategy they belong to. */
struct param {
	const char *name;
	int strategy; /* -1: every strategy */
	bool integer;
	double min, max;
	size_t offset;
};

static const struct param params[] = {
	{"lookback_periods", GENOME_MOMENTUM, true, GENOME_PERIODS_MIN, GENOME_PERIODS_MAX,
	 offsetof(struct genome, lookback_periods)},
	{"threshold", GENOME_MOMENTUM, false, 0, 0.5, offsetof(struct genome, threshold)},
	{"window", GENOME_MEAN_REVERSION, true, GENOME_PERIODS_MIN, GENOME_PERIODS_MAX,
	 offsetof(struct genome, window)},
	{"z_entry", GENOME_MEAN_REVERSION, false, 0.1, 10, offsetof(struct genome, z_entry)},
	{"z_exit", GENOME_MEAN_REVERSION, false, 0, 10, offsetof(struct genome, z_exit)},
	{"position_size", -1, false, 0.01, 1, offsetof(struct genome, position_size)},
};
#define NPARAMS (sizeof params / sizeof *params)

static double get_param(const struct genome *g, const struct param *p)
{
	const char *base = (const char *)g + p->offset;
	return p->integer ? (double)*(const uint32_t *)base : *(const double *)base;
}

static void set_param(struct genome *g, const struct param *p, double v)
{
	if (v < p->min)
		v = p->min;
	if (v > p->max)
		v = p->max;
	char *base = (char *)g + p->offset;
	if (p->integer)
		*(uint32_t *)base = (uint32_t)lround(v);
	else
		*(double *)base = v;
}

static bool belongs(const struct param *p, enum genome_strategy s)
{
	return p->strategy < 0 || p->strategy == (int)s;
}

/* z_exit never above z_entry: a position would close the moment it opens. */
static void keep_consistent(struct genome *g)
{
	if (g->z_exit > g->z_entry)
		g->z_exit = g->z_entry;
}

int genome_parse(const char *json, const char *path, struct genome *out, struct evo_error *err)
{
	json_error_t jerr;
	json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: not valid JSON: %s at line %d column %d",
				     path, jerr.text, jerr.line, jerr.column);
	int r = -1;
	if (!json_is_object(root)) {
		evo_error_set(err, EVO_ERR_INVALID, 0, "%s: must be an object", path);
		goto out;
	}
	json_t *strategy = json_object_get(root, "strategy");
	if (!json_is_string(strategy)) {
		evo_error_set(err, EVO_ERR_INVALID, 0,
			      "%s.strategy: must be \"momentum\" or \"mean_reversion\"", path);
		goto out;
	}
	int s = -1;
	for (size_t i = 0; i < sizeof strategy_names / sizeof *strategy_names; i++)
		if (strcmp(json_string_value(strategy), strategy_names[i]) == 0)
			s = (int)i;
	if (s < 0) {
		evo_error_set(err, EVO_ERR_INVALID, 0,
			      "%s.strategy: \"%.40s\" is not momentum or mean_reversion", path,
			      json_string_value(strategy));
		goto out;
	}
	struct genome g;
	genome_default((enum genome_strategy)s, &g);
	const char *key;
	json_t *value;
	json_object_foreach(root, key, value) {
		if (strcmp(key, "strategy") == 0)
			continue;
		const struct param *p = NULL;
		for (size_t i = 0; i < NPARAMS; i++)
			if (strcmp(key, params[i].name) == 0)
				p = &params[i];
		if (p == NULL || !belongs(p, g.strategy)) {
			evo_error_set(err, EVO_ERR_INVALID, 0, "%s.%.40s: not a parameter of %s", path,
				      key, strategy_names[s]);
			goto out;
		}
		double v = json_number_value(value);
		bool ok = json_is_number(value) && isfinite(v) && v >= p->min && v <= p->max &&
			  (!p->integer || (json_is_integer(value) || v == floor(v)));
		if (!ok) {
			evo_error_set(err, EVO_ERR_INVALID, 0, "%s.%s: must be %s from %g to %g", path,
				      p->name, p->integer ? "an integer" : "a number", p->min, p->max);
			goto out;
		}
		set_param(&g, p, v);
	}
	if (g.z_exit > g.z_entry) {
		evo_error_set(err, EVO_ERR_INVALID, 0, "%s.z_exit: must not be above z_entry (%g)",
			      path, g.z_entry);
		goto out;
	}
	*out = g;
	r = 0;
out:
	json_decref(root);
	return r;
}

/* The shortest decimal that reads back as exactly v (0.02, not
 * 0.020000000000000000416). */
static void shortest(double v, char *out, size_t size)
{
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(out, size, "%.*g", precision, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

char *genome_to_json(const struct genome *g)
{
	char text[512], number[40];
	size_t n = (size_t)snprintf(text, sizeof text, "{\"strategy\":\"%s\"",
				    genome_strategy_name(g->strategy));
	for (size_t i = 0; i < NPARAMS; i++) {
		if (!belongs(&params[i], g->strategy))
			continue;
		if (params[i].integer)
			snprintf(number, sizeof number, "%u", (unsigned)get_param(g, &params[i]));
		else
			shortest(get_param(g, &params[i]), number, sizeof number);
		n += (size_t)snprintf(text + n, sizeof text - n, ",\"%s\":%s", params[i].name, number);
	}
	snprintf(text + n, sizeof text - n, "}");
	return xstrdup(text);
}

void genome_mutate(struct genome *g, double rate, struct rng *r)
{
	if (rng_uniform(r) < rate / 4) {
		double size = g->position_size;
		genome_default(g->strategy == GENOME_MOMENTUM ? GENOME_MEAN_REVERSION : GENOME_MOMENTUM,
			       g);
		g->position_size = size;
	}
	for (size_t i = 0; i < NPARAMS; i++) {
		const struct param *p = &params[i];
		if (!belongs(p, g->strategy) || rng_uniform(r) >= rate)
			continue;
		double v = get_param(g, p);
		if (p->integer) {
			/* ±20 % (at least one period) either way. */
			double step = fmax(1.0, v * 0.2);
			v += rng_uniform(r) < 0.5 ? -step : step;
		} else {
			/* Multiplicative, so small values move in proportion;
			 * from zero, a small absolute step. */
			v = v > 0 ? v * exp(0.25 * rng_normal(r)) : 0.01 * (p->max - p->min) * rng_uniform(r);
		}
		set_param(g, p, v);
	}
	keep_consistent(g);
}

void genome_crossover(const struct genome *a, const struct genome *b, struct rng *r,
		      struct genome *child)
{
	const struct genome *first = rng_uniform(r) < 0.5 ? a : b;
	const struct genome *second = first == a ? b : a;
	*child = *first;
	for (size_t i = 0; i < NPARAMS; i++) {
		const struct param *p = &params[i];
		if (belongs(p, child->strategy) && belongs(p, second->strategy) &&
		    second->strategy == child->strategy && rng_uniform(r) < 0.5)
			set_param(child, p, get_param(second, p));
	}
	if (rng_uniform(r) < 0.5)
		child->position_size = second->position_size;
	keep_consistent(child);
}

bool genome_equal(const struct genome *a, const struct genome *b)
{
	if (a->strategy != b->strategy)
		return false;
	for (size_t i = 0; i < NPARAMS; i++)
		if (belongs(&params[i], a->strategy) && get_param(a, &params[i]) != get_param(b, &params[i]))
			return false;
	return true;
}
