#include "runtime/local/seccomp.h"

/* The sandbox syscall policy, compiled with libseccomp. This file is not
 * part of evoclaw itself: tools/gen_seccomp.c compiles the policy at build
 * time into the BPF program that seccomp.c embeds, and the unit tests
 * compile it again to prove the embedded copy is current. */

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

/* Syscalls a sandbox never needs and that widen the kernel's attack
 * surface or reach outside the sandbox: mounting and namespace games (the
 * sandbox's own user namespace would otherwise let it mount), kernel
 * modules and kexec, tracing, keyrings, BPF, clock and swap control. They
 * fail with EPERM so programs that probe for them degrade gracefully. */
static const char *const denied_syscalls[] = {
	"mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
	"fsconfig", "fsmount", "fspick", "mount_setattr", "setns", "unshare",
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	"kexec_load", "kexec_file_load", "reboot",
	"init_module", "finit_module", "delete_module", "create_module",
	"bpf", "perf_event_open", "userfaultfd",
	"keyctl", "add_key", "request_key",
	"swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "nfsservctl",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime",
	"syslog", "lookup_dcookie", "open_by_handle_at", "name_to_handle_at",
	"iopl", "ioperm", "vhangup", "uselib", "_sysctl", "sysfs", "ustat",
	"get_kernel_syms", "query_module", "vm86", "vm86old", "personality",
	"fanotify_init", "pidfd_getfd",
	/* io_uring: a large kernel attack surface no sandboxed agent needs. */
	"io_uring_setup", "io_uring_enter", "io_uring_register",
};

int seccomp_policy_compile(struct sock_fprog *prog, struct evo_error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "seccomp_init failed");
	int r = 0;
	/* Only the native ABI: x32 and i386 entry points would bypass a
	 * filter written in x86_64 syscall numbers. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; r == 0 && i < sizeof denied_syscalls / sizeof *denied_syscalls; i++) {
		int nr = seccomp_syscall_resolve_name(denied_syscalls[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	/* clone(2) flags that create namespaces are refused so a sandbox
	 * cannot nest a fresh user namespace (and with it, regain mount
	 * powers). A filter can only test "masked == value", so one rule per flag. */
	static const unsigned long ns_flags[] = {
		CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
		CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME,
	};
	for (size_t i = 0; r == 0 && i < sizeof ns_flags / sizeof *ns_flags; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	/* clone3 passes flags in memory a filter cannot read: make it look
	 * absent so libc falls back to clone, which we can check. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* TIOCSTI would let a sandbox type into a terminal it shares. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, 0x5412 /* TIOCSTI */));
	if (r != 0) {
		seccomp_release(ctx);
		return evo_error_set(err, EVO_ERR_SYSTEM, -r, "build seccomp filter");
	}

	/* libseccomp 2.5 exports BPF only to a file descriptor. */
	_cleanup_close_ int fd = memfd_create("evoclaw-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		seccomp_release(ctx);
		return evo_error_errno(err, "memfd_create for seccomp export");
	}
	r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (r != 0)
		return evo_error_set(err, EVO_ERR_SYSTEM, -r, "export seccomp filter");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return evo_error_errno(err, "stat seccomp export");
	size_t size = (size_t)st.st_size;
	if (size == 0 || size % sizeof(struct sock_filter) != 0)
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "seccomp export has odd size %zu", size);
	struct sock_filter *filter = xmalloc(size);
	if (pread(fd, filter, size, 0) != (ssize_t)size) {
		free(filter);
		return evo_error_errno(err, "read seccomp export");
	}
	prog->len = (unsigned short)(size / sizeof(struct sock_filter));
	prog->filter = filter;
	return 0;
}

