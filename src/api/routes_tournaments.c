/* Evolution tournaments (issue 7 §3): POST /api/tournaments, GET
 * /api/tournaments[/{id}], DELETE /api/tournaments/{id}; and burst mode of
 * POST /api/saas/agents, which is the same creation. A tenant sees and
 * cancels only its own (another's is 404); the admin sees all. */
#include <stdlib.h>
#include <string.h>

#include "api/agent_json.h"
#include "api/api.h"
#include "api/http.h"
#include "orchestrator/tournament.h"

static json_t *parsed_or_null(const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	return v ? v : json_null();
}

static json_t *fitness_or_null(bool has, double v)
{
	return has ? json_real(v) : json_null();
}

/* The record; with entries (all generations), its generations too. */
static json_t *tournament_json(const struct tournament_record *t,
			       const struct tournament_entry *e, size_t n, bool with_members)
{
	json_t *params = parsed_or_null(t->params_json);
	json_t *o = json_pack("{s:s, s:o, s:s, s:o, s:i, s:o, s:o, s:o, s:o}", "id", t->id,
			      "tenant", t->tenant[0] ? json_string(t->tenant) : json_null(), "state",
			      t->state, "error", t->error[0] ? json_string(t->error) : json_null(),
			      "generation", t->generation, "params", params, "created_at",
			      api_json_time(t->created_at_ms), "updated_at",
			      api_json_time(t->updated_at_ms), "completed_at",
			      api_json_time(t->completed_at_ms));
	json_object_set_new(o, "champion",
			    t->champion_json
				    ? json_pack("{s:o, s:f, s:s, s:i}", "genome",
						parsed_or_null(t->champion_json), "fitness",
						t->champion_fitness, "agent_id", t->champion_agent,
						"generation", t->champion_generation)
				    : json_null());
	/* Members of the current generation waiting for maxAgents or the
	 * budget to let them start. */
	int queued = 0;
	for (size_t i = 0; i < n; i++)
		if (e[i].generation == t->generation && strcmp(e[i].state, "waiting") == 0)
			queued++;
	json_object_set_new(o, "queued", json_integer(strcmp(t->state, "running") == 0 ? queued : 0));
	if (!with_members)
		return o;
	json_t *gens = json_array();
	for (size_t i = 0; i < n;) {
		int g = e[i].generation;
		json_t *members = json_array();
		bool any = false;
		double best = 0;
		for (; i < n && e[i].generation == g; i++) {
			json_t *parents = json_array();
			if (e[i].parent_a >= 0)
				json_array_append_new(parents, json_integer(e[i].parent_a));
			if (e[i].parent_b >= 0 && e[i].parent_b != e[i].parent_a)
				json_array_append_new(parents, json_integer(e[i].parent_b));
			json_array_append_new(
				members,
				json_pack("{s:i, s:o, s:o, s:o, s:b, s:s, s:o, s:o}", "index",
					  e[i].index, "agent_id",
					  e[i].agent_id[0] ? json_string(e[i].agent_id) : json_null(),
					  "genome", parsed_or_null(e[i].genome_json), "parents",
					  parents, "survivor", e[i].survivor, "state", e[i].state,
					  "fitness", fitness_or_null(e[i].has_fitness, e[i].fitness),
					  "note", e[i].note[0] ? json_string(e[i].note) : json_null()));
			if (e[i].has_fitness && (!any || e[i].fitness > best)) {
				best = e[i].fitness;
				any = true;
			}
		}
		json_array_append_new(gens, json_pack("{s:i, s:o, s:o}", "generation", g,
						      "best_fitness", fitness_or_null(any, best),
						      "members", members));
	}
	json_object_set_new(o, "generations", gens);
	return o;
}

/* The caller's view: the admin's everything, a tenant's its own. */
static const char *scope(const struct api_request *req)
{
	return req->caller.admin ? NULL : req->caller.tenant;
}

enum MHD_Result api_tournament_create(struct api *api, struct MHD_Connection *c,
				      struct api_request *req, json_t *body)
{
	if (api->tournaments == NULL)
		return http_send_error(c, 503, "unavailable", "the tournament runner is not running");
	struct tournament_params p;
	struct evo_error err = {0};
	if (tournament_params_parse(body, &p, &err) < 0 ||
	    orch_check_provider(api->orch, p.provider[0] ? p.provider : NULL, &err) < 0)
		return http_send_evo_error(c, &err);
	struct tournament_record t;
	if (tournament_create(api->tournaments, scope(req), &p, &t, &err) < 0)
		return http_send_evo_error(c, &err);
	snprintf(req->target, sizeof req->target, "%s", t.id);
	struct tournament_entry *e = NULL;
	size_t n = 0;
	store_tournament_entries(api->store, t.id, -1, &e, &n, NULL);
	json_t *o = tournament_json(&t, e, n, true);
	tournament_entries_free(e, n);
	tournament_record_clear(&t);
	return http_send_json(c, 201, o);
}

static enum MHD_Result list(struct api *api, struct MHD_Connection *c, struct api_request *req)
{
	struct tournament_record *t;
	size_t n;
	struct evo_error err = {0};
	if (store_tournament_list(api->store, scope(req), false, &t, &n, &err) < 0)
		return http_send_evo_error(c, &err);
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		struct tournament_entry *e = NULL;
		size_t m = 0;
		store_tournament_entries(api->store, t[i].id, t[i].generation, &e, &m, NULL);
		json_array_append_new(items, tournament_json(&t[i], e, m, false));
		tournament_entries_free(e, m);
		tournament_record_clear(&t[i]);
	}
	free(t);
	return http_send_json(c, 200, json_pack("{s:o, s:I}", "tournaments", items, "count",
						(json_int_t)json_array_size(items)));
}

static enum MHD_Result get_one(struct api *api, struct MHD_Connection *c,
			       struct api_request *req, const char *id)
{
	struct tournament_record t;
	struct evo_error err = {0};
	if (store_tournament_get(api->store, id, scope(req), &t, &err) < 0)
		return http_send_evo_error(c, &err);
	struct tournament_entry *e = NULL;
	size_t n = 0;
	int r = store_tournament_entries(api->store, id, -1, &e, &n, &err);
	json_t *o = r == 0 ? tournament_json(&t, e, n, true) : NULL;
	tournament_entries_free(e, n);
	tournament_record_clear(&t);
	return o ? http_send_json(c, 200, o) : http_send_evo_error(c, &err);
}

static enum MHD_Result cancel(struct api *api, struct MHD_Connection *c, struct api_request *req,
			      const char *id)
{
	struct tournament_record t;
	struct evo_error err = {0};
	/* Another tenant's is not found, as if it did not exist. */
	if (store_tournament_get(api->store, id, scope(req), &t, &err) < 0)
		return http_send_evo_error(c, &err);
	tournament_record_clear(&t);
	if (api->tournaments == NULL)
		return http_send_error(c, 503, "unavailable", "the tournament runner is not running");
	if (tournament_cancel(api->tournaments, id, &err) < 0)
		return http_send_evo_error(c, &err);
	return get_one(api, c, req, id);
}

const struct api_collection api_tournaments = {
	.base = "/api/tournaments",
	.route_all = "/api/tournaments",
	.route_one = "/api/tournaments/{id}",
	.list = list,
	.create = api_tournament_create,
	.get = get_one,
	.remove = cancel,
};
