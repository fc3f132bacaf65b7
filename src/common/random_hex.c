#include "common/random_hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

void random_hex(char *out, size_t bytes)
{
	unsigned char raw[32];
	if (bytes > sizeof raw)
		bytes = sizeof raw;
	if (getrandom(raw, bytes, 0) != (ssize_t)bytes)
		abort();
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	out[2 * bytes] = '\0';
}
