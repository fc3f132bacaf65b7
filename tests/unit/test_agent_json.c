/* The agent object written as text: byte for byte what json_dumps makes of
 * the jansson tree (api_agent_json) with the flags http_json_text uses, for
 * agents and stored JSON of every awkward kind. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/agent_json.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t rng_below(size_t n)
{
	return (size_t)(rng() % n);
}

static void expect_same_as_jansson(const struct agent *a)
{
	json_t *tree = api_agent_json(a);
	char *want = json_dumps(tree, DUMP_FLAGS);
	json_decref(tree);
	cr_assert_not_null(want);
	struct evo_buf got = {0};
	api_agent_json_write(&got, a);
	size_t want_len = strlen(want);
	cr_assert(got.len == want_len && memcmp(got.data, want, want_len) == 0,
		  "written differs from jansson's\n   got: %.*s\n  want: %s", (int)got.len,
		  (const char *)got.data, want);
	free(want);
	evo_buf_free(&got);
}

/* ---- random content ----------------------------------------------------- */

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Text with what needs escaping, '/', DEL and UTF-8 of every length; with
 * broken UTF-8 too when invalid is set. Often empty, sometimes filling
 * cap. */
static void random_text(char *out, size_t cap, bool invalid)
{
	size_t max = cap - 1, want;
	switch (rng_below(6)) {
	case 0: want = 0; break;
	case 1: want = max; break;
	default: want = rng_below(max < 40 ? max + 1 : 40);
	}
	size_t len = 0;
	while (len < want) {
		char piece[4];
		size_t n = 1;
		switch (rng_below(invalid ? 16 : 15)) {
		case 0: piece[0] = '"'; break;
		case 1: piece[0] = '\\'; break;
		case 2: piece[0] = '/'; break;
		case 3: piece[0] = (char)(1 + rng_below(0x1F)); break;
		case 4: piece[0] = 0x7F; break;
		case 5: n = put_utf8(piece, 0x80 + (uint32_t)rng_below(0x800 - 0x80)); break;
		case 6: {
			uint32_t cp = 0x800 + (uint32_t)rng_below(0x10000 - 0x800);
			n = put_utf8(piece, cp >= 0xD800 && cp <= 0xDFFF ? cp - 0x1000 : cp);
			break;
		}
		case 7: n = put_utf8(piece, 0x10000 + (uint32_t)rng_below(0x110000 - 0x10000)); break;
		case 15: piece[0] = (char)(0x80 + rng_below(0x80)); break;
		default: piece[0] = (char)(0x20 + rng_below(0x5F)); break;
		}
		if (len + n > max)
			break;
		memcpy(out + len, piece, n);
		len += n;
	}
	out[len] = '\0';
}

/* Any magnitude, either sign. */
static int64_t random_signed(void)
{
	int64_t v = (int64_t)(rng() >> rng_below(64));
	return rng_below(2) && v != INT64_MIN ? -v : v;
}

static double random_real(void)
{
	switch (rng_below(7)) {
	case 0: return (double)rng_below(1000) / 1000; /* a genome's "risk": 0.123 */
	case 1: return (double)(int64_t)rng() / (double)(1 + rng_below(1000000));
	case 2: return (double)(int64_t)(rng() >> rng_below(64)); /* integral */
	case 3: return rng_below(2) ? 1e20 : -0.0;
	case 4: return (rng_below(2) ? 1.0 : -1.0) * (double)(1 + rng_below(9)) *
		       (rng_below(2) ? 1e-7 : 1e15) * (double)(1 + rng_below(100));
	default: {
		uint64_t bits = rng();
		double d;
		memcpy(&d, &bits, sizeof d);
		return isfinite(d) ? d : 0.5;
	}
	}
}

static json_int_t random_integer(void)
{
	switch (rng_below(4)) {
	case 0: return (json_int_t)rng_below(100);
	case 1: return -(json_int_t)rng_below(100000);
	case 2: return random_signed();
	default: return rng_below(2) ? INT64_MAX : INT64_MIN;
	}
}

