/* The local provider: agents' sandboxes on this machine, each owned by a
 * supervisor (supervisor.h) so it outlives the orchestrator.
 *
 * Starting one takes a warm sandbox of the template when the pool has one
 * (a socket round trip, well under a millisecond) and claims it detached;
 * otherwise it runs `evoclaw sandbox create`, because building a sandbox
 * forks and changes credentials, which a multi-threaded server must not
 * do itself. Either way the sandbox then idles, and one connection to its
 * supervisor writes the task file, attaches (so no output and no exit can
 * be missed) and starts the command as the entrypoint. That connection is
 * the watch: output, the entrypoint's exit and SUP_ENDED arrive on it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/proto.h"
#include "runtime/local/doors.h"
#include "runtime/local/channel.h"
#include "runtime/local/sandbox.h"
#include "runtime/local/supervisor.h"
#include "runtime/local/warmpool.h"
#include "runtime/paths.h"
#include "runtime/provider.h"
#include "runtime/template.h"

extern char **environ;

/* Stream ids on a watch connection. */
enum {
	STREAM_CLAIM = 1,
	STREAM_TASK = 2,
	STREAM_ATTACH = 3,
	STREAM_ENTRY = 4,
	STREAM_CONTROL = 5,
};

/* How long the supervisor has to answer a request of ours. */
#define REPLY_TIMEOUT_MS 10000

struct provider_watch {
	int fd;
	uint8_t *buf;
	struct evo_buf early; /* attach-stream records read while starting */
	size_t early_off;
	bool exited;
	struct provider_end exit;
};

static struct provider_watch *watch_new(int fd)
{
	struct provider_watch *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->buf = xmalloc(EVO_PROTO_MAX_FRAME);
	return w;
}

static void local_watch_close(struct provider_watch *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	evo_buf_free(&w->early);
	free(w->buf);
	free(w);
}

/* A connection to a sandbox's supervisor; NOT_FOUND when there is none. */
static int connect_supervisor(const char *id, struct evo_error *err)
{
	if (!sandbox_id_valid(id))
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "sandbox %.64s: invalid id", id);
	char sock[4096];
	supervisor_socket_path(id, sock, sizeof sock);
	int fd = channel_connect(sock, err);
	if (fd < 0 && err)
		err->kind = EVO_ERR_NOT_FOUND;
	return fd;
}

/* Wait for the reply to `stream`, keeping attach-stream records for
 * later. 0 on OK (or PROC_STARTED), -1 with err otherwise. */
static int await_reply(struct provider_watch *w, uint32_t stream, const char *what,
		       struct evo_error *err)
{
	for (;;) {
		struct evo_frame f;
		int r = channel_recv(w->fd, w->buf, &f, REPLY_TIMEOUT_MS, err);
		if (r == 0)
			return evo_error_set(err, EVO_ERR_SYSTEM, 0, "%s: the sandbox ended", what);
		if (r < 0)
			return evo_error_prefix(err, "%s", what);
		if (f.stream == STREAM_ATTACH) {
			evo_buf_append(&w->early, w->buf, EVO_PROTO_HEADER_LEN + f.payload_len);
			continue;
		}
		if (f.stream != stream)
			continue;
		if (f.type == EVO_MSG_OK || f.type == EVO_MSG_PROC_STARTED)
			return 0;
		channel_error_from_frame(&f, err);
		return evo_error_prefix(err, "%s", what);
	}
}

