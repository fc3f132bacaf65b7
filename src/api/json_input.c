#include "api/json_input.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *field(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

int json_input_known_keys(json_t *obj, const char *prefix, const char *const *allowed,
			  struct evo_error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool known = false;
		for (const char *const *a = allowed; *a && !known; a++)
			known = strcmp(*a, key) == 0;
		if (!known)
			return evo_error_set(err, EVO_ERR_INVALID, 0, "%s%.64s: unknown field", prefix,
					     key);
	}
	return 0;
}

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r')
			return true;
	return false;
}

int json_input_string(json_t *obj, const char *prefix, const char *key, size_t max_len,
		      bool required, const char **out, struct evo_error *err)
{
	json_t *v = field(obj, key);
	if (v == NULL) {
		if (required)
			return evo_error_set(err, EVO_ERR_INVALID, 0, "%s%s: required", prefix, key);
		return 0;
	}
	if (!json_is_string(v))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s%s: must be a string", prefix, key);
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (len == 0 || len > max_len || strlen(s) != len || has_control_chars(s))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "%s%s: must be 1 to %zu characters, without control characters",
				     prefix, key, max_len);
	*out = s;
	return 0;
}

int json_input_uint(json_t *obj, const char *prefix, const char *key, uint64_t min, uint64_t max,
		    uint64_t *out, struct evo_error *err)
{
	json_t *v = field(obj, key);
	if (v == NULL)
		return 0;
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (!json_is_integer(v) || n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s%s: must be an integer from %llu to %llu",
				     prefix, key, (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

int json_input_bool(json_t *obj, const char *prefix, const char *key, bool *out,
		    struct evo_error *err)
{
	json_t *v = field(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s%s: must be true or false", prefix,
				     key);
	*out = json_is_true(v);
	return 0;
}

int json_input_string_array(json_t *obj, const char *prefix, const char *key, size_t max_items,
			    size_t max_len, char **out, struct evo_error *err)
{
	json_t *v = field(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > max_items)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "%s%s: must be an array of 1 to %zu strings", prefix, key,
				     max_items);
	size_t i;
	json_t *item;
	json_array_foreach(v, i, item) {
		const char *s = json_is_string(item) ? json_string_value(item) : NULL;
		if (s == NULL || json_string_length(item) == 0 || json_string_length(item) > max_len ||
		    strlen(s) != json_string_length(item))
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "%s%s[%zu]: must be a string of 1 to %zu characters",
					     prefix, key, i, max_len);
	}
	*out = json_dumps(v, JSON_COMPACT);
	return 0;
}

static bool env_name_valid(const char *k)
{
	if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || *k == '_'))
		return false;
	for (const char *p = k; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_' ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return strlen(k) <= 128;
}

int json_input_env(json_t *obj, const char *prefix, const char *key, char **out,
		   struct evo_error *err)
{
	json_t *v = field(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_object(v) || json_object_size(v) > 256)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "%s%s: must be an object of at most 256 NAME: \"value\" pairs",
				     prefix, key);
	const char *k;
	json_t *val;
	json_object_foreach(v, k, val) {
		if (!env_name_valid(k))
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "%s%s.%.64s: not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
					     prefix, key, k);
		if (!json_is_string(val) || json_string_length(val) > 32768 ||
		    strlen(json_string_value(val)) != json_string_length(val))
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "%s%s.%s: must be a string of at most 32768 bytes", prefix,
					     key, k);
	}
	*out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	return 0;
}

int json_input_object(json_t *obj, const char *prefix, const char *key, size_t max_bytes,
		      char **out, struct evo_error *err)
{
	json_t *v = field(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s%s: must be an object", prefix, key);
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL || strlen(text) > max_bytes) {
		free(text);
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s%s: at most %zu bytes of JSON",
				     prefix, key, max_bytes);
	}
	*out = text;
	return 0;
}

bool json_input_error_field(const char *message, char *out, size_t size)
{
	/* name ( "." key | "[" digits "]" )* ": ", where a key after a dot may
	 * be any text but ".[:" (an environment variable's name as given:
	 * "environment.BAD NAME: not a variable name"). */
	const char *p = message;
	if (!(isalpha((unsigned char)*p) || *p == '_'))
		return false;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	for (;;) {
		if (*p == '.') {
			const char *key = ++p;
			while (*p && !strchr(".[:", *p) && !iscntrl((unsigned char)*p))
				p++;
			if (p == key)
				return false;
		} else if (*p == '[' && isdigit((unsigned char)p[1])) {
			p++;
			while (isdigit((unsigned char)*p))
				p++;
			if (*p++ != ']')
				return false;
		} else {
			break;
		}
	}
	size_t len = (size_t)(p - message);
	if (p[0] != ':' || p[1] != ' ' || len >= size)
		return false;
	memcpy(out, message, len);
	out[len] = '\0';
	return true;
}
