#include "runtime/local/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileutil.h"

static const char *const v1_names[CGROUP_CONTROLLER_COUNT] = {
	[CGROUP_MEMORY] = "memory",
	[CGROUP_PIDS] = "pids",
	[CGROUP_CPU] = "cpu",
	[CGROUP_CPUACCT] = "cpuacct",
	[CGROUP_FREEZER] = "freezer",
};

/* Does a comma-separated option list contain `name` as a whole word? */
static bool options_contain(const char *options, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = options; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* /proc/self/cgroup and /proc/self/mountinfo, read once per lookup of the
 * root (each read costs tens of microseconds on a busy host). */
struct proc_views {
	char *cgroup;
	char *mountinfo;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	char *text = NULL;
	size_t cap = 0;
	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* Our own cgroup path for a v1 controller ("memory") or v2 (NULL). */
static int self_cgroup_path(const struct proc_views *v, const char *controller, char *out,
			    size_t size, struct evo_error *err)
{
	for (const char *line = v->cgroup; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[CGROUP_PATH_MAX * 2];
		snprintf(buf, sizeof buf, "%.*s", (int)len, line);
		line = end ? end + 1 : NULL;
		char *first = strchr(buf, ':');
		char *second = first ? strchr(first + 1, ':') : NULL;
		if (second == NULL)
			continue;
		*second = '\0';
		const char *controllers = first + 1;
		bool match = controller ? options_contain(controllers, controller)
					: (strncmp(buf, "0:", 2) == 0 && *controllers == '\0');
		if (match) {
			snprintf(out, size, "%s", second + 1);
			return 0;
		}
	}
	return evo_error_set(err, EVO_ERR_SYSTEM, 0, "no %s cgroup in /proc/self/cgroup",
			     controller ? controller : "v2");
}

/* One mountinfo line, split into what we use. */
struct mount_entry {
	char root[CGROUP_PATH_MAX];
	char point[CGROUP_PATH_MAX];
	char fstype[32];
	char superopts[512];
};

/* Parse the next line of a mountinfo text at *pos (advanced past it).
 * Returns 1 with *m filled, 0 at the end; unparsable lines are skipped. */
static int mountinfo_next(const char **pos, struct mount_entry *m)
{
	while (*pos && **pos) {
		const char *line = *pos;
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		*pos = end ? end + 1 : NULL;
		char buf[4096];
		snprintf(buf, sizeof buf, "%.*s", (int)len, line);
		/* id parent major:minor root mountpoint opts [optional...] - fstype source superopts */
		char *sep = strstr(buf, " - ");
		char source[64];
		if (sep != NULL &&
		    sscanf(sep + 3, "%31s %63s %511s", m->fstype, source, m->superopts) == 3 &&
		    sscanf(buf, "%*s %*s %*s %511s %511s", m->root, m->point) == 2)
			return 1;
	}
	return 0;
}

/* Mount point and mount root of the hierarchy holding `controller` (v1),
 * or of the cgroup2 hierarchy (controller NULL). */
static int hierarchy_mount(const struct proc_views *v, const char *controller, char *mnt,
			   size_t mnt_size, char *root, size_t root_size)
{
	const char *pos = v->mountinfo;
	struct mount_entry m;
	while (mountinfo_next(&pos, &m)) {
		bool match = controller ? (strcmp(m.fstype, "cgroup") == 0 &&
					   options_contain(m.superopts, controller))
					: strcmp(m.fstype, "cgroup2") == 0;
		if (match) {
			snprintf(mnt, mnt_size, "%s", m.point);
			snprintf(root, root_size, "%s", m.root);
			return 0;
		}
	}
	return -1;
}

/* Absolute directory of our own group in a hierarchy. */
static int self_group_dir(const struct proc_views *v, const char *controller, char *out,
			  size_t size, struct evo_error *err)
{
	char mnt[CGROUP_PATH_MAX], mroot[CGROUP_PATH_MAX], self[CGROUP_PATH_MAX];
	if (hierarchy_mount(v, controller, mnt, sizeof mnt, mroot, sizeof mroot) < 0)
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "no mounted cgroup hierarchy for %s",
				     controller ? controller : "cgroup2");
	if (self_cgroup_path(v, controller, self, sizeof self, err) < 0)
		return -1;
	/* A hierarchy mounted from a sub-root shows our path relative to it. */
	const char *rel = self;
	size_t rlen = strlen(mroot);
	if (strcmp(mroot, "/") != 0 && strncmp(self, mroot, rlen) == 0)
		rel = self + rlen;
	if (strcmp(rel, "/") == 0)
		rel = "";
	if ((size_t)snprintf(out, size, "%s%s", mnt, rel) >= size)
		return evo_error_set(err, EVO_ERR_SYSTEM, ENAMETOOLONG, "cgroup path too long");
	return 0;
}

static bool v2_has_controllers(const char *dir)
{
	char path[CGROUP_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/cgroup.controllers", dir);
	char buf[512];
	if (read_file_small(path, buf, sizeof buf) < 0)
		return false;
	/* cgroup.controllers is space separated. */
	for (char *p = buf; *p; p++)
		if (*p == ' ' || *p == '\n')
			*p = ',';
	return options_contain(buf, "memory") && options_contain(buf, "pids") &&
	       options_contain(buf, "cpu");
}

static int make_dir(const char *path, struct evo_error *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return evo_error_errno(err, "create cgroup %s", path);
	return 0;
}

/* In v2 a group can only hand controllers to its children when it holds no
 * processes itself; when ours does, move this process into a leaf first. */
static int v2_enable_controllers(const char *self, struct evo_error *err)
{
	char path[CGROUP_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/cgroup.subtree_control", self);
	if (write_file_string(path, "+memory +pids +cpu") == 0)
		return 0;
	if (errno != EBUSY)
		return evo_error_errno(err, "enable controllers in %s", path);
	char leaf[CGROUP_PATH_MAX + 32];
	snprintf(leaf, sizeof leaf, "%s/evoclaw-orchestrator", self);
	if (make_dir(leaf, err) < 0)
		return -1;
	char procs[CGROUP_PATH_MAX + 64];
	snprintf(procs, sizeof procs, "%s/cgroup.procs", leaf);
	if (write_file_string(procs, "0") < 0)
		return evo_error_errno(err, "move evoclaw into %s", leaf);
	if (write_file_string(path, "+memory +pids +cpu") < 0)
		return evo_error_errno(err, "enable controllers in %s", path);
	return 0;
}

static int root_init(struct cgroup_root *root, const struct proc_views *v,
		     struct evo_error *err)
{
	char self[CGROUP_PATH_MAX];
	if (self_group_dir(v, NULL, self, sizeof self, NULL) == 0 && v2_has_controllers(self)) {
		root->v2 = true;
		if (v2_enable_controllers(self, err) < 0)
			return -1;
		snprintf(root->base[0], CGROUP_PATH_MAX, "%.*s/evoclaw", CGROUP_PATH_MAX - 10, self);
		if (make_dir(root->base[0], err) < 0)
			return -1;
		char sub[CGROUP_PATH_MAX + 32];
		snprintf(sub, sizeof sub, "%s/cgroup.subtree_control", root->base[0]);
		if (write_file_string(sub, "+memory +pids +cpu") < 0)
			return evo_error_errno(err, "enable controllers in %s", sub);
		return 0;
	}
	for (int c = 0; c < CGROUP_CONTROLLER_COUNT; c++) {
		/* Without a freezer sandboxes cannot be paused, but they run. */
		char mnt[CGROUP_PATH_MAX], mroot[CGROUP_PATH_MAX];
		if (c == CGROUP_FREEZER &&
		    hierarchy_mount(v, v1_names[c], mnt, sizeof mnt, mroot, sizeof mroot) < 0)
			continue;
		if (self_group_dir(v, v1_names[c], self, sizeof self, err) < 0)
			return evo_error_prefix(err, "cgroup v1");
		snprintf(root->base[c], CGROUP_PATH_MAX, "%.*s/evoclaw", CGROUP_PATH_MAX - 10, self);
		if (make_dir(root->base[c], err) < 0)
			return -1;
	}
	return 0;
}

/* Moving a process between cgroups takes the kernel's global threadgroup
 * rwsem for writing, which by default waits for an RCU grace period: 5 to
 * 20 ms on this machine, on every sandbox. The cgroup2 mount option
 * favordynmods (Linux 6.0+) exists for workloads that migrate often, at a
 * small cost to fork and exit; the rwsem is global, so setting it on the
 * v2 mount helps v1 hierarchies too. Applied once, keeping the mount's
 * other options; EVOCLAW_CGROUP_FAVORDYNMODS=0 opts out. Best effort: a
 * kernel without it just keeps the slow tail. */
static void favor_dynamic_modifications(const struct proc_views *v)
{
	const char *opt = getenv("EVOCLAW_CGROUP_FAVORDYNMODS");
	if (opt && strcmp(opt, "0") == 0)
		return;
	const char *pos = v->mountinfo;
	struct mount_entry m;
	while (mountinfo_next(&pos, &m)) {
		if (strcmp(m.fstype, "cgroup2") != 0)
			continue;
		if (options_contain(m.superopts, "favordynmods"))
			return;
		/* Drop the generic "rw"/"ro" flag; the rest are cgroup2's own. */
		const char *rest = m.superopts;
		if (strncmp(rest, "rw", 2) == 0 || strncmp(rest, "ro", 2) == 0)
			rest += rest[2] == ',' ? 3 : 2;
		char opts[600];
		snprintf(opts, sizeof opts, "%s%sfavordynmods", rest, *rest ? "," : "");
		mount(NULL, m.point, NULL, MS_REMOUNT, opts);
		return;
	}
}

int cgroup_root_init(struct cgroup_root *root, struct evo_error *err)
{
	memset(root, 0, sizeof *root);
	struct proc_views v = {slurp("/proc/self/cgroup"), slurp("/proc/self/mountinfo")};
	int r;
	if (v.cgroup == NULL || v.mountinfo == NULL)
		r = evo_error_errno(err, "read /proc/self/cgroup and mountinfo");
	else
		r = root_init(root, &v, err);
	if (r == 0)
		favor_dynamic_modifications(&v);
	free(v.cgroup);
	free(v.mountinfo);
	return r;
}

/* The cache file: which groups a process in a given cgroup uses. The magic
 * names the layout: a cache written by a build with other controllers is
 * rebuilt, not misread. */
#define ROOT_CACHE_MAGIC "evocgr2" /* 2: the freezer joined */

struct root_cache {
	char magic[8]; /* ROOT_CACHE_MAGIC */
	char self[2048]; /* boot id and /proc/self/cgroup it was resolved for */
	struct cgroup_root root;
};

int cgroup_root_init_cached(struct cgroup_root *root, const char *cache_path,
			    struct evo_error *err)
{
	/* Resolving the root reads mountinfo, whose generation alone costs
	 * ~0.1 ms on a host with many mounts; every short-lived CLI process
	 * would pay it. The answer depends only on which cgroup we are in. */
	char self[2048];
	memset(self, 0, sizeof self);
	/* Keyed by boot too: favordynmods is applied on a miss, and a run
	 * directory may outlive a reboot. */
	ssize_t n = read_file_small("/proc/sys/kernel/random/boot_id", self, 64);
	if (n < 0 || read_file_small("/proc/self/cgroup", self + n, sizeof self - (size_t)n) < 0)
		return evo_error_errno(err, "read /proc/self/cgroup");
	struct root_cache cache;
	_cleanup_close_ int fd = open(cache_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && read(fd, &cache, sizeof cache) == (ssize_t)sizeof cache &&
	    memcmp(cache.magic, ROOT_CACHE_MAGIC, 8) == 0 &&
	    memcmp(cache.self, self, sizeof self) == 0 && access(cache.root.base[0], F_OK) == 0) {
		*root = cache.root;
		return 0;
	}
	if (cgroup_root_init(root, err) < 0)
		return -1;
	memset(&cache, 0, sizeof cache);
	memcpy(cache.magic, ROOT_CACHE_MAGIC, 8);
	memcpy(cache.self, self, sizeof self);
	cache.root = *root;
	write_file_atomic(cache_path, &cache, sizeof cache, 0600); /* best effort */
	return 0;
}

static int write_knob(const char *dir, const char *knob, const char *value,
		      struct evo_error *err)
{
	char path[CGROUP_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", dir, knob);
	if (write_file_string(path, value) < 0)
		return evo_error_errno(err, "set %s to %s", path, value);
	return 0;
}

static int apply_limits_v1(const struct cgroup *cg, const struct cgroup_limits *l,
			   struct evo_error *err)
{
	char v[64];
	if (l->memory_bytes) {
		snprintf(v, sizeof v, "%" PRIu64, l->memory_bytes);
		if (write_knob(cg->path[CGROUP_MEMORY], "memory.limit_in_bytes", v, err) < 0)
			return -1;
		/* Only present with swap accounting; without it there is no swap
		 * to escape into. */
		char memsw[CGROUP_PATH_MAX + 64];
		snprintf(memsw, sizeof memsw, "%s/memory.memsw.limit_in_bytes",
			 cg->path[CGROUP_MEMORY]);
		if (access(memsw, F_OK) == 0 && write_file_string(memsw, v) < 0)
			return evo_error_errno(err, "set %s", memsw);
	}
	if (l->pids) {
		snprintf(v, sizeof v, "%" PRIu64, l->pids);
		if (write_knob(cg->path[CGROUP_PIDS], "pids.max", v, err) < 0)
			return -1;
	}
	if (l->cpu_millis) {
		if (write_knob(cg->path[CGROUP_CPU], "cpu.cfs_period_us", "100000", err) < 0)
			return -1;
		snprintf(v, sizeof v, "%u", l->cpu_millis * 100u);
		if (write_knob(cg->path[CGROUP_CPU], "cpu.cfs_quota_us", v, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_limits_v2(const struct cgroup *cg, const struct cgroup_limits *l,
			   struct evo_error *err)
{
	char v[64];
	const char *dir = cg->path[0];
	if (l->memory_bytes) {
		snprintf(v, sizeof v, "%" PRIu64, l->memory_bytes);
		if (write_knob(dir, "memory.max", v, err) < 0)
			return -1;
		char swap[CGROUP_PATH_MAX + 64];
		snprintf(swap, sizeof swap, "%s/memory.swap.max", dir);
		if (access(swap, F_OK) == 0 && write_file_string(swap, "0") < 0)
			return evo_error_errno(err, "set %s", swap);
	}
	if (l->pids) {
		snprintf(v, sizeof v, "%" PRIu64, l->pids);
		if (write_knob(dir, "pids.max", v, err) < 0)
			return -1;
	}
	if (l->cpu_millis) {
		snprintf(v, sizeof v, "%u 100000", l->cpu_millis * 100u);
		if (write_knob(dir, "cpu.max", v, err) < 0)
			return -1;
	}
	return 0;
}

static int controller_count(const struct cgroup *cg)
{
	return cg->v2 ? 1 : CGROUP_CONTROLLER_COUNT;
}

int cgroup_create(const struct cgroup_root *root, const char *name,
		  const struct cgroup_limits *limits, struct cgroup *out,
		  struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	out->v2 = root->v2;
	int n = controller_count(out);
	for (int c = 0; c < n; c++) {
		if (root->base[c][0] == '\0')
			continue; /* a v1 freezer this host does not mount */
		if ((size_t)snprintf(out->path[c], CGROUP_PATH_MAX, "%s/%s", root->base[c], name) >=
		    CGROUP_PATH_MAX)
			return evo_error_set(err, EVO_ERR_INVALID, ENAMETOOLONG,
					     "cgroup name too long");
	}
	for (int c = 0; c < n; c++) {
		if (out->path[c][0] == '\0')
			continue;
		if (mkdir(out->path[c], 0755) < 0) {
			int saved = errno;
			for (int u = 0; u < c; u++)
				rmdir(out->path[u]);
			errno = saved;
			if (saved == EEXIST)
				return evo_error_set(err, EVO_ERR_CONFLICT, saved,
						     "cgroup %s already exists", out->path[c]);
			return evo_error_errno(err, "create cgroup %s", out->path[c]);
		}
	}
	int r = out->v2 ? apply_limits_v2(out, limits, err) : apply_limits_v1(out, limits, err);
	if (r < 0) {
		for (int c = 0; c < n; c++)
			rmdir(out->path[c]);
		return -1;
	}
	return 0;
}

int cgroup_add_process(const struct cgroup *cg, pid_t pid, struct evo_error *err)
{
	char v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	for (int c = 0; c < controller_count(cg); c++)
		if (cg->path[c][0] && write_knob(cg->path[c], "cgroup.procs", v, err) < 0)
			return -1;
	return 0;
}

static uint64_t read_u64_knob(const char *dir, const char *knob)
{
	char path[CGROUP_PATH_MAX + 64], buf[64];
	snprintf(path, sizeof path, "%s/%s", dir, knob);
	if (read_file_small(path, buf, sizeof buf) < 0)
		return 0;
	if (strncmp(buf, "max", 3) == 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

/* Value of "key N" in a flat keyed file (memory.events, cpu.stat). */
static uint64_t read_keyed_knob(const char *dir, const char *knob, const char *key)
{
	char path[CGROUP_PATH_MAX + 64], buf[4096];
	snprintf(path, sizeof path, "%s/%s", dir, knob);
	if (read_file_small(path, buf, sizeof buf) < 0)
		return 0;
	size_t klen = strlen(key);
	for (char *line = buf; line && *line;) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return strtoull(line + klen + 1, NULL, 10);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

int cgroup_read_stats(const struct cgroup *cg, struct cgroup_stats *out,
		      struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	char probe[CGROUP_PATH_MAX + 16];
	snprintf(probe, sizeof probe, "%s", cg->path[0]);
	if (access(probe, F_OK) < 0)
		return evo_error_errno(err, "cgroup %s", probe);
	if (cg->v2) {
		const char *d = cg->path[0];
		out->cpu_usec = read_keyed_knob(d, "cpu.stat", "usage_usec");
		out->memory_bytes = read_u64_knob(d, "memory.current");
		out->memory_peak_bytes = read_u64_knob(d, "memory.peak");
		out->memory_limit_bytes = read_u64_knob(d, "memory.max");
		out->pids = read_u64_knob(d, "pids.current");
		out->oom_kills = read_keyed_knob(d, "memory.events", "oom_kill");
		return 0;
	}
	out->cpu_usec = read_u64_knob(cg->path[CGROUP_CPUACCT], "cpuacct.usage") / 1000;
	out->memory_bytes = read_u64_knob(cg->path[CGROUP_MEMORY], "memory.usage_in_bytes");
	out->memory_peak_bytes = read_u64_knob(cg->path[CGROUP_MEMORY], "memory.max_usage_in_bytes");
	out->memory_limit_bytes = read_u64_knob(cg->path[CGROUP_MEMORY], "memory.limit_in_bytes");
	out->pids = read_u64_knob(cg->path[CGROUP_PIDS], "pids.current");
	out->oom_kills = read_keyed_knob(cg->path[CGROUP_MEMORY], "memory.oom_control", "oom_kill");
	return 0;
}

/* Pids listed in one group's cgroup.procs; SIGKILLs them when kill is set.
 * Returns the count, or -1 if the group is gone. */
static int scan_procs(const char *dir, bool kill_them)
{
	char path[CGROUP_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -1;
	int count = 0, pid;
	while (fscanf(f, "%d", &pid) == 1) {
		count++;
		if (kill_them)
			kill(pid, SIGKILL);
	}
	fclose(f);
	return count;
}

int cgroup_process_count(const struct cgroup *cg)
{
	int total = -1;
	for (int c = 0; c < controller_count(cg); c++) {
		int n = scan_procs(cg->path[c], false);
		if (n > total)
			total = n;
	}
	return total;
}

static long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The directory whose knob freezes the group, "" if none. */
static const char *freezer_dir(const struct cgroup *cg)
{
	return cg->v2 ? cg->path[0] : cg->path[CGROUP_FREEZER];
}

/* Has the freeze taken effect on every process of the group? */
static bool freeze_complete(const struct cgroup *cg)
{
	const char *dir = freezer_dir(cg);
	if (cg->v2)
		return read_keyed_knob(dir, "cgroup.events", "frozen") == 1;
	char path[CGROUP_PATH_MAX + 32], state[32];
	snprintf(path, sizeof path, "%s/freezer.state", dir);
	return read_file_small(path, state, sizeof state) > 0 && strcmp(state, "FROZEN\n") == 0;
}

int cgroup_freeze(const struct cgroup *cg, int timeout_ms, struct evo_error *err)
{
	const char *dir = freezer_dir(cg);
	if (dir[0] == '\0')
		return evo_error_set(err, EVO_ERR_SYSTEM, EOPNOTSUPP,
				     "cannot freeze: this host mounts no cgroup v1 freezer hierarchy");
	if (write_knob(dir, cg->v2 ? "cgroup.freeze" : "freezer.state", cg->v2 ? "1" : "FROZEN",
		       err) < 0)
		return -1;
	/* Each task freezes on its own way back from the kernel; the group
	 * reports frozen once the last has. v1 has no notification for it,
	 * so back off as cgroup_destroy does (one loop serves v2 too): it is
	 * normally done within a millisecond. */
	long long deadline = monotonic_ms() + timeout_ms;
	int delay_us = 20;
	while (!freeze_complete(cg)) {
		if (monotonic_ms() > deadline) {
			cgroup_thaw(cg, NULL);
			return evo_error_set(err, EVO_ERR_SYSTEM, ETIMEDOUT,
					     "cgroup %s was not frozen after %d ms (a process stuck in "
					     "the kernel?), thawed it again",
					     dir, timeout_ms);
		}
		usleep((useconds_t)delay_us);
		if (delay_us < 10000)
			delay_us *= 2;
	}
	return 0;
}

int cgroup_thaw(const struct cgroup *cg, struct evo_error *err)
{
	const char *dir = freezer_dir(cg);
	if (dir[0] == '\0')
		return 0; /* nothing can have frozen it */
	/* Synchronous in both versions: every task is woken by the write. */
	return write_knob(dir, cg->v2 ? "cgroup.freeze" : "freezer.state", cg->v2 ? "0" : "THAWED",
			  err);
}

bool cgroup_is_frozen(const struct cgroup *cg)
{
	const char *dir = freezer_dir(cg);
	if (dir[0] == '\0')
		return false;
	char path[CGROUP_PATH_MAX + 32], state[32];
	if (cg->v2) {
		snprintf(path, sizeof path, "%s/cgroup.freeze", dir);
		return read_file_small(path, state, sizeof state) > 0 && state[0] == '1';
	}
	snprintf(path, sizeof path, "%s/freezer.state", dir);
	return read_file_small(path, state, sizeof state) > 0 && strcmp(state, "THAWED\n") != 0;
}

void cgroup_kill(const struct cgroup *cg)
{
	if (cg->v2) {
		/* A v2 frozen task still acts on a fatal signal, and cgroup.kill
		 * reaches every task, frozen or not. */
		char kill_path[CGROUP_PATH_MAX + 32];
		snprintf(kill_path, sizeof kill_path, "%s/cgroup.kill", cg->path[0]);
		if (write_file_string(kill_path, "1") < 0 && errno != ENOENT)
			scan_procs(cg->path[0], true);
		return;
	}
	int found = 0;
	for (int c = 0; c < CGROUP_CONTROLLER_COUNT; c++)
		if (cg->path[c][0] && scan_procs(cg->path[c], true) > 0)
			found++;
	/* A v1 frozen task sleeps in the freezer until thawed, SIGKILL or
	 * not. Thawed only now, with the signal pending, each one dies on
	 * its way out of the kernel without running another instruction of
	 * its own. An empty group (the usual teardown, after init was
	 * reaped) needs no write. */
	if (found && cg->path[CGROUP_FREEZER][0])
		cgroup_thaw(cg, NULL);
}

int cgroup_destroy(const struct cgroup *cg, int timeout_ms, struct evo_error *err)
{
	long long deadline = monotonic_ms() + timeout_ms;
	cgroup_kill(cg);
	/* Killed tasks leave their groups asynchronously; rmdir says EBUSY
	 * until they have. Back off briefly: there is no portable v1
	 * notification for "empty". */
	for (int c = 0; c < controller_count(cg); c++) {
		int delay_us = 50;
		while (cg->path[c][0] && rmdir(cg->path[c]) < 0) {
			if (errno == ENOENT)
				break;
			if (errno != EBUSY)
				return evo_error_errno(err, "remove cgroup %s", cg->path[c]);
			if (monotonic_ms() > deadline)
				return evo_error_set(err, EVO_ERR_SYSTEM, EBUSY,
						     "cgroup %s still has processes after %d ms",
						     cg->path[c], timeout_ms);
			scan_procs(cg->path[c], true);
			usleep((useconds_t)delay_us);
			if (delay_us < 20000)
				delay_us *= 2;
		}
	}
	return 0;
}

int cgroup_collect_garbage(const struct cgroup_root *root,
			   bool (*is_live)(const char *name, void *ctx), void *ctx)
{
	int removed = 0;
	int n = root->v2 ? 1 : CGROUP_CONTROLLER_COUNT;
	for (int c = 0; c < n; c++) {
		if (root->base[c][0] == '\0')
			continue;
		DIR *d = opendir(root->base[c]);
		if (d == NULL)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			if (is_live(e->d_name, ctx))
				continue;
			char path[CGROUP_PATH_MAX * 2];
			snprintf(path, sizeof path, "%s/%s", root->base[c], e->d_name);
			/* A group a sandbox is being created in is empty for a
			 * moment, and a foreground `run` has no state directory:
			 * only old empty groups are debris. */
			struct stat st;
			if (stat(path, &st) < 0 || time(NULL) - st.st_mtime < 60)
				continue;
			if (scan_procs(path, false) == 0 && rmdir(path) == 0)
				removed++;
		}
		closedir(d);
	}
	return removed;
}
