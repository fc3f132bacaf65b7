/* Dispatch: one received record in, reply frames out. Everything between
 * the socket and a handler happens here, through a handler table, so the
 * fuzzer can run exactly this path with handlers that touch nothing. */
#include "guest/init.h"

#include <assert.h>
#include <errno.h>

int init_error_errno(const struct evo_error *err)
{
	if (err->errnum != 0)
		return err->errnum;
	switch (err->kind) {
	case EVO_ERR_INVALID: return EINVAL;
	case EVO_ERR_NOT_FOUND: return ENOENT;
	case EVO_ERR_CONFLICT: return EEXIST;
	case EVO_ERR_LIMIT:
	case EVO_ERR_BUDGET: return ENOSPC;
	case EVO_ERR_AUTH: return EACCES;
	case EVO_ERR_NONE:
	case EVO_ERR_INTERNAL:
	case EVO_ERR_SYSTEM:
		break;
	}
	return EIO;
}

void init_dispatch_record(const struct init_handlers *h, void *ctx, const uint8_t *rec,
			  size_t len, struct evo_buf *out)
{
	struct evo_error err = {0};
	struct evo_frame frame;

	/* A frame that cannot be trusted still names its stream when the
	 * header is there, so the host can tell which request failed. */
	if (evo_frame_parse_record(rec, len, &frame, &err) < 0) {
		evo_frame_error(out, evo_frame_peek_stream(rec, len), EBADMSG, err.msg);
		return;
	}
	if (frame.stream == 0) {
		evo_frame_error(out, 0, EINVAL,
				"requests need a non-zero stream id; stream 0 is init's");
		return;
	}
	if (!init_request_type_known(frame.type) || h->handle[frame.type] == NULL) {
		evo_error_set(&err, EVO_ERR_INVALID, 0, "message type %u (%s) is not a request init serves",
			      frame.type, evo_msg_type_name(frame.type));
		evo_frame_error(out, frame.stream, EOPNOTSUPP, err.msg);
		return;
	}

	struct init_request req;
	if (init_request_decode(&frame, &req, &err) < 0) {
		evo_frame_error(out, frame.stream, EINVAL, err.msg);
		return;
	}
	if (h->handle[frame.type](ctx, &req, out, &err) < 0)
		evo_frame_error(out, frame.stream, init_error_errno(&err), err.msg);
	init_request_free(&req);
}

void init_reply_entries(struct evo_buf *out, uint32_t stream, const struct evo_buf *entries)
{
	struct evo_field_iter it;
	struct evo_field f;
	size_t start = 0, pos = 0;

	/* Pack whole entries greedily; each full frame goes out as ENTRIES,
	 * the remainder as the final OK. Entries are built by init itself, so
	 * each fits a frame and iteration cannot fail. */
	evo_field_iter_init(&it, entries->data, entries->len);
	while (evo_field_next(&it, &f, NULL) > 0) {
		size_t size = EVO_PROTO_FIELD_HEADER_LEN + f.len;
		assert(size <= EVO_PROTO_MAX_PAYLOAD);
		if (pos + size - start > EVO_PROTO_MAX_PAYLOAD) {
			size_t mark = evo_frame_begin(out, stream, EVO_MSG_ENTRIES, 0);
			/* pos > start here: a single entry always fits a frame. */
			evo_buf_append(out, entries->data + start, pos - start);
			evo_frame_end(out, mark);
			start = pos;
		}
		pos += size;
	}
	size_t mark = evo_frame_begin(out, stream, EVO_MSG_OK, 0);
	if (pos > start)
		evo_buf_append(out, entries->data + start, pos - start);
	evo_frame_end(out, mark);
}
