/* src/core/market.c: the seeded generator and CSV replays. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/market.h"

Test(market, generator_is_seeded_positive_and_changes_regime)
{
	struct market a, b, c;
	enum market_regime regimes[5000];
	struct evo_error err = {0};
	cr_assert_eq(market_generate(11, 5000, 100, &a, regimes, &err), 0, "%s", err.msg);
	cr_assert_eq(market_generate(11, 5000, 100, &b, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(market_generate(12, 5000, 100, &c, NULL, &err), 0, "%s", err.msg);
	cr_expect_eq(memcmp(a.price, b.price, 5000 * sizeof *a.price), 0, "same seed, same series");
	cr_expect_neq(memcmp(a.price, c.price, 5000 * sizeof *a.price), 0);
	cr_expect_float_eq(a.price[0], 100, 1e-9);
	bool seen[4] = {false};
	int changes = 0;
	for (size_t i = 0; i < a.n; i++) {
		cr_assert(a.price[i] > 0);
		seen[regimes[i]] = true;
		changes += i > 0 && regimes[i] != regimes[i - 1];
	}
	/* 100..400 steps a regime: 12 to 50 changes in 5000 steps. */
	cr_expect(changes >= 12 && changes <= 50, "%d regime changes", changes);
	for (int r = 0; r < 4; r++)
		cr_expect(seen[r], "regime %d never came", r);
	market_free(&a);
	market_free(&b);
	market_free(&c);
	cr_expect_eq(market_generate(1, 1, 100, &a, NULL, &err), -1);
	cr_expect_eq(market_generate(1, 10, 0, &a, NULL, &err), -1);
}

Test(market, csv_replay)
{
	const char *csv = "# BTC-USD minute closes\n"
			  "timestamp, open, Close ,volume\r\n"
			  "1,1,100.5,3\n\n"
			  "2,1,101,3\n"
			  "# a gap\n"
			  "3,1,99.25,3\n";
	struct market m;
	struct evo_error err = {0};
	cr_assert_eq(market_parse_csv(csv, strlen(csv), &m, &err), 0, "%s", err.msg);
	cr_assert_eq(m.n, 3);
	cr_expect_float_eq(m.price[0], 100.5, 1e-12);
	cr_expect_float_eq(m.price[2], 99.25, 1e-12);
	market_free(&m);
	static const struct {
		const char *csv, *message;
	} bad[] = {
		{"", "csv line 1: the header has no"},
		{"time,open\n1,2\n", "csv line 1: the header has no"},
		{"price\n1\n", "at least 2 prices"},
		{"price\n1\nabc\n", "csv line 3: \"abc\" is not a price"},
		{"a,price\n1,2\n3\n", "csv line 3: no price in column 2"},
		{"price\n1\n-5\n", "csv line 3: \"-5\" is not a price above 0"},
		{"price\n1\nnan\n", "is not a price"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_expect_eq(market_parse_csv(bad[i].csv, strlen(bad[i].csv), &m, &err), -1, "%s", bad[i].csv);
		cr_expect_not_null(strstr(err.msg, bad[i].message), "%s -> %s", bad[i].csv, err.msg);
	}
}
