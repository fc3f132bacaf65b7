/* Tenants of SaaS mode (DESIGN §6-7, issue 5): who they are, their limits,
 * and the API keys that act for them. Keys are stored only as a keyed hash;
 * the key itself is shown once, when it is made. */
#ifndef EVOCLAW_CORE_TENANT_H
#define EVOCLAW_CORE_TENANT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/agent.h"

#define TENANT_ID_MAX 40
#define TENANT_EMAIL_MAX 254
#define API_KEY_HASH_LEN 32
#define API_KEY_PREFIX_MAX 16

struct tenant {
	char id[TENANT_ID_MAX];  /* "ten_" + 16 hex digits */
	char email[TENANT_EMAIL_MAX + 1];
	uint32_t max_agents;
	usd_micros credit_limit;
	int64_t created_at_ms;
};

struct api_key_record {
	char id[TENANT_ID_MAX];       /* "key_" + 16 hex digits: how a key is named */
	char tenant_id[TENANT_ID_MAX];
	uint8_t hash[API_KEY_HASH_LEN];
	char prefix[API_KEY_PREFIX_MAX]; /* the key's first characters, for listings */
	int64_t created_at_ms;
	int64_t revoked_at_ms;        /* 0 = in use */
};

/* Something like an e-mail address: local@domain, printable, no spaces,
 * at most TENANT_EMAIL_MAX bytes. */
bool tenant_email_valid(const char *email);

#endif
