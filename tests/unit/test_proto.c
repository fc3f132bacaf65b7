/* The init wire codec (src/common/proto.c): exact encoding, round trips,
 * nesting, and every way a frame can be malformed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "common/proto.h"

/* Build one frame with a few fields into b; returns its mark. */
static size_t build_sample(struct evo_buf *b, uint32_t stream)
{
	size_t mark = evo_frame_begin(b, stream, EVO_MSG_PROC_START, 0);
	evo_frame_add_str(b, EVO_F_ARGV, "echo");
	evo_frame_add_str(b, EVO_F_ARGV, "hello");
	evo_frame_add_u32(b, EVO_F_UID, 1000);
	evo_frame_end(b, mark);
	return mark;
}

/* Overwrite a little-endian u32 inside a buffer (to corrupt headers). */
static void poke32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

Test(proto, header_is_little_endian_and_exact)
{
	struct evo_buf b = {0};
	size_t mark = evo_frame_begin(&b, 0x01020304, EVO_MSG_PING, 0x05);
	evo_frame_add_u32(&b, EVO_F_PID, 0xa1b2c3d4);
	evo_frame_end(&b, mark);
	static const uint8_t want[] = {
		10, 0, 0, 0,             /* payload_len */
		4, 3, 2, 1,              /* stream */
		EVO_MSG_PING, 0x05, 0, 0,/* type flags reserved */
		EVO_F_PID, 0, 4, 0, 0, 0,/* tag len */
		0xd4, 0xc3, 0xb2, 0xa1,
	};
	cr_assert_eq(b.len, sizeof want);
	cr_assert_arr_eq(b.data, want, sizeof want);
	evo_buf_free(&b);
}

Test(proto, round_trip_every_type)
{
	struct evo_buf b = {0};
	size_t mark = evo_frame_begin(&b, 42, EVO_MSG_FILE_WRITE, EVO_FLAG_FILE_APPEND);
	evo_frame_add_u8(&b, EVO_F_STDIN, 1);
	evo_frame_add_u32(&b, EVO_F_UID, 4000000000u);
	evo_frame_add_i32(&b, EVO_F_SIGNAL, -7);
	evo_frame_add_u64(&b, EVO_F_OFFSET, 0x0102030405060708ull);
	evo_frame_add_i64(&b, EVO_F_MTIME, -1234567890123ll);
	evo_frame_add_str(&b, EVO_F_PATH, "/tmp/x");
	evo_frame_add_str(&b, EVO_F_TAG, "");
	evo_frame_add(&b, EVO_F_DATA, "a\0b", 3);
	evo_frame_end(&b, mark);

	struct evo_frame f;
	struct evo_error err = {0};
	cr_assert_eq(evo_frame_parse_record(b.data, b.len, &f, &err), 0, "%s", err.msg);
	cr_assert_eq(f.stream, 42);
	cr_assert_eq(f.type, EVO_MSG_FILE_WRITE);
	cr_assert_eq(f.flags, EVO_FLAG_FILE_APPEND);
	cr_assert_eq(f.payload_len, b.len - EVO_PROTO_HEADER_LEN);

	struct evo_field_iter it;
	struct evo_field fl;
	uint8_t u8;
	uint32_t u32;
	int32_t i32;
	uint64_t u64;
	int64_t i64;
	char *s;
	evo_field_iter_init(&it, f.payload, f.payload_len);

	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(fl.tag, EVO_F_STDIN);
	cr_assert_eq(evo_field_u8(&fl, &u8, &err), 0);
	cr_assert_eq(u8, 1);

	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(evo_field_u32(&fl, &u32, &err), 0);
	cr_assert_eq(u32, 4000000000u);

	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(evo_field_i32(&fl, &i32, &err), 0);
	cr_assert_eq(i32, -7);

	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(evo_field_u64(&fl, &u64, &err), 0);
	cr_assert_eq(u64, 0x0102030405060708ull);

	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(evo_field_i64(&fl, &i64, &err), 0);
	cr_assert_eq(i64, -1234567890123ll);

	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(evo_field_string(&fl, &s, &err), 0);
	cr_assert_str_eq(s, "/tmp/x");
	free(s);

	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(fl.tag, EVO_F_TAG);
	cr_assert_eq(evo_field_string(&fl, &s, &err), 0);
	cr_assert_str_eq(s, "");
	free(s);

	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(fl.tag, EVO_F_DATA);
	cr_assert_eq(fl.len, 3);
	cr_assert_arr_eq(fl.value, "a\0b", 3);

	cr_assert_eq(evo_field_next(&it, &fl, &err), 0);
	evo_buf_free(&b);
}

