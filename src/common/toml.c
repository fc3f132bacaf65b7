#include "common/text.h"
#include "common/toml.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"

/* What TOML needs to know about a table or array it made, which jansson
 * values cannot carry: it lives beside the tree, keyed by the value's
 * address. A value not in the map is closed to further keys and headers:
 * an inline table, or an array written as a value. */
enum node_kind {
	NODE_CLOSED = 0,
	NODE_IMPLICIT,    /* named only as a parent in a header: a of [a.b] */
	NODE_DEFINED,     /* opened by its own header, or an [[array]] element */
	NODE_DOTTED,      /* made by a dotted key: a of a.b = 1 */
	NODE_TABLE_ARRAY, /* the array behind an [[array]] header */
};

struct node_slot {
	const json_t *node;
	enum node_kind kind;
};

/* Open addressing; cap is 0 or a power of two, at most half full. */
struct node_map {
	struct node_slot *slots;
	size_t cap, count;
};

static size_t node_hash(const json_t *node, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)node * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 29) & (cap - 1);
}

static struct node_slot *node_slot(const struct node_map *m, const json_t *node)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = node_hash(node, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].node == node || m->slots[i].node == NULL)
			return &m->slots[i];
	}
}

static enum node_kind node_kind(const struct node_map *m, const json_t *node)
{
	struct node_slot *s = node_slot(m, node);
	return s && s->node == node ? s->kind : NODE_CLOSED;
}

static void node_set(struct node_map *m, const json_t *node, enum node_kind kind)
{
	if ((m->count + 1) * 2 > m->cap) {
		struct node_map bigger = {
			.slots = xcalloc(m->cap ? m->cap * 2 : 64, sizeof *m->slots),
			.cap = m->cap ? m->cap * 2 : 64,
		};
		for (size_t i = 0; i < m->cap; i++) {
			if (m->slots[i].node)
				*node_slot(&bigger, m->slots[i].node) = m->slots[i];
		}
		bigger.count = m->count;
		free(m->slots);
		*m = bigger;
	}
	struct node_slot *s = node_slot(m, node);
	if (s->node == NULL)
		m->count++;
	s->node = node;
	s->kind = kind;
}

/* A growing, always NUL-terminated byte string. */
struct strbuf {
	char *data;
	size_t len, cap;
};

static void strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void strbuf_addc(struct strbuf *b, char c)
{
	strbuf_add(b, &c, 1);
}

static void strbuf_release(struct strbuf *b)
{
	free(b->data);
}
#define _cleanup_strbuf_ __attribute__((cleanup(strbuf_release)))

/* A key as written, split at its dots, with where each part starts. */
struct key {
	int count;
	char *part[TOML_MAX_DEPTH];
	size_t at[TOML_MAX_DEPTH];
};

static void key_release(struct key *k)
{
	for (int i = 0; i < k->count; i++)
		free(k->part[i]);
	k->count = 0;
}
#define _cleanup_key_ __attribute__((cleanup(key_release)))

struct parser {
	const char *text;
	size_t len, pos;
	const char *source;
	struct evo_error *err;
	json_t *root;
	json_t *current; /* the table key/value lines go to */
	struct node_map nodes;
	/* How many JSON containers enclose the value at pos, the root
	 * included, and how many enclose the current table's values. Capped
	 * at TOML_MAX_DEPTH so that no input nests deeper than that. */
	int depth, table_depth;
	char here[32]; /* what_is_here()'s answer */
};

/* jansson fails only when memory is short (everything handed to it is
 * checked first), and evoclaw aborts then, as xmalloc does. */
static void out_of_memory(void)
{
	static const char msg[] = "evoclaw: out of memory\n";
	(void)!write(2, msg, sizeof msg - 1);
	abort();
}

static json_t *json_checked(json_t *v)
{
	if (v == NULL)
		out_of_memory();
	return v;
}

static void table_set(json_t *table, const char *key, json_t *value)
{
	if (json_object_set_new(table, key, value) < 0)
		out_of_memory();
}

static size_t utf8_lead_length(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* Length of the well-formed UTF-8 sequence at s (n bytes available), or
 * 0: no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	}
	return len;
}

