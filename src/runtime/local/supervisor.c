#include "runtime/local/supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileutil.h"
#include "common/proto.h"
#include "runtime/local/channel.h"
#include "runtime/local/idrange.h"
#include "runtime/local/state.h"
#include "runtime/local/warmpool.h"
#include "runtime/paths.h"

#define MAX_CLIENTS 255
/* While a client has this much output queued, reading from init pauses, so
 * init's own backpressure reaches the producing process, and the client's
 * requests are not read (its answers would only pile up). A client that
 * stays that way longer than CLIENT_BACKED_UP_MAX_MS is cut off, so it
 * cannot stall the others for ever. */
#define CLIENT_QUEUE_PAUSE_BYTES (1u << 20)
#define INIT_QUEUE_PAUSE_BYTES (4u << 20)
/* How long one backed-up client may hold everyone's output. */
#define CLIENT_BACKED_UP_MAX_MS 5000
/* How long a pause may wait for the kernel to freeze every process (it
 * normally takes well under a millisecond). */
#define PAUSE_FREEZE_TIMEOUT_MS 5000
#define PAUSED_MESSAGE "the sandbox is paused; resume it first (evoclaw sandbox resume ID)"
/* A claim's new state is published this long after it (see claim()); a
 * short command's sandbox is gone before that. */
#define CLAIM_STATE_DELAY_MS 20

static long long unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* For delays: unlike unix_ms, never jumps with the wall clock. */
static long long monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sandboxes_dir(char *out, size_t size)
{
	snprintf(out, size, "%s/sandboxes", evo_paths_get()->run);
}

#define END_NOTE_MAX_AGE_S (24 * 3600)

static void ended_path(const char *id, char *out, size_t size)
{
	snprintf(out, size, "%s/ended/%s.json", evo_paths_get()->run, id);
}

void supervisor_dir(const char *id, char *out, size_t size)
{
	snprintf(out, size, "%s/sandboxes/%s", evo_paths_get()->run, id);
}

void supervisor_socket_path(const char *id, char *out, size_t size)
{
	snprintf(out, size, "%s/sandboxes/%s/control.sock", evo_paths_get()->run, id);
}

static void dir_file(const char *dir, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", dir, name);
}

/* ---- the daemon ------------------------------------------------------ */

/* A process a client started, or a directory it watches, by its stream
 * id in the client's space. */
struct client_stream {
	uint32_t id;
	bool watch;   /* FILE_WATCH: ends with OK or ERROR */
	bool started; /* PROC_STARTED seen; before that an ERROR ends it */
};

struct client {
	int fd;                 /* -1: gone, its processes being stopped */
	uint32_t attach_stream; /* 0 = not attached to the entrypoint */
	struct evo_buf out;
	struct client_stream *streams; /* its processes running, its watches */
	size_t nstreams;
	long long backed_up_since_ms; /* output piling up since; 0 = not */
};

struct supervisor {
	struct sandbox sb;
	struct sandbox_state state;
	char dir[PATH_MAX];
	int lock_fd;
	int listen_fd;
	int signal_fd;
	int timer_fd;
	int log_fd;
	size_t log_size;
	struct client *clients[MAX_CLIENTS + 1]; /* slot 0 unused: the entrypoint */
	struct evo_buf to_init;
	bool entry_exited;
	bool entry_oom;
	int32_t entry_code, entry_signal;
	/* SUP_START_ENTRY waiting for init's answer: who asked (0: nobody). */
	int entry_starter_slot;
	uint32_t entry_starter_stream;
	int owner_slot; /* SUP_CLAIM: the sandbox ends when this client leaves */
	bool refill_pool; /* a claimed warm sandbox: replace it when done */
	bool handed_off;  /* the claimer talks to init directly now */
	long long state_save_ms; /* state.json is behind: write it then (monotonic; 0: not) */
	uint64_t oom_kills_seen;
	uint8_t *record; /* receive buffer */
};

static __attribute__((noreturn)) void teardown(struct supervisor *s, const char *reason,
					       int killer_slot, uint32_t killer_stream);

static void client_free(struct supervisor *s, int slot)
{
	struct client *c = s->clients[slot];
	evo_buf_free(&c->out);
	free(c->streams);
	free(c);
	s->clients[slot] = NULL;
}

