/* An incremental HTTP/1.1 response parser, for the CLI's client of
 * `evoclaw serve`.
 *
 * Bytes go in as they arrive, split anywhere; the parser reads the status
 * line and headers, then the body framed by Content-Length, by chunked
 * transfer coding (extensions and trailers are read and dropped), or by
 * the end of the connection. Body bytes go to a callback as they are
 * decoded, or are collected in the struct when there is none. Interim 1xx
 * responses are skipped. The head, a chunk-size line and the trailers are
 * bounded, so no input makes it use unbounded memory, and no input makes
 * it crash: malformed bytes are an error that says what was wrong.
 * Pure: no I/O. */
#ifndef EVOCLAW_COMMON_HTTP_RESPONSE_H
#define EVOCLAW_COMMON_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

/* Defaults of the limits, which a caller may change after init. */
#define HTTP_RESPONSE_HEAD_MAX (64 * 1024)
#define HTTP_RESPONSE_BODY_MAX (64ULL * 1024 * 1024)
#define HTTP_RESPONSE_HEADERS_MAX 100
/* A chunk-size line with its extensions. */
#define HTTP_RESPONSE_CHUNK_LINE_MAX 4096

/* Receives decoded body bytes; returns <0 (filling err) to stop parsing. */
typedef int (*http_body_fn)(void *ctx, const char *data, size_t len, struct evo_error *err);

struct http_header {
	const char *name, *value; /* NUL-terminated, inside the parser's head */
};

enum http_response_state {
	HTTP_RESPONSE_STATE_HEAD,
	HTTP_RESPONSE_STATE_BODY_LENGTH,
	HTTP_RESPONSE_STATE_BODY_UNTIL_CLOSE,
	HTTP_RESPONSE_STATE_CHUNK_SIZE,
	HTTP_RESPONSE_STATE_CHUNK_EXTENSION,
	HTTP_RESPONSE_STATE_CHUNK_SIZE_LF,
	HTTP_RESPONSE_STATE_CHUNK_DATA,
	HTTP_RESPONSE_STATE_CHUNK_DATA_CR,
	HTTP_RESPONSE_STATE_CHUNK_DATA_LF,
	HTTP_RESPONSE_STATE_TRAILER,
	HTTP_RESPONSE_STATE_DONE,
	HTTP_RESPONSE_STATE_ERROR,
};

struct http_response {
	/* The head, valid once http_response_head_complete(). */
	int status;	    /* 100..599 */
	int version_minor;  /* HTTP/1.x */
	const char *reason; /* may be "" */
	struct http_header headers[HTTP_RESPONSE_HEADERS_MAX];
	size_t header_count;
	bool chunked;
	int64_t content_length; /* -1: none given */

	/* The body so far when on_body is NULL: NUL-terminated (body_len
	 * excludes the NUL), NULL while empty. */
	char *body;
	size_t body_len;

	/* Limits (defaults above): the head in bytes (also bounds trailers),
	 * the decoded body in bytes. */
	size_t head_max;
	uint64_t body_max;

	/* Private. */
	http_body_fn on_body;
	void *ctx;
	enum http_response_state state;
	char *head;
	size_t head_len, head_cap, body_cap;
	size_t line_len;     /* bytes of the current head, chunk or trailer line */
	size_t trailer_len;  /* bytes of trailers so far */
	uint64_t remaining;  /* of the Content-Length body or the current chunk */
	uint64_t body_total; /* decoded body bytes so far */
	unsigned chunk_digits;
};

/* Ready r for one response. Body bytes go to on_body(ctx, ...) or, when
 * on_body is NULL, are collected in r->body. Can't fail. */
void http_response_init(struct http_response *r, http_body_fn on_body, void *ctx);

/* Release what r holds (r->body too); r can be init'ed again. */
void http_response_free(struct http_response *r);

/* Parse len more bytes. Returns how many were consumed: all of them,
 * unless the response ended before them (the rest belongs to no
 * response). Returns -1 with err filled on a malformed or oversized
 * response or when on_body failed; r then stays failed. */
ssize_t http_response_feed(struct http_response *r, const char *data, size_t len,
			   struct evo_error *err);

/* The connection ended. Returns 0 if that completes the response (it had
 * ended already, or its body runs until the connection closes), else -1
 * with err saying what was cut short. */
int http_response_finish(struct http_response *r, struct evo_error *err);

bool http_response_head_complete(const struct http_response *r);
bool http_response_complete(const struct http_response *r);

/* The value of the first header called name (any case), or NULL. */
const char *http_response_header(const struct http_response *r, const char *name);

#endif
