/* Where an agent's sandbox runs (DESIGN §3): one interface, one
 * implementation per place. The orchestrator starts, follows, extends and
 * kills sandboxes through it and never sees how. Implemented: local (this
 * machine's namespaces, runtime/local/provider_local.c) and e2b (E2B's
 * cloud, or anything speaking its API, runtime/e2b/provider_e2b.c).
 *
 * A started or adopted sandbox is followed through a watch: a descriptor
 * that turns readable when the sandbox has output or has ended, and a read
 * call that hands what is ready to a sink. One thread can follow thousands
 * of watches with epoll. */
#ifndef EVOCLAW_RUNTIME_PROVIDER_H
#define EVOCLAW_RUNTIME_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/proto.h"

#define PROVIDER_SANDBOX_ID_MAX 64

enum provider_end_reason {
	PROVIDER_END_EXITED,  /* its command ended (exit_code / signal) */
	PROVIDER_END_TIMEOUT, /* its deadline passed */
	PROVIDER_END_KILLED,  /* someone killed it */
	PROVIDER_END_LOST,    /* it vanished without saying why */
};

struct provider_end {
	enum provider_end_reason reason;
	int32_t exit_code; /* EXITED: the status, -1 when signalled */
	int32_t signal;    /* EXITED: the signal that killed it, 0 if none */
	bool oom;          /* EXITED: the memory limit killed it */
	char message[200]; /* what the provider saw, for the record; "" if nothing */
};

struct provider_spawn {
	const char *template_name;
	uint32_t timeout_sec;   /* it dies then unless extended */
	char *const *argv;      /* NULL: the template's entrypoint; idle without one */
	bool idle;              /* with argv NULL: run nothing, not even the entrypoint */
	char *const *env;       /* KEY=VALUE over the template's, may be NULL */
	const char *task;       /* NULL, or written to <home>/task.txt first */
	const char *owner;      /* tag of the orchestrator that owns it */
};

struct provider_stats {
	uint64_t cpu_usec;           /* CPU time used so far */
	uint64_t memory_bytes;
	uint64_t memory_limit_bytes;
	uint64_t pids;
	uint32_t cpu_millis;         /* its CPU limit, 1000 = one vCPU */
};

struct provider_watch;

/* How an agent in a provider's sandboxes reaches its orchestrator's
 * telemetry and the MQTT broker. Empty strings: it has no way. */
struct provider_agent_routes {
	char orchestrator_url[256]; /* "unix:/path" or "http://host:port" */
	char mqtt_broker[256];      /* a host, or a unix socket path */
	uint32_t mqtt_port;         /* 0 with a path */
};

/* What a watch delivers. Output comes in order; ended() is the last call. */
struct provider_sink {
	void *ctx;
	void (*output)(void *ctx, bool is_stderr, const uint8_t *data, size_t len);
	void (*ended)(void *ctx, const struct provider_end *end);
};

struct provider {
	const char *name;
	/* Sandboxes tagged ours that no agent claims after a restart: the
	 * local provider's are leftovers to kill; a remote provider's are
	 * reported and left alone (they may be someone's, and cost money
	 * only the operator may decide to stop). */
	bool kills_orphans;
	/* Start a sandbox that runs spec, and follow it. Returns once the
	 * command runs (or the sandbox idles); id_out gets the sandbox id.
	 * INVALID for a template or command that cannot run. */
	int (*start)(const struct provider_spawn *spec, char id_out[PROVIDER_SANDBOX_ID_MAX],
		     struct provider_watch **out, struct evo_error *err);
	/* Follow a sandbox started earlier (by a previous run of the
	 * orchestrator). Its output so far is delivered again first.
	 * NOT_FOUND when it no longer exists. */
	int (*adopt)(const char *id, struct provider_watch **out, long long *deadline_ms,
		     struct evo_error *err);
	int (*watch_fd)(const struct provider_watch *w);
	/* Deliver what is ready; 1 while the sandbox lives, 0 once ended()
	 * has been called (then only watch_close is left to do). */
	int (*watch_read)(struct provider_watch *w, const struct provider_sink *sink);
	void (*watch_close)(struct provider_watch *w);
	/* Kill a sandbox and return once nothing of it runs; NOT_FOUND when
	 * it was already gone. */
	int (*kill)(const char *id, struct evo_error *err);
	/* Its deadline becomes now + seconds (of a paused sandbox: seconds
	 * from its resume). */
	int (*set_timeout)(const char *id, uint32_t seconds, struct evo_error *err);
	/* Freeze every process of a sandbox: it uses no CPU, is not billed,
	 * and its timeout stops running (and cannot fire) until it resumes.
	 * Returns once all are frozen. While paused its processes and files
	 * cannot be reached: requests on a channel_open connection are
	 * refused (EAGAIN) at once. NOT_FOUND when it is gone; CONFLICT when
	 * it is already paused, or is not the kind that can be (an unclaimed
	 * pool sandbox). */
	int (*pause)(const char *id, struct evo_error *err);
	/* Let a paused sandbox run again. Its deadline becomes now + the time
	 * it had left when paused, or now + timeout_sec when that is not 0.
	 * NOT_FOUND when it is gone; CONFLICT when it is not paused. */
	int (*resume)(const char *id, uint32_t timeout_sec, struct evo_error *err);
	/* What it uses now. NOT_FOUND when it is gone. */
	int (*stats)(const char *id, struct provider_stats *out, struct evo_error *err);
	/* Ids of live sandboxes tagged with owner; NULL-terminated, the
	 * caller frees each and the array. */
	char **(*list_owned)(const char *owner);
	/* How a sandbox that is gone ended, when the provider kept a note of
	 * it for an owner that was not listening: 0 with end and *ended_ms,
	 * NOT_FOUND otherwise. The note is used up. */
	int (*collect_end)(const char *id, struct provider_end *end, long long *ended_ms,
			   struct evo_error *err);
	/* Drop every such note of owner (after a recovery has used them). */
	void (*forget_ends)(const char *owner);
	/* A connection speaking the init protocol (docs/init-protocol.md) to
	 * the sandbox's init, for envd: a SEQPACKET socket the caller owns.
	 * Processes started on it end when it is closed. NOT_FOUND when the
	 * sandbox is gone. */
	int (*channel_open)(const char *id, struct evo_error *err);
	/* The routes to give agents of owner's sandboxes (local: the doors
	 * its orchestrator listens on, runtime/local/doors.h). */
	void (*agent_routes)(const char *owner, struct provider_agent_routes *out);
	/* Prometheus lines of its own for GET /metrics; NULL: none. */
	void (*metrics)(struct evo_buf *out);
};

const struct provider *provider_local(void);

#endif
