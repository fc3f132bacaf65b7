/* Small text helpers shared by the parsers (TOML, HTTP, URLs). */
#ifndef EVOCLAW_COMMON_TEXT_H
#define EVOCLAW_COMMON_TEXT_H

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

#endif
