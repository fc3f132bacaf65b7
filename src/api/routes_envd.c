/* envd on evoclaw: E2B's in-sandbox daemon API (spec §4), for requests
 * that carry an E2b-Sandbox-Id header. Every request is checked against
 * the sandbox (it must run: 502 otherwise, as E2B answers for a sandbox
 * that is gone) and its envdAccessToken (X-Access-Token), then served by
 * the sandbox's evoclaw-init through the sandbox's envd session
 * (envd_session.h): process RPCs, filesystem RPCs, and /files.
 *
 * Handlers never wait on a sandbox with a thread: a request sends its
 * frames, parks (its connection suspended) and is woken by the session
 * when the replies are in; streams are written as the session fills them.
 *
 * Users: the Basic-auth user name (RPC) or ?username= (/files), else the
 * template's user; looked up in the sandbox's /etc/passwd. Relative paths
 * and a missing cwd resolve against that user's home. File requests run as
 * init (root in the sandbox) and give new files to the user. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "api/api.h"
#include "common/text.h"
#include "api/envd_rpc.h"
#include "api/envd_session.h"
#include "api/http.h"
#include "common/cleanup.h"
#include "common/cleanup.h"
#include "runtime/template.h"

/* FILE_WRITE data per frame: under the protocol's 128 KiB payload with
 * room for the path and the other fields. */
#define WRITE_CHUNK (120u * 1024u)
/* FILE_READ window: what one download holds in memory at most. */
#define READ_WINDOW (1024u * 1024u)
/* Upload data kept while the session gets ready. */
#define UPLOAD_EARLY_MAX (64u * 1024u * 1024u)
#define KEEPALIVE_DEFAULT_MS 90000

struct envd_upload;

enum envd_route { ROUTE_OTHER, ROUTE_HEALTH, ROUTE_FILES, ROUTE_RPC };

struct envd_state {
	struct api *api;
	struct MHD_Connection *c;
	char sandbox_id[PROVIDER_SANDBOX_ID_MAX];
	enum envd_route route;
	enum envd_method method;
	bool parked;          /* suspended; a waker resumes it (hub lock) */
	bool users_reloaded;  /* /etc/passwd was read again for an unknown user */
	struct envd_session *session; /* held while the request lives */
	struct envd_call *call;
	struct envd_request rpc;
	bool rpc_parsed;
	/* GET /files */
	char *file_path;
	uint64_t read_offset;
	struct envd_upload *upload;
};

/* ---- parking ------------------------------------------------------------------ */

static void state_wake(void *ctx)
{
	struct envd_state *st = ctx;
	if (st->parked) {
		st->parked = false;
		MHD_resume_connection(st->c);
	}
}

static struct envd_waker state_waker(struct envd_state *st)
{
	return (struct envd_waker){state_wake, st};
}

static enum MHD_Result resume_route(struct api *api, struct MHD_Connection *c,
				    struct api_request *req)
{
	return api_envd_route(api, c, req->method, NULL, req);
}

/* Under the hub lock: suspend until a waker of st fires. */
static enum MHD_Result park(struct envd_state *st, struct api_request *req)
{
	st->parked = true;
	req->resume = resume_route;
	MHD_suspend_connection(st->c);
	return MHD_YES;
}

/* ---- answers ------------------------------------------------------------------ */

static unsigned rest_status_for_errno(int errnum)
{
	switch (errnum) {
	case ENOENT:
		return 404;
	case ENOSPC:
	case EDQUOT:
		return 507;
	case EISDIR:
	case ENOTDIR:
	case EINVAL:
	case ENAMETOOLONG:
	case ELOOP:
		return 400;
	case EACCES:
	case EPERM:
	case EROFS:
		return 403;
	case EPIPE:
		return 502;
	default:
		return 500;
	}
}

/* A unary RPC error: {"code":"not_found","message"} with its status. */
static enum MHD_Result rpc_error(struct MHD_Connection *c, enum connect_code code, const char *fmt,
				 ...) __attribute__((format(printf, 3, 4)));
static enum MHD_Result rpc_error(struct MHD_Connection *c, enum connect_code code, const char *fmt,
				 ...)
{
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	return http_send_json(c, connect_code_http_status(code),
			      json_pack("{s:s, s:s}", "code", connect_code_name(code), "message",
					message));
}

static enum MHD_Result rpc_ok(struct MHD_Connection *c, json_t *message)
{
	return http_send_json(c, 200, message);
}

/* A stream that fails before its first message: 200 and a lone end-stream
 * error envelope, as connect-go answers (spec §4.3). */
static enum MHD_Result stream_error(struct MHD_Connection *c, enum connect_code code,
				    const char *message)
{
	json_t *end = json_pack("{s:{s:s, s:s}}", "error", "code", connect_code_name(code), "message",
				message);
	char *text = json_dumps(end, JSON_COMPACT);
	json_decref(end);
	struct evo_buf b = {0};
	connect_envelope_append(&b, CONNECT_FLAG_END_STREAM, text ? text : "{}",
				text ? strlen(text) : 2);
	free(text);
	struct MHD_Response *r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
	evo_buf_free(&b);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/connect+json");
	return http_queue(c, 200, r);
}

/* ---- streams over HTTP ---------------------------------------------------------- */

struct http_stream {
	struct envd_stream st;
	struct envd_hub *hub;
	struct MHD_Connection *c;
	bool suspended;
};

static void http_stream_wake(void *ctx)
{
	struct http_stream *hs = ctx;
	if (hs->suspended) {
		hs->suspended = false;
		MHD_resume_connection(hs->c);
	}
}

static ssize_t http_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct http_stream *hs = cls;
	envd_lock(hs->hub);
	ssize_t n;
	if (hs->st.out.len > 0) {
		n = (ssize_t)(hs->st.out.len < max ? hs->st.out.len : max);
		memcpy(buf, hs->st.out.data, (size_t)n);
		evo_buf_consume(&hs->st.out, (size_t)n);
	} else if (hs->st.ended) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		hs->suspended = true;
		MHD_suspend_connection(hs->c);
		n = 0;
	}
	envd_unlock(hs->hub);
	return n;
}

static void http_stream_free(void *cls)
{
	struct http_stream *hs = cls;
	envd_lock(hs->hub);
	envd_stream_release(hs->hub, &hs->st);
	envd_unlock(hs->hub);
	free(hs);
}

