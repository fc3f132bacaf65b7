#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/toml.h"

static int parse_n(const char *text, size_t len, json_t **doc, struct evo_error *err)
{
	return toml_parse(text, len, "test.toml", doc, err);
}

static int parse(const char *text, json_t **doc, struct evo_error *err)
{
	return parse_n(text, strlen(text), doc, err);
}

/* text must parse to exactly the JSON want (integers and reals differ). */
static void expect_json(const char *text, const char *want_json)
{
	json_t *doc;
	struct evo_error err = {0};
	cr_assert_eq(parse(text, &doc, &err), 0, "%s\n-> %s", text, err.msg);
	json_error_t jerr;
	json_t *want = json_loads(want_json, JSON_DECODE_ANY, &jerr);
	cr_assert_not_null(want, "bad expected JSON %s: %s", want_json, jerr.text);
	char *got = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	cr_expect(json_equal(doc, want), "%s\n got: %s\nwant: %s", text, got, want_json);
	free(got);
	json_decref(want);
	json_decref(doc);
}

static void expect_error(const char *text, const char *want)
{
	json_t *doc = (json_t *)1;
	struct evo_error err = {0};
	cr_assert_eq(parse(text, &doc, &err), -1, "%s: parsed, want \"%s\"", text, want);
	cr_expect_null(doc);
	cr_expect_eq(err.kind, EVO_ERR_INVALID);
	cr_expect_str_eq(err.msg, want, "input: %s", text);
}

Test(toml, empty_and_blank_documents_are_empty_objects)
{
	expect_json("", "{}");
	expect_json("\n\n  \t\n# only a comment\n   # another\r\n", "{}");
	json_t *doc;
	struct evo_error err = {0};
	cr_assert_eq(toml_parse(NULL, 0, "x", &doc, &err), 0, "%s", err.msg);
	cr_expect(json_is_object(doc) && json_object_size(doc) == 0);
	json_decref(doc);
}

Test(toml, strings_of_the_four_kinds)
{
	expect_json("s = \"basic\"\nl = 'C:\\path\\no\\escapes'\n",
		    "{\"s\": \"basic\", \"l\": \"C:\\\\path\\\\no\\\\escapes\"}");
	expect_json("q = 'He said \"hi\"'", "{\"q\": \"He said \\\"hi\\\"\"}");
	/* The newline right after the opening delimiter is dropped. */
	expect_json("m = \"\"\"\nRoses\nViolets\"\"\"", "{\"m\": \"Roses\\nViolets\"}");
	expect_json("m = '''\n  raw \\n\n'''", "{\"m\": \"  raw \\\\n\\n\"}");
	/* Up to two quotes stand just inside the closing delimiter. */
	expect_json("m = \"\"\"\"\"x\"\"\"\"\"", "{\"m\": \"\\\"\\\"x\\\"\\\"\"}");
	expect_json("m = ''''x'''", "{\"m\": \"'x\"}");
	expect_json("m = \"\"\"a \"quoted\" \"\" b\"\"\"", "{\"m\": \"a \\\"quoted\\\" \\\"\\\" b\"}");
	expect_json("e = \"\"\ne2 = ''\ne3 = \"\"\"\"\"\"", "{\"e\": \"\", \"e2\": \"\", \"e3\": \"\"}");
	expect_json("tab = \"a\tb\"", "{\"tab\": \"a\\tb\"}");
	expect_json("u = \"h\xc3\xa9llo \xe2\x82\xac\"", "{\"u\": \"h\\u00e9llo \\u20ac\"}");
}

Test(toml, escapes)
{
	expect_json("s = \"\\\" \\\\ \\n \\t \\r \\b \\f\"",
		    "{\"s\": \"\\\" \\\\ \\n \\t \\r \\b \\f\"}");
	expect_json("s = \"\\u00e9\\u20AC\\U0001F600\"", "{\"s\": \"\\u00e9\\u20ac\\ud83d\\ude00\"}");
	/* A backslash at the end of a line joins it to the next. */
	expect_json("s = \"\"\"\\\n   The quick \\\n\n   fox.\\   \n  \"\"\"",
		    "{\"s\": \"The quick fox.\"}");
	expect_json("s = \"\"\"a\\tb\\\"\"\"\"", "{\"s\": \"a\\tb\\\"\"}");
}