static json_t *random_value(int depth)
{
	char text[48];
	switch (rng_below(depth < 4 ? 10 : 6)) {
	case 0: random_text(text, sizeof text, false); return json_string(text);
	case 1: return json_integer(random_integer());
	case 2: return json_real(random_real());
	case 3: return json_boolean(rng_below(2));
	case 4: return json_null();
	case 5: random_text(text, 4, false); return json_string(text);
	case 6:
	case 7: {
		json_t *o = json_object();
		for (size_t i = rng_below(6); i > 0; i--) {
			random_text(text, rng_below(3) ? 8 : sizeof text, false);
			json_object_set_new(o, text, random_value(depth + 1));
		}
		return o;
	}
	default: {
		json_t *arr = json_array();
		for (size_t i = rng_below(6); i > 0; i--)
			json_array_append_new(arr, random_value(depth + 1));
		return arr;
	}
	}
}

/* Stored JSON that is not what jansson writes, or not JSON, or at the
 * edges of what is copied as it stands. */
static const char *const odd_json[] = {
	"", " ", "null", "42", "\"s\"", "true", "[]", "{}", " [ 1 , 2 ] ", "\t{\"a\" : [true,false,null]}\r\n",
	"[1,]", "{\"a\":1,}", "[1] x", "[1]\n", "{\"a\":1}{}", "[1]\v", "\v[1]", "[", "{", "{\"a\"", "{\"a\":",
	"[truex]", "[tru]", "[nul", "[nullx]", "[\"abc", "[\"abc\\", "[1a]", "[1.5.3]", "[--1]",
	"[\"a\\/b\"]", "[\"\\u00e9\"]", "[\"\\u001f\"]", "[\"\\u001F\"]", "[\"\\u0000\"]", "[\"\\u0008\"]",
	"[\"\\u000A\"]", "[\"\\u007F\"]", "[\"\\u0020\"]", "[\"\\u00\"]", "[\"\\u\"]", "[\"\\x\"]",
	"[\"\\b\\f\\n\\r\\t\\\"\\\\\"]", "[\"\\ud83d\\ude00\"]", "[\"\\ud83d\"]", "[\"\x01\"]", "[\"\x7f\"]",
	"[\"\xff\"]", "[\"\xc3\xa9\"]", "[\"\xc3\"]", "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]",
	"[\"\xc0\x80\"]", "[\"\xe0\x80\x80\"]", "[\"\xf0\x80\x80\x80\"]", "[\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"]",
	"[-0]", "[0]", "[-0.0]", "[0.0]", "[01]", "[1.]", "[.5]", "[+1]", "[1e5]", "[1E+05]", "[1e-05]",
	"[1e]", "[1e+]", "[2.5E-3]", "[1e-400]", "[1e400]", "[-1e400]", "[123456789012345678]",
	"[-123456789012345678]", "[1234567890123456789]", "[9223372036854775807]", "[9223372036854775808]",
	"[-9223372036854775808]", "[-9223372036854775809]", "[0.10000000000000001]", "[0.30000000000000004]",
	"[100000000000000000000.0]", "[1.5e300]", "[4.9406564584124654e-324]", "[1e15]", "[1e14]",
	"[123456789012345.0]", "[0.000001]", "[1.00000000000000000000000000000000000000000000000000000000000000001]",
	"{\"a\":1,\"a\":2}", "{\"b\":1,\"a\":2,\"b\":3}", "{\"a\":{\"x\":1,\"x\":2}}", "{\"k\\u0000\":1}",
	"{\"\":1}", "{\"a\\\"\":1,\"a\":2}", "{\"a\":1,\"A\":2}", "{\"b\":[1,{\"c\":null}],\"a\":\"\"}",
	"{\"a\":{\"b\":{\"c\":{\"d\":[[[[1.25]]]]}}}}", "{\"x\":1} ", "{1:2}", "{\"a\" 1}", "{\"a\":1 \"b\":2}",
	"[\"a\",\"b\"]", "[\"python3\",\"-m\",\"agent\",\"--type\",\"trader\"]",
	"{\"lookback\":42,\"risk\":0.123,\"threshold_bps\":7}", "{\"EXCHANGE\":\"hyperliquid\",\"SYMBOL\":\"BTC-PERP\"}",
};

