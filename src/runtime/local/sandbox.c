#include "runtime/local/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileutil.h"
#include "common/proto.h"
#include "runtime/local/channel.h"
#include "runtime/local/idrange.h"
#include "runtime/local/netpool.h"
#include "runtime/local/rootfs.h"
#include "runtime/local/seccomp.h"
#include "runtime/local/spawn_trace.h"
#include "runtime/paths.h"

void sandbox_generate_id(char id[SANDBOX_ID_MAX])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char raw[SANDBOX_ID_LEN];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		/* getrandom on Linux >= 3.17 does not fail for small sizes once
		 * the pool is ready; fall back to time and pid just in case. */
		unsigned long long seed = (unsigned long long)time(NULL) ^ (unsigned long long)getpid();
		for (size_t i = 0; i < sizeof raw; i++)
			raw[i] = (unsigned char)(seed >> (i % 8 * 8)) ^ (unsigned char)(i * 131);
	}
	/* The first character is a letter so ids are valid hostnames. */
	id[0] = alphabet[raw[0] % 26];
	for (size_t i = 1; i < SANDBOX_ID_LEN; i++)
		id[i] = alphabet[raw[i] % 36];
	id[SANDBOX_ID_LEN] = '\0';
}

bool sandbox_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n >= SANDBOX_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && c == '-');
		if (!ok)
			return false;
	}
	return true;
}

int sandbox_check_run_dir(struct evo_error *err)
{
	const char *dir = evo_paths_get()->run;
	if (mkdir(dir, 0711) == 0) {
		/* Ours, new: exactly the mode we want, whatever the umask. */
		if (chmod(dir, 0711) < 0)
			return evo_error_errno(err, "set the mode of %s", dir);
	} else if (errno == ENOENT) {
		if (mkdir_parents(dir, 0755) < 0 || chmod(dir, 0711) < 0)
			return evo_error_errno(err, "create %s", dir);
	} else if (errno != EEXIST) {
		return evo_error_errno(err, "create %s", dir);
	}
	/* What is in it steers what root does (cgroup paths, pids to kill),
	 * so it must be root's alone. Existing directories are never
	 * changed, only checked. */
	struct stat st;
	if (lstat(dir, &st) < 0)
		return evo_error_errno(err, "stat %s", dir);
	if (!S_ISDIR(st.st_mode))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "run directory %s is not a directory",
				     dir);
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "run directory %s must be owned by root and writable by nobody else "
				     "(it is uid %u, mode %03o)",
				     dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
	if (!(st.st_mode & 001))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "run directory %s must be searchable by others (chmod o+x %s): "
				     "sandboxes reach their staging directory through it",
				     dir, dir);
	return 0;
}

int sandbox_cgroup_root(const struct cgroup_root **out, struct evo_error *err)
{
	static struct cgroup_root root;
	static bool ready;
	if (!ready) {
		const struct evo_paths *paths = evo_paths_get();
		char cache[PATH_MAX];
		snprintf(cache, sizeof cache, "%s/cgroup-root.cache", paths->run);
		if (sandbox_check_run_dir(err) < 0)
			return -1;
		if (cgroup_root_init_cached(&root, cache, err) < 0)
			return -1;
		ready = true;
	}
	*out = &root;
	return 0;
}

/* What the cloned child needs, prepared before clone so the child only
 * makes system calls. */
struct child_args {
	int sync_fd;     /* parent writes one byte once ids and cgroups are set */
	int sync_parent_fd;  /* the parent's end, closed in the child */
	int error_fd;    /* child reports a failure here; EOF means exec happened */
	int error_parent_fd; /* the parent's end, closed in the child */
	int channel_parent_fd; /* the parent's end of the channel */
	int channel_fd;  /* becomes fd 3 */
	int init_fd;     /* O_PATH of evoclaw-init, executed with execveat */
	const char *hostname;
	const struct rootfs_plan *plan;
	const struct seccomp_program *seccomp;
	char **init_argv;
	char **init_env;
	int last_cap;
	bool own_netns; /* no pooled namespace: make one */
};

