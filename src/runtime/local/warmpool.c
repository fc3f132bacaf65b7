#include "runtime/local/warmpool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileutil.h"
#include "runtime/local/state.h"
#include "runtime/local/supervisor.h"
#include "runtime/paths.h"

bool warmpool_enabled(void)
{
	const char *v = getenv("EVOCLAW_WARM_POOL");
	return !(v && strcmp(v, "0") == 0);
}

void warmpool_key(const char *template_name, const struct template_resources *overrides,
		  char out[WARMPOOL_KEY_MAX])
{
	int n = snprintf(out, WARMPOOL_KEY_MAX, "%s", template_name);
	const struct {
		char tag;
		uint32_t value;
	} parts[] = {
		{'c', overrides->cpu_millis},
		{'m', overrides->memory_mb},
		{'d', overrides->disk_mb},
		{'p', overrides->pids},
	};
	/* '.' cannot occur in a template name, so no template's key can be
	 * mistaken for another's with overrides ("base-m300" vs "base.m300"). */
	for (size_t i = 0; i < 4; i++)
		if (parts[i].value && n > 0 && n < WARMPOOL_KEY_MAX)
			n += snprintf(out + n, WARMPOOL_KEY_MAX - (size_t)n, ".%c%u", parts[i].tag,
				      parts[i].value);
}

int warmpool_key_parse(const char *key, char name[TEMPLATE_NAME_MAX + 1],
		       struct template_resources *overrides)
{
	memset(overrides, 0, sizeof *overrides);
	const char *dot = strchr(key, '.');
	size_t len = dot ? (size_t)(dot - key) : strlen(key);
	if (len == 0 || len > TEMPLATE_NAME_MAX)
		return -1;
	memcpy(name, key, len);
	name[len] = '\0';
	if (!template_name_valid(name))
		return -1;
	for (const char *p = dot; p && *p;) {
		char tag = p[1];
		char *end;
		unsigned long v = strtoul(p + 2, &end, 10);
		if (v == 0 || v > UINT32_MAX || (*end != '.' && *end != '\0'))
			return -1;
		switch (tag) {
		case 'c': overrides->cpu_millis = (uint32_t)v; break;
		case 'm': overrides->memory_mb = (uint32_t)v; break;
		case 'd': overrides->disk_mb = (uint32_t)v; break;
		case 'p': overrides->pids = (uint32_t)v; break;
		default: return -1;
		}
		p = *end ? end : NULL;
	}
	return 0;
}

static void pools_dir(char *out, size_t size)
{
	snprintf(out, size, "%s/warm", evo_paths_get()->run);
}

/* A key is a template name and resource numbers, so it can never name
 * anything outside the pools' directory. */
static bool key_valid(const char *key)
{
	char name[TEMPLATE_NAME_MAX + 1];
	struct template_resources overrides;
	return warmpool_key_parse(key, name, &overrides) == 0;
}

/* The directory of pool `key`; false (and nothing to use) for a bad key. */
static bool pool_dir(const char *key, char *out, size_t size)
{
	if (!key_valid(key))
		return false;
	snprintf(out, size, "%s/warm/%s", evo_paths_get()->run, key);
	return true;
}

int warmpool_take(const char *key, char id[SANDBOX_ID_MAX])
{
	if (!warmpool_enabled())
		return -1;
	char dir[PATH_MAX];
	if (!pool_dir(key, dir, sizeof dir))
		return -1;
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	int result = -1;
	struct dirent *e;
	while (result < 0 && (e = readdir(d)) != NULL) {
		if (!sandbox_id_valid(e->d_name))
			continue;
		char marker[PATH_MAX];
		snprintf(marker, sizeof marker, "%s/%s", dir, e->d_name);
		if (unlink(marker) < 0)
			continue; /* another taker was first */
		snprintf(id, SANDBOX_ID_MAX, "%s", e->d_name);
		result = 0;
	}
	closedir(d);
	return result;
}

static bool is_marker(const char *name)
{
	return sandbox_id_valid(name);
}

static int count_markers(const char *dir)
{
	return count_dir_entries(dir, is_marker);
}

int warmpool_fill(const char *key, int target, struct evo_error *err)
{
	char dir[PATH_MAX], name[TEMPLATE_NAME_MAX + 1];
	struct template_resources overrides;
	if (warmpool_key_parse(key, name, &overrides) < 0 || !pool_dir(key, dir, sizeof dir))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "invalid warm pool \"%.80s\"", key);
	if (mkdir_parents(dir, 0700) < 0)
		return evo_error_errno(err, "create %s", dir);
	/* The template as it is now, with the pool's overrides: a template
	 * edited since the pool began is what new warm sandboxes get. */
	struct template t;
	if (template_load(name, &t, err) < 0)
		return -1;
	struct sandbox_spec spec = {.tmpl = &t, .resources = t.resources};
	if (overrides.cpu_millis)
		spec.resources.cpu_millis = overrides.cpu_millis;
	if (overrides.memory_mb)
		spec.resources.memory_mb = overrides.memory_mb;
	if (overrides.disk_mb)
		spec.resources.disk_mb = overrides.disk_mb;
	if (overrides.pids)
		spec.resources.pids = overrides.pids;
	int added = 0;
	while (count_markers(dir) < target) {
		char id[SANDBOX_ID_MAX];
		/* The new supervisor marks its sandbox warm itself. */
		if (supervisor_start(&spec, (uint64_t)WARMPOOL_IDLE_TIMEOUT_S * 1000, key, id, err) < 0)
			break;
		added++;
	}
	template_free(&t);
	return added > 0 || err == NULL || err->kind == EVO_ERR_NONE ? added : -1;
}

