/* Blocking and non-blocking frame I/O on a SEQPACKET socket: the host's
 * side of the init protocol (and of a supervisor's control socket). */
#ifndef EVOCLAW_RUNTIME_LOCAL_CHANNEL_H
#define EVOCLAW_RUNTIME_LOCAL_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/proto.h"

/* Send every frame queued in b, blocking as needed; empties b. */
int channel_send_all(int fd, struct evo_buf *b, struct evo_error *err);

/* Send as many queued frames as the socket takes without blocking.
 * Returns 0 (some may remain in b) or -1 on a broken connection. */
int channel_flush(int fd, struct evo_buf *b, struct evo_error *err);

/* Receive one record into buf (EVO_PROTO_MAX_FRAME bytes) and parse it.
 * Returns 1 with *frame set, 0 at end of stream, -1 on error (a malformed
 * record is an error: the peer is trusted code). timeout_ms < 0 waits
 * forever. */
int channel_recv(int fd, uint8_t *buf, struct evo_frame *frame, int timeout_ms,
		 struct evo_error *err);

/* channel_recv that also takes one descriptor passed with the record
 * (SCM_RIGHTS) into *passed_fd (-1 if none). */
int channel_recv_fd(int fd, uint8_t *buf, struct evo_frame *frame, int *passed_fd,
		    int timeout_ms, struct evo_error *err);

/* Send one complete frame (in b) with a descriptor attached. */
int channel_send_fd(int fd, const struct evo_buf *b, int passed_fd, struct evo_error *err);

/* Turn an ERROR frame into err (kind from errno); always returns -1. */
int channel_error_from_frame(const struct evo_frame *f, struct evo_error *err);

/* Connect to a supervisor's control socket. */
int channel_connect(const char *path, struct evo_error *err);

#endif
