/* src/core/tz.c and schedule.c: zones from TZif files, daylight saving,
 * and scheduled windows. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/schedule.h"

static int64_t utc(int64_t y, int mo, int d, int h, int mi)
{
	return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static struct tz load(const char *name)
{
	struct tz tz;
	struct evo_error err = {0};
	cr_assert_eq(tz_load(name, &tz, &err), 0, "%s", err.msg);
	return tz;
}

Test(tz, civil_dates)
{
	cr_expect_eq(tz_days_from_civil(1970, 1, 1), 0);
	cr_expect_eq(tz_weekday(0), 4); /* a Thursday */
	cr_expect_eq(tz_weekday(tz_days_from_civil(2026, 11, 22)), 0); /* a Sunday */
	int64_t y;
	int m, d;
	tz_civil_from_days(tz_days_from_civil(2024, 2, 29), &y, &m, &d);
	cr_expect(y == 2024 && m == 2 && d == 29);
}

Test(tz, new_york_daylight_saving_from_the_file_and_its_rule)
{
	struct tz ny = load("America/New_York");
	cr_expect_eq(tz_offset(&ny, utc(2026, 1, 15, 12, 0)), -5 * 3600);
	cr_expect_eq(tz_offset(&ny, utc(2026, 7, 1, 12, 0)), -4 * 3600);
	/* 2026-03-08 02:00 EST -> 03:00 EDT, i.e. 07:00 UTC. */
	cr_expect_eq(tz_offset(&ny, utc(2026, 3, 8, 7, 0) - 1), -5 * 3600);
	cr_expect_eq(tz_offset(&ny, utc(2026, 3, 8, 7, 0)), -4 * 3600);
	/* 2026-11-01 02:00 EDT -> 01:00 EST, i.e. 06:00 UTC. */
	cr_expect_eq(tz_offset(&ny, utc(2026, 11, 1, 6, 0) - 1), -4 * 3600);
	cr_expect_eq(tz_offset(&ny, utc(2026, 11, 1, 6, 0)), -5 * 3600);
	/* Past the file's transitions, the footer's rule: 2050-03-13 is the
	 * second Sunday of March. */
	cr_expect_eq(tz_offset(&ny, utc(2050, 3, 13, 7, 0) - 1), -5 * 3600);
	cr_expect_eq(tz_offset(&ny, utc(2050, 3, 13, 7, 0)), -4 * 3600);
	cr_expect_eq(tz_offset(&ny, utc(2050, 11, 6, 6, 0)), -5 * 3600);
	/* Local times: one skipped (moved forward by the gap), one twice
	 * (the first). */
	cr_expect_eq(tz_local_to_utc(&ny, utc(2026, 3, 8, 2, 30)), utc(2026, 3, 8, 7, 30));
	cr_expect_eq(tz_local_to_utc(&ny, utc(2026, 11, 1, 1, 30)), utc(2026, 11, 1, 5, 30));
	cr_expect_eq(tz_local_to_utc(&ny, utc(2026, 6, 1, 9, 0)), utc(2026, 6, 1, 13, 0));
	tz_free(&ny);
}

/* Against the C library's own reading of the same zones, at many times. */
Test(tz, agrees_with_the_c_library)
{
	static const char *const zones[] = {"America/New_York", "Europe/London", "Australia/Sydney",
					    "Asia/Tokyo", "America/Sao_Paulo", "UTC"};
	srand(7);
	for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
		struct tz tz = load(zones[z]);
		setenv("TZ", zones[z], 1);
		tzset();
		for (int i = 0; i < 20000; i++) {
			/* 1975 .. 2100 */
			time_t t = (time_t)(157766400LL + (int64_t)((double)rand() / RAND_MAX * 4000000000.0));
			struct tm tm;
			localtime_r(&t, &tm);
			cr_assert_eq(tz_offset(&tz, t), tm.tm_gmtoff, "%s at %lld: %d, libc %ld", zones[z],
				     (long long)t, tz_offset(&tz, t), tm.tm_gmtoff);
		}
		tz_free(&tz);
	}
	unsetenv("TZ");
}

