#include <criterion/criterion.h>
#include <string.h>

#include "core/budget.h"

Test(budget, money_is_exact)
{
	cr_expect_eq(budget_usd_to_micros(50.0), 50000000);
	cr_expect_eq(budget_usd_to_micros(0.1 + 0.2), 300000);
	usd_picos_per_sec rate = budget_rate_from_usd(0.0001);
	cr_expect_eq(rate, 100000000);
	cr_expect_eq(budget_cost(rate, 600), 60000); /* 0.06 USD */
	/* A rate below a micro-dollar per second still costs, rounded up. */
	usd_picos_per_sec tiny = budget_rate_from_usd(0.0000004);
	cr_expect_eq(budget_cost(tiny, 1), 1);
	cr_expect_eq(budget_cost(tiny, 10), 4);
	cr_expect_eq(budget_cost(rate, 0), 0);
	/* No overflow for a year at a dollar a second. */
	cr_expect_eq(budget_cost(budget_rate_from_usd(1.0), 365LL * 86400), 365LL * 86400 * 1000000);
	char s[32];
	budget_format_usd(50020000, s);
	cr_expect_str_eq(s, "50.020000");
}

Test(budget, agent_limit_is_429)
{
	struct budget_limits l = {.max_agents = 5, .budget = budget_usd_to_micros(50)};
	struct budget_state st = {.running = 5};
	struct evo_error err = {0};
	cr_expect_eq(budget_check_spawn(&l, &st, 0, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_LIMIT);
	cr_expect(strstr(err.msg, "maxAgents is 5") != NULL, "%s", err.msg);
	st.running = 4;
	cr_expect_eq(budget_check_spawn(&l, &st, 0, &err), 0);
}

Test(budget, worst_case_rule_is_402_exactly_at_the_edge)
{
	struct budget_limits l = {.max_agents = 100, .budget = budget_usd_to_micros(50)};
	/* 49.90 spent, 0.04 committed by running agents: 0.06 fits... */
	struct budget_state st = {.running = 2, .accrued = 49900000, .running_worst = 40000};
	struct evo_error err = {0};
	cr_expect_eq(budget_check_spawn(&l, &st, 60000, &err), 0, "%s", err.msg);
	/* ...one micro-dollar more does not. */
	cr_expect_eq(budget_check_spawn(&l, &st, 60001, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_BUDGET);
	cr_expect(strstr(err.msg, "estimated spend 50.000001 USD would exceed creditBudgetUsd 50.000000") !=
			  NULL,
		  "%s", err.msg);
}
