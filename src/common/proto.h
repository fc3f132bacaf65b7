/* The evoclaw-init wire protocol: framed, multiplexed messages between the
 * host (the per-sandbox supervisor, or a client of it) and evoclaw-init,
 * PID 1 inside a sandbox. Documented for humans in docs/init-protocol.md.
 *
 * Transport: AF_UNIX SOCK_SEQPACKET, exactly one frame per record, so a
 * malformed frame is rejected on its own and framing is never lost. The
 * init channel is inherited as fd EVO_INIT_CHANNEL_FD; supervisors listen on
 * a SEQPACKET socket in the sandbox's runtime directory.
 *
 * Frame = 12-byte header + payload, all integers little-endian:
 *   u32 payload_len   bytes after the header, <= EVO_PROTO_MAX_PAYLOAD
 *   u32 stream        request / process stream id chosen by the requester
 *   u8  type          enum evo_msg_type
 *   u8  flags         0 unless a message says otherwise
 *   u16 reserved      must be 0
 * Payload = a sequence of TLV fields: u16 tag, u32 len, len bytes.
 * Fields may repeat (ARGV, ENV, ENTRY) and may nest (ENTRY holds TLVs).
 * Unknown tags are ignored so either side can grow; malformed frames
 * (bad lengths, reserved bits set, truncated fields) are rejected.
 *
 * Streams: every request carries a stream id chosen by the requester
 * (non-zero); every reply to it carries the same id. A PROC_START opens a
 * stream that lives until its PROC_EXIT; other requests end with exactly one
 * OK or ERROR frame. Many streams are in flight at once. Stream 0 carries
 * unsolicited events from init (none yet) and is never a request. */
#ifndef EVOCLAW_COMMON_PROTO_H
#define EVOCLAW_COMMON_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define EVO_PROTO_HEADER_LEN 12u
#define EVO_PROTO_MAX_PAYLOAD (128u * 1024u)
#define EVO_PROTO_MAX_FRAME (EVO_PROTO_HEADER_LEN + EVO_PROTO_MAX_PAYLOAD)
#define EVO_INIT_CHANNEL_FD 3
/* The entrypoint given on init's command line runs on this stream. */
#define EVO_ENTRYPOINT_STREAM 1u
#define EVO_PROTO_FIELD_HEADER_LEN 6u

enum evo_msg_type {
	/* host -> init */
	EVO_MSG_PROC_START = 1,   /* ARGV+ [ENV*] [CWD] [UID] [GID] [STDIN] [TAG] -> PROC_STARTED | ERROR */
	EVO_MSG_PROC_STDIN = 2,   /* on a process stream: DATA */
	EVO_MSG_PROC_CLOSE_STDIN = 3, /* on a process stream */
	EVO_MSG_PROC_SIGNAL = 4,  /* SIGNAL, and PID or the stream of a process -> OK | ERROR */
	EVO_MSG_PROC_LIST = 5,    /* -> OK with ENTRY* (PID, STREAM, TAG, ARGV*) */
	EVO_MSG_FILE_READ = 6,    /* PATH [OFFSET] [LENGTH] -> FILE_DATA* then OK (SIZE) | ERROR */
	EVO_MSG_FILE_WRITE = 7,   /* PATH DATA [OFFSET] [MODE] [UID] [GID] [flags] -> OK (SIZE) | ERROR */
	EVO_MSG_FILE_LIST = 8,    /* PATH [DEPTH] -> OK with ENTRY* (stat fields) | ERROR */
	EVO_MSG_FILE_STAT = 9,    /* PATH -> OK with stat fields | ERROR */
	EVO_MSG_FILE_MKDIR = 10,  /* PATH [MODE] [UID] [GID] [flags] -> OK (stat fields) | ERROR */
	EVO_MSG_FILE_REMOVE = 11, /* PATH [flags] -> OK | ERROR */
	EVO_MSG_FILE_RENAME = 12, /* PATH NEW_PATH -> OK (stat fields of NEW_PATH) | ERROR */
	EVO_MSG_PING = 13,        /* -> OK (liveness; the supervisor uses it) */
	EVO_MSG_FILE_WATCH = 14,  /* PATH [flags RECURSIVE] -> FILE_WATCHING, FILE_EVENT*, then OK
				   * (after FILE_UNWATCH) | ERROR */
	EVO_MSG_FILE_UNWATCH = 15,/* on a watch's stream: ends it with OK */

