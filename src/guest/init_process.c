/* Processes: start one per stream, stream its stdout/stderr as frames,
 * feed its stdin, signal its process group, and report its exit once its
 * pipes are drained. Every started process leads its own session, so
 * "the process" in a signal means its whole process group. */
#include "guest/init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"

/* At exit a pipe is read until empty, but no further than this: a
 * backgrounded grandchild that keeps the pipe open and writing must not
 * hold the PROC_EXIT back forever. It is well above any pipe's capacity. */
#define DRAIN_MAX (2u << 20)
/* PROC_LIST stops adding ARGV/ENV strings to an entry beyond this size,
 * so that every entry fits a frame whatever was started. */
#define LIST_ENTRY_MAX (64u * 1024u)

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum stdin_state {
	STDIN_NONE,    /* started without STDIN: stdin is /dev/null */
	STDIN_OPEN,
	STDIN_CLOSING, /* CLOSE_STDIN received, queued data still to write */
	STDIN_CLOSED,  /* closed by CLOSE_STDIN */
	STDIN_BROKEN,  /* the program closed its end */
};

struct init_process {
	struct init_process *next;
	uint32_t stream;
	pid_t pid;
	bool entrypoint;
	/* As requested, for PROC_LIST. */
	char *tag;
	char *cwd;
	char **argv;
	size_t argc;
	char **env;
	size_t envc;
	struct init_watch out;
	struct init_watch err;
	struct init_watch in;
	enum stdin_state stdin_state;
	/* Unwritten stdin is data[stdin_off..len). */
	struct evo_buf stdin_buf;
	size_t stdin_off;
};

static void strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void cleanup_strvp(char ***v)
{
	strv_free(*v);
}

static struct init_process *process_by_stream(const struct init_loop *l, uint32_t stream)
{
	for (struct init_process *p = l->procs; p != NULL; p = p->next)
		if (p->stream == stream)
			return p;
	return NULL;
}

