#include <criterion/criterion.h>
#include <string.h>

#include "core/agent.h"

static struct agent fresh(void)
{
	struct agent a;
	memset(&a, 0, sizeof a);
	strcpy(a.id, "ag1");
	a.status = AGENT_PENDING;
	return a;
}

Test(agent, names_round_trip)
{
	for (int s = AGENT_PENDING; s <= AGENT_FAILED; s++)
		cr_expect_eq(agent_status_parse(agent_status_name(s)), s);
	for (int r = AGENT_STOP_EXITED; r <= AGENT_STOP_ORCHESTRATOR_LOST; r++)
		cr_expect_eq(agent_stop_reason_parse(agent_stop_reason_name(r)), r);
	cr_expect_eq(agent_status_parse("sleeping"), -1);
	cr_expect_str_eq(agent_stop_reason_name(AGENT_STOP_ORCHESTRATOR_LOST), "orchestrator_lost");
}

Test(agent, exit_zero_completes_nonzero_fails)
{
	struct agent a = fresh();
	struct evo_error err = {0};
	cr_assert_eq(agent_mark_running(&a, 1000, &err), 0);
	cr_assert_eq(agent_mark_stopped(&a, AGENT_STOP_EXITED, 0, NULL, 3500, &err), 0);
	cr_expect_eq(a.status, AGENT_COMPLETED);
	cr_expect_eq(a.execution_time_ms, 2500);
	struct agent b = fresh();
	agent_mark_running(&b, 1000, &err);
	cr_assert_eq(agent_mark_stopped(&b, AGENT_STOP_EXITED, 3, "boom", 2000, &err), 0);
	cr_expect_eq(b.status, AGENT_FAILED);
	cr_expect(b.has_exit_code);
	cr_expect_eq(b.exit_code, 3);
	cr_expect_str_eq(b.error_message, "boom");
}

Test(agent, terminate_completes_timeout_and_budget_fail)
{
	static const struct {
		enum agent_stop_reason reason;
		enum agent_status want;
	} cases[] = {
		{AGENT_STOP_TERMINATED, AGENT_COMPLETED},	{AGENT_STOP_TIMEOUT, AGENT_FAILED},
		{AGENT_STOP_BUDGET, AGENT_FAILED},		{AGENT_STOP_ERROR, AGENT_FAILED},
		{AGENT_STOP_ORCHESTRATOR_LOST, AGENT_FAILED},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct agent a = fresh();
		struct evo_error err = {0};
		agent_mark_running(&a, 10, &err);
		cr_assert_eq(agent_mark_stopped(&a, cases[i].reason, 0, NULL, 20, &err), 0);
		cr_expect_eq(a.status, cases[i].want, "%s", agent_stop_reason_name(cases[i].reason));
		cr_expect_eq(a.stop_reason, cases[i].reason);
	}
}

Test(agent, illegal_transitions_are_conflicts)
{
	struct agent a = fresh();
	struct evo_error err = {0};
	/* A pending agent that is terminated never ran, but a terminate is
	 * always completed (DESIGN §5). */
	cr_assert_eq(agent_mark_stopped(&a, AGENT_STOP_TERMINATED, 0, NULL, 5, &err), 0);
	cr_expect_eq(a.status, AGENT_COMPLETED);
	cr_expect_eq(a.execution_time_ms, 0);
	cr_expect_eq(agent_mark_stopped(&a, AGENT_STOP_TIMEOUT, 0, NULL, 6, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_CONFLICT);
	cr_expect_eq(agent_mark_running(&a, 7, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_CONFLICT);
	struct agent b = fresh();
	cr_expect_eq(agent_mark_stopped(&b, AGENT_STOP_DESTROYED, 0, NULL, 1, &err), -1);
}

Test(agent, rfc3339_times)
{
	char t[32];
	agent_format_time(1795317187123, t);
	cr_expect_str_eq(t, "2026-11-22T03:13:07.123Z");
	agent_format_time(0, t);
	cr_expect_str_eq(t, "");
}
