/* The agent object of docs/api.md, shared by both surfaces: as a jansson
 * tree, and written straight as text (pages of agents, where building and
 * dumping the trees was most of a request's CPU). The text follows what
 * jansson 2.14's dump.c and load.c do, rule by rule; each rule is noted
 * where it is copied. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/agent_json.h"

/* ---- the tree ----------------------------------------------------------- */

json_t *api_json_time(int64_t ms)
{
	if (ms <= 0)
		return json_null();
	char text[32];
	agent_format_time(ms, text);
	return json_string(text);
}

static json_t *text_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *parsed_or(const char *json, json_t *fallback)
{
	json_t *v = json ? json_loads(json, 0, NULL) : NULL;
	if (v == NULL)
		return fallback;
	json_decref(fallback);
	return v;
}

/* Keys only: values may be secrets (API keys, passwords). */
static json_t *env_keys(const char *env_json)
{
	json_t *keys = json_array();
	json_t *env = env_json ? json_loads(env_json, 0, NULL) : NULL;
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v)
		json_array_append_new(keys, json_string(k));
	json_decref(env);
	return keys;
}

json_t *api_agent_json(const struct agent *a)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(a->id));
	json_object_set_new(o, "name", json_string(a->name));
	json_object_set_new(o, "agent_type", json_string(a->agent_type));
	json_object_set_new(o, "tenant", text_or_null(a->tenant));
	json_object_set_new(o, "template", json_string(a->template_name));
	json_object_set_new(o, "provider", json_string(a->provider));
	json_object_set_new(o, "sandbox_id", text_or_null(a->sandbox_id));
	json_object_set_new(o, "status", json_string(agent_status_name(a->status)));
	json_object_set_new(o, "stop_reason", a->stop_reason == AGENT_STOP_NONE
						      ? json_null()
						      : json_string(agent_stop_reason_name(a->stop_reason)));
	json_object_set_new(o, "task_description", json_string(a->task_description));
	json_object_set_new(o, "capabilities", parsed_or(a->capabilities_json, json_array()));
	json_object_set_new(o, "genome", parsed_or(a->genome_json, json_null()));
	json_object_set_new(o, "mode", json_string(a->mode));
	json_object_set_new(o, "timeout_sec", json_integer(a->timeout_sec));
	json_object_set_new(o, "keep_alive", json_boolean(a->keep_alive));
	json_object_set_new(o, "tokens_used", json_integer(a->tokens_used));
	json_object_set_new(o, "cost_usd", json_real((double)a->cost / USD_MICROS_PER_USD));
	json_object_set_new(o, "execution_time_ms", json_integer(a->execution_time_ms));
	json_object_set_new(o, "exit_code", a->has_exit_code ? json_integer(a->exit_code) : json_null());
	json_object_set_new(o, "error_message", text_or_null(a->error_message));
	json_object_set_new(o, "created_at", api_json_time(a->created_at_ms));
	json_object_set_new(o, "started_at", api_json_time(a->started_at_ms));
	json_object_set_new(o, "completed_at", api_json_time(a->completed_at_ms));
	json_object_set_new(o, "deadline_at", a->completed_at_ms ? json_null() : api_json_time(a->deadline_ms));
	json_object_set_new(o, "environment_keys", env_keys(a->environment_json));
	json_object_set_new(o, "command", parsed_or(a->command_json, json_null()));
	json_object_set_new(o, "fitness", json_real(a->fitness));
	json_object_set_new(o, "last_seen_at", api_json_time(a->last_seen_ms));
	json_object_set_new(o, "metrics", parsed_or(a->metrics_json, json_null()));
	json_object_set_new(o, "stale", json_boolean(a->stale));
	return o;
}

/* ---- writing text ------------------------------------------------------- */

static inline void put(struct evo_buf *out, const void *data, size_t len)
{
	if (out->cap - out->len < len)
		evo_buf_reserve(out, len);
	memcpy(out->data + out->len, data, len);
	out->len += len;
}