Test(toml, integers)
{
	expect_json("a = 0\nb = +99\nc = -17\nd = 1_000_000\ne = -0\nf = 5_3_4",
		    "{\"a\": 0, \"b\": 99, \"c\": -17, \"d\": 1000000, \"e\": 0, \"f\": 534}");
	expect_json("max = 9_223_372_036_854_775_807\nmin = -9223372036854775808",
		    "{\"max\": 9223372036854775807, \"min\": -9223372036854775808}");
	expect_json("h = 0xDEAD_beef\no = 0o755\nb = 0b1101_0101\nz = 0x0",
		    "{\"h\": 3735928559, \"o\": 493, \"b\": 213, \"z\": 0}");
	expect_json("h = 0x7FFFFFFFFFFFFFFF", "{\"h\": 9223372036854775807}");
}

Test(toml, floats)
{
	expect_json("a = 1.0\nb = -0.01\nc = 5e+22\nd = 1E6\ne = -2E-2\nf = 6.626e-34\n"
		    "g = 224_617.445_991_228\nh = 0.0\ni = 1e0_1",
		    "{\"a\": 1.0, \"b\": -0.01, \"c\": 5e22, \"d\": 1e6, \"e\": -0.02,"
		    " \"f\": 6.626e-34, \"g\": 224617.445991228, \"h\": 0.0, \"i\": 1e1}");
	expect_error("x = inf",
		     "test.toml:1:5: inf is not supported: JSON has no infinity or NaN");
	expect_error("x = -nan",
		     "test.toml:1:5: -nan is not supported: JSON has no infinity or NaN");
	expect_error("x = 1e999", "test.toml:1:5: float 1e999 is out of range");
}

Test(toml, booleans_and_dates)
{
	expect_json("t = true\nf = false", "{\"t\": true, \"f\": false}");
	/* Dates and times come back as written. */
	expect_json("a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00.999999-07:00\n"
		    "c = 1979-05-27 07:32:00\nd = 1979-05-27\ne = 07:32:00\nf = 00:32:00.5\n"
		    "g = 2024-02-29t23:59:60z",
		    "{\"a\": \"1979-05-27T07:32:00Z\", \"b\": \"1979-05-27T00:32:00.999999-07:00\","
		    " \"c\": \"1979-05-27 07:32:00\", \"d\": \"1979-05-27\", \"e\": \"07:32:00\","
		    " \"f\": \"00:32:00.5\", \"g\": \"2024-02-29t23:59:60z\"}");
	expect_error("d = 2023-02-29", "test.toml:1:5: invalid date 2023-02-29: no such day");
	expect_error("d = 1979-13-01", "test.toml:1:5: invalid date 1979-13-01: no such day");
	expect_error("t = 24:00:00", "test.toml:1:5: invalid time 24:00:00: out of range");
	expect_error("t = 07:32", "test.toml:1:5: invalid time (expected HH:MM:SS)");
	expect_error("t = 1979-05-27T07:32:00+25:00",
		     "test.toml:1:24: invalid time offset (expected +HH:MM or -HH:MM)");
}

Test(toml, arrays)
{
	expect_json("a = [1, 2, 3]\nb = []\nc = [ \"x\", 'y' ]",
		    "{\"a\": [1, 2, 3], \"b\": [], \"c\": [\"x\", \"y\"]}");
	/* Mixed types, nesting, several lines, comments, a trailing comma. */
	expect_json("a = [\n  1,  # one\n  \"two\",\n  # nothing\n  [3.0, [true]],\n"
		    "  {four = 4},\n]\n",
		    "{\"a\": [1, \"two\", [3.0, [true]], {\"four\": 4}]}");
	expect_json("a = [\r\n1,\r\n2\r\n]", "{\"a\": [1, 2]}");
}

