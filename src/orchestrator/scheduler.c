#include "orchestrator/scheduler.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "core/schedule.h"
#include "orchestrator/periodic.h"

/* How often windows are checked: an agent starts and stops within this
 * of its window's edges. */
#define SCHEDULER_TICK_MS 100
/* An agent's timeout runs this far past its window's close, a backstop
 * for when the runner is not there to stop it. */
#define CLOSE_MARGIN_SEC 2

#define ZONES_MAX 64

struct zone {
	char name[64];
	struct tz tz;
};

struct scheduler {
	struct orchestrator *orch;
	struct store *store;
	const struct evo_config *cfg;
	struct periodic *worker; /* its lock keeps cancel and the runner apart */
	struct zone zones[ZONES_MAX]; /* the runner's (cached_zone) */
	size_t zone_count;
};

static void forget_zones(struct scheduler *sc)
{
	for (size_t i = 0; i < sc->zone_count; i++)
		tz_free(&sc->zones[i].tz);
	sc->zone_count = 0;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* tz_load's errors name "timezone"; here it is the schedule's. */
static int zone_error(struct evo_error *err)
{
	char msg[sizeof err->msg];
	snprintf(msg, sizeof msg, "schedule.%s", err->msg);
	snprintf(err->msg, sizeof err->msg, "%s", msg);
	return -1;
}

/* The schedule of the record. */
static int parse_schedule(const struct schedule_record *r, struct schedule *s,
			  struct evo_error *err)
{
	json_t *doc = json_loads(r->schedule_json ? r->schedule_json : "", 0, NULL);
	int rc = doc ? schedule_parse(doc, "schedule", s, err)
		     : evo_error_set(err, EVO_ERR_INTERNAL, 0, "schedule %s: unreadable", r->id);
	json_decref(doc);
	return rc;
}

/* The schedule and its zone, from the record. */
static int load(const struct schedule_record *r, struct schedule *s, struct tz *tz,
		struct evo_error *err)
{
	int rc = parse_schedule(r, s, err);
	if (rc == 0 && tz_load(s->timezone, tz, err) < 0)
		rc = zone_error(err);
	return rc;
}

/* The runner's zones, each read once (ten checks a second of every
 * schedule must not read zone files): until a restart, a zone is what its
 * file said when first used. */
static const struct tz *cached_zone(struct scheduler *sc, const char *name,
				    struct evo_error *err)
{
	for (size_t i = 0; i < sc->zone_count; i++)
		if (strcmp(sc->zones[i].name, name) == 0)
			return &sc->zones[i].tz;
	if (sc->zone_count == ZONES_MAX)
		forget_zones(sc);
	struct zone *z = &sc->zones[sc->zone_count];
	if (tz_load(name, &z->tz, err) < 0) {
		zone_error(err);
		return NULL;
	}
	snprintf(z->name, sizeof z->name, "%s", name);
	sc->zone_count++;
	return &z->tz;
}

int scheduler_times(const struct schedule_record *r, int64_t now, struct schedule_times *out,
		    struct evo_error *err)
{
	struct schedule s;
	struct tz tz;
	memset(out, 0, sizeof *out);
	if (load(r, &s, &tz, err) < 0)
		return -1;
	int64_t from, to, next;
	out->open = schedule_window_at(&s, &tz, now, &from, &to);
	if (out->open) {
		out->closes_at = to;
		/* The next one opens at its close or later. */
		if (schedule_window_at(&s, &tz, to, &from, &next))
			out->opens_at = from;
		else if (!schedule_open_at(&s, &tz, to, &next) && next != INT64_MAX)
			out->opens_at = next;
	} else if (!schedule_open_at(&s, &tz, now, &next) && next != INT64_MAX) {
		out->opens_at = next;
		if (schedule_window_at(&s, &tz, next, &from, &to))
			out->closes_at = to;
	}
	tz_free(&tz);
	return 0;
}

/* The spawn each window makes, from the stored JSON (checked when the
 * schedule was made). Strings point into doc; the JSON texts are owned. */
struct stored_spawn {
	json_t *doc;
	char *command, *env, *genome;
};

static void stored_spawn_free(struct stored_spawn *s)
{
	json_decref(s->doc);
	free(s->command);
	free(s->env);
	free(s->genome);
}

static char *member_text(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);
	return v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

static const char *member_string(json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

static void spawn_from(const struct schedule_record *r, struct stored_spawn *st,
		       struct orch_spawn *out)
{
	st->doc = json_loads(r->spawn_json ? r->spawn_json : "{}", 0, NULL);
	if (st->doc == NULL)
		st->doc = json_object();
	st->command = member_text(st->doc, "command");
	st->env = member_text(st->doc, "env");
	st->genome = member_text(st->doc, "genome");
	*out = (struct orch_spawn){
		.name = member_string(st->doc, "name"),
		.agent_type = member_string(st->doc, "agent_type"),
		.template_name = member_string(st->doc, "template_id"),
		.provider = member_string(st->doc, "provider"),
		.task = member_string(st->doc, "task"),
		.command_json = st->command,
		.env_json = st->env,
		.genome_json = st->genome,
		.keep_alive = json_is_true(json_object_get(st->doc, "keep_alive")),
		.mode = "scheduled",
	};
	if (out->agent_type == NULL)
		out->agent_type = "trader";
}

/* Start the agent of the window [from, to). */
static void start_window(struct scheduler *sc, struct schedule_record *r, int64_t from,
			 int64_t to, int64_t now_ms)
{
	char id[AGENT_ID_MAX];
	snprintf(id, sizeof id, "%s-%lld", r->id, (long long)from);
	struct stored_spawn st;
	struct orch_spawn spec;
	spawn_from(r, &st, &spec);
	spec.id = id;
	int64_t left = to - now_ms / 1000 + CLOSE_MARGIN_SEC;
	spec.timeout_sec = (uint32_t)(left > sc->cfg->cloud.max_lifetime_sec
					      ? sc->cfg->cloud.max_lifetime_sec
					      : left);
	struct evo_error err = {0};
	struct tenant tenant;
	int rc = 0;
	if (r->tenant[0]) {
		rc = store_tenant_get(sc->store, r->tenant, &tenant, &err);
		spec.tenant = r->tenant;
		spec.tenant_max_agents = tenant.max_agents;
		spec.tenant_credit_limit = tenant.credit_limit;
	}
	struct agent a;
	if (rc == 0 && (rc = orch_spawn(sc->orch, &spec, &a, &err)) == 0)
		agent_clear(&a);
	stored_spawn_free(&st);
	if (rc < 0 && (err.kind == EVO_ERR_LIMIT || err.kind == EVO_ERR_BUDGET)) {
		/* It waits: tried again at the next tick, while the window lasts. */
		if (strcmp(r->note, err.msg) != 0) {
			snprintf(r->note, sizeof r->note, "%s", err.msg);
			r->updated_at_ms = now_ms;
			store_schedule_update(sc->store, r, NULL);
		}
		return;
	}
	/* CONFLICT: its agent was started before a restart. */
	if (rc == 0 || err.kind == EVO_ERR_CONFLICT) {
		snprintf(r->agent_id, sizeof r->agent_id, "%s", id);
		r->note[0] = '\0';
		r->runs++;
	} else {
		snprintf(r->note, sizeof r->note, "the window of %lld was skipped: %s",
			 (long long)from, err.msg);
	}
	r->window_open_ms = from * 1000;
	r->updated_at_ms = now_ms;
	struct evo_error serr = {0};
	if (store_schedule_update(sc->store, r, &serr) < 0)
		fprintf(stderr, "evoclaw: schedule %s: %s\n", r->id, serr.msg);
}

/* One schedule at this tick: stop the agent of a window that closed,
 * start the one of a window that opened. */
static void step(struct scheduler *sc, struct schedule_record *r, int64_t now_ms)
{
	struct schedule s;
	const struct tz *tz = NULL;
	struct evo_error err = {0};
	if (parse_schedule(r, &s, &err) < 0 || (tz = cached_zone(sc, s.timezone, &err)) == NULL) {
		if (strcmp(r->note, err.msg) != 0) {
			snprintf(r->note, sizeof r->note, "%s", err.msg);
			r->updated_at_ms = now_ms;
			store_schedule_update(sc->store, r, NULL);
		}
		return;
	}
	int64_t from = 0, to = 0;
	bool open = schedule_window_at(&s, tz, now_ms / 1000, &from, &to);
	bool same_window = open && from * 1000 == r->window_open_ms;
	if (r->agent_id[0] && !same_window && orch_is_live(sc->orch, r->agent_id)) {
		struct agent a;
		if (orch_terminate(sc->orch, r->agent_id, &a, NULL) == 0)
			agent_clear(&a);
	}
	if (open && !same_window)
		start_window(sc, r, from, to, now_ms);
}

static void run_all(void *ctx)
{
	struct scheduler *sc = ctx;
	struct schedule_record *list;
	size_t n;
	if (store_schedule_list(sc->store, NULL, true, &list, &n, NULL) < 0)
		return;
	int64_t now = wall_ms();
	for (size_t i = 0; i < n; i++) {
		step(sc, &list[i], now);
		schedule_record_clear(&list[i]);
	}
	free(list);
}

struct scheduler *scheduler_start(struct orchestrator *orch, struct store *store,
				  const struct evo_config *cfg)
{
	struct scheduler *sc = xcalloc(1, sizeof *sc);
	sc->orch = orch;
	sc->store = store;
	sc->cfg = cfg;
	sc->worker = periodic_start(run_all, sc, SCHEDULER_TICK_MS);
	if (sc->worker == NULL) {
		free(sc);
		return NULL;
	}
	return sc;
}

void scheduler_stop(struct scheduler *sc)
{
	if (sc == NULL)
		return;
	periodic_stop(sc->worker);
	forget_zones(sc);
	free(sc);
}

static void put_text(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

static void put_json(json_t *o, const char *key, const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	if (v)
		json_object_set_new(o, key, v);
}

int scheduler_create(struct scheduler *sc, const char *tenant, const struct orch_spawn *spawn,
		     const json_t *schedule, struct schedule_record *out, struct evo_error *err)
{
	struct schedule s;
	struct tz tz;
	if (schedule_parse(schedule, "schedule", &s, err) < 0)
		return -1;
	if (tz_load(s.timezone, &tz, err) < 0)
		return zone_error(err);
	tz_free(&tz);
	memset(out, 0, sizeof *out);
	char id[AGENT_ID_MAX];
	orch_new_id(id, "sch_");
	snprintf(out->id, sizeof out->id, "%s", id);
	snprintf(out->tenant, sizeof out->tenant, "%s", tenant ? tenant : "");
	snprintf(out->state, sizeof out->state, "active");
	json_t *what = json_object();
	put_text(what, "name", spawn->name);
	put_text(what, "agent_type", spawn->agent_type);
	put_text(what, "template_id", spawn->template_name);
	put_text(what, "provider", spawn->provider);
	put_text(what, "task", spawn->task);
	put_json(what, "command", spawn->command_json);
	put_json(what, "env", spawn->env_json);
	put_json(what, "genome", spawn->genome_json);
	if (spawn->keep_alive)
		json_object_set_new(what, "keep_alive", json_true());
	out->spawn_json = json_dumps(what, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(what);
	out->schedule_json = json_dumps(schedule, JSON_COMPACT);
	out->created_at_ms = out->updated_at_ms = wall_ms();
	if (store_schedule_insert(sc->store, out, err) < 0) {
		schedule_record_clear(out);
		return -1;
	}
	/* A window open now starts its agent at once. */
	periodic_wake(sc->worker);
	return 0;
}

int scheduler_cancel(struct scheduler *sc, const char *id, struct evo_error *err)
{
	periodic_lock(sc->worker);
	struct schedule_record r;
	int rc = store_schedule_get(sc->store, id, NULL, &r, err);
	if (rc == 0) {
		if (strcmp(r.state, "active") != 0) {
			rc = evo_error_set(err, EVO_ERR_CONFLICT, 0, "schedule %s is cancelled already",
					   id);
		} else {
			snprintf(r.state, sizeof r.state, "cancelled");
			r.updated_at_ms = wall_ms();
			rc = store_schedule_update(sc->store, &r, err);
			struct agent a;
			if (rc == 0 && r.agent_id[0] && orch_is_live(sc->orch, r.agent_id) &&
			    orch_terminate(sc->orch, r.agent_id, &a, NULL) == 0)
				agent_clear(&a);
		}
		schedule_record_clear(&r);
	}
	periodic_unlock(sc->worker);
	return rc;
}
