/* The event loop: one thread, one epoll set holding the channel, a
 * signalfd and every process pipe. Replies and output go through one FIFO
 * queue of frames, so everything for a stream leaves in the order it was
 * produced; a full queue stops the producers (backpressure) instead of
 * growing without bound. */
#include "guest/init.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "common/cleanup.h"

/* One queued record, sent whole or not at all (SEQPACKET). */
struct init_out_frame {
	struct init_out_frame *next;
	size_t len;
	uint8_t data[];
};

/* Signals init passes on to the entrypoint's process group. */
static const int forwarded_signals[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

/* Ask the kernel for a send buffer that holds several full frames, so a
 * burst of output is not one EPOLLOUT round trip per frame. The kernel
 * caps it at net.core.wmem_max; a smaller buffer only costs wakeups. */
#define CHANNEL_SNDBUF (4 << 20)

static int handle_ping(void *ctx, struct init_request *req, struct evo_buf *out,
		       struct evo_error *err)
{
	size_t mark = evo_frame_begin(out, req->stream, EVO_MSG_OK, 0);
	evo_frame_end(out, mark);
	return 0;
}

static const struct init_handlers loop_handlers = {
	.handle = {
		[EVO_MSG_PROC_START] = init_process_start,
		[EVO_MSG_PROC_STDIN] = init_process_stdin,
		[EVO_MSG_PROC_CLOSE_STDIN] = init_process_close_stdin,
		[EVO_MSG_PROC_SIGNAL] = init_process_signal,
		[EVO_MSG_PROC_LIST] = init_process_list,
		[EVO_MSG_FILE_READ] = init_files_read,
		[EVO_MSG_FILE_WRITE] = init_files_write,
		[EVO_MSG_FILE_LIST] = init_files_list,
		[EVO_MSG_FILE_STAT] = init_files_stat,
		[EVO_MSG_FILE_MKDIR] = init_files_mkdir,
		[EVO_MSG_FILE_REMOVE] = init_files_remove,
		[EVO_MSG_FILE_RENAME] = init_files_rename,
		[EVO_MSG_PING] = handle_ping,
		[EVO_MSG_FILE_WATCH] = init_watch_start,
		[EVO_MSG_FILE_UNWATCH] = init_watch_stop,
	},
};

int64_t init_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int init_loop_watch(struct init_loop *l, struct init_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	int op = w->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	assert(w->fd >= 0);
	/* Only an ADD can fail here (ENOMEM, or ENOSPC: max_user_watches,
	 * which counts per host user and so across sandboxes); callers
	 * decline what they cannot watch instead of taking init down. */
	if (epoll_ctl(l->epoll_fd, op, w->fd, &ev) < 0)
		return -1;
	w->registered = true;
	return 0;
}

void init_loop_unwatch(struct init_loop *l, struct init_watch *w)
{
	if (!w->registered)
		return;
	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL) < 0) {
		fprintf(stderr, "evoclaw-init: epoll_ctl(DEL fd %d): %s\n", w->fd, strerror(errno));
		abort();
	}
	w->registered = false;
}

