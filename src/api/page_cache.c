#include "api/page_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

struct page {
	char key[PAGE_CACHE_KEY_MAX];
	uint64_t generation;
	int64_t expires_ms;
	char *body;
	size_t len;
};

/* Direct-mapped by a hash of the key: a colliding key replaces the page
 * it collides with. Bounded: at most PAGE_CACHE_SLOTS pages. */
struct page_cache {
	pthread_mutex_t lock;
	struct page slots[PAGE_CACHE_SLOTS];
};

static size_t slot_of(const char *key)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return (size_t)(h % PAGE_CACHE_SLOTS);
}

struct page_cache *page_cache_new(void)
{
	struct page_cache *c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void page_cache_free(struct page_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < PAGE_CACHE_SLOTS; i++)
		free(c->slots[i].body);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

char *page_cache_get(struct page_cache *c, const char *key, uint64_t generation, int64_t now_ms,
		     size_t *len)
{
	struct page *p = &c->slots[slot_of(key)];
	char *copy = NULL;
	pthread_mutex_lock(&c->lock);
	if (p->body && p->generation == generation && strcmp(p->key, key) == 0 &&
	    (p->expires_ms == 0 || now_ms < p->expires_ms)) {
		copy = xmalloc(p->len);
		memcpy(copy, p->body, p->len);
		*len = p->len;
	}
	pthread_mutex_unlock(&c->lock);
	return copy;
}

void page_cache_put(struct page_cache *c, const char *key, uint64_t generation, int64_t expires_ms,
		    const char *body, size_t len)
{
	if (strlen(key) >= PAGE_CACHE_KEY_MAX)
		return;
	char *copy = xmalloc(len ? len : 1);
	memcpy(copy, body, len);
	struct page *p = &c->slots[slot_of(key)];
	pthread_mutex_lock(&c->lock);
	char *old = p->body;
	snprintf(p->key, sizeof p->key, "%s", key);
	p->generation = generation;
	p->expires_ms = expires_ms;
	p->body = copy;
	p->len = len;
	pthread_mutex_unlock(&c->lock);
	free(old);
}
