/* Shared by the benchmark programs: a wall clock and percentiles. */
#ifndef EVOCLAW_BENCH_UTIL_H
#define EVOCLAW_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

static inline double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The p-quantile (0..1) of n samples, sorting them in place. */
static inline double percentile(double *samples, int n, double p)
{
	qsort(samples, (size_t)n, sizeof *samples, compare_doubles);
	return samples[(int)(p * (n - 1) + 0.5)];
}

#endif
