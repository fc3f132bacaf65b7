/* Which route a path names, pure (no HTTP): what the routing fuzz target
 * drives. */
#include "api/paths.h"

#include <string.h>

bool api_path_id(const char *url, const char *prefix, const char *suffix, char *out,
		 size_t size)
{
	size_t lp = strlen(prefix), ls = strlen(suffix), lu = strlen(url);
	if (lu <= lp + ls || strncmp(url, prefix, lp) != 0 || strcmp(url + lu - ls, suffix) != 0)
		return false;
	size_t n = lu - lp - ls;
	if (n >= size || memchr(url + lp, '/', n) != NULL)
		return false;
	memcpy(out, url + lp, n);
	out[n] = '\0';
	return true;
}

bool api_e2b_path(const char *url)
{
	return strcmp(url, "/sandboxes") == 0 || strncmp(url, "/sandboxes/", 11) == 0 ||
	       strcmp(url, "/v2/sandboxes") == 0 || strncmp(url, "/v2/sandboxes/", 14) == 0;
}

bool api_saas_path(const char *url)
{
	return strncmp(url, "/api/saas/", 10) == 0;
}

bool api_url_agent_id(const char *url, char out[AGENT_ID_MAX], const char **pattern)
{
	*pattern = NULL;
	if (api_path_id(url, "/api/agents/", "/logs", out, AGENT_ID_MAX))
		*pattern = "/api/agents/{id}/logs";
	else if (strcmp(url, "/api/agents/deploy") != 0 &&
		 api_path_id(url, "/api/agents/", "", out, AGENT_ID_MAX))
		*pattern = "/api/agents/{id}";
	else if (strcmp(url, "/api/cloud/spawn") != 0 && strcmp(url, "/api/cloud/costs") != 0 &&
		 api_path_id(url, "/api/cloud/", "", out, AGENT_ID_MAX))
		*pattern = "/api/cloud/{id}";
	else if (api_path_id(url, "/v2/sandboxes/", "/connect", out, AGENT_ID_MAX))
		*pattern = "/v2/sandboxes/{id}/connect";
	if (*pattern)
		return true;
	/* /sandboxes/{id} and /sandboxes/{id}/<action> */
	if (strncmp(url, "/sandboxes/", 11) != 0)
		return false;
	const char *id = url + 11, *end = strchr(id, '/');
	size_t len = end ? (size_t)(end - id) : strlen(id);
	if (len == 0 || len >= AGENT_ID_MAX)
		return false;
	memcpy(out, id, len);
	out[len] = '\0';
	*pattern = end ? "/sandboxes/{id}/*" : "/sandboxes/{id}";
	return true;
}
