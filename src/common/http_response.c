#include "common/text.h"
#include "common/http_response.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"

void http_response_init(struct http_response *r, http_body_fn on_body, void *ctx)
{
	memset(r, 0, sizeof *r);
	r->content_length = -1;
	r->head_max = HTTP_RESPONSE_HEAD_MAX;
	r->body_max = HTTP_RESPONSE_BODY_MAX;
	r->on_body = on_body;
	r->ctx = ctx;
	r->state = HTTP_RESPONSE_STATE_HEAD;
}

void http_response_free(struct http_response *r)
{
	free(r->head);
	free(r->body);
	r->head = r->body = NULL;
	r->head_len = r->head_cap = r->body_len = r->body_cap = 0;
	r->header_count = 0;
	r->reason = NULL;
}

bool http_response_head_complete(const struct http_response *r)
{
	return r->status != 0 && r->state != HTTP_RESPONSE_STATE_HEAD;
}

bool http_response_complete(const struct http_response *r)
{
	return r->state == HTTP_RESPONSE_STATE_DONE;
}

const char *http_response_header(const struct http_response *r, const char *name)
{
	for (size_t i = 0; i < r->header_count; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* Bytes from the wire quoted for a message: printable ASCII as is, the
 * rest as \xHH, at most about 64 characters. */
static const char *quote_bytes(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < size && i < 64; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	if (n > 64 && o + 4 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static int malformed(struct evo_error *err, const char *what, const char *bytes, size_t n)
{
	char quoted[300];
	return evo_error_set(err, EVO_ERR_INVALID, 0, "malformed HTTP response: %s \"%s\"", what,
			     quote_bytes(bytes, n, quoted, sizeof quoted));
}

static bool is_tchar(unsigned char c)
{
	/* RFC 9110 token characters. */
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A field value or reason phrase: visible characters, SP, HTAB and
 * obs-text; no other control characters. */
static bool is_field_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Transfer-Encoding lists codings; only "chunked" alone is understood
 * (the request asks for no compression). Sets *chunked if it is that. */
static int parse_transfer_encoding(const char *value, bool *chunked, struct evo_error *err)
{
	const char *p = value;
	while (*p) {
		while (is_ows(*p) || *p == ',')
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && *p != ',')
			p++;
		const char *end = p;
		while (end > start && is_ows(end[-1]))
			end--;
		if (*chunked || (size_t)(end - start) != 7 || strncasecmp(start, "chunked", 7) != 0)
			return malformed(err, "unsupported Transfer-Encoding", value, strlen(value));
		*chunked = true;
	}
	return 0;
}

static int parse_content_length(const char *value, int64_t *out, struct evo_error *err)
{
	int64_t v = 0;
	if (!*value)
		return malformed(err, "invalid Content-Length", value, 0);
	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
			return malformed(err, "invalid Content-Length", value, strlen(value));
		v = v * 10 + (*p - '0');
	}
	if (*out >= 0 && *out != v)
		return malformed(err, "conflicting Content-Length", value, strlen(value));
	*out = v;
	return 0;
}

/* The next line of the head at *p: NUL-terminated in place without its
 * CRLF (or LF), *n its length. The head always ends with a line feed. */
static char *next_line(char **p, size_t *n)
{
	char *line = *p;
	char *lf = strchr(line, '\n');
	*p = lf + 1;
	if (lf > line && lf[-1] == '\r')
		lf--;
	*lf = '\0';
	*n = (size_t)(lf - line);
	return line;
}

static int parse_status_line(struct http_response *r, const char *line, size_t n,
			     struct evo_error *err)
{
	/* HTTP/1.1 200 OK, the reason phrase possibly empty or absent. */
	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
	    line[8] != ' ' || line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' ||
	    line[11] < '0' || line[11] > '9' || (n > 12 && line[12] != ' ') ||
	    !is_field_text(line, n))
		return malformed(err, "bad status line", line, n);
	r->version_minor = line[7] - '0';
	r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	r->reason = n > 12 ? line + 13 : line + n;
	return 0;
}

static int parse_header_line(struct http_response *r, char *line, size_t n,
			     struct evo_error *err)
{
	if (is_ows(line[0]))
		return malformed(err, "folded header line", line, n);
	char *colon = memchr(line, ':', n);
	if (colon == NULL || colon == line)
		return malformed(err, "header line without a name", line, n);
	for (char *c = line; c < colon; c++)
		if (!is_tchar((unsigned char)*c))
			return malformed(err, "bad header name", line, (size_t)(colon - line));
	char *value = colon + 1, *end = line + n;
	while (value < end && is_ows(*value))
		value++;
	while (end > value && is_ows(end[-1]))
		end--;
	if (!is_field_text(value, (size_t)(end - value)))
		return malformed(err, "control character in header", line, n);
	if (r->header_count == HTTP_RESPONSE_HEADERS_MAX)
		return evo_error_set(err, EVO_ERR_LIMIT, 0,
				     "HTTP response has more than %d header lines",
				     HTTP_RESPONSE_HEADERS_MAX);
	*colon = '\0';
	*end = '\0';
	r->headers[r->header_count].name = line;
	r->headers[r->header_count].value = value;
	r->header_count++;
	return 0;
}

/* The head is in r->head, ending with an empty line: split it into the
 * status line and headers, and decide how the body is framed. */
static int parse_head(struct http_response *r, struct evo_error *err)
{
	r->head[r->head_len] = '\0';
	if (memchr(r->head, '\0', r->head_len) != NULL)
		return malformed(err, "NUL byte in head", r->head, r->head_len);
	char *p = r->head, *end = r->head + r->head_len;
	size_t n;
	char *line = next_line(&p, &n);
	if (memchr(line, '\r', n) != NULL)
		return malformed(err, "bare CR in status line", line, n);
	if (parse_status_line(r, line, n, err) < 0)
		return -1;
	for (;;) {
		line = next_line(&p, &n);
		if (memchr(line, '\r', n) != NULL)
			return malformed(err, "bare CR in header line", line, n);
		if (p == end) {
			/* The empty line that ended the head: only stray CRs
			 * could have made it non-empty, and they failed above. */
			break;
		}
		if (parse_header_line(r, line, n, err) < 0)
			return -1;
	}

	r->chunked = false;
	r->content_length = -1;
	for (size_t i = 0; i < r->header_count; i++) {
		const struct http_header *h = &r->headers[i];
		if (strcasecmp(h->name, "Transfer-Encoding") == 0) {
			if (parse_transfer_encoding(h->value, &r->chunked, err) < 0)
				return -1;
		} else if (strcasecmp(h->name, "Content-Length") == 0) {
			if (parse_content_length(h->value, &r->content_length, err) < 0)
				return -1;
		}
	}
	return 0;
}

static void set_chunk_size_state(struct http_response *r)
{
	r->state = HTTP_RESPONSE_STATE_CHUNK_SIZE;
	r->remaining = 0;
	r->chunk_digits = 0;
	r->line_len = 0;
}

/* The head is complete: read it and move to its body. */
static int head_done(struct http_response *r, struct evo_error *err)
{
	if (parse_head(r, err) < 0) {
		r->status = 0;
		return -1;
	}
	if (r->status < 200) {
		if (r->status == 101) {
			r->status = 0;
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "unexpected HTTP 101 Switching Protocols");
		}
		/* An interim response (100 Continue, 103 Early Hints): the
		 * real one follows. */
		r->status = 0;
		r->head_len = 0;
		r->header_count = 0;
		r->line_len = 0;
		return 0;
	}
	if (r->status == 204 || r->status == 304) {
		r->state = HTTP_RESPONSE_STATE_DONE;
	} else if (r->chunked) {
		set_chunk_size_state(r);
	} else if (r->content_length >= 0) {
		if ((uint64_t)r->content_length > r->body_max)
			return evo_error_set(err, EVO_ERR_LIMIT, 0,
					     "HTTP response body of %" PRId64
					     " bytes is larger than the limit of %" PRIu64 " bytes",
					     r->content_length, r->body_max);
		r->remaining = (uint64_t)r->content_length;
		r->state = r->remaining ? HTTP_RESPONSE_STATE_BODY_LENGTH
					: HTTP_RESPONSE_STATE_DONE;
	} else {
		r->state = HTTP_RESPONSE_STATE_BODY_UNTIL_CLOSE;
	}
	return 0;
}

static size_t step_head(struct http_response *r, const char *data, size_t len, int *rc,
			struct evo_error *err)
{
	/* Something else than an HTTP server (an SSH or TLS port) is told
	 * apart at once, not after waiting for a line end it never sends. */
	for (size_t i = r->head_len; i < 5 && i - r->head_len < len; i++) {
		if (data[i - r->head_len] != "HTTP/"[i]) {
			*rc = malformed(err, "not an HTTP response", data, len);
			return 0;
		}
	}
	const char *lf = memchr(data, '\n', len);
	size_t n = lf ? (size_t)(lf - data) + 1 : len;
	if (n > r->head_max - r->head_len) {
		*rc = evo_error_set(err, EVO_ERR_LIMIT, 0,
				    "HTTP response head is larger than %zu bytes", r->head_max);
		return 0;
	}
	if (r->head_len + n + 1 > r->head_cap) {
		size_t cap = r->head_cap ? r->head_cap : 512;
		while (cap < r->head_len + n + 1)
			cap *= 2;
		r->head = xrealloc(r->head, cap);
		r->head_cap = cap;
	}
	memcpy(r->head + r->head_len, data, n);
	r->head_len += n;
	/* Count a line's bytes other than CR, so that "\r\n" and "\n" both
	 * end the head. */
	for (size_t i = 0; i + (lf != NULL) < n; i++)
		r->line_len += data[i] != '\r';
	if (lf) {
		bool empty = r->line_len == 0;
		r->line_len = 0;
		/* Not the status line: that starts with "HTTP/". */
		if (empty)
			*rc = head_done(r, err);
	}
	return n;
}

static int deliver_body(struct http_response *r, const char *data, size_t n,
			struct evo_error *err)
{
	if (n == 0)
		return 0;
	if (n > r->body_max - r->body_total)
		return evo_error_set(err, EVO_ERR_LIMIT, 0,
				     "HTTP response body is larger than the limit of %" PRIu64
				     " bytes",
				     r->body_max);
	r->body_total += n;
	if (r->on_body) {
		if (r->on_body(r->ctx, data, n, err) < 0) {
			if (err && err->msg[0] == '\0')
				evo_error_set(err, EVO_ERR_INTERNAL, 0,
					      "HTTP response body was refused");
			return -1;
		}
		return 0;
	}
	if (r->body_len + n + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 4096;
		while (cap < r->body_len + n + 1)
			cap *= 2;
		r->body = xrealloc(r->body, cap);
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}


/* The chunk-size line ended: data follows, or the trailers after the last
 * chunk. */
static int chunk_size_line_done(struct http_response *r, struct evo_error *err)
{
	r->line_len = 0;
	if (r->remaining == 0) {
		r->state = HTTP_RESPONSE_STATE_TRAILER;
		r->trailer_len = 0;
		return 0;
	}
	if (r->remaining > r->body_max - r->body_total)
		return evo_error_set(err, EVO_ERR_LIMIT, 0,
				     "HTTP response body is larger than the limit of %" PRIu64
				     " bytes",
				     r->body_max);
	r->state = HTTP_RESPONSE_STATE_CHUNK_DATA;
	return 0;
}

static int chunk_line_grow(struct http_response *r, size_t n, struct evo_error *err)
{
	r->line_len += n;
	if (r->line_len > HTTP_RESPONSE_CHUNK_LINE_MAX)
		return evo_error_set(err, EVO_ERR_LIMIT, 0,
				     "HTTP chunk-size line is longer than %d bytes",
				     HTTP_RESPONSE_CHUNK_LINE_MAX);
	return 0;
}

static int step_chunk_size(struct http_response *r, char c, struct evo_error *err)
{
	if (chunk_line_grow(r, 1, err) < 0)
		return -1;
	int v = text_hex_value(c);
	if (v >= 0) {
		if (r->remaining >> 60)
			return evo_error_set(err, EVO_ERR_LIMIT, 0, "HTTP chunk size is too large");
		r->remaining = r->remaining << 4 | (uint64_t)v;
		r->chunk_digits++;
		return 0;
	}
	if (r->chunk_digits == 0)
		return malformed(err, "bad chunk size", &c, 1);
	if (c == ' ' || c == '\t' || c == ';')
		r->state = HTTP_RESPONSE_STATE_CHUNK_EXTENSION;
	else if (c == '\r')
		r->state = HTTP_RESPONSE_STATE_CHUNK_SIZE_LF;
	else if (c == '\n')
		return chunk_size_line_done(r, err);
	else
		return malformed(err, "bad chunk size", &c, 1);
	return 0;
}

static size_t step_chunked(struct http_response *r, const char *data, size_t len, int *rc,
			   struct evo_error *err)
{
	const char *lf;
	size_t n;
	switch (r->state) {
	case HTTP_RESPONSE_STATE_CHUNK_SIZE:
		*rc = step_chunk_size(r, data[0], err);
		return 1;
	case HTTP_RESPONSE_STATE_CHUNK_EXTENSION:
		/* Extensions (and whitespace before them) mean nothing to
		 * us: skip to the end of the line. */
		lf = memchr(data, '\n', len);
		n = lf ? (size_t)(lf - data) + 1 : len;
		*rc = chunk_line_grow(r, n, err);
		if (*rc == 0 && lf)
			*rc = chunk_size_line_done(r, err);
		return n;
	case HTTP_RESPONSE_STATE_CHUNK_SIZE_LF:
		*rc = data[0] == '\n' ? chunk_size_line_done(r, err)
				      : malformed(err, "chunk-size line not ended by CRLF", data, 1);
		return 1;
	case HTTP_RESPONSE_STATE_CHUNK_DATA:
		n = len < r->remaining ? len : (size_t)r->remaining;
		*rc = deliver_body(r, data, n, err);
		r->remaining -= n;
		if (r->remaining == 0)
			r->state = HTTP_RESPONSE_STATE_CHUNK_DATA_CR;
		return n;
	case HTTP_RESPONSE_STATE_CHUNK_DATA_CR:
		if (data[0] == '\r')
			r->state = HTTP_RESPONSE_STATE_CHUNK_DATA_LF;
		else if (data[0] == '\n')
			set_chunk_size_state(r);
		else
			*rc = malformed(err, "chunk data not followed by CRLF", data, 1);
		return 1;
	case HTTP_RESPONSE_STATE_CHUNK_DATA_LF:
		if (data[0] == '\n')
			set_chunk_size_state(r);
		else
			*rc = malformed(err, "chunk data not followed by CRLF", data, 1);
		return 1;
	case HTTP_RESPONSE_STATE_TRAILER:
		/* Trailer fields are read and dropped; an empty line ends
		 * the message. */
		lf = memchr(data, '\n', len);
		n = lf ? (size_t)(lf - data) + 1 : len;
		if (n > r->head_max - r->trailer_len) {
			*rc = evo_error_set(err, EVO_ERR_LIMIT, 0,
					    "HTTP response trailers are larger than %zu bytes",
					    r->head_max);
			return 0;
		}
		r->trailer_len += n;
		for (size_t i = 0; i + (lf != NULL) < n; i++)
			r->line_len += data[i] != '\r';
		if (lf) {
			if (r->line_len == 0)
				r->state = HTTP_RESPONSE_STATE_DONE;
			r->line_len = 0;
		}
		return n;
	default:
		*rc = evo_error_set(err, EVO_ERR_INTERNAL, 0, "HTTP response parser in state %d",
				    (int)r->state);
		return 0;
	}
}

ssize_t http_response_feed(struct http_response *r, const char *data, size_t len,
			   struct evo_error *err)
{
	if (r->state == HTTP_RESPONSE_STATE_ERROR)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "HTTP response was already malformed");
	size_t i = 0;
	while (i < len && r->state != HTTP_RESPONSE_STATE_DONE) {
		int rc = 0;
		size_t n;
		switch (r->state) {
		case HTTP_RESPONSE_STATE_HEAD:
			n = step_head(r, data + i, len - i, &rc, err);
			break;
		case HTTP_RESPONSE_STATE_BODY_LENGTH:
			n = len - i < r->remaining ? len - i : (size_t)r->remaining;
			rc = deliver_body(r, data + i, n, err);
			r->remaining -= n;
			if (r->remaining == 0)
				r->state = HTTP_RESPONSE_STATE_DONE;
			break;
		case HTTP_RESPONSE_STATE_BODY_UNTIL_CLOSE:
			n = len - i;
			rc = deliver_body(r, data + i, n, err);
			break;
		default:
			n = step_chunked(r, data + i, len - i, &rc, err);
			break;
		}
		if (rc < 0) {
			r->state = HTTP_RESPONSE_STATE_ERROR;
			return -1;
		}
		i += n;
	}
	return (ssize_t)i;
}

int http_response_finish(struct http_response *r, struct evo_error *err)
{
	int rc;
	switch (r->state) {
	case HTTP_RESPONSE_STATE_DONE:
		return 0;
	case HTTP_RESPONSE_STATE_BODY_UNTIL_CLOSE:
		r->state = HTTP_RESPONSE_STATE_DONE;
		return 0;
	case HTTP_RESPONSE_STATE_ERROR:
		return evo_error_set(err, EVO_ERR_INVALID, 0, "HTTP response was malformed");
	case HTTP_RESPONSE_STATE_HEAD:
		rc = r->head_len == 0
			     ? evo_error_set(err, EVO_ERR_INVALID, 0,
					     "the server closed the connection without a response")
			     : evo_error_set(err, EVO_ERR_INVALID, 0,
					     "the connection closed in the middle of the HTTP "
					     "response head");
		break;
	case HTTP_RESPONSE_STATE_BODY_LENGTH:
		rc = evo_error_set(err, EVO_ERR_INVALID, 0,
				   "the connection closed after %" PRIu64 " of %" PRId64
				   " bytes of the HTTP response body",
				   r->body_total, r->content_length);
		break;
	default:
		rc = evo_error_set(err, EVO_ERR_INVALID, 0,
				   "the connection closed before the end of the chunked HTTP "
				   "response body (%" PRIu64 " bytes read)",
				   r->body_total);
		break;
	}
	r->state = HTTP_RESPONSE_STATE_ERROR;
	return rc;
}