static inline void put_char(struct evo_buf *out, char c)
{
	if (out->cap == out->len)
		evo_buf_reserve(out, 1);
	out->data[out->len++] = (uint8_t)c;
}

static void put_str(struct evo_buf *out, const char *s)
{
	put(out, s, strlen(s));
}

static void put_int(struct evo_buf *out, long long v)
{
	char text[24];
	char *p = text + sizeof text;
	/* Unsigned, so that -LLONG_MIN does not overflow. */
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	put(out, p, (size_t)(text + sizeof text - p));
}

/* jansson's jsonp_dtostr at JSON_REAL_PRECISION(15): "%.15g"; ".0" added
 * when that would read back as an integer; the exponent without its '+'
 * and leading zeros (1e+20 -> 1e20, 1e-06 -> 1e-6). Finite values only:
 * json_real refuses the others. The process runs in the C locale, so
 * jansson's swap of the locale's decimal point has nothing to do. */
static void put_real(struct evo_buf *out, double v)
{
	char text[40]; /* "%.15g" needs at most 22 ("-1.23456789012345e-308") */
	int n = snprintf(text, sizeof text, "%.15g", v);
	if (n < 0 || (size_t)n >= sizeof text - 2)
		abort(); /* can't happen for a finite double */
	char *e = memchr(text, 'e', (size_t)n);
	if (e == NULL && memchr(text, '.', (size_t)n) == NULL) {
		text[n++] = '.';
		text[n++] = '0';
	}
	if (e) {
		char *digits = e + 1;
		if (*digits == '-')
			digits++;
		char *end = e + 2; /* past the sign */
		while (*end == '0')
			end++;
		memmove(digits, end, (size_t)(text + n - end));
		n -= (int)(end - digits);
	}
	put(out, text, (size_t)n);
}

