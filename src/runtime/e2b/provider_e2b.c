#include "runtime/e2b/provider_e2b.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/random_hex.h"
#include "common/cleanup.h"

/* The tag of an agent's command in its sandbox: what a reconnect asks
 * envd for (process.Process/Connect by tag). */
#define COMMAND_TAG "evoclaw-agent"
/* How long start waits for envd to say the command runs. */
#define START_WAIT_MS 60000
/* A sandbox found gone this close to its deadline ended at its timeout. */
#define DEADLINE_SLACK_MS 1000
#define RECONNECT_FIRST_MS 250
#define RECONNECT_MAX_MS 5000
#define OWNERS_MAX 8

/* One followed sandbox. Two hold it: its follower thread and whoever owns
 * the watch (the orchestrator); the last to let go frees it. Everything
 * below `lock` is under it. */
struct e2b_watch {
	char id[PROVIDER_SANDBOX_ID_MAX];
	char owner[64];
	struct e2b_sandbox sandbox;
	struct evo_buf request; /* the Start envelope (empty when adopted) */
	int64_t created_ms;	/* when we began following it (monotonic) */
	bool need_info;		/* adopted while E2B could not be asked: its token is unknown */
	atomic_bool cancel;	/* the owner let go: the follower stops */
	atomic_bool interrupt;	/* stop the stream now and look again */

	pthread_mutex_t lock;
	pthread_cond_t changed;
	int refs;
	int event_fd;		/* readable when output or the end waits; -1 once closed */
	struct evo_buf output;	/* records: 1 byte is_stderr, 4 bytes length, bytes */
	bool started;		/* envd said the command runs */
	bool start_failed;
	char start_error[300];
	bool ended;
	struct provider_end end;
	bool delivered_end;
	/* What the orchestrator did or found: these decide how an end reads. */
	bool killed;	  /* we killed it */
	bool vanished;	  /* reconciliation did not find it */
	int64_t deadline_ms; /* wall clock; 0 unknown */
	struct e2b_watch *next; /* in the provider's list */
};

static struct {
	struct e2b_api *api;
	/* The same API with retries cut short: for what a server's start
	 * waits on (adopting and listing sandboxes after a restart). */
	struct e2b_api *quick_api;
	char *agent_command;
	char *orchestrator_url;
	char *mqtt_broker;
	uint32_t mqtt_port;
	uint32_t reconcile_sec;

	pthread_mutex_t lock;
	struct e2b_watch *watches;
	char owners[OWNERS_MAX][64];
	size_t owner_count;
	/* What reconciliation found (for /metrics). */
	uint64_t unknown_sandboxes;
	uint64_t vanished_total;
	uint64_t reconcile_errors;
	char reported[64][PROVIDER_SANDBOX_ID_MAX]; /* unknown ones already logged */
	size_t reported_count;
} e2b = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void remember_owner(const char *owner)
{
	if (owner == NULL || owner[0] == '\0')
		return;
	pthread_mutex_lock(&e2b.lock);
	bool known = false;
	for (size_t i = 0; i < e2b.owner_count && !known; i++)
		known = strcmp(e2b.owners[i], owner) == 0;
	if (!known && e2b.owner_count < OWNERS_MAX)
		snprintf(e2b.owners[e2b.owner_count++], 64, "%s", owner);
	pthread_mutex_unlock(&e2b.lock);
}

/* ---- watches ------------------------------------------------------------- */

static struct e2b_watch *watch_new(const struct e2b_sandbox *sb, const char *owner)
{
	struct e2b_watch *w = xcalloc(1, sizeof *w);
	snprintf(w->id, sizeof w->id, "%s", sb->id);
	snprintf(w->owner, sizeof w->owner, "%s", owner ? owner : "");
	w->sandbox = *sb;
	w->created_ms = mono_ms();
	w->refs = 2;
	w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
	pthread_mutex_lock(&e2b.lock);
	w->next = e2b.watches;
	e2b.watches = w;
	pthread_mutex_unlock(&e2b.lock);
	return w;
}