/* Under the lock: a new stream for this request. */
static struct http_stream *http_stream_new(struct envd_state *st, bool process_events,
					   int64_t timeout_ms)
{
	struct http_stream *hs = xcalloc(1, sizeof *hs);
	hs->hub = st->api->envd;
	hs->c = st->c;
	int64_t keepalive_ms = KEEPALIVE_DEFAULT_MS;
	const char *ping = MHD_lookup_connection_value(st->c, MHD_HEADER_KIND,
						       "Keepalive-Ping-Interval");
	if (ping != NULL && atoll(ping) > 0)
		keepalive_ms = atoll(ping) * 1000;
	envd_stream_init(hs->hub, &hs->st, process_events, keepalive_ms, timeout_ms,
			 (struct envd_waker){http_stream_wake, hs});
	return hs;
}

static enum MHD_Result queue_stream(struct MHD_Connection *c, struct http_stream *hs)
{
	struct MHD_Response *r = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 64 * 1024, http_stream_read, hs, http_stream_free);
	if (r == NULL) {
		http_stream_free(hs);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/connect+json");
	return http_queue(c, 200, r);
}

/* Connect-Timeout-Ms, or 0 (none). */
static int64_t connect_timeout_ms(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Connect-Timeout-Ms");
	long long ms = v ? atoll(v) : 0;
	return ms > 0 ? ms : 0;
}

/* ---- the sandbox, its session, the user --------------------------------------- */

enum step { STEP_GO, STEP_ANSWERED };

/* The sandbox must be a running E2B sandbox and the token its own. */
static enum step check_sandbox(struct envd_state *st, struct agent *a, enum MHD_Result *ret)
{
	struct evo_error err = {0};
	if (orch_get(st->api->orch, st->sandbox_id, a, &err) < 0) {
		*ret = api_e2b_error(st->c, 502, "sandbox \"%.64s\" is not running", st->sandbox_id);
		return STEP_ANSWERED;
	}
	/* Every envd request carries the sandbox's token (spec §9). */
	const char *token = MHD_lookup_connection_value(st->c, MHD_HEADER_KIND, "X-Access-Token");
	if (a->envd_token[0] && (token == NULL || !text_same_secret(token, a->envd_token))) {
		*ret = api_e2b_error(st->c, 401, "missing or wrong X-Access-Token for this sandbox");
		agent_clear(a);
		return STEP_ANSWERED;
	}
	if (a->status != AGENT_RUNNING || strcmp(a->mode, "e2b") != 0 || a->paused_at_ms) {
		*ret = api_e2b_error(st->c, 502, "sandbox \"%.64s\" is %s", st->sandbox_id,
				     a->paused_at_ms ? "paused; connect to resume it" : "not running");
		agent_clear(a);
		return STEP_ANSWERED;
	}
	return STEP_GO;
}

/* KEY=VALUE list every process of the sandbox gets: the template's
 * environment, the sandbox's envVars (spec §9), and E2B's own. */
static char **session_env(const struct agent *a, const struct template *t)
{
	size_t cap = 8, n = 0;
	char **env = xcalloc(cap, sizeof *env);
#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (n + 2 > cap)                                                                   \
			env = xrealloc(env, (cap *= 2) * sizeof *env);                             \
		if (asprintf(&env[n], __VA_ARGS__) < 0)                                            \
			abort();                                                                   \
		env[++n] = NULL;                                                                   \
	} while (0)
	for (char **e = t ? t->env : NULL; e && *e; e++)
		ADD("%s", *e);
	json_t *vars = a->environment_json ? json_loads(a->environment_json, 0, NULL) : NULL;
	const char *key;
	json_t *value;
	json_object_foreach(vars, key, value)
	{
		if (json_is_string(value))
			ADD("%s=%s", key, json_string_value(value));
	}
	json_decref(vars);
	ADD("E2B_SANDBOX=true");
	ADD("E2B_SANDBOX_ID=%s", a->id);
	ADD("E2B_TEMPLATE_ID=%s", a->template_name);
#undef ADD
	return env;
}

