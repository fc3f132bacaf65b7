/* Requests: a parsed frame becomes a typed, validated struct init_request,
 * so handlers never look at raw fields and every check on untrusted input
 * sits in this one file (which the fuzzer drives directly). */
#include "guest/init.h"

#include <signal.h>
#include <string.h>

#include "common/cleanup.h"

#define BIT(tag) (UINT64_C(1) << (tag))

/* Which fields each request reads (others are ignored, like unknown tags),
 * which it requires, and which frame flags it defines. */
struct request_spec {
	uint64_t accepted;
	uint64_t required;
	uint8_t flags;
};

static const struct request_spec request_specs[EVO_MSG_INIT_REQUEST_LAST + 1] = {
	[EVO_MSG_PROC_START] = {
		.accepted = BIT(EVO_F_ARGV) | BIT(EVO_F_ENV) | BIT(EVO_F_CWD) | BIT(EVO_F_UID) |
			    BIT(EVO_F_GID) | BIT(EVO_F_STDIN) | BIT(EVO_F_TAG),
		.required = BIT(EVO_F_ARGV),
	},
	[EVO_MSG_PROC_STDIN] = {
		.accepted = BIT(EVO_F_DATA),
		.required = BIT(EVO_F_DATA),
	},
	[EVO_MSG_PROC_CLOSE_STDIN] = {0},
	[EVO_MSG_PROC_SIGNAL] = {
		.accepted = BIT(EVO_F_SIGNAL) | BIT(EVO_F_PID),
		.required = BIT(EVO_F_SIGNAL),
	},
	[EVO_MSG_PROC_LIST] = {0},
	[EVO_MSG_FILE_READ] = {
		.accepted = BIT(EVO_F_PATH) | BIT(EVO_F_OFFSET) | BIT(EVO_F_LENGTH),
		.required = BIT(EVO_F_PATH),
	},
	[EVO_MSG_FILE_WRITE] = {
		.accepted = BIT(EVO_F_PATH) | BIT(EVO_F_DATA) | BIT(EVO_F_OFFSET) |
			    BIT(EVO_F_MODE) | BIT(EVO_F_UID) | BIT(EVO_F_GID) | BIT(EVO_F_XATTR),
		.required = BIT(EVO_F_PATH) | BIT(EVO_F_DATA),
		.flags = EVO_FLAG_FILE_APPEND | EVO_FLAG_FILE_MKPARENTS,
	},
	[EVO_MSG_FILE_LIST] = {
		.accepted = BIT(EVO_F_PATH) | BIT(EVO_F_DEPTH),
		.required = BIT(EVO_F_PATH),
	},
	[EVO_MSG_FILE_STAT] = {
		.accepted = BIT(EVO_F_PATH),
		.required = BIT(EVO_F_PATH),
	},
	[EVO_MSG_FILE_MKDIR] = {
		.accepted = BIT(EVO_F_PATH) | BIT(EVO_F_MODE) | BIT(EVO_F_UID) | BIT(EVO_F_GID),
		.required = BIT(EVO_F_PATH),
		.flags = EVO_FLAG_FILE_MKPARENTS | EVO_FLAG_FILE_EXCL,
	},
	[EVO_MSG_FILE_REMOVE] = {
		.accepted = BIT(EVO_F_PATH),
		.required = BIT(EVO_F_PATH),
		.flags = EVO_FLAG_FILE_RECURSIVE,
	},
	[EVO_MSG_FILE_RENAME] = {
		.accepted = BIT(EVO_F_PATH) | BIT(EVO_F_NEW_PATH),
		.required = BIT(EVO_F_PATH) | BIT(EVO_F_NEW_PATH),
	},
	[EVO_MSG_PING] = {0},
	[EVO_MSG_FILE_WATCH] = {
		.accepted = BIT(EVO_F_PATH),
		.required = BIT(EVO_F_PATH),
		.flags = EVO_FLAG_FILE_RECURSIVE | EVO_FLAG_WATCH_ENTRY,
	},
	[EVO_MSG_FILE_UNWATCH] = {0},
};

