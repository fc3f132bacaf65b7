#include "api/envd_rpc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/base64.h"
#include "common/cleanup.h"

static const char *const code_names[] = {
	[CONNECT_OK] = "ok",
	[CONNECT_CANCELED] = "canceled",
	[CONNECT_UNKNOWN] = "unknown",
	[CONNECT_INVALID_ARGUMENT] = "invalid_argument",
	[CONNECT_DEADLINE_EXCEEDED] = "deadline_exceeded",
	[CONNECT_NOT_FOUND] = "not_found",
	[CONNECT_ALREADY_EXISTS] = "already_exists",
	[CONNECT_PERMISSION_DENIED] = "permission_denied",
	[CONNECT_RESOURCE_EXHAUSTED] = "resource_exhausted",
	[CONNECT_FAILED_PRECONDITION] = "failed_precondition",
	[CONNECT_ABORTED] = "aborted",
	[CONNECT_OUT_OF_RANGE] = "out_of_range",
	[CONNECT_UNIMPLEMENTED] = "unimplemented",
	[CONNECT_INTERNAL] = "internal",
	[CONNECT_UNAVAILABLE] = "unavailable",
	[CONNECT_DATA_LOSS] = "data_loss",
	[CONNECT_UNAUTHENTICATED] = "unauthenticated",
};

const char *connect_code_name(enum connect_code code)
{
	return (unsigned)code <= CONNECT_UNAUTHENTICATED ? code_names[code] : "unknown";
}

unsigned connect_code_http_status(enum connect_code code)
{
	switch (code) {
	case CONNECT_OK:
		return 200;
	case CONNECT_CANCELED:
		return 499;
	case CONNECT_INVALID_ARGUMENT:
	case CONNECT_FAILED_PRECONDITION:
	case CONNECT_OUT_OF_RANGE:
		return 400;
	case CONNECT_DEADLINE_EXCEEDED:
		return 504;
	case CONNECT_NOT_FOUND:
		return 404;
	case CONNECT_ALREADY_EXISTS:
	case CONNECT_ABORTED:
		return 409;
	case CONNECT_PERMISSION_DENIED:
		return 403;
	case CONNECT_RESOURCE_EXHAUSTED:
		return 429;
	case CONNECT_UNIMPLEMENTED:
		return 501;
	case CONNECT_UNAVAILABLE:
		return 503;
	case CONNECT_UNAUTHENTICATED:
		return 401;
	default:
		return 500;
	}
}

enum connect_code connect_code_from_errno(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ESRCH:
		return CONNECT_NOT_FOUND;
	case EEXIST:
	case ENOTEMPTY:
		return CONNECT_ALREADY_EXISTS;
	case EACCES:
	case EPERM:
	case EROFS:
		return CONNECT_PERMISSION_DENIED;
	case ENOSPC:
	case EDQUOT:
	case ENOBUFS:
	case E2BIG:
		return CONNECT_RESOURCE_EXHAUSTED;
	case EINVAL:
	case ENOTDIR:
	case EISDIR:
	case ENAMETOOLONG:
	case ELOOP:
	case EXDEV:
	case ENOEXEC:
	case EBADF:
		return CONNECT_INVALID_ARGUMENT;
	case EPIPE:
		return CONNECT_FAILED_PRECONDITION;
	case EAGAIN:
		return CONNECT_UNAVAILABLE;
	default:
		return CONNECT_INTERNAL;
	}
}

void connect_envelope_append(struct evo_buf *b, uint8_t flags, const char *payload, size_t len)
{
	uint8_t h[CONNECT_ENVELOPE_HEADER] = {flags, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
					      (uint8_t)(len >> 8), (uint8_t)len};
	evo_buf_append(b, h, sizeof h);
	evo_buf_append(b, payload, len);
}

int connect_envelope_single(const uint8_t *body, size_t len, const uint8_t **payload,
			    size_t *payload_len, struct evo_error *err)
{
	if (len < CONNECT_ENVELOPE_HEADER)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "a streaming request is one 5-byte-enveloped message; got %zu bytes",
				     len);
	uint32_t n = (uint32_t)body[1] << 24 | (uint32_t)body[2] << 16 | (uint32_t)body[3] << 8 |
		     body[4];
	if (body[0] & 0x01u)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "compressed messages are not accepted");
	if (body[0] != 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "envelope flags 0x%02x: expected 0",
				     body[0]);
	if ((size_t)n != len - CONNECT_ENVELOPE_HEADER)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "envelope says %u bytes, the body holds %zu after it", n,
				     len - CONNECT_ENVELOPE_HEADER);
	*payload = body + CONNECT_ENVELOPE_HEADER;
	*payload_len = n;
	return 0;
}

