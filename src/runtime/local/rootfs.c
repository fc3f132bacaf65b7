#include "runtime/local/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/local/doors.h"
#include "runtime/local/spawn_trace.h"

int rootfs_plan_init(struct rootfs_plan *plan, const struct template *t, const char *stage,
		     const char *hostname, uint32_t disk_mb, struct evo_error *err)
{
	memset(plan, 0, sizeof *plan);
	plan->stage = stage;
	plan->disk_mb = disk_mb;
	plan->hostname = hostname;
	plan->user_home = t->home;
	plan->uid = t->uid;
	plan->gid = t->gid;
	if (t->network == TEMPLATE_NETWORK_AGENT) {
		char doors[PATH_MAX];
		if (doors_host_root(doors, sizeof doors, err) < 0)
			return -1;
		plan->doors = xstrdup(doors);
	}
	for (size_t i = 0; i < t->layer_count; i++) {
		const struct template_layer *l = &t->layers[i];
		struct stat st;
		if (stat(l->path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			evo_error_set(err, EVO_ERR_NOT_FOUND, errno ? errno : ENOTDIR,
				      "template %s: layer %s is not a directory (was the rootfs built? run make)",
				      t->name, l->path);
			rootfs_plan_free(plan);
			return -1;
		}
		struct rootfs_overlay *o = NULL;
		for (size_t j = 0; j < plan->overlay_count; j++)
			if (strcmp(plan->overlays[j].target, l->target) == 0)
				o = &plan->overlays[j];
		if (o == NULL) {
			if (plan->overlay_count == ROOTFS_MAX_MOUNTS) {
				rootfs_plan_free(plan);
				return evo_error_set(err, EVO_ERR_INVALID, 0,
						     "template %s: more than %d layer mount points",
						     t->name, ROOTFS_MAX_MOUNTS);
			}
			o = &plan->overlays[plan->overlay_count++];
			o->target = xstrdup(l->target);
			o->lowerdir = xstrdup(l->path);
		} else {
			char *joined = xasprintf("%s:%s", o->lowerdir, l->path);
			free(o->lowerdir);
			o->lowerdir = joined;
		}
	}
	return 0;
}

void rootfs_plan_free(struct rootfs_plan *plan)
{
	for (size_t i = 0; i < plan->overlay_count; i++) {
		free(plan->overlays[i].target);
		free(plan->overlays[i].lowerdir);
	}
	plan->overlay_count = 0;
	free(plan->doors);
	plan->doors = NULL;
}

/* Record a failure in errbuf; always returns -1. */
static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < errlen)
		snprintf(errbuf + n, errlen - (size_t)n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

/* mkdir -p below base (which exists); each created part gets mode and,
 * for the last one, uid:gid. */
static int make_dirs(const char *base, const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", base, rel[0] == '/' ? rel + 1 : rel);
	size_t start = strlen(base) + 1;
	for (size_t i = start; path[i]; i++) {
		if (path[i] != '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		path[i] = '/';
	}
	if (mkdir(path, mode) < 0) {
		if (errno != EEXIST)
			return -1;
		return 0;
	}
	/* mkdir applies the umask; the sticky /tmp needs its exact mode. */
	if (chmod(path, mode) < 0 || chown(path, uid, gid) < 0)
		return -1;
	return 0;
}

static int write_small(const char *base, const char *rel, const char *text)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", base, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* The writable places a sandbox expects are created in the top layer
 * before the overlay is mounted. Creating them through the overlay would
 * copy up directories owned by host root, an id the sandbox's user
 * namespace cannot represent, which the kernel refuses. */
static int seed_upper(const struct rootfs_plan *plan, const char *upper, char *errbuf,
		      size_t errlen)
{
	static const struct {
		const char *path;
		mode_t mode;
	} dirs[] = {
		{"tmp", 01777}, {"var/tmp", 01777}, {"root", 0700}, {"run", 0755},
		{"proc", 0555}, {"dev", 0755},      {"etc", 0755},
	};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (make_dirs(upper, dirs[i].path, dirs[i].mode, 0, 0) < 0)
			return fail(errbuf, errlen, "create /%s", dirs[i].path);
	if (plan->doors && make_dirs(upper, &DOORS_SANDBOX_DIR[1], 0755, 0, 0) < 0)
		return fail(errbuf, errlen, "create %s", DOORS_SANDBOX_DIR);
	if (make_dirs(upper, plan->user_home, 0755, plan->uid, plan->gid) < 0)
		return fail(errbuf, errlen, "create home %s", plan->user_home);
	for (size_t i = 1; i < plan->overlay_count; i++)
		if (make_dirs(upper, plan->overlays[i].target, 0755, 0, 0) < 0)
			return fail(errbuf, errlen, "create mount point %s", plan->overlays[i].target);
	char text[512];
	snprintf(text, sizeof text, "%s\n", plan->hostname);
	if (write_small(upper, "etc/hostname", text) < 0)
		return fail(errbuf, errlen, "write /etc/hostname");
	snprintf(text, sizeof text,
		 "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t%s\n",
		 plan->hostname);
	if (write_small(upper, "etc/hosts", text) < 0)
		return fail(errbuf, errlen, "write /etc/hosts");
	return 0;
}

static int mount_overlays(const struct rootfs_plan *plan, const char *root, char *errbuf,
			  size_t errlen)
{
	for (size_t i = 0; i < plan->overlay_count; i++) {
		const struct rootfs_overlay *o = &plan->overlays[i];
		char upper[4096], work[4096], target[4096];
		snprintf(upper, sizeof upper, "%s/u%zu", plan->stage, i);
		snprintf(work, sizeof work, "%s/w%zu", plan->stage, i);
		if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0)
			return fail(errbuf, errlen, "create overlay dirs for %s", o->target);
		if (i == 0 && seed_upper(plan, upper, errbuf, errlen) < 0)
			return -1;
		snprintf(target, sizeof target, "%s%s", root, i == 0 ? "" : o->target);
		/* userxattr: the overlay is mounted inside a user namespace,
		 * where trusted.* xattrs are not available. */
		char opts[8192];
		int n = snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s,userxattr",
				 o->lowerdir, upper, work);
		if (n < 0 || (size_t)n >= sizeof opts) {
			errno = ENAMETOOLONG;
			return fail(errbuf, errlen, "overlay options for %s", o->target);
		}
		if (mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, opts) < 0)
			return fail(errbuf, errlen, "mount overlay at %s (layers %s)", o->target,
				    o->lowerdir);
	}
	return 0;
}

