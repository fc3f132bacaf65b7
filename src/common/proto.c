/* The evoclaw-init wire codec: frame and field parsing, typed field views,
 * and frame building. Pure byte manipulation, no I/O; the layout is
 * described in proto.h and docs/init-protocol.md. */
#include "common/proto.h"

#include <assert.h>
#include <string.h>

#include "common/cleanup.h"

/* Integers are little-endian on the wire whatever the host order is, so
 * they are assembled byte by byte; this also makes unaligned access safe. */
static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- parsing ------------------------------------------------------------ */

/* Walk the top-level TLVs once so that a frame accepted here can be
 * iterated without surprises, and a truncated field is reported as a
 * malformed frame rather than halfway through acting on it. */
static int payload_check_fields(const uint8_t *payload, size_t len, struct evo_error *err)
{
	struct evo_field_iter it;
	struct evo_field f;
	int r;

	evo_field_iter_init(&it, payload, len);
	while ((r = evo_field_next(&it, &f, err)) > 0)
		;
	return r;
}

ssize_t evo_frame_parse(const uint8_t *buf, size_t len, struct evo_frame *out,
			struct evo_error *err)
{
	if (len < EVO_PROTO_HEADER_LEN)
		return 0;
	uint32_t payload_len = get_le32(buf);
	uint16_t reserved = get_le16(buf + 10);
	if (payload_len > EVO_PROTO_MAX_PAYLOAD)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "frame payload of %u bytes exceeds the %u-byte maximum",
				     payload_len, EVO_PROTO_MAX_PAYLOAD);
	if (reserved != 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "frame header reserved field is 0x%04x, must be 0", reserved);
	if (len - EVO_PROTO_HEADER_LEN < payload_len)
		return 0;
	const uint8_t *payload = buf + EVO_PROTO_HEADER_LEN;
	if (payload_check_fields(payload, payload_len, err) < 0)
		return evo_error_prefix(err, "frame on stream %u", get_le32(buf + 4));
	out->stream = get_le32(buf + 4);
	out->type = buf[8];
	out->flags = buf[9];
	out->payload = payload;
	out->payload_len = payload_len;
	return (ssize_t)(EVO_PROTO_HEADER_LEN + payload_len);
}

int evo_frame_parse_record(const uint8_t *buf, size_t len, struct evo_frame *out,
			   struct evo_error *err)
{
	if (len < EVO_PROTO_HEADER_LEN)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "record of %zu bytes is shorter than the %u-byte frame header",
				     len, EVO_PROTO_HEADER_LEN);
	/* A length mismatch is reported as such, before the fields (which
	 * would be cut at the wrong place) are looked at. */
	uint32_t payload_len = get_le32(buf);
	if (payload_len <= EVO_PROTO_MAX_PAYLOAD && len - EVO_PROTO_HEADER_LEN != payload_len)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "frame header announces %u payload bytes but the record holds %zu",
				     payload_len, len - EVO_PROTO_HEADER_LEN);
	ssize_t used = evo_frame_parse(buf, len, out, err);
	if (used < 0)
		return -1;
	assert((size_t)used == len);
	return 0;
}

uint32_t evo_frame_peek_stream(const uint8_t *buf, size_t len)
{
	if (len < EVO_PROTO_HEADER_LEN)
		return 0;
	return get_le32(buf + 4);
}

void evo_field_iter_init(struct evo_field_iter *it, const uint8_t *payload, size_t len)
{
	/* An empty evo_buf has a NULL data pointer, and NULL + 0 is undefined. */
	it->pos = payload;
	it->end = payload != NULL ? payload + len : payload;
}

int evo_field_next(struct evo_field_iter *it, struct evo_field *out, struct evo_error *err)
{
	size_t left = (size_t)(it->end - it->pos);
	if (left == 0)
		return 0;
	if (left < EVO_PROTO_FIELD_HEADER_LEN)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "truncated field header: %zu bytes left, need %u",
				     left, EVO_PROTO_FIELD_HEADER_LEN);
	uint16_t tag = get_le16(it->pos);
	uint32_t flen = get_le32(it->pos + 2);
	if (flen > left - EVO_PROTO_FIELD_HEADER_LEN)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field %s (tag %u) announces %u bytes but only %zu remain",
				     evo_field_tag_name(tag), tag, flen,
				     left - EVO_PROTO_FIELD_HEADER_LEN);
	out->tag = tag;
	out->len = flen;
	out->value = it->pos + EVO_PROTO_FIELD_HEADER_LEN;
	it->pos += EVO_PROTO_FIELD_HEADER_LEN + flen;
	return 1;
}