static void free_strv(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* The sandbox's session, ready (users loaded); held in st->session. */
static enum step get_session(struct envd_state *st, struct api_request *req, const struct agent *a,
			     enum MHD_Result *ret)
{
	struct envd_hub *h = st->api->envd;
	if (st->session == NULL) {
		envd_lock(h);
		struct envd_session *s = envd_session_find(h, st->sandbox_id);
		envd_unlock(h);
		struct evo_error err = {0};
		if (s == NULL) {
			/* Built outside the lock: it reads the template. */
			struct template t;
			bool have_template = template_load(a->template_name, &t, NULL) == 0;
			char **env = session_env(a, have_template ? &t : NULL);
			struct envd_session_setup setup = {
				.runtime_id = a->sandbox_id,
				.default_user = have_template && t.user ? t.user : "root", .env = env};
			envd_lock(h);
			s = envd_session_find(h, st->sandbox_id);
			if (s == NULL)
				s = envd_session_open(h, st->sandbox_id, &setup, &err);
			if (s != NULL)
				envd_session_hold(s);
			envd_unlock(h);
			free_strv(env);
			if (have_template)
				template_free(&t);
		} else {
			envd_lock(h);
			s = envd_session_find(h, st->sandbox_id);
			if (s != NULL)
				envd_session_hold(s);
			envd_unlock(h);
		}
		if (s == NULL) {
			*ret = api_e2b_error(st->c, 502, "sandbox \"%.64s\" is not running: %s",
					     st->sandbox_id, err.msg[0] ? err.msg : "gone");
			return STEP_ANSWERED;
		}
		st->session = s;
	}
	envd_lock(h);
	if (envd_session_dead(st->session)) {
		envd_unlock(h);
		*ret = api_e2b_error(st->c, 502, "sandbox \"%.64s\" is not running", st->sandbox_id);
		return STEP_ANSWERED;
	}
	if (!envd_session_ready(st->session, state_waker(st))) {
		*ret = park(st, req);
		envd_unlock(h);
		return STEP_ANSWERED;
	}
	envd_unlock(h);
	return STEP_GO;
}

/* The user a request runs as. Unknown: read /etc/passwd again once (it
 * may have been added since), then 401 / unauthenticated. */
static enum step get_user(struct envd_state *st, struct api_request *req, const char *name,
			  bool rpc, struct passwd_entry *out, enum MHD_Result *ret)
{
	struct envd_hub *h = st->api->envd;
	envd_lock(h);
	if (name == NULL)
		name = envd_session_default_user(st->session);
	if (envd_session_user(st->session, name, out)) {
		envd_unlock(h);
		return STEP_GO;
	}
	if (!st->users_reloaded) {
		st->users_reloaded = true;
		*ret = park(st, req);
		envd_session_reload_users(st->session, state_waker(st));
		envd_unlock(h);
		return STEP_ANSWERED;
	}
	envd_unlock(h);
	*ret = rpc ? rpc_error(st->c, CONNECT_UNAUTHENTICATED,
			       "user \"%.32s\" does not exist in the sandbox", name)
		   : api_e2b_error(st->c, 401, "user \"%.32s\" does not exist in the sandbox", name);
	return STEP_ANSWERED;
}

/* path made absolute: "~" and relative paths are under home. */
static bool resolve_path(const char *path, const char *home, char *out, size_t size)
{
	int n;
	if (path[0] == '/')
		n = snprintf(out, size, "%s", path);
	else if (strcmp(path, "~") == 0)
		n = snprintf(out, size, "%s", home);
	else if (strncmp(path, "~/", 2) == 0)
		n = snprintf(out, size, "%s/%s", home, path + 2);
	else
		n = snprintf(out, size, "%s/%s", home, path);
	return n > 0 && (size_t)n < size;
}

/* ---- calls ---------------------------------------------------------------------- */

/* Send frames (emptied) on st's call without the lock; a send that fails
 * fails the call, which wakes whoever waits for it. */
static int call_send(struct envd_state *st, struct evo_buf *frames, struct evo_error *err)
{
	struct evo_error local = {0};
	if (err == NULL)
		err = &local;
	int r = envd_send(st->session, frames, err);
	if (r < 0) {
		envd_lock(st->api->envd);
		envd_call_fail(st->call, EPIPE, err->msg);
		envd_unlock(st->api->envd);
	}
	evo_buf_free(frames);
	return r;
}

/* Send one request frame (built by `build` on the call's stream) and
 * park until its reply. */
static enum MHD_Result send_call(struct envd_state *st, struct api_request *req,
				 void (*build)(struct evo_buf *b, uint32_t stream, const void *arg),
				 const void *arg)
{
	struct envd_hub *h = st->api->envd;
	envd_lock(h);
	st->call = envd_call_new(st->session, state_waker(st));
	envd_call_expect(st->call);
	uint32_t stream = envd_call_stream(st->call);
	enum MHD_Result ret = park(st, req);
	if (envd_call_done(st->call))
		state_wake(st); /* the session ended: answer at once */
	envd_unlock(h);
	struct evo_buf b = {0};
	build(&b, stream, arg);
	call_send(st, &b, NULL);
	return ret;
}

/* ---- EntryInfo ------------------------------------------------------------------ */

static json_t *entries_json(const struct evo_buf *reply)
{
	json_t *list = json_array();
	struct evo_field_iter it;
	struct evo_field f;
	evo_field_iter_init(&it, reply->data, reply->len);
	while (evo_field_next(&it, &f, NULL) > 0)
		if (f.tag == EVO_F_ENTRY)
			json_array_append_new(list, envd_entry_json(f.value, f.len));
	return list;
}

/* ---- process.Process and filesystem.Filesystem ------------------------------------ */

/* One file request (FILE_STAT, FILE_MKDIR, FILE_RENAME, FILE_LIST,
 * FILE_REMOVE) and the fields it takes. */
struct file_request {
	uint8_t type, flags;
	const char *path;
	const char *new_path;             /* FILE_RENAME */
	uint32_t depth;                   /* FILE_LIST */
	const struct passwd_entry *owner; /* FILE_MKDIR: who owns what it makes */
};

static void build_file_request(struct evo_buf *b, uint32_t stream, const void *arg)
{
	const struct file_request *f = arg;
	size_t m = evo_frame_begin(b, stream, f->type, f->flags);
	evo_frame_add_str(b, EVO_F_PATH, f->path);
	if (f->new_path)
		evo_frame_add_str(b, EVO_F_NEW_PATH, f->new_path);
	if (f->depth)
		evo_frame_add_u32(b, EVO_F_DEPTH, f->depth);
	if (f->owner) {
		evo_frame_add_u32(b, EVO_F_UID, f->owner->uid);
		evo_frame_add_u32(b, EVO_F_GID, f->owner->gid);
	}
	evo_frame_end(b, m);
}

struct signal_args {
	uint32_t pid;
	int signal;
};

static void build_signal(struct evo_buf *b, uint32_t stream, const void *arg)
{
	const struct signal_args *a = arg;
	size_t m = evo_frame_begin(b, stream, EVO_MSG_PROC_SIGNAL, 0);
	evo_frame_add_i32(b, EVO_F_SIGNAL, a->signal);
	evo_frame_add_u32(b, EVO_F_PID, a->pid);
	evo_frame_end(b, m);
}

/* The answer to a unary RPC whose reply came. */
static enum MHD_Result rpc_answer(struct envd_state *st)
{
	const char *message;
	int errnum = envd_call_errno(st->call, &message);
	if (errnum == EPIPE)
		return rpc_error(st->c, CONNECT_UNAVAILABLE, "sandbox is not running: %s", message);
	if (errnum != 0) {
		enum connect_code code = connect_code_from_errno(errnum);
		/* Signalling a process that is gone. */
		if (st->method == ENVD_PROCESS_SEND_SIGNAL && errnum == ESRCH)
			code = CONNECT_NOT_FOUND;
		return rpc_error(st->c, code, "%s", message);
	}
	const struct evo_buf *reply = envd_call_reply(st->call);
	switch (st->method) {
	case ENVD_FS_STAT:
	case ENVD_FS_MAKE_DIR:
	case ENVD_FS_MOVE:
		return rpc_ok(st->c,
			      json_pack("{s:o}", "entry", envd_entry_json(reply->data, reply->len)));
	case ENVD_FS_LIST_DIR:
		return rpc_ok(st->c, json_pack("{s:o}", "entries", entries_json(reply)));
	default:
		return rpc_ok(st->c, json_object());
	}
}

/* The user named by Authorization: Basic, or NULL for the default. */
static enum step rpc_user_name(struct envd_state *st, char *name, size_t size,
			       enum MHD_Result *ret)
{
	const char *auth = MHD_lookup_connection_value(st->c, MHD_HEADER_KIND, "Authorization");
	if (auth == NULL) {
		name[0] = '\0';
		return STEP_GO;
	}
	struct evo_error err = {0};
	if (envd_basic_user(auth, name, size, &err) < 0) {
		*ret = rpc_error(st->c, CONNECT_UNAUTHENTICATED, "%s", err.msg);
		return STEP_ANSWERED;
	}
	return STEP_GO;
}

/* Env of a started process: the session's, then the request's over it. */
static void add_process_env(struct evo_buf *b, char *const *base, json_t *envs,
			    const struct passwd_entry *user)
{
	for (char *const *e = base; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (eq == NULL)
			continue;
		char key[256];
		snprintf(key, sizeof key, "%.*s", (int)(eq - *e), *e);
		if (json_object_get(envs, key) == NULL && strcmp(key, "USER") != 0 &&
		    strcmp(key, "HOME") != 0)
			evo_frame_add_str(b, EVO_F_ENV, *e);
	}
	const char *key;
	json_t *value;
	json_object_foreach(envs, key, value)
	{
		_cleanup_free_ char *kv = NULL;
		if (asprintf(&kv, "%s=%s", key, json_string_value(value)) < 0)
			abort();
		evo_frame_add_str(b, EVO_F_ENV, kv);
	}
	char kv[4200];
	if (json_object_get(envs, "USER") == NULL) {
		snprintf(kv, sizeof kv, "USER=%s", user->name);
		evo_frame_add_str(b, EVO_F_ENV, kv);
	}
	if (json_object_get(envs, "HOME") == NULL) {
		snprintf(kv, sizeof kv, "HOME=%s", user->home);
		evo_frame_add_str(b, EVO_F_ENV, kv);
	}
}

static enum MHD_Result process_start(struct envd_state *st, const struct passwd_entry *user)
{
	struct envd_request *r = &st->rpc;
	if (r->pty)
		return stream_error(st->c, CONNECT_UNIMPLEMENTED,
				    "PTY sessions are not supported by evoclaw's envd yet");
	char cwd[PATH_MAX];
	if (!resolve_path(r->cwd && *r->cwd ? r->cwd : user->home, user->home, cwd, sizeof cwd))
		return stream_error(st->c, CONNECT_INVALID_ARGUMENT, "process.cwd: too long");
	struct envd_hub *h = st->api->envd;
	int64_t timeout = connect_timeout_ms(st->c);
	json_t *config = json_object_get(r->body, "process");
	bool has_stdin = r->stdin_given ? r->stdin_open : true;

	envd_lock(h);
	struct http_stream *hs = http_stream_new(st, true, timeout);
	struct envd_proc *p = envd_proc_new(st->session, config, r->tag, has_stdin, timeout, &hs->st);
	uint32_t stream = envd_proc_stream(p);
	char *const *base_env = envd_session_env(st->session);
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, EVO_MSG_PROC_START, 0);
	evo_frame_add_str(&b, EVO_F_ARGV, r->cmd);
	for (size_t i = 0; i < r->nargs; i++)
		evo_frame_add_str(&b, EVO_F_ARGV, r->args[i]);
	add_process_env(&b, base_env, r->envs, user);
	evo_frame_add_str(&b, EVO_F_CWD, cwd);
	evo_frame_add_u32(&b, EVO_F_UID, user->uid);
	evo_frame_add_u32(&b, EVO_F_GID, user->gid);
	evo_frame_add_u8(&b, EVO_F_STDIN, has_stdin);
	if (r->tag)
		evo_frame_add_str(&b, EVO_F_TAG, r->tag);
	evo_frame_end(&b, m);
	envd_unlock(h);

	struct evo_error err = {0};
	if (b.len > EVO_PROTO_MAX_FRAME) {
		envd_lock(h);
		envd_proc_fail(p, CONNECT_INVALID_ARGUMENT,
			       "the command, arguments and environment exceed 128 KiB");
		envd_unlock(h);
	} else if (envd_send(st->session, &b, &err) < 0) {
		envd_lock(h);
		envd_proc_fail(p, CONNECT_UNAVAILABLE, err.msg);
		envd_unlock(h);
	}
	evo_buf_free(&b);
	return queue_stream(st->c, hs);
}

