/* A background thread that calls one function on a period, or sooner when
 * woken (the tournament and schedule runners). The function runs with the
 * worker's lock held, so code that must not interleave with it (a cancel)
 * takes periodic_lock first. */
#ifndef EVOCLAW_ORCHESTRATOR_PERIODIC_H
#define EVOCLAW_ORCHESTRATOR_PERIODIC_H

struct periodic;

/* NULL if the thread cannot be started. */
struct periodic *periodic_start(void (*run)(void *ctx), void *ctx, int period_ms);
/* Run again now (after the current run, if one is under way). */
void periodic_wake(struct periodic *p);
void periodic_lock(struct periodic *p);
void periodic_unlock(struct periodic *p);
/* Wait for the current run to end, then stop the thread. */
void periodic_stop(struct periodic *p);

#endif