Test(toml, inline_tables)
{
	expect_json("p = { x = 1, y = \"two\", z.w = true }",
		    "{\"p\": {\"x\": 1, \"y\": \"two\", \"z\": {\"w\": true}}}");
	expect_json("e = {}\nn = {a = {b = {c = []}}}",
		    "{\"e\": {}, \"n\": {\"a\": {\"b\": {\"c\": []}}}}");
	expect_json("pts = [ { x = 1 }, { x = 2 } ]", "{\"pts\": [{\"x\": 1}, {\"x\": 2}]}");
	expect_error("p = { x = 1, }",
		     "test.toml:1:14: an inline table has no comma after its last value");
	expect_error("p = { x = 1\n}",
		     "test.toml:1:12: an inline table must end on the line it starts "
		     "(use a [table] for more)");
	expect_error("p = { x = 1, x = 2 }", "test.toml:1:14: duplicate key x");
	expect_error("p = { x = 1 }\np.y = 2",
		     "test.toml:2:1: p is an inline table, which cannot be extended");
	expect_error("p = { x = 1 }\n[p]",
		     "test.toml:2:2: [p] is an inline table, which cannot be extended");
	expect_error("p = { x = 1 }\n[p.q]",
		     "test.toml:2:2: p is an inline table, which cannot be extended");
	expect_error("p = { x = 1 y = 2 }",
		     "test.toml:1:13: expected ',' or '}' in an inline table, found 'y'");
}

Test(toml, keys_bare_quoted_and_dotted)
{
	expect_json("bare_key-1 = 1\n\"quoted key\" = 2\n'lit.key' = 3\n\"\" = 4\n"
		    "\"\\u00e9\" = 5\n1234 = 6",
		    "{\"bare_key-1\": 1, \"quoted key\": 2, \"lit.key\": 3, \"\": 4,"
		    " \"\\u00e9\": 5, \"1234\": 6}");
	expect_json("a.b.c = 1\na.b.d = 2\na . \"x y\" . 'z' = 3\nsite.\"google.com\" = true",
		    "{\"a\": {\"b\": {\"c\": 1, \"d\": 2}, \"x y\": {\"z\": 3}},"
		    " \"site\": {\"google.com\": true}}");
	/* 3.14 as a key is two parts. */
	expect_json("3.14 = \"pi\"", "{\"3\": {\"14\": \"pi\"}}");
}

Test(toml, tables_and_headers)
{
	expect_json("top = 1\n[server]\nhost = \"h\"\n[server.tls]\ncert = 'c'\n"
		    "[ other . \"quoted part\" ]\nx = 1",
		    "{\"top\": 1, \"server\": {\"host\": \"h\", \"tls\": {\"cert\": \"c\"}},"
		    " \"other\": {\"quoted part\": {\"x\": 1}}}");
	/* A table named only as a parent may be defined later, once. */
	expect_json("[a.b.c]\nd = 1\n[a]\ne = 2", "{\"a\": {\"b\": {\"c\": {\"d\": 1}}, \"e\": 2}}");
	/* A sub-table under a table made by dotted keys. */
	expect_json("[fruit]\napple.color = \"red\"\n[fruit.apple.texture]\nsmooth = true",
		    "{\"fruit\": {\"apple\": {\"color\": \"red\", \"texture\": {\"smooth\": true}}}}");
	expect_json("[empty]\n[also.empty]", "{\"empty\": {}, \"also\": {\"empty\": {}}}");
}