static void watch_unref(struct e2b_watch *w)
{
	pthread_mutex_lock(&w->lock);
	bool last = --w->refs == 0;
	pthread_mutex_unlock(&w->lock);
	if (!last)
		return;
	pthread_mutex_lock(&e2b.lock);
	for (struct e2b_watch **p = &e2b.watches; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	pthread_mutex_unlock(&e2b.lock);
	if (w->event_fd >= 0)
		close(w->event_fd);
	evo_buf_free(&w->request);
	evo_buf_free(&w->output);
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Caller holds w->lock. */
static void watch_signal(struct e2b_watch *w)
{
	uint64_t one = 1;
	if (w->event_fd >= 0)
		(void)!write(w->event_fd, &one, sizeof one);
	pthread_cond_broadcast(&w->changed);
}

static void watch_end(struct e2b_watch *w, const struct provider_end *end)
{
	pthread_mutex_lock(&w->lock);
	if (!w->ended) {
		w->ended = true;
		w->end = *end;
	}
	if (!w->started && !w->start_failed) {
		w->start_failed = true;
		snprintf(w->start_error, sizeof w->start_error, "%s",
			 end->message[0] ? end->message : "the sandbox ended before its command ran");
	}
	watch_signal(w);
	pthread_mutex_unlock(&w->lock);
}

/* A watch by sandbox id, with a reference taken; NULL if none. */
static struct e2b_watch *watch_find(const char *id)
{
	pthread_mutex_lock(&e2b.lock);
	struct e2b_watch *w = e2b.watches;
	while (w && strcmp(w->id, id) != 0)
		w = w->next;
	if (w) {
		pthread_mutex_lock(&w->lock);
		w->refs++;
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_unlock(&e2b.lock);
	return w;
}

/* ---- the follower thread ------------------------------------------------- */

struct follow {
	struct e2b_watch *w;
	bool saw_end;
	int32_t exit_code;
	bool exited;
	char status[128];
	char end_error[256];
	char stream_error[300];
	bool not_found; /* envd does not know the command (Connect) */
};

static int on_event(void *ctx, const struct e2b_event *ev)
{
	struct follow *f = ctx;
	struct e2b_watch *w = f->w;
	switch (ev->kind) {
	case E2B_EVENT_START:
		pthread_mutex_lock(&w->lock);
		w->started = true;
		watch_signal(w);
		pthread_mutex_unlock(&w->lock);
		break;
	case E2B_EVENT_DATA: {
		if (ev->len == 0)
			break;
		uint8_t head[5] = {ev->is_stderr, (uint8_t)(ev->len >> 24), (uint8_t)(ev->len >> 16),
				   (uint8_t)(ev->len >> 8), (uint8_t)ev->len};
		pthread_mutex_lock(&w->lock);
		evo_buf_append(&w->output, head, sizeof head);
		evo_buf_append(&w->output, ev->data, ev->len);
		watch_signal(w);
		pthread_mutex_unlock(&w->lock);
		break;
	}
	case E2B_EVENT_END:
		f->saw_end = true;
		f->exit_code = ev->exit_code;
		f->exited = ev->exited;
		snprintf(f->status, sizeof f->status, "%s", ev->status);
		snprintf(f->end_error, sizeof f->end_error, "%s", ev->message);
		break;
	case E2B_EVENT_STREAM_END:
		if (ev->error_code[0]) {
			f->not_found = strcmp(ev->error_code, "not_found") == 0;
			snprintf(f->stream_error, sizeof f->stream_error, "%s: %s", ev->error_code,
				 ev->message);
		}
		break;
	case E2B_EVENT_KEEPALIVE:
		break;
	}
	return 0;
}

/* The signal of an envd end status such as "signal: killed". */
static int32_t status_signal(const char *status)
{
	static const struct {
		const char *word;
		int32_t signal;
	} names[] = {{"killed", 9}, {"terminated", 15}, {"interrupt", 2}, {"hangup", 1},
		     {"aborted", 6}, {"segmentation fault", 11}};
	const char *p = strstr(status, "signal: ");
	if (p == NULL)
		return 9;
	p += 8;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strncmp(p, names[i].word, strlen(names[i].word)) == 0)
			return names[i].signal;
	return 9;
}

/* How a sandbox that is gone ended, from what we know of it. */
static void gone_end(struct e2b_watch *w, struct provider_end *end)
{
	pthread_mutex_lock(&w->lock);
	bool killed = w->killed;
	int64_t deadline = w->deadline_ms;
	pthread_mutex_unlock(&w->lock);
	*end = (struct provider_end){.exit_code = -1};
	if (killed) {
		end->reason = PROVIDER_END_KILLED;
	} else if (deadline && wall_ms() >= deadline - DEADLINE_SLACK_MS) {
		end->reason = PROVIDER_END_TIMEOUT;
	} else {
		end->reason = PROVIDER_END_LOST;
		snprintf(end->message, sizeof end->message,
			 "its E2B sandbox %s vanished before its timeout", w->id);
	}
}

/* Is the sandbox still there? 1 yes, 0 gone, -1 cannot tell. */
static int remote_alive(struct e2b_watch *w)
{
	struct e2b_sandbox sb;
	struct evo_error err = {0};
	if (e2b_api_get(e2b.api, w->id, &sb, &err) == 0) {
		if (sb.end_ms) {
			pthread_mutex_lock(&w->lock);
			w->deadline_ms = sb.end_ms;
			pthread_mutex_unlock(&w->lock);
		}
		return 1;
	}
	return err.kind == EVO_ERR_NOT_FOUND ? 0 : -1;
}

/* Did envd (or the API) answer that the command cannot run, rather than
 * the connection failing? */
static bool refused(const struct follow *f, const struct evo_error *err)
{
	return f->stream_error[0] != '\0' || err->kind == EVO_ERR_INVALID ||
	       err->kind == EVO_ERR_NOT_FOUND || err->kind == EVO_ERR_AUTH;
}

static void fail_start(struct e2b_watch *w, const char *why)
{
	pthread_mutex_lock(&w->lock);
	w->start_failed = true;
	snprintf(w->start_error, sizeof w->start_error, "%s", why);
	watch_signal(w);
	pthread_mutex_unlock(&w->lock);
}

/* Follow the command: start it (or, after a break or a restart, connect
 * to it by its tag) and pass on what envd says until it ends; when a
 * stream breaks, find out whether the sandbox is gone or the network
 * hiccupped. A Start whose answer was lost is never sent again blindly:
 * a Connect first finds out whether the command runs. */
static void *follower_main(void *arg)
{
	struct e2b_watch *w = arg;
	int64_t backoff = RECONNECT_FIRST_MS;
	bool connect = false;
	pthread_mutex_lock(&w->lock);
	connect = w->started; /* adopted: it runs already */
	pthread_mutex_unlock(&w->lock);
	struct evo_buf start_request = w->request, connect_request = {0};
	e2b_connect_envelope(&connect_request, COMMAND_TAG);
	while (!atomic_load(&w->cancel)) {
		struct follow f = {.w = w};
		struct evo_error err = {0};
		atomic_store(&w->interrupt, false);
		if (w->need_info) {
			struct e2b_sandbox sb;
			if (e2b_api_get(e2b.api, w->id, &sb, &err) == 0) {
				pthread_mutex_lock(&e2b.lock);
				w->sandbox = sb;
				snprintf(w->owner, sizeof w->owner, "%s", sb.owner);
				pthread_mutex_unlock(&e2b.lock);
				w->need_info = false;
			} else if (err.kind == EVO_ERR_NOT_FOUND) {
				struct provider_end end;
				gone_end(w, &end);
				watch_end(w, &end);
				break;
			} else {
				struct timespec ts = {.tv_sec = RECONNECT_MAX_MS / 1000};
				nanosleep(&ts, NULL);
				continue;
			}
		}
		e2b_api_process_stream(e2b.api, &w->sandbox, connect ? "Connect" : "Start",
				       connect ? &connect_request : &start_request, on_event, &f,
				       &w->interrupt, &err);
		if (atomic_load(&w->cancel))
			break;
		pthread_mutex_lock(&w->lock);
		bool started = w->started, vanished = w->vanished;
		pthread_mutex_unlock(&w->lock);
		struct provider_end end = {.exit_code = -1};
		if (f.saw_end) {
			/* A signal may be the sandbox's own end (its timeout,
			 * a kill): then that is what happened to it. */
			if (!f.exited && (vanished || remote_alive(w) == 0)) {
				gone_end(w, &end);
			} else {
				end.reason = PROVIDER_END_EXITED;
				end.exit_code = f.exited ? f.exit_code : -1;
				end.signal = f.exited ? 0 : status_signal(f.status);
				snprintf(end.message, sizeof end.message, "%s", f.end_error);
				/* Its command is over: so is the sandbox (and its bill). */
				e2b_api_kill(e2b.api, w->id, NULL);
			}
			watch_end(w, &end);
			break;
		}
		if (!connect && !started && !vanished && refused(&f, &err)) {
			fail_start(w, f.stream_error[0] ? f.stream_error : err.msg);
			break;
		}
		if (connect && f.not_found) {
			if (!started) {
				/* The lost Start never ran it: start it now. */
				connect = false;
				continue;
			}
			/* Its command is gone and how it ended went unseen
			 * (while we were down). */
			end.reason = PROVIDER_END_LOST;
			snprintf(end.message, sizeof end.message,
				 "its command in E2B sandbox %s ended while nobody was following it",
				 w->id);
			e2b_api_kill(e2b.api, w->id, NULL);
			watch_end(w, &end);
			break;
		}
		/* The stream broke or was stopped. Gone, or a hiccup? */
		if (vanished || remote_alive(w) == 0) {
			gone_end(w, &end);
			watch_end(w, &end);
			break;
		}
		/* Alive (or cannot tell yet): follow it again, from now on. */
		struct timespec ts = {.tv_sec = backoff / 1000, .tv_nsec = (backoff % 1000) * 1000000};
		nanosleep(&ts, NULL);
		backoff = backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff * 2;
		connect = true;
	}
	evo_buf_free(&connect_request);
	watch_unref(w);
	return NULL;
}

static int follow_start(struct e2b_watch *w, struct evo_error *err)
{
	pthread_t thread;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&thread, &attr, follower_main, w);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		errno = r;
		return evo_error_errno(err, "start a thread to follow sandbox %s", w->id);
	}
	return 0;
}

