/* Small text helpers shared by the parsers (TOML, HTTP, URLs) and the
 * checks of keys and tokens. */
#ifndef EVOCLAW_COMMON_TEXT_H
#define EVOCLAW_COMMON_TEXT_H

#include <stdbool.h>
#include <string.h>

/* The value of one hexadecimal digit, or -1 if c is not one. */
static inline int text_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding in place ('+' is a space, as in a query string);
 * false on a malformed escape. */
static inline bool text_percent_decode(char *s)
{
	char *w = s;
	for (const char *p = s; *p; p++) {
		if (*p == '%') {
			int hi = text_hex_value((unsigned char)p[1]);
			int lo = hi < 0 ? -1 : text_hex_value((unsigned char)p[2]);
			if (lo < 0)
				return false;
			*w++ = (char)(hi << 4 | lo);
			p += 2;
		} else {
			*w++ = *p == '+' ? ' ' : *p;
		}
	}
	*w = '\0';
	return true;
}

/* Equal secrets (keys, tokens), compared in time that does not depend on
 * where they differ. */
static inline bool text_same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = (unsigned char)(la != lb);
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return diff == 0;
}

#endif