static enum MHD_Result process_connect(struct envd_state *st)
{
	struct envd_hub *h = st->api->envd;
	envd_lock(h);
	struct envd_proc *p = envd_proc_find(st->session, st->rpc.pid, st->rpc.selector_tag);
	if (p == NULL) {
		envd_unlock(h);
		char message[128];
		snprintf(message, sizeof message, "process %u is not running", st->rpc.pid);
		return stream_error(st->c, CONNECT_NOT_FOUND, message);
	}
	struct http_stream *hs = http_stream_new(st, true, connect_timeout_ms(st->c));
	envd_proc_follow(p, &hs->st);
	envd_unlock(h);
	return queue_stream(st->c, hs);
}

static enum MHD_Result watch_dir(struct envd_state *st, const char *path)
{
	struct envd_hub *h = st->api->envd;
	envd_lock(h);
	struct http_stream *hs = http_stream_new(st, false, connect_timeout_ms(st->c));
	uint32_t stream = envd_watch_new(st->session, &hs->st);
	envd_unlock(h);
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, EVO_MSG_FILE_WATCH,
				   (st->rpc.recursive ? EVO_FLAG_FILE_RECURSIVE : 0) |
					   (st->rpc.include_entry ? EVO_FLAG_WATCH_ENTRY : 0));
	evo_frame_add_str(&b, EVO_F_PATH, path);
	evo_frame_end(&b, m);
	struct evo_error err = {0};
	int r = envd_send(st->session, &b, &err);
	evo_buf_free(&b);
	if (r < 0) {
		envd_lock(h);
		envd_stream_end(&hs->st, CONNECT_UNAVAILABLE, err.msg);
		envd_unlock(h);
	}
	return queue_stream(st->c, hs);
}

/* SendInput and CloseStdin go on the process's own stream; init answers
 * them only on failure, so they are answered once sent. */