Test(proto, nested_entries)
{
	struct evo_buf b = {0};
	size_t mark = evo_frame_begin(&b, 3, EVO_MSG_OK, 0);
	for (uint32_t i = 0; i < 3; i++) {
		size_t entry = evo_frame_nest_begin(&b, EVO_F_ENTRY);
		evo_frame_add_u32(&b, EVO_F_PID, 100 + i);
		size_t inner = evo_frame_nest_begin(&b, EVO_F_ENTRY);
		evo_frame_add_str(&b, EVO_F_NAME, "deep");
		evo_frame_nest_end(&b, inner);
		evo_frame_nest_end(&b, entry);
	}
	evo_frame_add_u64(&b, EVO_F_SIZE, 9);
	evo_frame_end(&b, mark);

	struct evo_frame f;
	struct evo_error err = {0};
	cr_assert_eq(evo_frame_parse_record(b.data, b.len, &f, &err), 0, "%s", err.msg);
	struct evo_field_iter it, sub, subsub;
	struct evo_field fl, sf, ssf;
	evo_field_iter_init(&it, f.payload, f.payload_len);
	for (uint32_t i = 0; i < 3; i++) {
		cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
		cr_assert_eq(fl.tag, EVO_F_ENTRY);
		evo_field_iter_init(&sub, fl.value, fl.len);
		uint32_t pid;
		cr_assert_eq(evo_field_next(&sub, &sf, &err), 1);
		cr_assert_eq(evo_field_u32(&sf, &pid, &err), 0);
		cr_assert_eq(pid, 100 + i);
		cr_assert_eq(evo_field_next(&sub, &sf, &err), 1);
		cr_assert_eq(sf.tag, EVO_F_ENTRY);
		evo_field_iter_init(&subsub, sf.value, sf.len);
		cr_assert_eq(evo_field_next(&subsub, &ssf, &err), 1);
		cr_assert_eq(ssf.len, 4);
		cr_assert_arr_eq(ssf.value, "deep", 4);
		cr_assert_eq(evo_field_next(&subsub, &ssf, &err), 0);
		cr_assert_eq(evo_field_next(&sub, &sf, &err), 0);
	}
	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(fl.tag, EVO_F_SIZE);
	cr_assert_eq(evo_field_next(&it, &fl, &err), 0);
	evo_buf_free(&b);
}

Test(proto, several_frames_in_one_buffer_and_partial_input)
{
	struct evo_buf b = {0};
	build_sample(&b, 1);
	size_t first = b.len;
	build_sample(&b, 2);

	struct evo_frame f;
	struct evo_error err = {0};
	ssize_t used = evo_frame_parse(b.data, b.len, &f, &err);
	cr_assert_eq(used, (ssize_t)first);
	cr_assert_eq(f.stream, 1);
	used = evo_frame_parse(b.data + first, b.len - first, &f, &err);
	cr_assert_eq(used, (ssize_t)(b.len - first));
	cr_assert_eq(f.stream, 2);

	/* Every strict prefix of a frame is "need more", never an error. */
	for (size_t n = 0; n < first; n++)
		cr_assert_eq(evo_frame_parse(b.data, n, &f, &err), 0, "prefix %zu", n);
	evo_buf_free(&b);
}

Test(proto, record_must_be_exactly_one_frame)
{
	struct evo_buf b = {0};
	build_sample(&b, 5);
	struct evo_frame f;
	struct evo_error err = {0};

	cr_assert_eq(evo_frame_parse_record(b.data, b.len, &f, &err), 0);
	/* Too short for a header. */
	cr_assert_eq(evo_frame_parse_record(b.data, 5, &f, &err), -1);
	cr_assert(strstr(err.msg, "shorter than") != NULL, "%s", err.msg);
	/* Header promises more than the record holds. */
	cr_assert_eq(evo_frame_parse_record(b.data, b.len - 1, &f, &err), -1);
	cr_assert(strstr(err.msg, "announces") != NULL, "%s", err.msg);
	/* Bytes after the frame. */
	evo_buf_append(&b, "zz", 2);
	cr_assert_eq(evo_frame_parse_record(b.data, b.len, &f, &err), -1);
	cr_assert(strstr(err.msg, "announces") != NULL, "%s", err.msg);
	evo_buf_free(&b);
}

