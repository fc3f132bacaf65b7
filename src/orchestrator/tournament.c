#include "orchestrator/tournament.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/cleanup.h"
#include "orchestrator/periodic.h"

/* How often the runner looks at running tournaments. */
#define RUNNER_TICK_MS 200
/* How long after its agent ended a member's fitness may still arrive. */
#define LATE_FITNESS_MS 5000
/* What a member that never reported a fitness ranks with: last. */
#define NO_FITNESS (-1e300)

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int params_of(const struct tournament_record *t, struct tournament_params *p,
		     struct evo_error *err)
{
	json_t *doc = json_loads(t->params_json ? t->params_json : "", 0, NULL);
	int r = doc ? tournament_params_parse(doc, p, err)
		    : evo_error_set(err, EVO_ERR_INTERNAL, 0, "tournament %s: unreadable parameters",
				    t->id);
	json_decref(doc);
	return r;
}

/* ---- the runner ------------------------------------------------------------ */

struct tournament_runner {
	struct orchestrator *orch;
	struct store *store;
	/* Its lock is held while tournaments are moved on, so a cancel never
	 * races a spawn of the same tournament. */
	struct periodic *worker;
};

static void member_agent_id(char out[AGENT_ID_MAX], const char *tournament, int generation,
			    int index)
{
	snprintf(out, AGENT_ID_MAX, "%s-g%d-%d", tournament, generation, index);
}

/* Start a waiting member's agent. 1: a limit or the budget is reached
 * (it waits), 0: started or failed for good (recorded). */
static int start_member(struct tournament_runner *r, const struct tournament_record *t,
			const struct tournament_params *p, struct tournament_entry *e)
{
	char id[AGENT_ID_MAX], market[40], steps[16], step_ms[16], every[16];
	member_agent_id(id, t->id, e->generation, e->index);
	snprintf(market, sizeof market, "generated:%llu", (unsigned long long)p->market_seed);
	snprintf(steps, sizeof steps, "%u", p->steps);
	snprintf(step_ms, sizeof step_ms, "%u", p->step_ms);
	snprintf(every, sizeof every, "%u", p->steps / 4 ? p->steps / 4 : 1);
	json_t *env = json_pack("{s:s, s:s, s:s, s:s}", "EVOCLAW_MARKET", market, "EVOCLAW_STEPS",
				steps, "EVOCLAW_STEP_MS", step_ms, "EVOCLAW_REPORT_EVERY", every);
	char *env_json = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(env);
	struct orch_spawn spec = {
		.id = id,
		.agent_type = "trader",
		.template_name = "evoclaw-agent",
		.provider = p->provider[0] ? p->provider : NULL,
		.genome_json = e->genome_json,
		.env_json = env_json,
		.timeout_sec = p->eval_seconds,
		.mode = "burst",
		.tournament_id = t->id,
		.generation = e->generation,
	};
	struct evo_error err = {0};
	struct tenant tenant;
	int rc = 0;
	if (t->tenant[0]) {
		rc = store_tenant_get(r->store, t->tenant, &tenant, &err);
		spec.tenant = t->tenant;
		spec.tenant_max_agents = tenant.max_agents;
		spec.tenant_credit_limit = tenant.credit_limit;
	}
	struct agent a;
	if (rc == 0 && (rc = orch_spawn(r->orch, &spec, &a, &err)) == 0)
		agent_clear(&a);
	free(env_json);
	if (rc < 0 && (err.kind == EVO_ERR_LIMIT || err.kind == EVO_ERR_BUDGET))
		return 1;
	/* CONFLICT: started before a restart, between the spawn and its note. */
	if (rc == 0 || err.kind == EVO_ERR_CONFLICT) {
		snprintf(e->agent_id, sizeof e->agent_id, "%s", id);
		snprintf(e->state, sizeof e->state, "running");
	} else {
		snprintf(e->state, sizeof e->state, "failed");
		snprintf(e->note, sizeof e->note, "%s", err.msg);
	}
	struct evo_error serr = {0};
	if (store_tournament_entry_update(r->store, t->id, e, &serr) < 0)
		fprintf(stderr, "evoclaw: tournament %s: %s\n", t->id, serr.msg);
	return 0;
}

/* A running member whose agent has ended: its fitness, or failed. True
 * when it has ended. */
