#include "core/tz.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fileutil.h"

/* Howard Hinnant's civil-date algorithms. */
int64_t tz_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int tz_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (4). */
	int64_t w = (days + 4) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

void tz_free(struct tz *tz)
{
	free(tz->at);
	free(tz->type);
	free(tz->offsets);
	free(tz->dst);
	memset(tz, 0, sizeof *tz);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- the POSIX TZ footer ---------------------------------------------------- */

/* A zone name: letters, or anything but '>' inside <...>. */
static bool skip_name(const char **p)
{
	const char *s = *p;
	if (*s == '<') {
		while (*s && *s != '>')
			s++;
		if (*s != '>')
			return false;
		s++;
	} else {
		while (isalpha((unsigned char)*s))
			s++;
	}
	if (s - *p < 3)
		return false;
	*p = s;
	return true;
}

/* [+-]hh[:mm[:ss]] as seconds (POSIX: positive is west of UTC). */
static bool parse_hms(const char **p, int32_t *out, int max_hours)
{
	const char *s = *p;
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	int parts[3] = {0, 0, 0}, n = 0;
	while (n < 3) {
		if (!isdigit((unsigned char)*s))
			return false;
		int v = 0, digits = 0;
		while (isdigit((unsigned char)*s) && digits < 3)
			v = v * 10 + (*s++ - '0'), digits++;
		parts[n++] = v;
		if (*s != ':')
			break;
		s++;
	}
	if (parts[0] > max_hours || parts[1] > 59 || parts[2] > 59)
		return false;
	*out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
	*p = s;
	return true;
}

/* Mm.w.d[/time] (the only form real zones use now). */
static bool parse_rule_date(const char **p, struct tz_rule_date *out)
{
	const char *s = *p;
	if (*s++ != 'M')
		return false;
	int v[3] = {0, 0, 0};
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s) && v[i] < 100)
			v[i] = v[i] * 10 + (*s++ - '0');
		if (i < 2 && *s++ != '.')
			return false;
	}
	if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6)
		return false;
	*out = (struct tz_rule_date){.month = v[0], .week = v[1], .weekday = v[2], .secs = 7200};
	if (*s == '/') {
		s++;
		if (!parse_hms(&s, &out->secs, 167))
			return false;
	}
	*p = s;
	return true;
}

static bool parse_footer(const char *s, struct tz *tz)
{
	int32_t std, dst;
	if (!skip_name(&s) || !parse_hms(&s, &std, 24))
		return false;
	tz->std_offset = -std;
	tz->has_rule = true;
	if (*s == '\0')
		return true;
	if (!skip_name(&s))
		return false;
	dst = std - 3600;
	if (*s && *s != ',' && !parse_hms(&s, &dst, 24))
		return false;
	tz->dst_offset = -dst;
	if (*s++ != ',' || !parse_rule_date(&s, &tz->dst_start) || *s++ != ',' ||
	    !parse_rule_date(&s, &tz->dst_end) || *s != '\0')
		return false;
	tz->rule_dst = true;
	return true;
}

/* ---- the file ------------------------------------------------------------- */

int tz_parse(const uint8_t *data, size_t len, struct tz *out, struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	/* Header: "TZif", version, 15 reserved, then six counts. */
	if (len < 44 || memcmp(data, "TZif", 4) != 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "not a TZif file");
	if (data[4] < '2')
		return evo_error_set(err, EVO_ERR_INVALID, 0, "a TZif file of version 1 (no 64-bit data)");
	uint32_t c[6];
	for (int i = 0; i < 6; i++)
		c[i] = be32(data + 20 + 4 * i);
	/* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt; skip the
	 * 32-bit block. */
	uint64_t v1 = (uint64_t)c[3] * 5 + (uint64_t)c[4] * 6 + c[5] + (uint64_t)c[2] * 8 + c[1] + c[0];
	if (44 + v1 + 44 > len)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "a truncated TZif file");
	const uint8_t *h = data + 44 + v1;
	if (memcmp(h, "TZif", 4) != 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "no second TZif header");
	for (int i = 0; i < 6; i++)
		c[i] = be32(h + 20 + 4 * i);
	uint32_t timecnt = c[3], typecnt = c[4];
	uint64_t body = (uint64_t)timecnt * 9 + (uint64_t)typecnt * 6 + c[5] + (uint64_t)c[2] * 12 +
			c[1] + c[0];
	const uint8_t *p = h + 44;
	if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || (uint64_t)(p - data) + body > len)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "a malformed TZif file");
	out->n = timecnt;
	out->at = xcalloc(timecnt + 1, sizeof *out->at);
	out->type = xcalloc(timecnt + 1, 1);
	for (uint32_t i = 0; i < timecnt; i++)
		out->at[i] = be64(p + 8 * i);
	p += 8 * (size_t)timecnt;
	for (uint32_t i = 0; i < timecnt; i++) {
		out->type[i] = p[i];
		if (p[i] >= typecnt || (i > 0 && out->at[i] <= out->at[i - 1])) {
			tz_free(out);
			return evo_error_set(err, EVO_ERR_INVALID, 0, "a malformed TZif file");
		}
	}
	p += timecnt;
	out->ntypes = typecnt;
	out->offsets = xcalloc(typecnt, sizeof *out->offsets);
	out->dst = xcalloc(typecnt, sizeof *out->dst);
	for (uint32_t i = 0; i < typecnt; i++) {
		int32_t off = (int32_t)be32(p + 6 * i);
		if (off < -26 * 3600 || off > 26 * 3600) {
			tz_free(out);
			return evo_error_set(err, EVO_ERR_INVALID, 0, "a malformed TZif file");
		}
		out->offsets[i] = off;
		out->dst[i] = p[6 * i + 4] != 0;
	}
	p = h + 44 + body;
	/* The footer: "\nTZ-string\n". */
	if ((size_t)(p - data) < len && *p == '\n') {
		const uint8_t *end = memchr(p + 1, '\n', len - (size_t)(p - data) - 1);
		if (end && end - p - 1 < 128) {
			char footer[128];
			memcpy(footer, p + 1, (size_t)(end - p - 1));
			footer[end - p - 1] = '\0';
			if (footer[0] && !parse_footer(footer, out))
				out->has_rule = out->rule_dst = false;
		}
	}
	return 0;
}

