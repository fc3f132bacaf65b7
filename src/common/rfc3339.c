#include "common/rfc3339.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/* Whether s starts as shape says: '9' a digit, 'T' the date-time
 * separator, anything else itself. sscanf alone would take signs, spaces
 * and short fields ("2024-1-1T-1:0:0Z"). */
static bool shaped(const char *s, const char *shape)
{
	for (; *shape; s++, shape++) {
		bool ok = *shape == '9' ? *s >= '0' && *s <= '9'
			: *shape == 'T' ? *s == 'T' || *s == 't' || *s == ' '
					: *s == *shape;
		if (!ok)
			return false;
	}
	return true;
}

int rfc3339_parse_ms(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	int consumed = 0;
	if (s == NULL || !shaped(s, "9999-99-99T99:99:99") ||
	    sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
	    consumed == 0)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
		return -1;
	const char *p = s + consumed;
	int64_t millis = 0;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				millis = millis * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			millis *= 10;
	}
	long offset = 0;
	if (*p == '+' || *p == '-') {
		int h, m, n = 0;
		if (!shaped(p + 1, "99:99") || sscanf(p + 1, "%2d:%2d%n", &h, &m, &n) != 2 ||
		    n != 5 || h > 23 || m > 59)
			return -1;
		offset = (h * 3600L + m * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else if (*p == 'Z' || *p == 'z') {
		p++;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*ms = ((int64_t)t - offset) * 1000 + millis;
	return 0;
}