/* ---- reconciliation ------------------------------------------------------ */

static bool reported_already(const char *id)
{
	for (size_t i = 0; i < e2b.reported_count; i++)
		if (strcmp(e2b.reported[i], id) == 0)
			return true;
	if (e2b.reported_count < sizeof e2b.reported / sizeof *e2b.reported)
		snprintf(e2b.reported[e2b.reported_count++], PROVIDER_SANDBOX_ID_MAX, "%s", id);
	return false;
}

static void reconcile_owner(const char *owner)
{
	int64_t began = mono_ms();
	struct e2b_sandbox *list;
	size_t n;
	struct evo_error err = {0};
	if (e2b_api_list(e2b.api, E2B_META_OWNER, owner, &list, &n, &err) < 0) {
		pthread_mutex_lock(&e2b.lock);
		e2b.reconcile_errors++;
		pthread_mutex_unlock(&e2b.lock);
		fprintf(stderr, "evoclaw: e2b: cannot list remote sandboxes: %s\n", err.msg);
		return;
	}
	pthread_mutex_lock(&e2b.lock);
	/* Followed, but not there: it vanished (unless it is newer than
	 * the list, or already ending). */
	for (struct e2b_watch *w = e2b.watches; w; w = w->next) {
		if (strcmp(w->owner, owner) != 0 || w->created_ms >= began)
			continue;
		bool listed = false;
		for (size_t i = 0; i < n && !listed; i++)
			listed = strcmp(list[i].id, w->id) == 0;
		pthread_mutex_lock(&w->lock);
		if (!listed && !w->ended && !w->vanished && !atomic_load(&w->cancel)) {
			w->vanished = true;
			e2b.vanished_total++;
			/* Its stream may hang on: stop it, the follower then
			 * records the end. */
			atomic_store(&w->interrupt, true);
		}
		pthread_mutex_unlock(&w->lock);
	}
	/* There, but nobody follows it: report, never adopt or kill. */
	uint64_t unknown = 0;
	for (size_t i = 0; i < n; i++) {
		bool followed = false;
		for (struct e2b_watch *w = e2b.watches; w && !followed; w = w->next)
			followed = strcmp(w->id, list[i].id) == 0;
		if (followed)
			continue;
		unknown++;
		if (!reported_already(list[i].id))
			fprintf(stderr,
				"evoclaw: e2b: sandbox %s is tagged as this orchestrator's (agent "
				"%s) but no agent of it runs there; left running (kill it with "
				"E2B's API if it is not wanted)\n",
				list[i].id, list[i].agent[0] ? list[i].agent : "unknown");
	}
	e2b.unknown_sandboxes = unknown;
	pthread_mutex_unlock(&e2b.lock);
	free(list);
}