static void client_close(struct supervisor *s, int slot)
{
	struct client *c = s->clients[slot];
	if (c == NULL || c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	c->out.len = 0;
	/* A claimed sandbox lives exactly as long as its claimer's
	 * connection: a `run` that exits, or is killed, ends it. */
	if (slot == s->owner_slot) {
		/* Nobody waits for this teardown (the claimer has gone), so it
		 * and the refill it starts yield to work that someone does. */
		setpriority(PRIO_PROCESS, 0, 19);
		teardown(s, "released", 0, 0);
	}
	/* Its processes and watches end with it; the slot stays taken until
	 * they have, so nothing of theirs can reach a later client. */
	for (size_t i = 0; i < c->nstreams; i++) {
		uint32_t stream = ((uint32_t)slot << 24) | c->streams[i].id;
		size_t m = evo_frame_begin(&s->to_init, stream,
					   c->streams[i].watch ? EVO_MSG_FILE_UNWATCH
							       : EVO_MSG_PROC_SIGNAL,
					   0);
		if (!c->streams[i].watch)
			evo_frame_add_i32(&s->to_init, EVO_F_SIGNAL, SIGKILL);
		evo_frame_end(&s->to_init, m);
	}
	if (c->nstreams == 0)
		client_free(s, slot);
}

static void stream_add(struct client *c, uint32_t id, bool watch)
{
	c->streams = xrealloc(c->streams, (c->nstreams + 1) * sizeof *c->streams);
	c->streams[c->nstreams++] = (struct client_stream){.id = id, .watch = watch};
}

/* Follow a client's processes through init's answers on their streams. */
static void stream_update(struct supervisor *s, int slot, const struct evo_frame *f)
{
	struct client *c = s->clients[slot];
	uint32_t id = f->stream & SUPERVISOR_CLIENT_STREAM_MAX;
	for (size_t i = 0; i < c->nstreams; i++) {
		if (c->streams[i].id != id)
			continue;
		bool ended = c->streams[i].watch
				     ? f->type == EVO_MSG_OK || f->type == EVO_MSG_ERROR
				     : f->type == EVO_MSG_PROC_EXIT ||
					       (f->type == EVO_MSG_ERROR && !c->streams[i].started);
		if (f->type == EVO_MSG_PROC_STARTED)
			c->streams[i].started = true;
		if (ended)
			c->streams[i] = c->streams[--c->nstreams];
		break;
	}
	if (c->fd < 0 && c->nstreams == 0)
		client_free(s, slot);
}

/* Queue a frame-sized record to a client and try to send it. */
static void client_queue(struct supervisor *s, int slot, const struct evo_buf *frames)
{
	struct client *c = s->clients[slot];
	if (c == NULL || c->fd < 0)
		return;
	evo_buf_append(&c->out, frames->data, frames->len);
	if (channel_flush(c->fd, &c->out, NULL) < 0)
		client_close(s, slot);
}

static void client_reply_error(struct supervisor *s, int slot, uint32_t stream, int errnum,
			       const char *message)
{
	struct evo_buf b = {0};
	evo_frame_error(&b, stream, errnum, message);
	client_queue(s, slot, &b);
	evo_buf_free(&b);
}

/* Publish what changed (state.json), for `ls` and whoever adopts the
 * sandbox. Best effort: the daemon's own copy is the truth. */
static void save_state(struct supervisor *s)
{
	char path[PATH_MAX];
	dir_file(s->dir, "state.json", path, sizeof path);
	sandbox_state_write(path, &s->state, NULL);
	s->state_save_ms = 0;
}

static void arm_timer(struct supervisor *s)
{
	struct itimerspec its = {0};
	if (s->state.deadline_ms > 0) {
		its.it_value.tv_sec = s->state.deadline_ms / 1000;
		its.it_value.tv_nsec = (s->state.deadline_ms % 1000) * 1000000;
	}
	timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void log_append(struct supervisor *s, const uint8_t *data, size_t len)
{
	if (s->log_fd < 0)
		return;
	if (s->log_size + len > SUPERVISOR_LOG_ROTATE_BYTES) {
		char cur[PATH_MAX], old[PATH_MAX];
		dir_file(s->dir, "output.log", cur, sizeof cur);
		dir_file(s->dir, "output.log.1", old, sizeof old);
		close(s->log_fd);
		rename(cur, old);
		s->log_fd = open(cur, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		s->log_size = 0;
		if (s->log_fd < 0)
			return;
	}
	ssize_t n = write(s->log_fd, data, len);
	if (n > 0)
		s->log_size += (size_t)n;
}

/* Copy a record with its stream id replaced (and optionally an OOM flag
 * appended to a PROC_EXIT) into out. */
static void rewrite_record(const uint8_t *rec, size_t len, uint32_t stream, bool add_oom,
			   struct evo_buf *out)
{
	size_t start = out->len;
	evo_buf_append(out, rec, len);
	uint8_t *h = out->data + start;
	h[4] = (uint8_t)stream;
	h[5] = (uint8_t)(stream >> 8);
	h[6] = (uint8_t)(stream >> 16);
	h[7] = (uint8_t)(stream >> 24);
	if (add_oom) {
		evo_frame_add_u8(out, EVO_F_OOM, 1);
		uint32_t plen = (uint32_t)(out->len - start - EVO_PROTO_HEADER_LEN);
		h = out->data + start;
		h[0] = (uint8_t)plen;
		h[1] = (uint8_t)(plen >> 8);
		h[2] = (uint8_t)(plen >> 16);
		h[3] = (uint8_t)(plen >> 24);
	}
}

/* A process killed with SIGKILL while the group's OOM counter moved was
 * killed by the memory limit: say so, since the signal alone cannot. */
static bool exit_was_oom(struct supervisor *s, const struct evo_frame *f)
{
	struct evo_field field;
	int32_t sig = 0;
	if (evo_frame_field(f, EVO_F_SIGNAL, &field))
		evo_field_i32(&field, &sig, NULL);
	if (sig != SIGKILL)
		return false;
	struct cgroup_stats st;
	if (cgroup_read_stats(&s->sb.cgroup, &st, NULL) < 0 || st.oom_kills <= s->oom_kills_seen)
		return false;
	s->oom_kills_seen = st.oom_kills;
	return true;
}

static void record_entry_exit(struct supervisor *s, const struct evo_frame *f)
{
	struct evo_field_iter it;
	struct evo_field field;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, &field, NULL) == 1) {
		if (field.tag == EVO_F_EXIT_CODE)
			evo_field_i32(&field, &s->entry_code, NULL);
		else if (field.tag == EVO_F_SIGNAL)
			evo_field_i32(&field, &s->entry_signal, NULL);
	}
	s->entry_exited = true;
}

static void answer_entry_starter(struct supervisor *s, const uint8_t *rec, size_t len,
				 const struct evo_frame *f);

/* A frame from init: route it to the client whose stream it is, or for
 * the entrypoint to the log and attached clients. */
static void handle_init_frame(struct supervisor *s, const uint8_t *rec, size_t len,
			      const struct evo_frame *f)
{
	bool oom = f->type == EVO_MSG_PROC_EXIT && exit_was_oom(s, f);
	uint32_t slot = f->stream >> 24;
	struct evo_buf out = {0};
	if (slot == 0) {
		if (f->stream != EVO_ENTRYPOINT_STREAM)
			return;
		if (f->type == EVO_MSG_PROC_STDOUT || f->type == EVO_MSG_PROC_STDERR) {
			struct evo_field_iter it;
			struct evo_field field;
			evo_field_iter_init(&it, f->payload, f->payload_len);
			while (evo_field_next(&it, &field, NULL) == 1)
				if (field.tag == EVO_F_DATA)
					log_append(s, field.value, field.len);
		} else if (f->type == EVO_MSG_PROC_EXIT) {
			record_entry_exit(s, f);
			s->entry_oom = oom;
		} else if ((f->type == EVO_MSG_PROC_STARTED || f->type == EVO_MSG_ERROR) &&
			   s->entry_starter_slot != 0) {
			answer_entry_starter(s, rec, len, f);
		}
		for (int i = 1; i <= MAX_CLIENTS; i++) {
			struct client *c = s->clients[i];
			if (c == NULL || c->attach_stream == 0)
				continue;
			out.len = 0;
			rewrite_record(rec, len, c->attach_stream, oom, &out);
			client_queue(s, i, &out);
		}
	} else if (s->clients[slot] != NULL) {
		rewrite_record(rec, len, f->stream & SUPERVISOR_CLIENT_STREAM_MAX, oom, &out);
		client_queue(s, (int)slot, &out);
		if (s->clients[slot] != NULL)
			stream_update(s, (int)slot, f);
	}
	evo_buf_free(&out);
}

static void reply_info(struct supervisor *s, int slot, uint32_t stream)
{
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, EVO_MSG_OK, 0);
	evo_frame_add_str(&b, EVO_F_ID, s->state.id);
	evo_frame_add_str(&b, EVO_F_TEMPLATE, s->state.template_name);
	evo_frame_add_u32(&b, EVO_F_PID, (uint32_t)s->sb.init_pid);
	evo_frame_add_str(&b, EVO_F_STATE,
			  s->state.paused ? "paused" : s->entry_exited ? "exited" : "running");
	evo_frame_add_i64(&b, EVO_F_CREATED, s->state.created_ms);
	evo_frame_add_i64(&b, EVO_F_DEADLINE, s->state.deadline_ms);
	if (s->state.paused)
		evo_frame_add_u64(&b, EVO_F_REMAINING_MS, (uint64_t)s->state.remaining_ms);
	evo_frame_end(&b, m);
	client_queue(s, slot, &b);
	evo_buf_free(&b);
}

