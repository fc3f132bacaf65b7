/* E2B's wire formats as the e2b provider reads and writes them
 * (../shared/specs/e2b-compat.md §3, §4.3): Sandbox JSON and lists, error
 * bodies, envd's Connect-JSON process streams however they are split,
 * request bodies and envelopes, the metadata filter's encoding; and the
 * RFC 3339 timestamps of those answers. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/envd_rpc.h"
#include "common/rfc3339.h"
#include "common/text.h"
#include "runtime/e2b/e2b_wire.h"

/* Our server's metadata filter (api/requests.h), declared here: that
 * header's struct e2b_create_request (the server's) and e2b_wire.h's
 * (the client's) share a name, so no file includes both. */
json_t *request_e2b_metadata_filter(const char *query, struct evo_error *err);

static int parse_sandbox(const char *json, struct e2b_sandbox *sb, struct evo_error *err)
{
	return e2b_sandbox_parse(json, strlen(json), sb, err);
}

/* ---- Sandbox JSON ------------------------------------------------------- */

Test(e2b_wire, a_full_sandbox)
{
	const char *json =
		"{\"sandboxID\":\"sbx1\",\"templateID\":\"evoclaw-agent\",\"alias\":\"base\","
		"\"clientID\":\"x\",\"startedAt\":\"2024-01-01T00:00:00.250Z\","
		"\"endAt\":\"2024-01-01T00:05:00+01:00\",\"state\":\"paused\",\"cpuCount\":2,"
		"\"memoryMB\":512,\"diskSizeMB\":1024,\"envdVersion\":\"0.5.7\","
		"\"envdAccessToken\":\"tok-sbx1\",\"domain\":\"e2b.example\","
		"\"metadata\":{\"evoclawOwner\":\"orch-1\",\"evoclawSpawn\":\"sp-9\","
		"\"evoclawAgent\":\"ag-3\",\"other\":\"ignored\"},\"volumeMounts\":[]}";
	struct e2b_sandbox sb;
	struct evo_error err = {0};
	cr_assert_eq(parse_sandbox(json, &sb, &err), 0, "%s", err.msg);
	cr_expect_str_eq(sb.id, "sbx1");
	cr_expect_str_eq(sb.template_id, "evoclaw-agent");
	cr_expect_str_eq(sb.envd_token, "tok-sbx1");
	cr_expect_str_eq(sb.domain, "e2b.example");
	cr_expect(sb.paused);
	cr_expect_eq(sb.started_ms, 1704067200250LL);
	/* 00:05 at +01:00 is 23:05 the day before in UTC. */
	cr_expect_eq(sb.end_ms, 1704067200000LL + 300000 - 3600000);
	cr_expect_eq(sb.cpu_count, 2);
	cr_expect_eq(sb.memory_mb, 512);
	cr_expect_str_eq(sb.owner, "orch-1");
	cr_expect_str_eq(sb.spawn_key, "sp-9");
	cr_expect_str_eq(sb.agent, "ag-3");

	const char *running = "{\"sandboxID\":\"sbx2\",\"state\":\"running\",\"domain\":null,"
			      "\"startedAt\":\"2024-01-01T00:00:00Z\",\"cpuCount\":-1,"
			      "\"memoryMB\":\"512\",\"metadata\":{\"evoclawOwner\":7}}";
	cr_assert_eq(parse_sandbox(running, &sb, &err), 0, "%s", err.msg);
	cr_expect(!sb.paused);
	cr_expect_str_eq(sb.domain, "", "a null domain is none");
	cr_expect_eq(sb.started_ms, 1704067200000LL);
	cr_expect_eq(sb.end_ms, 0);
	cr_expect_eq(sb.cpu_count, 0, "a negative count is not said");
	cr_expect_eq(sb.memory_mb, 0, "a string is not a number");
	cr_expect_str_eq(sb.owner, "", "a tag that is not a string is none");
}

Test(e2b_wire, the_minimal_sandbox)
{
	struct e2b_sandbox sb;
	memset(&sb, 0x55, sizeof sb); /* whatever was there goes */
	struct evo_error err = {0};
	cr_assert_eq(parse_sandbox("{\"sandboxID\":\"x\",\"envdVersion\":\"0.5.7\"}", &sb, &err), 0,
		     "%s", err.msg);
	cr_expect_str_eq(sb.id, "x");
	cr_expect_str_eq(sb.template_id, "");
	cr_expect_str_eq(sb.envd_token, "");
	cr_expect_str_eq(sb.domain, "");
	cr_expect_str_eq(sb.owner, "");
	cr_expect_str_eq(sb.spawn_key, "");
	cr_expect_str_eq(sb.agent, "");
	cr_expect(!sb.paused);
	cr_expect_eq(sb.started_ms, 0);
	cr_expect_eq(sb.end_ms, 0);
	cr_expect_eq(sb.cpu_count, 0);
	cr_expect_eq(sb.memory_mb, 0);
}