static int fail_at(struct parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct parser *p, size_t at, const char *fmt, ...)
{
	size_t line = 1, col = 1;
	for (size_t i = 0; i < at && i < p->len; i++) {
		unsigned char c = (unsigned char)p->text[i];
		if (c == '\n') {
			line++;
			col = 1;
		} else if ((c & 0xC0) != 0x80) {
			col++;
		}
	}
	char what[EVO_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return evo_error_set(p->err, EVO_ERR_INVALID, 0, "%s:%zu:%zu: %s", p->source, line, col,
			     what);
}

static int peek_at(const struct parser *p, size_t offset)
{
	return p->len - p->pos > offset ? (unsigned char)p->text[p->pos + offset] : -1;
}

static int peek(const struct parser *p)
{
	return peek_at(p, 0);
}

static bool starts_with(const struct parser *p, const char *s)
{
	size_t n = strlen(s);
	return p->len - p->pos >= n && memcmp(p->text + p->pos, s, n) == 0;
}

static bool is_control(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F;
}

/* For "found ..." in messages: the character at pos, quoted. */
static const char *what_is_here(struct parser *p)
{
	int c = peek(p);
	if (c < 0)
		return "end of input";
	if (c == '\n' || (c == '\r' && peek_at(p, 1) == '\n'))
		return "end of line";
	if (c == '\r')
		return "a carriage return without a newline";
	if (is_control(c)) {
		snprintf(p->here, sizeof p->here, "control character U+%04X", (unsigned)c);
		return p->here;
	}
	size_t n = utf8_lead_length((unsigned char)c);
	if (n > p->len - p->pos)
		n = p->len - p->pos;
	snprintf(p->here, sizeof p->here, "'%.*s'", (int)n, p->text + p->pos);
	return p->here;
}

/* Room for text in messages, cut at a character boundary with "..." when
 * full. */
struct text_out {
	char *buf;
	size_t size, len;
	bool full;
};

static void text_add(struct text_out *o, const char *s, size_t n)
{
	if (o->full)
		return;
	if (o->len + n + 4 > o->size) {
		memcpy(o->buf + o->len, "...", 4);
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static bool is_bare_key_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static void key_part_text(struct text_out *o, const char *s)
{
	size_t len = strlen(s);
	bool bare = len > 0;
	for (size_t j = 0; j < len; j++)
		bare = bare && is_bare_key_char((unsigned char)s[j]);
	if (bare) {
		for (size_t j = 0; j < len; j++)
			text_add(o, s + j, 1);
		return;
	}
	text_add(o, "\"", 1);
	for (size_t j = 0; j < len;) {
		unsigned char c = (unsigned char)s[j];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			text_add(o, esc, 2);
			j++;
		} else if (is_control(c)) {
			snprintf(esc, sizeof esc, "\\u%04X", c);
			text_add(o, esc, 6);
			j++;
		} else {
			size_t cl = utf8_lead_length(c);
			if (cl > len - j)
				cl = len - j;
			text_add(o, s + j, cl);
			j += cl;
		}
	}
	text_add(o, "\"", 1);
}

/* The first n parts of a key as TOML writes them (a."b c".d), for
 * messages. size must be at least 8. */
static const char *key_text(const struct key *k, int n, char *buf, size_t size)
{
	struct text_out o = {.buf = buf, .size = size};
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i > 0)
			text_add(&o, ".", 1);
		key_part_text(&o, k->part[i]);
	}
	return buf;
}

const char *toml_key_text(const char *key, char *buf, size_t size)
{
	struct text_out o = {.buf = buf, .size = size};
	if (size < 8) {
		if (size > 0)
			buf[0] = '\0';
		return buf;
	}
	buf[0] = '\0';
	key_part_text(&o, key);
	return buf;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "a table";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a float";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "a value";
}

static void skip_ws(struct parser *p)
{
	while (peek(p) == ' ' || peek(p) == '\t')
		p->pos++;
}

/* 1 for "\n", 2 for "\r\n", 0 for anything else. */
static size_t newline_length(const struct parser *p)
{
	if (peek(p) == '\n')
		return 1;
	if (peek(p) == '\r' && peek_at(p, 1) == '\n')
		return 2;
	return 0;
}

static int skip_comment(struct parser *p)
{
	if (peek(p) != '#')
		return 0;
	for (; p->pos < p->len && newline_length(p) == 0; p->pos++) {
		if (is_control(peek(p)))
			return fail_at(p, p->pos, "%s in a comment", what_is_here(p));
	}
	return 0;
}

