/* The one error convention of evoclaw.
 *
 * A function that can fail returns int (<0 on failure) and fills a
 * caller-provided struct evo_error with a human-readable message that says
 * what failed and, where it helps, what to do. Callers add context on the
 * way up with evo_error_prefix(). The HTTP layer and the CLI turn it into a
 * JSON error or one line on stderr. No allocation: an error can always be
 * reported, even when memory is short. */
#ifndef EVOCLAW_COMMON_ERROR_H
#define EVOCLAW_COMMON_ERROR_H

#include <stdarg.h>

#define EVO_ERROR_MSG_MAX 512

/* Broad classes of failure, so callers (HTTP status, CLI exit code) can
 * react without parsing messages. */
enum evo_error_kind {
	EVO_ERR_NONE = 0,
	EVO_ERR_INTERNAL,  /* a bug or an unexpected system failure */
	EVO_ERR_INVALID,   /* bad input from the caller: names the field */
	EVO_ERR_NOT_FOUND, /* unknown sandbox, template, file */
	EVO_ERR_CONFLICT,  /* wrong state, duplicate */
	EVO_ERR_LIMIT,     /* a resource limit was hit */
	EVO_ERR_SYSTEM,    /* the host refused (errno is set) */
	EVO_ERR_BUDGET,    /* spending would pass a budget */
	EVO_ERR_AUTH,      /* who asked could not be told apart from a stranger */
};

struct evo_error {
	enum evo_error_kind kind;
	int errnum; /* errno behind the failure, 0 if none */
	char msg[EVO_ERROR_MSG_MAX];
};

/* Fill err (which may be NULL) and return -1. With errnum != 0 the
 * strerror text is appended. */
int evo_error_set(struct evo_error *err, enum evo_error_kind kind, int errnum,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Shorthand for EVO_ERR_SYSTEM with the current errno. */
int evo_error_errno(struct evo_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prepend "context: " to the message; keeps kind and errnum. Returns -1. */
int evo_error_prefix(struct evo_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void evo_error_clear(struct evo_error *err);

#endif
