#include "runtime/local/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The BPF program, compiled from seccomp_policy.c when evoclaw was built
 * (tools/gen_seccomp.c), so no process and no sandbox pays for libseccomp's
 * compiler at run time. */
#include "seccomp_filter.h"

int sandbox_seccomp_program(const struct seccomp_program **out, struct evo_error *err)
{
	(void)err;
	static const struct seccomp_program program = {
		.fprog = {
			.len = sizeof seccomp_filter_insns / sizeof *seccomp_filter_insns,
			.filter = (struct sock_filter *)seccomp_filter_insns,
		},
	};
	*out = &program;
	return 0;
}

int sandbox_seccomp_load(const struct seccomp_program *prog)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog->fprog) < 0)
		return -errno;
	return 0;
}