static void *reconciler_main(void *arg)
{
	for (;;) {
		sleep(e2b.reconcile_sec);
		char owners[OWNERS_MAX][64];
		pthread_mutex_lock(&e2b.lock);
		size_t n = e2b.owner_count;
		memcpy(owners, e2b.owners, sizeof owners);
		pthread_mutex_unlock(&e2b.lock);
		for (size_t i = 0; i < n; i++)
			reconcile_owner(owners[i]);
	}
	return NULL;
}

/* ---- the provider -------------------------------------------------------- */

static const char *env_value(char *const *env, const char *key)
{
	size_t klen = strlen(key);
	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, key, klen) == 0 && (*e)[klen] == '=')
			return *e + klen + 1;
	return NULL;
}

/* Wait until envd says the command runs, or that it cannot. */
static int await_start(struct e2b_watch *w, struct evo_error *err)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += START_WAIT_MS / 1000;
	pthread_mutex_lock(&w->lock);
	int r = 0;
	while (!w->started && !w->start_failed && r == 0)
		r = pthread_cond_timedwait(&w->changed, &w->lock, &until);
	bool started = w->started;
	char message[300];
	snprintf(message, sizeof message, "%s",
		 r ? "envd did not start it within 60 s" : w->start_error);
	pthread_mutex_unlock(&w->lock);
	if (started)
		return 0;
	return evo_error_set(err, EVO_ERR_INVALID, 0, "E2B sandbox %s could not run the command: %s",
			     w->id, message);
}