/* Texts made here: deep nesting, many keys. */
static char *made_json(size_t which)
{
	struct evo_buf b = {0};
	if (which < 8) {
		/* 14..17 levels of arrays or of objects around the edge of
		 * what is copied, then far past it and past jansson's 2048. */
		static const size_t depths[] = {15, 16, 17, 2049};
		size_t depth = depths[which % 4];
		bool objects = which >= 4;
		for (size_t i = 0; i < depth; i++)
			evo_buf_append(&b, objects ? "{\"k\":" : "[", objects ? 5 : 1);
		evo_buf_append(&b, "0.5", 3);
		for (size_t i = 0; i < depth; i++)
			evo_buf_append(&b, objects ? "}" : "]", 1);
	} else {
		/* 31..34 and 40 keys, in order, out of order, repeated. */
		static const size_t counts[] = {31, 32, 33, 34, 40};
		size_t keys = counts[which % 5];
		unsigned kind = (unsigned)(which / 5 % 4);
		evo_buf_append(&b, "{", 1);
		for (size_t i = 0; i < keys; i++) {
			char member[32];
			size_t k = kind == 0 ? i : keys - i;
			if (kind == 3 && i == keys - 1)
				k = keys / 2;
			if (kind == 2 && i == keys - 1)
				k = 0;
			snprintf(member, sizeof member, "%s\"k%03zu\":%zu", i ? "," : "", k, i);
			evo_buf_append(&b, member, strlen(member));
		}
		evo_buf_append(&b, "}", 1);
	}
	evo_buf_append(&b, "", 1);
	return (char *)b.data;
}
#define MADE_JSON 28

/* A byte or two of a valid text changed, put in or taken out. */
static char *mutated(const char *text)
{
	static const char alphabet[] = "{}[],:\"\\ \t\n0123456789eE.+-tfnulr/ux";
	size_t len = strlen(text);
	char *out = malloc(len + 8);
	memcpy(out, text, len + 1);
	for (size_t edits = 1 + rng_below(2); edits > 0; edits--) {
		size_t at = rng_below(len + 1);
		char c = alphabet[rng_below(sizeof alphabet - 1)];
		switch (rng_below(3)) {
		case 0: /* insert */
			memmove(out + at + 1, out + at, len - at + 1);
			out[at] = c;
			len++;
			break;
		case 1: /* delete */
			if (at < len) {
				memmove(out + at, out + at + 1, len - at);
				len--;
			}
			break;
		default:
			if (at < len)
				out[at] = c;
		}
	}
	return out;
}

enum column { CAPABILITIES, GENOME, ENVIRONMENT, COMMAND };

/* A column as the store would hold it, or NULL, or something odd. */
static char *random_column(enum column which)
{
	size_t pick = rng_below(20);
	if (pick == 0)
		return NULL;
	if (pick == 1)
		return strdup(odd_json[rng_below(sizeof odd_json / sizeof *odd_json)]);
	if (pick == 2)
		return made_json(rng_below(MADE_JSON));
	json_t *v;
	size_t flags = JSON_COMPACT;
	char text[48];
	switch (which) {
	case GENOME:
	case ENVIRONMENT:
		v = json_object();
		for (size_t i = rng_below(6); i > 0; i--) {
			random_text(text, rng_below(3) ? 12 : sizeof text, false);
			if (which == ENVIRONMENT) {
				char value[48];
				random_text(value, sizeof value, false);
				json_object_set_new(v, text, json_string(value));
			} else {
				json_object_set_new(v, text, random_value(1));
			}
		}
		flags |= JSON_SORT_KEYS;
		break;
	case COMMAND:
		v = json_array();
		for (size_t i = rng_below(6); i > 0; i--) {
			random_text(text, sizeof text, false);
			json_array_append_new(v, json_string(text));
		}
		break;
	default:
		v = random_value(rng_below(4));
		if (!json_is_array(v) && !json_is_object(v)) {
			json_t *arr = json_array();
			json_array_append_new(arr, v);
			v = arr;
		}
	}
	/* As the store keeps them: 17 digits for reals. */
	char *dumped = json_dumps(v, flags);
	json_decref(v);
	if (pick == 3) {
		char *m = mutated(dumped);
		free(dumped);
		return m;
	}
	char *copy = strdup(dumped);
	free(dumped);
	return copy;
}