Test(toml, arrays_of_tables)
{
	expect_json("[[p]]\nname = \"a\"\n[[p]]\n[[p]]\nname = \"c\"\n[p.meta]\nok = true\n"
		    "[[p.parts]]\nid = 1\n[[p.parts]]\nid = 2",
		    "{\"p\": [{\"name\": \"a\"}, {}, {\"name\": \"c\", \"meta\": {\"ok\": true},"
		    " \"parts\": [{\"id\": 1}, {\"id\": 2}]}]}");
	expect_error("a = []\n[[a]]",
		     "test.toml:2:3: [[a]]: a is already an array value, not an array of tables");
	expect_error("[a]\n[[a]]", "test.toml:2:3: [[a]]: a is already a table");
	expect_error("[[a]]\n[a]", "test.toml:2:2: [a] is an array of tables; write [[a]] to add to it");
}

Test(toml, redefinitions_are_errors)
{
	expect_error("a = 1\na = 2", "test.toml:2:1: duplicate key a");
	expect_error("a = 1\n\"a\" = 2", "test.toml:2:1: duplicate key a");
	expect_error("[t]\nx = 1\nx = 2", "test.toml:3:1: duplicate key x");
	expect_error("a.b = 1\na.b = 2", "test.toml:2:1: duplicate key a.b");
	expect_error("[a]\n[b]\n[a]", "test.toml:3:2: table [a] is defined twice");
	expect_error("[a.b]\n[a]\n[a]", "test.toml:3:2: table [a] is defined twice");
	expect_error("a.b = 1\n[a]", "test.toml:2:2: table [a] is already defined by dotted keys");
	expect_error("[a.b.c]\n[a]\nb.d = 1",
		     "test.toml:3:1: table b is defined by a [header]; dotted keys cannot add to it");
	expect_error("a = 1\na.b = 2", "test.toml:2:1: a is already an integer, not a table");
	expect_error("a = \"s\"\n[a.b]", "test.toml:2:2: a is already a string, not a table");
	expect_error("[a]\nb = 1\n[a.b]", "test.toml:3:2: [a.b]: a.b is already an integer");
	expect_error("[t]\n\"quoted \\\"key\\\"\" = 1\n'quoted \"key\"' = 2",
		     "test.toml:3:1: duplicate key \"quoted \\\"key\\\"\"");
}

Test(toml, syntax_errors_say_line_and_column)
{
	expect_error("a = \"open\nb = 1",
		     "test.toml:1:5: unterminated string (use \"\"\" for a string of several lines)");
	expect_error("a = '''open\n", "test.toml:1:5: unterminated string");
	expect_error("x = 1\ns = \"bad \\q escape\"",
		     "test.toml:2:10: invalid escape \\q (a backslash is written \\\\)");
	expect_error("s = \"\\u12\"", "test.toml:1:6: invalid escape: \\u needs 4 hex digits");
	expect_error("s = \"\\uD800\"",
		     "test.toml:1:6: invalid escape: \\uD800 is not a Unicode scalar value");
	expect_error("s = \"\\U00110000\"",
		     "test.toml:1:6: invalid escape: \\U00110000 is not a Unicode scalar value");
	expect_error("s = \"\\u0000\"", "test.toml:1:6: \\u0000 (NUL) is not supported in a string");
	expect_error("s = \"a\x01\"",
		     "test.toml:1:7: control character U+0001 in a string "
		     "(write it as an escape such as \\u0001)");
	expect_error("a = 1 b = 2", "test.toml:1:7: expected a newline after the value, found 'b'");
	expect_error("a = hello", "test.toml:1:5: invalid value hello (a string needs quotes)");
	expect_error("a =", "test.toml:1:4: expected a value, found end of input");
	expect_error("a = \n", "test.toml:1:5: expected a value, found end of line");
	expect_error("a 1", "test.toml:1:3: expected '=' after the key a, found '1'");
	expect_error("= 1", "test.toml:1:1: expected a key, found '='");
	expect_error("[a", "test.toml:1:3: expected ']' to end the table header, found end of input");
	expect_error("[[a]", "test.toml:1:4: expected ']]' to end the table header, found ']'");
	expect_error("[]", "test.toml:1:2: expected a key, found ']'");
	expect_error("[a] x", "test.toml:1:5: expected a newline after the table header, found 'x'");
	expect_error("a = [1 2]", "test.toml:1:8: expected ',' or ']' in an array, found '2'");
	expect_error("a = [1,,2]", "test.toml:1:8: expected a value, found ','");
	expect_error("a = [1,\n2", "test.toml:1:5: unterminated array");
	expect_error("\"\"\"k\"\"\" = 1", "test.toml:1:1: a key cannot be a multi-line string");
	expect_error("a = 1 # bad \x7f comment",
		     "test.toml:1:13: control character U+007F in a comment");
	expect_error("a = 1\rb = 2",
		     "test.toml:1:6: expected a newline after the value, found a carriage return "
		     "without a newline");
	/* Columns count characters, not bytes. */
	expect_error("\"\xc3\xa9\xc3\xa9\" = 1 2",
		     "test.toml:1:10: expected a newline after the value, found '2'");
}

