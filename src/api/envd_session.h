/* envd sessions: the server's side of E2B's in-sandbox daemon. Every E2B
 * sandbox that gets an envd request has one session: a connection to its
 * evoclaw-init through the provider (init protocol, docs/init-protocol.md),
 * shared by all of that sandbox's requests. Processes started through envd
 * belong to the session, not to the HTTP request that started them, so they
 * outlive their streams (spec §4.5: a background command keeps running when
 * its client disconnects) and can be reconnected to by pid.
 *
 * One hub thread reads every session's connection and hands each frame to
 * what waits for its stream: a call (a request and its replies) or a
 * process (whose events go to the streams following it). HTTP handlers
 * never block on a sandbox: they register what they wait for with a waker
 * (called under the hub lock; it resumes their suspended connection) and
 * are called again. Everything here is guarded by the one hub lock, which
 * callers take with envd_lock(); no function blocks while holding it.
 * Sending a request frame (envd_send) is the one blocking step and is done
 * without the lock. */
#ifndef EVOCLAW_API_ENVD_SESSION_H
#define EVOCLAW_API_ENVD_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/passwd.h"
#include "common/proto.h"
#include "runtime/provider.h"

struct envd_hub;
struct envd_session;
struct envd_call;
struct envd_proc;
struct envd_watch;

/* Called under the hub lock when what it waits for happened. One-shot
 * where noted. */
struct envd_waker {
	void (*wake)(void *ctx);
	void *ctx;
};

struct envd_hub *envd_hub_new(const struct provider *provider);
/* Before the HTTP server stops: end every stream and fail every call
 * (waking them all), and close every session, whose processes their
 * sandboxes then kill. */
void envd_hub_stop(struct envd_hub *h);
/* After the HTTP server stopped (no stream is left). */
void envd_hub_free(struct envd_hub *h);

void envd_lock(struct envd_hub *h);
void envd_unlock(struct envd_hub *h);

/* ---- sessions (under the lock) --------------------------------------------- */

/* What a new session applies to every process it starts. */
struct envd_session_setup {
	const char *runtime_id;    /* the provider's sandbox id */
	const char *default_user;  /* e.g. "user"; "root" when NULL */
	char **env;                /* KEY=VALUE, NULL-terminated; copied */
};

/* The live session of sandbox id (the id E2B clients use), or NULL. */
struct envd_session *envd_session_find(struct envd_hub *h, const char *id);
/* Open one: connects now (NOT_FOUND when the sandbox is gone); its users
 * load in the background (envd_session_ready). */
struct envd_session *envd_session_open(struct envd_hub *h, const char *id,
				       const struct envd_session_setup *setup,
				       struct evo_error *err);
/* Has it loaded its users? If not, w (unless its wake is NULL) is woken
 * once when it has, or when the session ends. A request waits on one
 * thing at a time, so it is never left registered when it goes. */
bool envd_session_ready(struct envd_session *s, struct envd_waker w);
/* Keep s (and its connection) while sending without the lock. */
void envd_session_hold(struct envd_session *s);
void envd_session_release(struct envd_session *s);
/* Has the sandbox ended (the connection closed)? */
bool envd_session_dead(const struct envd_session *s);
const char *envd_session_default_user(const struct envd_session *s);
char *const *envd_session_env(const struct envd_session *s);
/* The user `name` from the sandbox's /etc/passwd as last loaded. */
bool envd_session_user(const struct envd_session *s, const char *name, struct passwd_entry *out);
/* Read /etc/passwd again (a user added since); w is woken once when done. */
void envd_session_reload_users(struct envd_session *s, struct envd_waker w);

/* ---- calls: one request stream and its replies ------------------------------ */

/* A new call on a fresh stream of s, holding a reference to s. Its replies
 * are collected; w is woken after each frame that reaches it. */
struct envd_call *envd_call_new(struct envd_session *s, struct envd_waker w);
uint32_t envd_call_stream(const struct envd_call *c);
/* Count one more request sent on the call (before envd_send), so the
 * call is done only once each has its OK or ERROR. */
void envd_call_expect(struct envd_call *c);
/* Every expected reply came (or the session ended). */
bool envd_call_done(const struct envd_call *c);
/* The first ERROR: its errno and message; 0 if none. A session that ended
 * gives EPIPE. */