static int64_t random_time(void)
{
	switch (rng_below(5)) {
	case 0: return 0;
	case 1: return -(int64_t)rng_below(1000000);
	case 2: return 1 + (int64_t)rng_below(999);
	/* Up to the year 9999, as far as agent_format_time goes. */
	default: return 1 + (int64_t)(rng() % 253402300799999ull);
	}
}

static int64_t random_int64(void)
{
	switch (rng_below(4)) {
	case 0: return 0;
	case 1: return (int64_t)rng_below(1000000);
	case 2: return rng_below(2) ? INT64_MAX : INT64_MIN;
	default: return (int64_t)rng();
	}
}

static void random_agent(struct agent *a)
{
	memset(a, 0, sizeof *a);
	bool invalid = rng_below(8) == 0;
	random_text(a->id, sizeof a->id, invalid);
	random_text(a->name, sizeof a->name, invalid);
	random_text(a->tenant, sizeof a->tenant, invalid);
	random_text(a->agent_type, sizeof a->agent_type, invalid);
	random_text(a->template_name, sizeof a->template_name, invalid);
	random_text(a->provider, sizeof a->provider, invalid);
	random_text(a->sandbox_id, sizeof a->sandbox_id, invalid);
	a->status = (enum agent_status)rng_below(AGENT_FAILED + 2);
	a->stop_reason = (enum agent_stop_reason)rng_below(AGENT_STOP_ORCHESTRATOR_LOST + 2);
	random_text(a->task_description, sizeof a->task_description, invalid);
	a->environment_json = random_column(ENVIRONMENT);
	a->capabilities_json = random_column(CAPABILITIES);
	a->genome_json = random_column(GENOME);
	a->command_json = random_column(COMMAND);
	random_text(a->mode, sizeof a->mode, invalid);
	a->timeout_sec = rng_below(3) ? (uint32_t)rng_below(3600) : UINT32_MAX;
	a->keep_alive = rng_below(2);
	a->tokens_used = random_int64();
	a->cost = random_int64();
	a->execution_time_ms = random_int64();
	a->has_exit_code = rng_below(2);
	a->exit_code = rng_below(2) ? (int32_t)rng_below(256) : (int32_t)rng();
	random_text(a->error_message, sizeof a->error_message, invalid);
	a->created_at_ms = random_time();
	a->started_at_ms = random_time();
	a->completed_at_ms = rng_below(2) ? 0 : random_time();
	a->deadline_ms = random_time();
	a->fitness = rng_below(2) ? 0 : (double)(int64_t)rng() / 1e6;
	a->last_seen_ms = rng_below(2) ? 0 : random_time();
	a->metrics_json = rng_below(2) ? NULL : strdup("{\"pnl\":-12.5,\"trades\":3}");
	a->stale = rng_below(2);
}

/* ---- tests -------------------------------------------------------------- */

