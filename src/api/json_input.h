/* Typed fields of a JSON request body. Every error is EVO_ERR_INVALID and
 * starts with the field's JSON path ("config.timeout: must be an integer
 * from 1 to 86400"), so a client knows what to fix. A JSON null counts as
 * absent. */
#ifndef EVOCLAW_API_JSON_INPUT_H
#define EVOCLAW_API_JSON_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Fail on a key not in allowed (NULL-terminated). prefix names obj ("" at
 * the top, "config." inside). */
int json_input_known_keys(json_t *obj, const char *prefix, const char *const *allowed,
			  struct evo_error *err);

/* *out points into obj (valid while it lives); left alone when absent.
 * Strings are 1..max_len bytes without control characters. */
int json_input_string(json_t *obj, const char *prefix, const char *key, size_t max_len,
		      bool required, const char **out, struct evo_error *err);

int json_input_uint(json_t *obj, const char *prefix, const char *key, uint64_t min, uint64_t max,
		    uint64_t *out, struct evo_error *err);

int json_input_bool(json_t *obj, const char *prefix, const char *key, bool *out,
		    struct evo_error *err);

/* An array of 1..max_items strings (each 1..max_len) -> compact JSON in
 * *out (malloc'd), NULL when absent. */
int json_input_string_array(json_t *obj, const char *prefix, const char *key, size_t max_items,
			    size_t max_len, char **out, struct evo_error *err);

/* An object of environment variables: names [A-Za-z_][A-Za-z0-9_]*, string
 * values -> compact JSON in *out (malloc'd), NULL when absent. */
int json_input_env(json_t *obj, const char *prefix, const char *key, char **out,
		   struct evo_error *err);

/* Any JSON object (a genome) of at most max_bytes encoded -> *out. */
int json_input_object(json_t *obj, const char *prefix, const char *key, size_t max_bytes,
		      char **out, struct evo_error *err);

/* The JSON path an error message starts with ("config.timeout" of
 * "config.timeout: must be ..."), copied into out: what the HTTP layer
 * adds as the error's "field". False when the message names none. */
bool json_input_error_field(const char *message, char *out, size_t size);

#endif
