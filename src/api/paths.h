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

#endif