/* An agent as bench/http.sh stores them, and the text in full. */
Test(agent_json, typical_agent)
{
	struct agent a = {
		.id = "agt_0123456789abcdef",
		.name = "trader-4",
		.agent_type = "trader",
		.template_name = "python",
		.provider = "local",
		.sandbox_id = "sb7",
		.status = AGENT_COMPLETED,
		.stop_reason = AGENT_STOP_EXITED,
		.task_description = "watch funding rates on ETH, SOL and ARB; alert on sign flips",
		.mode = "on-demand",
		.timeout_sec = 600,
		.tokens_used = 1234,
		.cost = 123500,
		.execution_time_ms = 5000,
		.has_exit_code = true,
		.created_at_ms = 1795000000000,
		.started_at_ms = 1795000000012,
		.completed_at_ms = 1795000005012,
		.deadline_ms = 1795000600012,
	};
	a.environment_json = strdup("{\"EXCHANGE\":\"hyperliquid\",\"SYMBOL\":\"BTC-PERP\"}");
	a.capabilities_json = strdup("[\"market-data\",\"paper-trading\"]");
	a.genome_json = strdup("{\"lookback\":42,\"risk\":0.10000000000000001,\"threshold_bps\":7}");
	a.command_json = strdup("[\"python3\",\"-m\",\"agent\"]");
	struct evo_buf got = {0};
	api_agent_json_write(&got, &a);
	evo_buf_append(&got, "", 1);
	cr_expect_str_eq(
		(const char *)got.data,
		"{\"id\":\"agt_0123456789abcdef\",\"name\":\"trader-4\",\"agent_type\":\"trader\",\"tenant\":null,"
		"\"template\":\"python\",\"provider\":\"local\",\"sandbox_id\":\"sb7\",\"status\":\"completed\","
		"\"stop_reason\":\"exited\",\"task_description\":\"watch funding rates on ETH, SOL and ARB; "
		"alert on sign flips\",\"capabilities\":[\"market-data\",\"paper-trading\"],"
		"\"genome\":{\"lookback\":42,\"risk\":0.1,\"threshold_bps\":7},\"mode\":\"on-demand\","
		"\"timeout_sec\":600,\"keep_alive\":false,\"tokens_used\":1234,\"cost_usd\":0.1235,"
		"\"execution_time_ms\":5000,\"exit_code\":0,\"error_message\":null,"
		"\"created_at\":\"2026-11-18T11:06:40.000Z\",\"started_at\":\"2026-11-18T11:06:40.012Z\","
		"\"completed_at\":\"2026-11-18T11:06:45.012Z\",\"deadline_at\":null,"
		"\"environment_keys\":[\"EXCHANGE\",\"SYMBOL\"],\"command\":[\"python3\",\"-m\",\"agent\"],"
		"\"fitness\":0.0,\"last_seen_at\":null,\"metrics\":null,\"stale\":false}");
	expect_same_as_jansson(&a);
	evo_buf_free(&got);
	agent_clear(&a);
}

/* jansson leaves out a member whose text is not UTF-8 (json_string gives
 * NULL): so must the text, commas included. */
Test(agent_json, text_that_is_not_utf8_is_left_out)
{
	struct agent a = {.id = "\xff", .name = "n\xc3", .mode = "m"};
	struct evo_buf got = {0};
	api_agent_json_write(&got, &a);
	evo_buf_append(&got, "", 1);
	cr_expect(strncmp((const char *)got.data, "{\"agent_type\":\"\",", 17) == 0, "%s", got.data);
	expect_same_as_jansson(&a);
	evo_buf_free(&got);
}

/* Every two-byte sequence from a non-ASCII first byte, and three- and
 * four-byte ones around the limits jansson checks. */
Test(agent_json, utf8_accepted_as_jansson_does)
{
	static const unsigned char edges[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0};
	struct agent a = {.id = "a"};
	for (unsigned b1 = 0x80; b1 <= 0xFF; b1++) {
		for (unsigned b2 = 1; b2 <= 0xFF; b2++) {
			snprintf(a.name, sizeof a.name, "x%c%cy", b1, b2);
			expect_same_as_jansson(&a);
		}
		if (b1 < 0xE0)
			continue;
		for (size_t i = 0; i < sizeof edges; i++)
			for (size_t j = 0; j < sizeof edges; j++)
				for (size_t k = 0; k < sizeof edges; k++) {
					char name[] = {(char)b1, (char)edges[i], (char)edges[j], (char)edges[k], 'z', 0};
					memcpy(a.name, name, sizeof name);
					expect_same_as_jansson(&a);
				}
	}
}

/* Each odd text in each of the four columns. */
Test(agent_json, odd_stored_json)
{
	struct agent a = {.id = "a"};
	size_t odd = sizeof odd_json / sizeof *odd_json;
	for (size_t i = 0; i < odd + MADE_JSON; i++) {
		for (int column = 0; column < 4; column++) {
			char *text = i < odd ? strdup(odd_json[i]) : made_json(i - odd);
			char **slot = column == CAPABILITIES ? &a.capabilities_json
				      : column == GENOME     ? &a.genome_json
				      : column == ENVIRONMENT ? &a.environment_json
							      : &a.command_json;
			*slot = text;
			expect_same_as_jansson(&a);
			agent_clear(&a);
		}
	}
}

