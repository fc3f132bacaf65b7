/* A client of E2B's REST API and of envd, on libcurl
 * (../shared/specs/e2b-compat.md §3, §4). It works against E2B's cloud
 * and against anything that speaks the same API (another evoclaw).
 *
 * Failures are classified once, here: 401/403 is EVO_ERR_AUTH (a key to
 * fix, never retried); 404 NOT_FOUND; 409 CONFLICT; other 4xx INVALID
 * with E2B's message; 429 is waited out (its Retry-After) and 5xx and
 * network errors are retried with backoff, for at most retry_ms in all,
 * then SYSTEM. A create whose answer was lost (a 5xx, a reset after the
 * request went out) is looked up by its spawn key before it is sent
 * again, so a retry never makes a second sandbox.
 *
 * Thread-safe: every call uses its own connection. */
#ifndef EVOCLAW_RUNTIME_E2B_E2B_API_H
#define EVOCLAW_RUNTIME_E2B_E2B_API_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/proto.h"
#include "runtime/e2b/e2b_wire.h"

struct e2b_api_config {
	const char *api_url;	 /* "https://api.e2b.app", or another server's */
	const char *api_key;	 /* X-API-Key; a secret: never logged */
	const char *sandbox_url; /* envd of every sandbox (E2B_SANDBOX_URL); "" or NULL: by domain */
	const char *domain;	 /* sandboxes' domain when an answer names none */
	uint32_t retry_ms;	 /* how long retries may go on; 0: 60 s */
};

struct e2b_api;

/* Copies what cfg points at. Cannot fail. */
struct e2b_api *e2b_api_new(const struct e2b_api_config *cfg);
void e2b_api_free(struct e2b_api *api);

/* POST /v2/sandboxes. req->spawn_key must be set (unique per spawn): it is
 * what finds the sandbox if the answer is lost. */
int e2b_api_create(struct e2b_api *api, const struct e2b_create_request *req,
		   struct e2b_sandbox *out, struct evo_error *err);
/* GET /sandboxes/{id}. */
int e2b_api_get(struct e2b_api *api, const char *id, struct e2b_sandbox *out,
		struct evo_error *err);
/* GET /v2/sandboxes (running and paused), every page; only those whose
 * metadata has key=value when key is not NULL. *out malloc'd. */
int e2b_api_list(struct e2b_api *api, const char *key, const char *value,
		 struct e2b_sandbox **out, size_t *n, struct evo_error *err);
/* DELETE /sandboxes/{id}: NOT_FOUND when it was gone already. */
int e2b_api_kill(struct e2b_api *api, const char *id, struct evo_error *err);
/* POST /sandboxes/{id}/timeout: it now ends `seconds` from now. */
int e2b_api_set_timeout(struct e2b_api *api, const char *id, uint32_t seconds,
			struct evo_error *err);
/* POST /sandboxes/{id}/pause: CONFLICT when paused already. */
int e2b_api_pause(struct e2b_api *api, const char *id, struct evo_error *err);
/* POST /v2/sandboxes/{id}/connect: resumes a paused one; timeout_sec 0
 * keeps the server's default. */
int e2b_api_connect(struct e2b_api *api, const char *id, uint32_t timeout_sec,
		    struct e2b_sandbox *out, struct evo_error *err);

struct e2b_metrics {
	double cpu_used_pct;
	uint32_t cpu_count;
	uint64_t mem_used, mem_total;
};
/* GET /sandboxes/{id}/metrics: the latest sample (zeros when none yet). */
int e2b_api_metrics(struct e2b_api *api, const char *id, struct e2b_metrics *out,
		    struct evo_error *err);

/* envd's POST /files: the file at path (its directories made) holds data. */
int e2b_api_write_file(struct e2b_api *api, const struct e2b_sandbox *sb, const char *path,
		       const uint8_t *data, size_t len, struct evo_error *err);

/* A server-streaming envd call (process.Process/Start or Connect, named
 * by method) on sandbox sb with request envelope: every message goes to
 * fn until the stream ends, fn returns non-zero, or *cancel turns true.
 * Returns 0 when the stream ended with its end-stream envelope (the
 * STREAM_END event tells how), 1 when cancelled or fn stopped it, -1 with
 * err when the connection failed or broke before that. Not retried: the
 * caller knows whether to start again or reconnect. */
int e2b_api_process_stream(struct e2b_api *api, const struct e2b_sandbox *sb,
			   const char *method, const struct evo_buf *envelope, e2b_event_fn fn,
			   void *ctx, const atomic_bool *cancel, struct evo_error *err);

#endif