Test(tz, bad_zones_and_files)
{
	struct tz tz;
	struct evo_error err = {0};
	cr_expect_eq(tz_load("Mars/Olympus", &tz, &err), -1);
	cr_expect_not_null(strstr(err.msg, "timezone: no zone \"Mars/Olympus\""), "%s", err.msg);
	cr_expect_eq(tz_load("../../etc/passwd", &tz, &err), -1);
	cr_expect_not_null(strstr(err.msg, "is not an IANA zone name"), "%s", err.msg);
	cr_expect_eq(tz_parse((const uint8_t *)"TZif2", 5, &tz, &err), -1);
	cr_expect_eq(tz_parse((const uint8_t *)"hello world, not a zone at all, no no no no", 44, &tz, &err), -1);
}

static struct schedule parse(const char *json)
{
	json_t *obj = json_loads(json, 0, NULL);
	struct schedule s;
	struct evo_error err = {0};
	cr_assert_eq(schedule_parse(obj, "schedule", &s, &err), 0, "%s", err.msg);
	json_decref(obj);
	return s;
}

Test(schedule, market_hours_across_a_daylight_saving_change)
{
	struct schedule s = parse("{\"start\":\"09:00\",\"end\":\"16:00\",\"timezone\":\"America/New_York\","
				  "\"days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"]}");
	struct tz ny = load(s.timezone);
	int64_t next;
	/* Friday 2026-03-06, standard time: 14:00 to 21:00 UTC. */
	cr_expect_not(schedule_open_at(&s, &ny, utc(2026, 3, 6, 13, 59), &next));
	cr_expect_eq(next, utc(2026, 3, 6, 14, 0));
	cr_expect(schedule_open_at(&s, &ny, utc(2026, 3, 6, 14, 0), &next));
	cr_expect_eq(next, utc(2026, 3, 6, 21, 0));
	/* The weekend, over the change (Sunday 03-08): it next opens Monday
	 * at 09:00 daylight time, 13:00 UTC. */
	cr_expect_not(schedule_open_at(&s, &ny, utc(2026, 3, 7, 15, 0), &next));
	cr_expect_eq(next, utc(2026, 3, 9, 13, 0));
	cr_expect(schedule_open_at(&s, &ny, utc(2026, 3, 9, 19, 59), &next));
	cr_expect_eq(next, utc(2026, 3, 9, 20, 0));
	cr_expect_not(schedule_open_at(&s, &ny, utc(2026, 3, 9, 20, 0), NULL));
	/* And back in November. */
	cr_expect(schedule_open_at(&s, &ny, utc(2026, 10, 30, 13, 0), NULL));
	cr_expect_not(schedule_open_at(&s, &ny, utc(2026, 11, 2, 13, 30), &next));
	cr_expect_eq(next, utc(2026, 11, 2, 14, 0));
	tz_free(&ny);
}

Test(schedule, overnight_windows_and_every_day)
{
	struct schedule s = parse("{\"start\":\"22:00\",\"end\":\"02:00\",\"timezone\":\"Europe/London\"}");
	cr_expect_eq(s.days, 0x7f);
	struct tz london = load("Europe/London");
	/* Winter: London is UTC. */
	cr_expect(schedule_open_at(&s, &london, utc(2026, 1, 10, 23, 30), NULL));
	cr_expect(schedule_open_at(&s, &london, utc(2026, 1, 11, 1, 59), NULL));
	cr_expect_not(schedule_open_at(&s, &london, utc(2026, 1, 11, 2, 0), NULL));
	/* Summer: UTC+1, so 21:00 UTC opens it. */
	cr_expect(schedule_open_at(&s, &london, utc(2026, 7, 10, 21, 0), NULL));
	tz_free(&london);
}