Test(agent_json, random_agents)
{
	struct agent *a = malloc(sizeof *a);
	for (int i = 0; i < 20000; i++) {
		random_agent(a);
		expect_same_as_jansson(a);
		agent_clear(a);
	}
	free(a);
}

/* Costs are shown in dollars at 15 digits; written without printf below
 * a billion. */
Test(agent_json, costs)
{
	struct agent a = {.id = "a"};
	for (int64_t c = -3000; c <= 3000; c++) {
		a.cost = c;
		expect_same_as_jansson(&a);
	}
	for (int64_t p = 1;; p *= 10) {
		for (int64_t d = -2; d <= 2; d++) {
			a.cost = p + d;
			expect_same_as_jansson(&a);
			a.cost = -(p + d);
			expect_same_as_jansson(&a);
			a.cost = p * 7 + d;
			expect_same_as_jansson(&a);
		}
		if (p > INT64_MAX / 10)
			break;
	}
	static const int64_t costs[] = {999999999999999, -999999999999999, 1000000000000000,
					-1000000000000000, 123456789012345, INT64_MAX, INT64_MIN,
					INT64_MIN + 1, 123456789012345678};
	for (size_t i = 0; i < sizeof costs / sizeof *costs; i++) {
		a.cost = costs[i];
		expect_same_as_jansson(&a);
	}
	for (int i = 0; i < 50000; i++) {
		a.cost = random_signed();
		expect_same_as_jansson(&a);
	}
}

/* Times are agent_format_time's text, written without gmtime_r. */
Test(agent_json, times)
{
	struct agent a = {.id = "a"};
	static const int64_t edges[] = {1, 999, 1000, 86399999, 86400000, 951782399999, 951782400000,
					951868800000, 4107542400000, 253402300799999, 253402300800000};
	for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
		a.created_at_ms = edges[i];
		expect_same_as_jansson(&a);
	}
	/* Each year's turn, and its end of February. */
	int64_t day = 0; /* of January 1st */
	for (int year = 1970; year <= 9999; year++) {
		for (int64_t d = day - 3; d <= day + 62; d += 1 + (d - day) / 4) {
			a.created_at_ms = d * 86400000 + (int64_t)rng_below(86400000);
			if (a.created_at_ms <= 0 || a.created_at_ms > 253402300799999)
				continue;
			expect_same_as_jansson(&a);
		}
		day += year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 366 : 365;
	}
	for (int i = 0; i < 50000; i++) {
		a.created_at_ms = 1 + (int64_t)(rng() % 253402300799999ull);
		expect_same_as_jansson(&a);
	}
}

/* The page of GET /api/agents, as json_pack and json_dumps made it. */
Test(agent_json, page)
{
	struct agent *list = calloc(60, sizeof *list);
	for (int round = 0; round < 40; round++) {
		size_t n = round == 0 ? 0 : rng_below(61);
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			random_agent(&list[i]);
			json_array_append_new(arr, api_agent_json(&list[i]));
		}
		int64_t total = round == 1 ? INT64_MAX : (int64_t)rng_below(100000);
		long long limit = 1 + (long long)rng_below(1000);
		long long offset = round == 2 ? INT64_MAX / 2 : (long long)rng_below(100000);
		json_t *page = json_pack("{s:o, s:I, s:I, s:I}", "agents", arr, "total",
					 (json_int_t)total, "limit", (json_int_t)limit, "offset",
					 (json_int_t)offset);
		char *want = json_dumps(page, DUMP_FLAGS);
		json_decref(page);
		struct evo_buf got = {0};
		api_agent_page_write(&got, list, n, total, limit, offset);
		size_t want_len = strlen(want);
		cr_assert(got.len == want_len && memcmp(got.data, want, want_len) == 0,
			  "page differs\n   got: %.*s\n  want: %s", (int)got.len, (const char *)got.data,
			  want);
		free(want);
		evo_buf_free(&got);
		for (size_t i = 0; i < n; i++)
			agent_clear(&list[i]);
	}
	free(list);
}