/* The task file, where an agent looks for its task (as locally). */
static int write_task(const struct e2b_sandbox *sb, const char *task, struct evo_error *err);

static int e2b_start(const struct provider_spawn *spec, char id_out[PROVIDER_SANDBOX_ID_MAX],
		     struct provider_watch **out, struct evo_error *err)
{
	char spawn_key[33];
	random_hex(spawn_key, 16);
	remember_owner(spec->owner);
	struct e2b_create_request req = {
		.template_id = spec->template_name,
		.timeout_sec = spec->timeout_sec,
		.env = spec->env,
		.owner = spec->owner,
		.spawn_key = spawn_key,
		.agent = env_value(spec->env, "EVOCLAW_AGENT_ID"),
	};
	struct e2b_sandbox sb;
	int64_t asked = wall_ms();
	if (e2b_api_create(e2b.api, &req, &sb, err) < 0)
		return -1;
	if (spec->task && spec->task[0] && write_task(&sb, spec->task, err) < 0) {
		e2b_api_kill(e2b.api, sb.id, NULL);
		return -1;
	}
	struct e2b_watch *w = watch_new(&sb, spec->owner);
	w->deadline_ms = asked + (int64_t)spec->timeout_sec * 1000;
	char *default_argv[] = {e2b.agent_command, NULL};
	char *const *argv = spec->argv && spec->argv[0] ? spec->argv : default_argv;
	/* Its environment is the sandbox's (envVars of the create). */
	e2b_start_envelope(&w->request, argv, NULL, COMMAND_TAG);
	if (follow_start(w, err) < 0) {
		w->refs = 1;
		watch_unref(w);
		e2b_api_kill(e2b.api, sb.id, NULL);
		return -1;
	}
	if (await_start(w, err) < 0) {
		atomic_store(&w->cancel, true);
		atomic_store(&w->interrupt, true);
		e2b_api_kill(e2b.api, sb.id, NULL);
		watch_unref(w);
		return -1;
	}
	snprintf(id_out, PROVIDER_SANDBOX_ID_MAX, "%s", sb.id);
	*out = (struct provider_watch *)w;
	return 0;
}