/* Whitespace, comments and newlines, as between the values of an array. */
static int skip_blank(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		if (skip_comment(p) < 0)
			return -1;
		size_t nl = newline_length(p);
		if (nl == 0)
			return 0;
		p->pos += nl;
	}
}

static int expect_end_of_line(struct parser *p, const char *after)
{
	skip_ws(p);
	if (skip_comment(p) < 0)
		return -1;
	if (p->pos == p->len)
		return 0;
	size_t nl = newline_length(p);
	if (nl == 0)
		return fail_at(p, p->pos, "expected a newline after %s, found %s", after,
			       what_is_here(p));
	p->pos += nl;
	return 0;
}


static void utf8_encode(struct strbuf *out, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	strbuf_add(out, b, n);
}

/* The escape at pos (a backslash) in a basic string. */
static int parse_escape(struct parser *p, struct strbuf *out, bool multiline)
{
	size_t at = p->pos;
	int c = peek_at(p, 1);
	const char *simple = NULL;
	switch (c) {
	case 'b': simple = "\b"; break;
	case 't': simple = "\t"; break;
	case 'n': simple = "\n"; break;
	case 'f': simple = "\f"; break;
	case 'r': simple = "\r"; break;
	case '"': simple = "\""; break;
	case '\\': simple = "\\"; break;
	}
	if (simple) {
		strbuf_add(out, simple, 1);
		p->pos += 2;
		return 0;
	}
	if (c == 'u' || c == 'U') {
		size_t digits = c == 'u' ? 4 : 8;
		uint32_t cp = 0;
		for (size_t i = 0; i < digits; i++) {
			int h = text_hex_value(peek_at(p, 2 + i));
			if (h < 0)
				return fail_at(p, at, "invalid escape: \\%c needs %zu hex digits", c,
					       digits);
			cp = cp << 4 | (uint32_t)h;
		}
		if (cp == 0)
			return fail_at(p, at, "\\%c%0*X (NUL) is not supported in a string", c,
				       (int)digits, 0);
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return fail_at(p, at, "invalid escape: \\%c%.*s is not a Unicode scalar value",
				       c, (int)digits, p->text + at + 2);
		utf8_encode(out, cp);
		p->pos += 2 + digits;
		return 0;
	}
	if (multiline) {
		/* A backslash ending a line joins it to the next: the newlines and
		 * whitespace after it are dropped. */
		size_t save = p->pos;
		p->pos++;
		skip_ws(p);
		if (newline_length(p) > 0) {
			while (p->pos < p->len && (newline_length(p) > 0 || peek(p) == ' ' ||
						   peek(p) == '\t'))
				p->pos += newline_length(p) ? newline_length(p) : 1;
			return 0;
		}
		p->pos = save;
	}
	if (c > 0x20 && c < 0x7F)
		return fail_at(p, at, "invalid escape \\%c (a backslash is written \\\\)", c);
	p->pos++;
	return fail_at(p, at, "invalid escape: backslash before %s", what_is_here(p));
}

/* Any of the four kinds of string, at its opening quote. */
static int parse_string(struct parser *p, struct strbuf *out)
{
	size_t start = p->pos;
	char quote = (char)peek(p);
	bool literal = quote == '\'';
	bool multiline = starts_with(p, literal ? "'''" : "\"\"\"");
	p->pos += multiline ? 3 : 1;
	/* A newline right after the opening delimiter is not part of it. */
	if (multiline)
		p->pos += newline_length(p);
	strbuf_add(out, "", 0);
	for (;;) {
		int c = peek(p);
		if (c < 0)
			return fail_at(p, start, "unterminated string");
		if (c == quote) {
			if (!multiline) {
				p->pos++;
				return 0;
			}
			if (peek_at(p, 1) == quote && peek_at(p, 2) == quote) {
				/* Up to two quotes may stand just inside the closing
				 * delimiter; a sixth would be stray text after it. */
				size_t n = 3;
				while (n < 5 && peek_at(p, n) == quote)
					n++;
				for (size_t i = 3; i < n; i++)
					strbuf_addc(out, quote);
				p->pos += n;
				return 0;
			}
		}
		if (c == '\\' && !literal) {
			if (parse_escape(p, out, multiline) < 0)
				return -1;
			continue;
		}
		size_t nl = newline_length(p);
		if (nl > 0) {
			if (!multiline)
				return fail_at(p, start,
					       "unterminated string (use %s for a string of several lines)",
					       literal ? "'''" : "\"\"\"");
			strbuf_addc(out, '\n');
			p->pos += nl;
			continue;
		}
		if (is_control(c))
			return fail_at(p, p->pos, "%s in a string%s", what_is_here(p),
				       literal ? "" : " (write it as an escape such as \\u0001)");
		strbuf_addc(out, (char)c);
		p->pos++;
	}
}