/* Take a warm sandbox of the template and make it ours. */
static int claim_warm(const struct provider_spawn *spec, char id[SANDBOX_ID_MAX])
{
	char key[WARMPOOL_KEY_MAX];
	struct template_resources none = {0};
	warmpool_key(spec->template_name, &none, key);
	if (warmpool_take(key, id) < 0)
		return -1;
	int fd = connect_supervisor(id, NULL);
	if (fd < 0)
		return -1; /* its supervisor died since; build one instead */
	struct evo_buf req = {0};
	size_t m = evo_frame_begin(&req, STREAM_CLAIM, EVO_MSG_SUP_CLAIM, EVO_FLAG_CLAIM_DETACH);
	evo_frame_add_u64(&req, EVO_F_TIMEOUT_MS, (uint64_t)spec->timeout_sec * 1000);
	evo_frame_add_str(&req, EVO_F_OWNER, spec->owner ? spec->owner : "");
	evo_frame_end(&req, m);
	int r = channel_send_all(fd, &req, NULL);
	evo_buf_free(&req);
	uint8_t *buf = xmalloc(EVO_PROTO_MAX_FRAME);
	struct evo_frame f;
	if (r == 0)
		r = channel_recv(fd, buf, &f, REPLY_TIMEOUT_MS, NULL) > 0 && f.type == EVO_MSG_OK ? 0
												    : -1;
	free(buf);
	if (r < 0) {
		close(fd);
		supervisor_kill(id, NULL); /* not ours to reuse, and nobody else's now */
		return -1;
	}
	return fd;
}

/* Read a pipe to its end (at most size-1 bytes kept). */
static void read_all(int fd, char *out, size_t size)
{
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, out + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == size - 1) {
			char sink[512];
			while (read(fd, sink, sizeof sink) > 0)
				;
			break;
		}
	}
	out[len] = '\0';
}

/* Run the evoclaw CLI with argv and collect what it prints. Returns its
 * exit status, or -1 if it could not be run. */
