/* Run commands alternately, many times, and report wall-clock latency
 * percentiles per command and the ratio of medians to the first one.
 *
 * usage: latency RUNS WARMUP 'name=cmd args...' 'name=cmd args...' ...
 * Commands are split on spaces (no shell) and run with stdout/stderr on
 * /dev/null; a non-zero exit is fatal. Interleaving A B A B ... means a
 * noisy neighbour slows both equally, so the ratio is what to trust. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

extern char **environ;

struct command {
	char *name;
	char **argv;
	double *samples;
};

static double run_once(struct command *c)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	double start = now_ms();
	pid_t pid;
	if (posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv, environ) != 0) {
		perror(c->argv[0]);
		exit(1);
	}
	int status;
	waitpid(pid, &status, 0);
	double elapsed = now_ms() - start;
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "latency: %s failed (status %d)\n", c->name, status);
		exit(1);
	}
	return elapsed;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: latency RUNS WARMUP name=cmd... [name=cmd...]\n");
		return 2;
	}
	int runs = atoi(argv[1]), warmup = atoi(argv[2]);
	int n = argc - 3;
	struct command *cmds = calloc((size_t)n, sizeof *cmds);
	for (int i = 0; i < n; i++) {
		char *spec = strdup(argv[3 + i]);
		char *eq = strchr(spec, '=');
		if (eq == NULL) {
			fprintf(stderr, "latency: %s is not name=command\n", spec);
			return 2;
		}
		*eq = '\0';
		cmds[i].name = spec;
		cmds[i].argv = calloc(64, sizeof(char *));
		int k = 0;
		for (char *tok = strtok(eq + 1, " "); tok && k < 63; tok = strtok(NULL, " "))
			cmds[i].argv[k++] = tok;
		cmds[i].samples = calloc((size_t)runs, sizeof(double));
	}
	for (int w = 0; w < warmup; w++)
		for (int i = 0; i < n; i++)
			run_once(&cmds[i]);
	for (int r = 0; r < runs; r++)
		for (int i = 0; i < n; i++)
			cmds[i].samples[r] = run_once(&cmds[i]);
	double base = 0;
	printf("%-28s %5s %8s %8s %8s %8s %8s\n", "command", "runs", "p50 ms", "p90 ms", "p99 ms",
	       "mean ms", "p50/" );
	for (int i = 0; i < n; i++) {
		qsort(cmds[i].samples, (size_t)runs, sizeof(double), compare_doubles);
		double sum = 0;
		for (int r = 0; r < runs; r++)
			sum += cmds[i].samples[r];
		double p50 = percentile(cmds[i].samples, runs, 0.5);
		if (i == 0)
			base = p50;
		printf("%-28s %5d %8.3f %8.3f %8.3f %8.3f %8.2f\n", cmds[i].name, runs, p50,
		       percentile(cmds[i].samples, runs, 0.9), percentile(cmds[i].samples, runs, 0.99),
		       sum / runs, p50 / base);
	}
	return 0;
}