int init_loop_init(struct init_loop *l, int channel_fd, struct evo_error *err)
{
	memset(l, 0, sizeof *l);
	l->is_pid1 = getpid() == 1;
	l->epoll_fd = -1;
	l->signals = (struct init_watch){ .kind = INIT_WATCH_SIGNALS, .fd = -1 };
	l->channel = (struct init_watch){ .kind = INIT_WATCH_CHANNEL, .fd = channel_fd };
	l->out_tail = &l->out_head;
	l->record = xmalloc(EVO_PROTO_MAX_FRAME);
	l->chunk = xmalloc(EVO_PROTO_CHUNK);

	/* Writing to the stdin pipe of a process that closed it must be an
	 * EPIPE to handle, not a signal that kills init. */
	signal(SIGPIPE, SIG_IGN);

	/* Signals are read from a signalfd, in order with everything else;
	 * they must be blocked for that, and children unblock them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
		sigaddset(&set, forwarded_signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return evo_error_errno(err, "cannot block signals");
	l->signals.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->signals.fd < 0)
		return evo_error_errno(err, "cannot create a signalfd");

	l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epoll_fd < 0)
		return evo_error_errno(err, "cannot create an epoll instance");

	int flags = fcntl(channel_fd, F_GETFL);
	if (flags < 0 || fcntl(channel_fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(channel_fd, F_SETFD, FD_CLOEXEC) < 0)
		return evo_error_errno(err, "cannot make the channel (fd %d) non-blocking", channel_fd);
	int sndbuf = CHANNEL_SNDBUF;
	(void)setsockopt(channel_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

	if (init_loop_watch(l, &l->signals, EPOLLIN) < 0)
		return evo_error_errno(err, "watch signals");
	l->channel_events = EPOLLIN | EPOLLRDHUP;
	if (init_loop_watch(l, &l->channel, l->channel_events) < 0)
		return evo_error_errno(err, "watch the channel");
	return 0;
}

static void queue_free(struct init_loop *l)
{
	while (l->out_head != NULL) {
		struct init_out_frame *f = l->out_head;
		l->out_head = f->next;
		free(f);
	}
	l->out_tail = &l->out_head;
	l->out_bytes = 0;
}

void init_loop_free(struct init_loop *l)
{
	init_process_kill_all(l);
	init_process_free_graveyard(l);
	init_files_free_all(l);
	init_watch_free_all(l);
	queue_free(l);
	if (l->epoll_fd >= 0)
		close(l->epoll_fd);
	if (l->signals.fd >= 0)
		close(l->signals.fd);
	if (l->channel.fd >= 0)
		close(l->channel.fd);
	free(l->record);
	free(l->chunk);
	memset(l, 0, sizeof *l);
	l->epoll_fd = l->signals.fd = l->channel.fd = -1;
}

bool init_loop_congested(const struct init_loop *l)
{
	return l->out_bytes >= INIT_QUEUE_HIGH;
}

bool init_loop_stream_busy(const struct init_loop *l, uint32_t stream)
{
	return init_process_stream_busy(l, stream) || init_files_stream_busy(l, stream) ||
	       init_watch_stream_busy(l, stream);
}

void init_loop_queue(struct init_loop *l, struct evo_buf *frames)
{
	size_t pos = 0;

	while (pos < frames->len && !l->channel_lost) {
		struct evo_frame f;
		ssize_t used = evo_frame_parse(frames->data + pos, frames->len - pos, &f, NULL);
		/* Init builds these frames itself: anything else is a bug. */
		assert(used > 0);
		struct init_out_frame *node = xmalloc(sizeof *node + (size_t)used);
		node->next = NULL;
		node->len = (size_t)used;
		memcpy(node->data, frames->data + pos, (size_t)used);
		*l->out_tail = node;
		l->out_tail = &node->next;
		l->out_bytes += sizeof *node + (size_t)used;
		pos += (size_t)used;
	}
	evo_buf_free(frames);
	if (!l->pipes_paused && init_loop_congested(l)) {
		l->pipes_paused = true;
		init_process_pause_output(l, true);
	}
}

/* The host is gone: nobody can reach init or its processes any more. */
static void channel_lost(struct init_loop *l, int errnum)
{
	if (l->channel_lost)
		return;
	/* EPIPE/ECONNRESET are just the host closing while frames were in
	 * flight; anything else deserves a line on stderr. */
	if (errnum != 0 && errnum != EPIPE && errnum != ECONNRESET)
		fprintf(stderr, "evoclaw-init: channel failed (%s); killing all processes\n",
			strerror(errnum));
	l->channel_lost = true;
	queue_free(l);
	init_loop_shutdown(l, 0);
}

static void queue_flush(struct init_loop *l)
{
	while (l->out_head != NULL && !l->channel_lost) {
		struct init_out_frame *f = l->out_head;
		ssize_t n = send(l->channel.fd, f->data, f->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno != EMSGSIZE) {
				channel_lost(l, errno);
				return;
			}
			/* The host shrank its buffers below one frame; this
			 * frame can never go, the next ones may. */
			fprintf(stderr, "evoclaw-init: dropped a %zu-byte %s frame: %s\n", f->len,
				evo_msg_type_name(f->data[8]), strerror(errno));
		}
		l->out_head = f->next;
		if (l->out_head == NULL)
			l->out_tail = &l->out_head;
		l->out_bytes -= sizeof *f + f->len;
		free(f);
	}
	if (l->pipes_paused && l->out_bytes < INIT_QUEUE_LOW) {
		l->pipes_paused = false;
		init_process_pause_output(l, false);
	}
}

/* Register the channel for what the loop can act on now: requests unless
 * shutting down or flooded with replies, and writability while frames wait. */
static void channel_update_events(struct init_loop *l)
{
	if (l->channel_lost)
		return;
	uint32_t want = EPOLLRDHUP;
	if (!l->exiting && l->out_bytes < INIT_QUEUE_INPUT_LIMIT)
		want |= EPOLLIN;
	if (l->out_head != NULL)
		want |= EPOLLOUT;
	if (want != l->channel_events) {
		if (init_loop_watch(l, &l->channel, want) < 0)
			abort(); /* a MOD of a registered fd does not fail */
		l->channel_events = want;
	}
}

/* recv() gives 0 both for an empty record and at end of stream; only a
 * hung-up peer makes it the latter. */
