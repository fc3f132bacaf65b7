#include "runtime/local/channel.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"

/* Length of the frame at the head of b (header says). */
static size_t head_frame_len(const struct evo_buf *b)
{
	uint32_t len = (uint32_t)b->data[0] | (uint32_t)b->data[1] << 8 |
		       (uint32_t)b->data[2] << 16 | (uint32_t)b->data[3] << 24;
	return EVO_PROTO_HEADER_LEN + len;
}

static int send_queued(int fd, struct evo_buf *b, bool block, struct evo_error *err)
{
	while (b->len >= EVO_PROTO_HEADER_LEN) {
		size_t n = head_frame_len(b);
		ssize_t w = send(fd, b->data, n, MSG_NOSIGNAL | (block ? 0 : MSG_DONTWAIT));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !block)
				return 0;
			return evo_error_errno(err, "send to sandbox channel");
		}
		evo_buf_consume(b, n);
	}
	return 0;
}

int channel_send_all(int fd, struct evo_buf *b, struct evo_error *err)
{
	return send_queued(fd, b, true, err);
}

int channel_flush(int fd, struct evo_buf *b, struct evo_error *err)
{
	return send_queued(fd, b, false, err);
}

int channel_recv(int fd, uint8_t *buf, struct evo_frame *frame, int timeout_ms,
		 struct evo_error *err)
{
	return channel_recv_fd(fd, buf, frame, NULL, timeout_ms, err);
}

int channel_send_fd(int fd, const struct evo_buf *b, int passed_fd, struct evo_error *err)
{
	struct iovec iov = {.iov_base = b->data, .iov_len = b->len};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control = {0};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			     .msg_controllen = sizeof control.buf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passed_fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return evo_error_errno(err, "pass a descriptor");
	return 0;
}

int channel_recv_fd(int fd, uint8_t *buf, struct evo_frame *frame, int *passed_fd,
		    int timeout_ms, struct evo_error *err)
{
	if (passed_fd)
		*passed_fd = -1;
	for (;;) {
		if (timeout_ms >= 0) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			int r = poll(&p, 1, timeout_ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return evo_error_errno(err, "wait for sandbox channel");
			if (r == 0)
				return evo_error_set(err, EVO_ERR_SYSTEM, ETIMEDOUT,
						     "no answer from the sandbox within %d ms",
						     timeout_ms);
		}
		struct iovec iov = {.iov_base = buf, .iov_len = EVO_PROTO_MAX_FRAME};
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int))];
		} control;
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
				     .msg_controllen = sizeof control.buf};
		ssize_t n = recvmsg(fd, &msg, MSG_TRUNC | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			int got;
			memcpy(&got, CMSG_DATA(c), sizeof got);
			if (passed_fd && *passed_fd < 0)
				*passed_fd = got;
			else
				close(got); /* not asked for: do not leak it */
		}
		if (n < 0) {
			if (errno == ECONNRESET)
				return 0;
			return evo_error_errno(err, "receive from sandbox channel");
		}
		if (n == 0)
			return 0;
		if ((size_t)n > EVO_PROTO_MAX_FRAME)
			return evo_error_set(err, EVO_ERR_INTERNAL, 0,
					     "oversized record (%zd bytes) on sandbox channel", n);
		if (evo_frame_parse_record(buf, (size_t)n, frame, err) < 0)
			return evo_error_prefix(err, "sandbox channel");
		return 1;
	}
}

int channel_error_from_frame(const struct evo_frame *f, struct evo_error *err)
{
	int32_t errnum = 0;
	_cleanup_free_ char *message = NULL;
	struct evo_field_iter it;
	struct evo_field field;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while (evo_field_next(&it, &field, NULL) == 1) {
		if (field.tag == EVO_F_ERRNO)
			evo_field_i32(&field, &errnum, NULL);
		else if (field.tag == EVO_F_MESSAGE && message == NULL)
			evo_field_string(&field, &message, NULL);
	}
	enum evo_error_kind kind = EVO_ERR_SYSTEM;
	if (errnum == ENOENT || errnum == ESRCH)
		kind = EVO_ERR_NOT_FOUND;
	else if (errnum == EINVAL)
		kind = EVO_ERR_INVALID;
	else if (errnum == EEXIST || errnum == EBUSY)
		kind = EVO_ERR_CONFLICT;
	return evo_error_set(err, kind, 0, "%s", message ? message : strerror(errnum));
}

int channel_connect(const char *path, struct evo_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path)
		return evo_error_set(err, EVO_ERR_INVALID, ENAMETOOLONG, "socket path %s", path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return evo_error_errno(err, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return evo_error_errno(err, "connect to %s", path);
	}
	return fd;
}
