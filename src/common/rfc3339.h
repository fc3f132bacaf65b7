/* RFC 3339 timestamps as E2B's API and ours write them
 * ("2026-11-22T05:00:00.123Z", or with an offset such as "+02:00"). */
#ifndef EVOCLAW_COMMON_RFC3339_H
#define EVOCLAW_COMMON_RFC3339_H

#include <stdint.h>

/* Milliseconds since the epoch into *ms (fractions past milliseconds are
 * dropped). 0, or -1 when s is not such a timestamp. */
int rfc3339_parse_ms(const char *s, int64_t *ms);

#endif