static const struct {
	const char *path;
	enum envd_method method;
	bool streaming;
} methods[] = {
	{"/process.Process/Start", ENVD_PROCESS_START, true},
	{"/process.Process/Connect", ENVD_PROCESS_CONNECT, true},
	{"/process.Process/List", ENVD_PROCESS_LIST, false},
	{"/process.Process/SendInput", ENVD_PROCESS_SEND_INPUT, false},
	{"/process.Process/SendSignal", ENVD_PROCESS_SEND_SIGNAL, false},
	{"/process.Process/CloseStdin", ENVD_PROCESS_CLOSE_STDIN, false},
	{"/process.Process/Update", ENVD_PROCESS_UPDATE, false},
	{"/process.Process/StreamInput", ENVD_PROCESS_STREAM_INPUT, true},
	{"/filesystem.Filesystem/Stat", ENVD_FS_STAT, false},
	{"/filesystem.Filesystem/MakeDir", ENVD_FS_MAKE_DIR, false},
	{"/filesystem.Filesystem/Move", ENVD_FS_MOVE, false},
	{"/filesystem.Filesystem/ListDir", ENVD_FS_LIST_DIR, false},
	{"/filesystem.Filesystem/Remove", ENVD_FS_REMOVE, false},
	{"/filesystem.Filesystem/WatchDir", ENVD_FS_WATCH_DIR, true},
};

enum envd_method envd_method_from_path(const char *path)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(path, methods[i].path) == 0)
			return methods[i].method;
	return ENVD_METHOD_UNKNOWN;
}

const char *envd_method_name(enum envd_method m)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (methods[i].method == m)
			return methods[i].path + 1;
	return "unknown";
}

bool envd_method_is_streaming(enum envd_method m)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (methods[i].method == m)
			return methods[i].streaming;
	return false;
}

/* ---- messages -------------------------------------------------------------- */

/* A field by its JSON name or its proto name; NULL when absent or null. */
static json_t *field(json_t *obj, const char *json_name, const char *proto_name)
{
	json_t *v = json_object_get(obj, json_name);
	if (v == NULL && proto_name != NULL)
		v = json_object_get(obj, proto_name);
	return json_is_null(v) ? NULL : v;
}

static int want_object(json_t *v, const char *path, json_t **out, struct evo_error *err)
{
	if (v != NULL && !json_is_object(v))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: must be an object", path);
	*out = v;
	return 0;
}

/* A string without NUL bytes (paths and arguments go to C strings). */
static int want_string(json_t *v, const char *path, bool required, const char **out,
		       struct evo_error *err)
{
	if (v == NULL) {
		if (required)
			return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: required", path);
		return 0;
	}
	if (!json_is_string(v))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: must be a string", path);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: must not contain NUL", path);
	if (required && json_string_length(v) == 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: must not be empty", path);
	*out = json_string_value(v);
	return 0;
}

static int want_bool(json_t *v, const char *path, bool *out, struct evo_error *err)
{
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: must be true or false", path);
	*out = json_is_true(v);
	return 0;
}

/* uint32 as protobuf JSON has it: a number, or a string of digits. */
static int want_uint32(json_t *v, const char *path, uint32_t *out, struct evo_error *err)
{
	if (v == NULL)
		return 0;
	long long n;
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (*s == '\0' || *end != '\0' || errno != 0)
			n = -1;
	} else {
		n = -1;
	}
	if (n < 0 || n > (long long)UINT32_MAX)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: must be an integer from 0 to %u",
				     path, UINT32_MAX);
	*out = (uint32_t)n;
	return 0;
}

static int want_bytes(json_t *v, const char *path, uint8_t **out, size_t *out_len,
		      struct evo_error *err)
{
	const char *text = NULL;
	if (want_string(v, path, false, &text, err) < 0)
		return -1;
	if (text == NULL)
		return 0;
	size_t len = json_string_length(v);
	uint8_t *data = xmalloc(len * 3 / 4 + 3);
	if (!base64_decode(text, len, data, out_len)) {
		free(data);
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: must be base64", path);
	}
	free(*out);
	*out = data;
	return 0;
}