static enum MHD_Result process_input(struct envd_state *st)
{
	struct envd_hub *h = st->api->envd;
	struct envd_request *r = &st->rpc;
	if (r->input_pty)
		return rpc_error(st->c, CONNECT_UNIMPLEMENTED, "PTY input: PTYs are not supported");
	envd_lock(h);
	struct envd_proc *p = envd_proc_find(st->session, r->pid, r->selector_tag);
	if (p == NULL) {
		envd_unlock(h);
		return rpc_error(st->c, CONNECT_NOT_FOUND, "process %u is not running", r->pid);
	}
	if (!envd_proc_has_stdin(p)) {
		envd_unlock(h);
		return rpc_error(st->c, CONNECT_FAILED_PRECONDITION,
				 "process %u was started without stdin (start it with stdin: true)",
				 r->pid);
	}
	uint32_t stream = envd_proc_stream(p);
	envd_unlock(h);
	struct evo_buf b = {0};
	if (r->method == ENVD_PROCESS_CLOSE_STDIN) {
		size_t m = evo_frame_begin(&b, stream, EVO_MSG_PROC_CLOSE_STDIN, 0);
		evo_frame_end(&b, m);
	}
	for (size_t off = 0; off < r->input_len; off += EVO_PROTO_CHUNK) {
		size_t n = r->input_len - off < EVO_PROTO_CHUNK ? r->input_len - off : EVO_PROTO_CHUNK;
		size_t m = evo_frame_begin(&b, stream, EVO_MSG_PROC_STDIN, 0);
		evo_frame_add(&b, EVO_F_DATA, r->input + off, (uint32_t)n);
		evo_frame_end(&b, m);
	}
	struct evo_error err = {0};
	int sent = b.len ? envd_send(st->session, &b, &err) : 0;
	evo_buf_free(&b);
	if (sent < 0)
		return rpc_error(st->c, CONNECT_UNAVAILABLE, "%s", err.msg);
	return rpc_ok(st->c, json_object());
}

static enum MHD_Result rpc_route(struct envd_state *st, struct api_request *req,
				 enum envd_method method)
{
	enum MHD_Result ret;
	if (st->call != NULL)
		return rpc_answer(st);
	bool streaming = envd_method_is_streaming(method);
	if (!st->rpc_parsed) {
		const uint8_t *payload = req->body.data;
		size_t len = req->body.len;
		struct evo_error err = {0};
		int r = 0;
		if (streaming)
			r = connect_envelope_single(req->body.data, req->body.len, &payload, &len, &err);
		if (r == 0)
			r = envd_request_parse(method, (const char *)payload, len, &st->rpc, &err);
		st->rpc_parsed = true;
		if (r < 0)
			return streaming ? stream_error(st->c, CONNECT_INVALID_ARGUMENT, err.msg)
					 : rpc_error(st->c, CONNECT_INVALID_ARGUMENT, "%s", err.msg);
	}
	char name[64];
	if (rpc_user_name(st, name, sizeof name, &ret) == STEP_ANSWERED)
		return ret;
	struct passwd_entry user;
	if (get_user(st, req, name[0] ? name : NULL, true, &user, &ret) == STEP_ANSWERED)
		return ret;
	struct envd_request *r = &st->rpc;
	char path[PATH_MAX], new_path[PATH_MAX];
	struct file_request fr = {.path = path};
	if (r->path && !resolve_path(r->path, user.home, path, sizeof path))
		return rpc_error(st->c, CONNECT_INVALID_ARGUMENT, "path: too long");
	if (r->destination && !resolve_path(r->destination, user.home, new_path, sizeof new_path))
		return rpc_error(st->c, CONNECT_INVALID_ARGUMENT, "destination: too long");
	switch (method) {
	case ENVD_PROCESS_START:
		return process_start(st, &user);
	case ENVD_PROCESS_CONNECT:
		return process_connect(st);
	case ENVD_PROCESS_LIST: {
		envd_lock(st->api->envd);
		json_t *list = envd_proc_list(st->session);
		envd_unlock(st->api->envd);
		return rpc_ok(st->c, json_pack("{s:o}", "processes", list));
	}
	case ENVD_PROCESS_SEND_INPUT:
	case ENVD_PROCESS_CLOSE_STDIN:
		return process_input(st);
	case ENVD_PROCESS_SEND_SIGNAL: {
		envd_lock(st->api->envd);
		struct envd_proc *p = envd_proc_find(st->session, r->pid, r->selector_tag);
		struct signal_args sa = {.pid = p ? envd_proc_pid(p) : 0, .signal = r->signal};
		envd_unlock(st->api->envd);
		if (p == NULL)
			return rpc_error(st->c, CONNECT_NOT_FOUND, "process %u is not running", r->pid);
		return send_call(st, req, build_signal, &sa);
	}
	case ENVD_PROCESS_UPDATE:
		return rpc_error(st->c, CONNECT_UNIMPLEMENTED,
				 "Update resizes PTYs, which evoclaw's envd does not support yet");
	case ENVD_PROCESS_STREAM_INPUT:
		return stream_error(st->c, CONNECT_UNIMPLEMENTED,
				    "StreamInput is not supported; use SendInput");
	case ENVD_FS_STAT:
		fr.type = EVO_MSG_FILE_STAT;
		return send_call(st, req, build_file_request, &fr);
	case ENVD_FS_MAKE_DIR:
		fr.type = EVO_MSG_FILE_MKDIR;
		fr.flags = EVO_FLAG_FILE_MKPARENTS | EVO_FLAG_FILE_EXCL;
		fr.owner = &user;
		return send_call(st, req, build_file_request, &fr);
	case ENVD_FS_MOVE:
		fr.type = EVO_MSG_FILE_RENAME;
		fr.new_path = new_path;
		return send_call(st, req, build_file_request, &fr);
	case ENVD_FS_LIST_DIR:
		fr.type = EVO_MSG_FILE_LIST;
		fr.depth = r->depth;
		return send_call(st, req, build_file_request, &fr);
	case ENVD_FS_REMOVE:
		fr.type = EVO_MSG_FILE_REMOVE;
		fr.flags = EVO_FLAG_FILE_RECURSIVE;
		return send_call(st, req, build_file_request, &fr);
	case ENVD_FS_WATCH_DIR:
		return watch_dir(st, path);
	case ENVD_METHOD_UNKNOWN:
		break;
	}
	return rpc_error(st->c, CONNECT_UNIMPLEMENTED, "no such method");
}

/* ---- GET /files ------------------------------------------------------------------ */

static void build_read(struct evo_buf *b, uint32_t stream, const void *arg)
{
	const struct envd_state *st = arg;
	size_t m = evo_frame_begin(b, stream, EVO_MSG_FILE_READ, 0);
	evo_frame_add_str(b, EVO_F_PATH, st->file_path);
	evo_frame_add_u64(b, EVO_F_OFFSET, st->read_offset);
	evo_frame_add_u64(b, EVO_F_LENGTH, READ_WINDOW);
	evo_frame_end(b, m);
}

/* The next window of a download, the call already made. */
static void read_next_window(struct envd_state *st)
{
	struct envd_hub *h = st->api->envd;
	struct evo_buf b = {0};
	envd_lock(h);
	envd_call_expect(st->call);
	uint32_t stream = envd_call_stream(st->call);
	envd_unlock(h);
	build_read(&b, stream, st);
	call_send(st, &b, NULL);
}