/* v as n decimal digits, zeros in front. */
static void put_digits(char *at, unsigned v, int n)
{
	while (n-- > 0) {
		at[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* put_real(micros / 1e6) without printf, for costs under a billion
 * dollars. Such a cost has at most 15 digits, so "%.15g" of the quotient
 * (correctly rounded, and DBL_DIG is 15) is its exact decimal: %f style
 * from 1e-4 up, trailing zeros dropped; below 1e-4 an exponent, which
 * put_real writes as e-5 or e-6. */
static void put_dollars(struct evo_buf *out, int64_t micros)
{
	if (micros <= -1000000000000000 || micros >= 1000000000000000) {
		put_real(out, (double)micros / USD_MICROS_PER_USD);
		return;
	}
	uint64_t u = micros < 0 ? 0 - (uint64_t)micros : (uint64_t)micros;
	char text[32], *p = text;
	if (micros < 0)
		*p++ = '-';
	if (u == 0) {
		put(out, "0.0", 3);
		return;
	}
	if (u < 10) {
		*p++ = (char)('0' + u);
		memcpy(p, "e-6", 3);
		p += 3;
	} else if (u < 100) {
		*p++ = (char)('0' + u / 10);
		if (u % 10) {
			*p++ = '.';
			*p++ = (char)('0' + u % 10);
		}
		memcpy(p, "e-5", 3);
		p += 3;
	} else {
		uint64_t whole = u / 1000000;
		unsigned frac = (unsigned)(u % 1000000);
		char digits[20];
		int n = 0;
		do
			digits[n++] = (char)('0' + whole % 10);
		while (whole /= 10);
		while (n > 0)
			*p++ = digits[--n];
		*p++ = '.';
		if (frac == 0) {
			*p++ = '0';
		} else {
			int len = 6;
			while (frac % 10 == 0) {
				frac /= 10;
				len--;
			}
			put_digits(p, frac, len);
			p += len;
		}
	}
	put(out, text, (size_t)(p - text));
}

/* The length of the UTF-8 sequence starting at s (its first byte >= 0x80),
 * or 0 when jansson's utf8_check_first/utf8_check_full refuse it: a stray
 * continuation byte, an overlong form, a surrogate, anything past
 * U+10FFFF, a sequence cut short. s is NUL-terminated, and NUL is no
 * continuation byte, so this never reads past the end. */
static size_t utf8_sequence(const unsigned char *s)
{
	unsigned char c = s[0];
	if (c < 0xC2 || c > 0xF4)
		return 0;
	size_t n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	uint32_t cp = c & (0x7Fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000))
		return 0;
	return n;
}

/* jansson's escape for a byte dump_string does not write as it is: '"',
 * '\\' and control characters. */
static void put_escape(struct evo_buf *out, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char seq[6] = {'\\', 0};
	size_t len = 2;
	switch (c) {
	case '"': seq[1] = '"'; break;
	case '\\': seq[1] = '\\'; break;
	case '\b': seq[1] = 'b'; break;
	case '\f': seq[1] = 'f'; break;
	case '\n': seq[1] = 'n'; break;
	case '\r': seq[1] = 'r'; break;
	case '\t': seq[1] = 't'; break;
	default:
		memcpy(seq + 1, "u00", 3);
		seq[4] = hex[c >> 4];
		seq[5] = hex[c & 0xF];
		len = 6;
	}
	put(out, seq, len);
}

/* s as a JSON string, as json_dumps writes json_string(s): '/' and
 * non-ASCII as they are. false, and nothing written, when s is not valid
 * UTF-8 (json_string then returns NULL). */
static bool put_string(struct evo_buf *out, const char *s)
{
	size_t mark = out->len;
	const unsigned char *p = (const unsigned char *)s, *plain = p;
	put_char(out, '"');
	for (;;) {
		unsigned char c = *p;
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0x80) {
			size_t n = utf8_sequence(p);
			if (n == 0) {
				out->len = mark;
				return false;
			}
			p += n;
			continue;
		}
		put(out, plain, (size_t)(p - plain));
		if (c == '\0')
			break;
		put_escape(out, c);
		plain = ++p;
	}
	put_char(out, '"');
	return true;
}

/* ---- stored JSON columns ------------------------------------------------
 *
 * The columns hold JSON that jansson wrote, and what the API shows is that
 * text loaded and dumped again. Most of it can be copied as it stands.
 * Reals cannot: stored at 17 digits, shown at 15 (0.10000000000000001 is
 * 0.1); they are read with strtod and written by put_real, as jansson
 * does. Whatever else would not come back the same sends the whole column
 * through json_loads and json_dumps instead:
 *
 *   - strings not escaped the way dump_string escapes (\" \\ \b \f \n \r
 *     \t, \u00XX in capitals for other control characters, nothing else)
 *     or not valid UTF-8: "\/" and "\u00e9" read back to other bytes, the
 *     rest is an error;
 *   - integers of more than 18 digits (they may not fit a json_int_t: an
 *     error), and -0 (it reads back as 0);
 *   - a repeated key (jansson keeps its first place with its last value);
 *   - nesting deeper than JSON_SCAN_DEPTH, and objects of more than
 *     JSON_SCAN_KEYS keys out of order, for want of room to check them.
 *
 * Whitespace (the four characters jansson skips) is dropped, as a dump
 * drops it. Like json_loads without flags, only an object or an array is a
 * document, followed by nothing but whitespace. */

#define JSON_SCAN_DEPTH 16
#define JSON_SCAN_KEYS 32

struct json_scan {
	const unsigned char *p;
	struct evo_buf *out; /* NULL: check only */
};

/* The keys of one object, to find a repeated one. Keys that arrive in
 * increasing order are distinct without comparing them all, so only an
 * object out of order is limited to JSON_SCAN_KEYS keys. */
struct key_set {
	const unsigned char *key[JSON_SCAN_KEYS];
	size_t len[JSON_SCAN_KEYS];
	size_t n;
	const unsigned char *last;
	size_t last_len;
	bool unordered;
};

static int key_compare(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : (alen > blen) - (alen < blen);
}

/* false when the key was seen before, or can't be told apart for want of
 * room. Keys are compared as written: the only escaping accepted is the
 * one jansson writes, so equal strings are equal text. */
static bool key_set_add(struct key_set *ks, const unsigned char *key, size_t len)
{
	if (ks->n > 0 && key_compare(ks->last, ks->last_len, key, len) >= 0)
		ks->unordered = true;
	if (ks->unordered) {
		if (ks->n > JSON_SCAN_KEYS)
			return false;
		for (size_t i = 0; i < ks->n; i++)
			if (key_compare(ks->key[i], ks->len[i], key, len) == 0)
				return false;
	}
	if (ks->n < JSON_SCAN_KEYS) {
		ks->key[ks->n] = key;
		ks->len[ks->n] = len;
	}
	ks->n++;
	ks->last = key;
	ks->last_len = len;
	return true;
}

static void scan_emit(struct json_scan *s, const void *data, size_t len)
{
	if (s->out)
		put(s->out, data, len);
}

static void scan_skip_space(struct json_scan *s)
{
	while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')
		s->p++;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'F');
}

