/* Which route a path names, pure (no HTTP): what the routing fuzz target
 * drives. */
#include "api/paths.h"

#include <string.h>
#include <strings.h>

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

/* ---- the dashboard's static files ----------------------------------------- */

bool api_dashboard_file(const char *url, char *out, size_t size)
{
	static const char *const pages[] = {"/dashboard", "/dashboard/", "/dashboard/swarms",
					    "/dashboard/swarms/"};
	const char *name = NULL;
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++)
		if (strcmp(url, pages[i]) == 0)
			name = "index.html";
	if (name == NULL && strncmp(url, "/dashboard/assets/", 18) == 0)
		name = url + 18;
	/* One file name of web/: no directories, no dot files. */
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len >= size || name[0] == '.' || strchr(name, '/') != NULL)
		return false;
	memcpy(out, name, len + 1);
	return true;
}

/* Walks a comma-separated header list: the next element's start and
 * length (spaces trimmed); false at the end. */
static bool next_element(const char **cursor, const char **start, size_t *len)
{
	const char *p = *cursor;
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	if (*p == '\0')
		return false;
	const char *end = strchr(p, ',');
	if (end == NULL)
		end = p + strlen(p);
	*cursor = end;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*start = p;
	*len = (size_t)(end - p);
	return true;
}

bool api_accepts_gzip(const char *accept_encoding)
{
	const char *cursor = accept_encoding ? accept_encoding : "", *el;
	size_t len;
	while (next_element(&cursor, &el, &len)) {
		/* "gzip;q=0.5": the coding, then parameters. */
		size_t coding = 0;
		while (coding < len && el[coding] != ';' && el[coding] != ' ' && el[coding] != '\t')
			coding++;
		bool named = (coding == 4 && strncasecmp(el, "gzip", 4) == 0) ||
			     (coding == 1 && el[0] == '*');
		if (!named)
			continue;
		/* q=0 (or 0.0, 0.00, 0.000) refuses it. */
		const char *q = NULL;
		for (size_t i = coding; i + 2 < len; i++)
			if ((el[i] == 'q' || el[i] == 'Q') && el[i + 1] == '=')
				q = el + i + 2;
		bool zero = q != NULL && q[0] == '0';
		for (const char *d = q ? q + 1 : NULL; zero && d < el + len; d++)
			if (*d != '.' && *d != '0')
				zero = false;
		if (!zero)
			return true;
	}
	return false;
}

bool api_etag_matches(const char *if_none_match, const char *etag)
{
	const char *cursor = if_none_match ? if_none_match : "", *el;
	size_t len, want = strlen(etag);
	while (next_element(&cursor, &el, &len)) {
		if (len == 1 && el[0] == '*')
			return true;
		if (len >= 2 && el[0] == 'W' && el[1] == '/') {
			el += 2;
			len -= 2;
		}
		if (len == want && memcmp(el, etag, want) == 0)
			return true;
	}
	return false;
}