static int parse_simple_key(struct parser *p, char **out)
{
	int c = peek(p);
	if (c == '"' || c == '\'') {
		if (starts_with(p, "\"\"\"") || starts_with(p, "'''"))
			return fail_at(p, p->pos, "a key cannot be a multi-line string");
		_cleanup_strbuf_ struct strbuf s = {0};
		if (parse_string(p, &s) < 0)
			return -1;
		*out = steal_pointer(&s.data);
		return 0;
	}
	size_t start = p->pos;
	while (is_bare_key_char(peek(p)))
		p->pos++;
	if (p->pos == start)
		return fail_at(p, p->pos, "expected a key, found %s", what_is_here(p));
	*out = xstrndup(p->text + start, p->pos - start);
	return 0;
}

/* A key and the whitespace after it: a, "a b", a.'b'.c */
static int parse_key(struct parser *p, struct key *k)
{
	for (;;) {
		if (k->count == TOML_MAX_DEPTH)
			return fail_at(p, p->pos, "a key may have at most %d parts", TOML_MAX_DEPTH);
		k->at[k->count] = p->pos;
		if (parse_simple_key(p, &k->part[k->count]) < 0)
			return -1;
		k->count++;
		skip_ws(p);
		if (peek(p) != '.')
			return 0;
		p->pos++;
		skip_ws(p);
	}
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool digits_at(const struct parser *p, size_t offset, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(peek_at(p, offset + i)))
			return false;
	}
	return true;
}

static int number_at(const struct parser *p, size_t offset, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + peek_at(p, offset + i) - '0';
	return v;
}

/* YYYY-MM-DD at pos, a real day of the proleptic Gregorian calendar. */
static int scan_date(struct parser *p)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (!digits_at(p, 0, 4) || peek_at(p, 4) != '-' || !digits_at(p, 5, 2) ||
	    peek_at(p, 7) != '-' || !digits_at(p, 8, 2))
		return fail_at(p, p->pos, "invalid date (expected YYYY-MM-DD)");
	int year = number_at(p, 0, 4), month = number_at(p, 5, 2), day = number_at(p, 8, 2);
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (month < 1 || month > 12 || day < 1 ||
	    day > days[month - 1] + (month == 2 && leap ? 1 : 0))
		return fail_at(p, p->pos, "invalid date %.10s: no such day", p->text + p->pos);
	p->pos += 10;
	return 0;
}

/* HH:MM:SS with optional fraction at pos. */
static int scan_time(struct parser *p)
{
	if (!digits_at(p, 0, 2) || peek_at(p, 2) != ':' || !digits_at(p, 3, 2) ||
	    peek_at(p, 5) != ':' || !digits_at(p, 6, 2))
		return fail_at(p, p->pos, "invalid time (expected HH:MM:SS)");
	if (number_at(p, 0, 2) > 23 || number_at(p, 3, 2) > 59 || number_at(p, 6, 2) > 60)
		return fail_at(p, p->pos, "invalid time %.8s: out of range", p->text + p->pos);
	p->pos += 8;
	if (peek(p) == '.') {
		if (!is_digit(peek_at(p, 1)))
			return fail_at(p, p->pos, "invalid time: expected digits after '.'");
		p->pos++;
		while (is_digit(peek(p)))
			p->pos++;
	}
	return 0;
}

/* Offset date-time, local date-time, local date or local time, kept as
 * the string written: JSON has no dates, and the text is RFC 3339 already
 * (but for a space in place of the T, which TOML allows too). */