static int e2b_adopt(const char *id, struct provider_watch **out, long long *deadline_ms,
		     struct evo_error *err)
{
	struct e2b_sandbox sb = {0};
	struct evo_error gerr = {0};
	bool known = e2b_api_get(e2b.quick_api, id, &sb, &gerr) == 0;
	if (!known && gerr.kind != EVO_ERR_NOT_FOUND && strlen(id) < sizeof sb.id) {
		/* E2B cannot be asked now: follow it anyway (the follower
		 * asks until it can), rather than take it for lost while it
		 * runs, and bills, there. */
		fprintf(stderr, "evoclaw: e2b: %s; following sandbox %s once E2B answers\n",
			gerr.msg, id);
		snprintf(sb.id, sizeof sb.id, "%s", id);
	} else if (!known) {
		if (err)
			*err = gerr;
		return -1;
	}
	remember_owner(sb.owner);
	struct e2b_watch *w = watch_new(&sb, sb.owner);
	w->need_info = !known;
	w->deadline_ms = sb.end_ms;
	w->started = true; /* it was started before: follow it by its tag */
	if (follow_start(w, err) < 0) {
		w->refs = 1;
		watch_unref(w);
		return -1;
	}
	*deadline_ms = sb.end_ms;
	*out = (struct provider_watch *)w;
	return 0;
}

static int e2b_watch_fd(const struct provider_watch *pw)
{
	return ((const struct e2b_watch *)pw)->event_fd;
}

static int e2b_watch_read(struct provider_watch *pw, const struct provider_sink *sink)
{
	struct e2b_watch *w = (struct e2b_watch *)pw;
	uint64_t count;
	(void)!read(w->event_fd, &count, sizeof count);
	pthread_mutex_lock(&w->lock);
	struct evo_buf output = w->output;
	w->output = (struct evo_buf){0};
	bool ended = w->ended && !w->delivered_end;
	struct provider_end end = w->end;
	if (ended)
		w->delivered_end = true;
	pthread_mutex_unlock(&w->lock);
	for (size_t off = 0; off + 5 <= output.len;) {
		const uint8_t *p = output.data + off;
		size_t len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
		sink->output(sink->ctx, p[0] != 0, p + 5, len);
		off += 5 + len;
	}
	evo_buf_free(&output);
	if (ended) {
		sink->ended(sink->ctx, &end);
		return 0;
	}
	return 1;
}

static void e2b_watch_close(struct provider_watch *pw)
{
	struct e2b_watch *w = (struct e2b_watch *)pw;
	if (w == NULL)
		return;
	atomic_store(&w->cancel, true);
	atomic_store(&w->interrupt, true);
	/* Its descriptor goes now (it may be in an epoll set whose owner
	 * is about to free what the events point at); the follower may go
	 * on a moment, writing to nothing. */
	pthread_mutex_lock(&w->lock);
	if (w->event_fd >= 0)
		close(w->event_fd);
	w->event_fd = -1;
	pthread_mutex_unlock(&w->lock);
	watch_unref(w);
}