Test(proto, payload_over_maximum_is_rejected_from_the_header_alone)
{
	uint8_t header[EVO_PROTO_HEADER_LEN] = {0};
	struct evo_frame f;
	struct evo_error err = {0};
	poke32(header, EVO_PROTO_MAX_PAYLOAD + 1);
	cr_assert_eq(evo_frame_parse(header, sizeof header, &f, &err), -1);
	cr_assert(strstr(err.msg, "exceeds") != NULL, "%s", err.msg);
	poke32(header, EVO_PROTO_MAX_PAYLOAD);
	cr_assert_eq(evo_frame_parse(header, sizeof header, &f, &err), 0,
		     "exactly the maximum is allowed (and incomplete here)");
}

Test(proto, reserved_must_be_zero)
{
	struct evo_buf b = {0};
	build_sample(&b, 5);
	struct evo_frame f;
	struct evo_error err = {0};
	b.data[10] = 1;
	cr_assert_eq(evo_frame_parse_record(b.data, b.len, &f, &err), -1);
	cr_assert(strstr(err.msg, "reserved") != NULL, "%s", err.msg);
	b.data[10] = 0;
	b.data[11] = 0x80;
	cr_assert_eq(evo_frame_parse_record(b.data, b.len, &f, &err), -1);
	evo_buf_free(&b);
}

Test(proto, truncated_fields_are_rejected)
{
	struct evo_frame f;
	struct evo_error err = {0};

	/* A field whose length runs past the payload. */
	struct evo_buf b = {0};
	build_sample(&b, 9);
	poke32(b.data + EVO_PROTO_HEADER_LEN + 2, 1000);
	cr_assert_eq(evo_frame_parse_record(b.data, b.len, &f, &err), -1);
	cr_assert(strstr(err.msg, "ARGV") != NULL, "names the field: %s", err.msg);
	evo_buf_free(&b);

	/* A payload that ends inside a field header. */
	uint8_t rec[EVO_PROTO_HEADER_LEN + 3] = {0};
	poke32(rec, 3);
	rec[8] = EVO_MSG_PING;
	cr_assert_eq(evo_frame_parse_record(rec, sizeof rec, &f, &err), -1);
	cr_assert(strstr(err.msg, "truncated field header") != NULL, "%s", err.msg);

	/* And the iterator on its own reports the same. */
	struct evo_field_iter it;
	struct evo_field fl;
	static const uint8_t half[] = { 1, 0, 9, 0, 0, 0, 'a' };
	evo_field_iter_init(&it, half, sizeof half);
	cr_assert_eq(evo_field_next(&it, &fl, &err), -1);
	evo_field_iter_init(&it, half, 4);
	cr_assert_eq(evo_field_next(&it, &fl, &err), -1);
	evo_field_iter_init(&it, NULL, 0);
	cr_assert_eq(evo_field_next(&it, &fl, &err), 0);
}