int tz_load(const char *name, struct tz *out, struct evo_error *err)
{
	/* A zone name, never a path out of the zoneinfo directory. */
	size_t len = strlen(name);
	bool ok = len > 0 && len < 64 && name[0] != '/' && strstr(name, "..") == NULL;
	for (const char *c = name; ok && *c; c++)
		ok = isalnum((unsigned char)*c) || strchr("/_+-", *c);
	if (!ok)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "timezone: \"%.64s\" is not an IANA zone name",
				     name);
	const char *dir = getenv("EVOCLAW_ZONEINFO");
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	size_t n;
	_cleanup_free_ uint8_t *data = read_file_bytes(path, 1 << 20, &n);
	if (data == NULL)
		return evo_error_set(err, EVO_ERR_INVALID, errno == ENOENT ? 0 : errno,
				     "timezone: no zone \"%s\"%s", name,
				     errno == ENOENT ? " (see /usr/share/zoneinfo)" : "");
	if (tz_parse(data, n, out, err) < 0)
		return evo_error_prefix(err, "timezone: %s", name);
	return 0;
}

/* UTC second of a rule's date in year y, given the offset in force before
 * it (the rule's time is local time then). */
static int64_t rule_utc(const struct tz_rule_date *r, int64_t y, int32_t before)
{
	int64_t first = tz_days_from_civil(y, r->month, 1);
	int delta = (r->weekday - tz_weekday(first) + 7) % 7;
	int64_t day = first + delta + 7 * (r->week - 1);
	int next_month = r->month == 12 ? 1 : r->month + 1;
	int64_t month_end = tz_days_from_civil(r->month == 12 ? y + 1 : y, next_month, 1);
	while (day >= month_end) /* week 5: the last such weekday */
		day -= 7;
	return day * 86400 + r->secs - before;
}

int32_t tz_offset(const struct tz *tz, int64_t t)
{
	if (tz->n == 0 || t < tz->at[0]) {
		/* Before any transition: the first standard type (RFC 8536). */
		if (tz->n == 0 && tz->has_rule && !tz->rule_dst)
			return tz->std_offset;
		if (tz->n == 0 && !tz->has_rule)
			return tz->offsets[0];
		if (tz->n > 0) {
			for (size_t i = 0; i < tz->ntypes; i++)
				if (!tz->dst[i])
					return tz->offsets[i];
			return tz->offsets[0];
		}
	}
	if (tz->n > 0 && (t < tz->at[tz->n - 1] || !tz->has_rule)) {
		size_t lo = 0, hi = tz->n; /* the last transition at or before t */
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;
			if (tz->at[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		return tz->offsets[tz->type[lo]];
	}
	if (!tz->rule_dst)
		return tz->std_offset;
	int64_t y;
	int m, d;
	tz_civil_from_days((t + tz->std_offset) / 86400 - ((t + tz->std_offset) % 86400 < 0), &y, &m, &d);
	int64_t start = rule_utc(&tz->dst_start, y, tz->std_offset);
	int64_t end = rule_utc(&tz->dst_end, y, tz->dst_offset);
	bool in_dst = start < end ? (t >= start && t < end) : (t >= start || t < end);
	return in_dst ? tz->dst_offset : tz->std_offset;
}

int64_t tz_local_to_utc(const struct tz *tz, int64_t local)
{
	/* The offsets in force a day either side bound the answer. */
	int32_t before = tz_offset(tz, local - 86400), after = tz_offset(tz, local + 86400);
	int64_t first = local - before, second = local - after;
	bool first_ok = tz_offset(tz, first) == before, second_ok = tz_offset(tz, second) == after;
	if (first_ok && second_ok)
		return first < second ? first : second; /* twice: the first */
	if (first_ok)
		return first;
	if (second_ok)
		return second;
	/* Skipped (spring forward): the moment the gap ends. */
	return local - before;
}