bool evo_frame_field(const struct evo_frame *f, uint16_t tag, struct evo_field *out)
{
	struct evo_field_iter it;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, out, NULL) == 1)
		if (out->tag == tag)
			return true;
	return false;
}

static int field_expect_len(const struct evo_field *f, uint32_t want, struct evo_error *err)
{
	if (f->len != want)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field %s must be %u bytes, got %u",
				     evo_field_tag_name(f->tag), want, f->len);
	return 0;
}

int evo_field_u8(const struct evo_field *f, uint8_t *out, struct evo_error *err)
{
	if (field_expect_len(f, 1, err) < 0)
		return -1;
	*out = f->value[0];
	return 0;
}

int evo_field_u32(const struct evo_field *f, uint32_t *out, struct evo_error *err)
{
	if (field_expect_len(f, 4, err) < 0)
		return -1;
	*out = get_le32(f->value);
	return 0;
}

int evo_field_i32(const struct evo_field *f, int32_t *out, struct evo_error *err)
{
	if (field_expect_len(f, 4, err) < 0)
		return -1;
	*out = (int32_t)get_le32(f->value);
	return 0;
}

int evo_field_u64(const struct evo_field *f, uint64_t *out, struct evo_error *err)
{
	if (field_expect_len(f, 8, err) < 0)
		return -1;
	*out = get_le64(f->value);
	return 0;
}

int evo_field_i64(const struct evo_field *f, int64_t *out, struct evo_error *err)
{
	if (field_expect_len(f, 8, err) < 0)
		return -1;
	*out = (int64_t)get_le64(f->value);
	return 0;
}

int evo_field_string(const struct evo_field *f, char **out, struct evo_error *err)
{
	/* A NUL would silently cut a path or an argument short on its way to
	 * the kernel, so it is an error rather than a terminator. */
	const void *nul = f->len ? memchr(f->value, '\0', f->len) : NULL;
	if (nul != NULL)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field %s contains a NUL byte at offset %td",
				     evo_field_tag_name(f->tag),
				     (const uint8_t *)nul - f->value);
	*out = xstrndup(f->len ? (const char *)f->value : "", f->len);
	return 0;
}

/* ---- buffers ------------------------------------------------------------ */