Test(toml, numbers_are_strict)
{
	expect_error("a = 01", "test.toml:1:5: invalid number 01: leading zeros are not allowed");
	expect_error("a = 00.5", "test.toml:1:5: invalid number 00.5: leading zeros are not allowed");
	expect_error("a = 1__0", "test.toml:1:5: invalid number 1__0");
	expect_error("a = 1_", "test.toml:1:5: invalid number 1_");
	expect_error("a = _1", "test.toml:1:5: invalid value _1 (a string needs quotes)");
	expect_error("a = 1.", "test.toml:1:5: invalid number 1.: expected digits after '.'");
	expect_error("a = 1e", "test.toml:1:5: invalid number 1e: expected digits in the exponent");
	expect_error("a = .5", "test.toml:1:5: expected a value, found '.'");
	expect_error("a = +0x10", "test.toml:1:5: invalid number +0x10: a hex integer has no sign");
	expect_error("a = 0x", "test.toml:1:5: invalid number 0x");
	expect_error("a = 0b102", "test.toml:1:5: invalid number 0b102");
	expect_error("a = 0XFF", "test.toml:1:5: invalid number 0XFF");
	expect_error("a = 9223372036854775808",
		     "test.toml:1:5: integer 9223372036854775808 is out of range (64-bit signed)");
	expect_error("a = -9223372036854775809",
		     "test.toml:1:5: integer -9223372036854775809 is out of range (64-bit signed)");
	expect_error("a = 0x8000000000000000",
		     "test.toml:1:5: integer 0x8000000000000000 is out of range (64-bit signed)");
	expect_error("a = 99999999999999999999999",
		     "test.toml:1:5: integer 99999999999999999999999 is out of range");
}

Test(toml, bytes_that_are_not_toml)
{
	static const char nul[] = "a = \"x\0y\"";
	json_t *doc;
	struct evo_error err = {0};
	cr_assert_eq(parse_n(nul, sizeof nul - 1, &doc, &err), -1);
	cr_expect_str_eq(err.msg, "test.toml:1:7: NUL byte in the input");
	expect_error("a = \"\xff\"", "test.toml:1:6: invalid UTF-8");
	expect_error("a = \"\xc0\xaf\"", "test.toml:1:6: invalid UTF-8"); /* overlong '/' */
	expect_error("a = \"\xed\xa0\x80\"", "test.toml:1:6: invalid UTF-8"); /* a surrogate */
	expect_error("a = \"\xe2\x82\"", "test.toml:1:6: invalid UTF-8");  /* cut short */
	/* Only len bytes are read: what follows is not looked at. */
	cr_assert_eq(parse_n("a = 1xyz", 5, &doc, &err), 0, "%s", err.msg);
	cr_expect_eq(json_integer_value(json_object_get(doc, "a")), 1);
	json_decref(doc);
}

