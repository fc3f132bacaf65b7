/* Scheduled agents (issue 7 §4): a daily window in an IANA time zone,
 *   {"start": "09:00", "end": "16:00", "timezone": "America/New_York",
 *    "days": ["mon", "tue", "wed", "thu", "fri"]}
 * open from start to end local time on the listed days (every day when
 * "days" is absent); an end at or before the start runs past midnight
 * (the day is the one it opens on). Daylight-saving changes move the
 * window in UTC, never in local time. Pure, with tz.h. */
#ifndef EVOCLAW_CORE_SCHEDULE_H
#define EVOCLAW_CORE_SCHEDULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "core/tz.h"

struct schedule {
	int start_sec, end_sec; /* seconds after local midnight ("HH:MM[:SS]") */
	uint8_t days;           /* bit d for weekday d (0 = Sunday) */
	char timezone[64];
};

/* Parse and check; errors name the field under `path` ("schedule.start:
 * \"9am\" is not HH:MM"; "HH:MM:SS" too). The zone is only named here: load it with
 * tz_load (which says when it does not exist). */
int schedule_parse(const json_t *obj, const char *path, struct schedule *out,
		   struct evo_error *err);

/* Is the window open at UTC second t? *next_change (not NULL) gets the UTC
 * second it next opens or closes (within the next 8 days; INT64_MAX if
 * never, with no days). */
bool schedule_open_at(const struct schedule *s, const struct tz *tz, int64_t t,
		      int64_t *next_change);

/* The window open at UTC second t: true, with when it opened and when it
 * closes (UTC seconds); false when none is. */
bool schedule_window_at(const struct schedule *s, const struct tz *tz, int64_t t, int64_t *open,
			int64_t *close);

#endif
