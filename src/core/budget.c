#include "core/budget.h"

#include <math.h>
#include <stdio.h>

usd_micros budget_usd_to_micros(double usd)
{
	return (usd_micros)llround(usd * USD_MICROS_PER_USD);
}

usd_picos_per_sec budget_rate_from_usd(double usd_per_sec)
{
	return (usd_picos_per_sec)llround(usd_per_sec * 1e12);
}

usd_micros budget_cost(usd_picos_per_sec rate, int64_t seconds)
{
	if (rate <= 0 || seconds <= 0)
		return 0;
	/* picos -> micros: divide by 1e6, rounding up. Split to avoid
	 * overflow for long times at high rates. */
	int64_t whole = rate / 1000000, part = rate % 1000000;
	return whole * seconds + (part * seconds + 999999) / 1000000;
}

void budget_format_usd(usd_micros v, char out[32])
{
	const char *sign = v < 0 ? "-" : "";
	long long a = v < 0 ? -(long long)v : (long long)v;
	snprintf(out, 32, "%s%lld.%06lld", sign, a / USD_MICROS_PER_USD, a % USD_MICROS_PER_USD);
}

int budget_check_spawn(const struct budget_limits *limits, const struct budget_state *state,
		       usd_micros worst, struct evo_error *err)
{
	if (state->running >= limits->max_agents)
		return evo_error_set(err, EVO_ERR_LIMIT, 0,
				     "spawn refused: %u agents running, %s is %u", state->running,
				     limits->tenant ? "the tenant's max_agents" : "maxAgents",
				     limits->max_agents);
	usd_micros estimate = state->accrued + state->running_worst + worst;
	if (estimate > limits->budget) {
		char e[32], b[32];
		budget_format_usd(estimate, e);
		budget_format_usd(limits->budget, b);
		return evo_error_set(err, EVO_ERR_BUDGET, 0,
				     "spawn refused: estimated spend %s USD would exceed %s %s", e,
				     limits->tenant ? "the tenant's credit_limit_usd" : "creditBudgetUsd",
				     b);
	}
	return 0;
}