static void reply_stats(struct supervisor *s, int slot, uint32_t stream)
{
	struct cgroup_stats st;
	struct evo_error err = {0};
	if (cgroup_read_stats(&s->sb.cgroup, &st, &err) < 0) {
		client_reply_error(s, slot, stream, err.errnum ? err.errnum : EIO, err.msg);
		return;
	}
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, EVO_MSG_OK, 0);
	evo_frame_add_u64(&b, EVO_F_CPU_USEC, st.cpu_usec);
	evo_frame_add_u64(&b, EVO_F_MEM_BYTES, st.memory_bytes);
	evo_frame_add_u64(&b, EVO_F_MEM_PEAK, st.memory_peak_bytes);
	evo_frame_add_u64(&b, EVO_F_MEM_LIMIT, st.memory_limit_bytes);
	evo_frame_add_u64(&b, EVO_F_PIDS, st.pids);
	evo_frame_add_u64(&b, EVO_F_OOM_KILLS, st.oom_kills);
	evo_frame_end(&b, m);
	client_queue(s, slot, &b);
	evo_buf_free(&b);
}

static void reply_ok(struct supervisor *s, int slot, uint32_t stream)
{
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, EVO_MSG_OK, 0);
	evo_frame_end(&b, m);
	client_queue(s, slot, &b);
	evo_buf_free(&b);
}

static void set_timeout(struct supervisor *s, int slot, const struct evo_frame *f)
{
	struct evo_field_iter it;
	struct evo_field field;
	uint64_t ms = 0;
	bool have = false;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, &field, NULL) == 1)
		if (field.tag == EVO_F_TIMEOUT_MS && evo_field_u64(&field, &ms, NULL) == 0)
			have = true;
	if (!have || ms > 365ull * 24 * 3600 * 1000) {
		client_reply_error(s, slot, f->stream, EINVAL,
				   "SUP_SET_TIMEOUT needs TIMEOUT_MS (u64, at most a year)");
		return;
	}
	/* A paused sandbox's clock is stopped: the new timeout starts to run
	 * when it resumes. */
	if (s->state.paused) {
		s->state.remaining_ms = (long long)ms;
	} else {
		s->state.deadline_ms = ms ? unix_ms() + (long long)ms : 0;
		arm_timer(s);
	}
	save_state(s);
	reply_ok(s, slot, f->stream);
}

/* Freeze every process of the sandbox (its cgroup) and stop its clock:
 * a paused sandbox uses no CPU and does not time out. What it had left
 * of its deadline runs again from its resume. */
static void pause_sandbox(struct supervisor *s, int slot, uint32_t stream)
{
	if (s->state.paused) {
		client_reply_error(s, slot, stream, EALREADY, "already paused");
		return;
	}
	if (s->state.pool_key[0] && s->owner_slot == 0) {
		client_reply_error(s, slot, stream, EBUSY,
				   "a warm sandbox is kept unused for `sandbox run` and cannot be paused");
		return;
	}
	/* Its claimer talks to init without us: its requests would hang
	 * instead of being refused. */
	if (s->handed_off) {
		client_reply_error(s, slot, stream, EBUSY,
				   "this sandbox belongs to the run that claimed it and cannot be paused");
		return;
	}
	struct evo_error err = {0};
	if (cgroup_freeze(&s->sb.cgroup, PAUSE_FREEZE_TIMEOUT_MS, &err) < 0) {
		client_reply_error(s, slot, stream, err.errnum ? err.errnum : EIO, err.msg);
		return;
	}
	/* Read the clock once frozen: until then it was running. A deadline
	 * that passed meanwhile leaves a moment, so it ends on resume. */
	long long now = unix_ms();
	s->state.remaining_ms = 0;
	if (s->state.deadline_ms > 0)
		s->state.remaining_ms = s->state.deadline_ms > now ? s->state.deadline_ms - now : 1;
	s->state.deadline_ms = 0;
	s->state.paused = true;
	s->state.paused_ms = now;
	arm_timer(s);
	save_state(s);
	reply_ok(s, slot, stream);
}

/* Thaw a paused sandbox and start its clock again: with the time it had
 * left, or TIMEOUT_MS from now when the request has one (0 = none). */
static void resume_sandbox(struct supervisor *s, int slot, const struct evo_frame *f)
{
	struct evo_field_iter it;
	struct evo_field field;
	uint64_t ms = 0;
	bool have = false;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, &field, NULL) == 1) {
		if (field.tag != EVO_F_TIMEOUT_MS)
			continue;
		have = true;
		if (evo_field_u64(&field, &ms, NULL) < 0)
			ms = UINT64_MAX; /* not a u64: refused below */
	}
	if (have && ms > 365ull * 24 * 3600 * 1000) {
		client_reply_error(s, slot, f->stream, EINVAL,
				   "SUP_RESUME: TIMEOUT_MS must be a u64 of at most a year");
		return;
	}
	if (!s->state.paused) {
		client_reply_error(s, slot, f->stream, EALREADY, "not paused");
		return;
	}
	struct evo_error err = {0};
	if (cgroup_thaw(&s->sb.cgroup, &err) < 0) {
		client_reply_error(s, slot, f->stream, err.errnum ? err.errnum : EIO, err.msg);
		return;
	}
	long long left = have ? (long long)ms : s->state.remaining_ms;
	s->state.deadline_ms = left ? unix_ms() + left : 0;
	s->state.paused = false;
	s->state.paused_ms = s->state.remaining_ms = 0;
	arm_timer(s);
	save_state(s);
	reply_ok(s, slot, f->stream);
}

/* Replay the entrypoint's log to a newly attached client, then follow. */
static void attach(struct supervisor *s, int slot, uint32_t stream)
{
	/* Without an entrypoint (yet) an attached client still learns of a
	 * later SUP_START_ENTRY's output and of the end (SUP_ENDED). */
	static const char *const logs[] = {"output.log.1", "output.log"};
	uint8_t chunk[EVO_PROTO_CHUNK];
	struct evo_buf b = {0};
	for (size_t i = 0; i < 2; i++) {
		char path[PATH_MAX];
		dir_file(s->dir, logs[i], path, sizeof path);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n;
		while (fd >= 0 && (n = read(fd, chunk, sizeof chunk)) > 0) {
			size_t m = evo_frame_begin(&b, stream, EVO_MSG_PROC_STDOUT, 0);
			evo_frame_add(&b, EVO_F_DATA, chunk, (uint32_t)n);
			evo_frame_end(&b, m);
		}
	}
	if (s->entry_exited) {
		size_t m = evo_frame_begin(&b, stream, EVO_MSG_PROC_EXIT, 0);
		evo_frame_add_i32(&b, EVO_F_EXIT_CODE, s->entry_code);
		evo_frame_add_i32(&b, EVO_F_SIGNAL, s->entry_signal);
		evo_frame_end(&b, m);
	} else {
		s->clients[slot]->attach_stream = stream;
	}
	client_queue(s, slot, &b);
	evo_buf_free(&b);
}

/* Answer a claim with init's channel attached: the claimer then reaches
 * init without a relay through here. We keep our copy open (so init does
 * not see EOF) but stop reading it; the claimer's leaving still ends all.
 * A claim may carry the claimer's first request for init (DATA, one
 * PROC_START frame): it goes to init before the answer, so the process
 * starts while the claimer is still receiving the channel, and the OK
 * names its STREAM. Init's replies to it are the claimer's to read. An
 * ERROR answer always means nothing was passed on, so the claimer may
 * build a sandbox instead. */