/* Capabilities evoclaw-init keeps: enough to run commands as any sandbox
 * user and to manage files for them. Its children drop all of them. */
static const int init_caps[] = {
	CAP_SETUID, CAP_SETGID, CAP_SETPCAP, CAP_KILL, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER,
};

/* Highest capability number this kernel knows, read once by the parent:
 * system calls are dear here (PVM), so the child drops only real ones. */
static int last_capability(void)
{
	static int last = -1;
	if (last < 0) {
		char buf[16];
		last = read_file_small("/proc/sys/kernel/cap_last_cap", buf, sizeof buf) > 0 ? atoi(buf)
											 : 63;
	}
	return last;
}

static int drop_capabilities(int last_cap)
{
	uint64_t keep = 0;
	for (size_t i = 0; i < sizeof init_caps / sizeof *init_caps; i++)
		keep |= 1ull << init_caps[i];
	for (int cap = 0; cap <= last_cap; cap++) {
		if (keep & (1ull << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -1;
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &hdr, data);
}

static void set_limits(void)
{
	/* RLIMIT_NPROC is per host user and every sandbox shares the mapped
	 * ids, so process counts are bounded by the pids cgroup instead. */
	struct rlimit core = {0, 0};
	struct rlimit nofile = {65536, 65536};
	setrlimit(RLIMIT_CORE, &core);
	setrlimit(RLIMIT_NOFILE, &nofile);
}

/* Close every descriptor from 3 up except those in keep (any order). */
static void close_all_but(int *keep, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	unsigned from = 3;
	for (int i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < from)
			continue;
		if ((unsigned)keep[i] > from)
			syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0u);
		from = (unsigned)keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0u, 0u);
}

/* Report a failure to the parent and exit: the child cannot return. */
static __attribute__((noreturn)) void child_fail(int fd, const char *msg)
{
	size_t len = strlen(msg);
	(void)!write(fd, msg, len);
	_exit(127);
}

static __attribute__((noreturn)) void child_fail_errno(int fd, const char *what)
{
	char msg[512];
	snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
	child_fail(fd, msg);
}

/* The child, in its new namespaces. Ordered as the kernel requires: ids
 * first (everything else checks them), then mounts, then what takes
 * privileges away, and exec last. */
