#include "api/auth.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/fileutil.h"
#include "store/store.h"

#define KEY_PREFIX "evo_"
#define KEY_RANDOM_BYTES 32

int auth_load_secret(const char *data_dir, uint8_t secret[AUTH_SECRET_LEN], struct evo_error *err)
{
	if (sodium_init() < 0)
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "libsodium cannot start");
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/keys.secret", data_dir);
	char buf[2 * AUTH_SECRET_LEN];
	ssize_t n = read_file_small(path, buf, sizeof buf);
	if (n == AUTH_SECRET_LEN) {
		memcpy(secret, buf, AUTH_SECRET_LEN);
		sodium_memzero(buf, sizeof buf);
		return 0;
	}
	if (n >= 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "%s is not %d bytes: restore it from a backup (tenant keys "
				     "cannot be checked without it)",
				     path, AUTH_SECRET_LEN);
	if (errno != ENOENT)
		return evo_error_errno(err, "read %s", path);
	randombytes_buf(secret, AUTH_SECRET_LEN);
	if (write_file_atomic(path, secret, AUTH_SECRET_LEN, 0600) < 0)
		return evo_error_errno(err, "create %s", path);
	return 0;
}

void auth_new_id(const char *prefix, char out[TENANT_ID_MAX])
{
	uint8_t raw[8];
	randombytes_buf(raw, sizeof raw);
	char hex[2 * sizeof raw + 1];
	sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
	snprintf(out, TENANT_ID_MAX, "%s%s", prefix, hex);
}

static void key_hash(const uint8_t secret[AUTH_SECRET_LEN], const char *key,
		     uint8_t out[API_KEY_HASH_LEN])
{
	crypto_generichash(out, API_KEY_HASH_LEN, (const unsigned char *)key, strlen(key), secret,
			   AUTH_SECRET_LEN);
}

void auth_new_key(const uint8_t secret[AUTH_SECRET_LEN], const char *tenant_id, int64_t now_ms,
		  char text[API_KEY_TEXT_MAX], struct api_key_record *rec)
{
	uint8_t raw[KEY_RANDOM_BYTES];
	randombytes_buf(raw, sizeof raw);
	char hex[2 * KEY_RANDOM_BYTES + 1];
	sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
	snprintf(text, API_KEY_TEXT_MAX, KEY_PREFIX "%s", hex);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(hex, sizeof hex);
	memset(rec, 0, sizeof *rec);
	auth_new_id("key_", rec->id);
	snprintf(rec->tenant_id, sizeof rec->tenant_id, "%s", tenant_id);
	key_hash(secret, text, rec->hash);
	/* Enough to tell a tenant's keys apart, far too little to guess one. */
	snprintf(rec->prefix, sizeof rec->prefix, "%.12s", text);
	rec->created_at_ms = now_ms;
}

int auth_identify_tenant(struct store *store, const uint8_t secret[AUTH_SECRET_LEN],
			 const char *key, struct api_caller *out, struct evo_error *err)
{
	size_t n = strlen(key);
	if (strncmp(key, KEY_PREFIX, strlen(KEY_PREFIX)) != 0 ||
	    n != strlen(KEY_PREFIX) + 2 * KEY_RANDOM_BYTES)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "invalid API key");
	uint8_t hash[API_KEY_HASH_LEN];
	key_hash(secret, key, hash);
	struct api_key_record rec;
	struct evo_error lookup = {0};
	if (store_key_find(store, hash, &rec, &lookup) < 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     lookup.kind == EVO_ERR_NOT_FOUND ? "invalid API key"
								      : "cannot check the API key now");
	if (rec.revoked_at_ms != 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "this API key was revoked");
	memset(out, 0, sizeof *out);
	snprintf(out->tenant, sizeof out->tenant, "%s", rec.tenant_id);
	snprintf(out->key_id, sizeof out->key_id, "%s", rec.id);
	return 0;
}