Test(schedule, seconds_and_windows_inside_a_daylight_saving_change)
{
	/* A window a few seconds wide (the end-to-end test uses these). */
	struct schedule s = parse("{\"start\":\"09:30:15\",\"end\":\"09:30:20\",\"timezone\":\"UTC\"}");
	cr_expect_eq(s.start_sec, 9 * 3600 + 30 * 60 + 15);
	struct tz u = load("UTC");
	int64_t next;
	cr_expect_not(schedule_open_at(&s, &u, utc(2026, 5, 1, 9, 30) + 14, &next));
	cr_expect_eq(next, utc(2026, 5, 1, 9, 30) + 15);
	cr_expect(schedule_open_at(&s, &u, utc(2026, 5, 1, 9, 30) + 15, &next));
	cr_expect_eq(next, utc(2026, 5, 1, 9, 30) + 20);
	cr_expect_not(schedule_open_at(&s, &u, utc(2026, 5, 1, 9, 30) + 20, NULL));
	tz_free(&u);
	/* New York, 01:30 to 03:00 local. On 2026-03-08 the clock jumps from
	 * 02:00 EST to 03:00 EDT: the window is 01:30 EST (06:30 UTC) to
	 * 03:00 EDT (07:00 UTC), half an hour. On 2026-11-01 01:00-02:00
	 * happens twice: it opens at the first 01:30 (EDT, 05:30 UTC) and
	 * closes at 03:00 EST (08:00 UTC), two and a half hours. */
	s = parse("{\"start\":\"01:30\",\"end\":\"03:00\",\"timezone\":\"America/New_York\"}");
	struct tz ny = load(s.timezone);
	cr_expect_not(schedule_open_at(&s, &ny, utc(2026, 3, 8, 6, 29), &next));
	cr_expect_eq(next, utc(2026, 3, 8, 6, 30));
	cr_expect(schedule_open_at(&s, &ny, utc(2026, 3, 8, 6, 30), &next));
	cr_expect_eq(next, utc(2026, 3, 8, 7, 0));
	cr_expect_not(schedule_open_at(&s, &ny, utc(2026, 3, 8, 7, 0), NULL));
	cr_expect(schedule_open_at(&s, &ny, utc(2026, 11, 1, 5, 30), &next));
	cr_expect_eq(next, utc(2026, 11, 1, 8, 0));
	cr_expect(schedule_open_at(&s, &ny, utc(2026, 11, 1, 7, 59), NULL));
	int64_t from, to;
	cr_expect(schedule_window_at(&s, &ny, utc(2026, 11, 1, 7, 0), &from, &to));
	cr_expect_eq(from, utc(2026, 11, 1, 5, 30));
	cr_expect_eq(to, utc(2026, 11, 1, 8, 0));
	cr_expect_not(schedule_window_at(&s, &ny, utc(2026, 11, 1, 9, 0), &from, &to));
	cr_expect_not(schedule_open_at(&s, &ny, utc(2026, 11, 1, 8, 0), NULL));
	tz_free(&ny);
}

Test(schedule, bad_schedules_name_the_field)
{
	static const struct {
		const char *json, *message;
	} bad[] = {
		{"[]", "schedule: must be an object"},
		{"{\"start\":\"9am\",\"end\":\"16:00\",\"timezone\":\"UTC\"}", "schedule.start: must be \"HH:MM\""},
		{"{\"start\":\"09:00\",\"end\":\"25:00\",\"timezone\":\"UTC\"}", "schedule.end: must be"},
		{"{\"start\":\"09:00\",\"end\":\"09:00\",\"timezone\":\"UTC\"}", "schedule.end: must differ"},
		{"{\"start\":\"09:00\",\"end\":\"10:00\"}", "schedule.timezone: must be an IANA zone"},
		{"{\"start\":\"09:00\",\"end\":\"10:00\",\"timezone\":\"UTC\",\"days\":[\"mon\",\"funday\"]}",
		 "schedule.days[1]: must be one of"},
		{"{\"start\":\"09:00\",\"end\":\"10:00\",\"timezone\":\"UTC\",\"when\":1}", "schedule.when: unknown field"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		json_t *obj = json_loads(bad[i].json, 0, NULL);
		struct schedule s;
		struct evo_error err = {0};
		cr_expect_eq(schedule_parse(obj, "schedule", &s, &err), -1, "%s", bad[i].json);
		cr_expect_not_null(strstr(err.msg, bad[i].message), "%s -> %s", bad[i].json, err.msg);
		json_decref(obj);
	}
}