Test(proto, typed_views_check_sizes)
{
	static const uint8_t bytes[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct evo_error err = {0};
	uint8_t u8;
	uint32_t u32;
	int32_t i32;
	uint64_t u64;
	int64_t i64;

	struct evo_field f = { .tag = EVO_F_UID, .len = 2, .value = bytes };
	cr_assert_eq(evo_field_u8(&f, &u8, &err), -1);
	cr_assert(strstr(err.msg, "UID") != NULL && strstr(err.msg, "1 bytes") != NULL, "%s", err.msg);
	f.len = 0;
	cr_assert_eq(evo_field_u8(&f, &u8, &err), -1);
	f.len = 3;
	cr_assert_eq(evo_field_u32(&f, &u32, &err), -1);
	f.len = 5;
	cr_assert_eq(evo_field_i32(&f, &i32, &err), -1);
	f.len = 4;
	cr_assert_eq(evo_field_u64(&f, &u64, &err), -1);
	f.len = 9;
	cr_assert_eq(evo_field_i64(&f, &i64, &err), -1);
	cr_assert(strstr(err.msg, "8 bytes") != NULL, "%s", err.msg);

	f.len = 1;
	cr_assert_eq(evo_field_u8(&f, &u8, &err), 0);
	cr_assert_eq(u8, 1);
	f.len = 4;
	cr_assert_eq(evo_field_u32(&f, &u32, &err), 0);
	cr_assert_eq(u32, 0x04030201u);
	f.len = 8;
	cr_assert_eq(evo_field_u64(&f, &u64, &err), 0);
	cr_assert_eq(u64, 0x0807060504030201ull);
}

Test(proto, strings_reject_nul)
{
	struct evo_error err = {0};
	char *s = NULL;
	struct evo_field f = { .tag = EVO_F_PATH, .len = 4, .value = (const uint8_t *)"/a\0b" };
	cr_assert_eq(evo_field_string(&f, &s, &err), -1);
	cr_assert_null(s);
	cr_assert(strstr(err.msg, "PATH") != NULL && strstr(err.msg, "NUL") != NULL, "%s", err.msg);
	f.len = 2;
	cr_assert_eq(evo_field_string(&f, &s, &err), 0);
	cr_assert_str_eq(s, "/a");
	free(s);
}

Test(proto, buf_operations)
{
	struct evo_buf b = {0};
	evo_buf_append(&b, "", 0);
	cr_assert_eq(b.len, 0);
	for (int i = 0; i < 1000; i++)
		evo_buf_append(&b, "0123456789", 10);
	cr_assert_eq(b.len, 10000);
	cr_assert_geq(b.cap, b.len);
	cr_assert_arr_eq(b.data + 9990, "0123456789", 10);

	evo_buf_consume(&b, 5);
	cr_assert_eq(b.len, 9995);
	cr_assert_arr_eq(b.data, "56789", 5);
	evo_buf_consume(&b, b.len);
	cr_assert_eq(b.len, 0);

	size_t cap = b.cap;
	evo_buf_reserve(&b, cap + 1);
	cr_assert_geq(b.cap, cap + 1);
	evo_buf_free(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.cap, 0);
}

Test(proto, error_frame)
{
	struct evo_buf b = {0};
	evo_frame_error(&b, 77, ENOENT, "no such thing");
	struct evo_frame f;
	struct evo_error err = {0};
	cr_assert_eq(evo_frame_parse_record(b.data, b.len, &f, &err), 0);
	cr_assert_eq(f.type, EVO_MSG_ERROR);
	cr_assert_eq(f.stream, 77);
	struct evo_field_iter it;
	struct evo_field fl;
	int32_t errnum;
	char *msg;
	evo_field_iter_init(&it, f.payload, f.payload_len);
	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(fl.tag, EVO_F_ERRNO);
	cr_assert_eq(evo_field_i32(&fl, &errnum, &err), 0);
	cr_assert_eq(errnum, ENOENT);
	cr_assert_eq(evo_field_next(&it, &fl, &err), 1);
	cr_assert_eq(fl.tag, EVO_F_MESSAGE);
	cr_assert_eq(evo_field_string(&fl, &msg, &err), 0);
	cr_assert_str_eq(msg, "no such thing");
	free(msg);
	evo_buf_free(&b);

	/* Whatever the caller passes, the frame stays valid. */
	char *huge = malloc(EVO_PROTO_MAX_PAYLOAD * 2);
	memset(huge, 'x', EVO_PROTO_MAX_PAYLOAD * 2 - 1);
	huge[EVO_PROTO_MAX_PAYLOAD * 2 - 1] = '\0';
	evo_frame_error(&b, 1, EIO, huge);
	cr_assert_eq(evo_frame_parse_record(b.data, b.len, &f, &err), 0, "%s", err.msg);
	cr_assert_lt(b.len, 8192);
	free(huge);
	evo_buf_free(&b);
}

Test(proto, names_and_peek)
{
	cr_assert_str_eq(evo_msg_type_name(EVO_MSG_PROC_START), "PROC_START");
	cr_assert_str_eq(evo_msg_type_name(EVO_MSG_ENTRIES), "ENTRIES");
	cr_assert_str_eq(evo_msg_type_name(200), "unknown");
	cr_assert_str_eq(evo_field_tag_name(EVO_F_LINK_TARGET), "LINK_TARGET");
	cr_assert_str_eq(evo_field_tag_name(0), "unknown");
	cr_assert_str_eq(evo_field_tag_name(60000), "unknown");

	struct evo_buf b = {0};
	build_sample(&b, 0xdeadbeef);
	cr_assert_eq(evo_frame_peek_stream(b.data, b.len), 0xdeadbeef);
	cr_assert_eq(evo_frame_peek_stream(b.data, EVO_PROTO_HEADER_LEN - 1), 0);
	evo_buf_free(&b);
}
