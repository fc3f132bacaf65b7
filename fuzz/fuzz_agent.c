/* libFuzzer target: what the edge agent parses from outside — a genome
 * (EVOCLAW_GENOME, a spawn's "genome") and a market CSV replay. Never a
 * crash; a genome that parses prints as JSON that parses back to the same
 * genome, and survives mutation valid; a replay has at least two prices,
 * all finite and above 0. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/genome.h"
#include "core/market.h"
#include "core/trader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	struct genome g;
	struct evo_error err = {0};
	if (genome_parse(text, "genome", &g, &err) == 0) {
		char *json = genome_to_json(&g);
		struct genome back;
		if (genome_parse(json, "genome", &back, &err) < 0 || !genome_equal(&g, &back))
			abort();
		free(json);
		struct rng r;
		rng_seed(&r, size);
		genome_mutate(&g, 1.0, &r);
		json = genome_to_json(&g);
		if (genome_parse(json, "genome", &back, &err) < 0)
			abort();
		free(json);
	} else if (err.kind != EVO_ERR_INVALID || strncmp(err.msg, "genome", 6) != 0) {
		abort();
	}

	struct market m;
	if (market_parse_csv((const char *)data, size, &m, &err) == 0) {
		if (m.n < 2)
			abort();
		for (size_t i = 0; i < m.n; i++)
			if (!(m.price[i] > 0) || !isfinite(m.price[i]))
				abort();
		struct trade_costs c;
		trader_default_costs(&c);
		struct trade_result res;
		genome_default(GENOME_MEAN_REVERSION, &g);
		trader_run(&g, &m, &c, &res);
		if (isnan(res.final_equity))
			abort();
		market_free(&m);
	} else if (err.kind != EVO_ERR_INVALID || strncmp(err.msg, "csv", 3) != 0) {
		abort();
	}
	free(text);
	return 0;
}
