/* A minimal host for evoclaw-init in tests: start the real binary with a
 * SEQPACKET socketpair on fd 3, send frames, receive and inspect replies.
 * Every wait has a timeout that fails the test, so a misbehaving init
 * makes a test fail rather than hang. */
#ifndef EVOCLAW_TESTS_INIT_CLIENT_H
#define EVOCLAW_TESTS_INIT_CLIENT_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/proto.h"

/* Generous: these only fire when init is broken (ASan makes it slower). */
#define CLIENT_TIMEOUT_MS 20000

struct init_client {
	pid_t pid;
	int fd;
};

/* One received frame; rec is owned. */
struct rx {
	uint8_t *rec;
	size_t len;
	struct evo_frame f;
};

static inline const char *client_init_path(void)
{
	static char path[4096];
	const char *build = getenv("EVOCLAW_BUILD");
	snprintf(path, sizeof path, "%s/bin/evoclaw-init-dyn", build && *build ? build : "build");
	return path;
}

/* Start init with the NULL-terminated extra arguments args (may be NULL);
 * without socket_on_3, fd 3 is /dev/null instead of the channel. */
static inline void client_start_ex(struct init_client *c, const char *const *args, bool socket_on_3)
{
	int sv[2] = { -1, -1 };
	const char *argv[64] = { client_init_path() };
	size_t n = 1;
	for (; args != NULL && args[n - 1] != NULL; n++) {
		cr_assert_lt(n, 63);
		argv[n] = args[n - 1];
	}
	argv[n] = NULL;
	cr_assert_eq(access(argv[0], X_OK), 0, "init binary %s missing (set EVOCLAW_BUILD)", argv[0]);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (socket_on_3) {
			if (sv[1] == 3)
				fcntl(3, F_SETFD, 0);
			else
				dup2(sv[1], 3);
		} else {
			int null = open("/dev/null", O_RDONLY);
			dup2(null, 3);
		}
		execv(argv[0], (char *const *)argv);
		_exit(126);
	}
	close(sv[1]);
	c->pid = pid;
	c->fd = sv[0];
}

static inline void client_start(struct init_client *c, const char *const *args)
{
	client_start_ex(c, args, true);
}

/* Wait for init to exit; returns its wait status. Fails after the timeout. */
static inline int client_wait_exit(struct init_client *c)
{
	int pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	cr_assert_geq(pidfd, 0, "pidfd_open: %s", strerror(errno));
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	int r = poll(&pfd, 1, CLIENT_TIMEOUT_MS);
	close(pidfd);
	if (r != 1) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		cr_assert_fail("init did not exit within %d ms", CLIENT_TIMEOUT_MS);
	}
	int status;
	cr_assert_eq(waitpid(c->pid, &status, 0), c->pid);
	c->pid = -1;
	return status;
}

/* Close the channel and wait for init: it must exit 0 when its host goes. */
static inline void client_stop(struct init_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->pid > 0) {
		int status = client_wait_exit(c);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "init exit status 0x%x after channel close", status);
	}
}

static inline void client_send_raw(struct init_client *c, const void *data, size_t len)
{
	ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
	cr_assert_eq(n, (ssize_t)len, "send: %s", strerror(errno));
}

/* Send the frame in b as one record and empty b. */
static inline void client_send(struct init_client *c, struct evo_buf *b)
{
	client_send_raw(c, b->data, b->len);
	evo_buf_free(b);
}

/* Receive one frame (must be well-formed). Returns false on timeout if
 * allow_timeout, otherwise fails the test. */
static inline bool client_recv_ex(struct init_client *c, struct rx *out, int timeout_ms,
				  bool allow_timeout)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int r = poll(&pfd, 1, timeout_ms);
	cr_assert_geq(r, 0);
	if (r == 0) {
		if (allow_timeout)
			return false;
		cr_assert_fail("no frame from init within %d ms", timeout_ms);
	}
	out->rec = malloc(EVO_PROTO_MAX_FRAME);
	ssize_t n = recv(c->fd, out->rec, EVO_PROTO_MAX_FRAME, MSG_TRUNC);
	cr_assert_gt(n, 0, "recv: %zd (%s): init closed the channel", n, strerror(errno));
	cr_assert_leq((size_t)n, EVO_PROTO_MAX_FRAME, "init sent an oversized record");
	out->len = (size_t)n;
	struct evo_error err = {0};
	cr_assert_eq(evo_frame_parse_record(out->rec, out->len, &out->f, &err), 0,
		     "init sent a malformed frame: %s", err.msg);
	return true;
}

