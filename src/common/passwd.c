#include "common/passwd.h"

#include <string.h>

/* A whole field of decimal digits that fits 32 bits. */
static bool parse_id(const char *s, size_t len, uint32_t *out)
{
	if (len == 0 || len > 10)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool passwd_parse_line(const char *line, size_t len, struct passwd_entry *out)
{
	const char *nl = memchr(line, '\n', len);
	if (nl != NULL)
		len = (size_t)(nl - line);
	const char *field[7];
	size_t field_len[7];
	size_t n = 0;
	const char *pos = line, *end = line + len;
	while (n < 7) {
		const char *colon = memchr(pos, ':', (size_t)(end - pos));
		field[n] = pos;
		field_len[n] = (size_t)((colon ? colon : end) - pos);
		n++;
		if (colon == NULL)
			break;
		pos = colon + 1;
	}
	if (n < 6 || field_len[0] == 0 || field[0][0] == '#')
		return false;
	if (field_len[0] >= sizeof out->name || field_len[5] >= sizeof out->home)
		return false;
	if (memchr(field[0], '\0', field_len[0]) || memchr(field[5], '\0', field_len[5]))
		return false;
	if (!parse_id(field[2], field_len[2], &out->uid) ||
	    !parse_id(field[3], field_len[3], &out->gid))
		return false;
	memcpy(out->name, field[0], field_len[0]);
	out->name[field_len[0]] = '\0';
	memcpy(out->home, field[5], field_len[5]);
	out->home[field_len[5]] = '\0';
	return true;
}

bool passwd_find_name(const char *text, size_t len, const char *name, struct passwd_entry *out)
{
	const char *pos = text, *end = text + len;
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t line_len = (size_t)((nl ? nl : end) - pos);
		struct passwd_entry e;
		if (passwd_parse_line(pos, line_len, &e) && strcmp(e.name, name) == 0) {
			*out = e;
			return true;
		}
		pos += line_len + 1;
	}
	return false;
}
