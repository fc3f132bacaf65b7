/* create-to-first-exec: `evoclaw sandbox create` then `evoclaw sandbox exec
 * ID -- CMD`, timed from the start of create to the exit of exec; the
 * sandbox is killed afterwards, outside the timing.
 * usage: create_exec EVOCLAW RUNS TEMPLATE CMD... */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

/* Run argv; capture its stdout into out (if given); return exit status. */
static int run(char **argv, char *out, size_t size)
{
	int p[2];
	if (pipe(p) < 0)
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	size_t used = 0;
	ssize_t n;
	while ((n = read(p[0], out ? out + used : (char[256]){0}, out ? size - 1 - used : 256)) > 0)
		if (out)
			used += (size_t)n;
	if (out)
		out[used] = '\0';
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: create_exec EVOCLAW RUNS TEMPLATE CMD...\n");
		return 2;
	}
	char *evoclaw = argv[1];
	int runs = atoi(argv[2]);
	double *t = calloc((size_t)runs, sizeof *t);
	for (int r = 0; r < runs; r++) {
		char id[128];
		char *create[] = {evoclaw, "sandbox", "create", "--template", argv[3], "--timeout", "60", NULL};
		double start = now_ms();
		if (run(create, id, sizeof id) != 0) {
			fprintf(stderr, "create failed\n");
			return 1;
		}
		id[strcspn(id, "\n")] = '\0';
		char *exec_argv[64] = {evoclaw, "sandbox", "exec", id, "--"};
		int k = 5;
		for (int i = 4; i < argc && k < 63; i++)
			exec_argv[k++] = argv[i];
		if (run(exec_argv, NULL, 0) != 0) {
			fprintf(stderr, "exec failed\n");
			return 1;
		}
		t[r] = now_ms() - start;
		char *kill_argv[] = {evoclaw, "sandbox", "kill", id, NULL};
		run(kill_argv, NULL, 0);
	}
	qsort(t, (size_t)runs, sizeof *t, compare_doubles);
	double sum = 0;
	for (int r = 0; r < runs; r++)
		sum += t[r];
	printf("%-28s %5d %8.3f %8.3f %8.3f %8.3f\n", "evoclaw create+exec", runs, t[runs / 2],
	       t[(int)(0.9 * (runs - 1) + 0.5)], t[(int)(0.99 * (runs - 1) + 0.5)], sum / runs);
	return 0;
}
