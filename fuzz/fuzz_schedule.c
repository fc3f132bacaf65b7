/* libFuzzer target: time zone files (TZif, with their POSIX TZ footer) and
 * schedules. Never a crash; a zone that parses gives offsets within ±26 h
 * at any time, and local times that map back near where they came from;
 * a schedule that parses has a window of some length on some day. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tz tz;
	struct evo_error err = {0};
	if (tz_parse(data, size, &tz, &err) == 0) {
		static const int64_t times[] = {INT32_MIN, -1, 0, 1700000000, 2147483647, 4000000000LL,
						 32503680000LL};
		for (size_t i = 0; i < sizeof times / sizeof *times; i++) {
			int32_t off = tz_offset(&tz, times[i]);
			if (off < -26 * 3600 || off > 26 * 3600)
				abort();
			int64_t back = tz_local_to_utc(&tz, times[i]);
			if (back < times[i] - 2 * 26 * 3600 || back > times[i] + 2 * 26 * 3600)
				abort();
		}
		tz_free(&tz);
	}
	json_t *obj = json_loadb((const char *)data, size, 0, NULL);
	struct schedule s;
	if (obj && schedule_parse(obj, "schedule", &s, &err) == 0) {
		if (s.days == 0 || s.start_sec == s.end_sec || s.start_sec < 0 || s.end_sec > 24 * 3600)
			abort();
		struct tz utc = {.has_rule = true};
		int64_t next;
		(void)schedule_open_at(&s, &utc, 1700000000, &next);
	}
	json_decref(obj);
	return 0;
}