static struct init_process *process_by_pid(const struct init_loop *l, pid_t pid)
{
	for (struct init_process *p = l->procs; p != NULL; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

bool init_process_stream_busy(const struct init_loop *l, uint32_t stream)
{
	return process_by_stream(l, stream) != NULL;
}

static void watch_close(struct init_loop *l, struct init_watch *w)
{
	if (w->fd < 0)
		return;
	init_loop_unwatch(l, w);
	close(w->fd);
	w->fd = -1;
}

/* Remove p from the running list; it is freed after the current batch of
 * events, which may still hold pointers to its watches. */
static void process_bury(struct init_loop *l, struct init_process *p)
{
	for (struct init_process **pp = &l->procs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	watch_close(l, &p->out);
	watch_close(l, &p->err);
	watch_close(l, &p->in);
	evo_buf_free(&p->stdin_buf);
	p->next = l->graveyard;
	l->graveyard = p;
}

void init_process_free_graveyard(struct init_loop *l)
{
	while (l->graveyard != NULL) {
		struct init_process *p = l->graveyard;
		l->graveyard = p->next;
		free(p->tag);
		free(p->cwd);
		strv_free(p->argv);
		strv_free(p->env);
		free(p);
	}
}

/* The environment a process runs with: the requested one, plus PATH and
 * HOME unless it sets them. Returns a NULL-terminated vector the caller
 * frees. */
static char **process_env(const struct init_request *req, const char *home)
{
	char **env = xcalloc(req->envc + 3, sizeof *env);
	bool has_path = false, has_home = false;
	size_t n = 0;

	for (size_t i = 0; i < req->envc; i++) {
		has_path |= strncmp(req->env[i], "PATH=", 5) == 0;
		has_home |= strncmp(req->env[i], "HOME=", 5) == 0;
		env[n++] = xstrdup(req->env[i]);
	}
	if (!has_path)
		env[n++] = xstrdup(DEFAULT_PATH);
	if (!has_home)
		env[n++] = xasprintf("HOME=%s", home);
	env[n] = NULL;
	return env;
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int report_child_failure(const struct init_child_report *r, const struct init_request *req,
				const struct init_child_spec *spec, struct evo_error *err)
{
	switch ((enum init_child_step)r->step) {
	case INIT_STEP_SESSION:
		return evo_error_set(err, EVO_ERR_SYSTEM, r->errnum, "cannot start a new session");
	case INIT_STEP_STDIO:
		return evo_error_set(err, EVO_ERR_SYSTEM, r->errnum, "cannot set up stdin/stdout/stderr");
	case INIT_STEP_CAPS:
		return evo_error_set(err, EVO_ERR_SYSTEM, r->errnum, "cannot drop capabilities");
	case INIT_STEP_GROUPS:
		return evo_error_set(err, EVO_ERR_SYSTEM, r->errnum,
				     "cannot set the supplementary groups to {%u}", (unsigned)spec->gid);
	case INIT_STEP_GID:
		return evo_error_set(err, EVO_ERR_SYSTEM, r->errnum, "cannot switch to gid %u",
				     (unsigned)spec->gid);
	case INIT_STEP_UID:
		return evo_error_set(err, EVO_ERR_SYSTEM, r->errnum, "cannot switch to uid %u",
				     (unsigned)spec->uid);
	case INIT_STEP_CWD:
		return evo_error_set(err, EVO_ERR_SYSTEM, r->errnum, "cannot change directory to '%s'",
				     spec->cwd != NULL ? spec->cwd : "/");
	case INIT_STEP_EXEC:
		return evo_error_set(err, EVO_ERR_SYSTEM, r->errnum, "cannot execute '%s'",
				     req->argv[0]);
	}
	return evo_error_set(err, EVO_ERR_INTERNAL, r->errnum, "child failed at unknown step %d",
			     r->step);
}

/* A process whose pipes init cannot watch cannot be served: stop it, and
 * its exit (reported as usual) tells the client. */
static void watch_failed(struct init_process *p)
{
	fprintf(stderr, "evoclaw-init: cannot watch the pipes of pid %d: %s; killing it\n",
		(int)p->pid, strerror(errno));
	kill(-p->pid, SIGKILL);
	kill(p->pid, SIGKILL);
}

/* Stack for the child between clone and exec (execvpe builds candidate
 * paths on it). */
#define INIT_CHILD_STACK (256 * 1024)

static __attribute__((unused)) int child_trampoline(void *spec)
{
	init_child_exec(spec);
}

int init_process_spawn(struct init_loop *l, struct init_request *req, bool entrypoint,
		       struct evo_buf *out, struct evo_error *err)
{
	if (init_loop_stream_busy(l, req->stream))
		return evo_error_set(err, EVO_ERR_CONFLICT, 0, "stream %u is already in use",
				     req->stream);

	struct passwd_entry pw;
	uid_t uid = INIT_HAS(req, EVO_F_UID) ? req->uid : getuid();
	bool known_user = init_passwd_lookup(uid, &pw) == 0;
	/* The process may change /etc/passwd as soon as it runs. */
	init_passwd_forget();
	gid_t gid = INIT_HAS(req, EVO_F_GID) ? req->gid
		  : !INIT_HAS(req, EVO_F_UID) ? getgid()
		  : known_user ? pw.gid : uid;
	const char *home = known_user ? pw.home : uid == 0 ? "/root" : "/home/user";
	__attribute__((cleanup(cleanup_strvp))) char **envp = process_env(req, home);

	_cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
	_cleanup_close_ int in_r = -1, in_w = -1, report_r = -1, report_w = -1;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return evo_error_errno(err, "cannot create a stdout pipe");
	out_r = fds[0], out_w = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return evo_error_errno(err, "cannot create a stderr pipe");
	err_r = fds[0], err_w = fds[1];
	if (req->stdin_pipe) {
		if (pipe2(fds, O_CLOEXEC) < 0)
			return evo_error_errno(err, "cannot create a stdin pipe");
		in_r = fds[0], in_w = fds[1];
	}
	if (pipe2(fds, O_CLOEXEC) < 0)
		return evo_error_errno(err, "cannot create a pipe");
	report_r = fds[0], report_w = fds[1];
	/* Only init's ends are non-blocking; the program gets ordinary pipes. */
	if (set_nonblock(out_r) < 0 || set_nonblock(err_r) < 0 ||
	    (in_w >= 0 && set_nonblock(in_w) < 0))
		return evo_error_errno(err, "cannot make pipes non-blocking");

	struct init_child_spec spec = {
		.argv = req->argv,
		.envp = envp,
		.cwd = req->cwd,
		.home = home,
		.uid = uid,
		.gid = gid,
		.stdin_fd = in_r,
		.stdout_fd = out_w,
		.stderr_fd = err_w,
		.report_fd = report_w,
	};
	/* Like posix_spawn: the child borrows init's memory until it execs,
	 * and init waits for that (CLONE_VFORK). Copying init's page tables
	 * for a fork costs more than the whole child setup here. AddressSanitizer
	 * cannot follow code on a stack it did not allocate, so its builds
	 * fork (the UBSan-only static init still takes this path). */
#if defined(__SANITIZE_ADDRESS__)
	pid_t pid = fork();
	if (pid == 0)
		init_child_exec(&spec);
#else
	static char *child_stack;
	if (child_stack == NULL) {
		child_stack = mmap(NULL, INIT_CHILD_STACK, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (child_stack == MAP_FAILED) {
			child_stack = NULL;
			return evo_error_errno(err, "cannot allocate a stack to start processes");
		}
	}
	pid_t pid = clone(child_trampoline, child_stack + INIT_CHILD_STACK,
			  CLONE_VM | CLONE_VFORK | SIGCHLD, &spec);
#endif
	if (pid < 0)
		return evo_error_errno(err, "cannot start a process");

	close(steal_fd(&report_w));
	/* Blocks until the child execs (EOF) or reports a failure: a few
	 * syscalls, and the only way to turn ENOENT into an error reply. */
	struct init_child_report report;
	ssize_t n;
	do
		n = read(report_r, &report, sizeof report);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof report) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return report_child_failure(&report, req, &spec, err);
	}

	struct init_process *p = xcalloc(1, sizeof *p);
	p->stream = req->stream;
	p->pid = pid;
	p->entrypoint = entrypoint;
	p->tag = steal_pointer(&req->tag);
	p->cwd = steal_pointer(&req->cwd);
	p->argv = steal_pointer(&req->argv);
	p->argc = req->argc;
	p->env = steal_pointer(&req->env);
	p->envc = req->envc;
	p->out = (struct init_watch){ .kind = INIT_WATCH_STDOUT, .fd = steal_fd(&out_r), .proc = p };
	p->err = (struct init_watch){ .kind = INIT_WATCH_STDERR, .fd = steal_fd(&err_r), .proc = p };
	p->in = (struct init_watch){ .kind = INIT_WATCH_STDIN, .fd = steal_fd(&in_w), .proc = p };
	p->stdin_state = p->in.fd >= 0 ? STDIN_OPEN : STDIN_NONE;
	if (!l->pipes_paused &&
	    (init_loop_watch(l, &p->out, EPOLLIN) < 0 || init_loop_watch(l, &p->err, EPOLLIN) < 0))
		watch_failed(p);
	/* Appended, so PROC_LIST shows processes in start order. */
	struct init_process **tail = &l->procs;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = p;

	size_t mark = evo_frame_begin(out, p->stream, EVO_MSG_PROC_STARTED, 0);
	evo_frame_add_u32(out, EVO_F_PID, (uint32_t)pid);
	evo_frame_end(out, mark);
	return 0;
}

int init_process_start(void *ctx, struct init_request *req, struct evo_buf *out,
		       struct evo_error *err)
{
	/* Stream 1 is the entrypoint's, whether it came on the command line
	 * or, as the runtime sends it (keeping its environment out of init's
	 * argv, which /proc shows to everyone), as the first request. */
	struct init_loop *l = ctx;
	bool entrypoint = req->stream == EVO_ENTRYPOINT_STREAM;
	int r = init_process_spawn(l, req, entrypoint, out, err);
	if (r < 0 && entrypoint && l->exit_with_entrypoint)
		init_loop_shutdown(l, init_error_errno(err) == ENOENT ? 127 : 126);
	return r;
}

/* Read one chunk from an output pipe and queue it as a frame. Returns the
 * bytes read, 0 if the pipe is empty for now, -1 once it is closed. */
static ssize_t pipe_read_chunk(struct init_loop *l, struct init_process *p, struct init_watch *w)
{
	ssize_t n;
	do
		n = read(w->fd, l->chunk, EVO_PROTO_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		watch_close(l, w);
		return -1;
	}
	struct evo_buf frame = {0};
	uint8_t type = w->kind == INIT_WATCH_STDOUT ? EVO_MSG_PROC_STDOUT : EVO_MSG_PROC_STDERR;
	size_t mark = evo_frame_begin(&frame, p->stream, type, 0);
	evo_frame_add(&frame, EVO_F_DATA, l->chunk, (uint32_t)n);
	evo_frame_end(&frame, mark);
	init_loop_queue(l, &frame);
	return n;
}

static void pipe_drain(struct init_loop *l, struct init_process *p, struct init_watch *w)
{
	size_t total = 0;
	ssize_t n;
	while (w->fd >= 0 && total < DRAIN_MAX && (n = pipe_read_chunk(l, p, w)) > 0)
		total += (size_t)n;
	watch_close(l, w);
}

static void stdin_close(struct init_loop *l, struct init_process *p, enum stdin_state state)
{
	watch_close(l, &p->in);
	evo_buf_free(&p->stdin_buf);
	p->stdin_off = 0;
	p->stdin_state = state;
}

/* Write queued stdin until the pipe is full; watch for room if it is. */
static void stdin_flush(struct init_loop *l, struct init_process *p)
{
	while (p->stdin_off < p->stdin_buf.len) {
		ssize_t n = write(p->in.fd, p->stdin_buf.data + p->stdin_off,
				  p->stdin_buf.len - p->stdin_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if (init_loop_watch(l, &p->in, EPOLLOUT) < 0)
					watch_failed(p);
				return;
			}
			/* EPIPE: the program closed its stdin. What it did not
			 * read is lost, as with any pipe. */
			stdin_close(l, p, STDIN_BROKEN);
			return;
		}
		p->stdin_off += (size_t)n;
	}
	p->stdin_buf.len = 0;
	p->stdin_off = 0;
	init_loop_unwatch(l, &p->in);
	if (p->stdin_state == STDIN_CLOSING)
		stdin_close(l, p, STDIN_CLOSED);
}

void init_process_event(struct init_loop *l, struct init_watch *w, uint32_t events)
{
	struct init_process *p = w->proc;

	/* The event may have been fetched before its pipe was closed in the
	 * same batch, or before output was paused. */
	if (w->fd < 0)
		return;
	switch (w->kind) {
	case INIT_WATCH_STDOUT:
	case INIT_WATCH_STDERR:
		if (!l->pipes_paused)
			pipe_read_chunk(l, p, w);
		break;
	case INIT_WATCH_STDIN:
		stdin_flush(l, p);
		break;
	case INIT_WATCH_CHANNEL:
	case INIT_WATCH_SIGNALS:
	case INIT_WATCH_DIR:
		break;
	}
}

void init_process_pause_output(struct init_loop *l, bool pause)
{
	/* Removed from epoll rather than masked: a pipe whose writer has gone
	 * reports EPOLLHUP whatever the mask, which would spin the loop. */
	for (struct init_process *p = l->procs; p != NULL; p = p->next) {
		struct init_watch *pipes[] = { &p->out, &p->err };
		for (size_t i = 0; i < 2; i++) {
			if (pipes[i]->fd < 0)
				continue;
			if (pause)
				init_loop_unwatch(l, pipes[i]);
			else if (init_loop_watch(l, pipes[i], EPOLLIN) < 0)
				watch_failed(p);
		}
	}
}

/* p has exited: deliver what is left in its pipes, then PROC_EXIT. */
static void process_finish(struct init_loop *l, struct init_process *p, int status)
{
	pipe_drain(l, p, &p->out);
	pipe_drain(l, p, &p->err);

	int32_t code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	int32_t sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	struct evo_buf frame = {0};
	size_t mark = evo_frame_begin(&frame, p->stream, EVO_MSG_PROC_EXIT, 0);
	evo_frame_add_i32(&frame, EVO_F_EXIT_CODE, code);
	evo_frame_add_i32(&frame, EVO_F_SIGNAL, sig);
	evo_frame_end(&frame, mark);
	init_loop_queue(l, &frame);

	bool entrypoint = p->entrypoint;
	process_bury(l, p);
	if (entrypoint && l->exit_with_entrypoint)
		init_loop_shutdown(l, sig != 0 ? 128 + sig : code);
}

void init_process_reap(struct init_loop *l)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		/* Unknown children are orphans re-parented to init (PID 1 or
		 * subreaper); reaping them is all they need. */
		struct init_process *p = process_by_pid(l, pid);
		if (p != NULL)
			process_finish(l, p, status);
	}
}