static int run_cli(char *const *argv, char *out, size_t out_size, char *errtext, size_t err_size)
{
	int outp[2], errp[2];
	if (pipe2(outp, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(outp[0]);
		close(outp[1]);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	pid_t pid;
	int r = posix_spawn(&pid, evo_paths_get()->cli, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(outp[1]);
	close(errp[1]);
	if (r != 0) {
		close(outp[0]);
		close(errp[0]);
		snprintf(errtext, err_size, "cannot run %s: %s", evo_paths_get()->cli, strerror(r));
		return -1;
	}
	read_all(outp[0], out, out_size);
	read_all(errp[0], errtext, err_size);
	close(outp[0]);
	close(errp[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Detached pool refills, one per template at a time. */
static pthread_mutex_t refill_lock = PTHREAD_MUTEX_INITIALIZER;
static char refilling[16][TEMPLATE_NAME_MAX + 1];

static void *refill_thread(void *arg)
{
	char *name = arg;
	char *argv[] = {"evoclaw", "sandbox", "pool", "warm", name, NULL};
	char out[256], errtext[512];
	run_cli(argv, out, sizeof out, errtext, sizeof errtext);
	pthread_mutex_lock(&refill_lock);
	for (size_t i = 0; i < 16; i++)
		if (strcmp(refilling[i], name) == 0)
			refilling[i][0] = '\0';
	pthread_mutex_unlock(&refill_lock);
	free(name);
	return NULL;
}

/* A cold start means the template's pool is empty: fill it in the
 * background so the next start is warm. */
static void refill_in_background(const char *template_name)
{
	if (!warmpool_enabled())
		return;
	pthread_mutex_lock(&refill_lock);
	size_t free_slot = 16;
	for (size_t i = 0; i < 16; i++) {
		if (strcmp(refilling[i], template_name) == 0) {
			pthread_mutex_unlock(&refill_lock);
			return;
		}
		if (refilling[i][0] == '\0' && free_slot == 16)
			free_slot = i;
	}
	if (free_slot == 16) {
		pthread_mutex_unlock(&refill_lock);
		return;
	}
	snprintf(refilling[free_slot], sizeof refilling[free_slot], "%s", template_name);
	pthread_mutex_unlock(&refill_lock);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	char *arg = xstrdup(template_name);
	if (pthread_create(&t, &attr, refill_thread, arg) != 0) {
		free(arg);
		pthread_mutex_lock(&refill_lock);
		refilling[free_slot][0] = '\0';
		pthread_mutex_unlock(&refill_lock);
	}
	pthread_attr_destroy(&attr);
}

/* Build a sandbox with `evoclaw sandbox create` and connect to it. */
static int create_cold(const struct provider_spawn *spec, char id[SANDBOX_ID_MAX],
		       struct evo_error *err)
{
	char timeout[32];
	snprintf(timeout, sizeof timeout, "%u", spec->timeout_sec);
	char *argv[] = {"evoclaw", "sandbox", "create", "--template", (char *)spec->template_name,
			"--timeout", timeout, "--owner", (char *)(spec->owner ? spec->owner : ""),
			/* set_up starts the command (or the entrypoint) once attached */
			"--idle", NULL};
	char out[256], errtext[EVO_ERROR_MSG_MAX];
	int status = run_cli(argv, out, sizeof out, errtext, sizeof errtext);
	if (status != 0) {
		errtext[strcspn(errtext, "\n")] = '\0';
		const char *msg = strncmp(errtext, "evoclaw: ", 9) == 0 ? errtext + 9 : errtext;
		return evo_error_set(err, status == 2 ? EVO_ERR_INVALID : EVO_ERR_SYSTEM, 0,
				     "create sandbox: %s", *msg ? msg : "failed");
	}
	out[strcspn(out, "\n")] = '\0';
	if (!sandbox_id_valid(out))
		return evo_error_set(err, EVO_ERR_SYSTEM, 0,
				     "create sandbox: unexpected output \"%.64s\"", out);
	snprintf(id, SANDBOX_ID_MAX, "%s", out);
	refill_in_background(spec->template_name);
	int fd = connect_supervisor(id, err);
	if (fd < 0) {
		supervisor_kill(id, NULL);
		return evo_error_prefix(err, "sandbox %s", id);
	}
	return fd;
}

/* On a fresh idle sandbox: write the task, attach, start the command. */
static int set_up(struct provider_watch *w, const struct provider_spawn *spec,
		  const struct template *t, const char *id, struct evo_error *err)
{
	char *const *argv = spec->argv ? spec->argv : spec->idle ? NULL : t->entrypoint;
	struct evo_buf req = {0};
	if (spec->task) {
		char path[4096];
		snprintf(path, sizeof path, "%s/task.txt", t->home);
		size_t m = evo_frame_begin(&req, STREAM_TASK, EVO_MSG_FILE_WRITE, EVO_FLAG_FILE_MKPARENTS);
		evo_frame_add_str(&req, EVO_F_PATH, path);
		evo_frame_add(&req, EVO_F_DATA, spec->task, (uint32_t)strlen(spec->task));
		evo_frame_add_u32(&req, EVO_F_MODE, 0644);
		evo_frame_add_u32(&req, EVO_F_UID, t->uid);
		evo_frame_add_u32(&req, EVO_F_GID, t->gid);
		evo_frame_end(&req, m);
	}
	size_t m = evo_frame_begin(&req, STREAM_ATTACH, EVO_MSG_SUP_ATTACH, 0);
	evo_frame_end(&req, m);
	if (argv != NULL) {
		size_t at = req.len;
		if (sandbox_entry_request(&req, STREAM_ENTRY, t, argv, spec->env, id, false, err) < 0) {
			evo_buf_free(&req);
			return -1;
		}
		req.data[at + 8] = EVO_MSG_SUP_START_ENTRY;
	}
	int r = channel_send_all(w->fd, &req, err);
	evo_buf_free(&req);
	if (r == 0 && spec->task)
		r = await_reply(w, STREAM_TASK, "write the task file", err);
	if (r == 0 && argv != NULL) {
		r = await_reply(w, STREAM_ENTRY, "start the command", err);
		if (r < 0 && err)
			err->kind = EVO_ERR_INVALID; /* the command cannot run: the caller's to fix */
	}
	return r;
}

static int local_start(const struct provider_spawn *spec, char id_out[PROVIDER_SANDBOX_ID_MAX],
		       struct provider_watch **out, struct evo_error *err)
{
	struct template t;
	if (template_load(spec->template_name, &t, err) < 0) {
		if (err && err->kind == EVO_ERR_NOT_FOUND)
			err->kind = EVO_ERR_INVALID;
		return -1;
	}
	char id[SANDBOX_ID_MAX];
	int fd = claim_warm(spec, id);
	if (fd < 0)
		fd = create_cold(spec, id, err);
	if (fd < 0) {
		template_free(&t);
		return -1;
	}
	struct provider_watch *w = watch_new(fd);
	int r = set_up(w, spec, &t, id, err);
	template_free(&t);
	if (r < 0) {
		local_watch_close(w);
		supervisor_kill(id, NULL);
		return -1;
	}
	fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) | O_NONBLOCK);
	snprintf(id_out, PROVIDER_SANDBOX_ID_MAX, "%s", id);
	*out = w;
	return 0;
}

static int local_adopt(const char *id, struct provider_watch **out, long long *deadline_ms,
		       struct evo_error *err)
{
	struct sandbox_state st;
	if (!sandbox_id_valid(id))
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "sandbox %.64s: invalid id", id);
	if (supervisor_info(id, &st, err) < 0)
		return -1;
	int fd = connect_supervisor(id, err);
	if (fd < 0)
		return -1;
	struct evo_buf req = {0};
	size_t m = evo_frame_begin(&req, STREAM_ATTACH, EVO_MSG_SUP_ATTACH, 0);
	evo_frame_end(&req, m);
	int r = channel_send_all(fd, &req, err);
	evo_buf_free(&req);
	if (r < 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	*deadline_ms = st.deadline_ms;
	*out = watch_new(fd);
	return 0;
}

static int local_watch_fd(const struct provider_watch *w)
{
	return w->fd;
}

static void read_exit_fields(const struct evo_frame *f, struct provider_end *end)
{
	struct evo_field_iter it;
	struct evo_field field;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, &field, NULL) == 1) {
		if (field.tag == EVO_F_EXIT_CODE)
			evo_field_i32(&field, &end->exit_code, NULL);
		else if (field.tag == EVO_F_SIGNAL)
			evo_field_i32(&field, &end->signal, NULL);
		else if (field.tag == EVO_F_OOM)
			end->oom = true;
	}
}

static enum provider_end_reason reason_named(const char *name, size_t len)
{
	if (len == 6 && memcmp(name, "exited", 6) == 0)
		return PROVIDER_END_EXITED;
	if (len == 7 && memcmp(name, "timeout", 7) == 0)
		return PROVIDER_END_TIMEOUT;
	if (len == 6 && memcmp(name, "killed", 6) == 0)
		return PROVIDER_END_KILLED;
	return PROVIDER_END_LOST;
}

static enum provider_end_reason reason_of(const struct evo_frame *f)
{
	struct evo_field_iter it;
	struct evo_field field;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, &field, NULL) == 1)
		if (field.tag == EVO_F_REASON)
			return reason_named((const char *)field.value, field.len);
	return PROVIDER_END_LOST;
}

