#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/http_response.h"

/* Feed all of text (in one piece), then end the connection unless the
 * response completed. Returns 0 or -1 (err filled). */
static int parse_all(struct http_response *r, const char *text, size_t len,
		     struct evo_error *err)
{
	ssize_t used = http_response_feed(r, text, len, err);
	if (used < 0)
		return -1;
	if (http_response_complete(r))
		return 0;
	cr_assert_eq((size_t)used, len);
	return http_response_finish(r, err);
}

/* Feed text split at offset `split`, then in pieces of `step` bytes. */
static int parse_split(struct http_response *r, const char *text, size_t len, size_t split,
		       size_t step, struct evo_error *err)
{
	size_t off = 0;
	while (off < len && !http_response_complete(r)) {
		size_t n = off < split ? split - off : step;
		if (n > len - off)
			n = len - off;
		ssize_t used = http_response_feed(r, text + off, n, err);
		if (used < 0)
			return -1;
		off += (size_t)used;
	}
	return http_response_complete(r) ? 0 : http_response_finish(r, err);
}

struct collected {
	char data[4096];
	size_t len;
	int calls;
};

static int collect(void *ctx, const char *data, size_t len, struct evo_error *err)
{
	struct collected *c = ctx;
	cr_assert_leq(c->len + len, sizeof c->data);
	memcpy(c->data + c->len, data, len);
	c->len += len;
	c->calls++;
	return 0;
}

static int refuse(void *ctx, const char *data, size_t len, struct evo_error *err)
{
	return evo_error_set(err, EVO_ERR_SYSTEM, 0, "stdout is closed");
}

#define S(text) text, sizeof(text) - 1

static const char content_length_response[] =
	"HTTP/1.1 201 Created\r\n"
	"Content-Type: application/json\r\n"
	"content-length:   17 \r\n"
	"X-Empty:\r\n"
	"\r\n"
	"{\"agent_id\":\"a1\"}";

Test(http_response, content_length)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_assert_eq(parse_all(&r, S(content_length_response), &err), 0, "%s", err.msg);
	cr_expect(http_response_complete(&r));
	cr_expect(http_response_head_complete(&r));
	cr_expect_eq(r.status, 201);
	cr_expect_eq(r.version_minor, 1);
	cr_expect_str_eq(r.reason, "Created");
	cr_expect_eq(r.content_length, 17);
	cr_expect_not(r.chunked);
	cr_expect_str_eq(http_response_header(&r, "CONTENT-TYPE"), "application/json");
	cr_expect_str_eq(http_response_header(&r, "x-empty"), "");
	cr_expect_null(http_response_header(&r, "X-Missing"));
	cr_expect_eq(r.body_len, 17);
	cr_expect_str_eq(r.body, "{\"agent_id\":\"a1\"}");
	http_response_free(&r);
}

Test(http_response, content_length_split_at_every_byte)
{
	size_t len = sizeof content_length_response - 1;
	for (size_t split = 0; split <= len; split++) {
		for (size_t step = 1; step <= 3; step += 2) {
			struct http_response r;
			struct evo_error err = {0};
			struct collected c = {0};
			http_response_init(&r, step == 1 ? collect : NULL, &c);
			cr_assert_eq(parse_split(&r, content_length_response, len, split, step, &err),
				     0, "split %zu: %s", split, err.msg);
			cr_expect_eq(r.status, 201);
			const char *body = step == 1 ? c.data : r.body;
			size_t body_len = step == 1 ? c.len : r.body_len;
			cr_expect_eq(body_len, 17, "split %zu", split);
			cr_expect_eq(memcmp(body, "{\"agent_id\":\"a1\"}", 17), 0, "split %zu", split);
			http_response_free(&r);
		}
	}
}

static const char chunked_response[] =
	"HTTP/1.1 200 OK\r\n"
	"Content-Type: text/plain\r\n"
	"Transfer-Encoding: chunked\r\n"
	"\r\n"
	"6\r\nline 1\r\n"
	"7;name=value;other=\"q;x\"\r\n\nline 2\r\n"
	"00B \t; ext\r\n\nline three\r\n"
	"1f\r\n\nfourth line, thirty chars long\r\n"
	"0;last\r\n"
	"X-Checksum: 42\r\n"
	"\r\n";
static const char chunked_body[] = "line 1\nline 2\nline three\nfourth line, thirty chars long";