/* Lock a pool's refill: one refiller at a time, and drain waits for it. */
static int lock_refill(const char *dir, int how)
{
	return lock_file(dir, ".refill", how);
}

void warmpool_refill_async(const char *key)
{
	if (!warmpool_enabled())
		return;
	char dir[PATH_MAX];
	if (!pool_dir(key, dir, sizeof dir) || mkdir_parents(dir, 0700) < 0)
		return;
	/* Locked here and inherited by the refiller (flock locks belong to
	 * the open file, shared across fork), so there is no moment at which
	 * a refill is under way but unlocked: drain relies on that. */
	int lock = lock_refill(dir, LOCK_EX | LOCK_NB);
	if (lock < 0)
		return; /* a refill is already under way */
	pid_t pid = fork();
	if (pid != 0) {
		close(lock);
		if (pid > 0)
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		return;
	}
	/* Hold nothing of the caller's but the lock (a supervisor's own lock
	 * and sockets, a shell's pipe), and detach so nobody has to reap us. */
	if (dup2(lock, 3) < 0)
		_exit(1);
	syscall(SYS_close_range, 4u, ~0u, 0u);
	if (fork() != 0)
		_exit(0);
	setsid();
	/* A supervisor blocks its signals for signalfd; the refiller must
	 * answer SIGTERM like any process. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Pool upkeep yields to whatever runs now; the supervisor raises a
	 * finished warm sandbox back to normal priority (supervisor.c). */
	setpriority(PRIO_PROCESS, 0, 19);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 3)
			close(null);
	}
	warmpool_fill(key, WARMPOOL_TARGET, NULL);
	_exit(0);
}

bool warmpool_is_warm(const struct sandbox_state *st)
{
	if (st->pool_key[0] == '\0')
		return false;
	char dir[PATH_MAX], marker[PATH_MAX];
	if (!pool_dir(st->pool_key, dir, sizeof dir))
		return false;
	snprintf(marker, sizeof marker, "%s/%s", dir, st->id);
	return access(marker, F_OK) == 0;
}

int warmpool_mark(const struct sandbox_state *st, struct evo_error *err)
{
	char dir[PATH_MAX], marker[PATH_MAX];
	if (!pool_dir(st->pool_key, dir, sizeof dir))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "invalid warm pool \"%.80s\"", st->pool_key);
	snprintf(marker, sizeof marker, "%s/%s", dir, st->id);
	int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return evo_error_errno(err, "create %s", marker);
	close(fd);
	return 0;
}

void warmpool_forget(const struct sandbox_state *st)
{
	char dir[PATH_MAX], marker[PATH_MAX];
	if (!pool_dir(st->pool_key, dir, sizeof dir))
		return;
	snprintf(marker, sizeof marker, "%s/%s", dir, st->id);
	unlink(marker);
}

/* Call fn on every pool directory. */
static int for_each_pool(int (*fn)(const char *dir))
{
	char base[PATH_MAX];
	pools_dir(base, sizeof base);
	DIR *d = opendir(base);
	if (d == NULL)
		return 0;
	int total = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s/%s", base, e->d_name);
		total += fn(dir);
	}
	closedir(d);
	return total;
}

int warmpool_count(void)
{
	return for_each_pool(count_markers);
}

/* Take a lock, waiting at most timeout_ms: drain must not hang on a
 * refill stuck in the kernel. Returns the fd or -1. */
static int lock_refill_within(const char *dir, int timeout_ms)
{
	for (int waited = 0;; waited += 10) {
		int fd = lock_refill(dir, LOCK_EX | LOCK_NB);
		if (fd >= 0 || waited >= timeout_ms)
			return fd;
		usleep(10000);
	}
}

static int drain_pool(const char *dir)
{
	/* Waits for a running refill, so none adds behind us; a refill
	 * that does not finish within 30 s is drained around. */
	int lock = lock_refill_within(dir, 30000);
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (!sandbox_id_valid(e->d_name))
			continue;
		char marker[PATH_MAX];
		snprintf(marker, sizeof marker, "%s/%s", dir, e->d_name);
		if (unlink(marker) == 0 && supervisor_kill(e->d_name, NULL) == 0)
			n++;
	}
	if (d != NULL)
		closedir(d);
	if (lock >= 0)
		close(lock);
	return n;
}

/* Wait for every claimed pool sandbox to end, all under one deadline of a
 * minute: each refills its pool as it ends, so only after that are the
 * pools' refill locks meaningful. */
static void wait_for_claimed(void)
{
	char **ids = supervisor_list_ids();
	size_t n = 0;
	for (char **id = ids; *id; id++) {
		struct sandbox_state st;
		if (supervisor_info(*id, &st, NULL) == 0 && st.pool_key[0] && !warmpool_is_warm(&st))
			ids[n++] = *id; /* claimed: keep */
		else
			free(*id);
	}
	ids[n] = NULL;
	for (int waited = 0; waited <= 60000; waited += 10) {
		bool all_done = true;
		for (size_t i = 0; i < n; i++)
			if (ids[i] != NULL && supervisor_wait(ids[i], 0)) {
				free(ids[i]);
				ids[i] = NULL;
			} else if (ids[i] != NULL) {
				all_done = false;
			}
		if (all_done)
			break;
		usleep(10000);
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int warmpool_drain(void)
{
	wait_for_claimed();
	return for_each_pool(drain_pool);
}