static bool channel_hung_up(const struct init_loop *l)
{
	struct pollfd pfd = { .fd = l->channel.fd, .events = POLLRDHUP };
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void channel_read(struct init_loop *l)
{
	/* A bounded batch per wakeup keeps pipes and signals served while a
	 * host floods requests. */
	for (int i = 0; i < 64; i++) {
		if (l->exiting || l->out_bytes >= INIT_QUEUE_INPUT_LIMIT)
			return;
		struct iovec iov = { .iov_base = l->record, .iov_len = EVO_PROTO_MAX_FRAME };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		/* MSG_TRUNC makes recvmsg return the record's real length, so an
		 * oversized record is recognised instead of silently cut. */
		ssize_t n = recvmsg(l->channel.fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				channel_lost(l, errno);
			return;
		}
		struct evo_buf out = {0};
		if (n == 0) {
			if (channel_hung_up(l)) {
				channel_lost(l, 0);
				return;
			}
			evo_frame_error(&out, 0, EBADMSG,
					"empty record: a frame needs at least its 12-byte header");
		} else if ((size_t)n > EVO_PROTO_MAX_FRAME || (msg.msg_flags & MSG_TRUNC)) {
			char text[128];
			snprintf(text, sizeof text, "record of %zd bytes exceeds the %u-byte frame maximum",
				 n, EVO_PROTO_MAX_FRAME);
			evo_frame_error(&out, evo_frame_peek_stream(l->record, EVO_PROTO_MAX_FRAME),
					EMSGSIZE, text);
		} else {
			init_dispatch_record(&loop_handlers, l, l->record, (size_t)n, &out);
		}
		/* A request may have changed /etc/passwd (a file written, a
		 * process started); only the first one may use the copy read at
		 * start. */
		init_passwd_forget();
		init_loop_queue(l, &out);
	}
}

static void channel_event(struct init_loop *l, uint32_t events)
{
	if (l->channel_lost)
		return;
	if (events & EPOLLIN)
		channel_read(l);
	else if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		channel_lost(l, 0);
}

static void signals_read(struct init_loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->signals.fd, &si, sizeof si) == (ssize_t)sizeof si) {
		int sig = (int)si.ssi_signo;
		if (sig == SIGCHLD) {
			init_process_reap(l);
			continue;
		}
		/* As PID 1 of a sandbox, only the host (sender pid 0 from
		 * here) may stop it or signal its entrypoint through init; root
		 * inside the sandbox may not. */
		if (l->is_pid1 && si.ssi_pid != 0)
			continue;
		if (init_process_forward_signal(l, sig))
			continue;
		/* Without an entrypoint to pass it to, a termination request
		 * is for init itself. */
		if (sig == SIGTERM || sig == SIGINT)
			init_loop_shutdown(l, 0);
	}
}

void init_loop_shutdown(struct init_loop *l, int status)
{
	if (l->exiting)
		return;
	l->exiting = true;
	l->exit_status = status;
	l->exit_deadline_ms = init_now_ms() + INIT_EXIT_FLUSH_SECONDS * 1000;
	init_process_kill_all(l);
	init_files_free_all(l);
	init_watch_free_all(l);
}

int init_loop_run(struct init_loop *l)
{
	struct epoll_event events[64];

	for (;;) {
		bool reads_pending = !l->exiting && init_files_pump(l);
		queue_flush(l);
		if (l->exiting) {
			if (l->channel_lost || l->out_head == NULL)
				break;
			if (init_now_ms() >= l->exit_deadline_ms) {
				fprintf(stderr, "evoclaw-init: the host did not take the last %zu bytes; exiting\n",
					l->out_bytes);
				break;
			}
		}
		channel_update_events(l);

		int timeout = -1;
		if (reads_pending && !init_loop_congested(l))
			timeout = 0;
		if (l->exiting) {
			int64_t left = l->exit_deadline_ms - init_now_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		int n = epoll_wait(l->epoll_fd, events, (int)(sizeof events / sizeof events[0]), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "evoclaw-init: epoll_wait: %s\n", strerror(errno));
			init_loop_shutdown(l, 1);
			break;
		}
		for (int i = 0; i < n; i++) {
			struct init_watch *w = events[i].data.ptr;
			switch (w->kind) {
			case INIT_WATCH_CHANNEL:
				channel_event(l, events[i].events);
				break;
			case INIT_WATCH_SIGNALS:
				signals_read(l);
				break;
			case INIT_WATCH_STDOUT:
			case INIT_WATCH_STDERR:
			case INIT_WATCH_STDIN:
				init_process_event(l, w, events[i].events);
				break;
			case INIT_WATCH_DIR:
				init_watch_event(l, w);
				break;
			}
		}
		init_process_free_graveyard(l);
		init_watch_free_graveyard(l);
	}
	return l->exit_status;
}