void evo_buf_reserve(struct evo_buf *b, size_t extra)
{
	assert(b->len <= SIZE_MAX - extra);
	size_t need = b->len + extra;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void evo_buf_append(struct evo_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	evo_buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void evo_buf_consume(struct evo_buf *b, size_t n)
{
	assert(n <= b->len);
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void evo_buf_free(struct evo_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* ---- building ----------------------------------------------------------- */

size_t evo_frame_begin(struct evo_buf *b, uint32_t stream, uint8_t type, uint8_t flags)
{
	size_t mark = b->len;
	uint8_t header[EVO_PROTO_HEADER_LEN] = {0};
	put_le32(header + 4, stream);
	header[8] = type;
	header[9] = flags;
	evo_buf_append(b, header, sizeof header);
	return mark;
}

void evo_frame_end(struct evo_buf *b, size_t mark)
{
	assert(mark + EVO_PROTO_HEADER_LEN <= b->len);
	size_t payload_len = b->len - mark - EVO_PROTO_HEADER_LEN;
	/* Exceeding the maximum is a bug in the caller, who must chunk. */
	assert(payload_len <= EVO_PROTO_MAX_PAYLOAD);
	put_le32(b->data + mark, (uint32_t)payload_len);
}

void evo_frame_add(struct evo_buf *b, uint16_t tag, const void *value, uint32_t len)
{
	uint8_t header[EVO_PROTO_FIELD_HEADER_LEN];
	put_le16(header, tag);
	put_le32(header + 2, len);
	evo_buf_reserve(b, sizeof header + len);
	evo_buf_append(b, header, sizeof header);
	evo_buf_append(b, value, len);
}

void evo_frame_add_str(struct evo_buf *b, uint16_t tag, const char *s)
{
	size_t len = strlen(s);
	assert(len <= EVO_PROTO_MAX_PAYLOAD);
	evo_frame_add(b, tag, s, (uint32_t)len);
}

void evo_frame_add_u8(struct evo_buf *b, uint16_t tag, uint8_t v)
{
	evo_frame_add(b, tag, &v, 1);
}

void evo_frame_add_u32(struct evo_buf *b, uint16_t tag, uint32_t v)
{
	uint8_t raw[4];
	put_le32(raw, v);
	evo_frame_add(b, tag, raw, sizeof raw);
}

void evo_frame_add_i32(struct evo_buf *b, uint16_t tag, int32_t v)
{
	evo_frame_add_u32(b, tag, (uint32_t)v);
}

void evo_frame_add_u64(struct evo_buf *b, uint16_t tag, uint64_t v)
{
	uint8_t raw[8];
	put_le64(raw, v);
	evo_frame_add(b, tag, raw, sizeof raw);
}

void evo_frame_add_i64(struct evo_buf *b, uint16_t tag, int64_t v)
{
	evo_frame_add_u64(b, tag, (uint64_t)v);
}

size_t evo_frame_nest_begin(struct evo_buf *b, uint16_t tag)
{
	size_t mark = b->len;
	evo_frame_add(b, tag, NULL, 0);
	return mark;
}

void evo_frame_nest_end(struct evo_buf *b, size_t mark)
{
	assert(mark + EVO_PROTO_FIELD_HEADER_LEN <= b->len);
	size_t len = b->len - mark - EVO_PROTO_FIELD_HEADER_LEN;
	assert(len <= EVO_PROTO_MAX_PAYLOAD);
	put_le32(b->data + mark + 2, (uint32_t)len);
}

/* Long enough for any message init produces; cut so that an ERROR frame
 * always fits whatever a caller passes. */
#define ERROR_MESSAGE_MAX 4096u

void evo_frame_error(struct evo_buf *b, uint32_t stream, int errnum, const char *message)
{
	size_t mark = evo_frame_begin(b, stream, EVO_MSG_ERROR, 0);
	evo_frame_add_i32(b, EVO_F_ERRNO, errnum);
	size_t len = strnlen(message, ERROR_MESSAGE_MAX);
	evo_frame_add(b, EVO_F_MESSAGE, message, (uint32_t)len);
	evo_frame_end(b, mark);
}

/* ---- names -------------------------------------------------------------- */

const char *evo_msg_type_name(uint8_t type)
{
	switch ((enum evo_msg_type)type) {
	case EVO_MSG_PROC_START: return "PROC_START";
	case EVO_MSG_PROC_STDIN: return "PROC_STDIN";
	case EVO_MSG_PROC_CLOSE_STDIN: return "PROC_CLOSE_STDIN";
	case EVO_MSG_PROC_SIGNAL: return "PROC_SIGNAL";
	case EVO_MSG_PROC_LIST: return "PROC_LIST";
	case EVO_MSG_FILE_READ: return "FILE_READ";
	case EVO_MSG_FILE_WRITE: return "FILE_WRITE";
	case EVO_MSG_FILE_LIST: return "FILE_LIST";
	case EVO_MSG_FILE_STAT: return "FILE_STAT";
	case EVO_MSG_FILE_MKDIR: return "FILE_MKDIR";
	case EVO_MSG_FILE_REMOVE: return "FILE_REMOVE";
	case EVO_MSG_FILE_RENAME: return "FILE_RENAME";
	case EVO_MSG_PING: return "PING";
	case EVO_MSG_FILE_WATCH: return "FILE_WATCH";
	case EVO_MSG_FILE_UNWATCH: return "FILE_UNWATCH";
	case EVO_MSG_OK: return "OK";
	case EVO_MSG_ERROR: return "ERROR";
	case EVO_MSG_PROC_STARTED: return "PROC_STARTED";
	case EVO_MSG_PROC_STDOUT: return "PROC_STDOUT";
	case EVO_MSG_PROC_STDERR: return "PROC_STDERR";
	case EVO_MSG_PROC_EXIT: return "PROC_EXIT";
	case EVO_MSG_FILE_DATA: return "FILE_DATA";
	case EVO_MSG_ENTRIES: return "ENTRIES";
	case EVO_MSG_SUP_INFO: return "SUP_INFO";
	case EVO_MSG_SUP_KILL: return "SUP_KILL";
	case EVO_MSG_SUP_SET_TIMEOUT: return "SUP_SET_TIMEOUT";
	case EVO_MSG_SUP_STATS: return "SUP_STATS";
	case EVO_MSG_SUP_ATTACH: return "SUP_ATTACH";
	case EVO_MSG_SUP_CLAIM: return "SUP_CLAIM";
	case EVO_MSG_SUP_START_ENTRY: return "SUP_START_ENTRY";
	case EVO_MSG_SUP_PAUSE: return "SUP_PAUSE";
	case EVO_MSG_SUP_RESUME: return "SUP_RESUME";
	case EVO_MSG_SUP_ENDED: return "SUP_ENDED";
	case EVO_MSG_FILE_EVENT: return "FILE_EVENT";
	case EVO_MSG_FILE_WATCHING: return "FILE_WATCHING";
	}
	return "unknown";
}

const char *evo_field_tag_name(uint16_t tag)
{
	static const char *const names[] = {
		[EVO_F_ARGV] = "ARGV",
		[EVO_F_ENV] = "ENV",
		[EVO_F_CWD] = "CWD",
		[EVO_F_UID] = "UID",
		[EVO_F_GID] = "GID",
		[EVO_F_STDIN] = "STDIN",
		[EVO_F_TAG] = "TAG",
		[EVO_F_PID] = "PID",
		[EVO_F_DATA] = "DATA",
		[EVO_F_SIGNAL] = "SIGNAL",
		[EVO_F_EXIT_CODE] = "EXIT_CODE",
		[EVO_F_ERRNO] = "ERRNO",
		[EVO_F_MESSAGE] = "MESSAGE",
		[EVO_F_PATH] = "PATH",
		[EVO_F_NEW_PATH] = "NEW_PATH",
		[EVO_F_OFFSET] = "OFFSET",
		[EVO_F_LENGTH] = "LENGTH",
		[EVO_F_MODE] = "MODE",
		[EVO_F_SIZE] = "SIZE",
		[EVO_F_MTIME] = "MTIME",
		[EVO_F_NAME] = "NAME",
		[EVO_F_TYPE] = "TYPE",
		[EVO_F_DEPTH] = "DEPTH",
		[EVO_F_ENTRY] = "ENTRY",
		[EVO_F_STREAM] = "STREAM",
		[EVO_F_OOM] = "OOM",
		[EVO_F_LINK_TARGET] = "LINK_TARGET",
		[EVO_F_ID] = "ID",
		[EVO_F_TEMPLATE] = "TEMPLATE",
		[EVO_F_STATE] = "STATE",
		[EVO_F_CREATED] = "CREATED",
		[EVO_F_DEADLINE] = "DEADLINE",
		[EVO_F_TIMEOUT_MS] = "TIMEOUT_MS",
		[EVO_F_CPU_USEC] = "CPU_USEC",
		[EVO_F_MEM_BYTES] = "MEM_BYTES",
		[EVO_F_MEM_PEAK] = "MEM_PEAK",
		[EVO_F_PIDS] = "PIDS",
		[EVO_F_OOM_KILLS] = "OOM_KILLS",
		[EVO_F_USER] = "USER",
		[EVO_F_MEM_LIMIT] = "MEM_LIMIT",
		[EVO_F_OWNER] = "OWNER",
		[EVO_F_REASON] = "REASON",
		[EVO_F_REMAINING_MS] = "REMAINING_MS",
		[EVO_F_EVENT] = "EVENT",
		[EVO_F_XATTR] = "XATTR",
	};
	if (tag < sizeof names / sizeof names[0] && names[tag] != NULL)
		return names[tag];
	return "unknown";
}
