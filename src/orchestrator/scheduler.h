/* Scheduled agents (issue 7 §4): mode "scheduled". A schedule starts an
 * agent when its daily window opens (core/schedule.h: start, end, IANA
 * time zone, days; daylight-saving changes move the window in UTC, never
 * in local time) and stops it when the window closes.
 *
 * One agent per window: its id is <schedule>-<the window's opening, UTC
 * seconds>, so a restart never starts a second one for the same window.
 * An agent that ends early is not restarted in that window. An agent
 * refused for a limit or the budget is tried again (the schedule's note
 * says why it waits); any other refusal is noted and the window skipped.
 * Each agent's timeout is the rest of its window plus a little, so it
 * dies at the close even while the orchestrator is down; the runner stops
 * it at the close itself (stop_reason terminated).
 *
 * Schedules live in the store, so they survive a restart. */
#ifndef EVOCLAW_ORCHESTRATOR_SCHEDULER_H
#define EVOCLAW_ORCHESTRATOR_SCHEDULER_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "core/config.h"
#include "orchestrator/orchestrator.h"
#include "store/store.h"

struct scheduler;

struct scheduler *scheduler_start(struct orchestrator *orch, struct store *store,
				  const struct evo_config *cfg);
void scheduler_stop(struct scheduler *sc);

/* A new schedule (tenant NULL: the operator's) that starts `spawn` (its
 * id and timeout are the schedule's to choose) in the windows of
 * `schedule`, an object core/schedule.h parses; errors name the field
 * under "schedule" (an unknown time zone: schedule.timezone). */
int scheduler_create(struct scheduler *sc, const char *tenant, const struct orch_spawn *spawn,
		     const json_t *schedule, struct schedule_record *out, struct evo_error *err);

/* Stop it: its running agent is terminated. CONFLICT if cancelled already. */
int scheduler_cancel(struct scheduler *sc, const char *id, struct evo_error *err);

/* Where a schedule stands at UTC second now: open or not, and the UTC
 * seconds of its next opening and closing (0: none within 8 days). */
struct schedule_times {
	bool open;
	int64_t opens_at, closes_at;
};
int scheduler_times(const struct schedule_record *r, int64_t now, struct schedule_times *out,
		    struct evo_error *err);

#endif
