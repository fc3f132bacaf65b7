#include "core/market.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "core/rng.h"

void market_free(struct market *m)
{
	free(m->price);
	m->price = NULL;
	m->n = 0;
}

int market_generate(uint64_t seed, size_t n, double start, struct market *out,
		    enum market_regime *regimes, struct evo_error *err)
{
	if (n < 2 || n > 10000000)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "steps: must be from 2 to 10000000");
	if (!(start > 0) || !isfinite(start))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "start: must be a price above 0");
	struct rng r;
	rng_seed(&r, seed);
	double *p = xmalloc(n * sizeof *p);
	double log_price = log(start), anchor = log_price;
	enum market_regime regime = (enum market_regime)rng_below(&r, 4);
	size_t left = 100 + rng_below(&r, 301);
	for (size_t i = 0; i < n; i++) {
		if (left-- == 0) {
			/* A new regime, never the same twice in a row. */
			regime = (enum market_regime)((regime + 1 + rng_below(&r, 3)) % 4);
			left = 100 + rng_below(&r, 301);
			anchor = log_price;
		}
		double drift = 0, vol = 0.004;
		switch (regime) {
		case MARKET_TREND_UP: drift = 0.0012; break;
		case MARKET_TREND_DOWN: drift = -0.0012; break;
		case MARKET_RANGE:
			/* Pulled back to where the range began (Ornstein-Uhlenbeck). */
			drift = 0.08 * (anchor - log_price);
			vol = 0.006;
			break;
		case MARKET_VOLATILE: vol = 0.012; break;
		}
		if (i > 0)
			log_price += drift + vol * rng_normal(&r);
		/* Bounded, so a long run cannot under- or overflow. */
		if (log_price < log(1e-6))
			log_price = log(1e-6);
		if (log_price > log(1e12))
			log_price = log(1e12);
		p[i] = exp(log_price);
		if (regimes)
			regimes[i] = regime;
	}
	*out = (struct market){.price = p, .n = n};
	return 0;
}

/* The next line of text: [*start, *end) without the newline. */
static bool next_line(const char **cursor, const char *limit, const char **start, const char **end)
{
	if (*cursor >= limit)
		return false;
	*start = *cursor;
	const char *nl = memchr(*cursor, '\n', (size_t)(limit - *cursor));
	*end = nl ? nl : limit;
	*cursor = nl ? nl + 1 : limit;
	if (*end > *start && (*end)[-1] == '\r')
		(*end)--;
	return true;
}

/* Field `index` of a comma-separated line, spaces trimmed. */
static bool field_of(const char *line, const char *end, size_t index, const char **fs,
		     const char **fe)
{
	const char *p = line;
	for (size_t i = 0; i < index; i++) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			return false;
		p = comma + 1;
	}
	const char *comma = memchr(p, ',', (size_t)(end - p));
	const char *q = comma ? comma : end;
	while (p < q && isspace((unsigned char)*p))
		p++;
	while (q > p && isspace((unsigned char)q[-1]))
		q--;
	*fs = p;
	*fe = q;
	return true;
}

static bool blank_or_comment(const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	return s == e || *s == '#';
}

int market_parse_csv(const char *text, size_t len, struct market *out, struct evo_error *err)
{
	const char *cursor = text, *limit = text + len, *s, *e;
	size_t line = 0, column = SIZE_MAX;
	/* The header: which column holds the price. */
	while (next_line(&cursor, limit, &s, &e)) {
		line++;
		if (blank_or_comment(s, e))
			continue;
		for (size_t i = 0;; i++) {
			const char *fs, *fe;
			if (!field_of(s, e, i, &fs, &fe))
				break;
			size_t n = (size_t)(fe - fs);
			if ((n == 5 && strncasecmp(fs, "price", 5) == 0) ||
			    (n == 5 && strncasecmp(fs, "close", 5) == 0)) {
				column = i;
				break;
			}
		}
		break;
	}
	if (column == SIZE_MAX)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "csv line %zu: the header has no \"price\" or \"close\" column",
				     line ? line : 1);
	size_t cap = 1024, n = 0;
	double *p = xmalloc(cap * sizeof *p);
	while (next_line(&cursor, limit, &s, &e)) {
		line++;
		if (blank_or_comment(s, e))
			continue;
		const char *fs, *fe;
		char number[64];
		if (!field_of(s, e, column, &fs, &fe) || fe == fs ||
		    (size_t)(fe - fs) >= sizeof number) {
			free(p);
			return evo_error_set(err, EVO_ERR_INVALID, 0, "csv line %zu: no price in column %zu",
					     line, column + 1);
		}
		memcpy(number, fs, (size_t)(fe - fs));
		number[fe - fs] = '\0';
		char *stop;
		double v = strtod(number, &stop);
		if (*stop != '\0' || !isfinite(v) || v <= 0) {
			free(p);
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "csv line %zu: \"%s\" is not a price above 0", line, number);
		}
		if (n == cap)
			p = xrealloc(p, (cap *= 2) * sizeof *p);
		p[n++] = v;
	}
	if (n < 2) {
		free(p);
		return evo_error_set(err, EVO_ERR_INVALID, 0, "csv: at least 2 prices are needed, found %zu",
				     n);
	}
	*out = (struct market){.price = p, .n = n};
	return 0;
}
