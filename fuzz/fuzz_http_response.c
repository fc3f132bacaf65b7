/* libFuzzer target: the HTTP response parser on arbitrary bytes. Never a
 * crash or leak; a failure always says what was wrong; and feeding the
 * bytes in pieces (sizes from the first byte) gives exactly what feeding
 * them at once gives: the same verdict, status and body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/http_response.h"

struct outcome {
	int rc;
	bool complete;
	int status;
	char *body;
	size_t body_len;
};

static int collect(void *ctx, const char *data, size_t len, struct evo_error *err)
{
	struct outcome *o = ctx;
	o->body = realloc(o->body, o->body_len + len + 1);
	if (o->body == NULL)
		abort();
	memcpy(o->body + o->body_len, data, len);
	o->body_len += len;
	return 0;
}

/* Parse in pieces of `step` bytes (0: all at once), then end the
 * connection. Bodies go through a callback when use_callback. */
static void parse(const char *data, size_t size, size_t step, bool use_callback,
		  struct outcome *o)
{
	struct http_response r;
	struct evo_error err = {0};
	memset(o, 0, sizeof *o);
	http_response_init(&r, use_callback ? collect : NULL, o);
	r.head_max = 1024;
	r.body_max = 4096;
	size_t off = 0;
	o->rc = 0;
	while (off < size && !http_response_complete(&r)) {
		size_t n = step && size - off > step ? step : size - off;
		ssize_t used = http_response_feed(&r, data + off, n, &err);
		if (used < 0) {
			o->rc = -1;
			break;
		}
		if ((size_t)used > n || ((size_t)used < n && !http_response_complete(&r)))
			abort();
		off += (size_t)used;
	}
	if (o->rc == 0 && !http_response_complete(&r))
		o->rc = http_response_finish(&r, &err);
	if (o->rc < 0 && (err.kind == EVO_ERR_NONE || err.msg[0] == '\0'))
		abort();
	o->complete = http_response_complete(&r);
	if (o->complete && (!http_response_head_complete(&r) || r.status < 200 || r.status > 599))
		abort();
	if (http_response_head_complete(&r)) {
		o->status = r.status;
		for (size_t i = 0; i < r.header_count; i++)
			if (http_response_header(&r, r.headers[i].name) == NULL)
				abort();
	}
	if (!use_callback) {
		if (r.body_len > 0 && (r.body == NULL || r.body[r.body_len] != '\0'))
			abort();
		o->body = r.body ? malloc(r.body_len + 1) : NULL;
		if (r.body)
			memcpy(o->body, r.body, r.body_len);
		o->body_len = r.body_len;
	}
	if (o->body_len > 4096)
		abort();
	http_response_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = (size_t)(data[0] % 16) + 1;
	const char *text = (const char *)data + 1;
	size--;
	struct outcome whole, pieces;
	parse(text, size, 0, false, &whole);
	parse(text, size, step, true, &pieces);
	if (whole.rc != pieces.rc || whole.complete != pieces.complete ||
	    whole.status != pieces.status)
		abort();
	if (whole.rc == 0 && (whole.body_len != pieces.body_len ||
			      (whole.body_len && memcmp(whole.body, pieces.body, whole.body_len))))
		abort();
	free(whole.body);
	free(pieces.body);
	return 0;
}