static int process_kill(const struct init_process *p, int sig)
{
	/* The group first; the leader alone if its group is gone already. */
	if (kill(-p->pid, sig) == 0 || kill(p->pid, sig) == 0)
		return 0;
	return -1;
}

bool init_process_forward_signal(struct init_loop *l, int sig)
{
	for (struct init_process *p = l->procs; p != NULL; p = p->next) {
		if (p->entrypoint) {
			process_kill(p, sig);
			return true;
		}
	}
	return false;
}

void init_process_kill_all(struct init_loop *l)
{
	for (struct init_process *p = l->procs; p != NULL; p = p->next)
		process_kill(p, SIGKILL);
	/* Wait for them, so that nothing init started outlives it even when it
	 * is not PID 1 (as in tests). SIGKILL makes this short. */
	while (l->procs != NULL) {
		struct init_process *p = l->procs;
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		process_bury(l, p);
	}
}

/* The process running on stream, or NULL with err saying there is none. */
static struct init_process *running_on_stream(struct init_loop *l, uint32_t stream,
					      struct evo_error *err)
{
	struct init_process *p = process_by_stream(l, stream);
	if (p == NULL)
		evo_error_set(err, EVO_ERR_NOT_FOUND, ESRCH, "no running process on stream %u", stream);
	return p;
}

