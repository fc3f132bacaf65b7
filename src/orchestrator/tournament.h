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