/* One record from the attach stream. Returns 0 once the sandbox ended. */
static int deliver(struct provider_watch *w, const struct evo_frame *f,
		   const struct provider_sink *sink)
{
	if (f->stream != STREAM_ATTACH)
		return 1;
	switch (f->type) {
	case EVO_MSG_PROC_STDOUT:
	case EVO_MSG_PROC_STDERR: {
		struct evo_field_iter it;
		struct evo_field field;
		evo_field_iter_init(&it, f->payload, f->payload_len);
		while (evo_field_next(&it, &field, NULL) == 1)
			if (field.tag == EVO_F_DATA)
				sink->output(sink->ctx, f->type == EVO_MSG_PROC_STDERR, field.value,
					     field.len);
		return 1;
	}
	case EVO_MSG_PROC_EXIT:
		w->exited = true;
		w->exit.reason = PROVIDER_END_EXITED;
		read_exit_fields(f, &w->exit);
		return 1;
	case EVO_MSG_SUP_ENDED: {
		struct provider_end end = {.reason = reason_of(f), .exit_code = -1};
		read_exit_fields(f, &end);
		sink->ended(sink->ctx, &end);
		return 0;
	}
	default:
		return 1;
	}
}

static int local_watch_read(struct provider_watch *w, const struct provider_sink *sink)
{
	/* What arrived while the sandbox was being set up comes first. */
	while (w->early_off < w->early.len) {
		struct evo_frame f;
		ssize_t used = evo_frame_parse(w->early.data + w->early_off,
					       w->early.len - w->early_off, &f, NULL);
		if (used <= 0)
			break;
		w->early_off += (size_t)used;
		if (deliver(w, &f, sink) == 0)
			return 0;
	}
	for (int budget = 64; budget > 0; budget--) {
		ssize_t n = recv(w->fd, w->buf, EVO_PROTO_MAX_FRAME, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n <= 0) {
			/* The supervisor went without a word: killed itself, or
			 * by someone. Whatever the entrypoint said last stands. */
			struct provider_end end = w->exited ? w->exit
							    : (struct provider_end){
								      .reason = PROVIDER_END_LOST,
								      .exit_code = -1};
			sink->ended(sink->ctx, &end);
			return 0;
		}
		struct evo_frame f;
		if ((size_t)n > EVO_PROTO_MAX_FRAME ||
		    evo_frame_parse_record(w->buf, (size_t)n, &f, NULL) < 0)
			continue;
		if (deliver(w, &f, sink) == 0)
			return 0;
	}
	return 1;
}