static int parse_process_config(json_t *process, struct envd_request *r, struct evo_error *err)
{
	if (process == NULL)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "process: required");
	if (want_string(field(process, "cmd", NULL), "process.cmd", true, &r->cmd, err) < 0)
		return -1;
	json_t *args = field(process, "args", NULL);
	if (args != NULL) {
		if (!json_is_array(args))
			return evo_error_set(err, EVO_ERR_INVALID, 0, "process.args: must be an array");
		if (json_array_size(args) > ENVD_MAX_ARGS)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "process.args: at most %d arguments", ENVD_MAX_ARGS);
		r->args = xcalloc(json_array_size(args) + 1, sizeof *r->args);
		for (size_t i = 0; i < json_array_size(args); i++) {
			char path[48];
			snprintf(path, sizeof path, "process.args[%zu]", i);
			if (want_string(json_array_get(args, i), path, false, &r->args[i], err) < 0)
				return -1;
			if (r->args[i] == NULL)
				r->args[i] = "";
			r->nargs++;
		}
	}
	json_t *envs = field(process, "envs", NULL);
	if (envs != NULL) {
		if (!json_is_object(envs))
			return evo_error_set(err, EVO_ERR_INVALID, 0, "process.envs: must be an object");
		const char *key;
		json_t *value;
		json_object_foreach(envs, key, value)
		{
			if (*key == '\0' || strchr(key, '=') != NULL || strlen(key) > 1024)
				return evo_error_set(err, EVO_ERR_INVALID, 0,
						     "process.envs: \"%.64s\" is not a variable name",
						     key);
			char path[96];
			snprintf(path, sizeof path, "process.envs.%.64s", key);
			const char *s = NULL;
			if (want_string(value, path, false, &s, err) < 0)
				return -1;
		}
		r->envs = envs;
	}
	return want_string(field(process, "cwd", NULL), "process.cwd", false, &r->cwd, err);
}

static int parse_selector(json_t *body, struct envd_request *r, struct evo_error *err)
{
	json_t *process = NULL;
	if (want_object(field(body, "process", NULL), "process", &process, err) < 0)
		return -1;
	if (process == NULL)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "process: required (pid or tag)");
	json_t *pid = field(process, "pid", NULL);
	if (pid != NULL) {
		if (want_uint32(pid, "process.pid", &r->pid, err) < 0)
			return -1;
		if (r->pid == 0)
			return evo_error_set(err, EVO_ERR_INVALID, 0, "process.pid: must not be 0");
		return 0;
	}
	if (want_string(field(process, "tag", NULL), "process.tag", false, &r->selector_tag, err) < 0)
		return -1;
	if (r->selector_tag == NULL || *r->selector_tag == '\0')
		return evo_error_set(err, EVO_ERR_INVALID, 0, "process: give pid or tag");
	return 0;
}

static int parse_signal(json_t *v, int *out, struct evo_error *err)
{
	if (v == NULL)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "signal: required (SIGNAL_SIGKILL or SIGNAL_SIGTERM)");
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcmp(s, "SIGNAL_SIGKILL") == 0)
			*out = SIGKILL;
		else if (strcmp(s, "SIGNAL_SIGTERM") == 0)
			*out = SIGTERM;
		else
			*out = 0;
	} else if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		*out = n == SIGKILL || n == SIGTERM ? (int)n : 0;
	} else {
		*out = 0;
	}
	if (*out == 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "signal: must be SIGNAL_SIGKILL or SIGNAL_SIGTERM");
	return 0;
}

