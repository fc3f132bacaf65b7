/* E2B's wire formats, as the e2b provider reads and writes them
 * (../shared/specs/e2b-compat.md §3, §4.3): the control plane's Sandbox
 * JSON and error bodies, and envd's Connect-JSON envelope streams. Pure:
 * no I/O, so every parser here is unit-tested and fuzzed
 * (fuzz/fuzz_e2b_wire.c). The HTTP side is e2b_api.c. */
#ifndef EVOCLAW_RUNTIME_E2B_E2B_WIRE_H
#define EVOCLAW_RUNTIME_E2B_E2B_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/proto.h"
#include "runtime/provider.h"

#define E2B_TOKEN_MAX 160
#define E2B_DOMAIN_MAX 160

/* The metadata keys evoclaw tags its remote sandboxes with: who owns
 * them (an orchestrator's tag), which spawn made them (so a create whose
 * answer was lost is found, never made twice), and for which agent. */
#define E2B_META_OWNER "evoclawOwner"
#define E2B_META_SPAWN "evoclawSpawn"
#define E2B_META_AGENT "evoclawAgent"

/* A remote sandbox as E2B's API describes it (Sandbox, SandboxDetail or
 * ListedSandbox: whatever of these fields the answer has). */
struct e2b_sandbox {
	char id[PROVIDER_SANDBOX_ID_MAX];
	char template_id[64];
	char envd_token[E2B_TOKEN_MAX];
	char domain[E2B_DOMAIN_MAX]; /* "" when the answer has none */
	char owner[64];		     /* metadata evoclawOwner, "" if none */
	char spawn_key[64];	     /* metadata evoclawSpawn */
	char agent[64];		     /* metadata evoclawAgent */
	bool paused;
	int64_t started_ms, end_ms; /* 0 when not said */
	uint32_t cpu_count, memory_mb;
};

/* One Sandbox object. INVALID (naming the field) when it is not one. */
int e2b_sandbox_parse(const char *text, size_t len, struct e2b_sandbox *out,
		      struct evo_error *err);

/* A JSON array of them; *out malloc'd (the caller frees it). */
int e2b_sandbox_list_parse(const char *text, size_t len, struct e2b_sandbox **out, size_t *n,
			   struct evo_error *err);

/* The message of an error body ({"code","message"} of the API, or
 * {"code":"not_found","message"} of Connect); else the text itself,
 * trimmed and cut to size. Never fails. */
void e2b_error_message(const char *body, size_t len, char *out, size_t size);

/* What envd's process streams (Start, Connect) say, one message each. */
enum e2b_event_kind {
	E2B_EVENT_START,      /* pid */
	E2B_EVENT_DATA,	      /* is_stderr, data/len (decoded) */
	E2B_EVENT_END,	      /* exit_code, exited, status, error */
	E2B_EVENT_KEEPALIVE,
	E2B_EVENT_STREAM_END, /* the last envelope: error_code "" on success */
};

struct e2b_event {
	enum e2b_event_kind kind;
	uint32_t pid;
	bool is_stderr;
	const uint8_t *data;
	size_t len;
	int32_t exit_code;
	bool exited; /* false: a signal ended it */
	char status[128];
	char error_code[32]; /* STREAM_END: Connect's code string */
	char message[256];   /* END: its error; STREAM_END: the error's message */
};

/* Reassembles envelopes however the bytes are split and hands each
 * message to a callback. A message larger than E2B_ENVELOPE_MAX, a
 * compressed one, or one that is not such a message is an error. */
#define E2B_ENVELOPE_MAX (4u << 20)

struct e2b_stream_decoder {
	struct evo_buf pending;
	bool ended; /* the end-stream envelope was seen */
};

/* Return non-zero from the callback to stop; feed then returns it. */
typedef int (*e2b_event_fn)(void *ctx, const struct e2b_event *ev);

/* Decode what arrived. 0 when all of it was used, the callback's non-zero
 * value, or -1 with err for bytes that are not a process stream. */
int e2b_stream_feed(struct e2b_stream_decoder *d, const uint8_t *data, size_t len,
		    e2b_event_fn fn, void *ctx, struct evo_error *err);
void e2b_stream_decoder_free(struct e2b_stream_decoder *d);

/* Request bodies. Each returns malloc'd compact JSON. */
struct e2b_create_request {
	const char *template_id;
	uint32_t timeout_sec;
	char *const *env;     /* KEY=VALUE, NULL-terminated; may be NULL */
	const char *owner;    /* metadata tags, each may be NULL */
	const char *spawn_key;
	const char *agent;
};
char *e2b_create_body(const struct e2b_create_request *req);

/* One envelope holding a process.Process/Start request for argv (its
 * first element is the command) with env (KEY=VALUE, may be NULL), tagged
 * so that a later Connect (e2b_connect_envelope) finds it; stdin closed. */
void e2b_start_envelope(struct evo_buf *out, char *const *argv, char *const *env,
			const char *tag);
void e2b_connect_envelope(struct evo_buf *out, const char *tag);

/* A metadata filter of GET /v2/sandboxes ("k=v" encoded as the SDK does:
 * each part percent-encoded twice, then the whole again) into out. */
void e2b_metadata_query(const char *key, const char *value, char *out, size_t size);

#endif