static int local_kill(const char *id, struct evo_error *err)
{
	if (!sandbox_id_valid(id))
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "sandbox %.64s: invalid id", id);
	return supervisor_kill(id, err);
}

/* An ERROR from a supervisor as an evo_error. Beyond what the init
 * protocol's errnos mean (channel_error_from_frame), the supervisor says
 * EALREADY (already paused, not paused) and EAGAIN (paused) for a
 * sandbox in the wrong state. */
static int error_from_reply(const struct evo_frame *f, struct evo_error *err)
{
	int32_t errnum = 0;
	struct evo_field_iter it;
	struct evo_field field;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, &field, NULL) == 1)
		if (field.tag == EVO_F_ERRNO)
			evo_field_i32(&field, &errnum, NULL);
	channel_error_from_frame(f, err);
	if (err && (errnum == EALREADY || errnum == EAGAIN))
		err->kind = EVO_ERR_CONFLICT;
	if (err)
		err->errnum = errnum;
	return -1;
}

/* One request to a sandbox's supervisor on a connection of its own.
 * fields may be NULL; reply_ok (may be NULL) gets the OK frame. */
static int supervisor_call(const char *id, uint8_t type, const struct evo_buf *fields,
			   void (*reply_ok)(const struct evo_frame *f, void *ctx), void *ctx,
			   struct evo_error *err)
{
	int fd = connect_supervisor(id, err);
	if (fd < 0)
		return -1;
	struct evo_buf req = {0};
	size_t m = evo_frame_begin(&req, STREAM_CONTROL, type, 0);
	if (fields)
		evo_buf_append(&req, fields->data, fields->len);
	evo_frame_end(&req, m);
	int r = channel_send_all(fd, &req, err);
	evo_buf_free(&req);
	uint8_t *buf = xmalloc(EVO_PROTO_MAX_FRAME);
	while (r == 0) {
		struct evo_frame f;
		int got = channel_recv(fd, buf, &f, REPLY_TIMEOUT_MS, err);
		if (got <= 0) {
			r = got < 0 ? -1 : evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "sandbox %s ended", id);
			break;
		}
		if (f.stream != STREAM_CONTROL)
			continue;
		if (f.type != EVO_MSG_OK)
			r = error_from_reply(&f, err);
		else if (reply_ok)
			reply_ok(&f, ctx);
		break;
	}
	free(buf);
	close(fd);
	return r;
}

static int local_set_timeout(const char *id, uint32_t seconds, struct evo_error *err)
{
	struct evo_buf fields = {0};
	evo_frame_add_u64(&fields, EVO_F_TIMEOUT_MS, (uint64_t)seconds * 1000);
	int r = supervisor_call(id, EVO_MSG_SUP_SET_TIMEOUT, &fields, NULL, NULL, err);
	evo_buf_free(&fields);
	return r;
}

static int local_pause(const char *id, struct evo_error *err)
{
	if (supervisor_call(id, EVO_MSG_SUP_PAUSE, NULL, NULL, NULL, err) < 0)
		return evo_error_prefix(err, "pause sandbox %s", id);
	return 0;
}