Test(toml, line_endings_bom_and_source_name)
{
	expect_json("\xef\xbb\xbf" "a = 1\r\n[b]\r\nc = \"\"\"x\r\ny\"\"\"\r\n",
		    "{\"a\": 1, \"b\": {\"c\": \"x\\ny\"}}");
	json_t *doc;
	struct evo_error err = {0};
	cr_assert_eq(toml_parse("\n\n  x = ?", 9, "agent.toml", &doc, &err), -1);
	cr_expect_str_eq(err.msg, "agent.toml:3:7: expected a value, found '?'");
	cr_expect_null(doc);
	/* err may be NULL when the caller only needs to know. */
	cr_expect_eq(toml_parse("x = ?", 5, "t", &doc, NULL), -1);
}

/* prefix, then unit n times, then middle, then close n times. */
static char *nested(const char *prefix, const char *unit, int n, const char *middle,
		    const char *close)
{
	size_t len = strlen(prefix) + (strlen(unit) + strlen(close)) * (size_t)n + strlen(middle) + 1;
	char *s = malloc(len), *p = s;
	p = stpcpy(p, prefix);
	for (int i = 0; i < n; i++)
		p = stpcpy(p, unit);
	p = stpcpy(p, middle);
	for (int i = 0; i < n; i++)
		p = stpcpy(p, close);
	return s;
}

static int parse_nested(const char *prefix, const char *unit, int n, const char *middle,
			const char *close, struct evo_error *err)
{
	char *text = nested(prefix, unit, n, middle, close);
	json_t *doc;
	int r = parse(text, &doc, err);
	json_decref(doc);
	free(text);
	return r;
}

Test(toml, nesting_is_capped)
{
	struct evo_error err = {0};
	/* The root counts: a value may sit inside TOML_MAX_DEPTH containers. */
	cr_expect_eq(parse_nested("a = ", "[", TOML_MAX_DEPTH - 1, "", "]", &err), 0, "%s",
		     err.msg);
	cr_expect_eq(parse_nested("a = ", "[", TOML_MAX_DEPTH, "", "]", &err), -1);
	cr_expect_str_eq(err.msg, "test.toml:1:68: values nest deeper than 64 levels");
	cr_expect_eq(parse_nested("a = ", "{a=", 100000, "1", "}", &err), -1);
	cr_expect_str_eq(err.msg, "test.toml:1:194: values nest deeper than 64 levels");
	cr_expect_eq(parse_nested("a = ", "[{a=", 100000, "1", "}]", &err), -1);
	cr_expect_str_eq(err.msg, "test.toml:1:130: values nest deeper than 64 levels");

	/* Dotted keys make tables, and count. */
	cr_expect_eq(parse_nested("", "a.", TOML_MAX_DEPTH - 1, "a = 1", "", &err), 0, "%s",
		     err.msg);
	cr_expect_eq(parse_nested("", "a.", TOML_MAX_DEPTH, "a = 1", "", &err), -1);
	cr_expect_str_eq(err.msg, "test.toml:1:129: a key may have at most 64 parts");
	cr_expect_eq(parse_nested("x = ", "{a.a.a.a.a.a.a.a = ", 10, "1", "}", &err), -1);
	cr_expect_str_eq(err.msg, "test.toml:1:139: values nest deeper than 64 levels");

	/* So do headers, and [[arrays]] twice (the array and its element). */
	cr_expect_eq(parse_nested("[", "a.", TOML_MAX_DEPTH - 2, "a]\nx = 1", "", &err), 0,
		     "%s", err.msg);
	cr_expect_eq(parse_nested("[", "a.", TOML_MAX_DEPTH - 1, "a]\nx = 1", "", &err), -1);
	cr_expect_str_eq(err.msg, "test.toml:1:2: tables nest deeper than 64 levels");
	cr_expect_eq(parse_nested("[[", "a.", TOML_MAX_DEPTH - 2, "a]]", "", &err), -1);
	cr_expect_str_eq(err.msg, "test.toml:1:3: tables nest deeper than 64 levels");
	cr_expect_eq(parse_nested("[[a]]\n[a.b]\n[[a.b.c]]\n[", "a.b.c.", 21, "d]", "", &err), -1);
	cr_expect_str_eq(err.msg, "test.toml:4:2: tables nest deeper than 64 levels");
}
