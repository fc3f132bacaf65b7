/* Evolution tournaments (issue 7 §3, DESIGN §10): burst mode.
 *
 * A tournament runs G generations of N trader agents. Every agent of every
 * generation trades the same market (generated from the tournament's market
 * seed, the same number of steps), so fitness is comparable across them.
 * When a generation has ended, it is ranked; the top K go on unchanged and
 * the rest are bred from it (core/evolution.h). Every genome, its parents,
 * its agent and its fitness are stored; the champion is the best of the
 * last generation, which by elitism is at least every earlier best.
 *
 * The agents are ordinary agents (template evoclaw-agent, type trader,
 * owned by the tournament's tenant): maxAgents, the budget and the
 * tenant's limits hold for them and they are billed like any other. An
 * agent that cannot start because a limit or the budget is reached waits
 * in the tournament's queue and is tried again; the tournament never
 * fails for that.
 *
 * One runner thread moves every active tournament on; its state is all in
 * the store, so after a restart it goes on where it was (agents are named
 * <tournament>-g<generation>-<index>, so none is started twice). */
#ifndef EVOCLAW_ORCHESTRATOR_TOURNAMENT_H
#define EVOCLAW_ORCHESTRATOR_TOURNAMENT_H

#include <jansson.h>
#include <stdint.h>

#include "common/error.h"
#include "core/evolution.h"
#include "core/genome.h"
#include "orchestrator/orchestrator.h"
#include "store/store.h"

#define TOURNAMENT_COUNT_MAX 256
#define TOURNAMENT_GENERATIONS_MAX 100

struct tournament_params {
	struct evolution_params evo; /* count (population), survivors, generations, mutation_rate */
	struct genome seed;          /* generation 0 is it and mutations of it */
	uint64_t market_seed;        /* EVOCLAW_MARKET=generated:<seed> */
	uint32_t steps;              /* prices each agent trades */
	uint32_t step_ms;            /* pause between prices */
	uint32_t eval_seconds;       /* each agent's timeout */
};

/* The request body's fields (POST /api/tournaments, or /api/saas/agents
 * with mode "burst"); errors name the field. Unknown fields are the
 * caller's to refuse. */
int tournament_params_parse(json_t *body, struct tournament_params *out, struct evo_error *err);
json_t *tournament_params_json(const struct tournament_params *p);

struct tournament_runner;

struct tournament_runner *tournament_runner_start(struct orchestrator *orch, struct store *store);
void tournament_runner_stop(struct tournament_runner *r);

/* A new tournament (tenant NULL: the operator's), generation 0 stored. */
int tournament_create(struct tournament_runner *r, const char *tenant,
		      const struct tournament_params *p, struct tournament_record *out,
		      struct evo_error *err);

/* Cancel: its running agents are terminated, its waiting ones never
 * start. CONFLICT if it has ended. */
int tournament_cancel(struct tournament_runner *r, const char *id, struct evo_error *err);

#endif