static __attribute__((noreturn)) void child_main(const struct child_args *a)
{
	/* Without the parent's ends, a parent that dies early shows up as EOF
	 * on the sync pipe instead of a read that never returns. */
	close(a->sync_parent_fd);
	close(a->error_parent_fd);
	close(a->channel_parent_fd);
	/* Nothing of the caller's may reach init: not its other descriptors
	 * (a shell's redirections, a host directory), not its terminal or
	 * session. */
	close_all_but((int[]){a->sync_fd, a->error_fd, a->channel_fd, a->init_fd}, 4);
	setsid();
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		_exit(127);
	char go;
	if (read(a->sync_fd, &go, 1) != 1)
		_exit(127); /* parent gave up */
	spawn_trace_mark("child: released");

	/* Become root of the new user namespace (an unprivileged id on the
	 * host): files we create must have a mapped owner. */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		child_fail_errno(a->error_fd, "become root in the user namespace");
	if (setgroups(0, NULL) < 0)
		child_fail_errno(a->error_fd, "clear supplementary groups");
	/* If the supervisor dies, so does the sandbox: nothing else can reach
	 * its channel. Armed after the id switch, which would clear it. A
	 * parent that died before this shows as EOF on the second sync read
	 * below (getppid() cannot tell: it is 0 in a new pid namespace). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The rest of the namespaces are made here rather than by clone: the
	 * network namespace alone takes ~0.4 ms, and here it runs while the
	 * parent sets up the cgroup on the other CPU. They belong to the
	 * sandbox's user namespace either way. */
	int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | (a->own_netns ? CLONE_NEWNET : 0);
	if (unshare(flags) < 0)
		child_fail_errno(a->error_fd, "create namespaces");
	spawn_trace_mark("child: namespaces");
	if (sethostname(a->hostname, strlen(a->hostname)) < 0)
		child_fail_errno(a->error_fd, "set hostname");
	if (a->own_netns && netns_loopback_up() < 0)
		child_fail_errno(a->error_fd, "bring up lo");

	spawn_trace_mark("child: hostname, lo");
	char errbuf[512];
	if (rootfs_enter(a->plan, errbuf, sizeof errbuf) < 0)
		child_fail(a->error_fd, errbuf);
	spawn_trace_mark("child: rootfs + pivot");

	/* The cgroup namespace must wait until the parent has moved us into
	 * the sandbox's cgroup, so that the cgroup becomes its root. */
	if (read(a->sync_fd, &go, 1) != 1)
		_exit(127);
	close(a->sync_fd);
	if (unshare(CLONE_NEWCGROUP) < 0)
		child_fail_errno(a->error_fd, "create cgroup namespace");
	spawn_trace_mark("child: cgroup namespace");

	set_limits();
	spawn_trace_mark("child: rlimits");
	if (drop_capabilities(a->last_cap) < 0)
		child_fail_errno(a->error_fd, "drop capabilities");
	spawn_trace_mark("child: caps");
	int r = sandbox_seccomp_load(a->seccomp);
	if (r < 0) {
		errno = -r;
		child_fail_errno(a->error_fd, "load seccomp filter");
	}
	/* fd 3 is the channel's by contract; move init's fd out of its way. */
	int init_fd = a->init_fd;
	if (init_fd == EVO_INIT_CHANNEL_FD && (init_fd = fcntl(init_fd, F_DUPFD_CLOEXEC, 4)) < 0)
		child_fail_errno(a->error_fd, "move init fd");
	if (a->channel_fd != EVO_INIT_CHANNEL_FD) {
		if (dup2(a->channel_fd, EVO_INIT_CHANNEL_FD) < 0)
			child_fail_errno(a->error_fd, "dup init channel");
	} else if (fcntl(EVO_INIT_CHANNEL_FD, F_SETFD, 0) < 0) {
		child_fail_errno(a->error_fd, "keep init channel");
	}
	spawn_trace_mark("child: caps, seccomp");
	syscall(SYS_execveat, init_fd, "", a->init_argv, a->init_env, AT_EMPTY_PATH);
	child_fail_errno(a->error_fd, "exec evoclaw-init");
}

static int write_id_map(pid_t pid, const char *file, uint32_t base, struct evo_error *err)
{
	char path[64], map[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	snprintf(map, sizeof map, "0 %u %u\n", base, IDRANGE_SIZE);
	if (write_file_string(path, map) < 0)
		return evo_error_errno(err, "write %s", path);
	return 0;
}

struct strv {
	char **v;
	size_t n, cap;
};

static void strv_push(struct strv *s, char *owned)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = owned;
	s->v[s->n] = NULL;
}