	/* init -> host */
	EVO_MSG_OK = 64,          /* request succeeded; fields depend on request */
	EVO_MSG_ERROR = 65,       /* ERRNO MESSAGE */
	EVO_MSG_PROC_STARTED = 66,/* PID */
	EVO_MSG_PROC_STDOUT = 67, /* DATA */
	EVO_MSG_PROC_STDERR = 68, /* DATA */
	EVO_MSG_PROC_EXIT = 69,   /* EXIT_CODE (-1 if signalled) SIGNAL (0 if exited) [OOM] */
	EVO_MSG_FILE_DATA = 70,   /* DATA: one chunk of a FILE_READ */
	EVO_MSG_ENTRIES = 71,     /* ENTRY*: leading part of a FILE_LIST or PROC_LIST reply too
				   * big for one frame; the final OK carries the rest */
	EVO_MSG_SUP_ENDED = 72,   /* supervisor -> attached clients, last thing before the sandbox
				   * is gone: REASON ("exited" EXIT_CODE SIGNAL [OOM], "timeout",
				   * "killed", "stopped", "init-exited", "error") */
	EVO_MSG_FILE_EVENT = 73,  /* NAME (relative to the watched dir) EVENT [TYPE] */
	EVO_MSG_FILE_WATCHING = 74, /* the watch is set; events from now on are reported */

	/* host <-> supervisor only; never reach init. */
	EVO_MSG_SUP_INFO = 96,    /* -> OK with ID TEMPLATE PID STATE CREATED DEADLINE [REMAINING_MS] */
	EVO_MSG_SUP_KILL = 97,    /* -> OK, then the supervisor tears the sandbox down */
	EVO_MSG_SUP_SET_TIMEOUT = 98, /* TIMEOUT_MS (from now) -> OK */
	EVO_MSG_SUP_STATS = 99,   /* -> OK with CPU_USEC MEM_BYTES MEM_PEAK PIDS OOM_KILLS */
	EVO_MSG_SUP_ATTACH = 100, /* -> entrypoint output replayed and followed as PROC_STDOUT/ERR, PROC_EXIT */
	EVO_MSG_SUP_CLAIM = 101,  /* [TIMEOUT_MS OWNER] -> OK; the sandbox now ends when this connection
				   * closes, or with CLAIM_DETACH lives on its own until TIMEOUT_MS */
	EVO_MSG_SUP_START_ENTRY = 102, /* PROC_START's fields -> PROC_STARTED | ERROR; the process is the
				   * entrypoint: logged, attachable, and its exit ends the sandbox */
	EVO_MSG_SUP_PAUSE = 103,  /* -> OK once every process is frozen; the deadline stops */
	EVO_MSG_SUP_RESUME = 104, /* [TIMEOUT_MS] -> OK once thawed; the deadline runs again with the
				   * time it had left, or TIMEOUT_MS from now */
};

/* The last request type init serves. */
#define EVO_MSG_INIT_REQUEST_LAST EVO_MSG_FILE_UNWATCH

/* The user xattrs stat fields report (E2B's file metadata). */
#define EVO_XATTR_METADATA_PREFIX "user.e2b."

/* FILE_EVENT's EVENT values (E2B's EventType numbers). */
enum evo_file_event {
	EVO_FILE_EVENT_CREATE = 1,
	EVO_FILE_EVENT_WRITE = 2,
	EVO_FILE_EVENT_REMOVE = 3,
	EVO_FILE_EVENT_RENAME = 4,
	EVO_FILE_EVENT_CHMOD = 5,
};

/* Frame flags. */
#define EVO_FLAG_FILE_APPEND 0x01u   /* FILE_WRITE: append instead of truncate */
#define EVO_FLAG_FILE_MKPARENTS 0x02u/* FILE_WRITE, FILE_MKDIR: create parents */
#define EVO_FLAG_FILE_RECURSIVE 0x04u/* FILE_REMOVE: remove a tree; FILE_WATCH: watch one */
#define EVO_FLAG_FILE_EXCL 0x08u     /* FILE_MKDIR: fail if it exists */
#define EVO_FLAG_WATCH_ENTRY 0x10u   /* FILE_WATCH: each FILE_EVENT carries the ENTRY's stat fields */
#define EVO_FLAG_CLAIM_HANDOFF 0x01u /* SUP_CLAIM: pass init's channel with the OK (SCM_RIGHTS) */
#define EVO_FLAG_CLAIM_DETACH 0x02u  /* SUP_CLAIM: an ordinary sandbox from now on, not tied to
				      * the claimer; TIMEOUT_MS is required */

