/* Paths of the HTTP API, pure (no HTTP, no I/O): the route table's
 * pieces that take a URL apart, fuzzed by fuzz/fuzz_routing.c. */
#ifndef EVOCLAW_API_PATHS_H
#define EVOCLAW_API_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/agent.h"

/* The {id} of a path like /api/agents/{id}/logs: copied into out, or
 * false when the segment is missing, empty or too long. */
bool api_path_id(const char *url, const char *prefix, const char *suffix, char *out,
		 size_t size);

/* E2B's control plane (/sandboxes..., /v2/sandboxes...)? */
bool api_e2b_path(const char *url);

/* SaaS routes (/api/saas/...)? */
bool api_saas_path(const char *url);

/* The agent or sandbox id a route acts on, if it names one, and the
 * route's pattern (for metrics and the audit log). */
bool api_url_agent_id(const char *url, char out[AGENT_ID_MAX], const char **pattern);

/* ---- the dashboard's static files ----------------------------------------- */

/* The web/ file a /dashboard path serves: "index.html" for the pages
 * (/dashboard, /dashboard/swarms, with or without a trailing slash), the
 * name after /dashboard/assets/ otherwise. False when the path is neither
 * or the name is not one plain file name. */
bool api_dashboard_file(const char *url, char *out, size_t size);

/* Does an Accept-Encoding header allow gzip (a "gzip" or "*" coding whose
 * q is not 0)? NULL: no. */
bool api_accepts_gzip(const char *accept_encoding);

/* Does an If-None-Match header name this (quoted) ETag, or "*"? Weak
 * validators (W/"...") match too, as RFC 9110 says for GET. */
bool api_etag_matches(const char *if_none_match, const char *etag);

#endif
