/* Paper trading (issue 7): a genome's strategy run over a market series,
 * with position sizing, fees and slippage, scored by PnL, Sharpe ratio and
 * maximum drawdown. Pure and deterministic: the same genome on the same
 * series always scores the same, which is what lets a tournament rank its
 * agents fairly and keep the champion's fitness from falling. */
#ifndef EVOCLAW_CORE_TRADER_H
#define EVOCLAW_CORE_TRADER_H

#include <stddef.h>
#include <stdint.h>

#include "core/genome.h"
#include "core/market.h"

struct trade_costs {
	double fee_rate;    /* fraction of each trade's notional, e.g. 0.001 */
	double slippage;    /* fraction the price moves against each trade */
	double start_equity;
	double periods_per_year; /* for the Sharpe ratio's annualisation */
};

/* The defaults: 0.1 % fee, 0.05 % slippage, 10,000 of equity, steps of a
 * minute traded around the clock. */
void trader_default_costs(struct trade_costs *out);

struct trade_result {
	double final_equity;
	double pnl;          /* final - start equity */
	double return_pct;   /* pnl / start equity * 100 */
	double sharpe;       /* annualised, of per-step returns; 0 when flat */
	double max_drawdown; /* largest fall from a peak, a fraction 0..1 */
	double fees;         /* paid in fees and slippage */
	uint32_t trades;     /* position changes */
	double fitness;      /* what tournaments rank by (trader_fitness) */
};

/* fitness = Sharpe ratio − 2 × max drawdown: risk-adjusted return,
 * penalising deep falls. */
double trader_fitness(double sharpe, double max_drawdown);

/* The state of a run, for an agent that trades step by step (reporting as
 * it goes) rather than over a whole series at once. */
struct trader {
	struct genome genome;
	struct trade_costs costs;
	double cash, units; /* units > 0 long, < 0 short */
	double peak, max_drawdown, fees;
	uint32_t trades;
	size_t steps;
	double last_equity;
	/* per-step returns' running mean and sum of squares (Welford) */
	double mean, m2;
	size_t returns;
	/* the last window of prices (a ring) */
	double *history;
	size_t history_cap, history_len, history_head;
};

void trader_init(struct trader *t, const struct genome *g, const struct trade_costs *c);
void trader_free(struct trader *t);
/* One new price: maybe trade, then mark to market. */
void trader_step(struct trader *t, double price);
/* The score so far. */
void trader_result(const struct trader *t, struct trade_result *out);

/* A whole series at once. */
void trader_run(const struct genome *g, const struct market *m, const struct trade_costs *c,
		struct trade_result *out);

#endif