static int parse_date_time(struct parser *p, json_t **out)
{
	size_t start = p->pos;
	bool date = peek_at(p, 4) == '-';
	if (date) {
		if (scan_date(p) < 0)
			return -1;
		int c = peek(p);
		bool time = c == 'T' || c == 't' ||
			    (c == ' ' && digits_at(p, 1, 2) && peek_at(p, 3) == ':');
		if (!time)
			goto done;
		p->pos++;
	}
	if (scan_time(p) < 0)
		return -1;
	if (!date)
		goto done;
	if (peek(p) == 'Z' || peek(p) == 'z') {
		p->pos++;
	} else if (peek(p) == '+' || peek(p) == '-') {
		if (!digits_at(p, 1, 2) || peek_at(p, 3) != ':' || !digits_at(p, 4, 2) ||
		    number_at(p, 1, 2) > 23 || number_at(p, 4, 2) > 59)
			return fail_at(p, p->pos, "invalid time offset (expected +HH:MM or -HH:MM)");
		p->pos += 6;
	}
done:
	*out = json_checked(json_stringn(p->text + start, p->pos - start));
	return 0;
}

static int digit_value(int c, int base)
{
	int d = text_hex_value(c);
	return d >= 0 && d < base ? d : -1;
}

/* Digits of base at s[*i], single underscores allowed between two digits;
 * the digits (no underscores) go to out. Returns how many digits, or -1
 * for a misplaced underscore. */
static long scan_digits(const char *s, size_t n, size_t *i, int base, struct strbuf *out)
{
	long count = 0;
	while (*i < n) {
		if (digit_value((unsigned char)s[*i], base) >= 0) {
			strbuf_addc(out, s[*i]);
			count++;
		} else if (s[*i] == '_') {
			if (count == 0 || *i + 1 >= n || digit_value((unsigned char)s[*i + 1], base) < 0)
				return -1;
		} else {
			break;
		}
		(*i)++;
	}
	return count;
}

static bool is_number_char(int c)
{
	return is_bare_key_char(c) || c == '+' || c == '.';
}

static int parse_number(struct parser *p, json_t **out)
{
	size_t start = p->pos;
	while (is_number_char(peek(p)))
		p->pos++;
	const char *s = p->text + start;
	size_t n = p->pos - start, i = 0;
	int shown = n > 40 ? 40 : (int)n;
	bool negative = false, sign = false;
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		negative = s[0] == '-';
		sign = true;
		i++;
	}
	if (n - i == 3 && (memcmp(s + i, "inf", 3) == 0 || memcmp(s + i, "nan", 3) == 0))
		return fail_at(p, start, "%.*s is not supported: JSON has no infinity or NaN",
			       shown, s);

	int base = 10;
	if (n - i >= 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b')) {
		if (sign)
			return fail_at(p, start, "invalid number %.*s: a %s integer has no sign",
				       shown, s, s[i + 1] == 'x' ? "hex" : s[i + 1] == 'o' ? "octal" : "binary");
		base = s[i + 1] == 'x' ? 16 : s[i + 1] == 'o' ? 8 : 2;
		i += 2;
	}
	_cleanup_strbuf_ struct strbuf digits = {0};
	strbuf_add(&digits, "", 0);
	long int_digits = scan_digits(s, n, &i, base, &digits);
	if (int_digits <= 0 && base == 10 && i < n && !is_digit((unsigned char)s[i]) &&
	    s[i] != '_')
		return fail_at(p, start, "invalid value %.*s (a string needs quotes)", shown, s);
	if (int_digits <= 0)
		return fail_at(p, start, "invalid number %.*s", shown, s);
	bool is_float = false;
	if (base == 10 && i < n && s[i] == '.') {
		is_float = true;
		strbuf_addc(&digits, s[i++]);
		if (scan_digits(s, n, &i, 10, &digits) <= 0)
			return fail_at(p, start, "invalid number %.*s: expected digits after '.'",
				       shown, s);
	}
	if (base == 10 && i < n && (s[i] == 'e' || s[i] == 'E')) {
		is_float = true;
		strbuf_addc(&digits, s[i++]);
		if (i < n && (s[i] == '+' || s[i] == '-'))
			strbuf_addc(&digits, s[i++]);
		if (scan_digits(s, n, &i, 10, &digits) <= 0)
			return fail_at(p, start, "invalid number %.*s: expected digits in the exponent",
				       shown, s);
	}
	if (i != n)
		return fail_at(p, start, "invalid number %.*s", shown, s);
	if (base == 10 && digits.data[0] == '0' && int_digits > 1)
		return fail_at(p, start, "invalid number %.*s: leading zeros are not allowed",
			       shown, s);

	if (is_float) {
		/* strtod reads the C locale's decimal point; evoclaw never calls
		 * setlocale. */
		double v = strtod(digits.data, NULL);
		if (negative)
			v = -v;
		if (!isfinite(v))
			return fail_at(p, start, "float %.*s is out of range", shown, s);
		*out = json_checked(json_real(v));
		return 0;
	}
	uint64_t v = 0;
	for (const char *d = digits.data; *d; d++) {
		uint64_t dv = (uint64_t)text_hex_value((unsigned char)*d);
		if (v > (UINT64_MAX - dv) / (uint64_t)base)
			return fail_at(p, start, "integer %.*s is out of range", shown, s);
		v = v * (uint64_t)base + dv;
	}
	uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (v > limit)
		return fail_at(p, start, "integer %.*s is out of range (64-bit signed)", shown, s);
	int64_t value = negative ? (v == limit ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	*out = json_checked(json_integer((json_int_t)value));
	return 0;
}

