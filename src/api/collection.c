/* The routes of a collection of records (api.h, struct api_collection):
 * tournaments and schedules are served the same way. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/http.h"
#include "api/paths.h"

enum MHD_Result api_collection_route(struct api *api, struct MHD_Connection *c,
				     const char *method, const char *url, struct api_request *req,
				     const struct api_collection *col)
{
	char prefix[64], id[64];
	if (strcmp(url, col->base) == 0) {
		req->route = col->route_all;
		if (strcmp(method, "GET") == 0)
			return col->list(api, c, req);
		if (strcmp(method, "POST") != 0)
			return http_send_error(c, 405, "method_not_allowed", "%.16s %s: use GET or POST",
					       method, col->route_all);
		enum MHD_Result ret;
		json_t *body = api_body_object(c, req, &ret);
		if (body == NULL)
			return ret;
		ret = col->create(api, c, req, body);
		json_decref(body);
		return ret;
	}
	snprintf(prefix, sizeof prefix, "%s/", col->base);
	if (!api_path_id(url, prefix, "", id, sizeof id))
		return http_send_error(c, 404, "not_found", "no such route: %.200s", url);
	req->route = col->route_one;
	snprintf(req->target, sizeof req->target, "%s", id);
	if (strcmp(method, "GET") == 0)
		return col->get(api, c, req, id);
	if (strcmp(method, "DELETE") == 0)
		return col->remove(api, c, req, id);
	return http_send_error(c, 405, "method_not_allowed", "%.16s %s: use GET or DELETE", method,
			       col->route_one);
}