Test(e2b_wire, sandboxes_refused)
{
	char longest[PROVIDER_SANDBOX_ID_MAX + 40], too_long[PROVIDER_SANDBOX_ID_MAX + 40];
	snprintf(longest, sizeof longest, "{\"sandboxID\":\"%0*d\"}", PROVIDER_SANDBOX_ID_MAX - 1, 1);
	snprintf(too_long, sizeof too_long, "{\"sandboxID\":\"%0*d\"}", PROVIDER_SANDBOX_ID_MAX, 1);
	struct e2b_sandbox sb;
	struct evo_error err = {0};
	cr_assert_eq(parse_sandbox(longest, &sb, &err), 0, "%s", err.msg);
	cr_expect_eq(strlen(sb.id), PROVIDER_SANDBOX_ID_MAX - 1);

	static const struct {
		const char *json, *want;
	} cases[] = {
		{"[]", "not a JSON object"},
		{"[{\"sandboxID\":\"a\"}]", "not a JSON object"},
		{"\"sbx\"", "invalid JSON"}, /* neither object nor array */
		{"null", "invalid JSON"},
		{"{}", "sandboxID"},
		{"{\"templateID\":\"base\"}", "sandboxID"},
		{"{\"sandboxID\":\"\"}", "sandboxID"},
		{"{\"sandboxID\":5}", "sandboxID"},
		{"{\"sandboxID\":null}", "sandboxID"},
		{"{", "invalid JSON"},
		{"", "invalid JSON"},
		{"{\"sandboxID\":\"a\"} x", "invalid JSON"},
		{"{\"sandboxID\":\"a\",\"sandboxID\":\"b\"}", "invalid JSON"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		err = (struct evo_error){0};
		cr_expect_eq(parse_sandbox(cases[i].json, &sb, &err), -1, "accepted %s", cases[i].json);
		cr_expect_eq(err.kind, EVO_ERR_INVALID, "%s", cases[i].json);
		cr_expect(strstr(err.msg, cases[i].want) != NULL, "%s: want \"%s\" in \"%s\"",
			  cases[i].json, cases[i].want, err.msg);
	}
	err = (struct evo_error){0};
	cr_expect_eq(parse_sandbox(too_long, &sb, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_INVALID);
	cr_expect(strstr(err.msg, "sandboxID") != NULL, "%s", err.msg);
	/* The length is what is read, not up to a NUL. */
	const char two[] = "{\"sandboxID\":\"a\"}{\"sandboxID\":\"b\"}";
	cr_expect_eq(e2b_sandbox_parse(two, 17, &sb, &err), 0, "%s", err.msg);
	cr_expect_str_eq(sb.id, "a");
}

Test(e2b_wire, sandbox_lists)
{
	struct e2b_sandbox *list = NULL;
	size_t n = 99;
	struct evo_error err = {0};
	const char *two = "[{\"sandboxID\":\"a\",\"state\":\"running\"},"
			  "{\"sandboxID\":\"b\",\"state\":\"paused\",\"metadata\":{\"evoclawSpawn\":\"k\"}}]";
	cr_assert_eq(e2b_sandbox_list_parse(two, strlen(two), &list, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(list[0].id, "a");
	cr_expect(!list[0].paused);
	cr_expect_str_eq(list[1].id, "b");
	cr_expect(list[1].paused);
	cr_expect_str_eq(list[1].spawn_key, "k");
	free(list);

	list = NULL;
	cr_assert_eq(e2b_sandbox_list_parse("[]", 2, &list, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 0);
	cr_expect_not_null(list, "an empty list is still one to free");
	free(list);

	static const char *const refused[] = {
		"{\"sandboxID\":\"a\"}", "null", "[", "[{\"sandboxID\":\"a\"}, 5]",
		"[{\"sandboxID\":\"a\"}, {\"state\":\"running\"}]",
	};
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		err = (struct evo_error){0};
		struct e2b_sandbox *none = NULL;
		cr_expect_eq(e2b_sandbox_list_parse(refused[i], strlen(refused[i]), &none, &n, &err), -1,
			     "accepted %s", refused[i]);
		cr_expect_eq(err.kind, EVO_ERR_INVALID, "%s", refused[i]);
		cr_expect_null(none, "%s: nothing handed out", refused[i]);
	}
	err = (struct evo_error){0};
	cr_expect_eq(e2b_sandbox_list_parse("{}", 2, &list, &n, &err), -1);
	cr_expect(strstr(err.msg, "not a JSON array") != NULL, "%s", err.msg);
}

/* ---- error bodies ------------------------------------------------------- */

static const char *error_message(const char *body, size_t len, size_t size)
{
	static char out[512];
	memset(out, 'X', sizeof out);
	e2b_error_message(body, len, out, size);
	return out;
}

#define MESSAGE(body, size) error_message(body, strlen(body), size)

Test(e2b_wire, error_messages)
{
	cr_expect_str_eq(MESSAGE("{\"code\":404,\"message\":\"Sandbox sbx1 not found\"}", 256),
			 "Sandbox sbx1 not found");
	cr_expect_str_eq(MESSAGE("{\"error\":{\"code\":\"not_found\",\"message\":\"no such "
				 "process\"}}", 256),
			 "no such process");
	cr_expect_str_eq(MESSAGE("{\"code\":\"unavailable\",\"message\":\"m\"}", 256), "m");
	cr_expect_str_eq(MESSAGE("  Bad\tGateway \r\n", 256), "Bad Gateway");
	cr_expect_str_eq(MESSAGE("{\"code\":500}", 256), "{\"code\":500}",
			 "without a message the body is the message");
	cr_expect_str_eq(MESSAGE("{\"message\":7}", 256), "{\"message\":7}");
	cr_expect_str_eq(MESSAGE("", 256), "");
	/* Control characters and non-ASCII bytes become '?'; whitespace runs
	 * fold into one space, none at either end. */
	cr_expect_str_eq(MESSAGE("{\"message\":\"\\n line1 \\n\\n line2\\u0007\\u007f end \"}", 256),
			 "line1 line2?? end");
	cr_expect_str_eq(MESSAGE("caf\xc3\xa9\x1b[0m ok", 256), "caf???[0m ok");
	const char nul[] = {'a', '\0', 'b'};
	cr_expect_str_eq(error_message(nul, sizeof nul, 256), "a?b", "the length is what is read");
}

Test(e2b_wire, error_messages_cut_to_size)
{
	cr_expect_str_eq(MESSAGE("abcdefghij", 5), "abcd");
	cr_expect_str_eq(MESSAGE("{\"message\":\"abcdefghij\"}", 4), "abc");
	cr_expect_str_eq(MESSAGE("abcdefghij", 1), "");
	/* Cut where a space would be: the words stay apart. */
	cr_expect_str_eq(MESSAGE("ab cd", 4), "ab");
	cr_expect_str_eq(MESSAGE("ab cd", 5), "ab c");
	cr_expect_str_eq(MESSAGE("ab   cd", 6), "ab cd");
	/* size 0 writes nothing. */
	const char *out = MESSAGE("abc", 0);
	cr_expect_eq(out[0], 'X');
	char big[2000];
	memset(big, 'm', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	out = MESSAGE(big, 300);
	cr_expect_eq(strlen(out), 299);
}

/* ---- envd's process streams ---------------------------------------------- */

/* Every event as one line of text, so that sequences compare as strings. */
struct recorder {
	char log[4096];
	size_t events;
	size_t stop_at; /* answer stop_value at this event (1-based); 0 never */
	int stop_value;
};

static int record(void *ctx, const struct e2b_event *ev)
{
	struct recorder *r = ctx;
	size_t n = strlen(r->log);
	char *w = r->log + n;
	size_t room = sizeof r->log - n;
	switch (ev->kind) {
	case E2B_EVENT_START:
		snprintf(w, room, "start %u\n", ev->pid);
		break;
	case E2B_EVENT_DATA: {
		int k = snprintf(w, room, "data %s ", ev->is_stderr ? "err" : "out");
		for (size_t i = 0; i < ev->len && (size_t)k + 3 < room; i++)
			k += snprintf(w + k, room - (size_t)k, "%02x", ev->data[i]);
		snprintf(w + k, room - (size_t)k, "\n");
		break;
	}
	case E2B_EVENT_END:
		snprintf(w, room, "end %d %s [%s] [%s]\n", ev->exit_code,
			 ev->exited ? "exited" : "not-exited", ev->status, ev->message);
		break;
	case E2B_EVENT_KEEPALIVE:
		snprintf(w, room, "keepalive\n");
		break;
	case E2B_EVENT_STREAM_END:
		snprintf(w, room, "stream-end [%s] [%s]\n", ev->error_code, ev->message);
		break;
	}
	r->events++;
	return r->stop_at == r->events ? r->stop_value : 0;
}

static void envelope(struct evo_buf *b, uint8_t flags, const char *json)
{
	size_t len = strlen(json);
	uint8_t head[5] = {flags, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			   (uint8_t)len};
	evo_buf_append(b, head, sizeof head);
	evo_buf_append(b, json, len);
}

/* The byte-level example of spec §4.3, header bytes as the spec prints them. */
static const char spec_stream[] =
	"\x00\x00\x00\x00\x1e{\"event\":{\"start\":{\"pid\":42}}}"
	"\x00\x00\x00\x00\x24{\"event\":{\"data\":{\"stdout\":\"aGkK\"}}}"
	"\x00\x00\x00\x00\x1a{\"event\":{\"keepalive\":{}}}"
	"\x00\x00\x00\x00\x47{\"event\":{\"end\":{\"exitCode\":0,\"exited\":true,\"status\":\"exit "
	"status 0\"}}}"
	"\x02\x00\x00\x00\x02{}";
#define SPEC_STREAM_LEN (sizeof spec_stream - 1)

static const char spec_events[] = "start 42\n"
				  "data out 68690a\n"
				  "keepalive\n"
				  "end 0 exited [exit status 0] []\n"
				  "stream-end [] []\n";

/* Feed the pieces in turn; every call must take them all. */
static void feed_all(const uint8_t *data, const size_t *cuts, size_t ncuts, size_t len,
		     struct recorder *r)
{
	struct e2b_stream_decoder d = {0};
	struct evo_error err = {0};
	size_t at = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		cr_assert_eq(e2b_stream_feed(&d, data + at, end - at, record, r, &err), 0,
			     "piece %zu..%zu: %s", at, end, err.msg);
		at = end;
	}
	cr_expect(d.ended);
	cr_expect_eq(d.pending.len, 0, "nothing left over");
	e2b_stream_decoder_free(&d);
}

Test(e2b_wire, the_spec_stream_however_it_is_split)
{
	const uint8_t *bytes = (const uint8_t *)spec_stream;
	struct recorder whole = {0};
	feed_all(bytes, NULL, 0, SPEC_STREAM_LEN, &whole);
	cr_assert_str_eq(whole.log, spec_events);

	size_t cuts[SPEC_STREAM_LEN];
	for (size_t i = 0; i < SPEC_STREAM_LEN; i++)
		cuts[i] = i;
	struct recorder bytewise = {0};
	feed_all(bytes, cuts, SPEC_STREAM_LEN, SPEC_STREAM_LEN, &bytewise);
	cr_expect_str_eq(bytewise.log, spec_events, "one byte at a time");

	for (size_t at = 0; at <= SPEC_STREAM_LEN; at++) {
		struct recorder split = {0};
		feed_all(bytes, &at, 1, SPEC_STREAM_LEN, &split);
		cr_expect_str_eq(split.log, spec_events, "split at %zu", at);
	}

	/* Nothing is handed on before its envelope is whole. */
	struct e2b_stream_decoder d = {0};
	struct recorder partial = {0};
	struct evo_error err = {0};
	cr_assert_eq(e2b_stream_feed(&d, bytes, 5 + 0x1e - 1, record, &partial, &err), 0);
	cr_expect_eq(partial.events, 0);
	cr_assert_eq(e2b_stream_feed(&d, bytes + 5 + 0x1e - 1, 1, record, &partial, &err), 0);
	cr_expect_str_eq(partial.log, "start 42\n");
	cr_expect(!d.ended);
	e2b_stream_decoder_free(&d);
}

static int decode(const struct evo_buf *b, struct recorder *r, struct evo_error *err)
{
	struct e2b_stream_decoder d = {0};
	int rc = e2b_stream_feed(&d, b->data, b->len, record, r, err);
	e2b_stream_decoder_free(&d);
	return rc;
}

Test(e2b_wire, stream_events)
{
	struct evo_buf b = {0};
	envelope(&b, 0, "{\"event\":{\"data\":{\"stderr\":\"ZXJy\"}}}");
	envelope(&b, 0, "{\"event\":{\"data\":{\"pty\":\"aGk\"}},\"unknown\":1}");
	envelope(&b, 0, "{\"event\":{\"data\":{}}}");
	envelope(&b, 0, "{\"event\":{\"data\":{\"stdout\":\"\"}}}");
	envelope(&b, 0, "{\"event\":{\"start\":{\"pid\":-3}}}");
	envelope(&b, 0, "{\"event\":{\"end\":{\"exitCode\":-1,\"exited\":false,"
			"\"status\":\"signal: killed\"}}}");
	envelope(&b, 0, "{\"event\":{\"end\":{\"exit_code\":3,\"exited\":true,"
			"\"error\":\"boom\\n\\tand more\"}}}");
	envelope(&b, 2, "{\"metadata\":{\"k\":[\"v\"]}}");
	struct recorder r = {0};
	struct evo_error err = {0};
	cr_assert_eq(decode(&b, &r, &err), 0, "%s", err.msg);
	cr_expect_str_eq(r.log, "data err 657272\n"
				"data out 6869\n"
				"data out \n"
				"data out \n"
				"start 0\n"
				"end -1 not-exited [signal: killed] []\n"
				"end 3 exited [] [boom and more]\n"
				"stream-end [] []\n");
	evo_buf_free(&b);
}

Test(e2b_wire, stream_ending_in_an_error)
{
	struct evo_buf b = {0};
	envelope(&b, 2, "{\"error\":{\"code\":\"not_found\",\"message\":\"m\"}}");
	struct recorder r = {0};
	struct evo_error err = {0};
	cr_assert_eq(decode(&b, &r, &err), 0, "%s", err.msg);
	cr_expect_str_eq(r.log, "stream-end [not_found] [m]\n");
	evo_buf_free(&b);

	b = (struct evo_buf){0};
	envelope(&b, 2, "{\"error\":{\"message\":\"no code\"}}");
	r = (struct recorder){0};
	cr_assert_eq(decode(&b, &r, &err), 0, "%s", err.msg);
	cr_expect_str_eq(r.log, "stream-end [unknown] [no code]\n");
	evo_buf_free(&b);
}

static void expect_stream_refused(const struct evo_buf *b, const char *want, size_t events)
{
	struct recorder r = {0};
	struct evo_error err = {0};
	cr_expect_eq(decode(b, &r, &err), -1, "accepted (want \"%s\")", want);
	cr_expect_eq(err.kind, EVO_ERR_INVALID, "%s", want);
	cr_expect(strstr(err.msg, want) != NULL, "want \"%s\" in \"%s\"", want, err.msg);
	cr_expect_eq(r.events, events, "%s: %zu events before the error", want, r.events);
}

Test(e2b_wire, streams_refused)
{
	struct evo_buf b = {0};
	envelope(&b, 1, "{\"event\":{\"keepalive\":{}}}");
	expect_stream_refused(&b, "compressed", 0);
	evo_buf_free(&b);

	/* Too long is known from the header alone. */
	b = (struct evo_buf){0};
	uint32_t too_big = E2B_ENVELOPE_MAX + 1;
	uint8_t head[5] = {0, (uint8_t)(too_big >> 24), (uint8_t)(too_big >> 16),
			   (uint8_t)(too_big >> 8), (uint8_t)too_big};
	evo_buf_append(&b, head, sizeof head);
	expect_stream_refused(&b, "bytes", 0);
	evo_buf_free(&b);
	/* At the limit it is waited for. */
	struct e2b_stream_decoder d = {0};
	struct recorder r = {0};
	struct evo_error err = {0};
	uint8_t limit[5] = {0, (uint8_t)(E2B_ENVELOPE_MAX >> 24), (uint8_t)(E2B_ENVELOPE_MAX >> 16),
			    (uint8_t)(E2B_ENVELOPE_MAX >> 8), (uint8_t)E2B_ENVELOPE_MAX};
	cr_expect_eq(e2b_stream_feed(&d, limit, sizeof limit, record, &r, &err), 0, "%s", err.msg);
	e2b_stream_decoder_free(&d);

	static const char *const not_messages[] = {"[]", "5", "\"x\"", "{", "null", ""};
	for (size_t i = 0; i < sizeof not_messages / sizeof *not_messages; i++) {
		b = (struct evo_buf){0};
		envelope(&b, 0, not_messages[i]);
		expect_stream_refused(&b, "not a JSON object", 0);
		evo_buf_free(&b);
		b = (struct evo_buf){0};
		envelope(&b, 2, not_messages[i]);
		expect_stream_refused(&b, "not a JSON object", 0);
		evo_buf_free(&b);
	}

	b = (struct evo_buf){0};
	envelope(&b, 0, "{\"event\":{\"start\":{\"pid\":1}}}");
	envelope(&b, 0, "{\"event\":{\"data\":{\"stdout\":\"a!b=\"}}}");
	expect_stream_refused(&b, "base64", 1);
	evo_buf_free(&b);

	b = (struct evo_buf){0};
	envelope(&b, 0, "{\"result\":{}}");
	expect_stream_refused(&b, "without an event", 0);
	evo_buf_free(&b);

	b = (struct evo_buf){0};
	envelope(&b, 0, "{\"event\":{\"restart\":{}}}");
	expect_stream_refused(&b, "not known", 0);
	evo_buf_free(&b);
}

Test(e2b_wire, nothing_after_the_end)
{
	struct evo_buf b = {0};
	envelope(&b, 2, "{}");
	envelope(&b, 0, "{\"event\":{\"keepalive\":{}}}");
	expect_stream_refused(&b, "after its stream ended", 1);
	evo_buf_free(&b);

	b = (struct evo_buf){0};
	envelope(&b, 2, "{}");
	envelope(&b, 2, "{}");
	expect_stream_refused(&b, "after its stream ended", 1);
	evo_buf_free(&b);

	/* Even a byte of another envelope, in the same piece or a later one. */
	b = (struct evo_buf){0};
	envelope(&b, 2, "{}");
	evo_buf_append(&b, "\0", 1);
	expect_stream_refused(&b, "after its stream ended", 1);

	struct e2b_stream_decoder d = {0};
	struct recorder r = {0};
	struct evo_error err = {0};
	cr_assert_eq(e2b_stream_feed(&d, b.data, b.len - 1, record, &r, &err), 0, "%s", err.msg);
	cr_expect(d.ended);
	cr_expect_eq(e2b_stream_feed(&d, b.data + b.len - 1, 1, record, &r, &err), -1);
	cr_expect(strstr(err.msg, "after its stream ended") != NULL, "%s", err.msg);
	cr_expect_eq(r.events, 1);
	e2b_stream_decoder_free(&d);
	cr_expect(!d.ended, "a freed decoder starts again");
	evo_buf_free(&b);
}

Test(e2b_wire, the_callback_stops_the_feed)
{
	struct e2b_stream_decoder d = {0};
	struct recorder r = {.stop_at = 2, .stop_value = 7};
	struct evo_error err = {0};
	cr_expect_eq(e2b_stream_feed(&d, (const uint8_t *)spec_stream, SPEC_STREAM_LEN, record, &r,
				     &err),
		     7);
	cr_expect_eq(r.events, 2, "nothing is handed on after the callback said stop");
	cr_expect_str_eq(r.log, "start 42\ndata out 68690a\n");
	e2b_stream_decoder_free(&d);

	/* The end-stream envelope's answer too. */
	d = (struct e2b_stream_decoder){0};
	r = (struct recorder){.stop_at = 5, .stop_value = -5};
	cr_expect_eq(e2b_stream_feed(&d, (const uint8_t *)spec_stream, SPEC_STREAM_LEN, record, &r,
				     &err),
		     -5);
	cr_expect_eq(r.events, 5);
	e2b_stream_decoder_free(&d);
}

/* ---- request bodies ------------------------------------------------------- */

Test(e2b_wire, the_create_body)
{
	char *env[] = {"FOO=bar", "EQ=a=b", "EMPTY=", "NOEQUALS", "=nokey", NULL};
	struct e2b_create_request req = {.template_id = "evoclaw-agent",
					 .timeout_sec = 120,
					 .env = env,
					 .owner = "orch-1",
					 .spawn_key = "sp-9",
					 .agent = "ag-3"};
	char *text = e2b_create_body(&req);
	json_error_t jerr;
	json_t *body = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	cr_assert_not_null(body, "%s: %s", text, jerr.text);
	cr_expect_str_eq(json_string_value(json_object_get(body, "templateID")), "evoclaw-agent");
	cr_expect(json_is_integer(json_object_get(body, "timeout")));
	cr_expect_eq(json_integer_value(json_object_get(body, "timeout")), 120);
	cr_expect(json_is_true(json_object_get(body, "secure")));
	json_t *envs = json_object_get(body, "envVars");
	cr_expect_eq(json_object_size(envs), 3, "%s", text);
	cr_expect_str_eq(json_string_value(json_object_get(envs, "FOO")), "bar");
	cr_expect_str_eq(json_string_value(json_object_get(envs, "EQ")), "a=b");
	cr_expect_str_eq(json_string_value(json_object_get(envs, "EMPTY")), "");
	json_t *meta = json_object_get(body, "metadata");
	cr_expect_eq(json_object_size(meta), 3, "%s", text);
	cr_expect_str_eq(json_string_value(json_object_get(meta, E2B_META_OWNER)), "orch-1");
	cr_expect_str_eq(json_string_value(json_object_get(meta, E2B_META_SPAWN)), "sp-9");
	cr_expect_str_eq(json_string_value(json_object_get(meta, E2B_META_AGENT)), "ag-3");
	cr_expect_null(strchr(text, '\n'), "compact");
	json_decref(body);
	free(text);

	/* No env, no tags: empty objects, still sent. */
	struct e2b_create_request bare = {.template_id = "base", .timeout_sec = 0};
	text = e2b_create_body(&bare);
	body = json_loads(text, 0, &jerr);
	cr_assert_not_null(body, "%s", text);
	cr_expect(json_is_object(json_object_get(body, "envVars")));
	cr_expect_eq(json_object_size(json_object_get(body, "envVars")), 0);
	cr_expect(json_is_object(json_object_get(body, "metadata")));
	cr_expect_eq(json_object_size(json_object_get(body, "metadata")), 0);
	cr_expect_str_eq(json_string_value(json_object_get(body, "templateID")), "base");
	json_decref(body);
	free(text);
}

/* The one envelope of a request: its flags are 0 and its length is the
 * rest; the JSON message, parsed. */
static json_t *single_envelope(const struct evo_buf *b)
{
	cr_assert_geq(b->len, 5);
	cr_expect_eq(b->data[0], 0, "flags");
	uint32_t len = (uint32_t)b->data[1] << 24 | (uint32_t)b->data[2] << 16 |
		       (uint32_t)b->data[3] << 8 | b->data[4];
	cr_assert_eq(len, b->len - 5, "the length is the payload's, big-endian");
	json_error_t jerr;
	json_t *msg = json_loadb((const char *)b->data + 5, len, JSON_REJECT_DUPLICATES, &jerr);
	cr_assert_not_null(msg, "%s", jerr.text);
	return msg;
}

Test(e2b_wire, the_start_envelope)
{
	char *argv[] = {"/bin/sh", "-c", "echo \"hi\" there", NULL};
	char *env[] = {"A=1", "B=x=y", NULL};
	struct evo_buf b = {0};
	e2b_start_envelope(&b, argv, env, "evo-run-1");
	json_t *msg = single_envelope(&b);
	json_t *process = json_object_get(msg, "process");
	cr_expect_str_eq(json_string_value(json_object_get(process, "cmd")), "/bin/sh");
	json_t *args = json_object_get(process, "args");
	cr_assert_eq(json_array_size(args), 2);
	cr_expect_str_eq(json_string_value(json_array_get(args, 0)), "-c");
	cr_expect_str_eq(json_string_value(json_array_get(args, 1)), "echo \"hi\" there");
	json_t *envs = json_object_get(process, "envs");
	cr_expect_eq(json_object_size(envs), 2);
	cr_expect_str_eq(json_string_value(json_object_get(envs, "B")), "x=y");
	cr_expect_str_eq(json_string_value(json_object_get(msg, "tag")), "evo-run-1");
	cr_expect(json_is_false(json_object_get(msg, "stdin")), "stdin closed");
	json_decref(msg);

	/* What envd (ours, routes_envd.c) reads of it. */
	const uint8_t *payload;
	size_t payload_len;
	struct evo_error err = {0};
	cr_assert_eq(connect_envelope_single(b.data, b.len, &payload, &payload_len, &err), 0, "%s",
		     err.msg);
	struct envd_request r;
	cr_assert_eq(envd_request_parse(ENVD_PROCESS_START, (const char *)payload, payload_len, &r,
					&err),
		     0, "%s", err.msg);
	cr_expect_str_eq(r.cmd, "/bin/sh");
	cr_expect_eq(r.nargs, 2);
	cr_expect_str_eq(r.tag, "evo-run-1");
	cr_expect(r.stdin_given && !r.stdin_open);
	envd_request_free(&r);
	evo_buf_free(&b);

	/* A lone command has no args; no env is an empty map. */
	char *lone[] = {"true", NULL};
	b = (struct evo_buf){0};
	e2b_start_envelope(&b, lone, NULL, "t");
	msg = single_envelope(&b);
	process = json_object_get(msg, "process");
	cr_expect_str_eq(json_string_value(json_object_get(process, "cmd")), "true");
	cr_expect(json_is_array(json_object_get(process, "args")));
	cr_expect_eq(json_array_size(json_object_get(process, "args")), 0);
	cr_expect_eq(json_object_size(json_object_get(process, "envs")), 0);
	json_decref(msg);
	evo_buf_free(&b);
}

Test(e2b_wire, the_connect_envelope)
{
	struct evo_buf b = {0};
	e2b_connect_envelope(&b, "evo-run-1");
	json_t *msg = single_envelope(&b);
	cr_expect_eq(json_object_size(msg), 1);
	json_t *process = json_object_get(msg, "process");
	cr_expect_eq(json_object_size(process), 1, "a selector by tag alone");
	cr_expect_str_eq(json_string_value(json_object_get(process, "tag")), "evo-run-1");
	json_decref(msg);

	const uint8_t *payload;
	size_t payload_len;
	struct evo_error err = {0};
	cr_assert_eq(connect_envelope_single(b.data, b.len, &payload, &payload_len, &err), 0, "%s",
		     err.msg);
	struct envd_request r;
	cr_assert_eq(envd_request_parse(ENVD_PROCESS_CONNECT, (const char *)payload, payload_len, &r,
					&err),
		     0, "%s", err.msg);
	cr_expect_eq(r.pid, 0);
	cr_expect_str_eq(r.selector_tag, "evo-run-1");
	envd_request_free(&r);
	evo_buf_free(&b);
}

/* ---- the metadata filter ---------------------------------------------------- */

/* Decode a one-pair query value as spec §3.3 says a server does: decode
 * the parameter, split on '&' and '=', decode key and value twice. */
static bool spec_decode(const char *query, char *key, char *value, size_t size)
{
	char param[2048];
	snprintf(param, sizeof param, "%s", query);
	if (strchr(param, '&') != NULL || !text_percent_decode(param))
		return false;
	if (strchr(param, '&') != NULL) /* one pair only */
		return false;
	char *eq = strchr(param, '=');
	if (eq == NULL || strchr(eq + 1, '=') != NULL)
		return false;
	*eq = '\0';
	snprintf(key, size, "%s", param);
	snprintf(value, size, "%s", eq + 1);
	return text_percent_decode(key) && text_percent_decode(key) && text_percent_decode(value) &&
	       text_percent_decode(value);
}

Test(e2b_wire, the_metadata_query_as_the_sdk_encodes_it)
{
	char q[560];
	e2b_metadata_query("a b", "c&d=e", q, sizeof q);
	/* Spec §3.3's example, {'a b':'c&d=e'}, without its second pair. */
	cr_expect_str_eq(q, "a%252520b%3Dc%252526d%25253De");
	char key[256], value[256];
	cr_assert(spec_decode(q, key, value, sizeof key), "%s", q);
	cr_expect_str_eq(key, "a b");
	cr_expect_str_eq(value, "c&d=e");

	e2b_metadata_query(E2B_META_SPAWN, "sp-0123_abc.~", q, sizeof q);
	cr_expect_str_eq(q, "evoclawSpawn%3Dsp-0123_abc.~");
}

Test(e2b_wire, the_metadata_query_round_trips)
{
	static const struct {
		const char *key, *value;
	} pairs[] = {
		{"a b", "c&d=e"}, {"100%", "50%"}, {"k", "%41"}, {"k", "%2520"},
		{"x+y", "1+1=2"}, {"path", "/a?b#c"}, {"caf\xc3\xa9", "\xe2\x82\xac 5"},
		{E2B_META_OWNER, "orch-1"},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
		char q[560], key[256], value[256];
		e2b_metadata_query(pairs[i].key, pairs[i].value, q, sizeof q);
		/* A query value holds no character a URL would read otherwise. */
		cr_expect_eq(strcspn(q, "&=+# ?/"), strlen(q), "%s", q);
		cr_expect(spec_decode(q, key, value, sizeof key), "%s", q);
		cr_expect_str_eq(key, pairs[i].key, "%s", q);
		cr_expect_str_eq(value, pairs[i].value, "%s", q);

		/* And our own server's filter (routes_e2b.c), given the
		 * parameter as libmicrohttpd decodes it. */
		char param[560];
		snprintf(param, sizeof param, "%s", q);
		cr_assert(text_percent_decode(param));
		struct evo_error err = {0};
		json_t *want = request_e2b_metadata_filter(param, &err);
		cr_assert_not_null(want, "%s: %s", q, err.msg);
		cr_expect_eq(json_object_size(want), 1, "%s", q);
		cr_expect_str_eq(json_string_value(json_object_get(want, pairs[i].key)),
				 pairs[i].value, "%s", q);
		json_decref(want);
	}
}

/* ---- RFC 3339 ---------------------------------------------------------------- */

Test(e2b_wire, rfc3339_timestamps)
{
	static const struct {
		const char *text;
		int64_t ms;
	} good[] = {
		{"2024-01-01T00:00:00Z", 1704067200000LL},
		{"1970-01-01T00:00:00Z", 0},
		{"2024-01-01T00:00:00.5Z", 1704067200500LL},
		{"2024-01-01T00:00:00.123456Z", 1704067200123LL},
		{"2024-01-01T00:00:00.999999999Z", 1704067200999LL},
		{"2024-01-01T00:00:00.07Z", 1704067200070LL},
		{"2024-01-01T02:00:00+02:00", 1704067200000LL},
		{"2023-12-31T18:30:00-05:30", 1704067200000LL},
		{"2024-01-01t00:00:00z", 1704067200000LL},
		{"2024-01-01 00:00:00Z", 1704067200000LL},
		{"2024-02-29T12:34:56.789Z", 1709210096789LL},
		{"2026-11-22T05:00:00.123Z", 1795323600123LL},
	};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		int64_t ms = -1;
		cr_expect_eq(rfc3339_parse_ms(good[i].text, &ms), 0, "refused %s", good[i].text);
		cr_expect_eq(ms, good[i].ms, "%s: %lld", good[i].text, (long long)ms);
	}

	static const char *const bad[] = {
		"",
		"garbage",
		"2024-01-01T00:00:00",
		"2024-01-01T00:00:00Zjunk",
		"2024-01-01T00:00:00+02:00 ",
		"2024-13-01T00:00:00Z",
		"2024-00-01T00:00:00Z",
		"2024-01-32T00:00:00Z",
		"2024-01-01T24:00:00Z",
		"2024-01-01T00:60:00Z",
		"2024-01-01T00:00:00.Z",
		"2024-01-01T00:00:00+2:00",
		"2024-01-01T00:00:00+02",
		"2024-01-01T00:00:00+24:00",
		"2024-01-01X00:00:00Z",
		"2024-01-01",
		"2024-1-1T0:0:0Z",
		"2024-01-01T-1:00:00Z",
		"2024-01-01T00:00:-1Z",
		" 2024-01-01T00:00:00Z",
		"+2024-01-01T00:00:00Z",
		"2024-01-01T00:00:00+-1:00",
		"1969-12-31T23:59:59Z",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int64_t ms = 12345;
		cr_expect_eq(rfc3339_parse_ms(bad[i], &ms), -1, "accepted \"%s\"", bad[i]);
		cr_expect_eq(ms, 12345, "\"%s\" left *ms alone", bad[i]);
	}
	int64_t ms;
	cr_expect_eq(rfc3339_parse_ms(NULL, &ms), -1);
}
