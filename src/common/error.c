#include "common/error.h"

#include <stdio.h>
#include <string.h>
#include <errno.h>

static void error_vformat(struct evo_error *err, const char *fmt, va_list ap)
{
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	if (n < 0)
		err->msg[0] = '\0';
	if (err->errnum != 0 && n >= 0 && (size_t)n < sizeof err->msg)
		snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s",
			 strerror(err->errnum));
}

int evo_error_set(struct evo_error *err, enum evo_error_kind kind, int errnum,
		  const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	err->kind = kind;
	err->errnum = errnum;
	va_list ap;
	va_start(ap, fmt);
	error_vformat(err, fmt, ap);
	va_end(ap);
	return -1;
}

int evo_error_errno(struct evo_error *err, const char *fmt, ...)
{
	int saved = errno;
	if (err == NULL)
		return -1;
	err->kind = EVO_ERR_SYSTEM;
	err->errnum = saved;
	va_list ap;
	va_start(ap, fmt);
	error_vformat(err, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int evo_error_prefix(struct evo_error *err, const char *fmt, ...)
{
	if (err == NULL)
		return -1;
	char context[EVO_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(context, sizeof context, fmt, ap);
	va_end(ap);
	/* Keep as much of both as fits; the message is truncated, never
	 * overflowed. */
	char joined[EVO_ERROR_MSG_MAX * 2 + 2];
	snprintf(joined, sizeof joined, "%s: %s", context, err->msg);
	snprintf(err->msg, sizeof err->msg, "%s", joined);
	return -1;
}

void evo_error_clear(struct evo_error *err)
{
	if (err == NULL)
		return;
	err->kind = EVO_ERR_NONE;
	err->errnum = 0;
	err->msg[0] = '\0';
}
