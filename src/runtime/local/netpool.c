#include "runtime/local/netpool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileutil.h"
#include "runtime/paths.h"

/* When a process started (field 22 of /proc/<pid>/stat), 0 if unknown:
 * with the pid, it names one process for good. */
static unsigned long long process_start(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (read_file_small(path, buf, sizeof buf) <= 0)
		return 0;
	/* After the command name, which may hold spaces, in parentheses. */
	const char *p = strrchr(buf, ')');
	unsigned long long start = 0;
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
				&start) != 1)
		return 0;
	return start;
}

static bool pool_enabled(void)
{
	const char *v = getenv("EVOCLAW_NETNS_POOL");
	return !(v && strcmp(v, "0") == 0);
}

static void pool_dir(char *out, size_t size)
{
	snprintf(out, size, "%s/netns", evo_paths_get()->run);
}

/* Entries are named "ns-<random>"; anything else (the lock files) is not
 * a namespace. */
static bool is_entry(const char *name)
{
	return strncmp(name, "ns-", 3) == 0;
}

/* Lock the pool: takers and the refiller serialise on it so no namespace
 * is handed out twice. */
static int lock_pool(const char *dir, int how)
{
	return lock_file(dir, ".lock", how);
}

int netpool_count(void)
{
	char dir[PATH_MAX];
	pool_dir(dir, sizeof dir);
	return count_dir_entries(dir, is_entry);
}

int netpool_take(void)
{
	if (!pool_enabled())
		return -1;
	char dir[PATH_MAX];
	pool_dir(dir, sizeof dir);
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	_cleanup_close_ int lock = lock_pool(dir, LOCK_EX);
	int fd = -1;
	struct dirent *e;
	while (fd < 0 && lock >= 0 && (e = readdir(d)) != NULL) {
		if (!is_entry(e->d_name))
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		/* Unmount before anyone else can open it; the fd keeps the
		 * namespace alive until the sandbox holds it. */
		umount2(path, MNT_DETACH);
		unlink(path);
		struct statfs fs;
		if (fd >= 0 && (fstatfs(fd, &fs) < 0 || fs.f_type != NSFS_MAGIC)) {
			close(fd); /* debris, not a namespace */
			fd = -1;
		}
	}
	closedir(d);
	return fd;
}

int netns_loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return r;
}

/* Make one namespace with lo up and pin it at a new entry. The slow part
 * (the kernel building the namespace) happens outside the pool lock; the
 * entry is created and bound under it, so a taker never sees an entry
 * that is not yet a namespace. The calling thread returns to its own
 * network namespace. */
static int add_one(const char *dir, int home, struct evo_error *err)
{
	unsigned long long tag;
	if (getrandom(&tag, sizeof tag, 0) != (ssize_t)sizeof tag)
		tag = (unsigned long long)getpid() << 20 ^ (unsigned long long)time(NULL);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/ns-%016llx", dir, tag);
	if (unshare(CLONE_NEWNET) < 0)
		return evo_error_errno(err, "create network namespace");
	int r = netns_loopback_up();
	int saved = errno;
	if (r == 0) {
		int lock = lock_pool(dir, LOCK_EX);
		int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		r = fd < 0 ? -1 : mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL);
		saved = errno;
		if (fd >= 0)
			close(fd);
		if (r < 0 && fd >= 0)
			unlink(path);
		if (lock >= 0)
			close(lock);
	}
	/* Stranded in the new namespace, later sandboxes of this process
	 * would share it: there is nothing sensible to do but stop. */
	if (setns(home, CLONE_NEWNET) < 0)
		abort();
	if (r < 0) {
		errno = saved;
		return evo_error_errno(err, "prepare pooled network namespace %s", path);
	}
	return 0;
}

int netpool_fill(int target, struct evo_error *err)
{
	char dir[PATH_MAX];
	pool_dir(dir, sizeof dir);
	if (mkdir_parents(dir, 0700) < 0)
		return evo_error_errno(err, "create %s", dir);
	_cleanup_close_ int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return evo_error_errno(err, "open own network namespace");
	int added = 0;
	while (netpool_count() < target) {
		if (add_one(dir, home, err) < 0)
			return added > 0 ? added : -1;
		added++;
	}
	return added;
}

void netpool_refill_async(void)
{
	if (!pool_enabled() || netpool_count() >= NETPOOL_LOW_WATER)
		return;
	pid_t pid = fork();
	if (pid != 0) {
		if (pid > 0)
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		return;
	}
	/* Detach twice so the refiller is nobody's child and survives us, and
	 * hold none of the caller's descriptors: a sandbox channel or a
	 * pipe to a shell must not stay open because of us. */
	if (fork() != 0)
		_exit(0);
	setsid();
	syscall(SYS_close_range, 3u, ~0u, 0u);
	setpriority(PRIO_PROCESS, 0, 19); /* upkeep yields to the work at hand */
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	char dir[PATH_MAX];
	pool_dir(dir, sizeof dir);
	if (mkdir_parents(dir, 0700) < 0)
		_exit(1);
	/* One refiller at a time; a second one just leaves. The holder's pid
	 * is in the lock file, for a drain that cannot wait for it. */
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/.refill", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
		_exit(0);
	char holder[48];
	int n = snprintf(holder, sizeof holder, "%d %llu\n", (int)getpid(), process_start(getpid()));
	if (ftruncate(fd, 0) < 0 || pwrite(fd, holder, (size_t)n, 0) != n)
		_exit(1);
	netpool_fill(NETPOOL_TARGET, NULL);
	_exit(0);
}

int netpool_drain(void)
{
	char dir[PATH_MAX];
	pool_dir(dir, sizeof dir);
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	/* Wait out a refill in progress, so none adds behind us. Creating a
	 * namespace can stall behind the kernel's cleanup of many others;
	 * after 10 s the refiller is killed (that wait is killable). */
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/.refill", dir);
	_cleanup_close_ int refill = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	for (int waited = 0; refill >= 0 && flock(refill, LOCK_EX | LOCK_NB) < 0; waited += 10) {
		if (waited == 10000) {
			/* Only the refiller that wrote this: a pid alone may have
			 * been reused since. */
			char holder[48] = "";
			int pid = 0;
			unsigned long long start = 0;
			if (pread(refill, holder, sizeof holder - 1, 0) > 0 &&
			    sscanf(holder, "%d %llu", &pid, &start) == 2 && pid > 1 && start != 0 &&
			    process_start(pid) == start)
				kill(pid, SIGKILL);
		}
		if (waited >= 30000)
			break;
		usleep(10000);
	}
	/* ...and hold the pool lock, so no taker opens an entry being removed. */
	int lock = lock_pool(dir, LOCK_EX);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_entry(e->d_name))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		umount2(path, MNT_DETACH);
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	if (lock >= 0)
		close(lock);
	return n;
}