/* The length of an escape at p as dump_string writes one, or 0. */
static size_t canonical_escape(const unsigned char *p)
{
	if (p[1] != '\0' && strchr("\"\\bfnrt", p[1]))
		return 2;
	if (p[1] != 'u' || p[2] != '0' || p[3] != '0' || !(p[4] == '0' || p[4] == '1') ||
	    !is_upper_hex(p[5]))
		return 0;
	unsigned v = (unsigned)(p[4] - '0') << 4 | (unsigned)(is_digit(p[5]) ? p[5] - '0' : p[5] - 'A' + 10);
	/* \u0000 is refused on loading; the others have short forms. */
	if (v == 0 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t')
		return 0;
	return 6;
}

/* A string (s->p at its '"'), copied. */
static bool scan_string(struct json_scan *s)
{
	const unsigned char *p = s->p + 1;
	for (;;) {
		unsigned char c = *p;
		if (c == '"')
			break;
		size_t n = 1;
		if (c < 0x20) /* a raw control character, or the end of the text */
			return false;
		if (c == '\\')
			n = canonical_escape(p);
		else if (c >= 0x80)
			n = utf8_sequence(p);
		if (n == 0)
			return false;
		p += n;
	}
	p++;
	scan_emit(s, s->p, (size_t)(p - s->p));
	s->p = p;
	return true;
}

/* A number as jansson's lexer reads one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
 * a real if it has a fraction or an exponent. */
static bool scan_number(struct json_scan *s)
{
	const unsigned char *start = s->p, *p = start;
	bool real = false;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (is_digit(*p))
		while (is_digit(*p))
			p++;
	else
		return false;
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return false;
		while (is_digit(*p))
			p++;
		real = true;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!is_digit(*p))
			return false;
		while (is_digit(*p))
			p++;
		real = true;
	}
	size_t len = (size_t)(p - start);
	if (!real) {
		size_t digits = len - (*start == '-');
		if ((*start == '-' && start[1] == '0') || digits > 18)
			return false;
		scan_emit(s, start, len);
	} else {
		char text[64];
		if (len >= sizeof text)
			return false;
		memcpy(text, start, len);
		text[len] = '\0';
		errno = 0;
		double v = strtod(text, NULL);
		/* jsonp_strtod: overflow is an error, underflow is not. */
		if ((v == HUGE_VAL || v == -HUGE_VAL) && errno == ERANGE)
			return false;
		if (s->out)
			put_real(s->out, v);
	}
	s->p = p;
	return true;
}

static bool scan_value(struct json_scan *s, int depth);

/* The container's closing bracket, if it is next: emitted and passed. */
static bool scan_close(struct json_scan *s, char close)
{
	if (*s->p != (unsigned char)close)
		return false;
	scan_emit(s, &close, 1);
	s->p++;
	return true;
}