static ssize_t download_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct envd_state *st = cls;
	struct envd_hub *h = st->api->envd;
	envd_lock(h);
	struct evo_buf *data = envd_call_data(st->call);
	if (data->len > 0) {
		size_t n = data->len < max ? data->len : max;
		memcpy(buf, data->data, n);
		evo_buf_consume(data, n);
		envd_unlock(h);
		return (ssize_t)n;
	}
	if (!envd_call_done(st->call)) {
		st->parked = true;
		MHD_suspend_connection(st->c);
		envd_unlock(h);
		return 0;
	}
	/* A failure midway can only cut the response short. */
	if (envd_call_errno(st->call, NULL) != 0) {
		envd_unlock(h);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	/* A window shorter than asked for ended the file. */
	uint64_t got = envd_call_size(st->call);
	st->read_offset += got;
	if (got < READ_WINDOW) {
		envd_unlock(h);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	st->parked = true;
	MHD_suspend_connection(st->c);
	envd_unlock(h);
	read_next_window(st);
	return 0;
}

static enum MHD_Result files_get_answer(struct envd_state *st, struct api_request *req)
{
	struct envd_hub *h = st->api->envd;
	envd_lock(h);
	/* The first window decides: an error status, or all of a small file
	 * with its length, or the start of a streamed one. */
	if (!envd_call_done(st->call)) {
		enum MHD_Result ret = park(st, req);
		envd_unlock(h);
		return ret;
	}
	const char *message;
	int errnum = envd_call_errno(st->call, &message);
	if (errnum != 0) {
		char text[1024];
		snprintf(text, sizeof text, "%s", message);
		envd_unlock(h);
		return api_e2b_error(st->c, rest_status_for_errno(errnum), "%s", text);
	}
	struct evo_buf *data = envd_call_data(st->call);
	uint64_t got = envd_call_size(st->call);
	struct MHD_Response *r;
	if (got < READ_WINDOW) {
		/* All of it is here: answer with its length. */
		r = MHD_create_response_from_buffer(data->len, data->data, MHD_RESPMEM_MUST_COPY);
		envd_unlock(h);
	} else {
		envd_unlock(h);
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, download_read, st,
						      NULL);
	}
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/octet-stream");
	return http_queue(st->c, 200, r);
}

static enum MHD_Result files_get(struct envd_state *st, struct api_request *req)
{
	enum MHD_Result ret;
	if (st->call != NULL)
		return files_get_answer(st, req);
	const char *path = MHD_lookup_connection_value(st->c, MHD_GET_ARGUMENT_KIND, "path");
	const char *username = MHD_lookup_connection_value(st->c, MHD_GET_ARGUMENT_KIND, "username");
	if (path == NULL || *path == '\0')
		return api_e2b_error(st->c, 400, "path: required");
	if (username != NULL && !envd_user_name_valid(username))
		return api_e2b_error(st->c, 401, "username: not a user name");
	struct passwd_entry user;
	if (get_user(st, req, username && *username ? username : NULL, false, &user, &ret) ==
	    STEP_ANSWERED)
		return ret;
	char resolved[PATH_MAX];
	if (!resolve_path(path, user.home, resolved, sizeof resolved))
		return api_e2b_error(st->c, 400, "path: too long");
	free(st->file_path);
	st->file_path = xstrdup(resolved);
	return send_call(st, req, build_read, st);
}

/* ---- POST /files ------------------------------------------------------------------ */

struct envd_upload {
	struct envd_state *st;
	struct MHD_PostProcessor *pp; /* multipart; NULL: the body is the file */
	bool gzip;
	z_stream z;
	bool z_open;
	struct evo_buf early;         /* body before the session was ready */
	bool writing;                 /* session and user known: data goes out */
	struct passwd_entry user;
	char *query_path;             /* ?path= */
	char **xattrs;                /* user.e2b.KEY=VALUE from X-Metadata-* headers */
	size_t nxattrs;
	/* the file being written */
	char *part_name;              /* its multipart filename */
	bool file_open;
	bool file_sent;               /* a first (truncating) frame went */
	char path[PATH_MAX];
	struct evo_buf chunk;
	json_t *written;              /* [{name, type, path}] */
	/* the first failure: answered at the end */
	unsigned fail_status;
	char fail_message[512];
};

static void upload_fail(struct envd_upload *u, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void upload_fail(struct envd_upload *u, unsigned status, const char *fmt, ...)
{
	if (u->fail_status != 0)
		return;
	u->fail_status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->fail_message, sizeof u->fail_message, fmt, ap);
	va_end(ap);
}

/* Send the chunk as one FILE_WRITE (the first truncates and makes the
 * parents), counting its reply on the upload's call. */
static void upload_send_chunk(struct envd_upload *u)
{
	struct envd_state *st = u->st;
	struct envd_hub *h = st->api->envd;
	if (u->fail_status != 0)
		return;
	envd_lock(h);
	if (st->call == NULL)
		st->call = envd_call_new(st->session, state_waker(st));
	envd_call_expect(st->call);
	uint32_t stream = envd_call_stream(st->call);
	envd_unlock(h);
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, EVO_MSG_FILE_WRITE,
				   u->file_sent ? EVO_FLAG_FILE_APPEND : EVO_FLAG_FILE_MKPARENTS);
	evo_frame_add_str(&b, EVO_F_PATH, u->path);
	evo_frame_add(&b, EVO_F_DATA, u->chunk.data, (uint32_t)u->chunk.len);
	evo_frame_add_u32(&b, EVO_F_UID, u->user.uid);
	evo_frame_add_u32(&b, EVO_F_GID, u->user.gid);
	for (size_t i = 0; !u->file_sent && i < u->nxattrs; i++)
		evo_frame_add_str(&b, EVO_F_XATTR, u->xattrs[i]);
	evo_frame_end(&b, m);
	u->file_sent = true;
	u->chunk.len = 0;
	struct evo_error err = {0};
	if (call_send(st, &b, &err) < 0)
		upload_fail(u, 502, "sandbox is not running: %s", err.msg);
}

static void upload_file_data(struct envd_upload *u, const char *data, size_t len)
{
	while (len > 0 && u->fail_status == 0) {
		size_t room = WRITE_CHUNK - u->chunk.len;
		size_t n = len < room ? len : room;
		evo_buf_append(&u->chunk, data, n);
		data += n;
		len -= n;
		if (u->chunk.len == WRITE_CHUNK)
			upload_send_chunk(u);
	}
}

