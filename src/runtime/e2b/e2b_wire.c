#include "runtime/e2b/e2b_wire.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "common/rfc3339.h"

/* ---- the control plane's JSON ------------------------------------------ */

static void copy_string(const json_t *obj, const char *key, char *out, size_t size)
{
	const char *s = json_string_value(json_object_get(obj, key));
	snprintf(out, size, "%s", s ? s : "");
}

static uint32_t get_u32(const json_t *obj, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(obj, key));
	return v > 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
}

static int64_t get_time(const json_t *obj, const char *key)
{
	int64_t ms;
	return rfc3339_parse_ms(json_string_value(json_object_get(obj, key)), &ms) == 0 ? ms : 0;
}

static int sandbox_from_json(const json_t *obj, struct e2b_sandbox *out, struct evo_error *err)
{
	*out = (struct e2b_sandbox){0};
	if (!json_is_object(obj))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "E2B answered with a sandbox that is not "
					"a JSON object");
	const char *id = json_string_value(json_object_get(obj, "sandboxID"));
	if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof out->id)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "E2B answered with a sandbox without a valid sandboxID");
	snprintf(out->id, sizeof out->id, "%s", id);
	copy_string(obj, "templateID", out->template_id, sizeof out->template_id);
	copy_string(obj, "envdAccessToken", out->envd_token, sizeof out->envd_token);
	copy_string(obj, "domain", out->domain, sizeof out->domain);
	const char *state = json_string_value(json_object_get(obj, "state"));
	out->paused = state && strcmp(state, "paused") == 0;
	out->started_ms = get_time(obj, "startedAt");
	out->end_ms = get_time(obj, "endAt");
	out->cpu_count = get_u32(obj, "cpuCount");
	out->memory_mb = get_u32(obj, "memoryMB");
	const json_t *meta = json_object_get(obj, "metadata");
	copy_string(meta, E2B_META_OWNER, out->owner, sizeof out->owner);
	copy_string(meta, E2B_META_SPAWN, out->spawn_key, sizeof out->spawn_key);
	copy_string(meta, E2B_META_AGENT, out->agent, sizeof out->agent);
	return 0;
}

static json_t *load(const char *text, size_t len, struct evo_error *err)
{
	json_error_t jerr;
	json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL)
		evo_error_set(err, EVO_ERR_INVALID, 0, "E2B answered with invalid JSON: %s", jerr.text);
	return v;
}

int e2b_sandbox_parse(const char *text, size_t len, struct e2b_sandbox *out,
		      struct evo_error *err)
{
	json_t *v = load(text, len, err);
	if (v == NULL)
		return -1;
	int r = sandbox_from_json(v, out, err);
	json_decref(v);
	return r;
}

int e2b_sandbox_list_parse(const char *text, size_t len, struct e2b_sandbox **out, size_t *n,
			   struct evo_error *err)
{
	json_t *v = load(text, len, err);
	if (v == NULL)
		return -1;
	if (!json_is_array(v)) {
		json_decref(v);
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "E2B answered a sandbox list that is not a JSON array");
	}
	size_t count = json_array_size(v);
	struct e2b_sandbox *list = xcalloc(count + 1, sizeof *list);
	for (size_t i = 0; i < count; i++)
		if (sandbox_from_json(json_array_get(v, i), &list[i], err) < 0) {
			free(list);
			json_decref(v);
			return -1;
		}
	json_decref(v);
	*out = list;
	*n = count;
	return 0;
}

/* Printable ASCII of at most size-1 bytes, whitespace runs folded: a
 * provider's message goes into records and logs. */
static void clean_text(const char *s, size_t len, char *out, size_t size)
{
	size_t n = 0;
	bool space = false;
	for (size_t i = 0; i < len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = n > 0;
			continue;
		}
		if (space) {
			if (n + 2 >= size)
				break; /* no room for the space and a character after it */
			out[n++] = ' ';
		}
		space = false;
		out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
}

