/* libFuzzer target: a tournament's parameters (core/evolution.h), the body
 * of POST /api/tournaments and of burst mode. Never a crash or leak; a
 * refusal names its field; what is accepted is in range and reads back
 * the same from its JSON (how it is stored). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/evolution.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	struct tournament_params p;
	struct evo_error err = {0};
	if (tournament_params_parse(body, &p, &err) < 0) {
		if (err.kind != EVO_ERR_INVALID || strchr(err.msg, ':') == NULL)
			abort();
	} else {
		if (p.evo.population < 2 || p.evo.population > TOURNAMENT_COUNT_MAX ||
		    p.evo.survivors < 1 || p.evo.survivors > p.evo.population ||
		    p.evo.generations < 1 || !(p.evo.mutation_rate >= 0 && p.evo.mutation_rate <= 1))
			abort();
		json_t *back = tournament_params_json(&p);
		struct tournament_params q;
		if (tournament_params_parse(back, &q, &err) < 0 ||
		    q.evo.population != p.evo.population || q.evo.survivors != p.evo.survivors ||
		    q.evo.generations != p.evo.generations || q.steps != p.steps ||
		    q.market_seed != p.market_seed || !genome_equal(&q.seed, &p.seed))
			abort();
		json_decref(back);
	}
	json_decref(body);
	return 0;
}
