#include "core/schedule.h"

#include <stdio.h>
#include <string.h>

static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* "HH:MM" or "HH:MM:SS", 00:00 to 23:59:59 (24:00 as an end: midnight),
 * as seconds after midnight; -1 if it is neither. */
static int parse_clock(const char *text, bool end)
{
	int h, m, sec = 0;
	char extra;
	size_t len = strlen(text);
	if (len == 5) {
		if (text[2] != ':' || sscanf(text, "%2d:%2d%c", &h, &m, &extra) != 2)
			return -1;
	} else if (len == 8) {
		if (text[2] != ':' || text[5] != ':' ||
		    sscanf(text, "%2d:%2d:%2d%c", &h, &m, &sec, &extra) != 3)
			return -1;
	} else {
		return -1;
	}
	if (end && h == 24 && m == 0 && sec == 0)
		return 24 * 3600;
	if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
		return -1;
	return h * 3600 + m * 60 + sec;
}

int schedule_parse(const json_t *obj, const char *path, struct schedule *out,
		   struct evo_error *err)
{
	if (!json_is_object(obj))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: must be an object", path);
	memset(out, 0, sizeof *out);
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "start") && strcmp(key, "end") && strcmp(key, "timezone") &&
		    strcmp(key, "days"))
			return evo_error_set(err, EVO_ERR_INVALID, 0, "%s.%.32s: unknown field", path, key);
	}
	static const char *const clocks[] = {"start", "end"};
	for (int i = 0; i < 2; i++) {
		json_t *c = json_object_get(obj, clocks[i]);
		int secs = json_is_string(c) ? parse_clock(json_string_value(c), i == 1) : -1;
		if (secs < 0)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "%s.%s: must be \"HH:MM\" or \"HH:MM:SS\" (24-hour)", path,
					     clocks[i]);
		*(i == 0 ? &out->start_sec : &out->end_sec) = secs;
	}
	if (out->start_sec == out->end_sec)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s.end: must differ from start", path);
	json_t *zone = json_object_get(obj, "timezone");
	if (!json_is_string(zone) || json_string_length(zone) == 0 ||
	    json_string_length(zone) >= sizeof out->timezone)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "%s.timezone: must be an IANA zone name (\"America/New_York\")", path);
	snprintf(out->timezone, sizeof out->timezone, "%s", json_string_value(zone));
	json_t *days = json_object_get(obj, "days");
	if (days == NULL) {
		out->days = 0x7f;
		return 0;
	}
	if (!json_is_array(days) || json_array_size(days) == 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s.days: must be a list of days (\"mon\", …)",
				     path);
	size_t i;
	json_t *d;
	json_array_foreach(days, i, d) {
		int found = -1;
		for (int w = 0; w < 7 && json_is_string(d); w++)
			if (strcmp(json_string_value(d), day_names[w]) == 0)
				found = w;
		if (found < 0)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "%s.days[%zu]: must be one of sun, mon, tue, wed, thu, fri, sat",
					     path, i);
		out->days |= (uint8_t)(1u << found);
	}
	return 0;
}

/* The window that opens on local day `day` (days since 1970), in UTC. */
static void window_of(const struct schedule *s, const struct tz *tz, int64_t day, int64_t *open,
		      int64_t *close)
{
	int64_t midnight = day * 86400;
	*open = tz_local_to_utc(tz, midnight + s->start_sec);
	int64_t end_day = s->end_sec <= s->start_sec ? day + 1 : day;
	*close = tz_local_to_utc(tz, end_day * 86400 + s->end_sec);
}

/* Over the windows that open from yesterday to 8 days on: whether t is in
 * one (and which: *from, *to), and the next time one opens or closes. */
static bool scan(const struct schedule *s, const struct tz *tz, int64_t t, int64_t *from,
		 int64_t *to, int64_t *next_change)
{
	int64_t local = t + tz_offset(tz, t);
	int64_t today = local / 86400 - (local % 86400 < 0);
	bool open = false;
	int64_t next = INT64_MAX;
	for (int64_t day = today - 1; day <= today + 8; day++) {
		if (!(s->days & (1u << tz_weekday(day))))
			continue;
		int64_t a, b;
		window_of(s, tz, day, &a, &b);
		if (t >= a && t < b && !open) {
			open = true;
			*from = a;
			*to = b;
		}
		if (a > t && a < next)
			next = a;
		if (b > t && b < next)
			next = b;
	}
	*next_change = next;
	return open;
}

bool schedule_open_at(const struct schedule *s, const struct tz *tz, int64_t t,
		      int64_t *next_change)
{
	int64_t from, to, next;
	bool open = scan(s, tz, t, &from, &to, &next);
	if (next_change)
		*next_change = next;
	return open;
}

bool schedule_window_at(const struct schedule *s, const struct tz *tz, int64_t t, int64_t *open,
			int64_t *close)
{
	int64_t next;
	return scan(s, tz, t, open, close, &next);
}
