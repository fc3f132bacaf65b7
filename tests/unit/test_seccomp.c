#include <criterion/criterion.h>
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/local/seccomp.h"

/* The filter embedded at build time is what the policy compiles to now. */
Test(seccomp, embedded_filter_matches_policy)
{
	const struct seccomp_program *embedded;
	struct sock_fprog fresh;
	struct evo_error err = {0};
	cr_assert_eq(sandbox_seccomp_program(&embedded, &err), 0);
	cr_assert_eq(seccomp_policy_compile(&fresh, &err), 0, "%s", err.msg);
	cr_assert_eq(fresh.len, embedded->fprog.len);
	cr_expect_eq(memcmp(fresh.filter, embedded->fprog.filter, fresh.len * sizeof *fresh.filter), 0,
		     "embedded filter is stale: rebuild");
	free(fresh.filter);
}

/* In a child under the filter: each denied call reports errno, allowed
 * ones work. The child exits with a bit per failed expectation. */
Test(seccomp, denies_and_allows)
{
	const struct seccomp_program *prog;
	sandbox_seccomp_program(&prog, NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int bad = 0;
		if (sandbox_seccomp_load(prog) != 0)
			_exit(255);
		errno = 0;
		if (mount("none", "/tmp", "tmpfs", 0, NULL) == 0 || errno != EPERM)
			bad |= 1;
		if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM)
			bad |= 2;
		if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
			bad |= 4;
		if (syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0) != -1 || errno != EPERM)
			bad |= 8;
		if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) != -1 || errno != EPERM)
			bad |= 16;
		if (syscall(SYS_ptrace, 0, 0, 0, 0) != -1 || errno != EPERM)
			bad |= 32;
		if (getpid() <= 0)
			bad |= 64;
		/* Plain fork must still work. */
		pid_t child = fork();
		if (child == 0)
			_exit(0);
		int st;
		if (child < 0 || waitpid(child, &st, 0) != child)
			bad |= 128;
		_exit(bad);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_expect_eq(WEXITSTATUS(status), 0, "failed expectations bitmask %d", WEXITSTATUS(status));
}
