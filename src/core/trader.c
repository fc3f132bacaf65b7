#include "core/trader.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

void trader_default_costs(struct trade_costs *out)
{
	*out = (struct trade_costs){
		.fee_rate = 0.001,
		.slippage = 0.0005,
		.start_equity = 10000,
		.periods_per_year = 365.0 * 24 * 60,
	};
}

double trader_fitness(double sharpe, double max_drawdown)
{
	return sharpe - 2.0 * max_drawdown;
}

void trader_init(struct trader *t, const struct genome *g, const struct trade_costs *c)
{
	memset(t, 0, sizeof *t);
	t->genome = *g;
	t->costs = *c;
	t->cash = c->start_equity;
	t->peak = c->start_equity;
	t->last_equity = c->start_equity;
	/* momentum compares with the price `lookback` steps back, so it
	 * keeps lookback + 1 prices; mean reversion its window. */
	t->history_cap = g->strategy == GENOME_MOMENTUM ? g->lookback_periods + 1 : g->window;
	t->history = xcalloc(t->history_cap, sizeof *t->history);
}

void trader_free(struct trader *t)
{
	free(t->history);
	t->history = NULL;
}

static double history_at(const struct trader *t, size_t age) /* 0: the newest */
{
	size_t i = (t->history_head + t->history_cap - 1 - age) % t->history_cap;
	return t->history[i];
}

/* -1 short, 0 flat, +1 long: what the strategy wants now, given what it
 * holds (mean reversion holds until the price is back near its mean). */
static int wanted_side(const struct trader *t, int held)
{
	const struct genome *g = &t->genome;
	if (t->history_len < t->history_cap)
		return held; /* not enough history yet */
	double now = history_at(t, 0);
	if (g->strategy == GENOME_MOMENTUM) {
		double change = now / history_at(t, g->lookback_periods) - 1.0;
		return change > g->threshold ? 1 : change < -g->threshold ? -1 : 0;
	}
	double sum = 0, sq = 0;
	for (size_t i = 0; i < t->history_cap; i++) {
		double p = t->history[i];
		sum += p;
		sq += p * p;
	}
	double mean = sum / (double)t->history_cap;
	double var = sq / (double)t->history_cap - mean * mean;
	double sd = var > 0 ? sqrt(var) : 0;
	if (sd <= mean * 1e-12)
		return held;
	double z = (now - mean) / sd;
	if (z < -g->z_entry)
		return 1;
	if (z > g->z_entry)
		return -1;
	if (fabs(z) < g->z_exit)
		return 0;
	return held;
}

void trader_step(struct trader *t, double price)
{
	if (!(price > 0) || !isfinite(price))
		return; /* a bad tick is skipped, never traded on */
	t->history[t->history_head] = price;
	t->history_head = (t->history_head + 1) % t->history_cap;
	if (t->history_len < t->history_cap)
		t->history_len++;
	t->steps++;

	double equity = t->cash + t->units * price;
	int held = t->units > 0 ? 1 : t->units < 0 ? -1 : 0;
	int side = wanted_side(t, held);
	if (side != held && equity > 0) {
		/* Trade to the wanted position: position_size of equity. */
		double target = side * t->genome.position_size * equity / price;
		double delta = target - t->units;
		double fill = price * (1 + (delta > 0 ? t->costs.slippage : -t->costs.slippage));
		double notional = fabs(delta) * fill;
		double fee = notional * t->costs.fee_rate;
		t->cash -= delta * fill + fee;
		t->units = target;
		t->fees += fee + fabs(delta) * price * t->costs.slippage;
		t->trades++;
		equity = t->cash + t->units * price;
	}
	if (equity > t->peak)
		t->peak = equity;
	double dd = t->peak > 0 ? (t->peak - equity) / t->peak : 0;
	if (dd > t->max_drawdown)
		t->max_drawdown = dd > 1 ? 1 : dd;
	if (t->steps > 1 && t->last_equity > 0) {
		double ret = equity / t->last_equity - 1.0;
		t->returns++;
		double d = ret - t->mean;
		t->mean += d / (double)t->returns;
		t->m2 += d * (ret - t->mean);
	}
	t->last_equity = equity;
}

void trader_result(const struct trader *t, struct trade_result *out)
{
	double start = t->costs.start_equity;
	double sd = t->returns > 1 ? sqrt(t->m2 / (double)(t->returns - 1)) : 0;
	double sharpe = sd > 1e-15 ? t->mean / sd * sqrt(t->costs.periods_per_year) : 0;
	*out = (struct trade_result){
		.final_equity = t->last_equity,
		.pnl = t->last_equity - start,
		.return_pct = start > 0 ? (t->last_equity - start) / start * 100 : 0,
		.sharpe = sharpe,
		.max_drawdown = t->max_drawdown,
		.fees = t->fees,
		.trades = t->trades,
		.fitness = trader_fitness(sharpe, t->max_drawdown),
	};
}

void trader_run(const struct genome *g, const struct market *m, const struct trade_costs *c,
		struct trade_result *out)
{
	struct trader t;
	trader_init(&t, g, c);
	for (size_t i = 0; i < m->n; i++)
		trader_step(&t, m->price[i]);
	trader_result(&t, out);
	trader_free(&t);
}