static int parse_body(json_t *body, struct envd_request *r, struct evo_error *err)
{
	json_t *v = NULL;
	switch (r->method) {
	case ENVD_PROCESS_START:
		if (want_object(field(body, "process", NULL), "process", &v, err) < 0 ||
		    parse_process_config(v, r, err) < 0)
			return -1;
		v = field(body, "stdin", NULL);
		if (v != NULL) {
			r->stdin_given = true;
			if (want_bool(v, "stdin", &r->stdin_open, err) < 0)
				return -1;
		}
		if (want_object(field(body, "pty", NULL), "pty", &v, err) < 0)
			return -1;
		r->pty = v != NULL;
		return want_string(field(body, "tag", NULL), "tag", false, &r->tag, err);
	case ENVD_PROCESS_CONNECT:
	case ENVD_PROCESS_CLOSE_STDIN:
	case ENVD_PROCESS_UPDATE:
		return parse_selector(body, r, err);
	case ENVD_PROCESS_SEND_SIGNAL:
		if (parse_selector(body, r, err) < 0)
			return -1;
		return parse_signal(field(body, "signal", NULL), &r->signal, err);
	case ENVD_PROCESS_SEND_INPUT: {
		if (parse_selector(body, r, err) < 0)
			return -1;
		json_t *input = NULL;
		if (want_object(field(body, "input", NULL), "input", &input, err) < 0)
			return -1;
		if (input == NULL)
			return evo_error_set(err, EVO_ERR_INVALID, 0, "input: required");
		json_t *pty = field(input, "pty", NULL);
		if (pty != NULL) {
			r->input_pty = true;
			return want_bytes(pty, "input.pty", &r->input, &r->input_len, err);
		}
		return want_bytes(field(input, "stdin", NULL), "input.stdin", &r->input,
				  &r->input_len, err);
	}
	case ENVD_PROCESS_LIST:
	case ENVD_PROCESS_STREAM_INPUT:
		return 0;
	case ENVD_FS_MOVE:
		if (want_string(field(body, "source", NULL), "source", true, &r->path, err) < 0)
			return -1;
		return want_string(field(body, "destination", NULL), "destination", true,
				   &r->destination, err);
	case ENVD_FS_LIST_DIR:
		r->depth = 1;
		if (want_uint32(field(body, "depth", NULL), "depth", &r->depth, err) < 0)
			return -1;
		if (r->depth == 0)
			r->depth = 1;
		if (r->depth > ENVD_MAX_DEPTH)
			return evo_error_set(err, EVO_ERR_INVALID, 0, "depth: at most %d",
					     ENVD_MAX_DEPTH);
		return want_string(field(body, "path", NULL), "path", true, &r->path, err);
	case ENVD_FS_WATCH_DIR:
		if (want_bool(field(body, "recursive", NULL), "recursive", &r->recursive, err) < 0 ||
		    want_bool(field(body, "includeEntry", "include_entry"), "includeEntry",
			      &r->include_entry, err) < 0)
			return -1;
		return want_string(field(body, "path", NULL), "path", true, &r->path, err);
	case ENVD_FS_STAT:
	case ENVD_FS_MAKE_DIR:
	case ENVD_FS_REMOVE:
		return want_string(field(body, "path", NULL), "path", true, &r->path, err);
	case ENVD_METHOD_UNKNOWN:
		break;
	}
	return evo_error_set(err, EVO_ERR_INVALID, 0, "method: not an envd method");
}

int envd_request_parse(enum envd_method m, const char *json, size_t len, struct envd_request *out,
		       struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	out->method = m;
	json_error_t jerr;
	/* An empty body is the empty message. */
	out->body = len == 0 ? json_object() : json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (out->body == NULL)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "body: not JSON (line %d, column %d: %s)",
				     jerr.line, jerr.column, jerr.text);
	if (!json_is_object(out->body))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "body: must be a JSON object");
	return parse_body(out->body, out, err);
}

void envd_request_free(struct envd_request *r)
{
	free(r->args);
	free(r->input);
	json_decref(r->body);
	memset(r, 0, sizeof *r);
}

bool envd_user_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 32 || name[0] == '-' || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

int envd_basic_user(const char *header, char *out, size_t size, struct evo_error *err)
{
	if (strncasecmp(header, "Basic ", 6) != 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "Authorization: only Basic credentials name a user");
	const char *b64 = header + 6;
	while (*b64 == ' ')
		b64++;
	size_t len = strlen(b64);
	if (len > 256)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "Authorization: too long");
	uint8_t decoded[256];
	size_t n;
	if (!base64_decode(b64, len, decoded, &n))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "Authorization: not base64");
	uint8_t *colon = memchr(decoded, ':', n);
	size_t name_len = colon ? (size_t)(colon - decoded) : n;
	if (name_len >= size)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "Authorization: user name too long");
	memcpy(out, decoded, name_len);
	out[name_len] = '\0';
	if (!envd_user_name_valid(out))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "Authorization: \"%.32s\" is not a user name", out);
	return 0;
}