int init_process_stdin(void *ctx, struct init_request *req, struct evo_buf *out,
		       struct evo_error *err)
{
	struct init_loop *l = ctx;
	struct init_process *p = running_on_stream(l, req->stream, err);
	if (p == NULL)
		return -1;
	switch (p->stdin_state) {
	case STDIN_NONE:
		return evo_error_set(err, EVO_ERR_INVALID, EBADF,
				     "the process on stream %u was started without STDIN",
				     req->stream);
	case STDIN_CLOSING:
	case STDIN_CLOSED:
		return evo_error_set(err, EVO_ERR_INVALID, EPIPE,
				     "stdin of the process on stream %u was closed by CLOSE_STDIN",
				     req->stream);
	case STDIN_BROKEN:
		/* The program closed its stdin: data for it is dropped, as a
		 * pipe would. */
		return 0;
	case STDIN_OPEN:
		break;
	}
	if (p->stdin_buf.len - p->stdin_off + req->data_len > INIT_STDIN_LIMIT)
		return evo_error_set(err, EVO_ERR_LIMIT, ENOBUFS,
				     "the process on stream %u has %zu bytes of stdin unread; "
				     "wait for it to read before sending more",
				     req->stream, p->stdin_buf.len - p->stdin_off);
	/* Compact before growing, so a long-lived pipe does not creep. */
	if (p->stdin_off > 0 && p->stdin_off >= p->stdin_buf.len / 2) {
		evo_buf_consume(&p->stdin_buf, p->stdin_off);
		p->stdin_off = 0;
	}
	evo_buf_append(&p->stdin_buf, req->data, req->data_len);
	stdin_flush(l, p);
	return 0;
}