/* After a member of an object or array: 1 when the container closed, -1
 * for the comma before the next member, 0 for anything else (invalid). */
static int scan_after_member(struct json_scan *s, char close)
{
	scan_skip_space(s);
	if (scan_close(s, close))
		return 1;
	if (*s->p != ',')
		return 0;
	scan_emit(s, ",", 1);
	s->p++;
	scan_skip_space(s);
	return -1;
}

static bool scan_object(struct json_scan *s, int depth)
{
	struct key_set keys = {.n = 0};
	scan_emit(s, "{", 1);
	s->p++;
	scan_skip_space(s);
	if (scan_close(s, '}'))
		return true;
	for (;;) {
		const unsigned char *key = s->p;
		if (*key != '"' || !scan_string(s) || !key_set_add(&keys, key, (size_t)(s->p - key)))
			return false;
		scan_skip_space(s);
		if (*s->p != ':')
			return false;
		scan_emit(s, ":", 1);
		s->p++;
		scan_skip_space(s);
		if (!scan_value(s, depth + 1))
			return false;
		int next = scan_after_member(s, '}');
		if (next >= 0)
			return next;
	}
}

static bool scan_array(struct json_scan *s, int depth)
{
	scan_emit(s, "[", 1);
	s->p++;
	scan_skip_space(s);
	if (scan_close(s, ']'))
		return true;
	for (;;) {
		if (!scan_value(s, depth + 1))
			return false;
		int next = scan_after_member(s, ']');
		if (next >= 0)
			return next;
	}
}

/* A literal ends at a delimiter; what follows is checked by the caller
 * ("truex" is an invalid token to jansson, and here). */
static bool scan_literal(struct json_scan *s, const char *word)
{
	size_t len = strlen(word);
	if (strncmp((const char *)s->p, word, len) != 0)
		return false;
	scan_emit(s, word, len);
	s->p += len;
	return true;
}

static bool scan_value(struct json_scan *s, int depth)
{
	switch (*s->p) {
	case '{':
		return depth < JSON_SCAN_DEPTH && scan_object(s, depth);
	case '[':
		return depth < JSON_SCAN_DEPTH && scan_array(s, depth);
	case '"':
		return scan_string(s);
	case 't':
		return scan_literal(s, "true");
	case 'f':
		return scan_literal(s, "false");
	case 'n':
		return scan_literal(s, "null");
	default:
		return scan_number(s);
	}
}

static bool scan_at_end(struct json_scan *s)
{
	scan_skip_space(s);
	return *s->p == '\0';
}

/* A column the slow way: the text loaded and dumped, or fallback when it
 * does not load. */
static void put_json_loaded(struct evo_buf *out, const char *text, const char *fallback)
{
	json_t *v = json_loads(text, 0, NULL);
	char *dumped = v ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	json_decref(v);
	put_str(out, dumped ? dumped : fallback);
	free(dumped);
}

/* A JSON column as the API shows it: fallback when NULL or not JSON. */
static void put_json_column(struct evo_buf *out, const char *text, const char *fallback)
{
	if (text == NULL) {
		put_str(out, fallback);
		return;
	}
	size_t mark = out->len;
	struct json_scan s = {.p = (const unsigned char *)text, .out = out};
	scan_skip_space(&s);
	if ((*s.p == '{' || *s.p == '[') && scan_value(&s, 0) && scan_at_end(&s))
		return;
	out->len = mark;
	put_json_loaded(out, text, fallback);
}

/* The keys of the environment's object, in its order; values are checked
 * (a document that does not load shows no keys) but never written. */