/* ---- EntryInfo -------------------------------------------------------------- */

/* Go's os.FileMode.String(), which envd reports as permissions. */
static void permissions_text(uint32_t mode, char type, char out[11])
{
	out[0] = type == 'd' ? 'd' : type == 'l' ? 'L' : type == 'f' ? '-' : '?';
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = mode & (1u << (8 - i)) ? rwx[i] : '-';
	out[10] = '\0';
}

json_t *envd_entry_json(const uint8_t *fields, size_t len)
{
	struct evo_field_iter it;
	struct evo_field f;
	_cleanup_free_ char *path = NULL, *user = NULL, *link = NULL;
	json_t *metadata = json_object();
	uint8_t type = 'o';
	uint64_t size = 0;
	uint32_t mode = 0, uid = 0, gid = 0;
	int64_t mtime = 0;
	evo_field_iter_init(&it, fields, len);
	while (evo_field_next(&it, &f, NULL) > 0) {
		switch (f.tag) {
		case EVO_F_PATH:
			if (path == NULL)
				evo_field_string(&f, &path, NULL);
			break;
		case EVO_F_USER:
			if (user == NULL)
				evo_field_string(&f, &user, NULL);
			break;
		case EVO_F_LINK_TARGET:
			if (link == NULL)
				evo_field_string(&f, &link, NULL);
			break;
		case EVO_F_TYPE:
			evo_field_u8(&f, &type, NULL);
			break;
		case EVO_F_SIZE:
			evo_field_u64(&f, &size, NULL);
			break;
		case EVO_F_MODE:
			evo_field_u32(&f, &mode, NULL);
			break;
		case EVO_F_UID:
			evo_field_u32(&f, &uid, NULL);
			break;
		case EVO_F_GID:
			evo_field_u32(&f, &gid, NULL);
			break;
		case EVO_F_MTIME:
			evo_field_i64(&f, &mtime, NULL);
			break;
		case EVO_F_XATTR: {
			_cleanup_free_ char *kv = NULL;
			const size_t prefix = sizeof EVO_XATTR_METADATA_PREFIX - 1;
			if (evo_field_string(&f, &kv, NULL) < 0 ||
			    strncmp(kv, EVO_XATTR_METADATA_PREFIX, prefix) != 0)
				break;
			char *eq = strchr(kv, '=');
			if (eq == NULL)
				break;
			*eq = '\0';
			json_t *v = json_stringn_nocheck(eq + 1, strlen(eq + 1));
			if (json_object_set_new(metadata, kv + prefix, v) < 0)
				break;
			break;
		}
		default:
			break;
		}
	}
	const char *p = path ? path : "";
	const char *slash = strrchr(p, '/');
	const char *name = slash && slash[1] ? slash + 1 : p;
	char perms[11], owner[32], group[32], when[32];
	permissions_text(mode, (char)type, perms);
	snprintf(owner, sizeof owner, "%s", user ? user : "");
	if (!user)
		snprintf(owner, sizeof owner, "%u", uid);
	/* No /etc/group here: the owner's name stands for its own group. */
	if (gid == 0)
		snprintf(group, sizeof group, "root");
	else if (user && gid == uid)
		snprintf(group, sizeof group, "%s", user);
	else
		snprintf(group, sizeof group, "%u", gid);
	time_t t = (time_t)mtime;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *type_name = type == 'f'   ? "FILE_TYPE_FILE"
				: type == 'd' ? "FILE_TYPE_DIRECTORY"
				: type == 'l' ? "FILE_TYPE_SYMLINK"
					      : "FILE_TYPE_UNSPECIFIED";
	json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:i, s:s, s:s, s:s, s:s}", "name", name, "type",
			      type_name, "path", p, "size", (json_int_t)size, "mode",
			      (int)(mode & 07777), "permissions", perms, "owner", owner, "group",
			      group, "modifiedTime", when);
	if (link)
		json_object_set_new(e, "symlinkTarget", json_string(link));
	if (json_object_size(metadata) > 0)
		json_object_set_new(e, "metadata", metadata);
	else
		json_decref(metadata);
	return e;
}