static void hand_over_init(struct supervisor *s, int slot, const struct evo_frame *claim)
{
	struct client *c = s->clients[slot];
	if (c->out.len != 0 || s->to_init.len != 0) {
		client_reply_error(s, slot, claim->stream, EAGAIN,
				   "cannot hand over the init channel now");
		return;
	}
	struct evo_field first;
	struct evo_frame request = {0};
	if (evo_frame_field(claim, EVO_F_DATA, &first)) {
		if (evo_frame_parse_record(first.value, first.len, &request, NULL) < 0 ||
		    request.type != EVO_MSG_PROC_START || request.stream == 0 ||
		    request.stream > SUPERVISOR_CLIENT_STREAM_MAX) {
			client_reply_error(s, slot, claim->stream, EINVAL,
					   "a claim's DATA must be one PROC_START frame on a client stream");
			return;
		}
		/* One record on a SOCK_SEQPACKET channel that nothing else uses
		 * (to_init is empty): it goes whole or not at all. */
		ssize_t n = send(s->sb.channel, first.value, first.len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n != (ssize_t)first.len) {
			client_reply_error(s, slot, claim->stream, n < 0 ? errno : EIO,
					   "cannot pass the claim's request to init");
			return;
		}
	}
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, claim->stream, EVO_MSG_OK, 0);
	if (request.stream != 0)
		evo_frame_add_u32(&b, EVO_F_STREAM, request.stream);
	evo_frame_end(&b, m);
	int r = channel_send_fd(c->fd, &b, s->sb.channel, NULL);
	evo_buf_free(&b);
	if (r == 0)
		s->handed_off = true;
	else if (request.stream != 0) {
		/* Its request is running, and nobody can see it: end it all. */
		client_close(s, slot);
	} else {
		client_reply_error(s, slot, claim->stream, EAGAIN,
				   "cannot hand over the init channel now");
	}
}

/* A warm sandbox becomes an ordinary one, as if created directly: it has
 * its own deadline and an owner tag, and no longer depends on the
 * claimer's connection. Its pool is refilled now rather than when it
 * ends, since that may be hours away. */
static void claim_detached(struct supervisor *s, int slot, const struct evo_frame *f)
{
	struct evo_field_iter it;
	struct evo_field field;
	uint64_t ms = 0;
	const char *owner = NULL;
	uint32_t owner_len = 0;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, &field, NULL) == 1) {
		if (field.tag == EVO_F_TIMEOUT_MS)
			evo_field_u64(&field, &ms, NULL);
		else if (field.tag == EVO_F_OWNER) {
			owner = (const char *)field.value;
			owner_len = field.len;
		}
	}
	if (ms == 0 || ms > 365ull * 24 * 3600 * 1000 || owner_len >= sizeof s->state.owner) {
		client_reply_error(s, slot, f->stream, EINVAL,
				   "a detached claim needs TIMEOUT_MS (1 ms to a year) and an OWNER "
				   "under 128 bytes");
		return;
	}
	char key[sizeof s->state.pool_key];
	snprintf(key, sizeof key, "%s", s->state.pool_key);
	s->state.pool_key[0] = '\0';
	if (owner)
		memcpy(s->state.owner, owner, owner_len);
	s->state.owner[owner_len] = '\0';
	s->state.deadline_ms = unix_ms() + (long long)ms;
	arm_timer(s);
	reply_ok(s, slot, f->stream);
	save_state(s);
	warmpool_refill_async(key);
}

/* A warm sandbox is being put to use: tie its life to the claimer, and
 * have the pool it came from make a replacement once it is done: the
 * refill then runs from here, after the claimer has gone, never delaying
 * its command. */
static void claim(struct supervisor *s, int slot, const struct evo_frame *f)
{
	uint32_t stream = f->stream;
	uint8_t flags = f->flags;
	if (s->state.pool_key[0] == '\0') {
		client_reply_error(s, slot, stream, EINVAL,
				   "only a warm sandbox can be claimed; this one was created directly");
		return;
	}
	if (s->owner_slot != 0) {
		client_reply_error(s, slot, stream, EBUSY, "this sandbox is already claimed");
		return;
	}
	if (flags & EVO_FLAG_CLAIM_DETACH) {
		claim_detached(s, slot, f);
		return;
	}
	s->owner_slot = slot;
	/* The idle timeout of a warm sandbox does not apply once it is in
	 * use: it now lasts as long as its claimer (who enforces its own). */
	s->state.deadline_ms = 0;
	arm_timer(s);
	s->refill_pool = true;
	if (flags & EVO_FLAG_CLAIM_HANDOFF)
		hand_over_init(s, slot, f);
	else
		reply_ok(s, slot, stream);
	/* `ls` must no longer show the idle deadline, but the file can wait:
	 * writing it now (create, write and rename over the old one, which
	 * on a disk file system also starts writeback) takes CPU just as the
	 * command starts. The loop writes it CLAIM_STATE_DELAY_MS later; a
	 * short command has ended by then, and the state with it. */
	s->state_save_ms = monotonic_ms() + CLAIM_STATE_DELAY_MS;
}

/* Start the entrypoint now, in a sandbox created without one: a
 * PROC_START in all but its type, run on the entrypoint's stream so its
 * output is logged and attachable and its exit ends the sandbox. */
static void start_entry(struct supervisor *s, int slot, const uint8_t *rec, size_t len,
			const struct evo_frame *f)
{
	const char *why = NULL;
	if (s->state.pool_key[0] && s->owner_slot == 0)
		why = "a warm sandbox must be claimed first";
	else if (s->handed_off)
		why = "this sandbox belongs to the run that claimed it";
	else if (s->state.has_entrypoint || s->entry_exited)
		why = "this sandbox already has an entrypoint";
	else if (s->entry_starter_slot != 0)
		why = "an entrypoint is already being started";
	if (why) {
		client_reply_error(s, slot, f->stream, EBUSY, why);
		return;
	}
	if (s->state.paused) {
		client_reply_error(s, slot, f->stream, EAGAIN, PAUSED_MESSAGE);
		return;
	}
	s->entry_starter_slot = slot;
	s->entry_starter_stream = f->stream;
	s->state.has_entrypoint = true;
	size_t start = s->to_init.len;
	rewrite_record(rec, len, EVO_ENTRYPOINT_STREAM, false, &s->to_init);
	s->to_init.data[start + 8] = EVO_MSG_PROC_START;
	save_state(s);
	if (channel_flush(s->sb.channel, &s->to_init, NULL) < 0)
		teardown(s, "error", 0, 0);
}

/* init answered the SUP_START_ENTRY: pass it on to whoever asked. */
static void answer_entry_starter(struct supervisor *s, const uint8_t *rec, size_t len,
				 const struct evo_frame *f)
{
	int slot = s->entry_starter_slot;
	s->entry_starter_slot = 0;
	if (f->type == EVO_MSG_ERROR) {
		s->state.has_entrypoint = false;
		save_state(s);
	}
	if (s->clients[slot] == NULL || s->clients[slot]->fd < 0)
		return;
	struct evo_buf out = {0};
	rewrite_record(rec, len, s->entry_starter_stream, false, &out);
	client_queue(s, slot, &out);
	evo_buf_free(&out);
}

/* A record from a client: supervisor requests are answered here, the rest
 * go to init under this client's stream space. */
