/* GET /api/audit: the audit log of mutating calls (the operator's only),
 * newest first. Filters: actor (admin, a tenant id, anonymous), method,
 * route (the pattern, "/api/cloud/spawn"), status, since and until (unix
 * ms), before (a seq, to page back), limit (1..1000, default 100). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/http.h"
#include "store/store.h"

static json_t *time_json(int64_t ms)
{
	char text[32];
	agent_format_time(ms, text);
	return text[0] ? json_string(text) : json_null();
}

enum MHD_Result api_audit_list(struct api *api, struct MHD_Connection *c,
			       const struct api_request *req)
{
	if (!req->caller.admin)
		return http_send_error(c, 403, "forbidden", "the audit log is the operator's");
	enum MHD_Result ret;
	long long limit, status, since, until, before;
	if (api_query_number(c, "limit", 1, 1000, 100, &limit, &ret) < 0 ||
	    api_query_number(c, "status", 0, 599, 0, &status, &ret) < 0 ||
	    api_query_number(c, "since", 0, LLONG_MAX / 2, 0, &since, &ret) < 0 ||
	    api_query_number(c, "until", 0, LLONG_MAX / 2, 0, &until, &ret) < 0 ||
	    api_query_number(c, "before", 0, LLONG_MAX / 2, 0, &before, &ret) < 0)
		return ret;
	struct audit_filter f = {
		.actor = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "actor"),
		.method = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "method"),
		.route = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "route"),
		.status = (int)status,
		.since_ms = since,
		.until_ms = until,
		.before_seq = before,
	};
	struct audit_entry *rows = NULL;
	size_t n = 0;
	struct evo_error err = {0};
	if (store_audit_list(api->store, &f, (size_t)limit, &rows, &n, &err) < 0)
		return http_send_evo_error(c, &err);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct audit_entry *e = &rows[i];
		json_array_append_new(
			list, json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "seq",
					(json_int_t)e->seq, "at", time_json(e->at_ms), "actor", e->actor,
					"key_id", e->key_id, "address", e->address, "method", e->method,
					"route", e->route, "target", e->target, "status", e->status));
	}
	/* A full page may have more behind it: where to continue. */
	json_t *next = n == (size_t)limit && n > 0 ? json_integer(rows[n - 1].seq) : json_null();
	free(rows);
	return http_send_json(c, 200, json_pack("{s:o, s:o}", "entries", list, "next_before", next));
}