static int parse_value(struct parser *p, json_t **out);
static int parse_keyval(struct parser *p, json_t *table);

static int parse_array(struct parser *p, json_t **out)
{
	size_t start = p->pos;
	p->pos++;
	json_t *array = json_checked(json_array());
	for (;;) {
		if (skip_blank(p) < 0)
			goto fail;
		if (peek(p) == ']')
			break;
		json_t *item;
		if (parse_value(p, &item) < 0)
			goto fail;
		if (json_array_append_new(array, item) < 0)
			out_of_memory();
		if (skip_blank(p) < 0)
			goto fail;
		if (peek(p) == ']')
			break;
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) < 0)
			fail_at(p, start, "unterminated array");
		else
			fail_at(p, p->pos, "expected ',' or ']' in an array, found %s", what_is_here(p));
		goto fail;
	}
	p->pos++;
	*out = array;
	return 0;
fail:
	json_decref(array);
	return -1;
}

/* TOML 1.0 inline tables: one line, no trailing comma, closed once read. */
static int parse_inline_table(struct parser *p, json_t **out)
{
	size_t start = p->pos;
	p->pos++;
	json_t *table = json_checked(json_object());
	skip_ws(p);
	if (peek(p) == '}')
		goto done;
	for (;;) {
		skip_ws(p);
		if (parse_keyval(p, table) < 0)
			goto fail;
		skip_ws(p);
		if (peek(p) == '}')
			break;
		if (peek(p) == ',') {
			p->pos++;
			skip_ws(p);
			if (peek(p) == '}') {
				fail_at(p, p->pos, "an inline table has no comma after its last value");
				goto fail;
			}
			continue;
		}
		if (peek(p) < 0)
			fail_at(p, start, "unterminated inline table");
		else if (newline_length(p) > 0)
			fail_at(p, p->pos, "an inline table must end on the line it starts "
					   "(use a [table] for more)");
		else
			fail_at(p, p->pos, "expected ',' or '}' in an inline table, found %s",
				what_is_here(p));
		goto fail;
	}
done:
	p->pos++;
	*out = table;
	return 0;
fail:
	json_decref(table);
	return -1;
}

static int parse_value(struct parser *p, json_t **out)
{
	int c = peek(p);
	if (c == '"' || c == '\'') {
		size_t start = p->pos;
		_cleanup_strbuf_ struct strbuf s = {0};
		if (parse_string(p, &s) < 0)
			return -1;
		/* The input is valid UTF-8 and escapes are scalar values, so this
		 * fails only when memory is short. */
		*out = json_stringn(s.data, s.len);
		if (*out == NULL)
			return fail_at(p, start, "string is not valid UTF-8");
		return 0;
	}
	if (c == '[' || c == '{') {
		if (p->depth >= TOML_MAX_DEPTH)
			return fail_at(p, p->pos, "values nest deeper than %d levels", TOML_MAX_DEPTH);
		p->depth++;
		int r = c == '[' ? parse_array(p, out) : parse_inline_table(p, out);
		p->depth--;
		return r;
	}
	if (starts_with(p, "true") && !is_bare_key_char(peek_at(p, 4))) {
		p->pos += 4;
		*out = json_true();
		return 0;
	}
	if (starts_with(p, "false") && !is_bare_key_char(peek_at(p, 5))) {
		p->pos += 5;
		*out = json_false();
		return 0;
	}
	if (is_digit(c) && ((digits_at(p, 0, 4) && peek_at(p, 4) == '-') ||
			    (digits_at(p, 0, 2) && peek_at(p, 2) == ':')))
		return parse_date_time(p, out);
	if (is_digit(c) || c == '+' || c == '-' ||
	    ((starts_with(p, "inf") || starts_with(p, "nan")) && !is_bare_key_char(peek_at(p, 3))))
		return parse_number(p, out);
	if (is_bare_key_char(c)) {
		size_t start = p->pos, n = 0;
		while (n < 40 && is_bare_key_char(peek_at(p, n)))
			n++;
		return fail_at(p, start, "invalid value %.*s (a string needs quotes)", (int)n,
			       p->text + start);
	}
	return fail_at(p, p->pos, "expected a value, found %s", what_is_here(p));
}