static void handle_client_record(struct supervisor *s, int slot, const uint8_t *rec, size_t len)
{
	struct evo_frame f;
	struct evo_error err = {0};
	if (evo_frame_parse_record(rec, len, &f, &err) < 0) {
		uint32_t stream = len >= 8 ? (uint32_t)rec[4] | (uint32_t)rec[5] << 8 |
						     (uint32_t)rec[6] << 16 | (uint32_t)rec[7] << 24
					   : 0;
		client_reply_error(s, slot, stream & SUPERVISOR_CLIENT_STREAM_MAX, EINVAL, err.msg);
		return;
	}
	if (f.stream == 0 || f.stream > SUPERVISOR_CLIENT_STREAM_MAX) {
		client_reply_error(s, slot, 0, EINVAL, "stream id must be from 1 to 16777215");
		return;
	}
	switch (f.type) {
	case EVO_MSG_SUP_INFO:
		reply_info(s, slot, f.stream);
		return;
	case EVO_MSG_SUP_STATS:
		reply_stats(s, slot, f.stream);
		return;
	case EVO_MSG_SUP_SET_TIMEOUT:
		set_timeout(s, slot, &f);
		return;
	case EVO_MSG_SUP_ATTACH:
		attach(s, slot, f.stream);
		return;
	case EVO_MSG_SUP_KILL:
		teardown(s, "killed", slot, f.stream);
	case EVO_MSG_SUP_CLAIM:
		claim(s, slot, &f);
		return;
	case EVO_MSG_SUP_START_ENTRY:
		start_entry(s, slot, rec, len, &f);
		return;
	case EVO_MSG_SUP_PAUSE:
		pause_sandbox(s, slot, f.stream);
		return;
	case EVO_MSG_SUP_RESUME:
		resume_sandbox(s, slot, &f);
		return;
	default:
		break;
	}
	if (f.type >= EVO_MSG_OK) {
		client_reply_error(s, slot, f.stream, EINVAL, "not a request type");
		return;
	}
	if (s->handed_off) {
		client_reply_error(s, slot, f.stream, EBUSY,
				   "this sandbox belongs to the run that claimed it");
		return;
	}
	/* A warm sandbox must be untouched when it is handed out. */
	if (s->state.pool_key[0] && s->owner_slot == 0) {
		client_reply_error(s, slot, f.stream, EBUSY,
				   "a warm sandbox is kept unused for `sandbox run`; it takes requests once claimed");
		return;
	}
	/* Init is frozen: the answer would come only after a resume.
	 * Refused at once instead, input and signals for running processes
	 * too (they are not kept for later). */
	if (s->state.paused) {
		client_reply_error(s, slot, f.stream, EAGAIN, PAUSED_MESSAGE);
		return;
	}
	if (f.type == EVO_MSG_PROC_START || f.type == EVO_MSG_FILE_WATCH)
		stream_add(s->clients[slot], f.stream, f.type == EVO_MSG_FILE_WATCH);
	rewrite_record(rec, len, ((uint32_t)slot << 24) | f.stream, false, &s->to_init);
	if (channel_flush(s->sb.channel, &s->to_init, NULL) < 0)
		teardown(s, "error", 0, 0);
}

static void accept_client(struct supervisor *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (int i = 1; i <= MAX_CLIENTS; i++) {
		if (s->clients[i] == NULL) {
			s->clients[i] = xcalloc(1, sizeof **s->clients);
			s->clients[i]->fd = fd;
			return;
		}
	}
	struct evo_buf b = {0};
	evo_frame_error(&b, 0, EBUSY, "too many clients on this sandbox");
	channel_send_all(fd, &b, NULL);
	evo_buf_free(&b);
	close(fd);
}

static void remove_state_dir(const char *dir)
{
	static const char *const files[] = {"control.sock", "state.json", "output.log",
					    "output.log.1", "lock"};
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		dir_file(dir, files[i], path, sizeof path);
		unlink(path);
	}
	rmdir(dir);
}

/* End the sandbox: kill it, remove its cgroup and state, tell the client
 * that asked (if any) once nothing remains, exit. */
/* Tell every attached client why the sandbox ends (SUP_ENDED) and push
 * out what they still have queued: for an orchestrator following an agent
 * this is how it learns the exit status. A client that does not read is
 * given a second, not more. */
static void tell_attached_clients(struct supervisor *s, const char *reason)
{
	for (int i = 1; i <= MAX_CLIENTS; i++) {
		struct client *c = s->clients[i];
		if (c == NULL || c->fd < 0 || (c->attach_stream == 0 && c->out.len == 0))
			continue;
		if (c->attach_stream != 0) {
			size_t m = evo_frame_begin(&c->out, c->attach_stream, EVO_MSG_SUP_ENDED, 0);
			evo_frame_add_str(&c->out, EVO_F_REASON, reason);
			if (s->entry_exited) {
				evo_frame_add_i32(&c->out, EVO_F_EXIT_CODE, s->entry_code);
				evo_frame_add_i32(&c->out, EVO_F_SIGNAL, s->entry_signal);
				if (s->entry_oom)
					evo_frame_add_u8(&c->out, EVO_F_OOM, 1);
			}
			evo_frame_end(&c->out, m);
		}
		struct timeval limit = {.tv_sec = 1};
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
		int flags = fcntl(c->fd, F_GETFL);
		fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
		channel_send_all(c->fd, &c->out, NULL);
		c->out.len = 0;
	}
}

/* For an owner that may not be listening now (an orchestrator being
 * restarted): how this sandbox ended. Best effort. */