int init_process_close_stdin(void *ctx, struct init_request *req, struct evo_buf *out,
			     struct evo_error *err)
{
	struct init_loop *l = ctx;
	struct init_process *p = running_on_stream(l, req->stream, err);
	if (p == NULL)
		return -1;
	/* Closing what is closed (or was never open) is not an error. */
	if (p->stdin_state != STDIN_OPEN)
		return 0;
	p->stdin_state = STDIN_CLOSING;
	if (p->stdin_off == p->stdin_buf.len)
		stdin_close(l, p, STDIN_CLOSED);
	return 0;
}

int init_process_signal(void *ctx, struct init_request *req, struct evo_buf *out,
			struct evo_error *err)
{
	struct init_loop *l = ctx;
	struct init_process *p;

	if (INIT_HAS(req, EVO_F_PID)) {
		p = process_by_pid(l, (pid_t)req->pid);
		if (p == NULL)
			return evo_error_set(err, EVO_ERR_NOT_FOUND, ESRCH,
					     "no running process with PID %u was started by init",
					     req->pid);
	} else {
		p = process_by_stream(l, req->stream);
		if (p == NULL)
			return evo_error_set(err, EVO_ERR_NOT_FOUND, ESRCH,
					     "no running process on stream %u; give PID or send "
					     "PROC_SIGNAL on the process's stream", req->stream);
	}
	if (process_kill(p, req->signal) < 0)
		return evo_error_errno(err, "cannot send signal %d to process %d", req->signal,
				       (int)p->pid);
	size_t mark = evo_frame_begin(out, req->stream, EVO_MSG_OK, 0);
	evo_frame_end(out, mark);
	return 0;
}

