/* Money and limits (DESIGN §9). Pure: the caller gathers the numbers
 * (under one lock or transaction, so concurrent spawns are exact).
 *
 * A spawn is refused when it would pass maxAgents (LIMIT: 429) or when the
 * accrued spend, plus the worst case of every running agent (its rate for
 * the rest of its timeout), plus the new agent's worst case would pass the
 * budget (EVO_ERR_BUDGET: 402). */
#ifndef EVOCLAW_CORE_BUDGET_H
#define EVOCLAW_CORE_BUDGET_H

#include <stdint.h>

#include "common/error.h"
#include "core/agent.h"

/* A price per second in micro-dollars per second could be fractional
 * (0.0001 USD/s = 100 micros/s, but 0.0000004 is not): rates are kept in
 * pico-dollars per second (1e-12 USD) and costs rounded up to micros. */
typedef int64_t usd_picos_per_sec;

usd_micros budget_usd_to_micros(double usd);
usd_picos_per_sec budget_rate_from_usd(double usd_per_sec);

/* Cost of `seconds` at `rate`, rounded up to a whole micro-dollar (a
 * budget is never overrun by rounding). */
usd_micros budget_cost(usd_picos_per_sec rate, int64_t seconds);

struct budget_limits {
	uint32_t max_agents;  /* 0 = none may run */
	usd_micros budget;    /* the credit budget */
	bool tenant;          /* a tenant's limits (named so in refusals) */
};

struct budget_state {
	uint32_t running;           /* agents pending or running now */
	usd_micros accrued;         /* spent so far, all agents */
	usd_micros running_worst;   /* sum over running agents of rate x time left */
};

/* 0 if an agent with worst-case cost `worst` may start, else -1 with
 * EVO_ERR_LIMIT (agent limit) or EVO_ERR_BUDGET and a message naming the
 * numbers, e.g. "spawn refused: estimated spend 50.02 USD would exceed
 * creditBudgetUsd 50.00". */
int budget_check_spawn(const struct budget_limits *limits, const struct budget_state *state,
		       usd_micros worst, struct evo_error *err);

/* "12.345678" for messages and JSON. */
void budget_format_usd(usd_micros v, char out[32]);

#endif