static void write_end_record(struct supervisor *s, const char *reason)
{
	char dir[PATH_MAX], path[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/ended", evo_paths_get()->run);
	if (mkdir_parents(dir, 0700) < 0)
		return;
	ended_path(s->state.id, path, sizeof path);
	json_t *rec = json_pack("{s:s, s:s, s:i, s:i, s:b, s:I}", "owner", s->state.owner, "reason",
				reason, "exit_code", s->entry_exited ? s->entry_code : -1, "signal",
				s->entry_exited ? s->entry_signal : 0, "oom", s->entry_oom, "ended_ms",
				(json_int_t)unix_ms());
	char *text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	json_decref(rec);
	if (text)
		write_file_atomic(path, text, strlen(text), 0600);
	free(text);
}

static __attribute__((noreturn)) void teardown(struct supervisor *s, const char *reason,
					       int killer_slot, uint32_t killer_stream)
{
	struct evo_error err = {0};
	/* Frozen, init would not act on the SIGKILL sandbox_destroy sends it
	 * (v1), and its reaping would wait for ever. */
	if (s->state.paused)
		cgroup_kill(&s->sb.cgroup);
	int r = sandbox_destroy(&s->sb, &err);
	if (s->state.pool_key[0] && s->owner_slot == 0)
		warmpool_forget(&s->state);
	/* Before the state directory (and the lock in it) goes: whoever waits
	 * for this supervisor (pool drain) must then find the refill already
	 * holding the pool's lock. */
	if (s->refill_pool)
		warmpool_refill_async(s->state.pool_key);
	if (s->state.owner[0])
		write_end_record(s, reason);
	remove_state_dir(s->dir);
	/* Only now: "ended" means nothing of the sandbox remains. */
	tell_attached_clients(s, reason);
	if (killer_slot > 0 && s->clients[killer_slot] != NULL && s->clients[killer_slot]->fd >= 0) {
		struct client *c = s->clients[killer_slot];
		struct evo_buf b = {0};
		if (r < 0) {
			evo_frame_error(&b, killer_stream, err.errnum ? err.errnum : EIO, err.msg);
		} else {
			size_t m = evo_frame_begin(&b, killer_stream, EVO_MSG_OK, 0);
			evo_frame_end(&b, m);
		}
		int flags = fcntl(c->fd, F_GETFL);
		fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
		channel_send_all(c->fd, &c->out, NULL);
		channel_send_all(c->fd, &b, NULL);
		evo_buf_free(&b);
	}
	_exit(r < 0 ? 1 : 0);
}

static void drain_init(struct supervisor *s)
{
	for (;;) {
		ssize_t n = recv(s->sb.channel, s->record, EVO_PROTO_MAX_FRAME, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) /* init is gone */
			teardown(s, s->entry_exited ? "exited" : "init-exited", 0, 0);
		struct evo_frame f;
		if ((size_t)n > EVO_PROTO_MAX_FRAME ||
		    evo_frame_parse_record(s->record, (size_t)n, &f, NULL) < 0)
			continue; /* init never sends these; drop rather than die */
		handle_init_frame(s, s->record, (size_t)n, &f);
		/* The entrypoint is what the sandbox is for: when it ends, so
		 * does the sandbox (init may idle on without it when it was
		 * started by SUP_START_ENTRY). */
		if (s->entry_exited)
			teardown(s, "exited", 0, 0);
		/* A client falling behind pauses init now, not a whole socket
		 * buffer later. */
		uint32_t slot = f.stream >> 24;
		if (slot > 0 && s->clients[slot] != NULL &&
		    s->clients[slot]->out.len > CLIENT_QUEUE_PAUSE_BYTES)
			return;
	}
}

static void drain_client(struct supervisor *s, int slot)
{
	for (int budget = 64; budget > 0 && s->clients[slot] != NULL && s->clients[slot]->fd >= 0;
	     budget--) {
		ssize_t n = recv(s->clients[slot]->fd, s->record, EVO_PROTO_MAX_FRAME,
				 MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			client_close(s, slot);
			return;
		}
		if ((size_t)n > EVO_PROTO_MAX_FRAME) {
			client_reply_error(s, slot, 0, EMSGSIZE, "record larger than the protocol allows");
			continue;
		}
		handle_client_record(s, slot, s->record, (size_t)n);
	}
}

static __attribute__((noreturn)) void supervisor_loop(struct supervisor *s)
{
	s->record = xmalloc(EVO_PROTO_MAX_FRAME);
	struct pollfd fds[5 + MAX_CLIENTS];
	int slot_of[5 + MAX_CLIENTS];
	for (;;) {
		bool clients_backed_up = false;
		long long now = unix_ms(), wait_ms = -1;
		for (int i = 1; i <= MAX_CLIENTS; i++) {
			struct client *c = s->clients[i];
			if (c == NULL || c->fd < 0)
				continue;
			if (c->out.len <= CLIENT_QUEUE_PAUSE_BYTES) {
				c->backed_up_since_ms = 0;
				continue;
			}
			if (c->backed_up_since_ms == 0)
				c->backed_up_since_ms = now;
			long long left = c->backed_up_since_ms + CLIENT_BACKED_UP_MAX_MS - now;
			if (left <= 0) {
				client_close(s, i);
				continue;
			}
			clients_backed_up = true;
			if (wait_ms < 0 || left < wait_ms)
				wait_ms = left;
		}
		if (s->state_save_ms) {
			long long left = s->state_save_ms - monotonic_ms();
			if (left < 0)
				left = 0;
			if (wait_ms < 0 || left < wait_ms)
				wait_ms = left;
		}
		bool init_backed_up = s->to_init.len > INIT_QUEUE_PAUSE_BYTES;
		int n = 0;
		fds[n++] = (struct pollfd){.fd = s->sb.init_pidfd, .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = s->signal_fd, .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = s->timer_fd, .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = s->handed_off ? -1 : s->sb.channel,
					   .events = (short)((clients_backed_up ? 0 : POLLIN) |
							     (s->to_init.len ? POLLOUT : 0))};
		fds[n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
		for (int i = 1; i <= MAX_CLIENTS; i++) {
			struct client *c = s->clients[i];
			if (c == NULL || c->fd < 0)
				continue;
			bool take_requests = !init_backed_up && c->out.len <= CLIENT_QUEUE_PAUSE_BYTES;
			slot_of[n] = i;
			fds[n++] = (struct pollfd){
				.fd = c->fd,
				.events = (short)((take_requests ? POLLIN : 0) | (c->out.len ? POLLOUT : 0))};
		}
		if (poll(fds, (nfds_t)n, (int)wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			teardown(s, "error", 0, 0);
		}
		if (s->state_save_ms && monotonic_ms() >= s->state_save_ms)
			save_state(s);
		if (fds[0].revents) {
			/* init exited: relay what it said last, then end. */
			if (!s->handed_off)
				drain_init(s);
			teardown(s, s->entry_exited ? "exited" : "init-exited", 0, 0);
		}
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(s->signal_fd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD)
				teardown(s, "stopped", 0, 0);
		}
		if (fds[2].revents & POLLIN)
			teardown(s, "timeout", 0, 0);
		if (fds[3].revents & POLLOUT && channel_flush(s->sb.channel, &s->to_init, NULL) < 0)
			teardown(s, "error", 0, 0);
		if (fds[3].revents & (POLLIN | POLLHUP | POLLERR))
			drain_init(s);
		if (fds[4].revents & POLLIN)
			accept_client(s);
		for (int i = 5; i < n; i++) {
			int slot = slot_of[i];
			if (s->clients[slot] == NULL || s->clients[slot]->fd < 0 || fds[i].revents == 0)
				continue;
			if (fds[i].revents & POLLOUT &&
			    channel_flush(s->clients[slot]->fd, &s->clients[slot]->out, NULL) < 0) {
				client_close(s, slot);
				continue;
			}
			if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
				drain_client(s, slot);
		}
	}
}

static int listen_on(const char *path, struct evo_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path)
		return evo_error_set(err, EVO_ERR_INVALID, ENAMETOOLONG,
				     "control socket path %s is too long (set a shorter EVOCLAW_RUN_DIR)",
				     path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return evo_error_errno(err, "socket");
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 64) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return evo_error_errno(err, "listen on %s", path);
	}
	return fd;
}

/* Everything the daemon does before it serves: state dir (locked for its
 * lifetime, which is how others tell a live supervisor from a dead one),
 * the sandbox, the socket, the state file. */
