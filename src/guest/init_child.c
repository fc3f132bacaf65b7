/* The child side of starting a process: everything between the clone and
 * exec(), in the order the kernel requires. The child runs on its own
 * stack in init's memory (CLONE_VM, as posix_spawn does) while init waits,
 * so it writes nothing but its stack and the report pipe. Nothing here may
 * return into init's loop; a failure is reported to the parent over a CLOEXEC pipe
 * (which exec closes on success) so that it becomes an ERROR frame naming
 * what failed instead of a mysterious exit 127. */
#include "guest/init.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static _Noreturn void child_fail(const struct init_child_spec *spec, enum init_child_step step)
{
	struct init_child_report report = { .step = step, .errnum = errno };
	ssize_t n;
	do
		n = write(spec->report_fd, &report, sizeof report);
	while (n < 0 && errno == EINTR);
	_exit(127);
}

/* Put fd on target and make sure it survives exec. */
static int child_move_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

static int child_setup_stdio(const struct init_child_spec *spec)
{
	int in = spec->stdin_fd;
	if (in < 0) {
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (in < 0)
			return -1;
	}
	if (child_move_fd(in, 0) < 0 || child_move_fd(spec->stdout_fd, 1) < 0 ||
	    child_move_fd(spec->stderr_fd, 2) < 0)
		return -1;
	/* Everything else init holds (the channel, epoll, other processes'
	 * pipes) must not leak into the program. Marking them CLOEXEC rather
	 * than closing keeps the report pipe usable until exec itself. */
	if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) < 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (int fd = 3; fd < (max > 0 ? max : 65536); fd++)
			if (fd != spec->report_fd)
				close(fd);
	}
	return 0;
}

/* Capabilities in init's bounding set (bit n = capability n), and whether
 * init may drop them (CAP_SETPCAP); filled by init_child_prepare. */
static uint64_t bounding_set;
static bool can_drop_bounding;

void init_child_prepare(void)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	for (int cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			break; /* past CAP_LAST_CAP */
		if (r == 1)
			bounding_set |= 1ull << cap;
	}
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof data);
	if (syscall(SYS_capget, &header, data) == 0)
		can_drop_bounding = data[CAP_SETPCAP / 32].effective & (1u << (CAP_SETPCAP % 32));
}

/* Empty the bounding set while CAP_SETPCAP is still held: a uid-0 program
 * regains every capability in it at exec. Without CAP_SETPCAP (init run
 * unprivileged, as in tests) there is nothing to regain: no_new_privs
 * below stops file capabilities and setuid bits. */
static int child_drop_bounding_set(void)
{
	if (!can_drop_bounding)
		return 0;
	for (int cap = 0; cap < 64; cap++)
		if ((bounding_set & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -1;
	return 0;
}

static int child_clear_capabilities(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -1;
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof data);
	if (syscall(SYS_capset, &header, data) < 0)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* init_child_prepare reset everything else once; init itself only
 * ignores SIGPIPE, and ignored signals survive exec. */
static void child_reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
}

_Noreturn void init_child_exec(const struct init_child_spec *spec)
{
	/* Own session and process group, so a signal to the group reaches
	 * the whole job and nothing of init's. */
	if (setsid() < 0)
		child_fail(spec, INIT_STEP_SESSION);
	child_reset_signals();
	if (child_setup_stdio(spec) < 0)
		child_fail(spec, INIT_STEP_STDIO);

	if (child_drop_bounding_set() < 0)
		child_fail(spec, INIT_STEP_CAPS);
	gid_t groups[1] = { spec->gid };
	if (setgroups(1, groups) < 0) {
		/* Unprivileged (tests): fine as long as nothing is switched. */
		if (errno != EPERM || spec->uid != getuid())
			child_fail(spec, INIT_STEP_GROUPS);
	}
	if (setresgid(spec->gid, spec->gid, spec->gid) < 0)
		child_fail(spec, INIT_STEP_GID);
	if (setresuid(spec->uid, spec->uid, spec->uid) < 0)
		child_fail(spec, INIT_STEP_UID);
	if (child_clear_capabilities() < 0)
		child_fail(spec, INIT_STEP_CAPS);

	umask(022);
	/* After the switch, so the program's own permissions decide. */
	if (spec->cwd != NULL) {
		if (chdir(spec->cwd) < 0)
			child_fail(spec, INIT_STEP_CWD);
	} else if (spec->home == NULL || chdir(spec->home) < 0) {
		if (chdir("/") < 0)
			child_fail(spec, INIT_STEP_CWD);
	}

	/* execvpe searches the PATH of the program's own environment. The
	 * child shares init's memory (see init_process_spawn), so it must not
	 * point init's environ elsewhere. */
	execvpe(spec->argv[0], spec->argv, (char **)spec->envp);
	child_fail(spec, INIT_STEP_EXEC);
}
