/* libFuzzer target: taking request paths and headers apart
 * (src/api/paths.c, envd's method table), E2B's metadata filter query and
 * the field an error message names. Never a crash; an id found is a whole
 * path segment; a dashboard file is one plain name; a filter is an object
 * of strings; a field is the message's own prefix. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/envd_rpc.h"
#include "api/json_input.h"
#include "api/paths.h"
#include "api/requests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = malloc(size + 1);
	memcpy(url, data, size);
	url[size] = '\0';

	char id[AGENT_ID_MAX];
	const char *pattern;
	if (api_url_agent_id(url, id, &pattern)) {
		if (pattern == NULL || id[0] == '\0' || strchr(id, '/') != NULL ||
		    strlen(id) >= AGENT_ID_MAX || strstr(url, id) == NULL)
			abort();
		if (!api_e2b_path(url) && strncmp(url, "/api/", 5) != 0)
			abort();
	}
	static const char *const shapes[][2] = {
		{"/api/agents/", "/logs"}, {"/api/agents/", ""}, {"/sandboxes/", "/timeout"},
		{"/v2/sandboxes/", "/connect"}, {"/api/saas/keys/", ""}, {"", ""},
	};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		char small[8];
		if (api_path_id(url, shapes[i][0], shapes[i][1], id, sizeof id) &&
		    (strchr(id, '/') != NULL || id[0] == '\0'))
			abort();
		if (api_path_id(url, shapes[i][0], shapes[i][1], small, sizeof small) &&
		    strlen(small) >= sizeof small)
			abort();
	}
	(void)api_saas_path(url);
	enum envd_method m = envd_method_from_path(url);
	if (m != ENVD_METHOD_UNKNOWN && strcmp(url + 1, envd_method_name(m)) != 0)
		abort();

	char name[64];
	if (api_dashboard_file(url, name, sizeof name) &&
	    (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL ||
	     strncmp(url, "/dashboard", 10) != 0))
		abort();
	(void)api_accepts_gzip(url);
	if (url[0] == '"' && strpbrk(url, ", \t") == NULL && !api_etag_matches(url, url))
		abort(); /* one quoted tag matches itself */
	char field[128];
	if (json_input_error_field(url, field, sizeof field)) {
		size_t n = strlen(field);
		if (n == 0 || strncmp(url, field, n) != 0 || url[n] != ':' || url[n + 1] != ' ')
			abort();
	}

	struct evo_error err = {0};
	json_t *filter = request_e2b_metadata_filter(url, &err);
	if (filter == NULL) {
		if (err.kind != EVO_ERR_INVALID || strncmp(err.msg, "metadata:", 9) != 0)
			abort();
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(filter, k, v)
			if (!json_is_string(v))
				abort();
		json_decref(filter);
	}
	free(url);
	return 0;
}