static int local_resume(const char *id, uint32_t timeout_sec, struct evo_error *err)
{
	struct evo_buf fields = {0};
	if (timeout_sec > 0)
		evo_frame_add_u64(&fields, EVO_F_TIMEOUT_MS, (uint64_t)timeout_sec * 1000);
	int r = supervisor_call(id, EVO_MSG_SUP_RESUME, &fields, NULL, NULL, err);
	evo_buf_free(&fields);
	if (r < 0)
		return evo_error_prefix(err, "resume sandbox %s", id);
	return 0;
}

static void read_stats(const struct evo_frame *f, void *ctx)
{
	struct provider_stats *out = ctx;
	struct evo_field_iter it;
	struct evo_field field;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, &field, NULL) == 1) {
		uint64_t *slot = field.tag == EVO_F_CPU_USEC	? &out->cpu_usec
				 : field.tag == EVO_F_MEM_BYTES ? &out->memory_bytes
				 : field.tag == EVO_F_MEM_LIMIT ? &out->memory_limit_bytes
				 : field.tag == EVO_F_PIDS	? &out->pids
								: NULL;
		if (slot)
			evo_field_u64(&field, slot, NULL);
	}
}

static int local_stats(const char *id, struct provider_stats *out, struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	if (supervisor_call(id, EVO_MSG_SUP_STATS, NULL, read_stats, out, err) < 0)
		return -1;
	struct sandbox_state st;
	if (supervisor_info(id, &st, NULL) == 0)
		out->cpu_millis = st.resources.cpu_millis;
	return 0;
}

static char **local_list_owned(const char *owner)
{
	char **ids = supervisor_list_ids();
	size_t kept = 0;
	for (size_t i = 0; ids && ids[i]; i++) {
		struct sandbox_state st;
		if (supervisor_info(ids[i], &st, NULL) == 0 && strcmp(st.owner, owner) == 0)
			ids[kept++] = ids[i];
		else
			free(ids[i]);
	}
	if (ids)
		ids[kept] = NULL;
	return ids;
}

static int local_collect_end(const char *id, struct provider_end *end, long long *ended_ms,
			     struct evo_error *err)
{
	struct supervisor_end rec;
	if (supervisor_end_read(id, true, &rec, err) < 0)
		return -1;
	*end = (struct provider_end){
		.reason = reason_named(rec.reason, strlen(rec.reason)),
		.exit_code = rec.exit_code,
		.signal = rec.signal,
		.oom = rec.oom,
	};
	*ended_ms = rec.ended_ms;
	return 0;
}

static void local_forget_ends(const char *owner)
{
	supervisor_end_sweep(owner);
}

/* The supervisor relays a client's init-protocol requests to init, in a
 * stream space of its own (docs/sandbox.md, "The control socket"). */
static int local_channel_open(const char *id, struct evo_error *err)
{
	return connect_supervisor(id, err);
}

static void local_agent_routes(const char *owner, struct provider_agent_routes *out)
{
	char path[200];
	doors_sandbox_path(owner, DOORS_ORCHESTRATOR, path, sizeof path);
	snprintf(out->orchestrator_url, sizeof out->orchestrator_url, "unix:%s", path);
	doors_sandbox_path(owner, DOORS_MQTT, out->mqtt_broker, sizeof out->mqtt_broker);
	out->mqtt_port = 0;
}

static const struct provider local = {
	.name = "local",
	.kills_orphans = true,
	.start = local_start,
	.adopt = local_adopt,
	.watch_fd = local_watch_fd,
	.watch_read = local_watch_read,
	.watch_close = local_watch_close,
	.kill = local_kill,
	.set_timeout = local_set_timeout,
	.pause = local_pause,
	.resume = local_resume,
	.stats = local_stats,
	.list_owned = local_list_owned,
	.collect_end = local_collect_end,
	.forget_ends = local_forget_ends,
	.channel_open = local_channel_open,
	.agent_routes = local_agent_routes,
};

const struct provider *provider_local(void)
{
	return &local;
}
