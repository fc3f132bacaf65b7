/* A small, strict TOML 1.0 reader that yields a jansson object.
 *
 * Everything TOML 1.0 has is read: comments, bare, quoted and dotted keys,
 * [table] and [[array of tables]] headers, the four kinds of string,
 * integers (decimal with _ separators, 0x/0o/0b), floats, booleans,
 * arrays and inline tables. Dates and times are checked and returned as
 * the string written. Two things JSON cannot hold are refused with an
 * error that says so: inf/nan floats and "\u0000" in a string or key.
 *
 * Anything else that TOML forbids is an error too (a key or table defined
 * twice, a dotted key reaching into a table defined elsewhere, an invalid
 * escape, bad UTF-8, a NUL byte), worded "<source>:<line>:<col>: <what>"
 * with a 1-based column counted in characters. Arrays and inline tables
 * nest at most TOML_MAX_DEPTH deep and a key has at most TOML_MAX_DEPTH
 * parts, so no input can exhaust the stack; how much text to read at all
 * is the caller's business. Pure: no I/O. */
#ifndef EVOCLAW_COMMON_TOML_H
#define EVOCLAW_COMMON_TOML_H

#include <stddef.h>

#include <jansson.h>

#include "common/error.h"

#define TOML_MAX_DEPTH 64

/* Parse len bytes of text (no NUL terminator needed; a NUL inside is an
 * error). On success *out is a new JSON object the caller owns (release
 * it with json_decref) and 0 is returned; on failure *out is NULL, err
 * says what and where (kind EVO_ERR_INVALID), and -1 is returned.
 * source names the text in messages, e.g. the file name. */
int toml_parse(const char *text, size_t len, const char *source, json_t **out,
	       struct evo_error *err);

/* One key as TOML writes it, bare when it can be and quoted with escapes
 * otherwise ("a b", "line\nbreak"), so that messages naming a key stay
 * on one line; cut with "..." to fit size bytes. Returns buf. */
const char *toml_key_text(const char *key, char *buf, size_t size);

#endif
