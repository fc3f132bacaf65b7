#include "api/envd_session.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/envd_rpc.h"
#include "common/base64.h"
#include "common/cleanup.h"
#include "common/cleanup.h"
#include "runtime/local/channel.h"

/* Stream ids 1..2^24-1 are ours (the supervisor takes the top 8 bits);
 * 1 is the entrypoint's by convention. */
#define STREAM_FIRST 2u
#define STREAM_LAST 0xffffffu
/* A client that reads a stream this far behind loses it. */
#define STREAM_BACKLOG_MAX (16u * 1024u * 1024u)
#define SEND_TIMEOUT_SEC 10
#define PASSWD_MAX (1024u * 1024u)

struct envd_hub {
	const struct provider *provider;
	pthread_mutex_t lock;
	pthread_t thread;
	bool thread_started;
	int epfd;
	int stopfd;
	bool stopping;
	struct envd_session *sessions;
	struct envd_stream *streams; /* every stream, for keepalives and deadlines */
};

struct envd_call {
	struct envd_session *s;
	uint32_t stream;
	int pending;
	int errnum;
	char *message;
	uint64_t size;
	struct evo_buf reply;
	struct evo_buf data;
	struct envd_waker waker;
	struct envd_call *next;
};

struct envd_proc {
	struct envd_session *s;
	uint32_t stream;
	uint32_t pid;
	bool started;
	json_t *config;
	char *tag;
	bool has_stdin;
	int64_t kill_after_ms, kill_at_ms;
	bool kill_sent;
	struct envd_stream *streams;
	struct envd_proc *next;
};

struct envd_watch {
	struct envd_session *s;
	uint32_t stream;
	bool ended; /* init ended it (OK or ERROR): no FILE_UNWATCH */
	struct envd_stream *st;
	struct envd_watch *next;
};

struct envd_session {
	struct envd_hub *hub;
	char id[PROVIDER_SANDBOX_ID_MAX];
	int fd;
	int refs; /* the hub's (while live), calls', senders' */
	bool dead;
	uint32_t next_stream;
	bool wrapped; /* stream ids came round: check for ones in use */
	struct envd_call *calls;
	struct envd_proc *procs;
	struct envd_watch *watches;
	char *default_user;
	char **env;
	/* /etc/passwd as last read; ready once the first read ended. */
	struct evo_buf passwd;
	bool ready;
	struct envd_call *users_call;
	struct envd_waker *user_waiters;
	size_t nuser_waiters;
	struct envd_session *next;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void envd_lock(struct envd_hub *h)
{
	pthread_mutex_lock(&h->lock);
}

void envd_unlock(struct envd_hub *h)
{
	pthread_mutex_unlock(&h->lock);
}

static void wake(struct envd_waker w)
{
	if (w.wake != NULL)
		w.wake(w.ctx);
}

/* ---- streams ------------------------------------------------------------------ */

void envd_stream_init(struct envd_hub *h, struct envd_stream *st, bool process_events,
		      int64_t keepalive_ms, int64_t timeout_ms, struct envd_waker w)
{
	memset(st, 0, sizeof *st);
	st->process_events = process_events;
	st->keepalive_ms = keepalive_ms;
	st->last_ms = now_ms();
	st->deadline_ms = timeout_ms > 0 ? st->last_ms + timeout_ms : 0;
	st->waker = w;
	st->next_all = h->streams;
	if (h->streams)
		h->streams->prev_all = st;
	h->streams = st;
}

static void watch_drop(struct envd_watch *w);

static void stream_unfollow(struct envd_stream *st)
{
	if (st->watch != NULL) {
		watch_drop(st->watch);
		st->watch = NULL;
	}
	struct envd_proc *p = st->proc;
	if (p == NULL)
		return;
	for (struct envd_stream **pp = &p->streams; *pp; pp = &(*pp)->next_of_proc) {
		if (*pp == st) {
			*pp = st->next_of_proc;
			break;
		}
	}
	st->proc = NULL;
	st->next_of_proc = NULL;
}

static void stream_append(struct envd_stream *st, uint8_t flags, json_t *message)
{
	char *text = json_dumps(message, JSON_COMPACT);
	json_decref(message);
	if (text == NULL)
		return;
	connect_envelope_append(&st->out, flags, text, strlen(text));
	free(text);
	st->last_ms = now_ms();
	wake(st->waker);
}

void envd_stream_end(struct envd_stream *st, int code, const char *message)
{
	if (st->ended)
		return;
	st->ended = true;
	stream_unfollow(st);
	json_t *end = code == CONNECT_OK
			      ? json_object()
			      : json_pack("{s:{s:s, s:s}}", "error", "code",
					  connect_code_name((enum connect_code)code), "message",
					  message ? message : "");
	stream_append(st, CONNECT_FLAG_END_STREAM, end);
}

void envd_stream_message(struct envd_stream *st, json_t *message)
{
	if (st->ended) {
		json_decref(message);
		return;
	}
	if (st->out.len > STREAM_BACKLOG_MAX) {
		json_decref(message);
		envd_stream_end(st, CONNECT_RESOURCE_EXHAUSTED,
				"the client read this stream too slowly; its output was dropped");
		return;
	}
	if (st->process_events)
		message = json_pack("{s:o}", "event", message);
	stream_append(st, 0, message);
}

void envd_stream_release(struct envd_hub *h, struct envd_stream *st)
{
	stream_unfollow(st);
	if (st->prev_all)
		st->prev_all->next_all = st->next_all;
	else if (h->streams == st)
		h->streams = st->next_all;
	if (st->next_all)
		st->next_all->prev_all = st->prev_all;
	st->prev_all = st->next_all = NULL;
	evo_buf_free(&st->out);
}

/* ---- sessions ----------------------------------------------------------------- */

static bool stream_in_use(struct envd_session *s, uint32_t id)
{
	for (struct envd_call *c = s->calls; c; c = c->next)
		if (c->stream == id)
			return true;
	for (struct envd_proc *p = s->procs; p; p = p->next)
		if (p->stream == id)
			return true;
	for (struct envd_watch *w = s->watches; w; w = w->next)
		if (w->stream == id)
			return true;
	return false;
}

static uint32_t next_stream(struct envd_session *s)
{
	for (;;) {
		uint32_t id = s->next_stream++;
		if (s->next_stream > STREAM_LAST) {
			s->next_stream = STREAM_FIRST;
			s->wrapped = true;
		}
		if (!s->wrapped || !stream_in_use(s, id))
			return id;
	}
}

static void session_free(struct envd_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->env)
		for (char **e = s->env; *e; e++)
			free(*e);
	free(s->env);
	free(s->default_user);
	evo_buf_free(&s->passwd);
	free(s->user_waiters);
	free(s);
}

