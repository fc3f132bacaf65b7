/* Base64 (RFC 4648): standard alphabet with padding out; standard or
 * URL-safe, padded or not, in. Connect JSON carries bytes so (protobuf's
 * canonical JSON), and HTTP Basic auth carries its credentials so. */
#ifndef EVOCLAW_COMMON_BASE64_H
#define EVOCLAW_COMMON_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters base64_encode writes for len bytes, without a terminator. */
static inline size_t base64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

/* Write the encoding of data into out (base64_encoded_len(len) + 1 bytes,
 * NUL-terminated). Cannot fail. */
void base64_encode(const uint8_t *data, size_t len, char *out);

/* Decode text (len characters; whitespace is not allowed) into out, which
 * holds at least len * 3 / 4 + 3 bytes. False on a character outside both
 * alphabets, padding not at the end, or a length no encoding has. */
bool base64_decode(const char *text, size_t len, uint8_t *out, size_t *out_len);

#endif