static bool finish_member(struct tournament_runner *r, const struct tournament_record *t,
			  struct tournament_entry *e)
{
	struct agent a;
	struct evo_error err = {0};
	if (orch_get(r->orch, e->agent_id, &a, &err) < 0) {
		/* Destroyed by someone: it counts as failed. */
		snprintf(e->state, sizeof e->state, "failed");
		snprintf(e->note, sizeof e->note, "its agent is gone: %s", err.msg);
	} else if (!agent_is_finished(&a) ||
		   (a.status == AGENT_COMPLETED && a.fitness_at_ms == 0 &&
		    wall_ms() - a.completed_at_ms < LATE_FITNESS_MS)) {
		/* Running, or done but its fitness may still be on its way
		 * (over MQTT, a broker can hand it over after the agent left). */
		agent_clear(&a);
		return false;
	} else if (a.status == AGENT_COMPLETED && a.has_exit_code && a.exit_code == 0 &&
		   a.fitness_at_ms > 0) {
		snprintf(e->state, sizeof e->state, "done");
		e->has_fitness = true;
		e->fitness = a.fitness;
		agent_clear(&a);
	} else {
		snprintf(e->state, sizeof e->state, "failed");
		snprintf(e->note, sizeof e->note, "its agent ended %s (%s)%s%s%s",
			 agent_status_name(a.status), agent_stop_reason_name(a.stop_reason),
			 a.error_message[0] ? ": " : "", a.error_message,
			 a.fitness_at_ms ? "" : "; it reported no fitness");
		agent_clear(&a);
	}
	struct evo_error serr = {0};
	if (store_tournament_entry_update(r->store, t->id, e, &serr) < 0)
		fprintf(stderr, "evoclaw: tournament %s: %s\n", t->id, serr.msg);
	return true;
}

/* Every member of the generation has ended: the champion so far, then the
 * next generation or the end. */
static void advance(struct tournament_runner *r, struct tournament_record *t,
		    const struct tournament_params *p, struct tournament_entry *entries, size_t n)
{
	struct genome *genomes = xcalloc(n, sizeof *genomes);
	double *fitness = xcalloc(n, sizeof *fitness);
	size_t *order = xcalloc(n, sizeof *order);
	struct evo_error err = {0};
	for (size_t i = 0; i < n; i++) {
		if (genome_parse(entries[i].genome_json, "genome", &genomes[i], &err) < 0)
			genomes[i] = p->seed;
		fitness[i] = entries[i].has_fitness ? entries[i].fitness : NO_FITNESS;
	}
	evolution_rank(fitness, n, order);
	const struct tournament_entry *best = &entries[order[0]];
	if (best->has_fitness && (t->champion_json == NULL || best->fitness > t->champion_fitness)) {
		free(t->champion_json);
		t->champion_json = xstrdup(best->genome_json);
		t->champion_fitness = best->fitness;
		snprintf(t->champion_agent, sizeof t->champion_agent, "%s", best->agent_id);
		t->champion_generation = best->generation;
	}
	t->updated_at_ms = wall_ms();
	int rc;
	if ((size_t)t->generation + 1 >= p->evo.generations) {
		snprintf(t->state, sizeof t->state, "completed");
		if (t->champion_json == NULL)
			snprintf(t->error, sizeof t->error, "no member of any generation reported a fitness");
		t->completed_at_ms = t->updated_at_ms;
		rc = store_tournament_update(r->store, t, &err);
	} else {
		/* Deterministic: the same tournament breeds the same children. */
		struct rng rng;
		rng_seed(&rng, p->market_seed * 0x9E3779B97F4A7C15ULL + (uint64_t)t->generation + 1);
		struct evolution_member *next = xcalloc(n, sizeof *next);
		evolution_breed(genomes, fitness, n, p->evo.survivors, p->evo.mutation_rate, &rng, next);
		struct tournament_entry *children = xcalloc(n, sizeof *children);
		for (size_t i = 0; i < n; i++) {
			children[i] = (struct tournament_entry){
				.generation = t->generation + 1,
				.index = (int)i,
				.genome_json = genome_to_json(&next[i].genome),
				.parent_a = next[i].parent_a,
				.parent_b = next[i].parent_b,
				.survivor = next[i].survivor,
			};
			snprintf(children[i].state, sizeof children[i].state, "waiting");
		}
		t->generation++;
		rc = store_tournament_advance(r->store, t, children, n, &err);
		tournament_entries_free(children, n);
		free(next);
	}
	if (rc < 0)
		fprintf(stderr, "evoclaw: tournament %s: %s\n", t->id, err.msg);
	free(order);
	free(fitness);
	free(genomes);
}

/* Move one tournament on as far as it can go now (the worker's run). */
static void step(struct tournament_runner *r, struct tournament_record *t)
{
	struct tournament_params p;
	struct evo_error err = {0};
	if (params_of(t, &p, &err) < 0) {
		snprintf(t->state, sizeof t->state, "failed");
		snprintf(t->error, sizeof t->error, "%s", err.msg);
		t->updated_at_ms = t->completed_at_ms = wall_ms();
		store_tournament_update(r->store, t, NULL);
		return;
	}
	struct tournament_entry *e;
	size_t n;
	if (store_tournament_entries(r->store, t->id, t->generation, &e, &n, &err) < 0) {
		fprintf(stderr, "evoclaw: tournament %s: %s\n", t->id, err.msg);
		return;
	}
	bool queued = false, ended = true;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e[i].state, "waiting") == 0 && !queued)
			queued = start_member(r, t, &p, &e[i]) == 1;
		if (strcmp(e[i].state, "running") == 0)
			finish_member(r, t, &e[i]);
		if (strcmp(e[i].state, "waiting") == 0 || strcmp(e[i].state, "running") == 0)
			ended = false;
	}
	if (ended && n > 0)
		advance(r, t, &p, e, n);
	tournament_entries_free(e, n);
}