static int supervisor_setup(struct supervisor *s, const struct sandbox_spec *spec,
			    uint64_t timeout_ms, const char *pool_key, struct evo_error *err)
{
	struct sandbox_spec local = *spec;
	if (local.id[0] == '\0')
		sandbox_generate_id(local.id);
	char base[PATH_MAX];
	sandboxes_dir(base, sizeof base);
	if (mkdir_parents(base, 0700) < 0)
		return evo_error_errno(err, "create %s", base);
	supervisor_dir(local.id, s->dir, sizeof s->dir);
	if (mkdir(s->dir, 0700) < 0) {
		if (errno == EEXIST)
			return evo_error_set(err, EVO_ERR_CONFLICT, EEXIST,
					     "a sandbox with id %s already exists", local.id);
		return evo_error_errno(err, "create %s", s->dir);
	}
	char path[PATH_MAX];
	dir_file(s->dir, "lock", path, sizeof path);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX) < 0) {
		evo_error_errno(err, "lock %s", path);
		remove_state_dir(s->dir);
		return -1;
	}
	if (sandbox_spawn(&local, &s->sb, err) < 0) {
		remove_state_dir(s->dir);
		return -1;
	}
	/* A warm sandbox is built at the low priority of pool upkeep; what
	 * it runs once claimed must not inherit that. */
	if (getpriority(PRIO_PROCESS, 0) > 0) {
		setpriority(PRIO_PROCESS, (id_t)s->sb.init_pid, 0);
		setpriority(PRIO_PROCESS, 0, 0);
	}
	dir_file(s->dir, "output.log", path, sizeof path);
	s->log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	supervisor_socket_path(local.id, path, sizeof path);
	s->listen_fd = listen_on(path, err);
	s->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->listen_fd < 0 || s->timer_fd < 0) {
		if (s->timer_fd < 0)
			evo_error_errno(err, "timerfd");
		sandbox_destroy(&s->sb, NULL);
		remove_state_dir(s->dir);
		return -1;
	}
	struct sandbox_state *st = &s->state;
	snprintf(st->id, sizeof st->id, "%s", s->sb.id);
	snprintf(st->template_name, sizeof st->template_name, "%s", spec->tmpl->name);
	st->supervisor_pid = getpid();
	st->init_pid = s->sb.init_pid;
	st->created_ms = s->sb.created_ms;
	st->deadline_ms = timeout_ms ? s->sb.created_ms + (long long)timeout_ms : 0;
	st->resources = spec->resources;
	st->has_entrypoint = spec->entry_argv != NULL;
	st->cgroup = s->sb.cgroup;
	st->id_slot = s->sb.has_id_slot ? (int)s->sb.id_slot : -1;
	if (spec->owner)
		snprintf(st->owner, sizeof st->owner, "%s", spec->owner);
	if (pool_key) {
		snprintf(st->pool_key, sizeof st->pool_key, "%s", pool_key);
		/* Marked warm before the state is published: a pool sandbox is
		 * then either marked (warm) or claimed, never something between
		 * that pool drain could mistake for claimed. */
		if (warmpool_mark(st, err) < 0) {
			sandbox_destroy(&s->sb, NULL);
			remove_state_dir(s->dir);
			return -1;
		}
	}
	arm_timer(s);
	dir_file(s->dir, "state.json", path, sizeof path);
	if (sandbox_state_write(path, st, err) < 0) {
		sandbox_destroy(&s->sb, NULL);
		remove_state_dir(s->dir);
		return -1;
	}
	return 0;
}

static __attribute__((noreturn)) void supervisor_daemon(const struct sandbox_spec *spec,
							uint64_t timeout_ms, const char *pool_key,
							int ready_fd)
{
	setsid();
	/* Keep nothing the starter had open but the ready pipe: a lock or a
	 * pipe to a shell must not live as long as the sandbox. */
	if (ready_fd > 3)
		syscall(SYS_close_range, 3u, (unsigned)ready_fd - 1, 0u);
	syscall(SYS_close_range, (unsigned)ready_fd + 1, ~0u, 0u);
	if (chdir("/") < 0)
		_exit(1);
	umask(022);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct supervisor *s = xcalloc(1, sizeof *s);
	s->log_fd = s->lock_fd = s->listen_fd = s->timer_fd = -1;
	s->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	struct evo_error err = {0};
	if (s->signal_fd < 0 || supervisor_setup(s, spec, timeout_ms, pool_key, &err) < 0) {
		if (s->signal_fd < 0)
			evo_error_errno(&err, "signalfd");
		char msg[EVO_ERROR_MSG_MAX + 32];
		int n = snprintf(msg, sizeof msg, "E%d %s", (int)err.kind, err.msg);
		(void)!write(ready_fd, msg, (size_t)n);
		_exit(1);
	}
	char msg[SANDBOX_ID_MAX + 2];
	int n = snprintf(msg, sizeof msg, "K%s", s->sb.id);
	(void)!write(ready_fd, msg, (size_t)n);
	close(ready_fd);
	supervisor_loop(s);
}

int supervisor_start(const struct sandbox_spec *spec, uint64_t timeout_ms, const char *pool_key,
		     char id_out[SANDBOX_ID_MAX], struct evo_error *err)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return evo_error_errno(err, "pipe");
	/* Resolve once here so a broken cgroup setup is reported directly. */
	const struct cgroup_root *root;
	if (sandbox_cgroup_root(&root, err) < 0) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(ready[0]);
		close(ready[1]);
		return evo_error_errno(err, "fork supervisor");
	}
	if (pid == 0) {
		close(ready[0]);
		/* Fork twice so the daemon is not our child: it must outlive us
		 * and never become a zombie of ours. */
		pid_t daemon = fork();
		if (daemon == 0)
			supervisor_daemon(spec, timeout_ms, pool_key, ready[1]);
		_exit(daemon < 0 ? 1 : 0);
	}
	close(ready[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	char msg[EVO_ERROR_MSG_MAX + 32];
	ssize_t n;
	do
		n = read(ready[0], msg, sizeof msg - 1);
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	if (n <= 0)
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "supervisor died during start-up");
	msg[n] = '\0';
	if (msg[0] == 'K') {
		snprintf(id_out, SANDBOX_ID_MAX, "%s", msg + 1);
		return 0;
	}
	int kind = EVO_ERR_INTERNAL;
	char *text = msg;
	if (msg[0] == 'E') {
		kind = (int)strtol(msg + 1, &text, 10);
		if (*text == ' ')
			text++;
	}
	return evo_error_set(err, (enum evo_error_kind)kind, 0, "%s", text);
}

/* ---- finding and cleaning up ------------------------------------------- */

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **supervisor_list_ids(void)
{
	char base[PATH_MAX];
	sandboxes_dir(base, sizeof base);
	size_t n = 0, cap = 16;
	char **ids = xcalloc(cap, sizeof *ids);
	DIR *d = opendir(base);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' || !sandbox_id_valid(e->d_name))
				continue;
			if (n + 2 > cap) {
				cap *= 2;
				ids = xrealloc(ids, cap * sizeof *ids);
			}
			ids[n++] = xstrdup(e->d_name);
		}
		closedir(d);
	}
	ids[n] = NULL;
	qsort(ids, n, sizeof *ids, compare_strings);
	return ids;
}

/* If the supervisor of dir is dead (its lock is free), remove what it left
 * and return 1; 0 if it is alive; -1 if there is nothing there. */
static int clean_if_dead(const char *dir)
{
	char path[PATH_MAX];
	dir_file(dir, "lock", path, sizeof path);
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		struct stat st;
		if (stat(dir, &st) < 0)
			return -1;
		/* A dir without a lock file is a supervisor in its first
		 * instructions, or debris: only debris is old. */
		if (time(NULL) - st.st_mtime < 30)
			return 0;
		remove_state_dir(dir);
		return 1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return 0;
	struct sandbox_state st;
	dir_file(dir, "state.json", path, sizeof path);
	if (sandbox_state_read(path, &st, NULL) == 0) {
		if (st.pool_key[0])
			warmpool_forget(&st);
		if (cgroup_destroy(&st.cgroup, 5000, NULL) == 0 && st.id_slot >= 0)
			idrange_release((uint32_t)st.id_slot, st.id);
	} else {
		/* No state yet: a supervisor may be between creating its lock
		 * file and locking it. Only an old directory is debris. */
		struct stat sb;
		if (stat(dir, &sb) == 0 && time(NULL) - sb.st_mtime < 30)
			return 0;
	}
	remove_state_dir(dir);
	return 1;
}