void envd_session_hold(struct envd_session *s)
{
	s->refs++;
}

void envd_session_release(struct envd_session *s)
{
	if (--s->refs == 0)
		session_free(s);
}

static void fire_user_waiters(struct envd_session *s)
{
	size_t n = s->nuser_waiters;
	struct envd_waker *w = s->user_waiters;
	s->user_waiters = NULL;
	s->nuser_waiters = 0;
	for (size_t i = 0; i < n; i++)
		wake(w[i]);
	free(w);
}

/* ERRNO and MESSAGE of an ERROR frame; *message is malloc'd (or NULL). */
static void read_error(const struct evo_frame *f, int32_t *errnum, char **message)
{
	struct evo_field_iter it;
	struct evo_field fld;
	*errnum = EIO;
	*message = NULL;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, &fld, NULL) > 0) {
		if (fld.tag == EVO_F_ERRNO)
			evo_field_i32(&fld, errnum, NULL);
		else if (fld.tag == EVO_F_MESSAGE && *message == NULL)
			evo_field_string(&fld, message, NULL);
	}
}

static void call_finish_error(struct envd_call *c, int errnum, const char *message)
{
	if (c->errnum == 0) {
		c->errnum = errnum;
		free(c->message);
		c->message = xstrdup(message);
	}
}

