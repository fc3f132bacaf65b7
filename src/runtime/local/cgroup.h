/* Per-sandbox cgroups on either hierarchy.
 *
 * This machine mounts cgroup v1 controllers (memory, pids, cpu, cpuacct,
 * freezer each on its own mount) plus a v2 hierarchy that has none of
 * them; other machines are pure v2. cgroup_root_init() picks v2 when the
 * unified hierarchy offers memory+pids+cpu, else v1. Sandbox groups are
 * created below the cgroup evoclaw itself runs in, in a child named
 * "evoclaw", so limits set on the orchestrator still bound its sandboxes.
 *
 * Every group can be frozen (a paused sandbox): v2 has cgroup.freeze in
 * every group; v1 needs the freezer controller, which is optional there
 * (without it, freezing fails and everything else works). */
#ifndef EVOCLAW_RUNTIME_LOCAL_CGROUP_H
#define EVOCLAW_RUNTIME_LOCAL_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

enum cgroup_controller {
	CGROUP_MEMORY,
	CGROUP_PIDS,
	CGROUP_CPU,
	CGROUP_CPUACCT,
	CGROUP_FREEZER, /* v1 only, and only if mounted: its path may be "" */
	CGROUP_CONTROLLER_COUNT,
};

#define CGROUP_PATH_MAX 512

struct cgroup_limits {
	uint64_t memory_bytes; /* 0 = unlimited */
	uint64_t pids;         /* 0 = unlimited */
	uint32_t cpu_millis;   /* 1000 = one core; 0 = unlimited */
};

struct cgroup_stats {
	uint64_t cpu_usec;
	uint64_t memory_bytes;
	uint64_t memory_peak_bytes;
	uint64_t memory_limit_bytes;
	uint64_t pids;
	uint64_t oom_kills;
};

/* A sandbox's cgroup: one directory (v2) or one per controller (v1). On
 * v1, cpu and cpuacct may share a mount, so paths may repeat. */
struct cgroup {
	bool v2;
	char path[CGROUP_CONTROLLER_COUNT][CGROUP_PATH_MAX]; /* v2: only [0] */
};

/* Where sandbox groups go: the parent directories, resolved once. */
struct cgroup_root {
	bool v2;
	char base[CGROUP_CONTROLLER_COUNT][CGROUP_PATH_MAX]; /* .../evoclaw */
};

/* Resolve and create the evoclaw parent groups. */
int cgroup_root_init(struct cgroup_root *root, struct evo_error *err);

/* The same, remembered in cache_path for processes in the same cgroup
 * (a missing or stale cache is rebuilt). */
int cgroup_root_init_cached(struct cgroup_root *root, const char *cache_path,
			    struct evo_error *err);

/* Create the group for sandbox `name` and apply limits. On failure nothing
 * is left behind. */
int cgroup_create(const struct cgroup_root *root, const char *name,
		  const struct cgroup_limits *limits, struct cgroup *out,
		  struct evo_error *err);

/* Move process pid into every controller of cg. */
int cgroup_add_process(const struct cgroup *cg, pid_t pid, struct evo_error *err);

int cgroup_read_stats(const struct cgroup *cg, struct cgroup_stats *out,
		      struct evo_error *err);

/* Number of processes still in the group (any controller), or -1. */
int cgroup_process_count(const struct cgroup *cg);

/* Stop every process in the group where it stands and return once the
 * kernel reports all of them frozen (v1 freezer.state FROZEN, v2
 * cgroup.events "frozen 1"); processes that join later are frozen too.
 * Freezing an already frozen group is not an error. Fails (and thaws the
 * group again) when it has not taken effect within timeout_ms, or with
 * EVO_ERR_SYSTEM/EOPNOTSUPP on a v1 host without a freezer hierarchy. */
int cgroup_freeze(const struct cgroup *cg, int timeout_ms, struct evo_error *err);

/* Let a frozen group run again; at once, and a no-op on one that is not
 * frozen. */
int cgroup_thaw(const struct cgroup *cg, struct evo_error *err);

/* Is the group frozen, or being frozen? false when it cannot be. */
bool cgroup_is_frozen(const struct cgroup *cg);

/* SIGKILL everything in the group, frozen or not: a frozen v1 task acts
 * on a signal only once thawed, so the group is thawed after the kill
 * (never before, so no process runs on in between). Returns without
 * waiting for the processes to be gone. */
void cgroup_kill(const struct cgroup *cg);

/* SIGKILL everything in the group (as cgroup_kill), then remove it.
 * Processes take a moment to leave after SIGKILL: this waits for them
 * (bounded by timeout_ms) and fails with the group left in place if they
 * do not. Missing groups are not an error. */
int cgroup_destroy(const struct cgroup *cg, int timeout_ms, struct evo_error *err);

/* Remove leftover groups under root whose name `is_live(name)` rejects and
 * which hold no processes (after a supervisor was killed -9). Returns the
 * count removed. */
int cgroup_collect_garbage(const struct cgroup_root *root,
			   bool (*is_live)(const char *name, void *ctx), void *ctx);

#endif
