/* libFuzzer target: what the e2b provider reads from E2B (e2b_wire.c).
 * The first byte steers; the rest is tried as a Sandbox, a sandbox list,
 * an error body and an envd process stream. Never a crash or leak; a
 * refusal is INVALID and says why; an error message is clean, printable
 * text that fits; a stream fed in two pieces (split where the first byte
 * says) gives exactly the events and verdict of the stream fed whole; a
 * metadata filter decodes, as spec §3.3 says a server does, back to what
 * was encoded. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"
#include "runtime/e2b/e2b_wire.h"

#define FIELD_OK(s) (memchr((s), '\0', sizeof(s)) != NULL)

static void check_refusal(const struct evo_error *err)
{
	if (err->kind != EVO_ERR_INVALID || err->msg[0] == '\0')
		abort();
}

static void check_sandbox(const struct e2b_sandbox *sb)
{
	if (!FIELD_OK(sb->id) || sb->id[0] == '\0' || !FIELD_OK(sb->template_id) ||
	    !FIELD_OK(sb->envd_token) || !FIELD_OK(sb->domain) || !FIELD_OK(sb->owner) ||
	    !FIELD_OK(sb->spawn_key) || !FIELD_OK(sb->agent))
		abort();
}

static void check_text(const char *s, size_t size)
{
	size_t n = strlen(s);
	if (n >= size || (n > 0 && (s[0] == ' ' || s[n - 1] == ' ')) || strstr(s, "  ") != NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			abort();
}

/* Every event as text, so that two runs compare with memcmp. */
struct recorder {
	struct evo_buf log;
	size_t events;
	size_t stop_at; /* 0: never */
};

static int record(void *ctx, const struct e2b_event *ev)
{
	struct recorder *r = ctx;
	if (ev->len > 0 && ev->data == NULL)
		abort();
	if (!FIELD_OK(ev->status) || !FIELD_OK(ev->error_code) || !FIELD_OK(ev->message))
		abort();
	check_text(ev->message, sizeof ev->message);
	if (ev->kind == E2B_EVENT_STREAM_END && ev->message[0] != '\0' && ev->error_code[0] == '\0')
		abort();
	char head[512];
	int n = snprintf(head, sizeof head, "%d %u %d %zu %d %d [%s] [%s] [%s] ", (int)ev->kind,
			 ev->pid, ev->is_stderr, ev->len, ev->exit_code, ev->exited, ev->status,
			 ev->error_code, ev->message);
	evo_buf_append(&r->log, head, (size_t)n);
	if (ev->len > 0)
		evo_buf_append(&r->log, ev->data, ev->len);
	evo_buf_append(&r->log, "\n", 1);
	r->events++;
	return r->stop_at == r->events ? 9 : 0;
}

/* Feed the body in pieces split at `at`; the first answer that is not 0. */
static int decode(const uint8_t *body, size_t len, size_t at, struct recorder *r)
{
	struct e2b_stream_decoder d = {0};
	struct evo_error err = {0};
	int rc = e2b_stream_feed(&d, body, at, record, r, &err);
	if (rc == 0)
		rc = e2b_stream_feed(&d, body + at, len - at, record, r, &err);
	if (rc < 0)
		check_refusal(&err);
	if (rc == 0 && d.ended && d.pending.len != 0)
		abort(); /* bytes after the end are refused, never kept */
	e2b_stream_decoder_free(&d);
	return rc;
}

/* Key and value, at most 40 bytes each, from the body; encode, then
 * decode as a server does. */
static void check_metadata_query(const uint8_t *body, size_t len)
{
	char key[41], value[41];
	size_t k = len < 40 ? len : 40;
	memcpy(key, body, k);
	key[k] = '\0';
	size_t v = len - k < 40 ? len - k : 40;
	memcpy(value, body + k, v);
	value[v] = '\0';
	char q[1024];
	e2b_metadata_query(key, value, q, sizeof q);
	if (strcspn(q, "&=+# ?/") != strlen(q) || !text_percent_decode(q))
		abort();
	char *eq = strchr(q, '=');
	if (strchr(q, '&') != NULL || eq == NULL || strchr(eq + 1, '=') != NULL)
		abort();
	*eq = '\0';
	char *dk = q, *dv = eq + 1;
	if (!text_percent_decode(dk) || !text_percent_decode(dk) || !text_percent_decode(dv) ||
	    !text_percent_decode(dv) || strcmp(dk, key) != 0 || strcmp(dv, value) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t steer = data[0];
	const uint8_t *body = data + 1;
	size_t len = size - 1;
	const char *text = (const char *)body;

	struct e2b_sandbox sb;
	struct evo_error err = {0};
	if (e2b_sandbox_parse(text, len, &sb, &err) == 0)
		check_sandbox(&sb);
	else
		check_refusal(&err);

	struct e2b_sandbox *list = NULL;
	size_t n = 0;
	err = (struct evo_error){0};
	if (e2b_sandbox_list_parse(text, len, &list, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			check_sandbox(&list[i]);
		free(list);
	} else {
		check_refusal(&err);
		if (list != NULL)
			abort();
	}

	char message[256];
	size_t msize = steer == 0 ? 1 : steer;
	e2b_error_message(text, len, message, msize);
	check_text(message, msize);

	/* The same stream whole and split: the same events, the same answer;
	 * the callback says stop at the event steer's high bits name. */
	size_t at = len == 0 ? 0 : (size_t)steer * len / 255;
	struct recorder whole = {.stop_at = steer >> 5}, split = {.stop_at = steer >> 5};
	int rc_whole = decode(body, len, len, &whole);
	int rc_split = decode(body, len, at, &split);
	if (rc_whole != rc_split || whole.events != split.events ||
	    whole.log.len != split.log.len ||
	    (whole.log.len > 0 && memcmp(whole.log.data, split.log.data, whole.log.len) != 0))
		abort();
	if ((rc_whole == 9) != (whole.stop_at != 0 && whole.events == whole.stop_at))
		abort();
	evo_buf_free(&whole.log);
	evo_buf_free(&split.log);

	check_metadata_query(body, len);
	return 0;
}