Test(http_response, chunked_with_extensions_and_trailers)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_assert_eq(parse_all(&r, S(chunked_response), &err), 0, "%s", err.msg);
	cr_expect(r.chunked);
	cr_expect_eq(r.content_length, -1);
	cr_expect_str_eq(r.body, chunked_body);
	/* Trailers are read, not kept. */
	cr_expect_null(http_response_header(&r, "X-Checksum"));
	http_response_free(&r);
}

Test(http_response, chunked_split_at_every_byte)
{
	size_t len = sizeof chunked_response - 1;
	for (size_t split = 0; split <= len; split++) {
		for (size_t step = 1; step <= 7; step += 6) {
			struct http_response r;
			struct evo_error err = {0};
			struct collected c = {0};
			http_response_init(&r, collect, &c);
			cr_assert_eq(parse_split(&r, chunked_response, len, split, step, &err), 0,
				     "split %zu step %zu: %s", split, step, err.msg);
			cr_expect_eq(c.len, sizeof chunked_body - 1, "split %zu", split);
			cr_expect_eq(memcmp(c.data, chunked_body, c.len), 0, "split %zu", split);
			http_response_free(&r);
		}
	}
}

Test(http_response, chunked_is_delivered_as_it_arrives)
{
	/* logs --follow prints each chunk before the next one is sent. */
	static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct http_response r;
	struct evo_error err = {0};
	struct collected c = {0};
	http_response_init(&r, collect, &c);
	cr_assert_eq(http_response_feed(&r, S(head), &err), (ssize_t)sizeof head - 1);
	cr_expect(http_response_head_complete(&r));
	cr_assert_eq(http_response_feed(&r, S("5\r\nhel"), &err), 6);
	cr_expect_eq(c.len, 3);
	cr_assert_eq(http_response_feed(&r, S("lo\r\n"), &err), 4);
	cr_expect_eq(c.len, 5);
	cr_expect_not(http_response_complete(&r));
	cr_assert_eq(http_response_feed(&r, S("0\r\n\r\nextra"), &err), 5);
	cr_expect(http_response_complete(&r));
	cr_expect_eq(memcmp(c.data, "hello", 5), 0);
	http_response_free(&r);
}

Test(http_response, bare_lf_and_missing_reason)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_assert_eq(parse_all(&r, S("HTTP/1.0 404\nContent-Length: 2\n\nno"), &err), 0, "%s",
		     err.msg);
	cr_expect_eq(r.status, 404);
	cr_expect_eq(r.version_minor, 0);
	cr_expect_str_eq(r.reason, "");
	cr_expect_str_eq(r.body, "no");
	http_response_free(&r);
}

Test(http_response, body_until_close)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_assert_eq(http_response_feed(&r, S("HTTP/1.1 200 OK\r\n\r\nsome"), &err), 23);
	cr_assert_eq(http_response_feed(&r, S(" text"), &err), 5);
	cr_expect_not(http_response_complete(&r));
	cr_assert_eq(http_response_finish(&r, &err), 0);
	cr_expect(http_response_complete(&r));
	cr_expect_str_eq(r.body, "some text");
	http_response_free(&r);
}

Test(http_response, interim_responses_are_skipped)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_assert_eq(parse_all(&r,
			       S("HTTP/1.1 100 Continue\r\n\r\n"
				 "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
				 "HTTP/1.1 409 Conflict\r\nContent-Length: 1\r\n\r\nx"),
			       &err),
		     0, "%s", err.msg);
	cr_expect_eq(r.status, 409);
	cr_expect_null(http_response_header(&r, "Link"));
	cr_expect_str_eq(r.body, "x");
	http_response_free(&r);
}

Test(http_response, no_body_statuses)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_assert_eq(http_response_feed(&r, S("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
					       "HTTP/"),
					&err),
		     46);
	cr_expect(http_response_complete(&r));
	cr_expect_null(r.body);
	cr_expect_eq(r.body_len, 0);
	http_response_free(&r);
}

Test(http_response, zero_length_body_completes_without_close)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_assert_eq(http_response_feed(&r, S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), &err),
		     38);
	cr_expect(http_response_complete(&r));
	cr_expect_eq(r.body_len, 0);
	http_response_free(&r);
}