static bool scan_env_keys(struct json_scan *s, struct evo_buf *out)
{
	struct key_set keys = {.n = 0};
	s->out = NULL;
	s->p++;
	scan_skip_space(s);
	if (*s->p == '}') {
		s->p++;
		return scan_at_end(s);
	}
	for (;;) {
		const unsigned char *key = s->p;
		if (*key != '"' || !scan_string(s) || !key_set_add(&keys, key, (size_t)(s->p - key)))
			return false;
		if (keys.n > 1)
			put_char(out, ',');
		put(out, key, (size_t)(s->p - key));
		scan_skip_space(s);
		if (*s->p != ':')
			return false;
		s->p++;
		scan_skip_space(s);
		if (!scan_value(s, 1))
			return false;
		scan_skip_space(s);
		if (*s->p == '}') {
			s->p++;
			return scan_at_end(s);
		}
		if (*s->p != ',')
			return false;
		s->p++;
		scan_skip_space(s);
	}
}

static void put_env_keys(struct evo_buf *out, const char *env_json)
{
	put_char(out, '[');
	struct json_scan s = {.p = (const unsigned char *)(env_json ? env_json : "")};
	scan_skip_space(&s);
	/* Anything but an object, loading or not, has no keys. */
	if (*s.p == '{') {
		size_t mark = out->len;
		if (!scan_env_keys(&s, out)) {
			out->len = mark;
			json_t *env = json_loads(env_json, 0, NULL);
			const char *k;
			json_t *v;
			bool first = true;
			json_object_foreach(env, k, v) {
				size_t before = out->len;
				if (!first)
					put_char(out, ',');
				if (put_string(out, k))
					first = false;
				else
					out->len = before;
			}
			json_decref(env);
		}
	}
	put_char(out, ']');
}

/* ---- the agent object --------------------------------------------------- */

/* Members of an object being written. A member whose value jansson would
 * not make (json_string of text that is not UTF-8 gives NULL, and
 * json_object_set_new then sets nothing) is left out, comma and all. */
struct object_writer {
	struct evo_buf *out;
	bool any;
	size_t mark;
};

/* ,"key": (one reserve: this runs 26 times an agent) */
static inline void member_key(struct object_writer *w, const char *key)
{
	struct evo_buf *out = w->out;
	size_t len = strlen(key);
	if (out->cap - out->len < len + 4)
		evo_buf_reserve(out, len + 4);
	w->mark = out->len;
	uint8_t *p = out->data + out->len;
	if (w->any)
		*p++ = ',';
	*p++ = '"';
	memcpy(p, key, len);
	p += len;
	*p++ = '"';
	*p++ = ':';
	out->len = (size_t)(p - out->data);
	w->any = true;
}

static void member_string(struct object_writer *w, const char *key, const char *s)
{
	bool had_any = w->any;
	member_key(w, key);
	if (!put_string(w->out, s)) {
		w->out->len = w->mark;
		w->any = had_any;
	}
}

static void member_literal(struct object_writer *w, const char *key, const char *literal)
{
	member_key(w, key);
	put_str(w->out, literal);
}

static void member_text_or_null(struct object_writer *w, const char *key, const char *s)
{
	if (s && *s)
		member_string(w, key, s);
	else
		member_literal(w, key, "null");
}

static void member_int(struct object_writer *w, const char *key, long long v)
{
	member_key(w, key);
	put_int(w->out, v);
}

/* The days since 1970-01-01 as a date (days >= 0): Howard Hinnant's
 * civil_from_days, over 400-year eras of 146,097 days. */
static void civil_from_days(int64_t days, unsigned *year, unsigned *month, unsigned *day)
{
	int64_t z = days + 719468; /* from 0000-03-01 */
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (unsigned)(era * 400 + yoe + (*month <= 2));
}

/* The last millisecond agent_format_time writes as four digits of year. */
#define TIME_MS_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

/* agent_format_time(ms) as a JSON string, 0 < ms <= TIME_MS_MAX. Written
 * here without gmtime_r and strftime, which took a quarter of a page's
 * time. */