/* The worker's run: every running tournament, as far as each can go. */
static void run_all(void *ctx)
{
	struct tournament_runner *r = ctx;
	struct tournament_record *list;
	size_t n;
	struct evo_error err = {0};
	if (store_tournament_list(r->store, NULL, true, &list, &n, &err) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		step(r, &list[i]);
		tournament_record_clear(&list[i]);
	}
	free(list);
}

struct tournament_runner *tournament_runner_start(struct orchestrator *orch, struct store *store)
{
	struct tournament_runner *r = xcalloc(1, sizeof *r);
	r->orch = orch;
	r->store = store;
	r->worker = periodic_start(run_all, r, RUNNER_TICK_MS);
	if (r->worker == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void tournament_runner_stop(struct tournament_runner *r)
{
	if (r == NULL)
		return;
	periodic_stop(r->worker);
	free(r);
}

int tournament_create(struct tournament_runner *r, const char *tenant,
		      const struct tournament_params *given, struct tournament_record *out,
		      struct evo_error *err)
{
	/* No market seed: a random one, stored, so the tournament can be
	 * replayed. */
	struct tournament_params chosen = *given;
	const struct tournament_params *p = &chosen;
	if (!chosen.has_market_seed) {
		if (getrandom(&chosen.market_seed, sizeof chosen.market_seed, 0) !=
		    (ssize_t)sizeof chosen.market_seed)
			chosen.market_seed = (uint64_t)wall_ms();
		chosen.market_seed &= ((uint64_t)1 << 53) - 1;
		chosen.has_market_seed = true;
	}
	memset(out, 0, sizeof *out);
	char id[AGENT_ID_MAX];
	orch_new_id(id, "trn_");
	snprintf(out->id, sizeof out->id, "%s", id);
	snprintf(out->tenant, sizeof out->tenant, "%s", tenant ? tenant : "");
	snprintf(out->state, sizeof out->state, "running");
	json_t *params = tournament_params_json(p);
	out->params_json = json_dumps(params, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(params);
	out->created_at_ms = out->updated_at_ms = wall_ms();
	size_t n = p->evo.population;
	struct evolution_member *first = xcalloc(n, sizeof *first);
	struct rng rng;
	rng_seed(&rng, p->market_seed * 0x9E3779B97F4A7C15ULL);
	evolution_seed(&p->seed, n, p->evo.mutation_rate, &rng, first);
	struct tournament_entry *entries = xcalloc(n, sizeof *entries);
	for (size_t i = 0; i < n; i++) {
		entries[i] = (struct tournament_entry){
			.index = (int)i,
			.genome_json = genome_to_json(&first[i].genome),
			.parent_a = -1,
			.parent_b = -1,
		};
		snprintf(entries[i].state, sizeof entries[i].state, "waiting");
	}
	int rc = store_tournament_insert(r->store, out, entries, n, err);
	tournament_entries_free(entries, n);
	free(first);
	if (rc < 0) {
		tournament_record_clear(out);
		return -1;
	}
	/* Its first agents start now, not at the next tick. */
	periodic_wake(r->worker);
	return 0;
}

int tournament_cancel(struct tournament_runner *r, const char *id, struct evo_error *err)
{
	periodic_lock(r->worker);
	struct tournament_record t = {0};
	int rc = store_tournament_get(r->store, id, NULL, &t, err);
	bool found = rc == 0;
	if (rc == 0 && strcmp(t.state, "running") != 0)
		rc = evo_error_set(err, EVO_ERR_CONFLICT, 0, "tournament %s has ended (%s)", id,
				   t.state);
	if (rc == 0) {
		snprintf(t.state, sizeof t.state, "cancelled");
		t.updated_at_ms = t.completed_at_ms = wall_ms();
		rc = store_tournament_update(r->store, &t, err);
	}
	struct tournament_entry *e = NULL;
	size_t n = 0;
	if (rc == 0 && store_tournament_entries(r->store, id, t.generation, &e, &n, err) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(e[i].state, "running") != 0 && strcmp(e[i].state, "waiting") != 0)
				continue;
			struct agent a;
			if (e[i].agent_id[0] && orch_terminate(r->orch, e[i].agent_id, &a, NULL) == 0)
				agent_clear(&a);
			snprintf(e[i].state, sizeof e[i].state, "cancelled");
			store_tournament_entry_update(r->store, id, &e[i], NULL);
		}
		tournament_entries_free(e, n);
	}
	if (found)
		tournament_record_clear(&t);
	periodic_unlock(r->worker);
	return rc;
}
