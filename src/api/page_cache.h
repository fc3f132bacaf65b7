/* Rendered pages of agent lists, kept until the store changes.
 *
 * A page of finished agents is the same bytes until something is written:
 * the store counts its writes (store_generation), and a page rendered at
 * generation G is served again only while the store is still at G. A page
 * that shows a live agent (whose cost and run time grow without writes)
 * is kept for at most PAGE_CACHE_LIVE_MS. Rendering a page of 50 costs
 * ~0.45 ms of CPU (SQLite rows and count ~0.35, the JSON ~0.08); a hit
 * costs a copy. */
#ifndef EVOCLAW_API_PAGE_CACHE_H
#define EVOCLAW_API_PAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_CACHE_SLOTS 64
#define PAGE_CACHE_LIVE_MS 250
#define PAGE_CACHE_KEY_MAX 256

struct page_cache;

struct page_cache *page_cache_new(void);
void page_cache_free(struct page_cache *c);

/* A malloc'd copy of the page for key, if it is still good at
 * generation and now_ms; NULL otherwise. */
char *page_cache_get(struct page_cache *c, const char *key, uint64_t generation, int64_t now_ms,
		     size_t *len);

/* Keep body (copied) for key, rendered at generation; expires_ms 0 =
 * until the generation moves. */
void page_cache_put(struct page_cache *c, const char *key, uint64_t generation, int64_t expires_ms,
		    const char *body, size_t len);

#endif