int supervisor_info(const char *id, struct sandbox_state *out, struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	if (!sandbox_id_valid(id))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "invalid sandbox id \"%.64s\"", id);
	char dir[PATH_MAX], path[PATH_MAX];
	supervisor_dir(id, dir, sizeof dir);
	if (clean_if_dead(dir) != 0)
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no sandbox %s (not running)", id);
	dir_file(dir, "state.json", path, sizeof path);
	if (sandbox_state_read(path, out, err) < 0) {
		if (err)
			err->kind = EVO_ERR_NOT_FOUND;
		return evo_error_prefix(err, "sandbox %s is starting or gone", id);
	}
	return 0;
}

int supervisor_kill(const char *id, struct evo_error *err)
{
	if (!sandbox_id_valid(id))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "invalid sandbox id \"%.64s\"", id);
	char dir[PATH_MAX], sock[PATH_MAX];
	supervisor_dir(id, dir, sizeof dir);
	supervisor_socket_path(id, sock, sizeof sock);
	int fd = channel_connect(sock, NULL);
	if (fd < 0) {
		if (clean_if_dead(dir) != 0)
			return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no sandbox %s (not running)", id);
		return evo_error_set(err, EVO_ERR_CONFLICT, 0,
				     "sandbox %s is still starting; try again", id);
	}
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, 1, EVO_MSG_SUP_KILL, 0);
	evo_frame_end(&b, m);
	int r = channel_send_all(fd, &b, err);
	evo_buf_free(&b);
	if (r < 0) {
		close(fd);
		return evo_error_prefix(err, "kill sandbox %s", id);
	}
	/* The supervisor answers once nothing of the sandbox remains, then
	 * exits; wait for its OK, or for the connection to close. */
	_cleanup_free_ uint8_t *buf = xmalloc(EVO_PROTO_MAX_FRAME);
	for (;;) {
		struct evo_frame f;
		r = channel_recv(fd, buf, &f, 30000, err);
		if (r <= 0)
			break;
		if (f.stream != 1)
			continue;
		if (f.type == EVO_MSG_ERROR) {
			channel_error_from_frame(&f, err);
			r = -1;
		}
		break;
	}
	close(fd);
	if (r < 0)
		return evo_error_prefix(err, "kill sandbox %s", id);
	/* Wait for the supervisor to release its lock: it has then exited. */
	if (!supervisor_wait(id, 30000))
		return evo_error_set(err, EVO_ERR_SYSTEM, 0,
				     "sandbox %s: its supervisor has not exited 30 s after the kill", id);
	return 0;
}

bool supervisor_wait(const char *id, int timeout_ms)
{
	char dir[PATH_MAX], lock[PATH_MAX];
	supervisor_dir(id, dir, sizeof dir);
	dir_file(dir, "lock", lock, sizeof lock);
	_cleanup_close_ int fd = open(lock, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return true;
	/* Granted when the supervisor has exited. Polled: flock has no
	 * timeout, and a stuck sandbox must not hang its waiter. */
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 10) {
		if (waited >= timeout_ms)
			return false;
		usleep(10000);
	}
	return true;
}

static bool cgroup_name_is_live(const char *name, void *ctx)
{
	(void)ctx;
	char dir[PATH_MAX];
	supervisor_dir(name, dir, sizeof dir);
	return access(dir, F_OK) == 0;
}

/* A sandbox is live while its state directory or its cgroup exists (a
 * foreground `run` has only the latter). */
static bool sandbox_is_live(const char *id, void *ctx)
{
	const struct cgroup_root *root = ctx;
	if (!sandbox_id_valid(id))
		return false;
	if (cgroup_name_is_live(id, NULL))
		return true;
	char path[CGROUP_PATH_MAX * 2];
	snprintf(path, sizeof path, "%s/%s", root->base[0], id);
	return access(path, F_OK) == 0;
}

/* End notes are for an owner coming back after a crash; one that has not
 * in a day is not coming back. */
static void remove_stale_end_notes(void)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/ended", evo_paths_get()->run);
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, 0) < 0)
			continue;
		if (S_ISREG(st.st_mode) && now - st.st_mtime > END_NOTE_MAX_AGE_S)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int supervisor_collect_garbage(void)
{
	int cleaned = 0;
	char **ids = supervisor_list_ids();
	for (char **id = ids; *id; id++) {
		char dir[PATH_MAX];
		supervisor_dir(*id, dir, sizeof dir);
		if (clean_if_dead(dir) == 1)
			cleaned++;
	}
	for (char **id = ids; *id; id++)
		free(*id);
	free(ids);
	const struct cgroup_root *root;
	if (sandbox_cgroup_root(&root, NULL) == 0) {
		cleaned += cgroup_collect_garbage(root, cgroup_name_is_live, NULL);
		idrange_collect_garbage(sandbox_is_live, (void *)root);
	}
	remove_stale_end_notes();
	return cleaned;
}

int supervisor_end_read(const char *id, bool remove, struct supervisor_end *out,
			struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	if (!sandbox_id_valid(id))
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no end record for \"%.64s\"", id);
	char path[PATH_MAX];
	ended_path(id, path, sizeof path);
	json_error_t jerr;
	json_t *rec = json_load_file(path, 0, &jerr);
	if (rec == NULL)
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no end record for %s", id);
	const char *owner = "", *reason = "";
	int code = -1, sig = 0, oom = 0;
	json_int_t ended = 0;
	int r = json_unpack(rec, "{s:s, s:s, s:i, s:i, s:b, s:I}", "owner", &owner, "reason",
			    &reason, "exit_code", &code, "signal", &sig, "oom", &oom, "ended_ms",
			    &ended);
	if (r == 0) {
		snprintf(out->owner, sizeof out->owner, "%s", owner);
		snprintf(out->reason, sizeof out->reason, "%s", reason);
		out->exit_code = code;
		out->signal = sig;
		out->oom = oom;
		out->ended_ms = ended;
	}
	json_decref(rec);
	if (remove)
		unlink(path);
	if (r < 0)
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "%s: not an end record", path);
	return 0;
}

int supervisor_end_sweep(const char *owner)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/ended", evo_paths_get()->run);
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char id[SANDBOX_ID_MAX];
		size_t len = strlen(e->d_name);
		if (len < 6 || len - 5 >= sizeof id || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		memcpy(id, e->d_name, len - 5);
		id[len - 5] = '\0';
		struct supervisor_end end;
		if (supervisor_end_read(id, false, &end, NULL) == 0 && strcmp(end.owner, owner) == 0) {
			char path[PATH_MAX];
			ended_path(id, path, sizeof path);
			if (unlink(path) == 0)
				n++;
		}
	}
	closedir(d);
	return n;
}
