/* Scheduled agents (issue 7 §4): POST /api/schedules, GET
 * /api/schedules[/{id}], DELETE /api/schedules/{id}; and mode "scheduled"
 * of POST /api/saas/agents, which is the same creation. A tenant sees and
 * cancels only its own (another's is 404); the admin sees all. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/agent_json.h"
#include "api/api.h"
#include "api/http.h"
#include "api/requests.h"
#include "orchestrator/scheduler.h"

static const char *scope(const struct api_request *req)
{
	return req->caller.admin ? NULL : req->caller.tenant;
}

/* What the schedule starts, without the values of its environment (they
 * may be secrets): their names only, as for agents. */
static json_t *spawn_view(const char *spawn_json)
{
	json_t *o = spawn_json ? json_loads(spawn_json, 0, NULL) : NULL;
	if (o == NULL)
		return json_object();
	json_t *env = json_object_get(o, "env");
	json_t *keys = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v)
		json_array_append_new(keys, json_string(k));
	json_object_del(o, "env");
	json_object_set_new(o, "environment_keys", keys);
	return o;
}

static json_t *schedule_json(const struct schedule_record *r)
{
	json_t *sched = r->schedule_json ? json_loads(r->schedule_json, 0, NULL) : NULL;
	json_t *o = json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "id",
			      r->id, "tenant", r->tenant[0] ? json_string(r->tenant) : json_null(),
			      "state", r->state, "schedule", sched ? sched : json_null(), "agent",
			      spawn_view(r->spawn_json), "agent_id",
			      r->agent_id[0] ? json_string(r->agent_id) : json_null(), "runs",
			      (json_int_t)r->runs, "note",
			      r->note[0] ? json_string(r->note) : json_null(), "window_opened_at",
			      api_json_time(r->window_open_ms), "created_at",
			      api_json_time(r->created_at_ms), "updated_at",
			      api_json_time(r->updated_at_ms));
	struct schedule_times t;
	if (scheduler_times(r, (int64_t)time(NULL), &t, NULL) == 0) {
		json_object_set_new(o, "open", json_boolean(t.open && strcmp(r->state, "active") == 0));
		json_object_set_new(o, "opens_at", api_json_time(t.opens_at * 1000));
		json_object_set_new(o, "closes_at", api_json_time(t.closes_at * 1000));
	}
	return o;
}

enum MHD_Result api_schedule_create(struct api *api, struct MHD_Connection *c,
				    struct api_request *req, json_t *body)
{
	if (api->scheduler == NULL)
		return http_send_error(c, 503, "unavailable", "the scheduler is not running");
	struct evo_error err = {0};
	json_t *schedule = json_incref(json_object_get(body, "schedule"));
	json_t *spawn_body = json_deep_copy(body);
	json_object_del(spawn_body, "schedule");
	struct spawn_request sr = {0};
	int r = 0;
	if (schedule == NULL)
		r = evo_error_set(&err, EVO_ERR_INVALID, 0,
				  "schedule: required ({\"start\": \"09:00\", \"end\": \"16:00\", "
				  "\"timezone\": \"America/New_York\", \"days\": [\"mon\", …]})");
	if (r == 0 && json_object_get(spawn_body, "agent_id"))
		r = evo_error_set(&err, EVO_ERR_INVALID, 0,
				  "agent_id: a schedule names the agent of each window itself");
	if (r == 0)
		r = request_parse_cloud_spawn(spawn_body, api->cfg, &sr, &err);
	if (r == 0)
		r = api_check_spawn_template(api, "template_id", &sr.spawn, &err);
	struct schedule_record rec;
	if (r == 0)
		r = scheduler_create(api->scheduler, scope(req), &sr.spawn, schedule, &rec, &err);
	request_free(&sr);
	json_decref(spawn_body);
	json_decref(schedule);
	if (r < 0)
		return http_send_evo_error(c, &err);
	snprintf(req->target, sizeof req->target, "%s", rec.id);
	json_t *o = schedule_json(&rec);
	schedule_record_clear(&rec);
	return http_send_json(c, 201, o);
}

static enum MHD_Result list(struct api *api, struct MHD_Connection *c, struct api_request *req)
{
	struct schedule_record *r;
	size_t n;
	struct evo_error err = {0};
	if (store_schedule_list(api->store, scope(req), false, &r, &n, &err) < 0)
		return http_send_evo_error(c, &err);
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(items, schedule_json(&r[i]));
		schedule_record_clear(&r[i]);
	}
	free(r);
	return http_send_json(c, 200, json_pack("{s:o, s:I}", "schedules", items, "count",
						(json_int_t)json_array_size(items)));
}

static enum MHD_Result get_one(struct api *api, struct MHD_Connection *c,
			       struct api_request *req, const char *id)
{
	struct schedule_record r;
	struct evo_error err = {0};
	if (store_schedule_get(api->store, id, scope(req), &r, &err) < 0)
		return http_send_evo_error(c, &err);
	json_t *o = schedule_json(&r);
	schedule_record_clear(&r);
	return http_send_json(c, 200, o);
}

static enum MHD_Result cancel(struct api *api, struct MHD_Connection *c, struct api_request *req,
			      const char *id)
{
	struct schedule_record r;
	struct evo_error err = {0};
	/* Another tenant's is not found, as if it did not exist. */
	if (store_schedule_get(api->store, id, scope(req), &r, &err) < 0)
		return http_send_evo_error(c, &err);
	schedule_record_clear(&r);
	if (api->scheduler == NULL)
		return http_send_error(c, 503, "unavailable", "the scheduler is not running");
	if (scheduler_cancel(api->scheduler, id, &err) < 0)
		return http_send_evo_error(c, &err);
	return get_one(api, c, req, id);
}

const struct api_collection api_schedules = {
	.base = "/api/schedules",
	.route_all = "/api/schedules",
	.route_one = "/api/schedules/{id}",
	.list = list,
	.create = api_schedule_create,
	.get = get_one,
	.remove = cancel,
};
