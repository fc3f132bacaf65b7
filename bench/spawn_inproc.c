/* Spawn-to-exit through the runtime library, as the orchestrator pays it:
 * sandbox_spawn with /bin/true as the entrypoint, until its exit status
 * arrives; teardown timed separately. Interleaved with bwrap run as a
 * process on the same rootfs (its number includes bwrap's own exec).
 * usage: spawn_inproc RUNS ROOTFS_MINIMAL BWRAP */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#include "common/proto.h"
#include "runtime/local/channel.h"
#include "runtime/local/sandbox.h"

extern char **environ;

static void report(const char *name, double *t, int n, double base)
{
	qsort(t, (size_t)n, sizeof *t, compare_doubles);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += t[i];
	double p50 = t[n / 2];
	printf("%-28s %5d %8.3f %8.3f %8.3f %8.3f", name, n, p50, t[(int)(0.9 * (n - 1) + 0.5)],
	       t[(int)(0.99 * (n - 1) + 0.5)], sum / n);
	if (base > 0)
		printf(" %8.2f", p50 / base);
	printf("\n");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: spawn_inproc RUNS ROOTFS_MINIMAL BWRAP\n");
		return 2;
	}
	int runs = atoi(argv[1]);
	struct template t;
	struct evo_error err = {0};
	if (template_load("minimal", &t, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	char *entry[] = {"/bin/true", NULL};
	struct sandbox_spec spec = {.tmpl = &t, .resources = t.resources, .entry_argv = entry,
				    .exit_with_entrypoint = true};
	char *bwrap_argv[] = {argv[3], "--unshare-all", "--ro-bind", argv[2], "/", "--proc", "/proc",
			      "--dev", "/dev", "--tmpfs", "/tmp", "/bin/true", NULL};
	double *spawn = calloc((size_t)runs, sizeof(double));
	double *teardown = calloc((size_t)runs, sizeof(double));
	double *bwrap = calloc((size_t)runs, sizeof(double));
	uint8_t *buf = malloc(EVO_PROTO_MAX_FRAME);
	for (int r = -10; r < runs; r++) {
		double t0 = now_ms();
		struct sandbox sb;
		if (sandbox_spawn(&spec, &sb, &err) < 0) {
			fprintf(stderr, "spawn: %s\n", err.msg);
			return 1;
		}
		struct evo_frame f;
		while (channel_recv(sb.channel, buf, &f, 10000, &err) > 0 &&
		       f.type != EVO_MSG_PROC_EXIT)
			;
		double t1 = now_ms();
		sandbox_destroy(&sb, NULL);
		double t2 = now_ms();
		pid_t pid;
		double t3 = now_ms();
		posix_spawn(&pid, argv[3], NULL, NULL, bwrap_argv, environ);
		int st;
		waitpid(pid, &st, 0);
		double t4 = now_ms();
		if (r >= 0) {
			spawn[r] = t1 - t0;
			teardown[r] = t2 - t1;
			bwrap[r] = t4 - t3;
		}
	}
	printf("%-28s %5s %8s %8s %8s %8s %8s\n", "in-process", "runs", "p50 ms", "p90 ms", "p99 ms",
	       "mean ms", "p50/");
	report("bwrap --unshare-all", bwrap, runs, 0);
	double base = bwrap[runs / 2];
	report("evoclaw spawn-to-exit", spawn, runs, base);
	report("evoclaw teardown", teardown, runs, 0);
	return 0;
}
