#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "runtime/local/cgroup.h"

static void read_knob(const struct cgroup *cg, int c, const char *knob, char *buf, size_t size)
{
	char path[CGROUP_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", cg->path[c], knob);
	cr_assert_geq(read_file_small(path, buf, size), 0, "read %s", path);
}

/* On real cgroups (v1 here, v2 elsewhere): limits land in the kernel's
 * files, stats see a member process, destroy kills it and removes all. */
Test(cgroup, create_limit_stats_destroy)
{
	struct cgroup_root root;
	struct evo_error err = {0};
	cr_assert_eq(cgroup_root_init(&root, &err), 0, "%s", err.msg);
	char name[64];
	snprintf(name, sizeof name, "unit-test-%d", (int)getpid());
	struct cgroup_limits limits = {.memory_bytes = 64 << 20, .pids = 17, .cpu_millis = 500};
	struct cgroup cg;
	cr_assert_eq(cgroup_create(&root, name, &limits, &cg, &err), 0, "%s", err.msg);

	char buf[256];
	if (cg.v2) {
		read_knob(&cg, 0, "memory.max", buf, sizeof buf);
		cr_expect_eq(strtoull(buf, NULL, 10), 64u << 20);
		read_knob(&cg, 0, "pids.max", buf, sizeof buf);
		cr_expect_eq(atoi(buf), 17);
		read_knob(&cg, 0, "cpu.max", buf, sizeof buf);
		cr_expect_str_eq(buf, "50000 100000\n");
	} else {
		read_knob(&cg, CGROUP_MEMORY, "memory.limit_in_bytes", buf, sizeof buf);
		cr_expect_eq(strtoull(buf, NULL, 10), 64u << 20);
		read_knob(&cg, CGROUP_PIDS, "pids.max", buf, sizeof buf);
		cr_expect_eq(atoi(buf), 17);
		read_knob(&cg, CGROUP_CPU, "cpu.cfs_quota_us", buf, sizeof buf);
		cr_expect_eq(atoi(buf), 50000);
	}

	/* A second group with the same name is a conflict, not a reuse. */
	struct cgroup dup;
	cr_expect_eq(cgroup_create(&root, name, &limits, &dup, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_CONFLICT);

	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	cr_assert_eq(cgroup_add_process(&cg, pid, &err), 0, "%s", err.msg);
	struct cgroup_stats st;
	cr_assert_eq(cgroup_read_stats(&cg, &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.pids, 1);
	cr_expect_eq(st.memory_limit_bytes, 64u << 20);
	cr_expect_eq(cgroup_process_count(&cg), 1);

	cr_assert_eq(cgroup_destroy(&cg, 5000, &err), 0, "%s", err.msg);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	struct stat sb;
	for (int c = 0; c < (cg.v2 ? 1 : CGROUP_CONTROLLER_COUNT); c++)
		cr_expect_neq(stat(cg.path[c], &sb), 0, "%s still exists", cg.path[c]);
	/* Destroying what is gone is not an error. */
	cr_expect_eq(cgroup_destroy(&cg, 100, &err), 0);
}

static bool nothing_is_live(const char *name, void *ctx)
{
	(void)name;
	(void)ctx;
	return false;
}

/* Make a group look created `seconds` ago, in every hierarchy. */
static void age_group(const struct cgroup *cg, int seconds)
{
	struct timespec times[2];
	clock_gettime(CLOCK_REALTIME, &times[0]);
	times[0].tv_sec -= seconds;
	times[1] = times[0];
	for (int c = 0; c < (cg->v2 ? 1 : CGROUP_CONTROLLER_COUNT); c++)
		if (cg->path[c][0]) /* "": a v1 freezer this host lacks */
			cr_assert_eq(utimensat(AT_FDCWD, cg->path[c], times, 0), 0, "age %s",
				     cg->path[c]);
}

Test(cgroup, garbage_collection_spares_busy_and_young_groups)
{
	struct cgroup_root root;
	struct evo_error err = {0};
	cr_assert_eq(cgroup_root_init(&root, &err), 0, "%s", err.msg);
	struct cgroup_limits limits = {0};
	struct cgroup idle, busy, young;
	char a[64], b[64], y[64];
	snprintf(a, sizeof a, "unit-gc-idle-%d", (int)getpid());
	snprintf(b, sizeof b, "unit-gc-busy-%d", (int)getpid());
	snprintf(y, sizeof y, "unit-gc-young-%d", (int)getpid());
	cr_assert_eq(cgroup_create(&root, a, &limits, &idle, &err), 0, "%s", err.msg);
	cr_assert_eq(cgroup_create(&root, b, &limits, &busy, &err), 0, "%s", err.msg);
	cr_assert_eq(cgroup_create(&root, y, &limits, &young, &err), 0, "%s", err.msg);
	/* Old and empty: debris. Young and empty: a sandbox being made. */
	age_group(&idle, 120);
	age_group(&busy, 120);
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	cr_assert_eq(cgroup_add_process(&busy, pid, &err), 0, "%s", err.msg);
	cr_expect_geq(cgroup_collect_garbage(&root, nothing_is_live, NULL), 1);
	struct stat sb;
	cr_expect_neq(stat(idle.path[0], &sb), 0, "empty group not collected");
	cr_expect_eq(stat(busy.path[0], &sb), 0, "busy group was removed");
	cr_expect_eq(stat(young.path[0], &sb), 0, "young group was removed");
	cr_expect_eq(cgroup_destroy(&young, 5000, &err), 0, "%s", err.msg);
	cr_expect_eq(cgroup_destroy(&busy, 5000, &err), 0, "%s", err.msg);
	waitpid(pid, NULL, 0);
}

static long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait (bounded) until *counter passes from. */
static bool counter_passes(const volatile uint64_t *counter, uint64_t from, int timeout_ms)
{
	long long deadline = monotonic_ms() + timeout_ms;
	while (*counter <= from)
		if (monotonic_ms() > deadline)
			return false;
		else
			usleep(1000);
	return true;
}

static uint64_t cpu_usec(const struct cgroup *cg)
{
	struct cgroup_stats st;
	struct evo_error err = {0};
	cr_assert_eq(cgroup_read_stats(cg, &st, &err), 0, "%s", err.msg);
	return st.cpu_usec;
}

/* What the kernel itself says (not cgroup_is_frozen): v1 freezer.state,
 * v2 the "frozen" line of cgroup.events. */
static bool kernel_says_frozen(const struct cgroup *cg)
{
	char buf[256];
	if (cg->v2) {
		read_knob(cg, 0, "cgroup.events", buf, sizeof buf);
		return strstr(buf, "frozen 1") != NULL;
	}
	read_knob(cg, CGROUP_FREEZER, "freezer.state", buf, sizeof buf);
	return strcmp(buf, "FROZEN\n") == 0;
}

/* A frozen group's processes make no progress and use no CPU; thawed,
 * they carry on; a frozen group is destroyed like any other, nothing of
 * it left. */
Test(cgroup, freeze_thaw_and_destroy_frozen)
{
	struct cgroup_root root;
	struct evo_error err = {0};
	cr_assert_eq(cgroup_root_init(&root, &err), 0, "%s", err.msg);
	if (!root.v2 && root.base[CGROUP_FREEZER][0] == '\0') {
		struct cgroup none = {0};
		cr_expect_eq(cgroup_freeze(&none, 100, &err), -1);
		cr_expect_eq(err.errnum, EOPNOTSUPP);
		return; /* a v1 host without a freezer hierarchy */
	}
	char name[64];
	snprintf(name, sizeof name, "unit-freeze-%d", (int)getpid());
	struct cgroup_limits limits = {0};
	struct cgroup cg;
	cr_assert_eq(cgroup_create(&root, name, &limits, &cg, &err), 0, "%s", err.msg);
	cr_expect_not(cgroup_is_frozen(&cg));

	volatile uint64_t *counter = mmap(NULL, sizeof *counter, PROT_READ | PROT_WRITE,
					  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(counter, MAP_FAILED);
	*counter = 0;
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (;;)
			(*counter)++;
	}
	cr_assert_eq(cgroup_add_process(&cg, pid, &err), 0, "%s", err.msg);
	cr_assert(counter_passes(counter, 0, 5000), "the child never ran");

	cr_assert_eq(cgroup_freeze(&cg, 5000, &err), 0, "%s", err.msg);
	cr_expect(kernel_says_frozen(&cg));
	cr_expect(cgroup_is_frozen(&cg));
	uint64_t count = *counter, cpu = cpu_usec(&cg);
	/* Not a wait for anything: the window in which nothing may move. */
	usleep(200 * 1000);
	cr_expect_eq(*counter, count, "a frozen process ran on");
	cr_expect_eq(cpu_usec(&cg), cpu, "a frozen group used CPU");
	/* Freezing what is frozen is not an error. */
	cr_expect_eq(cgroup_freeze(&cg, 5000, &err), 0, "%s", err.msg);

	cr_assert_eq(cgroup_thaw(&cg, &err), 0, "%s", err.msg);
	cr_expect_not(cgroup_is_frozen(&cg));
	cr_expect(counter_passes(counter, count, 5000), "the thawed process did not run on");
	/* CPU time is charged at scheduler ticks: give it a few. */
	long long deadline = monotonic_ms() + 5000;
	while (cpu_usec(&cg) <= cpu && monotonic_ms() < deadline)
		usleep(1000);
	cr_expect_gt(cpu_usec(&cg), cpu, "the thawed group used no CPU");
	cr_expect_eq(cgroup_thaw(&cg, &err), 0, "thawing twice: %s", err.msg);

	/* Destroyed while frozen: killed, reaped, removed. */
	cr_assert_eq(cgroup_freeze(&cg, 5000, &err), 0, "%s", err.msg);
	cr_assert_eq(cgroup_destroy(&cg, 5000, &err), 0, "%s", err.msg);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	struct stat sb;
	for (int c = 0; c < (cg.v2 ? 1 : CGROUP_CONTROLLER_COUNT); c++)
		cr_expect_neq(stat(cg.path[c], &sb), 0, "%s still exists", cg.path[c]);
	munmap((void *)counter, sizeof *counter);
}
