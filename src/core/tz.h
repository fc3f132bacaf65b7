/* Time zones from the system's TZif files (/usr/share/zoneinfo), parsed
 * in pure code (no TZ environment, no localtime, thread-safe): what
 * scheduled agents need to open and close their windows in an IANA zone,
 * daylight-saving changes included. Transitions come from the file; past
 * its last one, from its POSIX TZ footer ("EST5EDT,M3.2.0,M11.1.0"). */
#ifndef EVOCLAW_CORE_TZ_H
#define EVOCLAW_CORE_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* A POSIX TZ rule's transition: month m (1-12), week w (1-5, 5 = last),
 * weekday d (0 = Sunday), at `secs` local time. */
struct tz_rule_date {
	int month, week, weekday;
	int32_t secs;
};

struct tz {
	size_t n;             /* transitions */
	int64_t *at;          /* UTC seconds, increasing */
	uint8_t *type;        /* index into offsets/dst for each */
	size_t ntypes;
	int32_t *offsets;     /* seconds east of UTC */
	bool *dst;
	/* the footer's rule, for times after the last transition */
	bool has_rule, rule_dst;
	int32_t std_offset, dst_offset; /* seconds east of UTC */
	struct tz_rule_date dst_start, dst_end;
};

/* Parse a TZif file's bytes (version 2 or later: the 64-bit data). */
int tz_parse(const uint8_t *data, size_t len, struct tz *out, struct evo_error *err);

/* Load an IANA zone ("America/New_York", "UTC") from the system's zoneinfo
 * (EVOCLAW_ZONEINFO overrides /usr/share/zoneinfo). A name that is not a
 * zone is EVO_ERR_INVALID naming it. */
int tz_load(const char *name, struct tz *out, struct evo_error *err);

void tz_free(struct tz *tz);

/* Seconds east of UTC at UTC second t. */
int32_t tz_offset(const struct tz *tz, int64_t t);

/* The UTC second of a local wall-clock second: a time skipped by a
 * spring-forward change moves forward by the gap (02:30 becomes 03:30
 * daylight time); a time that happens twice
 * (fall back) is its first occurrence. */
int64_t tz_local_to_utc(const struct tz *tz, int64_t local);

/* Days since 1970-01-01 of a civil date, and back; weekday 0 = Sunday. */
int64_t tz_days_from_civil(int64_t y, int m, int d);
void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int tz_weekday(int64_t days);

#endif
