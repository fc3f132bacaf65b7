/* Fuzz evoclaw-init's request path: arbitrary bytes as one received
 * record go through init_dispatch_record exactly as init runs it (parse,
 * decode, validate, handler, reply), with handlers that check what the
 * decoder promised and build replies but touch no process or file. Then
 * the raw codec: every field, nested or not, through every typed view.
 *
 *   make build-fuzz/fuzz_init_protocol
 *   build-fuzz/fuzz_init_protocol -max_total_time=30 fuzz/corpus/fuzz_init_protocol
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "guest/init.h"

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond))                                                          \
			__builtin_trap();                                             \
	} while (0)

static size_t checked_strlen(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

/* A handler for every request type: verify the decoder's guarantees, read
 * every byte it produced (ASan checks the pointers), answer something. */
static int fuzz_handle(void *ctx, struct init_request *req, struct evo_buf *out,
		       struct evo_error *err)
{
	size_t sum = 0;

	CHECK(req->stream != 0);
	CHECK((req->argv == NULL) == (req->argc == 0));
	for (size_t i = 0; i < req->argc; i++)
		sum += strlen(req->argv[i]);
	CHECK(req->argv == NULL || req->argv[req->argc] == NULL);
	for (size_t i = 0; i < req->envc; i++) {
		const char *eq = strchr(req->env[i], '=');
		CHECK(eq != NULL && eq != req->env[i]);
		sum += strlen(req->env[i]);
	}
	CHECK(req->env == NULL || req->env[req->envc] == NULL);
	CHECK(req->path == NULL || req->path[0] == '/');
	CHECK(req->new_path == NULL || req->new_path[0] == '/');
	CHECK(req->cwd == NULL || req->cwd[0] == '/');
	sum += checked_strlen(req->cwd) + checked_strlen(req->tag) + checked_strlen(req->path) +
	       checked_strlen(req->new_path);
	for (uint32_t i = 0; i < req->data_len; i++)
		sum += req->data[i];

	switch (req->type) {
	case EVO_MSG_PROC_START:
		CHECK(req->argc > 0 && req->argv[0][0] != '\0');
		break;
	case EVO_MSG_PROC_STDIN:
	case EVO_MSG_FILE_WRITE:
		CHECK(INIT_HAS(req, EVO_F_DATA));
		break;
	case EVO_MSG_PROC_SIGNAL:
		CHECK(req->signal >= 0 && req->signal < 65);
		break;
	default:
		break;
	}
	if (req->type >= EVO_MSG_FILE_READ && req->type <= EVO_MSG_FILE_RENAME)
		CHECK(req->path != NULL);

	/* Handlers own what they steal. */
	free(steal_pointer(&req->tag));

	if (sum % 3 == 0)
		return evo_error_set(err, EVO_ERR_INVALID, sum % 2 ? 0 : ENOENT, "refused %zu", sum);

	if (req->type == EVO_MSG_FILE_LIST || req->type == EVO_MSG_PROC_LIST) {
		/* Enough entries to need several frames now and then. */
		struct evo_buf entries = {0};
		size_t n = 1 + (sum % 4000);
		const char *name = req->path != NULL ? req->path : "-";
		size_t len = strlen(name) > 1000 ? 1000 : strlen(name);
		for (size_t i = 0; i < n; i++) {
			size_t m = evo_frame_nest_begin(&entries, EVO_F_ENTRY);
			evo_frame_add(&entries, EVO_F_NAME, name, (uint32_t)len);
			evo_frame_add_u64(&entries, EVO_F_SIZE, i);
			evo_frame_nest_end(&entries, m);
		}
		init_reply_entries(out, req->stream, &entries);
		evo_buf_free(&entries);
		return 0;
	}
	size_t m = evo_frame_begin(out, req->stream, EVO_MSG_OK, 0);
	if (req->path != NULL)
		evo_frame_add_str(out, EVO_F_PATH, req->path);
	evo_frame_add_u64(out, EVO_F_SIZE, sum);
	evo_frame_end(out, m);
	return 0;
}