static void put_time(struct evo_buf *out, int64_t ms)
{
	unsigned year, month, day;
	civil_from_days(ms / 86400000, &year, &month, &day);
	unsigned in_day = (unsigned)(ms % 86400000);
	char text[] = "\"YYYY-MM-DDTHH:MM:SS.mmmZ\"";
	put_digits(text + 1, year, 4);
	put_digits(text + 6, month, 2);
	put_digits(text + 9, day, 2);
	put_digits(text + 12, in_day / 3600000, 2);
	put_digits(text + 15, in_day / 60000 % 60, 2);
	put_digits(text + 18, in_day / 1000 % 60, 2);
	put_digits(text + 21, in_day % 1000, 3);
	put(out, text, sizeof text - 1);
}

static void member_time(struct object_writer *w, const char *key, int64_t ms)
{
	if (ms <= 0) {
		member_literal(w, key, "null");
	} else if (ms > TIME_MS_MAX) {
		char text[32];
		agent_format_time(ms, text);
		member_string(w, key, text);
	} else {
		member_key(w, key);
		put_time(w->out, ms);
	}
}

void api_agent_json_write(struct evo_buf *out, const struct agent *a)
{
	struct object_writer w = {.out = out};
	put_char(out, '{');
	member_string(&w, "id", a->id);
	member_string(&w, "name", a->name);
	member_string(&w, "agent_type", a->agent_type);
	member_text_or_null(&w, "tenant", a->tenant);
	member_string(&w, "template", a->template_name);
	member_string(&w, "provider", a->provider);
	member_text_or_null(&w, "sandbox_id", a->sandbox_id);
	member_string(&w, "status", agent_status_name(a->status));
	if (a->stop_reason == AGENT_STOP_NONE)
		member_literal(&w, "stop_reason", "null");
	else
		member_string(&w, "stop_reason", agent_stop_reason_name(a->stop_reason));
	member_string(&w, "task_description", a->task_description);
	member_key(&w, "capabilities");
	put_json_column(out, a->capabilities_json, "[]");
	member_key(&w, "genome");
	put_json_column(out, a->genome_json, "null");
	member_string(&w, "mode", a->mode);
	member_int(&w, "timeout_sec", a->timeout_sec);
	member_literal(&w, "keep_alive", a->keep_alive ? "true" : "false");
	member_int(&w, "tokens_used", a->tokens_used);
	member_key(&w, "cost_usd");
	put_dollars(out, a->cost);
	member_int(&w, "execution_time_ms", a->execution_time_ms);
	if (a->has_exit_code)
		member_int(&w, "exit_code", a->exit_code);
	else
		member_literal(&w, "exit_code", "null");
	member_text_or_null(&w, "error_message", a->error_message);
	member_time(&w, "created_at", a->created_at_ms);
	member_time(&w, "started_at", a->started_at_ms);
	member_time(&w, "completed_at", a->completed_at_ms);
	if (a->completed_at_ms)
		member_literal(&w, "deadline_at", "null");
	else
		member_time(&w, "deadline_at", a->deadline_ms);
	member_key(&w, "environment_keys");
	put_env_keys(out, a->environment_json);
	member_key(&w, "command");
	put_json_column(out, a->command_json, "null");
	if (isfinite(a->fitness)) { /* jansson leaves out what is not a number */
		member_key(&w, "fitness");
		put_real(out, a->fitness);
	}
	member_time(&w, "last_seen_at", a->last_seen_ms);
	member_key(&w, "metrics");
	put_json_column(out, a->metrics_json, "null");
	member_literal(&w, "stale", a->stale ? "true" : "false");
	put_char(out, '}');
}

void api_agent_page_write(struct evo_buf *out, const struct agent *list, size_t n, int64_t total,
			  long long limit, long long offset)
{
	/* Most agents take 600-800 bytes: one allocation for a page, mostly. */
	evo_buf_reserve(out, 64 + n * 1024);
	put_str(out, "{\"agents\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_char(out, ',');
		api_agent_json_write(out, &list[i]);
	}
	put_str(out, "],\"total\":");
	put_int(out, total);
	put_str(out, ",\"limit\":");
	put_int(out, limit);
	put_str(out, ",\"offset\":");
	put_int(out, offset);
	put_char(out, '}');
}