static void strv_clear(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

char **sandbox_entry_env(const struct template *t, char *const *extra, const char *id)
{
	struct strv env = {0};
	strv_push(&env, xasprintf("HOME=%s", t->home));
	strv_push(&env, xasprintf("USER=%s", t->user));
	strv_push(&env, xasprintf("HOSTNAME=%s", id));
	strv_push(&env, xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	for (char **e = t->env; e && *e; e++)
		strv_push(&env, xstrdup(*e));
	for (char *const *e = extra; e && *e; e++)
		strv_push(&env, xstrdup(*e));
	return env.v;
}

void sandbox_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

int sandbox_entry_request(struct evo_buf *b, uint32_t stream, const struct template *t,
			  char *const *argv, char *const *extra_env, const char *id, bool stdin_pipe,
			  struct evo_error *err)
{
	size_t start = b->len;
	size_t mark = evo_frame_begin(b, stream, EVO_MSG_PROC_START, 0);
	size_t payload = 0;
	for (char *const *a = argv; *a; a++) {
		payload += EVO_PROTO_FIELD_HEADER_LEN + strlen(*a);
		if (payload <= EVO_PROTO_MAX_PAYLOAD)
			evo_frame_add_str(b, EVO_F_ARGV, *a);
	}
	char **env = sandbox_entry_env(t, extra_env, id);
	for (char **e = env; *e; e++) {
		payload += EVO_PROTO_FIELD_HEADER_LEN + strlen(*e);
		if (payload <= EVO_PROTO_MAX_PAYLOAD)
			evo_frame_add_str(b, EVO_F_ENV, *e);
	}
	sandbox_strv_free(env);
	/* uid, gid, cwd and the stdin flag fit in what is left over. */
	if (payload + 512 + strlen(t->workdir) > EVO_PROTO_MAX_PAYLOAD) {
		b->len = start;
		return evo_error_set(err, EVO_ERR_INVALID, E2BIG,
				     "command and environment take %zu bytes; at most %u fit in one request",
				     payload, EVO_PROTO_MAX_PAYLOAD - 1024);
	}
	evo_frame_add_u32(b, EVO_F_UID, t->uid);
	evo_frame_add_u32(b, EVO_F_GID, t->gid);
	evo_frame_add_str(b, EVO_F_CWD, t->workdir);
	evo_frame_add_u8(b, EVO_F_STDIN, stdin_pipe ? 1 : 0);
	evo_frame_end(b, mark);
	return 0;
}

static long long unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sandbox_spawn(const struct sandbox_spec *spec, struct sandbox *out, struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	out->init_pid = -1;
	out->init_pidfd = -1;
	out->channel = -1;
	if (spec->id[0] != '\0') {
		if (!sandbox_id_valid(spec->id))
			return evo_error_set(err, EVO_ERR_INVALID, 0, "invalid sandbox id \"%.64s\"",
					     spec->id);
		snprintf(out->id, sizeof out->id, "%s", spec->id);
	} else {
		sandbox_generate_id(out->id);
	}
	const struct evo_paths *paths = evo_paths_get();
	const struct cgroup_root *cgroot;
	const struct seccomp_program *seccomp;
	spawn_trace_begin();
	if (sandbox_cgroup_root(&cgroot, err) < 0 || sandbox_seccomp_program(&seccomp, err) < 0)
		return -1;

	/* A fixed staging directory is enough: each sandbox mounts its tmpfs
	 * over it inside its own mount namespace. The child reaches it as an
	 * unprivileged host id, so the path must be searchable by others;
	 * nothing is ever stored in it on the host side. */
	if (sandbox_check_run_dir(err) < 0)
		return -1;
	char stage[PATH_MAX];
	snprintf(stage, sizeof stage, "%s/.stage", paths->run);
	if (mkdir(stage, 0711) < 0 && errno != EEXIST)
		return evo_error_errno(err, "create %s", stage);
	if (idrange_claim(out->id, &out->id_slot, err) < 0)
		return -1;
	out->has_id_slot = true;
	struct rootfs_plan plan;
	if (rootfs_plan_init(&plan, spec->tmpl, stage, out->id, spec->resources.disk_mb, err) < 0) {
		sandbox_destroy(out, NULL);
		return -1;
	}
	_cleanup_close_ int init_fd = open(paths->init, O_PATH | O_CLOEXEC);
	if (init_fd < 0) {
		evo_error_errno(err, "open %s (was it built? run make)", paths->init);
		rootfs_plan_free(&plan);
		sandbox_destroy(out, NULL);
		return -1;
	}

	struct cgroup_limits limits = {
		.memory_bytes = (uint64_t)spec->resources.memory_mb << 20,
		.pids = spec->resources.pids,
		.cpu_millis = spec->resources.cpu_millis,
	};
	spawn_trace_mark("plan, init fd");
	/* init's command line says only whether it ends with its entrypoint:
	 * the entrypoint itself (and its environment, which may hold
	 * secrets) goes as the first request, never into /proc/1/cmdline. */
	struct strv argv = {0};
	strv_push(&argv, xstrdup("evoclaw-init"));
	if (spec->exit_with_entrypoint)
		strv_push(&argv, xstrdup("--exit-with-entrypoint"));
	struct evo_buf entry = {0};
	if (spec->entry_argv != NULL &&
	    sandbox_entry_request(&entry, EVO_ENTRYPOINT_STREAM, spec->tmpl, spec->entry_argv,
				  spec->entry_env, out->id, spec->entry_stdin, err) < 0) {
		strv_clear(&argv);
		rootfs_plan_free(&plan);
		sandbox_destroy(out, NULL);
		return -1;
	}
	char *init_env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	int channel[2] = {-1, -1}, sync_pipe[2] = {-1, -1}, error_pipe[2] = {-1, -1};
	int pooled_net = -1, home_net = -1;
	int result = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) < 0 ||
	    pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(error_pipe, O_CLOEXEC) < 0) {
		evo_error_errno(err, "create sandbox channels");
		goto out;
	}
	/* Queued in the socket now; init reads it first thing. */
	if (entry.len > 0 && channel_send_all(channel[0], &entry, err) < 0)
		goto out;
	struct child_args args = {
		.sync_fd = sync_pipe[0],
		.sync_parent_fd = sync_pipe[1],
		.error_fd = error_pipe[1],
		.error_parent_fd = error_pipe[0],
		.channel_parent_fd = channel[0],
		.channel_fd = channel[1],
		.init_fd = init_fd,
		.hostname = out->id,
		.plan = &plan,
		.seccomp = seccomp,
		.init_argv = argv.v,
		.init_env = init_env,
		.last_cap = last_capability(),
	};
	/* Raw clone behaves like fork (no new stack). Only the user and pid
	 * namespaces are made here: the child must be PID 1 of a pid
	 * namespace owned by its user namespace; it makes the others itself.
	 * CLONE_PIDFD gives a race-free handle on init. */
	int pidfd = -1;
	long flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_PIDFD | SIGCHLD;
	spawn_trace_mark("argv, channels");
	/* A pooled network namespace is inherited through clone: this thread
	 * steps into it just for the call. */
	/* Opened per spawn, not cached: a forked caller may have closed every
	 * descriptor it inherited. */
	pooled_net = netpool_take();
	if (pooled_net >= 0)
		home_net = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (pooled_net >= 0 && (home_net < 0 || setns(pooled_net, CLONE_NEWNET) < 0))
		close(steal_fd(&pooled_net));
	args.own_netns = pooled_net < 0;
	spawn_trace_mark("take pooled netns");
	/* The kernel charges per-user limits (inotify instances, watches,
	 * namespaces) at every level to a user namespace's owner, the euid
	 * of its creator. Created as root, every sandbox would share root's
	 * counts, and one could exhaust them for the host. So this thread
	 * creates it as the sandbox's own host id, then is root again; the
	 * raw call changes this thread only. */
	uint32_t owner = idrange_host_base(out->id_slot);
	if (syscall(SYS_setresuid, -1, owner, -1) < 0) {
		evo_error_errno(err, "become uid %u to own the user namespace", owner);
		goto out;
	}
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, &pidfd, NULL, 0);
	if (pid == 0)
		child_main(&args);
	if (syscall(SYS_setresuid, -1, 0, -1) < 0)
		abort(); /* root we were, root we must be again */
	if (pooled_net >= 0 && setns(home_net, CLONE_NEWNET) < 0)
		abort(); /* later sandboxes would share this one's network */
	if (pid < 0) {
		evo_error_errno(err, "clone sandbox namespaces");
		goto out;
	}
	spawn_trace_mark("clone");
	out->init_pid = pid;
	out->init_pidfd = pidfd;
	close(steal_fd(&sync_pipe[0]));
	close(steal_fd(&error_pipe[1]));
	close(steal_fd(&channel[1]));

	uint32_t base = idrange_host_base(out->id_slot);
	if (write_id_map(pid, "uid_map", base, err) < 0 || write_id_map(pid, "gid_map", base, err) < 0)
		goto out;
	if (write(sync_pipe[1], "g", 1) != 1) {
		evo_error_errno(err, "start sandbox child");
		goto out;
	}
	spawn_trace_mark("id maps, child released");
	/* While the child builds its namespaces and rootfs: the cgroup. */
	if (cgroup_create(cgroot, out->id, &limits, &out->cgroup, err) < 0) {
		evo_error_prefix(err, "sandbox %s", out->id);
		goto out;
	}
	spawn_trace_mark("cgroup create");
	if (cgroup_add_process(&out->cgroup, pid, err) < 0)
		goto out;
	if (write(sync_pipe[1], "c", 1) != 1) {
		evo_error_errno(err, "start sandbox child");
		goto out;
	}
	spawn_trace_mark("join cgroup");
	char msg[512];
	ssize_t n;
	do
		n = read(error_pipe[0], msg, sizeof msg - 1);
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		msg[n > 0 ? n : 0] = '\0';
		evo_error_set(err, EVO_ERR_SYSTEM, 0, "sandbox %s setup: %s", out->id,
			      n > 0 ? msg : "lost contact with the child");
		goto out;
	}
	spawn_trace_mark("child exec'd init");
	out->channel = steal_fd(&channel[0]);
	out->created_ms = unix_ms();
	result = 0;
	/* Init is running on its own now; topping up the pool overlaps it. */
	netpool_refill_async();