int envd_call_errno(const struct envd_call *c, const char **message);
/* Fields of the final OK, after those of any ENTRIES frames before it. */
const struct evo_buf *envd_call_reply(const struct envd_call *c);
/* SIZE of the last OK (bytes read or written by that request). */
uint64_t envd_call_size(const struct envd_call *c);
/* FILE_DATA received and not yet taken; take with evo_buf_consume. */
struct evo_buf *envd_call_data(struct envd_call *c);
/* Forget the call (replies still on their way are dropped). */
void envd_call_free(struct envd_call *c);

/* Send frames (built with stream ids of calls or processes of s) without
 * the lock; bounded by a send timeout. On failure every call of s that
 * expected a reply to them should be failed by the caller with
 * envd_call_fail. */
int envd_send(struct envd_session *s, struct evo_buf *frames, struct evo_error *err);
/* Fail a call: errno and message, as if init had answered ERROR (wakes it). */
void envd_call_fail(struct envd_call *c, int errnum, const char *message);

/* ---- processes and the streams that follow them ------------------------------ */

/* An HTTP stream of Connect envelopes being written to a client. The hub
 * appends envelopes to `out` and wakes the reader; the reader takes what
 * is there and, finding it empty, waits unless `ended`. */
struct envd_stream {
	struct evo_buf out;
	bool ended;             /* the end-stream envelope is in out */
	bool process_events;    /* events wrapped as {"event":{...}} (Start, Connect) */
	int64_t keepalive_ms;   /* silence after which a keepalive goes out */
	int64_t deadline_ms;    /* ends with deadline_exceeded then; 0 none */
	int64_t last_ms;        /* when the last envelope went into out */
	struct envd_waker waker;
	/* The hub's links; only it touches them. */
	struct envd_proc *proc;
	struct envd_watch *watch;
	struct envd_stream *next_of_proc;
	struct envd_stream *prev_all, *next_all;
};

/* Initialise a stream and let the hub keep it alive (keepalives,
 * deadline). */
void envd_stream_init(struct envd_hub *h, struct envd_stream *st, bool process_events,
		      int64_t keepalive_ms, int64_t timeout_ms, struct envd_waker w);
/* Append one JSON message (takes the reference) / the end of the stream
 * (code CONNECT_OK: success). */
void envd_stream_message(struct envd_stream *st, json_t *message);
void envd_stream_end(struct envd_stream *st, int code, const char *message);
/* The HTTP side lets go: detach it from its process and the hub, which
 * forget it. */
void envd_stream_release(struct envd_hub *h, struct envd_stream *st);

/* A process being started on s: a fresh stream id for its PROC_START.
 * config is the ProcessConfig to list it with (reference taken); tag may
 * be NULL. kill_after_ms > 0 kills it that long after start. st (may be
 * NULL) follows it from the start. */
struct envd_proc *envd_proc_new(struct envd_session *s, json_t *config, const char *tag,
				bool has_stdin, int64_t kill_after_ms, struct envd_stream *st);
uint32_t envd_proc_stream(const struct envd_proc *p);
/* Its PROC_START could not be sent: end its streams with the error and
 * forget it. */
void envd_proc_fail(struct envd_proc *p, int code, const char *message);
/* The process of s with this pid (or tag when pid is 0) that has started
 * and not ended; NULL if none. */
struct envd_proc *envd_proc_find(struct envd_session *s, uint32_t pid, const char *tag);
uint32_t envd_proc_pid(const struct envd_proc *p);
bool envd_proc_has_stdin(const struct envd_proc *p);
/* Follow it from now: the stream gets start{pid}, then its events. */
void envd_proc_follow(struct envd_proc *p, struct envd_stream *st);
/* Running processes of s as a JSON array of ProcessInfo (new reference). */
json_t *envd_proc_list(struct envd_session *s);

/* ---- directory watches ---------------------------------------------------------- */

/* A watch of s followed by st (WatchDir): returns the stream id for its
 * FILE_WATCH. st gets {"start":{}} once the watch is set, then
 * {"filesystem":{name,type}} per change; it ends when the watch fails, and
 * the watch ends (FILE_UNWATCH) when st does or is released. */
uint32_t envd_watch_new(struct envd_session *s, struct envd_stream *st);

#endif