/* Add a repeated string field unless the entry would outgrow its budget. */
static bool entry_add_bounded(struct evo_buf *b, size_t entry_mark, uint16_t tag, const char *s)
{
	size_t len = strlen(s);
	if (b->len - entry_mark + EVO_PROTO_FIELD_HEADER_LEN + len > LIST_ENTRY_MAX)
		return false;
	evo_frame_add(b, tag, s, (uint32_t)len);
	return true;
}

int init_process_list(void *ctx, struct init_request *req, struct evo_buf *out,
		      struct evo_error *err)
{
	struct init_loop *l = ctx;
	struct evo_buf entries = {0};

	for (struct init_process *p = l->procs; p != NULL; p = p->next) {
		size_t mark = evo_frame_nest_begin(&entries, EVO_F_ENTRY);
		evo_frame_add_u32(&entries, EVO_F_PID, (uint32_t)p->pid);
		evo_frame_add_u32(&entries, EVO_F_STREAM, p->stream);
		if (p->tag != NULL)
			entry_add_bounded(&entries, mark, EVO_F_TAG, p->tag);
		if (p->cwd != NULL)
			entry_add_bounded(&entries, mark, EVO_F_CWD, p->cwd);
		for (size_t i = 0; i < p->argc; i++)
			if (!entry_add_bounded(&entries, mark, EVO_F_ARGV, p->argv[i]))
				break;
		for (size_t i = 0; i < p->envc; i++)
			if (!entry_add_bounded(&entries, mark, EVO_F_ENV, p->env[i]))
				break;
		evo_frame_nest_end(&entries, mark);
	}
	init_reply_entries(out, req->stream, &entries);
	evo_buf_free(&entries);
	return 0;
}
