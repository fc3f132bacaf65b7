/* The agent object of docs/api.md, shared by both surfaces, in two forms:
 * a jansson tree, for answers that add to it (GET /api/agents/{id}), and
 * text written straight into a buffer, for pages of agents. The text is
 * byte for byte what http_json_text (json_dumps with JSON_COMPACT |
 * JSON_REAL_PRECISION(15)) makes of the tree; tests/unit/test_agent_json.c
 * holds the two to that. No HTTP here: unit tests link this file. */
#ifndef EVOCLAW_API_AGENT_JSON_H
#define EVOCLAW_API_AGENT_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"
#include "core/agent.h"

/* An agent as the API shows it; environment values never. The caller owns
 * the reference. */
/* An ISO-8601 UTC time ("2026-11-22T16:49:45.004Z"), null for 0. */
json_t *api_json_time(int64_t ms);

json_t *api_agent_json(const struct agent *a);

/* api_agent_json(a) as JSON text, appended to out. Can't fail (allocation
 * aborts). */
void api_agent_json_write(struct evo_buf *out, const struct agent *a);

/* A page of the agent list, {"agents":[...],"total":N,"limit":N,"offset":N},
 * appended to out. */
void api_agent_page_write(struct evo_buf *out, const struct agent *list, size_t n, int64_t total,
			  long long limit, long long offset);

#endif