out:
	for (int i = 0; i < 2; i++) {
		cleanup_closep(&channel[i]);
		cleanup_closep(&sync_pipe[i]);
		cleanup_closep(&error_pipe[i]);
	}
	cleanup_closep(&pooled_net);
	cleanup_closep(&home_net);
	evo_buf_free(&entry);
	strv_clear(&argv);
	rootfs_plan_free(&plan);
	if (result < 0)
		sandbox_destroy(out, NULL);
	return result;
}

int sandbox_destroy(struct sandbox *sb, struct evo_error *err)
{
	int result = 0;
	if (sb->init_pid > 0) {
		/* Killing PID 1 of a pid namespace kills every process in it;
		 * the kernel reports init's exit only after all are gone. */
		if (sb->init_pidfd >= 0)
			syscall(SYS_pidfd_send_signal, sb->init_pidfd, SIGKILL, NULL, 0);
		else
			kill(sb->init_pid, SIGKILL);
		while (waitpid(sb->init_pid, NULL, 0) < 0 && errno == EINTR)
			;
		sb->init_pid = -1;
		spawn_trace_mark("destroy: init reaped");
	}
	cleanup_closep(&sb->init_pidfd);
	sb->init_pidfd = -1;
	cleanup_closep(&sb->channel);
	sb->channel = -1;
	if (sb->cgroup.path[0][0] != '\0') {
		if (cgroup_destroy(&sb->cgroup, 5000, err) < 0)
			result = -1;
		else
			memset(&sb->cgroup, 0, sizeof sb->cgroup);
		spawn_trace_mark("destroy: cgroup removed");
	}
	/* Last: only once nothing runs under the range may it be reused. */
	if (sb->has_id_slot && result == 0) {
		idrange_release(sb->id_slot, sb->id);
		sb->has_id_slot = false;
	}
	return result;
}
