#include "core/agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const status_names[] = {
	[AGENT_PENDING] = "pending",
	[AGENT_RUNNING] = "running",
	[AGENT_COMPLETED] = "completed",
	[AGENT_FAILED] = "failed",
};

static const char *const stop_names[] = {
	[AGENT_STOP_NONE] = "",
	[AGENT_STOP_EXITED] = "exited",
	[AGENT_STOP_TIMEOUT] = "timeout",
	[AGENT_STOP_TERMINATED] = "terminated",
	[AGENT_STOP_DESTROYED] = "destroyed",
	[AGENT_STOP_BUDGET] = "budget",
	[AGENT_STOP_ERROR] = "error",
	[AGENT_STOP_ORCHESTRATOR_LOST] = "orchestrator_lost",
};

const char *agent_status_name(enum agent_status s)
{
	return (unsigned)s < sizeof status_names / sizeof *status_names ? status_names[s] : "unknown";
}

const char *agent_stop_reason_name(enum agent_stop_reason r)
{
	return (unsigned)r < sizeof stop_names / sizeof *stop_names ? stop_names[r] : "unknown";
}

static int lookup(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

int agent_status_parse(const char *name)
{
	return lookup(status_names, sizeof status_names / sizeof *status_names, name);
}

int agent_stop_reason_parse(const char *name)
{
	return lookup(stop_names, sizeof stop_names / sizeof *stop_names, name);
}

bool agent_is_finished(const struct agent *a)
{
	return a->status == AGENT_COMPLETED || a->status == AGENT_FAILED;
}

int agent_mark_running(struct agent *a, int64_t now_ms, struct evo_error *err)
{
	if (a->status != AGENT_PENDING)
		return evo_error_set(err, EVO_ERR_CONFLICT, 0, "agent %s is %s, not pending", a->id,
				     agent_status_name(a->status));
	a->status = AGENT_RUNNING;
	a->started_at_ms = now_ms;
	return 0;
}

int agent_mark_stopped(struct agent *a, enum agent_stop_reason reason, int32_t exit_code,
		       const char *error_message, int64_t now_ms, struct evo_error *err)
{
	if (agent_is_finished(a))
		return evo_error_set(err, EVO_ERR_CONFLICT, 0, "agent %s has already %s (%s)", a->id,
				     agent_status_name(a->status), agent_stop_reason_name(a->stop_reason));
	if (reason == AGENT_STOP_NONE || reason == AGENT_STOP_DESTROYED)
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "%s is not a reason an agent stops with",
				     agent_stop_reason_name(reason));
	/* A terminate is the operator's choice, so it always ends as completed,
	 * even before the sandbox ran (DESIGN §5). Anything else that never
	 * ran did not complete anything. */
	bool completed = reason == AGENT_STOP_TERMINATED ||
			 (reason == AGENT_STOP_EXITED && exit_code == 0 && a->status != AGENT_PENDING);
	a->status = completed ? AGENT_COMPLETED : AGENT_FAILED;
	a->stop_reason = reason;
	if (reason == AGENT_STOP_EXITED) {
		a->exit_code = exit_code;
		a->has_exit_code = true;
	}
	if (error_message)
		snprintf(a->error_message, sizeof a->error_message, "%s", error_message);
	a->completed_at_ms = now_ms;
	if (a->started_at_ms > 0 && now_ms >= a->started_at_ms)
		a->execution_time_ms = now_ms - a->started_at_ms;
	return 0;
}

void agent_clear(struct agent *a)
{
	free(a->environment_json);
	free(a->capabilities_json);
	free(a->genome_json);
	free(a->command_json);
	free(a->metadata_json);
	free(a->metrics_json);
	a->environment_json = a->capabilities_json = a->genome_json = a->command_json = NULL;
	a->metadata_json = a->metrics_json = NULL;
}

void agent_format_time(int64_t ms, char out[32])
{
	if (ms <= 0) {
		out[0] = '\0';
		return;
	}
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char base[32];
	/* A time past what struct tm holds is no time at all. */
	if (gmtime_r(&s, &tm) == NULL ||
	    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		out[0] = '\0';
		return;
	}
	snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}
