#include "runtime/local/spawn_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define TRACE_MAX 40
struct spawn_trace {
	int count;
	struct {
		const char *stage;
		long long ns;
	} marks[TRACE_MAX];
};

static struct spawn_trace *trace_page;

static long long monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void spawn_trace_mark(const char *stage)
{
	if (trace_page == NULL)
		return;
	int i = __atomic_fetch_add(&trace_page->count, 1, __ATOMIC_RELAXED);
	if (i < TRACE_MAX) {
		trace_page->marks[i].stage = stage;
		trace_page->marks[i].ns = monotonic_ns();
	}
}

void spawn_trace_begin(void)
{
	static int enabled = -1;
	if (enabled < 0) {
		const char *v = getenv("EVOCLAW_SPAWN_TRACE");
		enabled = v && *v == '1';
	}
	if (!enabled)
		return;
	if (trace_page == NULL) {
		void *p = mmap(NULL, sizeof *trace_page, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return;
		trace_page = p;
	}
	trace_page->count = 0;
	spawn_trace_mark("begin");
}

void spawn_trace_report(void)
{
	if (trace_page == NULL)
		return;
	int n = trace_page->count < TRACE_MAX ? trace_page->count : TRACE_MAX;
	for (int i = 1; i < n; i++)
		fprintf(stderr, "spawn %-22s %7.1f us (at %7.1f)\n", trace_page->marks[i].stage,
			(trace_page->marks[i].ns - trace_page->marks[i - 1].ns) / 1e3,
			(trace_page->marks[i].ns - trace_page->marks[0].ns) / 1e3);
}