bool init_request_type_known(uint8_t type)
{
	return type >= EVO_MSG_PROC_START && type <= EVO_MSG_INIT_REQUEST_LAST;
}

void init_request_free(struct init_request *req)
{
	for (size_t i = 0; req->argv != NULL && i < req->argc; i++)
		free(req->argv[i]);
	free(req->argv);
	for (size_t i = 0; req->env != NULL && i < req->envc; i++)
		free(req->env[i]);
	free(req->env);
	for (size_t i = 0; req->xattrs != NULL && i < req->nxattrs; i++)
		free(req->xattrs[i]);
	free(req->xattrs);
	free(req->cwd);
	free(req->tag);
	free(req->path);
	free(req->new_path);
	memset(req, 0, sizeof *req);
}

/* Append s to a NULL-terminated vector of *n strings; takes s. */
static void strv_push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof **v);
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static int set_string(char **slot, const struct evo_field *f, struct evo_error *err)
{
	return evo_field_string(f, slot, err);
}

/* Store one accepted field in req according to its tag's wire type. */
static int request_store_field(struct init_request *req, const struct evo_field *f,
			       struct evo_error *err)
{
	char *s = NULL;

	switch ((enum evo_field_tag)f->tag) {
	case EVO_F_ARGV:
		if (evo_field_string(f, &s, err) < 0)
			return -1;
		strv_push(&req->argv, &req->argc, s);
		return 0;
	case EVO_F_ENV:
		if (evo_field_string(f, &s, err) < 0)
			return -1;
		strv_push(&req->env, &req->envc, s);
		return 0;
	case EVO_F_XATTR:
		if (evo_field_string(f, &s, err) < 0)
			return -1;
		strv_push(&req->xattrs, &req->nxattrs, s);
		return 0;
	case EVO_F_CWD: return set_string(&req->cwd, f, err);
	case EVO_F_TAG: return set_string(&req->tag, f, err);
	case EVO_F_PATH: return set_string(&req->path, f, err);
	case EVO_F_NEW_PATH: return set_string(&req->new_path, f, err);
	case EVO_F_UID: return evo_field_u32(f, &req->uid, err);
	case EVO_F_GID: return evo_field_u32(f, &req->gid, err);
	case EVO_F_PID: return evo_field_u32(f, &req->pid, err);
	case EVO_F_MODE: return evo_field_u32(f, &req->mode, err);
	case EVO_F_DEPTH: return evo_field_u32(f, &req->depth, err);
	case EVO_F_STDIN: return evo_field_u8(f, &req->stdin_pipe, err);
	case EVO_F_SIGNAL: return evo_field_i32(f, &req->signal, err);
	case EVO_F_OFFSET: return evo_field_u64(f, &req->offset, err);
	case EVO_F_LENGTH: return evo_field_u64(f, &req->length, err);
	case EVO_F_DATA:
		req->data = f->value;
		req->data_len = f->len;
		return 0;
	default:
		/* request_specs only accepts the tags above. */
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "field %s has no decoder",
				     evo_field_tag_name(f->tag));
	}
}

static int check_absolute(const char *field, const char *path, struct evo_error *err)
{
	if (path != NULL && path[0] != '/')
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field %s must be an absolute path, got '%s'", field, path);
	return 0;
}