static int e2b_kill(const char *id, struct evo_error *err)
{
	struct e2b_watch *w = watch_find(id);
	if (w) {
		pthread_mutex_lock(&w->lock);
		w->killed = true;
		pthread_mutex_unlock(&w->lock);
	}
	int r = e2b_api_kill(e2b.api, id, err);
	if (w) {
		/* Its stream may not notice at once: the follower ends it. */
		if (r == 0 || (err && err->kind == EVO_ERR_NOT_FOUND)) {
			pthread_mutex_lock(&w->lock);
			w->vanished = true;
			pthread_mutex_unlock(&w->lock);
			atomic_store(&w->interrupt, true);
		}
		watch_unref(w);
	}
	return r;
}

static void note_deadline(const char *id, int64_t deadline_ms)
{
	struct e2b_watch *w = watch_find(id);
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->deadline_ms = deadline_ms;
	pthread_mutex_unlock(&w->lock);
	watch_unref(w);
}

static int e2b_set_timeout(const char *id, uint32_t seconds, struct evo_error *err)
{
	int64_t asked = wall_ms();
	/* Briefly: the orchestrator's ticker waits on this, and tries
	 * again a moment later anyway. */
	if (e2b_api_set_timeout(e2b.quick_api, id, seconds, err) < 0)
		return -1;
	note_deadline(id, asked + (int64_t)seconds * 1000);
	return 0;
}

static int e2b_pause(const char *id, struct evo_error *err)
{
	return e2b_api_pause(e2b.api, id, err);
}

static int e2b_resume(const char *id, uint32_t timeout_sec, struct evo_error *err)
{
	struct e2b_sandbox sb;
	if (e2b_api_connect(e2b.api, id, timeout_sec, &sb, err) < 0)
		return -1;
	if (e2b_api_get(e2b.api, id, &sb, NULL) == 0 && sb.end_ms)
		note_deadline(id, sb.end_ms);
	return 0;
}

static int e2b_stats(const char *id, struct provider_stats *out, struct evo_error *err)
{
	struct e2b_metrics m;
	if (e2b_api_metrics(e2b.api, id, &m, err) < 0)
		return -1;
	*out = (struct provider_stats){
		.memory_bytes = m.mem_used,
		.memory_limit_bytes = m.mem_total,
		.cpu_millis = m.cpu_count * 1000,
	};
	return 0;
}

static char **e2b_list_owned(const char *owner)
{
	remember_owner(owner);
	struct e2b_sandbox *list;
	size_t n;
	struct evo_error err = {0};
	if (e2b_api_list(e2b.quick_api, E2B_META_OWNER, owner, &list, &n, &err) < 0) {
		fprintf(stderr, "evoclaw: e2b: cannot list remote sandboxes: %s\n", err.msg);
		return NULL;
	}
	char **ids = xcalloc(n + 1, sizeof *ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = xstrdup(list[i].id);
	free(list);
	return ids;
}

/* E2B keeps no note of how a sandbox ended for us to collect. */
static int e2b_collect_end(const char *id, struct provider_end *end, long long *ended_ms,
			   struct evo_error *err)
{
	return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "E2B keeps no end notes");
}

static void e2b_forget_ends(const char *owner)
{
}

static int e2b_channel_open(const char *id, struct evo_error *err)
{
	return evo_error_set(err, EVO_ERR_INVALID, 0,
			     "sandbox %s runs on E2B: its envd is E2B's, not ours", id);
}

static void e2b_agent_routes(const char *owner, struct provider_agent_routes *out)
{
	snprintf(out->orchestrator_url, sizeof out->orchestrator_url, "%s", e2b.orchestrator_url);
	snprintf(out->mqtt_broker, sizeof out->mqtt_broker, "%s", e2b.mqtt_broker);
	out->mqtt_port = e2b.mqtt_port;
}