void e2b_error_message(const char *body, size_t len, char *out, size_t size)
{
	if (size == 0)
		return;
	json_t *v = json_loadb(body, len, 0, NULL);
	const char *m = json_string_value(json_object_get(v, "message"));
	if (m == NULL) /* Connect's end-stream error nests it */
		m = json_string_value(json_object_get(json_object_get(v, "error"), "message"));
	if (m)
		clean_text(m, strlen(m), out, size);
	else
		clean_text(body, len, out, size);
	json_decref(v);
}

/* ---- envd's process streams -------------------------------------------- */

static int event_from_message(const json_t *msg, struct e2b_event *ev, uint8_t **owned,
			      struct evo_error *err)
{
	const json_t *event = json_object_get(msg, "event");
	if (!json_is_object(event))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "envd sent a message without an event");
	const json_t *v;
	if ((v = json_object_get(event, "start")) != NULL) {
		ev->kind = E2B_EVENT_START;
		ev->pid = get_u32(v, "pid");
		return 0;
	}
	if ((v = json_object_get(event, "data")) != NULL) {
		ev->kind = E2B_EVENT_DATA;
		const json_t *b = json_object_get(v, "stdout");
		if (b == NULL && (b = json_object_get(v, "stderr")) != NULL)
			ev->is_stderr = true;
		if (b == NULL)
			b = json_object_get(v, "pty");
		const char *text = json_string_value(b);
		if (text == NULL)
			return 0; /* no output in it */
		size_t tlen = strlen(text);
		*owned = xmalloc(tlen * 3 / 4 + 3);
		if (!base64_decode(text, tlen, *owned, &ev->len))
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "envd sent output that is not base64");
		ev->data = *owned;
		return 0;
	}
	if ((v = json_object_get(event, "end")) != NULL) {
		ev->kind = E2B_EVENT_END;
		const json_t *code = json_object_get(v, "exitCode");
		if (code == NULL)
			code = json_object_get(v, "exit_code");
		ev->exit_code = (int32_t)json_integer_value(code);
		ev->exited = json_is_true(json_object_get(v, "exited"));
		copy_string(v, "status", ev->status, sizeof ev->status);
		const char *e = json_string_value(json_object_get(v, "error"));
		if (e)
			clean_text(e, strlen(e), ev->message, sizeof ev->message);
		return 0;
	}
	if (json_object_get(event, "keepalive") != NULL) {
		ev->kind = E2B_EVENT_KEEPALIVE;
		return 0;
	}
	return evo_error_set(err, EVO_ERR_INVALID, 0, "envd sent an event of a kind not known");
}

static int end_stream_event(const json_t *msg, struct e2b_event *ev)
{
	ev->kind = E2B_EVENT_STREAM_END;
	const json_t *e = json_object_get(msg, "error");
	if (e == NULL)
		return 0;
	copy_string(e, "code", ev->error_code, sizeof ev->error_code);
	if (ev->error_code[0] == '\0')
		snprintf(ev->error_code, sizeof ev->error_code, "unknown");
	const char *m = json_string_value(json_object_get(e, "message"));
	if (m)
		clean_text(m, strlen(m), ev->message, sizeof ev->message);
	return 0;
}

/* Decode one whole envelope's payload and hand it on. */
static int deliver(struct e2b_stream_decoder *d, uint8_t flags, const uint8_t *payload,
		   size_t len, e2b_event_fn fn, void *ctx, struct evo_error *err)
{
	if (d->ended)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "envd sent more after its stream ended");
	if (flags & 0x01)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "envd sent a compressed message");
	json_t *msg = json_loadb((const char *)payload, len, 0, NULL);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return evo_error_set(err, EVO_ERR_INVALID, 0, "envd sent a message that is not a "
							      "JSON object");
	}
	struct e2b_event ev = {0};
	_cleanup_free_ uint8_t *owned = NULL;
	int r;
	if (flags & 0x02) {
		d->ended = true;
		r = end_stream_event(msg, &ev);
	} else {
		r = event_from_message(msg, &ev, &owned, err);
	}
	json_decref(msg);
	if (r < 0)
		return -1;
	return fn(ctx, &ev);
}

