/* Who is calling (DESIGN §7): the operator's admin key, or a tenant's API
 * key. Tenant keys are "evo_" + 64 hex digits (32 random bytes); the server
 * keeps only their BLAKE2b hash keyed with a secret of its own
 * (<data>/keys.secret), so a stolen database yields no usable key. */
#ifndef EVOCLAW_API_AUTH_H
#define EVOCLAW_API_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "core/tenant.h"

#define AUTH_SECRET_LEN 32
#define API_KEY_TEXT_MAX 72

struct store;

struct api_caller {
	bool admin;
	bool anonymous; /* no key: only open registration lets one in */
	char tenant[TENANT_ID_MAX]; /* "" for the admin */
	char key_id[TENANT_ID_MAX];
};

/* Read <data_dir>/keys.secret, making it (mode 0600) on first start. */
int auth_load_secret(const char *data_dir, uint8_t secret[AUTH_SECRET_LEN], struct evo_error *err);

/* A fresh random id with a prefix: "ten_" / "key_" + 16 hex digits. */
void auth_new_id(const char *prefix, char out[TENANT_ID_MAX]);

/* A new key for tenant_id: its text (shown once, never stored) and the
 * record to store. */
void auth_new_key(const uint8_t secret[AUTH_SECRET_LEN], const char *tenant_id, int64_t now_ms,
		  char text[API_KEY_TEXT_MAX], struct api_key_record *rec);

/* Whose is this (non-admin) key? 0 with out filled; -1 with a message for
 * a 401 when it is malformed, unknown or revoked. */
int auth_identify_tenant(struct store *store, const uint8_t secret[AUTH_SECRET_LEN],
			 const char *key, struct api_caller *out, struct evo_error *err);

#endif
