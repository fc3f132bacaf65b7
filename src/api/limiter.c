#include "api/limiter.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "core/ratelimit.h"

#define SLOTS 4096
#define PROBES 8
#define NAME_MAX_LEN 80

struct slot {
	char name[NAME_MAX_LEN];
	struct rate_bucket bucket;
};

struct api_limiter {
	pthread_mutex_t lock;
	struct slot slots[SLOTS];
};

struct api_limiter *api_limiter_new(void)
{
	struct api_limiter *l = xcalloc(1, sizeof *l);
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void api_limiter_free(struct api_limiter *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

bool api_limiter_take(struct api_limiter *l, const char *name, uint32_t rate, uint32_t burst,
		      int64_t now_ms, uint32_t *retry_after)
{
	if (rate == 0)
		return true;
	char key[NAME_MAX_LEN];
	snprintf(key, sizeof key, "%s", name);
	uint32_t h = fnv1a(key);
	pthread_mutex_lock(&l->lock);
	/* Its slot among a few probes; else the free or least recently used
	 * one of them. */
	struct slot *found = NULL, *oldest = NULL;
	for (uint32_t i = 0; i < PROBES && found == NULL; i++) {
		struct slot *s = &l->slots[(h + i) % SLOTS];
		if (strcmp(s->name, key) == 0)
			found = s;
		else if (oldest == NULL || s->bucket.last_ms < oldest->bucket.last_ms)
			oldest = s;
	}
	if (found == NULL) {
		found = oldest;
		memset(found, 0, sizeof *found);
		snprintf(found->name, sizeof found->name, "%s", key);
	}
	bool ok = rate_take(&found->bucket, rate, burst, now_ms, retry_after);
	pthread_mutex_unlock(&l->lock);
	return ok;
}
