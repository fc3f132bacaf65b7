/* envd's wire format, pure (no I/O, no HTTP): what the fuzz target drives.
 * The SDK speaks the Connect protocol with JSON messages
 * (../shared/specs/e2b-compat.md §4.3-4.5): unary calls are a JSON body
 * answered by a JSON body; server-streaming calls carry one 5-byte
 * enveloped message and are answered by envelopes ending in an end-stream
 * envelope (flag 0x02). Request messages are parsed here into typed
 * requests; field names may be the JSON (camelCase) or proto
 * (snake_case) name, unknown fields are ignored, null means the default. */
#ifndef EVOCLAW_API_ENVD_RPC_H
#define EVOCLAW_API_ENVD_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/proto.h"

/* Connect error codes (connectrpc.com/docs/protocol#error-codes). */
enum connect_code {
	CONNECT_OK = 0,
	CONNECT_CANCELED = 1,
	CONNECT_UNKNOWN = 2,
	CONNECT_INVALID_ARGUMENT = 3,
	CONNECT_DEADLINE_EXCEEDED = 4,
	CONNECT_NOT_FOUND = 5,
	CONNECT_ALREADY_EXISTS = 6,
	CONNECT_PERMISSION_DENIED = 7,
	CONNECT_RESOURCE_EXHAUSTED = 8,
	CONNECT_FAILED_PRECONDITION = 9,
	CONNECT_ABORTED = 10,
	CONNECT_OUT_OF_RANGE = 11,
	CONNECT_UNIMPLEMENTED = 12,
	CONNECT_INTERNAL = 13,
	CONNECT_UNAVAILABLE = 14,
	CONNECT_DATA_LOSS = 15,
	CONNECT_UNAUTHENTICATED = 16,
};

/* "not_found", ... */
const char *connect_code_name(enum connect_code code);
/* The HTTP status a unary error answers with (not_found 404, ...). */
unsigned connect_code_http_status(enum connect_code code);
/* The code for an errno from init (ENOENT not_found, EEXIST
 * already_exists, EACCES permission_denied, ENOSPC resource_exhausted,
 * EINVAL/ENOTDIR/EISDIR... invalid_argument, else internal). */
enum connect_code connect_code_from_errno(int errnum);

#define CONNECT_FLAG_END_STREAM 0x02u
#define CONNECT_ENVELOPE_HEADER 5u

/* Append one envelope (flags, big-endian length, payload) to b. */
void connect_envelope_append(struct evo_buf *b, uint8_t flags, const char *payload, size_t len);

/* The message of a streaming request: body must be exactly one
 * uncompressed, non-end-stream envelope. */
int connect_envelope_single(const uint8_t *body, size_t len, const uint8_t **payload,
			    size_t *payload_len, struct evo_error *err);

enum envd_method {
	ENVD_METHOD_UNKNOWN = 0,
	ENVD_PROCESS_START,
	ENVD_PROCESS_CONNECT,
	ENVD_PROCESS_LIST,
	ENVD_PROCESS_SEND_INPUT,
	ENVD_PROCESS_SEND_SIGNAL,
	ENVD_PROCESS_CLOSE_STDIN,
	ENVD_PROCESS_UPDATE,
	ENVD_PROCESS_STREAM_INPUT,
	ENVD_FS_STAT,
	ENVD_FS_MAKE_DIR,
	ENVD_FS_MOVE,
	ENVD_FS_LIST_DIR,
	ENVD_FS_REMOVE,
	ENVD_FS_WATCH_DIR,
};

/* The method a path names ("/process.Process/Start"), or UNKNOWN. */
enum envd_method envd_method_from_path(const char *path);
const char *envd_method_name(enum envd_method m);
/* Server-streaming (enveloped) rather than unary? */
bool envd_method_is_streaming(enum envd_method m);

#define ENVD_MAX_ARGS 4096
#define ENVD_MAX_DEPTH 64

/* A parsed request message. Strings point into body, which it holds. */
struct envd_request {
	enum envd_method method;
	json_t *body;
	/* Process.Start */
	const char *cmd;
	const char **args; /* nargs entries, malloc'd array */
	size_t nargs;
	json_t *envs;      /* object of strings, borrowed from body; NULL if none */
	const char *cwd;   /* NULL: the user's home */
	bool stdin_given, stdin_open;
	bool pty;          /* a PTY was asked for */
	const char *tag;
	/* ProcessSelector (Connect, SendInput, SendSignal, CloseStdin, Update) */
	uint32_t pid;              /* 0 when selected by tag */
	const char *selector_tag;
	/* SendInput: malloc'd decoded bytes */
	uint8_t *input;
	size_t input_len;
	bool input_pty;
	/* SendSignal: 9 or 15 */
	int signal;
	/* Filesystem */
	const char *path;
	const char *destination; /* Move */
	uint32_t depth;          /* ListDir, 1..ENVD_MAX_DEPTH */
	bool recursive;          /* WatchDir */
	bool include_entry;      /* WatchDir: events carry the EntryInfo */
};

/* Parse the JSON message of method m (len bytes, not NUL-terminated).
 * INVALID errors name the field ("process.cmd: required"). */
int envd_request_parse(enum envd_method m, const char *json, size_t len, struct envd_request *out,
		       struct evo_error *err);
void envd_request_free(struct envd_request *r);

/* An EntryInfo (spec §4.4) from init's stat fields (docs/init-protocol.md
 * §5.1): name, type, path, size, mode, permissions as Go prints them,
 * owner, group, RFC 3339 modifiedTime, symlinkTarget, and metadata from
 * the file's user.e2b.* attributes. New reference. */
json_t *envd_entry_json(const uint8_t *fields, size_t len);

/* The user name of an "Authorization: Basic base64(user:)" header, into
 * out. INVALID for another scheme, bad base64 or a name that is empty,
 * too long or has characters no user name has. */
int envd_basic_user(const char *header, char *out, size_t size, struct evo_error *err);

/* Could this be a user name ([A-Za-z0-9._-], starting with a letter, digit
 * or _, at most 32 bytes)? */
bool envd_user_name_valid(const char *name);

#endif