Test(http_response, bad_status_lines)
{
	static const char *cases[] = {
		"\r\n\r\n",
		"HTTP/1.1\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 600 High\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",
		"SSH-2.0-OpenSSH_9.2\r\n\r\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n",
		"HTTP/1.1 200 OK\rX\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct http_response r;
		struct evo_error err = {0};
		http_response_init(&r, NULL, NULL);
		cr_expect_eq(parse_all(&r, cases[i], strlen(cases[i]), &err), -1, "case %zu", i);
		cr_expect_eq(err.kind, EVO_ERR_INVALID, "case %zu: %s", i, err.msg);
		cr_expect_neq(err.msg[0], '\0');
		cr_expect_not(http_response_head_complete(&r), "case %zu", i);
		/* A failed parser stays failed. */
		cr_expect_eq(http_response_feed(&r, S("HTTP/1.1 200 OK\r\n\r\n"), &err), -1);
		http_response_free(&r);
	}
}

Test(http_response, not_http_is_refused_at_once)
{
	/* A TLS or SSH port answers without the line end a status line needs. */
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_expect_eq(http_response_feed(&r, S("HT"), &err), 2);
	cr_expect_eq(http_response_feed(&r, S("\x15\x03\x01\x00\x02"), &err), -1);
	cr_expect(strstr(err.msg, "not an HTTP response") != NULL, "%s", err.msg);
	http_response_free(&r);
}

Test(http_response, bad_headers)
{
	static const char *cases[] = {
		"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: x\x7fy\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: x\0y\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: 1\r\n\r\r\n",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct http_response r;
		struct evo_error err = {0};
		http_response_init(&r, NULL, NULL);
		size_t len = i == 5 ? 27 : strlen(cases[i]);
		cr_expect_eq(parse_all(&r, cases[i], len, &err), -1, "case %zu", i);
		cr_expect_eq(err.kind, EVO_ERR_INVALID, "case %zu: %s", i, err.msg);
		http_response_free(&r);
	}
}

Test(http_response, repeated_equal_content_length_is_fine)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_assert_eq(parse_all(&r, S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n"
				     "Transfer-Encoding:  Chunked \r\n\r\n2\r\nok\r\n0\r\n\r\n"),
			       &err),
		     0, "%s", err.msg);
	/* Transfer-Encoding wins over Content-Length. */
	cr_expect(r.chunked);
	cr_expect_str_eq(r.body, "ok");
	http_response_free(&r);
}

Test(http_response, bad_chunks)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const char *cases[] = {
		"\r\n",		   /* no size */
		"g\r\n",	   /* not hex */
		"-1\r\n",	   /* no sign */
		"0x5\r\nhello\r\n", /* no prefix */
		"5\rX",		   /* CR without LF */
		"5\r\nhelloX\r\n", /* data longer than its size */
		"5\r\nhello\rX",   /* CR without LF after data */
		"11111111111111111\r\n", /* 17 digits: over 64 bits */
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char text[256];
		snprintf(text, sizeof text, "%s%s", head, cases[i]);
		struct http_response r;
		struct evo_error err = {0};
		http_response_init(&r, NULL, NULL);
		cr_expect_eq(parse_all(&r, text, strlen(text), &err), -1, "case %zu", i);
		cr_expect_neq(err.kind, EVO_ERR_NONE, "case %zu", i);
		cr_expect_neq(err.msg[0], '\0', "case %zu", i);
		/* The head stays readable: the client reports the status. */
		cr_expect(http_response_head_complete(&r), "case %zu", i);
		http_response_free(&r);
	}
}

Test(http_response, oversize_head)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	r.head_max = 64;
	ssize_t used = http_response_feed(&r, S("HTTP/1.1 200 OK\r\n"), &err);
	cr_assert_eq(used, 17);
	/* A header line without its end is still counted. */
	char big[100];
	memset(big, 'a', sizeof big);
	cr_expect_eq(http_response_feed(&r, big, sizeof big, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_LIMIT);
	cr_expect(strstr(err.msg, "larger than 64 bytes") != NULL, "%s", err.msg);
	http_response_free(&r);

	/* The default limit holds against a server that never ends its head. */
	http_response_init(&r, NULL, NULL);
	static char line[1000];
	memset(line, 'b', sizeof line - 2);
	memcpy(line, "X-Big: ", 7);
	line[sizeof line - 2] = '\n';
	line[sizeof line - 1] = '\0';
	int rc = (int)http_response_feed(&r, S("HTTP/1.1 200 OK\r\n"), &err);
	for (int i = 0; i < 1000 && rc >= 0; i++)
		rc = (int)http_response_feed(&r, line, strlen(line), &err);
	cr_expect_eq(rc, -1);
	cr_expect_eq(err.kind, EVO_ERR_LIMIT);
	http_response_free(&r);
}