static inline void client_recv(struct init_client *c, struct rx *out)
{
	client_recv_ex(c, out, CLIENT_TIMEOUT_MS, false);
}

static inline void rx_free(struct rx *r)
{
	free(r->rec);
	r->rec = NULL;
}

/* The first field with tag in the payload (or nested payload p/len). */
static inline bool fields_find(const uint8_t *p, size_t len, uint16_t tag, struct evo_field *out)
{
	struct evo_field_iter it;
	evo_field_iter_init(&it, p, len);
	while (evo_field_next(&it, out, NULL) > 0)
		if (out->tag == tag)
			return true;
	return false;
}

static inline bool rx_find(const struct rx *r, uint16_t tag, struct evo_field *out)
{
	return fields_find(r->f.payload, r->f.payload_len, tag, out);
}

static inline int64_t field_int(const struct evo_field *f)
{
	struct evo_error err = {0};
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;
	switch (f->len) {
	case 1:
		cr_assert_eq(evo_field_u8(f, &u8, &err), 0);
		return u8;
	case 4:
		cr_assert_eq(evo_field_u32(f, &u32, &err), 0);
		/* Tags typed i32 are the signed ones. */
		if (f->tag == EVO_F_SIGNAL || f->tag == EVO_F_EXIT_CODE || f->tag == EVO_F_ERRNO)
			return (int32_t)u32;
		return u32;
	case 8:
		cr_assert_eq(evo_field_u64(f, &u64, &err), 0);
		return (int64_t)u64;
	}
	cr_assert_fail("field %s has %u bytes, not an integer", evo_field_tag_name(f->tag), f->len);
	return 0;
}

/* Integer field tag of r; fails the test if missing. */
static inline int64_t rx_int(const struct rx *r, uint16_t tag)
{
	struct evo_field f;
	cr_assert(rx_find(r, tag, &f), "%s frame lacks field %s", evo_msg_type_name(r->f.type),
		  evo_field_tag_name(tag));
	return field_int(&f);
}

/* String field tag of r as a malloc'd string; fails if missing. */
static inline char *rx_str(const struct rx *r, uint16_t tag)
{
	struct evo_field f;
	cr_assert(rx_find(r, tag, &f), "%s frame lacks field %s", evo_msg_type_name(r->f.type),
		  evo_field_tag_name(tag));
	return strndup((const char *)f.value, f.len);
}

/* Receive the next frame, which must be on stream and of type. */
static inline void client_expect(struct init_client *c, uint32_t stream, uint8_t type, struct rx *out)
{
	client_recv(c, out);
	if (out->f.stream != stream || out->f.type != type) {
		struct evo_field m;
		bool has_msg = rx_find(out, EVO_F_MESSAGE, &m);
		cr_assert_fail("expected %s on stream %u, got %s on stream %u%s%.*s",
			       evo_msg_type_name(type), stream, evo_msg_type_name(out->f.type),
			       out->f.stream, has_msg ? ": " : "", has_msg ? (int)m.len : 0,
			       has_msg ? (const char *)m.value : "");
	}
}

/* Expect an ERROR on stream with errnum; returns its message (malloc'd). */
static inline char *client_expect_error(struct init_client *c, uint32_t stream, int errnum)
{
	struct rx r;
	client_expect(c, stream, EVO_MSG_ERROR, &r);
	char *msg = rx_str(&r, EVO_F_MESSAGE);
	cr_assert_eq(rx_int(&r, EVO_F_ERRNO), errnum, "errno %d (%s), want %d: %s",
		     (int)rx_int(&r, EVO_F_ERRNO), strerror((int)rx_int(&r, EVO_F_ERRNO)), errnum, msg);
	rx_free(&r);
	return msg;
}

/* Send a request without fields. */
static inline void client_send_empty(struct init_client *c, uint32_t stream, uint8_t type)
{
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, type, 0);
	evo_frame_end(&b, m);
	client_send(c, &b);
}

static inline void client_ping(struct init_client *c, uint32_t stream)
{
	struct rx r;
	client_send_empty(c, stream, EVO_MSG_PING);
	client_expect(c, stream, EVO_MSG_OK, &r);
	rx_free(&r);
}

/* PROC_START on stream: argv is NULL-terminated; with_stdin keeps a pipe;
 * tag may be NULL. Does not wait for the reply. */