static void upload_file_end(struct envd_upload *u)
{
	if (!u->file_open)
		return;
	if (u->chunk.len > 0 || !u->file_sent)
		upload_send_chunk(u); /* the rest, or an empty file */
	u->file_open = false;
	const char *slash = strrchr(u->path, '/');
	json_t *entry = json_pack("{s:s, s:s, s:s}", "name", slash ? slash + 1 : u->path, "type",
				  "file", "path", u->path);
	if (u->nxattrs > 0) {
		json_t *metadata = json_object();
		const size_t prefix = sizeof EVO_XATTR_METADATA_PREFIX - 1;
		for (size_t i = 0; i < u->nxattrs; i++) {
			const char *eq = strchr(u->xattrs[i], '=');
			char key[256];
			snprintf(key, sizeof key, "%.*s", (int)(eq - u->xattrs[i] - prefix),
				 u->xattrs[i] + prefix);
			json_object_set_new(metadata, key, json_string(eq + 1));
		}
		json_object_set_new(entry, "metadata", metadata);
	}
	json_array_append_new(u->written, entry);
}

static void upload_file_begin(struct envd_upload *u, const char *dest)
{
	upload_file_end(u);
	if (dest == NULL || *dest == '\0') {
		upload_fail(u, 400, "path: required (as ?path= or the part's filename)");
		return;
	}
	if (!resolve_path(dest, u->user.home, u->path, sizeof u->path)) {
		upload_fail(u, 400, "path: too long");
		return;
	}
	u->file_open = true;
	u->file_sent = false;
	u->chunk.len = 0;
}

static enum MHD_Result upload_part(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *filename, const char *content_type,
				   const char *transfer_encoding, const char *data, uint64_t off,
				   size_t size)
{
	(void)kind;
	(void)key;
	(void)content_type;
	(void)transfer_encoding;
	struct envd_upload *u = cls;
	if (filename == NULL)
		return MHD_YES; /* a plain form field: not a file */
	/* A part is delivered in pieces at growing offsets; offset 0 with
	 * data already taken, or another name, is the next part. */
	bool part_has_data = u->file_sent || u->chunk.len > 0;
	if (off == 0 && (!u->file_open || part_has_data || u->part_name == NULL ||
			 strcmp(filename, u->part_name) != 0)) {
		free(u->part_name);
		u->part_name = xstrdup(filename);
		upload_file_begin(u, *filename ? filename : u->query_path);
	}
	if (u->file_open && size > 0)
		upload_file_data(u, data, size);
	return MHD_YES;
}

/* Decoded body bytes, once writing. */
static void upload_body(struct envd_upload *u, const char *data, size_t len)
{
	if (u->fail_status != 0 || len == 0)
		return;
	if (u->pp != NULL) {
		if (MHD_post_process(u->pp, data, len) != MHD_YES)
			upload_fail(u, 400, "the multipart body is malformed");
	} else {
		upload_file_data(u, data, len);
	}
}

static void upload_start_writing(struct envd_upload *u)
{
	u->writing = true;
	if (u->pp == NULL)
		upload_file_begin(u, u->query_path);
	struct evo_buf early = u->early;
	u->early = (struct evo_buf){0};
	upload_body(u, (const char *)early.data, early.len);
	evo_buf_free(&early);
}

/* Raw body bytes (maybe gzip). */
static void upload_decoded(struct envd_upload *u, const char *data, size_t len)
{
	if (u->writing) {
		upload_body(u, data, len);
		return;
	}
	if (u->early.len + len > UPLOAD_EARLY_MAX) {
		upload_fail(u, 503, "the sandbox's envd is not ready yet; retry");
		return;
	}
	evo_buf_append(&u->early, data, len);
}

static void upload_consume(struct api *api, struct api_request *req, const char *data, size_t size)
{
	(void)api;
	struct envd_upload *u = req->envd->upload;
	if (u->fail_status != 0)
		return;
	if (!u->gzip) {
		upload_decoded(u, data, size);
		return;
	}
	u->z.next_in = (Bytef *)data;
	u->z.avail_in = (uInt)size;
	char out[64 * 1024];
	/* Until the input is used up and inflate has no more to give. */
	do {
		u->z.next_out = (Bytef *)out;
		u->z.avail_out = sizeof out;
		int zr = inflate(&u->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			upload_fail(u, 400, "Content-Encoding gzip: the body is not gzip (%s)",
				    u->z.msg ? u->z.msg : "corrupt");
			return;
		}
		upload_decoded(u, out, sizeof out - u->z.avail_out);
		if (zr == Z_STREAM_END)
			break;
	} while ((u->z.avail_in > 0 || u->z.avail_out == 0) && u->fail_status == 0);
}

static void upload_free(struct envd_upload *u)
{
	if (u == NULL)
		return;
	if (u->pp)
		MHD_destroy_post_processor(u->pp);
	if (u->z_open)
		inflateEnd(&u->z);
	evo_buf_free(&u->early);
	evo_buf_free(&u->chunk);
	json_decref(u->written);
	for (size_t i = 0; i < u->nxattrs; i++)
		free(u->xattrs[i]);
	free(u->xattrs);
	free(u->query_path);
	free(u->part_name);
	free(u);
}

/* X-Metadata-<Key>: <value> (envd 0.6.2) becomes the attribute
 * user.e2b.<key, lowercased> of each file written. */
static enum MHD_Result upload_metadata_header(void *cls, enum MHD_ValueKind kind, const char *key,
					      const char *value)
{
	(void)kind;
	struct envd_upload *u = cls;
	static const char prefix[] = "X-Metadata-";
	if (strncasecmp(key, prefix, sizeof prefix - 1) != 0 || value == NULL)
		return MHD_YES;
	const char *name = key + sizeof prefix - 1;
	size_t n = strlen(name);
	if (n == 0 || n > 200 || strlen(value) > 1024 || strchr(name, '=')) {
		upload_fail(u, 400, "%.64s: metadata keys are 1..200 bytes, values at most 1024", key);
		return MHD_YES;
	}
	char *kv = NULL;
	if (asprintf(&kv, EVO_XATTR_METADATA_PREFIX "%s=%s", name, value) < 0)
		abort();
	for (char *p = kv + sizeof EVO_XATTR_METADATA_PREFIX - 1; *p != '='; p++)
		*p = (char)tolower((unsigned char)*p);
	u->xattrs = xrealloc(u->xattrs, (u->nxattrs + 1) * sizeof *u->xattrs);
	u->xattrs[u->nxattrs++] = kv;
	return MHD_YES;
}