/* A tmpfs /dev of the sandbox's own. A user namespace cannot mknod, so the
 * harmless device nodes are bound in from the host's /dev (devtmpfs, so
 * they work whatever the run directory's filesystem allows). */
static int mount_dev(const char *root, char *errbuf, size_t errlen)
{
	char dev[4096], path[4096], host[64];
	snprintf(dev, sizeof dev, "%s/dev", root);
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k,nr_inodes=4096") < 0)
		return fail(errbuf, errlen, "mount /dev");
	static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
	for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
		snprintf(path, sizeof path, "%s/%s", dev, nodes[i]);
		snprintf(host, sizeof host, "/dev/%s", nodes[i]);
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0)
			return fail(errbuf, errlen, "create /dev/%s", nodes[i]);
		close(fd);
		if (mount(host, path, NULL, MS_BIND, NULL) < 0)
			return fail(errbuf, errlen, "bind /dev/%s", nodes[i]);
	}
	snprintf(path, sizeof path, "%s/pts", dev);
	if (mkdir(path, 0755) < 0)
		return fail(errbuf, errlen, "create /dev/pts");
	if (mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=620") < 0)
		return fail(errbuf, errlen, "mount /dev/pts");
	snprintf(path, sizeof path, "%s/shm", dev);
	if (mkdir(path, 01777) < 0 || chmod(path, 01777) < 0)
		return fail(errbuf, errlen, "create /dev/shm");
	static const struct {
		const char *name, *target;
	} links[] = {
		{"ptmx", "pts/ptmx"},	     {"fd", "/proc/self/fd"},
		{"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
		{"stderr", "/proc/self/fd/2"},
	};
	for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
		snprintf(path, sizeof path, "%s/%s", dev, links[i].name);
		if (symlink(links[i].target, path) < 0)
			return fail(errbuf, errlen, "link /dev/%s", links[i].name);
	}
	return 0;
}

int rootfs_enter(const struct rootfs_plan *plan, char *errbuf, size_t errlen)
{
	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(errbuf, errlen, "make mounts private");
	char opts[64];
	snprintf(opts, sizeof opts, "mode=755,size=%um", plan->disk_mb);
	if (mount("tmpfs", plan->stage, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return fail(errbuf, errlen, "mount writable layer on %s", plan->stage);
	char root[4096];
	snprintf(root, sizeof root, "%s/root", plan->stage);
	if (mkdir(root, 0755) < 0)
		return fail(errbuf, errlen, "create %s", root);
	spawn_trace_mark("child: writable tmpfs");
	if (mount_overlays(plan, root, errbuf, errlen) < 0)
		return -1;
	spawn_trace_mark("child: overlay");
	if (mount_dev(root, errbuf, errlen) < 0)
		return -1;
	spawn_trace_mark("child: /dev");
	if (plan->doors) {
		/* Not read-only remounted: the directory is host root's, whom
		 * the sandbox's user namespace cannot act as, so it can connect
		 * to the sockets there and change nothing. */
		char doors[4096];
		snprintf(doors, sizeof doors, "%s%s", root, DOORS_SANDBOX_DIR);
		if (mount(plan->doors, doors, NULL, MS_BIND, NULL) < 0)
			return fail(errbuf, errlen, "bind %s at %s", plan->doors, DOORS_SANDBOX_DIR);
	}
	char proc[4096];
	snprintf(proc, sizeof proc, "%s/proc", root);
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail(errbuf, errlen, "mount /proc");
	/* pivot_root(".", ".") stacks the old root under the new one; the
	 * detach then drops every host mount from this namespace at once. */
	if (chdir(root) < 0)
		return fail(errbuf, errlen, "chdir %s", root);
	spawn_trace_mark("child: /proc");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(errbuf, errlen, "pivot_root");
	spawn_trace_mark("child: pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return fail(errbuf, errlen, "detach the host root");
	if (chdir("/") < 0)
		return fail(errbuf, errlen, "chdir /");
	return 0;
}