enum evo_field_tag {
	EVO_F_ARGV = 1,      /* string, repeated */
	EVO_F_ENV = 2,       /* "KEY=VALUE", repeated */
	EVO_F_CWD = 3,       /* string */
	EVO_F_UID = 4,       /* u32 */
	EVO_F_GID = 5,       /* u32 */
	EVO_F_STDIN = 6,     /* u8: 1 = keep a stdin pipe open, else /dev/null */
	EVO_F_TAG = 7,       /* string: caller's name for a process */
	EVO_F_PID = 8,       /* u32 (pid inside the sandbox) */
	EVO_F_DATA = 9,      /* bytes */
	EVO_F_SIGNAL = 10,   /* i32 */
	EVO_F_EXIT_CODE = 11,/* i32 */
	EVO_F_ERRNO = 12,    /* i32 */
	EVO_F_MESSAGE = 13,  /* string */
	EVO_F_PATH = 14,     /* string */
	EVO_F_NEW_PATH = 15, /* string */
	EVO_F_OFFSET = 16,   /* u64 */
	EVO_F_LENGTH = 17,   /* u64 */
	EVO_F_MODE = 18,     /* u32 (permission bits, plus S_IFMT in stat replies) */
	EVO_F_SIZE = 19,     /* u64 */
	EVO_F_MTIME = 20,    /* i64 seconds */
	EVO_F_NAME = 21,     /* string */
	EVO_F_TYPE = 22,     /* u8: 'f' file, 'd' dir, 'l' symlink, 'o' other */
	EVO_F_DEPTH = 23,    /* u32 */
	EVO_F_ENTRY = 24,    /* nested TLVs, repeated */
	EVO_F_STREAM = 25,   /* u32 */
	EVO_F_OOM = 26,      /* u8: 1 when the memory limit killed the process */
	EVO_F_LINK_TARGET = 27, /* string */
	EVO_F_ID = 28,       /* string */
	EVO_F_TEMPLATE = 29, /* string */
	EVO_F_STATE = 30,    /* string */
	EVO_F_CREATED = 31,  /* i64 unix ms */
	EVO_F_DEADLINE = 32, /* i64 unix ms, 0 = none */
	EVO_F_TIMEOUT_MS = 33,/* u64 */
	EVO_F_CPU_USEC = 34, /* u64 */
	EVO_F_MEM_BYTES = 35,/* u64 */
	EVO_F_MEM_PEAK = 36, /* u64 */
	EVO_F_PIDS = 37,     /* u64 */
	EVO_F_OOM_KILLS = 38,/* u64 */
	EVO_F_USER = 39,     /* string: owner name in stat replies */
	EVO_F_MEM_LIMIT = 40,/* u64 */
	EVO_F_OWNER = 41,    /* string: who a sandbox belongs to (an orchestrator's tag) */
	EVO_F_REASON = 42,   /* string: why a sandbox ended (SUP_ENDED) */
	EVO_F_REMAINING_MS = 43, /* u64: a paused sandbox's time left once resumed, 0 = none */
	EVO_F_EVENT = 44,    /* u8: enum evo_file_event (FILE_EVENT) */
	EVO_F_XATTR = 45,    /* "user.NAME=VALUE", repeated: FILE_WRITE sets them; stat fields
			      * carry the file's user.e2b.* ones */
};

/* A parsed frame; payload points into the caller's buffer. */
struct evo_frame {
	uint32_t stream;
	uint8_t type;
	uint8_t flags;
	const uint8_t *payload;
	uint32_t payload_len;
};

/* Parse one frame from buf. Returns the bytes it used (> 0), 0 if buf holds
 * only part of a frame, or -1 with err set if it is malformed. With
 * SEQPACKET a record must be exactly one frame: callers treat 0 or a short
 * count as malformed too (evo_frame_parse_record does that). */