static void files_post_begin(struct envd_state *st, struct api_request *req)
{
	struct envd_upload *u = xcalloc(1, sizeof *u);
	u->st = st;
	u->written = json_array();
	st->upload = u;
	req->consume = upload_consume;
	MHD_get_connection_values(st->c, MHD_HEADER_KIND, upload_metadata_header, u);
	const char *path = MHD_lookup_connection_value(st->c, MHD_GET_ARGUMENT_KIND, "path");
	if (path != NULL && *path)
		u->query_path = xstrdup(path);
	const char *type = MHD_lookup_connection_value(st->c, MHD_HEADER_KIND, "Content-Type");
	if (type != NULL && strncasecmp(type, "multipart/form-data", 19) == 0) {
		u->pp = MHD_create_post_processor(st->c, 64 * 1024, upload_part, u);
		if (u->pp == NULL)
			upload_fail(u, 400, "Content-Type: multipart/form-data without a boundary");
	} else if (u->query_path == NULL) {
		upload_fail(u, 400, "path: required for a body that is not multipart");
	}
	const char *encoding = MHD_lookup_connection_value(st->c, MHD_HEADER_KIND,
							   "Content-Encoding");
	if (encoding != NULL && strcasecmp(encoding, "gzip") == 0) {
		u->gzip = true;
		if (inflateInit2(&u->z, 16 + MAX_WBITS) != Z_OK)
			upload_fail(u, 500, "cannot start gunzip");
		else
			u->z_open = true;
	} else if (encoding != NULL && strcasecmp(encoding, "identity") != 0) {
		upload_fail(u, 415, "Content-Encoding %.32s: only gzip is supported", encoding);
	}
}

static enum MHD_Result files_post(struct envd_state *st, struct api_request *req)
{
	enum MHD_Result ret;
	struct envd_upload *u = st->upload;
	if (!u->writing && u->fail_status == 0) {
		const char *username =
			MHD_lookup_connection_value(st->c, MHD_GET_ARGUMENT_KIND, "username");
		if (username != NULL && *username && !envd_user_name_valid(username))
			return api_e2b_error(st->c, 401, "username: not a user name");
		if (get_user(st, req, username && *username ? username : NULL, false, &u->user,
			     &ret) == STEP_ANSWERED)
			return ret;
		upload_start_writing(u);
	}
	if (u->pp != NULL) {
		MHD_destroy_post_processor(u->pp); /* delivers the last part */
		u->pp = NULL;
	}
	upload_file_end(u);
	struct envd_hub *h = st->api->envd;
	envd_lock(h);
	if (st->call != NULL && !envd_call_done(st->call)) {
		ret = park(st, req);
		envd_unlock(h);
		return ret;
	}
	const char *message = "";
	int errnum = st->call ? envd_call_errno(st->call, &message) : 0;
	char text[1024];
	snprintf(text, sizeof text, "%s", message);
	envd_unlock(h);
	if (u->fail_status != 0)
		return api_e2b_error(st->c, u->fail_status, "%s", u->fail_message);
	if (errnum != 0)
		return api_e2b_error(st->c, rest_status_for_errno(errnum), "%s", text);
	if (json_array_size(u->written) == 0)
		return api_e2b_error(st->c, 400, "the request holds no file");
	return http_send_json(st->c, 200, json_incref(u->written));
}

/* ---- routing ------------------------------------------------------------------- */

void api_envd_begin(struct api *api, struct MHD_Connection *c, const char *method,
		    const char *url, struct api_request *req)
{
	struct envd_state *st = xcalloc(1, sizeof *st);
	st->api = api;
	st->c = c;
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "E2b-Sandbox-Id");
	snprintf(st->sandbox_id, sizeof st->sandbox_id, "%s", id ? id : "");
	st->method = envd_method_from_path(url);
	st->route = strcmp(url, "/health") == 0	 ? ROUTE_HEALTH
		    : strcmp(url, "/files") == 0	 ? ROUTE_FILES
		    : st->method != ENVD_METHOD_UNKNOWN ? ROUTE_RPC
							 : ROUTE_OTHER;
	static const char *const route_names[] = {[ROUTE_OTHER] = "envd other",
						  [ROUTE_HEALTH] = "envd /health",
						  [ROUTE_FILES] = "envd /files",
						  [ROUTE_RPC] = "envd rpc"};
	req->route = route_names[st->route];
	req->envd = st;
	if (st->route == ROUTE_FILES && strcmp(method, "POST") == 0)
		files_post_begin(st, req);
}

/* url is NULL when a parked request is resumed: begin noted the route. */
enum MHD_Result api_envd_route(struct api *api, struct MHD_Connection *c, const char *method,
			       const char *url, struct api_request *req)
{
	(void)api;
	struct envd_state *st = req->envd;
	enum MHD_Result ret;
	req->resume = NULL;
	if (st->route == ROUTE_OTHER)
		return api_e2b_error(c, 404, "envd has no route %.16s %.200s", method,
				     url ? url : "");
	struct agent a;
	if (check_sandbox(st, &a, &ret) == STEP_ANSWERED)
		return ret;
	if (st->route == ROUTE_HEALTH) {
		agent_clear(&a);
		struct MHD_Response *r =
			MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		return r ? http_queue(c, 204, r) : MHD_NO;
	}
	enum step s = get_session(st, req, &a, &ret);
	agent_clear(&a);
	if (s == STEP_ANSWERED)
		return ret;
	if (st->route == ROUTE_FILES) {
		if (strcmp(method, "GET") == 0)
			return files_get(st, req);
		if (strcmp(method, "POST") == 0)
			return files_post(st, req);
		return api_e2b_error(c, 405, "%.16s /files: use GET or POST", method);
	}
	if (strcmp(method, "POST") != 0)
		return rpc_error(c, CONNECT_UNIMPLEMENTED, "%.16s: Connect RPCs are POSTed", method);
	return rpc_route(st, req, st->method);
}

void api_envd_done(struct api *api, struct api_request *req)
{
	struct envd_state *st = req->envd;
	struct envd_hub *h = api->envd;
	upload_free(st->upload);
	envd_lock(h);
	if (st->call)
		envd_call_free(st->call);
	if (st->session)
		envd_session_release(st->session);
	envd_unlock(h);
	envd_request_free(&st->rpc);
	free(st->file_path);
	free(st);
	req->envd = NULL;
}