/* The sandbox ended (or the server stops): fail and end everything of s. */
static void session_kill(struct envd_session *s, const char *why)
{
	if (s->dead)
		return;
	struct envd_hub *h = s->hub;
	s->dead = true;
	epoll_ctl(h->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	shutdown(s->fd, SHUT_RDWR);
	for (struct envd_session **pp = &h->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	while (s->procs) {
		struct envd_proc *p = s->procs;
		s->procs = p->next;
		while (p->streams)
			envd_stream_end(p->streams, CONNECT_UNAVAILABLE, why);
		json_decref(p->config);
		free(p->tag);
		free(p);
	}
	while (s->watches) {
		s->watches->ended = true;
		envd_stream_end(s->watches->st, CONNECT_UNAVAILABLE, why);
	}
	for (struct envd_call *c = s->calls; c; c = c->next) {
		call_finish_error(c, EPIPE, why);
		c->pending = 0;
	}
	s->ready = true;
	fire_user_waiters(s);
	for (struct envd_call *c = s->calls, *next; c; c = next) {
		next = c->next; /* a waker may free its call */
		wake(c->waker);
	}
	envd_session_release(s);
}

struct envd_session *envd_session_find(struct envd_hub *h, const char *id)
{
	for (struct envd_session *s = h->sessions; s; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

bool envd_session_dead(const struct envd_session *s)
{
	return s->dead;
}

const char *envd_session_default_user(const struct envd_session *s)
{
	return s->default_user;
}

char *const *envd_session_env(const struct envd_session *s)
{
	return s->env;
}

bool envd_session_user(const struct envd_session *s, const char *name, struct passwd_entry *out)
{
	if (passwd_find_name((const char *)s->passwd.data, s->passwd.len, name, out))
		return true;
	/* A rootfs without /etc/passwd still has root. */
	if (strcmp(name, "root") == 0) {
		*out = (struct passwd_entry){.name = "root", .uid = 0, .gid = 0, .home = "/root"};
		return true;
	}
	return false;
}

static void add_user_waiter(struct envd_session *s, struct envd_waker w)
{
	if (w.wake == NULL)
		return;
	s->user_waiters = xrealloc(s->user_waiters, (s->nuser_waiters + 1) * sizeof *s->user_waiters);
	s->user_waiters[s->nuser_waiters++] = w;
}

/* The read of /etc/passwd progressed. */
static void users_read(void *ctx)
{
	struct envd_session *s = ctx;
	struct envd_call *c = s->users_call;
	if (c == NULL || !envd_call_done(c))
		return;
	/* A sandbox without the file has only root; keep what we had on
	 * other errors. */
	if (c->errnum == 0 || c->errnum == ENOENT) {
		evo_buf_free(&s->passwd);
		s->passwd = c->data;
		c->data = (struct evo_buf){0};
	}
	s->users_call = NULL;
	s->ready = true;
	envd_call_free(c);
	fire_user_waiters(s);
}

static void start_users_read(struct envd_session *s)
{
	if (s->users_call != NULL || s->dead)
		return;
	struct envd_call *c = envd_call_new(s, (struct envd_waker){users_read, s});
	s->users_call = c;
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, c->stream, EVO_MSG_FILE_READ, 0);
	evo_frame_add_str(&b, EVO_F_PATH, "/etc/passwd");
	evo_frame_add_u64(&b, EVO_F_LENGTH, PASSWD_MAX);
	evo_frame_end(&b, m);
	envd_call_expect(c);
	/* One small frame on a fresh connection: it does not block. */
	struct evo_error err = {0};
	if (channel_flush(s->fd, &b, &err) < 0 || b.len > 0)
		envd_call_fail(c, EPIPE, "cannot read the sandbox's /etc/passwd");
	evo_buf_free(&b);
}

void envd_session_reload_users(struct envd_session *s, struct envd_waker w)
{
	add_user_waiter(s, w);
	if (s->dead) {
		fire_user_waiters(s);
		return;
	}
	start_users_read(s);
}

bool envd_session_ready(struct envd_session *s, struct envd_waker w)
{
	if (s->ready)
		return true;
	add_user_waiter(s, w);
	return false;
}

struct envd_session *envd_session_open(struct envd_hub *h, const char *id,
				       const struct envd_session_setup *setup,
				       struct evo_error *err)
{
	if (h->stopping) {
		evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "the server is stopping");
		return NULL;
	}
	int fd = h->provider->channel_open(setup->runtime_id, err);
	if (fd < 0)
		return NULL;
	struct timeval tv = {.tv_sec = SEND_TIMEOUT_SEC};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	struct envd_session *s = xcalloc(1, sizeof *s);
	s->hub = h;
	s->fd = fd;
	s->refs = 1;
	s->next_stream = STREAM_FIRST;
	snprintf(s->id, sizeof s->id, "%s", id);
	s->default_user = xstrdup(setup->default_user ? setup->default_user : "root");
	size_t n = 0;
	while (setup->env && setup->env[n])
		n++;
	s->env = xcalloc(n + 1, sizeof *s->env);
	for (size_t i = 0; i < n; i++)
		s->env[i] = xstrdup(setup->env[i]);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		evo_error_errno(err, "epoll_ctl");
		session_free(s);
		return NULL;
	}
	s->next = h->sessions;
	h->sessions = s;
	start_users_read(s);
	return s;
}

/* ---- calls -------------------------------------------------------------------- */

struct envd_call *envd_call_new(struct envd_session *s, struct envd_waker w)
{
	struct envd_call *c = xcalloc(1, sizeof *c);
	c->s = s;
	c->stream = next_stream(s);
	c->waker = w;
	c->next = s->calls;
	s->calls = c;
	envd_session_hold(s);
	return c;
}

uint32_t envd_call_stream(const struct envd_call *c)
{
	return c->stream;
}

void envd_call_expect(struct envd_call *c)
{
	if (!c->s->dead)
		c->pending++;
}

bool envd_call_done(const struct envd_call *c)
{
	return c->pending == 0;
}

int envd_call_errno(const struct envd_call *c, const char **message)
{
	if (message)
		*message = c->message ? c->message : "";
	return c->errnum;
}

const struct evo_buf *envd_call_reply(const struct envd_call *c)
{
	return &c->reply;
}

struct evo_buf *envd_call_data(struct envd_call *c)
{
	return &c->data;
}

uint64_t envd_call_size(const struct envd_call *c)
{
	return c->size;
}

void envd_call_fail(struct envd_call *c, int errnum, const char *message)
{
	call_finish_error(c, errnum, message);
	c->pending = 0;
	wake(c->waker);
}

void envd_call_free(struct envd_call *c)
{
	struct envd_session *s = c->s;
	for (struct envd_call **pp = &s->calls; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	evo_buf_free(&c->reply);
	evo_buf_free(&c->data);
	free(c->message);
	free(c);
	envd_session_release(s);
}

int envd_send(struct envd_session *s, struct evo_buf *frames, struct evo_error *err)
{
	if (channel_send_all(s->fd, frames, err) < 0) {
		evo_buf_free(frames);
		return -1;
	}
	return 0;
}

static void call_frame(struct envd_call *c, const struct evo_frame *f)
{
	struct evo_field_iter it;
	struct evo_field fld;
	switch (f->type) {
	case EVO_MSG_FILE_DATA:
		evo_field_iter_init(&it, f->payload, f->payload_len);
		while (evo_field_next(&it, &fld, NULL) > 0)
			if (fld.tag == EVO_F_DATA)
				evo_buf_append(&c->data, fld.value, fld.len);
		break;
	case EVO_MSG_ENTRIES:
		evo_buf_append(&c->reply, f->payload, f->payload_len);
		break;
	case EVO_MSG_OK:
		evo_buf_append(&c->reply, f->payload, f->payload_len);
		evo_field_iter_init(&it, f->payload, f->payload_len);
		while (evo_field_next(&it, &fld, NULL) > 0)
			if (fld.tag == EVO_F_SIZE)
				evo_field_u64(&fld, &c->size, NULL);
		if (c->pending > 0)
			c->pending--;
		break;
	case EVO_MSG_ERROR: {
		int32_t errnum;
		_cleanup_free_ char *message = NULL;
		read_error(f, &errnum, &message);
		call_finish_error(c, errnum, message ? message : strerror(errnum));
		if (c->pending > 0)
			c->pending--;
		break;
	}
	default:
		return;
	}
	wake(c->waker);
}

/* ---- processes ---------------------------------------------------------------- */

struct envd_proc *envd_proc_new(struct envd_session *s, json_t *config, const char *tag,
				bool has_stdin, int64_t kill_after_ms, struct envd_stream *st)
{
	struct envd_proc *p = xcalloc(1, sizeof *p);
	p->s = s;
	p->stream = next_stream(s);
	p->config = json_incref(config);
	p->tag = tag ? xstrdup(tag) : NULL;
	p->has_stdin = has_stdin;
	p->kill_after_ms = kill_after_ms;
	p->next = s->procs;
	s->procs = p;
	if (st != NULL) {
		st->proc = p;
		st->next_of_proc = p->streams;
		p->streams = st;
	}
	return p;
}

uint32_t envd_proc_stream(const struct envd_proc *p)
{
	return p->stream;
}

uint32_t envd_proc_pid(const struct envd_proc *p)
{
	return p->pid;
}

bool envd_proc_has_stdin(const struct envd_proc *p)
{
	return p->has_stdin;
}

static void proc_forget(struct envd_proc *p)
{
	struct envd_session *s = p->s;
	for (struct envd_proc **pp = &s->procs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	while (p->streams)
		stream_unfollow(p->streams);
	json_decref(p->config);
	free(p->tag);
	free(p);
}

void envd_proc_fail(struct envd_proc *p, int code, const char *message)
{
	for (struct envd_stream *st = p->streams, *next; st; st = next) {
		next = st->next_of_proc;
		envd_stream_end(st, code, message);
	}
	proc_forget(p);
}

struct envd_proc *envd_proc_find(struct envd_session *s, uint32_t pid, const char *tag)
{
	for (struct envd_proc *p = s->procs; p; p = p->next) {
		if (!p->started)
			continue;
		if (pid != 0 ? p->pid == pid : p->tag != NULL && tag != NULL && strcmp(p->tag, tag) == 0)
			return p;
	}
	return NULL;
}

static json_t *start_event(uint32_t pid)
{
	return json_pack("{s:{s:I}}", "start", "pid", (json_int_t)pid);
}

void envd_proc_follow(struct envd_proc *p, struct envd_stream *st)
{
	st->proc = p;
	st->next_of_proc = p->streams;
	p->streams = st;
	envd_stream_message(st, start_event(p->pid));
}

json_t *envd_proc_list(struct envd_session *s)
{
	json_t *list = json_array();
	for (struct envd_proc *p = s->procs; p; p = p->next) {
		if (!p->started)
			continue;
		json_t *info = json_pack("{s:O, s:I}", "config", p->config, "pid", (json_int_t)p->pid);
		if (p->tag)
			json_object_set_new(info, "tag", json_string(p->tag));
		json_array_append_new(list, info);
	}
	return list;
}

static void proc_broadcast(struct envd_proc *p, json_t *message)
{
	for (struct envd_stream *st = p->streams, *next; st; st = next) {
		next = st->next_of_proc; /* a stream too far behind leaves */
		envd_stream_message(st, json_incref(message));
	}
	json_decref(message);
}

static json_t *data_event(const char *which, const uint8_t *data, size_t len)
{
	char *text = xmalloc(base64_encoded_len(len) + 1);
	base64_encode(data, len, text);
	json_t *m = json_pack("{s:{s:s}}", "data", which, text);
	free(text);
	return m;
}

/* Go's os.ProcessState.String(), which real envd reports as status. */
static json_t *end_event(int32_t exit_code, int32_t sig)
{
	char status[64];
	if (sig != 0) {
		const char *name = sig == SIGKILL ? "killed" : sig == SIGTERM ? "terminated" : NULL;
		if (name)
			snprintf(status, sizeof status, "signal: %s", name);
		else
			snprintf(status, sizeof status, "signal: %s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "unknown");
	} else {
		snprintf(status, sizeof status, "exit status %d", exit_code);
	}
	json_t *end = json_pack("{s:i, s:b, s:s}", "exitCode", sig != 0 ? -1 : exit_code, "exited",
				sig == 0, "status", status);
	if (sig != 0 || exit_code != 0)
		json_object_set_new(end, "error", json_string(status));
	return json_pack("{s:o}", "end", end);
}

static void proc_frame(struct envd_proc *p, const struct evo_frame *f)
{
	struct evo_field_iter it;
	struct evo_field fld;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	switch (f->type) {
	case EVO_MSG_PROC_STARTED:
		while (evo_field_next(&it, &fld, NULL) > 0)
			if (fld.tag == EVO_F_PID)
				evo_field_u32(&fld, &p->pid, NULL);
		p->started = true;
		if (p->kill_after_ms > 0)
			p->kill_at_ms = now_ms() + p->kill_after_ms;
		proc_broadcast(p, start_event(p->pid));
		break;
	case EVO_MSG_PROC_STDOUT:
	case EVO_MSG_PROC_STDERR:
		while (evo_field_next(&it, &fld, NULL) > 0)
			if (fld.tag == EVO_F_DATA)
				proc_broadcast(p, data_event(f->type == EVO_MSG_PROC_STDOUT ? "stdout"
											    : "stderr",
							     fld.value, fld.len));
		break;
	case EVO_MSG_PROC_EXIT: {
		int32_t exit_code = 0, sig = 0;
		while (evo_field_next(&it, &fld, NULL) > 0) {
			if (fld.tag == EVO_F_EXIT_CODE)
				evo_field_i32(&fld, &exit_code, NULL);
			else if (fld.tag == EVO_F_SIGNAL)
				evo_field_i32(&fld, &sig, NULL);
		}
		proc_broadcast(p, end_event(exit_code, sig));
		envd_proc_fail(p, CONNECT_OK, NULL);
		break;
	}
	case EVO_MSG_ERROR:
		/* After the start, an ERROR answers a request on the stream
		 * (a signal, stdin); before it, the process did not start. */
		if (!p->started) {
			int32_t errnum;
			_cleanup_free_ char *message = NULL;
			read_error(f, &errnum, &message);
			envd_proc_fail(p, CONNECT_INVALID_ARGUMENT,
				       message ? message : strerror(errnum));
		}
		break;
	default:
		break;
	}
}

/* ---- directory watches ---------------------------------------------------------- */

uint32_t envd_watch_new(struct envd_session *s, struct envd_stream *st)
{
	struct envd_watch *w = xcalloc(1, sizeof *w);
	w->s = s;
	w->stream = next_stream(s);
	w->st = st;
	st->watch = w;
	w->next = s->watches;
	s->watches = w;
	return w->stream;
}

/* Forget w; unless init ended it, tell init to (never blocking: a watch
 * that cannot be told ends with the session). */
static void watch_drop(struct envd_watch *w)
{
	struct envd_session *s = w->s;
	for (struct envd_watch **pp = &s->watches; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	if (!w->ended && !s->dead) {
		struct evo_buf b = {0};
		size_t m = evo_frame_begin(&b, w->stream, EVO_MSG_FILE_UNWATCH, 0);
		evo_frame_end(&b, m);
		channel_flush(s->fd, &b, NULL);
		evo_buf_free(&b);
	}
	w->st->watch = NULL;
	free(w);
}

static const char *const event_type_names[] = {
	[EVO_FILE_EVENT_CREATE] = "EVENT_TYPE_CREATE", [EVO_FILE_EVENT_WRITE] = "EVENT_TYPE_WRITE",
	[EVO_FILE_EVENT_REMOVE] = "EVENT_TYPE_REMOVE", [EVO_FILE_EVENT_RENAME] = "EVENT_TYPE_RENAME",
	[EVO_FILE_EVENT_CHMOD] = "EVENT_TYPE_CHMOD",
};

static void watch_frame(struct envd_watch *w, const struct evo_frame *f)
{
	struct evo_field_iter it;
	struct evo_field fld;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	switch (f->type) {
	case EVO_MSG_FILE_WATCHING:
		envd_stream_message(w->st, json_pack("{s:{}}", "start"));
		break;
	case EVO_MSG_FILE_EVENT: {
		_cleanup_free_ char *name = NULL;
		uint8_t event = 0;
		json_t *entry = NULL;
		while (evo_field_next(&it, &fld, NULL) > 0) {
			if (fld.tag == EVO_F_NAME && name == NULL)
				evo_field_string(&fld, &name, NULL);
			else if (fld.tag == EVO_F_EVENT)
				evo_field_u8(&fld, &event, NULL);
			else if (fld.tag == EVO_F_ENTRY && entry == NULL)
				entry = envd_entry_json(fld.value, fld.len);
		}
		if (name == NULL || event == 0 || event > EVO_FILE_EVENT_CHMOD) {
			json_decref(entry);
			break;
		}
		json_t *fs = json_pack("{s:s, s:s}", "name", name, "type", event_type_names[event]);
		if (entry)
			json_object_set_new(fs, "entry", entry);
		envd_stream_message(w->st, json_pack("{s:o}", "filesystem", fs));
		break;
	}
	case EVO_MSG_OK:
	case EVO_MSG_ERROR: {
		int32_t errnum = 0;
		_cleanup_free_ char *message = NULL;
		if (f->type == EVO_MSG_ERROR)
			read_error(f, &errnum, &message);
		w->ended = true;
		if (f->type == EVO_MSG_OK)
			envd_stream_end(w->st, CONNECT_OK, NULL);
		else
			envd_stream_end(w->st, connect_code_from_errno(errnum),
					message ? message : strerror(errnum));
		break;
	}
	default:
		break;
	}
}

/* ---- the hub thread ------------------------------------------------------------ */

static void dispatch(struct envd_session *s, const struct evo_frame *f)
{
	for (struct envd_call *c = s->calls; c; c = c->next) {
		if (c->stream == f->stream) {
			call_frame(c, f);
			return;
		}
	}
	for (struct envd_proc *p = s->procs; p; p = p->next) {
		if (p->stream == f->stream) {
			proc_frame(p, f);
			return;
		}
	}
	for (struct envd_watch *w = s->watches; w; w = w->next) {
		if (w->stream == f->stream) {
			watch_frame(w, f);
			return;
		}
	}
}

/* Read what s has; false once it is gone. */
static bool session_read(struct envd_hub *h, struct envd_session *s, uint8_t *buf)
{
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(s->fd, buf, EVO_PROTO_MAX_FRAME, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		struct evo_frame f;
		if ((size_t)n > EVO_PROTO_MAX_FRAME ||
		    evo_frame_parse_record(buf, (size_t)n, &f, NULL) < 0)
			continue; /* from trusted code: cannot happen; skip it */
		envd_lock(h);
		dispatch(s, &f);
		envd_unlock(h);
	}
	return true;
}

/* Keepalives, stream deadlines, and processes past their time. */
static void tick(struct envd_hub *h)
{
	int64_t now = now_ms();
	for (struct envd_stream *st = h->streams; st; st = st->next_all) {
		if (st->ended)
			continue;
		if (st->deadline_ms > 0 && now >= st->deadline_ms)
			envd_stream_end(st, CONNECT_DEADLINE_EXCEEDED, "the stream's timeout elapsed");
		else if (st->keepalive_ms > 0 && now - st->last_ms >= st->keepalive_ms)
			envd_stream_message(st, json_pack("{s:{}}", "keepalive"));
	}
	for (struct envd_session *s = h->sessions; s; s = s->next) {
		for (struct envd_proc *p = s->procs; p; p = p->next) {
			if (!p->started || p->kill_sent || p->kill_at_ms == 0 || now < p->kill_at_ms)
				continue;
			struct evo_buf b = {0};
			size_t m = evo_frame_begin(&b, p->stream, EVO_MSG_PROC_SIGNAL, 0);
			evo_frame_add_i32(&b, EVO_F_SIGNAL, SIGKILL);
			evo_frame_end(&b, m);
			/* Never block here: retried on the next tick if full. */
			if (channel_flush(s->fd, &b, NULL) == 0 && b.len == 0)
				p->kill_sent = true;
			evo_buf_free(&b);
		}
	}
}

static void *hub_thread(void *arg)
{
	struct envd_hub *h = arg;
	uint8_t *buf = xmalloc(EVO_PROTO_MAX_FRAME);
	struct epoll_event events[32];
	for (;;) {
		int n = epoll_wait(h->epfd, events, 32, 1000);
		for (int i = 0; i < n; i++) {
			struct envd_session *s = events[i].data.ptr;
			if (s == NULL) {
				free(buf);
				return NULL; /* stopfd */
			}
			if (!session_read(h, s, buf)) {
				envd_lock(h);
				session_kill(s, "the sandbox is not running any more");
				envd_unlock(h);
			}
		}
		envd_lock(h);
		tick(h);
		envd_unlock(h);
	}
}

struct envd_hub *envd_hub_new(const struct provider *provider)
{
	struct envd_hub *h = xcalloc(1, sizeof *h);
	h->provider = provider;
	pthread_mutex_init(&h->lock, NULL);
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (h->epfd < 0 || h->stopfd < 0 || epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->stopfd, &ev) < 0) {
		perror("evoclaw: envd hub");
		abort();
	}
	if (pthread_create(&h->thread, NULL, hub_thread, h) != 0) {
		perror("evoclaw: envd hub thread");
		abort();
	}
	h->thread_started = true;
	return h;
}

void envd_hub_stop(struct envd_hub *h)
{
	if (h->thread_started) {
		uint64_t one = 1;
		if (write(h->stopfd, &one, sizeof one) < 0)
			perror("evoclaw: envd hub stop");
		pthread_join(h->thread, NULL);
		h->thread_started = false;
	}
	envd_lock(h);
	h->stopping = true;
	while (h->sessions)
		session_kill(h->sessions, "the server is stopping");
	for (struct envd_stream *st = h->streams; st; st = st->next_all)
		envd_stream_end(st, CONNECT_UNAVAILABLE, "the server is stopping");
	envd_unlock(h);
}

void envd_hub_free(struct envd_hub *h)
{
	if (h == NULL)
		return;
	envd_hub_stop(h);
	close(h->epfd);
	close(h->stopfd);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