static const struct init_handlers fuzz_handlers = {
	.handle = {
		[EVO_MSG_PROC_START] = fuzz_handle,
		[EVO_MSG_PROC_STDIN] = fuzz_handle,
		[EVO_MSG_PROC_CLOSE_STDIN] = fuzz_handle,
		[EVO_MSG_PROC_SIGNAL] = fuzz_handle,
		[EVO_MSG_PROC_LIST] = fuzz_handle,
		[EVO_MSG_FILE_READ] = fuzz_handle,
		[EVO_MSG_FILE_WRITE] = fuzz_handle,
		[EVO_MSG_FILE_LIST] = fuzz_handle,
		[EVO_MSG_FILE_STAT] = fuzz_handle,
		[EVO_MSG_FILE_MKDIR] = fuzz_handle,
		[EVO_MSG_FILE_REMOVE] = fuzz_handle,
		[EVO_MSG_FILE_RENAME] = fuzz_handle,
		[EVO_MSG_PING] = fuzz_handle,
		[EVO_MSG_FILE_WATCH] = fuzz_handle,
		[EVO_MSG_FILE_UNWATCH] = fuzz_handle,
	},
};

/* Every field through every view, recursing into anything that parses as
 * nested fields. */
static void walk_fields(const uint8_t *p, size_t len, int depth)
{
	struct evo_field_iter it;
	struct evo_field f;
	struct evo_error err;
	int r;

	evo_field_iter_init(&it, p, len);
	while ((r = evo_field_next(&it, &f, &err)) > 0) {
		uint8_t u8;
		uint32_t u32;
		int32_t i32;
		uint64_t u64;
		int64_t i64;
		char *s = NULL;
		CHECK(f.value >= p && f.value + f.len <= p + len);
		CHECK((evo_field_u8(&f, &u8, &err) == 0) == (f.len == 1));
		CHECK((evo_field_u32(&f, &u32, &err) == 0) == (f.len == 4));
		CHECK((evo_field_i32(&f, &i32, &err) == 0) == (f.len == 4));
		CHECK((evo_field_u64(&f, &u64, &err) == 0) == (f.len == 8));
		CHECK((evo_field_i64(&f, &i64, &err) == 0) == (f.len == 8));
		if (evo_field_string(&f, &s, &err) == 0) {
			CHECK(strlen(s) == f.len);
			free(s);
		} else {
			CHECK(memchr(f.value, 0, f.len) != NULL);
		}
		(void)evo_field_tag_name(f.tag);
		if (depth < 4)
			walk_fields(f.value, f.len, depth + 1);
	}
	CHECK(r == 0 || depth > 0);
}

/* Whatever came in, what goes out must be well-formed replies. */
static void check_replies(const struct evo_buf *out)
{
	size_t pos = 0;
	CHECK(out->len > 0);
	while (pos < out->len) {
		struct evo_frame f;
		struct evo_error err;
		ssize_t used = evo_frame_parse(out->data + pos, out->len - pos, &f, &err);
		CHECK(used > 0);
		CHECK(f.type >= EVO_MSG_OK && f.type <= EVO_MSG_ENTRIES);
		walk_fields(f.payload, f.payload_len, 1);
		pos += (size_t)used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evo_buf out = {0};
	init_dispatch_record(&fuzz_handlers, NULL, data, size, &out);
	check_replies(&out);
	evo_buf_free(&out);

	struct evo_frame f;
	struct evo_error err;
	if (evo_frame_parse_record(data, size, &f, &err) == 0) {
		CHECK(f.payload_len == size - EVO_PROTO_HEADER_LEN);
		walk_fields(f.payload, f.payload_len, 0);
		struct init_request req;
		if (init_request_decode(&f, &req, &err) == 0)
			init_request_free(&req);
	}
	/* The streaming parser agrees with the record parser. */
	ssize_t used = evo_frame_parse(data, size, &f, &err);
	CHECK(used <= (ssize_t)size);
	return 0;
}
