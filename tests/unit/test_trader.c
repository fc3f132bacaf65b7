/* src/core/trader.c: paper trading, costs and scores. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "core/trader.h"

static struct market series(size_t n, double (*f)(size_t))
{
	struct market m = {.price = malloc(n * sizeof(double)), .n = n};
	for (size_t i = 0; i < n; i++)
		m.price[i] = f(i);
	return m;
}
static double flat(size_t i) { (void)i; return 100; }
static double rising(size_t i) { return 100 * pow(1.001, (double)i); }
static double rise_then_fall(size_t i) { return i < 300 ? 100 * pow(1.002, (double)i) : 100 * pow(1.002, 300) * pow(0.997, (double)(i - 300)); }
static double zigzag(size_t i) { return 100 + 5 * sin((double)i / 8.0); }

Test(trader, flat_market_never_trades)
{
	struct market m = series(500, flat);
	struct genome g;
	genome_default(GENOME_MOMENTUM, &g);
	struct trade_costs c;
	trader_default_costs(&c);
	struct trade_result r;
	trader_run(&g, &m, &c, &r);
	cr_expect_eq(r.trades, 0);
	cr_expect_float_eq(r.pnl, 0, 1e-9);
	cr_expect_float_eq(r.sharpe, 0, 1e-12);
	cr_expect_float_eq(r.max_drawdown, 0, 1e-12);
	genome_default(GENOME_MEAN_REVERSION, &g);
	trader_run(&g, &m, &c, &r);
	cr_expect_eq(r.trades, 0);
	free(m.price);
}

Test(trader, momentum_rides_a_trend_and_costs_cost)
{
	struct market m = series(1000, rising);
	struct genome g;
	genome_default(GENOME_MOMENTUM, &g);
	g.position_size = 1;
	struct trade_costs c;
	trader_default_costs(&c);
	struct trade_result r, free_r;
	trader_run(&g, &m, &c, &r);
	cr_expect_eq(r.trades, 1, "in once, and held");
	cr_expect_gt(r.pnl, 0);
	cr_expect_gt(r.sharpe, 0);
	cr_expect_float_eq(r.return_pct, r.pnl / 100, 1e-9);
	struct trade_costs none = c;
	none.fee_rate = 0;
	none.slippage = 0;
	trader_run(&g, &m, &none, &free_r);
	cr_expect_gt(free_r.pnl, r.pnl, "fees and slippage cost money");
	/* At least what was paid: a cost at entry also shrinks the position
	 * that then grows with the trend. */
	cr_expect_gt(r.fees, 0);
	cr_expect_geq(free_r.pnl - r.pnl, r.fees * 0.999);
	free(m.price);
}

Test(trader, drawdown_of_a_long_caught_by_a_fall)
{
	struct market m = series(600, rise_then_fall);
	struct genome g;
	genome_default(GENOME_MOMENTUM, &g);
	g.position_size = 1;
	g.lookback_periods = 2;
	g.threshold = 0.003;
	struct trade_costs c;
	trader_default_costs(&c);
	c.fee_rate = c.slippage = 0;
	struct trade_result r;
	trader_run(&g, &m, &c, &r);
	/* Long up the rise, short down the fall: both make money, and the
	 * worst fall from a peak is the turn. */
	cr_expect_gt(r.pnl, 0);
	cr_expect_gt(r.max_drawdown, 0);
	cr_expect_lt(r.max_drawdown, 0.02);
	cr_expect_geq(r.trades, 2);
	free(m.price);
}

Test(trader, mean_reversion_profits_from_a_range_and_momentum_pays_fees)
{
	struct market m = series(2000, zigzag);
	struct genome mr, mo;
	genome_default(GENOME_MEAN_REVERSION, &mr);
	mr.window = 20;
	mr.z_entry = 1.2;
	mr.z_exit = 0.2;
	genome_default(GENOME_MOMENTUM, &mo);
	mo.lookback_periods = 40;
	struct trade_costs c;
	trader_default_costs(&c);
	struct trade_result a, b;
	trader_run(&mr, &m, &c, &a);
	trader_run(&mo, &m, &c, &b);
	cr_expect_gt(a.trades, 10);
	cr_expect_gt(a.fitness, b.fitness, "a range favours mean reversion (%f vs %f)", a.fitness, b.fitness);
	cr_expect_float_eq(a.fitness, trader_fitness(a.sharpe, a.max_drawdown), 1e-12);
	free(m.price);
}

Test(trader, step_by_step_equals_a_whole_run)
{
	struct market m;
	struct evo_error err = {0};
	cr_assert_eq(market_generate(3, 3000, 50, &m, NULL, &err), 0);
	struct genome g;
	genome_default(GENOME_MEAN_REVERSION, &g);
	struct trade_costs c;
	trader_default_costs(&c);
	struct trade_result whole, steps;
	trader_run(&g, &m, &c, &whole);
	struct trader t;
	trader_init(&t, &g, &c);
	for (size_t i = 0; i < m.n; i++) {
		trader_step(&t, m.price[i]);
		if (i == 17)
			trader_step(&t, NAN); /* a bad tick is ignored */
	}
	trader_result(&t, &steps);
	trader_free(&t);
	cr_expect_float_eq(whole.final_equity, steps.final_equity, 1e-9);
	cr_expect_eq(whole.trades, steps.trades);
	market_free(&m);
}
