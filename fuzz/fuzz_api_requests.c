/* libFuzzer target: the JSON bodies of POST /api/cloud/spawn,
 * /api/agents/deploy, /api/saas/register and E2B's POST /v2/sandboxes. Never a crash or leak; a refusal always names what
 * was wrong; an acceptance is a spawn the orchestrator can use. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/requests.h"

static void check(json_t *body, const struct evo_config *cfg, bool deploy)
{
	struct spawn_request r;
	struct evo_error err = {0};
	int rc = deploy ? request_parse_agents_deploy(body, cfg, &r, &err)
			: request_parse_cloud_spawn(body, cfg, &r, &err);
	if (rc < 0) {
		if (err.kind != EVO_ERR_INVALID || err.msg[0] == '\0' || strchr(err.msg, ':') == NULL)
			abort();
		return;
	}
	const struct orch_spawn *s = &r.spawn;
	if (!request_agent_type_valid(s->agent_type) || (s->id && !request_agent_id_valid(s->id)) ||
	    s->timeout_sec > cfg->cloud.max_lifetime_sec || (deploy && s->name == NULL))
		abort();
	if (s->command_json) {
		json_t *argv = json_loads(s->command_json, 0, NULL);
		if (!json_is_array(argv) || json_array_size(argv) == 0)
			abort();
		json_decref(argv);
	}
	request_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evo_config cfg;
	config_defaults(&cfg);
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	check(body, &cfg, false);
	check(body, &cfg, true);
	struct evo_error err = {0};
	struct e2b_create_request cr;
	err = (struct evo_error){0};
	if (request_parse_e2b_create(body, &cfg, &cr, &err) == 0) {
		if (cr.template_name == NULL || cr.timeout_sec == 0 ||
		    cr.timeout_sec > cfg.cloud.max_lifetime_sec)
			abort();
		request_e2b_create_free(&cr);
	} else if (err.kind != EVO_ERR_INVALID || strchr(err.msg, ':') == NULL) {
		abort();
	}
	struct register_request rr;
	err = (struct evo_error){0};
	if (request_parse_register(body, &cfg, &rr, &err) == 0) {
		if (!tenant_email_valid(rr.email) || rr.max_agents == 0 ||
		    rr.max_agents > cfg.cloud.max_agents || rr.credit_limit <= 0)
			abort();
	} else if (err.kind != EVO_ERR_INVALID || strchr(err.msg, ':') == NULL) {
		abort();
	}
	/* An agent's telemetry report: a kind, and a message exactly when a
	 * log or alert carries one; metrics are an object of numbers. */
	struct report_request rep;
	err = (struct evo_error){0};
	if (request_parse_report(body, &rep, &err) == 0) {
		bool wants = rep.report.kind == ORCH_REPORT_LOG || rep.report.kind == ORCH_REPORT_ALERT;
		if (wants != (rep.report.message != NULL))
			abort();
		if (rep.report.kind == ORCH_REPORT_FITNESS && !rep.report.report.has_fitness)
			abort();
		if (rep.metrics) {
			json_t *m = json_loads(rep.metrics, 0, NULL);
			const char *k;
			json_t *v;
			if (!json_is_object(m))
				abort();
			json_object_foreach(m, k, v)
				if (!json_is_number(v))
					abort();
			json_decref(m);
		}
	} else if (err.kind != EVO_ERR_INVALID || strchr(err.msg, ':') == NULL) {
		abort();
	}
	request_report_free(&rep);
	json_decref(body);
	return 0;
}
