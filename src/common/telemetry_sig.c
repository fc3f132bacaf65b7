#include "common/telemetry_sig.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/text.h"

static const char sig_member[] = ",\"sig\":\"";
#define SIG_MEMBER_LEN (sizeof sig_member - 1)
/* `,"sig":"` + hex + `"}` */
#define SIG_SUFFIX_LEN (SIG_MEMBER_LEN + TELEMETRY_SIG_HEX + 2)

/* HMAC-SHA256 of body[0..len) + "}" under token. */
static void mac(const char *token, const char *body, size_t len,
		unsigned char out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)token, strlen(token));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"}", 1);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

char *telemetry_sign(const char *token, const char *json, size_t len)
{
	/* `{}` has no member to follow with a comma. */
	if (len < 3 || json[0] != '{' || json[len - 1] != '}')
		return NULL;
	size_t body = len - 1;
	unsigned char m[crypto_auth_hmacsha256_BYTES];
	mac(token, json, body, m);
	char *out = malloc(body + SIG_SUFFIX_LEN + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, json, body);
	memcpy(out + body, sig_member, SIG_MEMBER_LEN);
	sodium_bin2hex(out + body + SIG_MEMBER_LEN, TELEMETRY_SIG_HEX + 1, m, sizeof m);
	memcpy(out + body + SIG_MEMBER_LEN + TELEMETRY_SIG_HEX, "\"}", 3);
	return out;
}

bool telemetry_sig_split(const char *payload, size_t len, size_t *body_len,
			 char sig_hex[TELEMETRY_SIG_HEX + 1])
{
	if (len < SIG_SUFFIX_LEN + 2 || payload[0] != '{')
		return false;
	size_t at = len - SIG_SUFFIX_LEN;
	if (memcmp(payload + at, sig_member, SIG_MEMBER_LEN) != 0 ||
	    memcmp(payload + len - 2, "\"}", 2) != 0)
		return false;
	const char *hex = payload + at + SIG_MEMBER_LEN;
	for (size_t i = 0; i < TELEMETRY_SIG_HEX; i++)
		if (text_hex_value((unsigned char)hex[i]) < 0)
			return false;
	memcpy(sig_hex, hex, TELEMETRY_SIG_HEX);
	sig_hex[TELEMETRY_SIG_HEX] = '\0';
	*body_len = at;
	return true;
}

bool telemetry_sig_ok(const char *token, const char *payload, size_t body_len,
		      const char *sig_hex)
{
	if (token[0] == '\0' || strlen(sig_hex) != TELEMETRY_SIG_HEX)
		return false;
	unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
	if (sodium_hex2bin(got, sizeof got, sig_hex, TELEMETRY_SIG_HEX, NULL, NULL, NULL) != 0)
		return false;
	mac(token, payload, body_len, want);
	return sodium_memcmp(want, got, sizeof want) == 0;
}