ssize_t evo_frame_parse(const uint8_t *buf, size_t len, struct evo_frame *out,
			struct evo_error *err);

/* One SEQPACKET record = one frame: -1 with err set unless it parses and
 * uses every byte. */
int evo_frame_parse_record(const uint8_t *buf, size_t len, struct evo_frame *out,
			   struct evo_error *err);

/* The stream id from a frame header, without validating anything else, so
 * an error about a malformed frame can still go back on its stream. 0 when
 * buf is too short to hold a header. */
uint32_t evo_frame_peek_stream(const uint8_t *buf, size_t len);

struct evo_field {
	uint16_t tag;
	uint32_t len;
	const uint8_t *value;
};

struct evo_field_iter {
	const uint8_t *pos;
	const uint8_t *end;
};

void evo_field_iter_init(struct evo_field_iter *it, const uint8_t *payload,
			 size_t len);
/* 1 and *out filled, 0 at the end, -1 with err set on a truncated field. */
int evo_field_next(struct evo_field_iter *it, struct evo_field *out,
		   struct evo_error *err);

/* The first field of f with tag into *out: true, or false when it has
 * none (or the payload ends short before one). */
bool evo_frame_field(const struct evo_frame *f, uint16_t tag, struct evo_field *out);

/* Typed views of a field; -1 with err set (naming the tag) on a size
 * mismatch. Strings must not contain NUL; evo_field_string returns a
 * malloc'd NUL-terminated copy the caller frees. */
int evo_field_u8(const struct evo_field *f, uint8_t *out, struct evo_error *err);
int evo_field_u32(const struct evo_field *f, uint32_t *out, struct evo_error *err);
int evo_field_i32(const struct evo_field *f, int32_t *out, struct evo_error *err);
int evo_field_u64(const struct evo_field *f, uint64_t *out, struct evo_error *err);
int evo_field_i64(const struct evo_field *f, int64_t *out, struct evo_error *err);
int evo_field_string(const struct evo_field *f, char **out, struct evo_error *err);

/* A growable byte buffer, used to build frames and to queue output. */
struct evo_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void evo_buf_reserve(struct evo_buf *b, size_t extra);
void evo_buf_append(struct evo_buf *b, const void *data, size_t len);
/* Drop the first n bytes (after they were written out). */
void evo_buf_consume(struct evo_buf *b, size_t n);
void evo_buf_free(struct evo_buf *b);

/* Building a frame: begin, add fields, end. Frames are appended to b, so a
 * buffer can hold a queue of frames. Nesting: evo_frame_nest_begin returns a
 * mark to pass to evo_frame_nest_end. The caller keeps payloads under
 * EVO_PROTO_MAX_PAYLOAD (chunk DATA at EVO_PROTO_CHUNK). */
#define EVO_PROTO_CHUNK (64u * 1024u)
size_t evo_frame_begin(struct evo_buf *b, uint32_t stream, uint8_t type, uint8_t flags);
void evo_frame_end(struct evo_buf *b, size_t mark);
void evo_frame_add(struct evo_buf *b, uint16_t tag, const void *value, uint32_t len);
void evo_frame_add_str(struct evo_buf *b, uint16_t tag, const char *s);
void evo_frame_add_u8(struct evo_buf *b, uint16_t tag, uint8_t v);
void evo_frame_add_u32(struct evo_buf *b, uint16_t tag, uint32_t v);
void evo_frame_add_i32(struct evo_buf *b, uint16_t tag, int32_t v);
void evo_frame_add_u64(struct evo_buf *b, uint16_t tag, uint64_t v);
void evo_frame_add_i64(struct evo_buf *b, uint16_t tag, int64_t v);
size_t evo_frame_nest_begin(struct evo_buf *b, uint16_t tag);
void evo_frame_nest_end(struct evo_buf *b, size_t mark);

/* Convenience: append a complete ERROR frame (ERRNO + MESSAGE). */
void evo_frame_error(struct evo_buf *b, uint32_t stream, int errnum, const char *message);

/* Name of a message type for logs and errors ("PROC_START"), or "unknown". */
const char *evo_msg_type_name(uint8_t type);

/* Name of a field tag for logs and errors ("PATH"), or "unknown". */
const char *evo_field_tag_name(uint16_t tag);

#endif