int e2b_stream_feed(struct e2b_stream_decoder *d, const uint8_t *data, size_t len,
		    e2b_event_fn fn, void *ctx, struct evo_error *err)
{
	evo_buf_append(&d->pending, data, len);
	size_t used = 0;
	int r = 0;
	while (r == 0 && d->pending.len - used >= 5) {
		const uint8_t *p = d->pending.data + used;
		uint32_t size = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
		if (size > E2B_ENVELOPE_MAX) {
			r = evo_error_set(err, EVO_ERR_INVALID, 0,
					  "envd sent a message of %u bytes (at most %u)", size,
					  E2B_ENVELOPE_MAX);
			break;
		}
		if (d->pending.len - used - 5 < size)
			break;
		r = deliver(d, p[0], p + 5, size, fn, ctx, err);
		used += 5 + (size_t)size;
	}
	/* Even a piece of an envelope after the end is more than a stream holds. */
	if (r == 0 && d->ended && d->pending.len > used)
		r = evo_error_set(err, EVO_ERR_INVALID, 0, "envd sent more after its stream ended");
	if (used > 0) /* an empty first piece leaves no buffer to consume from */
		evo_buf_consume(&d->pending, used);
	return r;
}

void e2b_stream_decoder_free(struct e2b_stream_decoder *d)
{
	evo_buf_free(&d->pending);
	d->ended = false;
}

/* ---- request bodies ------------------------------------------------------ */

static json_t *env_object(char *const *env)
{
	json_t *o = json_object();
	for (char *const *e = env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (eq == NULL || eq == *e)
			continue;
		_cleanup_free_ char *key = xstrndup(*e, (size_t)(eq - *e));
		json_object_set_new(o, key, json_string(eq + 1));
	}
	return o;
}

static char *dump(json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (text == NULL)
		abort(); /* only out of memory: no JSON we build can fail */
	return text;
}

char *e2b_create_body(const struct e2b_create_request *req)
{
	json_t *meta = json_object();
	if (req->owner)
		json_object_set_new(meta, E2B_META_OWNER, json_string(req->owner));
	if (req->spawn_key)
		json_object_set_new(meta, E2B_META_SPAWN, json_string(req->spawn_key));
	if (req->agent)
		json_object_set_new(meta, E2B_META_AGENT, json_string(req->agent));
	json_t *body = json_pack("{s:s, s:i, s:o, s:o, s:b}", "templateID", req->template_id,
				 "timeout", (json_int_t)req->timeout_sec, "envVars",
				 env_object(req->env), "metadata", meta, "secure", 1);
	return dump(body);
}

static void envelope_of(struct evo_buf *out, json_t *msg)
{
	_cleanup_free_ char *text = dump(msg);
	size_t len = strlen(text);
	uint8_t head[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			   (uint8_t)len};
	evo_buf_append(out, head, sizeof head);
	evo_buf_append(out, text, len);
}

void e2b_start_envelope(struct evo_buf *out, char *const *argv, char *const *env,
			const char *tag)
{
	json_t *args = json_array();
	for (char *const *a = argv && argv[0] ? argv + 1 : NULL; a && *a; a++)
		json_array_append_new(args, json_string(*a));
	json_t *process = json_pack("{s:s, s:o, s:o}", "cmd", argv && argv[0] ? argv[0] : "",
				    "args", args, "envs", env_object(env));
	envelope_of(out, json_pack("{s:o, s:s, s:b}", "process", process, "tag", tag, "stdin", 0));
}

void e2b_connect_envelope(struct evo_buf *out, const char *tag)
{
	envelope_of(out, json_pack("{s:{s:s}}", "process", "tag", tag));
}

static size_t percent_encode(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (; *s && n + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return n;
}

/* The SDK encodes each key and value (encodeURIComponent), URLSearchParams
 * encodes them again as it joins them, and the joined string is encoded
 * once more: a server decodes the parameter, splits it, then decodes each
 * part twice (spec §3.3). */
void e2b_metadata_query(const char *key, const char *value, char *out, size_t size)
{
	char k1[256], v1[256], k[640], v[640], pair[1290];
	percent_encode(key, k1, sizeof k1);
	percent_encode(value, v1, sizeof v1);
	percent_encode(k1, k, sizeof k);
	percent_encode(v1, v, sizeof v);
	snprintf(pair, sizeof pair, "%s=%s", k, v);
	percent_encode(pair, out, size);
}