static inline void client_start_proc(struct init_client *c, uint32_t stream, bool with_stdin,
				     const char *tag, const char *const *argv)
{
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, EVO_MSG_PROC_START, 0);
	for (size_t i = 0; argv[i] != NULL; i++)
		evo_frame_add_str(&b, EVO_F_ARGV, argv[i]);
	if (with_stdin)
		evo_frame_add_u8(&b, EVO_F_STDIN, 1);
	if (tag != NULL)
		evo_frame_add_str(&b, EVO_F_TAG, tag);
	evo_frame_end(&b, m);
	client_send(c, &b);
}

/* Everything a process stream produced. */
struct proc_result {
	bool started;
	uint32_t pid;
	struct evo_buf out;
	struct evo_buf err;
	size_t out_frames;
	bool exited;
	int32_t code;
	int32_t sig;
	bool failed; /* ERROR instead of PROC_STARTED */
	int32_t errnum;
	char *message;
};

static inline void proc_result_free(struct proc_result *p)
{
	evo_buf_free(&p->out);
	evo_buf_free(&p->err);
	free(p->message);
	memset(p, 0, sizeof *p);
}

/* Apply one received frame to the result of its process stream. */
static inline void proc_result_apply(struct proc_result *p, const struct rx *r)
{
	struct evo_field f;
	switch (r->f.type) {
	case EVO_MSG_PROC_STARTED:
		cr_assert(!p->started, "PROC_STARTED twice on stream %u", r->f.stream);
		p->started = true;
		p->pid = (uint32_t)rx_int(r, EVO_F_PID);
		break;
	case EVO_MSG_PROC_STDOUT:
	case EVO_MSG_PROC_STDERR:
		cr_assert(p->started && !p->exited, "output outside STARTED..EXIT on stream %u",
			  r->f.stream);
		cr_assert(rx_find(r, EVO_F_DATA, &f));
		cr_assert_leq(f.len, EVO_PROTO_CHUNK);
		evo_buf_append(r->f.type == EVO_MSG_PROC_STDOUT ? &p->out : &p->err, f.value, f.len);
		p->out_frames += r->f.type == EVO_MSG_PROC_STDOUT;
		break;
	case EVO_MSG_PROC_EXIT:
		cr_assert(p->started && !p->exited, "PROC_EXIT out of order on stream %u", r->f.stream);
		p->exited = true;
		p->code = (int32_t)rx_int(r, EVO_F_EXIT_CODE);
		p->sig = (int32_t)rx_int(r, EVO_F_SIGNAL);
		break;
	case EVO_MSG_ERROR:
		cr_assert(!p->started, "ERROR on a running process stream %u", r->f.stream);
		p->failed = true;
		p->errnum = (int32_t)rx_int(r, EVO_F_ERRNO);
		p->message = rx_str(r, EVO_F_MESSAGE);
		break;
	default:
		cr_assert_fail("unexpected %s on process stream %u", evo_msg_type_name(r->f.type),
			       r->f.stream);
	}
}

static inline bool proc_result_done(const struct proc_result *p)
{
	return p->exited || p->failed;
}

/* Receive frames for process streams first..first+n-1 into res[] until all
 * are done (exited or failed). Any other stream fails the test. */
static inline void client_collect(struct init_client *c, uint32_t first, struct proc_result *res,
				  size_t n)
{
	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < n; i++)
			done += proc_result_done(&res[i]);
		if (done == n)
			return;
		struct rx r;
		client_recv(c, &r);
		cr_assert(r.f.stream >= first && r.f.stream < first + n,
			  "frame %s on unexpected stream %u", evo_msg_type_name(r.f.type), r.f.stream);
		proc_result_apply(&res[r.f.stream - first], &r);
		rx_free(&r);
	}
}

/* Run argv on stream and collect everything until it exits. */
static inline void client_run(struct init_client *c, uint32_t stream, const char *const *argv,
			      struct proc_result *res)
{
	memset(res, 0, sizeof *res);
	client_start_proc(c, stream, false, NULL, argv);
	client_collect(c, stream, res, 1);
}

/* Wait until the PROC_STARTED of stream; returns the pid. */
static inline uint32_t client_expect_started(struct init_client *c, uint32_t stream)
{
	struct rx r;
	client_expect(c, stream, EVO_MSG_PROC_STARTED, &r);
	uint32_t pid = (uint32_t)rx_int(&r, EVO_F_PID);
	rx_free(&r);
	return pid;
}

#endif