/* key = value, into table; dotted keys make tables on the way. */
static int parse_keyval(struct parser *p, json_t *table)
{
	_cleanup_key_ struct key key = {0};
	char name[160];
	if (parse_key(p, &key) < 0)
		return -1;
	const char *last = key.part[key.count - 1];
	if (p->depth + key.count - 1 > TOML_MAX_DEPTH)
		return fail_at(p, key.at[0], "values nest deeper than %d levels", TOML_MAX_DEPTH);
	for (int i = 0; i < key.count - 1; i++) {
		json_t *v = json_object_get(table, key.part[i]);
		if (v == NULL) {
			v = json_checked(json_object());
			table_set(table, key.part[i], v);
			node_set(&p->nodes, v, NODE_DOTTED);
		} else if (!json_is_object(v)) {
			return fail_at(p, key.at[i], "%s is already %s, not a table",
				       key_text(&key, i + 1, name, sizeof name), type_name(v));
		} else if (node_kind(&p->nodes, v) == NODE_CLOSED) {
			return fail_at(p, key.at[i], "%s is an inline table, which cannot be extended",
				       key_text(&key, i + 1, name, sizeof name));
		} else if (node_kind(&p->nodes, v) != NODE_DOTTED) {
			return fail_at(p, key.at[i],
				       "table %s is defined by a [header]; dotted keys cannot add to it",
				       key_text(&key, i + 1, name, sizeof name));
		}
		table = v;
	}
	if (json_object_get(table, last))
		return fail_at(p, key.at[0], "duplicate key %s",
			       key_text(&key, key.count, name, sizeof name));
	if (peek(p) != '=')
		return fail_at(p, p->pos, "expected '=' after the key %s, found %s",
			       key_text(&key, key.count, name, sizeof name), what_is_here(p));
	p->pos++;
	skip_ws(p);
	json_t *value;
	p->depth += key.count - 1;
	int r = parse_value(p, &value);
	p->depth -= key.count - 1;
	if (r < 0)
		return -1;
	table_set(table, last, value);
	return 0;
}