/* Checks on values that are well-formed on the wire but make no sense. */
static int request_validate(const struct init_request *req, struct evo_error *err)
{
	if (check_absolute("PATH", req->path, err) < 0 ||
	    check_absolute("NEW_PATH", req->new_path, err) < 0 ||
	    check_absolute("CWD", req->cwd, err) < 0)
		return -1;
	if (req->argc > 0 && req->argv[0][0] == '\0')
		return evo_error_set(err, EVO_ERR_INVALID, 0, "field ARGV: the program name is empty");
	for (size_t i = 0; i < req->envc; i++) {
		const char *eq = strchr(req->env[i], '=');
		if (eq == NULL || eq == req->env[i])
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "field ENV: '%s' is not KEY=VALUE", req->env[i]);
	}
	for (size_t i = 0; i < req->nxattrs; i++) {
		const char *eq = strchr(req->xattrs[i], '=');
		if (strncmp(req->xattrs[i], "user.", 5) != 0 || eq == NULL ||
		    eq == req->xattrs[i] + 5 || eq - req->xattrs[i] > 255)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "field XATTR: '%.64s' is not user.NAME=VALUE",
					     req->xattrs[i]);
	}
	if (INIT_HAS(req, EVO_F_SIGNAL) && (req->signal < 0 || req->signal >= NSIG))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field SIGNAL: %d is not a signal number (0..%d)",
				     req->signal, NSIG - 1);
	if (INIT_HAS(req, EVO_F_PID) && (req->pid == 0 || req->pid > INT32_MAX))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field PID: %u is not a process id", req->pid);
	if (INIT_HAS(req, EVO_F_MODE) && (req->mode & ~07777u) != 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field MODE: 0%o has bits outside 07777", req->mode);
	if (INIT_HAS(req, EVO_F_DEPTH) && (req->depth == 0 || req->depth > INIT_LIST_MAX_DEPTH))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field DEPTH: %u is outside 1..%u", req->depth,
				     INIT_LIST_MAX_DEPTH);
	if ((req->flags & EVO_FLAG_FILE_APPEND) && INIT_HAS(req, EVO_F_OFFSET))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field OFFSET cannot be combined with the APPEND flag");
	if (INIT_HAS(req, EVO_F_OFFSET) && req->offset > INT64_MAX)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field OFFSET: %llu is beyond the largest file offset",
				     (unsigned long long)req->offset);
	if ((INIT_HAS(req, EVO_F_UID) && req->uid == UINT32_MAX) ||
	    (INIT_HAS(req, EVO_F_GID) && req->gid == UINT32_MAX))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "fields UID/GID: 4294967295 is not an id");
	return 0;
}

int init_request_decode(const struct evo_frame *f, struct init_request *req,
			struct evo_error *err)
{
	memset(req, 0, sizeof *req);
	if (!init_request_type_known(f->type))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "message type %u (%s) is not a request",
				     f->type, evo_msg_type_name(f->type));
	const struct request_spec *spec = &request_specs[f->type];
	const char *name = evo_msg_type_name(f->type);
	req->stream = f->stream;
	req->type = f->type;
	req->flags = f->flags;

	if ((f->flags & ~spec->flags) != 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: flags 0x%02x are not defined",
				     name, f->flags & ~spec->flags);

	struct evo_field_iter it;
	struct evo_field field;
	int r;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	while ((r = evo_field_next(&it, &field, err)) > 0) {
		if (field.tag >= 64 || !(spec->accepted & BIT(field.tag)))
			continue;
		bool repeats = field.tag == EVO_F_ARGV || field.tag == EVO_F_ENV ||
			       field.tag == EVO_F_XATTR;
		if (!repeats && INIT_HAS(req, field.tag)) {
			evo_error_set(err, EVO_ERR_INVALID, 0, "field %s given twice",
				      evo_field_tag_name(field.tag));
			goto fail;
		}
		if (request_store_field(req, &field, err) < 0)
			goto fail;
		req->present |= BIT(field.tag);
	}
	if (r < 0)
		goto fail;

	uint64_t missing = spec->required & ~req->present;
	if (missing != 0) {
		evo_error_set(err, EVO_ERR_INVALID, 0, "required field %s is missing",
			      evo_field_tag_name((uint16_t)__builtin_ctzll(missing)));
		goto fail;
	}
	if (request_validate(req, err) < 0)
		goto fail;
	return 0;

fail:
	evo_error_prefix(err, "%s", name);
	init_request_free(req);
	return -1;
}