static void e2b_metrics(struct evo_buf *out)
{
	char text[512];
	pthread_mutex_lock(&e2b.lock);
	int n = snprintf(text, sizeof text,
			 "# HELP evoclaw_e2b_unknown_sandboxes Remote sandboxes tagged ours that no "
			 "agent follows (last reconciliation).\n"
			 "# TYPE evoclaw_e2b_unknown_sandboxes gauge\n"
			 "evoclaw_e2b_unknown_sandboxes %" PRIu64 "\n"
			 "# TYPE evoclaw_e2b_vanished_total counter\n"
			 "evoclaw_e2b_vanished_total %" PRIu64 "\n"
			 "# TYPE evoclaw_e2b_reconcile_errors_total counter\n"
			 "evoclaw_e2b_reconcile_errors_total %" PRIu64 "\n",
			 e2b.unknown_sandboxes, e2b.vanished_total, e2b.reconcile_errors);
	pthread_mutex_unlock(&e2b.lock);
	if (n > 0)
		evo_buf_append(out, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

static const struct provider e2b_provider = {
	.name = "e2b",
	.kills_orphans = false,
	.start = e2b_start,
	.adopt = e2b_adopt,
	.watch_fd = e2b_watch_fd,
	.watch_read = e2b_watch_read,
	.watch_close = e2b_watch_close,
	.kill = e2b_kill,
	.set_timeout = e2b_set_timeout,
	.pause = e2b_pause,
	.resume = e2b_resume,
	.stats = e2b_stats,
	.list_owned = e2b_list_owned,
	.collect_end = e2b_collect_end,
	.forget_ends = e2b_forget_ends,
	.channel_open = e2b_channel_open,
	.agent_routes = e2b_agent_routes,
	.metrics = e2b_metrics,
};

int provider_e2b_open(const struct provider_e2b_config *cfg, bool *reachable,
		      const struct provider **out, struct evo_error *err)
{
	if (cfg->api.api_key == NULL || cfg->api.api_key[0] == '\0')
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "cloud.e2bApiKey: the e2b provider needs an API key (or "
				     "E2B_API_KEY)");
	if (e2b.api != NULL)
		return evo_error_set(err, EVO_ERR_CONFLICT, 0, "the e2b provider is open already");
	e2b.api = e2b_api_new(&cfg->api);
	e2b.agent_command = xstrdup(cfg->agent_command ? cfg->agent_command : "");
	e2b.orchestrator_url = xstrdup(cfg->orchestrator_url ? cfg->orchestrator_url : "");
	e2b.mqtt_broker = xstrdup(cfg->mqtt_broker ? cfg->mqtt_broker : "");
	e2b.mqtt_port = cfg->mqtt_port;
	e2b.reconcile_sec = cfg->reconcile_sec ? cfg->reconcile_sec : 60;
	struct e2b_api_config quick = cfg->api;
	quick.retry_ms = 1000;
	e2b.quick_api = e2b_api_new(&quick);
	/* One look, without retries, tells a refused key from a fine one. */
	quick.retry_ms = 1;
	struct e2b_api *probe = e2b_api_new(&quick);
	struct e2b_sandbox *list;
	size_t n;
	struct evo_error perr = {0};
	int r = e2b_api_list(probe, E2B_META_OWNER, "evoclaw-probe", &list, &n, &perr);
	e2b_api_free(probe);
	if (r == 0)
		free(list);
	*reachable = r == 0;
	if (r < 0 && perr.kind == EVO_ERR_AUTH) {
		if (err)
			*err = perr;
		return -1;
	}
	pthread_t thread;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, reconciler_main, NULL) != 0)
		fprintf(stderr, "evoclaw: e2b: cannot start the reconciler; remote sandboxes are "
				"not compared with our agents\n");
	pthread_attr_destroy(&attr);
	*out = &e2b_provider;
	return 0;
}

static int write_task(const struct e2b_sandbox *sb, const char *task, struct evo_error *err)
{
	return e2b_api_write_file(e2b.api, sb, "/home/user/task.txt", (const uint8_t *)task,
				  strlen(task), err);
}