Test(http_response, too_many_headers)
{
	char text[8192] = "HTTP/1.1 200 OK\r\n";
	for (int i = 0; i <= HTTP_RESPONSE_HEADERS_MAX; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), "H%d: v\r\n", i);
	strcat(text, "\r\n");
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_expect_eq(parse_all(&r, text, strlen(text), &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_LIMIT, "%s", err.msg);
	http_response_free(&r);
}

Test(http_response, oversize_chunk_line_and_trailers)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_assert_eq(http_response_feed(&r, S(head), &err), (ssize_t)sizeof head - 1);
	cr_assert_eq(http_response_feed(&r, S("1;"), &err), 2);
	static char ext[HTTP_RESPONSE_CHUNK_LINE_MAX];
	memset(ext, 'e', sizeof ext);
	cr_expect_eq(http_response_feed(&r, ext, sizeof ext, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_LIMIT);
	http_response_free(&r);

	/* Leading zeros are fine within the line limit. */
	http_response_init(&r, NULL, NULL);
	cr_assert_eq(parse_all(&r, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				     "00000000000000000000000001\r\nx\r\n0\r\n\r\n"),
			       &err),
		     0, "%s", err.msg);
	cr_expect_str_eq(r.body, "x");
	http_response_free(&r);

	http_response_init(&r, NULL, NULL);
	r.head_max = 128;
	cr_assert_eq(http_response_feed(&r, S(head), &err), (ssize_t)sizeof head - 1);
	cr_assert_eq(http_response_feed(&r, S("0\r\nX-T: 1\r\n"), &err), 11);
	char trailer[200];
	memset(trailer, 't', sizeof trailer);
	cr_expect_eq(http_response_feed(&r, trailer, sizeof trailer, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_LIMIT);
	http_response_free(&r);
}

Test(http_response, body_limit)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	r.body_max = 4;
	cr_expect_eq(parse_all(&r, S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), &err),
		     -1);
	cr_expect_eq(err.kind, EVO_ERR_LIMIT);
	http_response_free(&r);

	http_response_init(&r, NULL, NULL);
	r.body_max = 4;
	cr_expect_eq(parse_all(&r,
			       S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
			       &err),
		     -1);
	cr_expect_eq(err.kind, EVO_ERR_LIMIT);
	cr_expect_str_eq(r.body, "abc");
	http_response_free(&r);

	http_response_init(&r, NULL, NULL);
	r.body_max = 4;
	cr_expect_eq(parse_all(&r, S("HTTP/1.1 200 OK\r\n\r\nhello"), &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_LIMIT);
	http_response_free(&r);
}

Test(http_response, truncated)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"", "without a response"},
		{"HTTP/1.1 200 OK\r\nContent-", "middle of the HTTP response head"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", "after 5 of 10 bytes"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "chunked"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "chunked"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", "chunked"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n", "chunked"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct http_response r;
		struct evo_error err = {0};
		http_response_init(&r, NULL, NULL);
		cr_expect_eq(parse_all(&r, cases[i].text, strlen(cases[i].text), &err), -1,
			     "case %zu", i);
		cr_expect(strstr(err.msg, cases[i].want) != NULL, "case %zu: %s", i, err.msg);
		cr_expect_not(http_response_complete(&r));
		http_response_free(&r);
	}
}

Test(http_response, callback_failure_stops_parsing)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, refuse, NULL);
	cr_expect_eq(http_response_feed(&r, S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"), &err),
		     -1);
	cr_expect_str_eq(err.msg, "stdout is closed");
	cr_expect_eq(err.kind, EVO_ERR_SYSTEM);
	http_response_free(&r);
}

Test(http_response, error_messages_quote_safely)
{
	struct http_response r;
	struct evo_error err = {0};
	http_response_init(&r, NULL, NULL);
	cr_expect_eq(parse_all(&r, S("\x1b[31mHTTP/1.1 200 OK\r\n\r\n"), &err), -1);
	cr_expect(strstr(err.msg, "\\x1b[31mHTTP") != NULL, "%s", err.msg);
	cr_expect_null(strchr(err.msg, '\x1b'));
	http_response_free(&r);
}