/* [a.b] or [[a.b]] at pos: makes it the current table. */
static int parse_header(struct parser *p)
{
	_cleanup_key_ struct key key = {0};
	char name[160];
	bool array = starts_with(p, "[[");
	p->pos += array ? 2 : 1;
	skip_ws(p);
	if (parse_key(p, &key) < 0)
		return -1;
	if (array ? !starts_with(p, "]]") : peek(p) != ']')
		return fail_at(p, p->pos, "expected '%s' to end the table header, found %s",
			       array ? "]]" : "]", what_is_here(p));
	p->pos += array ? 2 : 1;

	json_t *table = p->root;
	int depth = 1;
	for (int i = 0; i < key.count - 1; i++, depth++) {
		json_t *v = json_object_get(table, key.part[i]);
		if (v == NULL) {
			v = json_checked(json_object());
			table_set(table, key.part[i], v);
			node_set(&p->nodes, v, NODE_IMPLICIT);
		} else if (json_is_array(v) && node_kind(&p->nodes, v) == NODE_TABLE_ARRAY) {
			/* [a.b] after [[a]] belongs to a's last element. */
			v = json_array_get(v, json_array_size(v) - 1);
			depth++;
		} else if (!json_is_object(v)) {
			return fail_at(p, key.at[i], "%s is already %s, not a table",
				       key_text(&key, i + 1, name, sizeof name), type_name(v));
		} else if (node_kind(&p->nodes, v) == NODE_CLOSED) {
			return fail_at(p, key.at[i], "%s is an inline table, which cannot be extended",
				       key_text(&key, i + 1, name, sizeof name));
		}
		table = v;
	}

	if (depth + (array ? 2 : 1) > TOML_MAX_DEPTH)
		return fail_at(p, key.at[0], "tables nest deeper than %d levels", TOML_MAX_DEPTH);
	const char *last = key.part[key.count - 1];
	json_t *v = json_object_get(table, last);
	key_text(&key, key.count, name, sizeof name);
	enum node_kind kind = v ? node_kind(&p->nodes, v) : NODE_CLOSED;
	if (array) {
		if (v == NULL) {
			v = json_checked(json_array());
			table_set(table, last, v);
			node_set(&p->nodes, v, NODE_TABLE_ARRAY);
		} else if (!json_is_array(v) || kind != NODE_TABLE_ARRAY) {
			return fail_at(p, key.at[0], "[[%s]]: %s is already %s", name, name,
				       json_is_array(v) ? "an array value, not an array of tables"
						    : type_name(v));
		}
		json_t *element = json_checked(json_object());
		if (json_array_append_new(v, element) < 0)
			out_of_memory();
		node_set(&p->nodes, element, NODE_DEFINED);
		p->current = element;
		p->table_depth = depth + 2;
		return 0;
	}
	if (v == NULL) {
		v = json_checked(json_object());
		table_set(table, last, v);
	} else if (json_is_object(v) && kind == NODE_IMPLICIT) {
		/* [a] after [a.b]: defined now, once. */
	} else if (json_is_object(v) && kind == NODE_DEFINED) {
		return fail_at(p, key.at[0], "table [%s] is defined twice", name);
	} else if (json_is_object(v) && kind == NODE_DOTTED) {
		return fail_at(p, key.at[0], "table [%s] is already defined by dotted keys", name);
	} else if (json_is_object(v)) {
		return fail_at(p, key.at[0], "[%s] is an inline table, which cannot be extended",
			       name);
	} else if (kind == NODE_TABLE_ARRAY) {
		return fail_at(p, key.at[0], "[%s] is an array of tables; write [[%s]] to add to it",
			       name, name);
	} else {
		return fail_at(p, key.at[0], "[%s]: %s is already %s", name, name, type_name(v));
	}
	node_set(&p->nodes, v, NODE_DEFINED);
	p->current = v;
	p->table_depth = depth + 1;
	return 0;
}

static int parse_document(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		if (skip_comment(p) < 0)
			return -1;
		if (p->pos == p->len)
			return 0;
		size_t nl = newline_length(p);
		if (nl > 0) {
			p->pos += nl;
			continue;
		}
		if (peek(p) == '[') {
			if (parse_header(p) < 0 || expect_end_of_line(p, "the table header") < 0)
				return -1;
			continue;
		}
		p->depth = p->table_depth;
		if (parse_keyval(p, p->current) < 0 || expect_end_of_line(p, "the value") < 0)
			return -1;
	}
}

/* TOML is UTF-8; checking it all first lets the parser copy bytes into
 * strings and keys without looking at them again. */
static int check_encoding(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->text;
	for (size_t i = 0; i < p->len;) {
		if (s[i] == '\0')
			return fail_at(p, i, "NUL byte in the input");
		size_t n = utf8_sequence(s + i, p->len - i);
		if (n == 0)
			return fail_at(p, i, "invalid UTF-8");
		i += n;
	}
	return 0;
}

int toml_parse(const char *text, size_t len, const char *source, json_t **out,
	       struct evo_error *err)
{
	struct parser p = {
		.text = text ? text : "",
		.len = text ? len : 0,
		.source = source ? source : "toml",
		.err = err,
	};
	*out = NULL;
	if (check_encoding(&p) < 0)
		return -1;
	if (starts_with(&p, "\xEF\xBB\xBF"))
		p.pos = 3;
	p.root = json_checked(json_object());
	node_set(&p.nodes, p.root, NODE_DEFINED);
	p.current = p.root;
	p.table_depth = 1;
	int r = parse_document(&p);
	free(p.nodes.slots);
	if (r < 0) {
		json_decref(p.root);
		return -1;
	}
	*out = p.root;
	return 0;
}
