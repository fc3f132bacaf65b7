/* File requests: read (streamed), write, list, stat, mkdir, remove,
 * rename. Paths are absolute (the decoder checks) and resolved inside the
 * sandbox's root as init sees it. Reads of any size stream in chunks under
 * the queue's backpressure; nothing else is ever held whole in memory
 * except one request's DATA. */
#include "guest/init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"

/* A FILE_READ still streaming. */
struct init_file_read {
	struct init_file_read *next;
	uint32_t stream;
	int fd;
	char *path;
	uint64_t offset;
	uint64_t remaining;
	uint64_t sent;
};

/* Owner names for stat replies, cached for the uid asked last: a listing
 * asks about the same one or two owners over and over. */
struct owner_cache {
	bool valid;
	uid_t uid;
	bool found;
	char name[64];
};

static void cleanup_closedirp(DIR **d)
{
	if (*d != NULL)
		closedir(*d);
}

static void reply_ok_size(struct evo_buf *out, uint32_t stream, uint64_t size)
{
	size_t mark = evo_frame_begin(out, stream, EVO_MSG_OK, 0);
	evo_frame_add_u64(out, EVO_F_SIZE, size);
	evo_frame_end(out, mark);
}

/* dir + "/" + name without doubling the slash after "/". Caller frees. */
static char *path_join(const char *dir, const char *name)
{
	size_t len = strlen(dir);
	return xasprintf("%s%s%s", dir, len > 0 && dir[len - 1] == '/' ? "" : "/", name);
}

/* path without trailing slashes ("/" stays "/"). Caller frees. */
static char *path_trim(const char *path)
{
	char *p = xstrdup(path);
	size_t len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	return p;
}

/* Split an absolute path into its parent directory and last component,
 * both malloc'd. The last component of "/" is "". */
static void path_split(const char *path, char **parent, char **leaf)
{
	_cleanup_free_ char *trimmed = path_trim(path);
	char *slash = strrchr(trimmed, '/');
	*leaf = xstrdup(slash + 1);
	*parent = slash == trimmed ? xstrdup("/") : xstrndup(trimmed, (size_t)(slash - trimmed));
}

static char file_type(mode_t mode)
{
	if (S_ISREG(mode))
		return 'f';
	if (S_ISDIR(mode))
		return 'd';
	if (S_ISLNK(mode))
		return 'l';
	return 'o';
}

/* XATTR fields for the user.e2b.* attributes of path (E2B's file
 * metadata), not following a symlink. Best effort: a file system without
 * user xattrs has none. */
static void add_metadata_fields(struct evo_buf *b, const char *path)
{
	char names[4096];
	ssize_t len = llistxattr(path, names, sizeof names);
	const size_t prefix = sizeof EVO_XATTR_METADATA_PREFIX - 1;
	for (ssize_t pos = 0; len > 0 && pos < len; pos += (ssize_t)strlen(names + pos) + 1) {
		const char *name = names + pos;
		if (strncmp(name, EVO_XATTR_METADATA_PREFIX, prefix) != 0 || strchr(name, '='))
			continue;
		char value[1024];
		ssize_t n = lgetxattr(path, name, value, sizeof value);
		if (n < 0 || memchr(value, '\0', (size_t)n) != NULL)
			continue;
		char field[1400];
		int m = snprintf(field, sizeof field, "%s=%.*s", name, (int)n, value);
		if (m > 0 && (size_t)m < sizeof field)
			evo_frame_add_str(b, EVO_F_XATTR, field);
	}
}

/* Append the fields describing one file (NAME PATH TYPE SIZE MODE MTIME
 * UID GID [USER] [LINK_TARGET]); dirfd and leaf locate it for readlinkat. */
static void add_stat_fields(struct evo_buf *b, const char *name, const char *path,
			    const struct stat *st, int dirfd, const char *leaf,
			    struct owner_cache *owners)
{
	evo_frame_add_str(b, EVO_F_NAME, name);
	evo_frame_add_str(b, EVO_F_PATH, path);
	evo_frame_add_u8(b, EVO_F_TYPE, (uint8_t)file_type(st->st_mode));
	evo_frame_add_u64(b, EVO_F_SIZE, (uint64_t)st->st_size);
	evo_frame_add_u32(b, EVO_F_MODE, (uint32_t)st->st_mode);
	evo_frame_add_i64(b, EVO_F_MTIME, (int64_t)st->st_mtim.tv_sec);
	evo_frame_add_u32(b, EVO_F_UID, (uint32_t)st->st_uid);
	evo_frame_add_u32(b, EVO_F_GID, (uint32_t)st->st_gid);
	if (!owners->valid || owners->uid != st->st_uid) {
		struct passwd_entry pw;
		owners->valid = true;
		owners->uid = st->st_uid;
		owners->found = init_passwd_lookup(st->st_uid, &pw) == 0;
		if (owners->found)
			memcpy(owners->name, pw.name, sizeof owners->name);
	}
	if (owners->found)
		evo_frame_add_str(b, EVO_F_USER, owners->name);
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dirfd, leaf, target, sizeof target);
		if (n >= 0)
			evo_frame_add(b, EVO_F_LINK_TARGET, target, (uint32_t)n);
	} else {
		add_metadata_fields(b, path);
	}
}

/* OK carrying the stat fields of path (lstat: a symlink is described,
 * not followed). */
/* The stat fields of path (lstat) appended to b, or -1 with errno. */
static int add_path_stat_fields(struct evo_buf *b, const char *path)
{
	struct stat st;
	struct owner_cache owners = {0};
	if (lstat(path, &st) < 0)
		return -1;
	_cleanup_free_ char *parent = NULL, *leaf = NULL;
	path_split(path, &parent, &leaf);
	add_stat_fields(b, leaf[0] != '\0' ? leaf : "/", path, &st, AT_FDCWD, path, &owners);
	return 0;
}

bool init_files_add_entry(struct evo_buf *b, const char *path)
{
	struct evo_buf fields = {0};
	bool ok = add_path_stat_fields(&fields, path) == 0;
	if (ok)
		evo_frame_add(b, EVO_F_ENTRY, fields.data, (uint32_t)fields.len);
	evo_buf_free(&fields);
	return ok;
}

static int reply_stat(struct evo_buf *out, uint32_t stream, const char *path,
		      struct evo_error *err)
{
	struct evo_buf fields = {0};
	if (add_path_stat_fields(&fields, path) < 0)
		return evo_error_errno(err, "cannot stat '%s'", path);
	size_t mark = evo_frame_begin(out, stream, EVO_MSG_OK, 0);
	evo_buf_append(out, fields.data, fields.len);
	evo_frame_end(out, mark);
	evo_buf_free(&fields);
	return 0;
}

static int chown_new(const char *path, int fd, const struct init_request *req,
		     struct evo_error *err)
{
	if (!INIT_HAS(req, EVO_F_UID) && !INIT_HAS(req, EVO_F_GID))
		return 0;
	uid_t uid = INIT_HAS(req, EVO_F_UID) ? req->uid : (uid_t)-1;
	gid_t gid = INIT_HAS(req, EVO_F_GID) ? req->gid : (gid_t)-1;
	int r = fd >= 0 ? fchown(fd, uid, gid) : lchown(path, uid, gid);
	if (r < 0)
		return evo_error_errno(err, "cannot change the owner of '%s' to %d:%d", path,
				       (int)uid, (int)gid);
	return 0;
}

/* mkdir -p of the directory path is in (not of path itself). Created
 * directories get mode 0755 and the request's UID/GID. */
static int make_parents(const char *path, const struct init_request *req, struct evo_error *err)
{
	_cleanup_free_ char *dirs = path_trim(path);
	char *slash = strrchr(dirs, '/');
	if (slash == dirs)
		return 0; /* the parent is / */
	*slash = '\0';
	for (char *p = dirs + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(dirs, 0755) == 0) {
			if (chown_new(dirs, -1, req, err) < 0)
				return -1;
		} else if (errno != EEXIST) {
			return evo_error_errno(err, "cannot create directory '%s'", dirs);
		} else {
			struct stat st;
			if (stat(dirs, &st) < 0)
				return evo_error_errno(err, "cannot stat '%s'", dirs);
			if (!S_ISDIR(st.st_mode))
				return evo_error_set(err, EVO_ERR_INVALID, ENOTDIR,
						     "'%s' exists and is not a directory", dirs);
		}
		*p = saved;
		if (saved == '\0')
			return 0;
	}
}

/* ---- FILE_READ ------------------------------------------------------------ */

bool init_files_stream_busy(const struct init_loop *l, uint32_t stream)
{
	for (const struct init_file_read *r = l->reads; r != NULL; r = r->next)
		if (r->stream == stream)
			return true;
	return false;
}

static void file_read_free(struct init_file_read *r)
{
	close(r->fd);
	free(r->path);
	free(r);
}

void init_files_free_all(struct init_loop *l)
{
	while (l->reads != NULL) {
		struct init_file_read *r = l->reads;
		l->reads = r->next;
		file_read_free(r);
	}
}

int init_files_read(void *ctx, struct init_request *req, struct evo_buf *out,
		    struct evo_error *err)
{
	struct init_loop *l = ctx;
	if (init_loop_stream_busy(l, req->stream))
		return evo_error_set(err, EVO_ERR_CONFLICT, 0, "stream %u is already in use",
				     req->stream);
	/* O_NONBLOCK: opening a FIFO must not hang init; it is refused below. */
	_cleanup_close_ int fd = open(req->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return evo_error_errno(err, "cannot open '%s' for reading", req->path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return evo_error_errno(err, "cannot stat '%s'", req->path);
	if (S_ISDIR(st.st_mode))
		return evo_error_set(err, EVO_ERR_INVALID, EISDIR, "cannot read '%s'; list it instead",
				     req->path);
	if (!S_ISREG(st.st_mode))
		return evo_error_set(err, EVO_ERR_INVALID, EINVAL,
				     "cannot read '%s': not a regular file", req->path);

	struct init_file_read *r = xcalloc(1, sizeof *r);
	r->stream = req->stream;
	r->fd = steal_fd(&fd);
	r->path = steal_pointer(&req->path);
	r->offset = req->offset;
	r->remaining = INIT_HAS(req, EVO_F_LENGTH) ? req->length : UINT64_MAX;
	struct init_file_read **tail = &l->reads;
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = r;
	return 0;
}

/* Queue the next chunk of r. Returns false once r is finished (its OK or
 * ERROR queued). */
static bool file_read_step(struct init_loop *l, struct init_file_read *r)
{
	size_t want = r->remaining < EVO_PROTO_CHUNK ? (size_t)r->remaining : EVO_PROTO_CHUNK;
	ssize_t n = 0;
	struct evo_buf frames = {0};

	if (want > 0 && r->offset <= INT64_MAX) {
		do
			n = pread(r->fd, l->chunk, want, (off_t)r->offset);
		while (n < 0 && errno == EINTR);
	}
	if (n < 0) {
		struct evo_error err;
		evo_error_errno(&err, "cannot read '%s' at offset %llu", r->path,
				(unsigned long long)r->offset);
		evo_frame_error(&frames, r->stream, err.errnum, err.msg);
	} else if (n == 0) {
		reply_ok_size(&frames, r->stream, r->sent);
	} else {
		size_t mark = evo_frame_begin(&frames, r->stream, EVO_MSG_FILE_DATA, 0);
		evo_frame_add(&frames, EVO_F_DATA, l->chunk, (uint32_t)n);
		evo_frame_end(&frames, mark);
		r->offset += (uint64_t)n;
		r->remaining -= (uint64_t)n;
		r->sent += (uint64_t)n;
	}
	init_loop_queue(l, &frames);
	return n > 0;
}

bool init_files_pump(struct init_loop *l)
{
	/* Round robin, one chunk per read and pass, so one large file does
	 * not hold up the others. */
	while (l->reads != NULL && !init_loop_congested(l)) {
		for (struct init_file_read **pp = &l->reads; *pp != NULL;) {
			struct init_file_read *r = *pp;
			if (file_read_step(l, r)) {
				pp = &r->next;
			} else {
				*pp = r->next;
				file_read_free(r);
			}
			if (init_loop_congested(l))
				break;
		}
	}
	return l->reads != NULL;
}

/* ---- FILE_WRITE ----------------------------------------------------------- */

int init_files_write(void *ctx, struct init_request *req, struct evo_buf *out,
		     struct evo_error *err)
{
	if ((req->flags & EVO_FLAG_FILE_MKPARENTS) && make_parents(req->path, req, err) < 0)
		return -1;

	/* O_NONBLOCK: a FIFO without a reader fails instead of hanging init. */
	int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	if (req->flags & EVO_FLAG_FILE_APPEND)
		flags |= O_APPEND;
	bool truncate = !(req->flags & EVO_FLAG_FILE_APPEND) && !INIT_HAS(req, EVO_F_OFFSET);
	mode_t mode = INIT_HAS(req, EVO_F_MODE) ? req->mode : 0644;

	/* O_EXCL first, to know whether the file is new: only new files are
	 * given the requested owner. */
	bool created = true;
	_cleanup_close_ int fd = open(req->path, flags | O_CREAT | O_EXCL, mode);
	if (fd < 0 && errno == EEXIST) {
		created = false;
		fd = open(req->path, flags | (truncate ? O_TRUNC : 0));
	}
	if (fd < 0)
		return evo_error_errno(err, "cannot open '%s' for writing", req->path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return evo_error_errno(err, "cannot stat '%s'", req->path);
	if (!S_ISREG(st.st_mode))
		return evo_error_set(err, EVO_ERR_INVALID, EINVAL,
				     "cannot write '%s': not a regular file", req->path);
	if (created && chown_new(req->path, fd, req, err) < 0)
		return -1;
	if (!created && INIT_HAS(req, EVO_F_MODE) && fchmod(fd, mode) < 0)
		return evo_error_errno(err, "cannot change the mode of '%s' to 0%o", req->path,
				       (unsigned)mode);

	size_t done = 0;
	while (done < req->data_len) {
		ssize_t n;
		if (INIT_HAS(req, EVO_F_OFFSET))
			n = pwrite(fd, req->data + done, req->data_len - done,
				   (off_t)(req->offset + done));
		else
			n = write(fd, req->data + done, req->data_len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return evo_error_errno(err, "cannot write to '%s' after %zu bytes", req->path,
					       done);
		}
		done += (size_t)n;
	}
	for (size_t i = 0; i < req->nxattrs; i++) {
		char *eq = strchr(req->xattrs[i], '=');
		*eq = '\0';
		int r = fsetxattr(fd, req->xattrs[i], eq + 1, strlen(eq + 1), 0);
		*eq = '=';
		if (r < 0)
			return evo_error_errno(err, "cannot set the attribute %.*s of '%s'",
					       (int)(eq - req->xattrs[i]), req->xattrs[i], req->path);
	}
	reply_ok_size(out, req->stream, done);
	return 0;
}

/* ---- FILE_LIST, FILE_STAT ----------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct listing {
	struct evo_buf entries;
	size_t count;
	struct owner_cache owners;
};

/* The names in the directory dirfd, sorted, without "." and "..". */
static int read_names(int dirfd, const char *abs, char ***names, size_t *count,
		      struct evo_error *err)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return evo_error_errno(err, "cannot list '%s'", abs);
	__attribute__((cleanup(cleanup_closedirp))) DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return evo_error_errno(err, "cannot list '%s'", abs);
	}
	/* fdopendir shares the offset of the fd it was given with dirfd's
	 * other duplicates; start from the beginning. */
	rewinddir(d);
	*names = NULL;
	*count = 0;
	struct dirent *de;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		*names = xrealloc(*names, (*count + 1) * sizeof **names);
		(*names)[(*count)++] = xstrdup(de->d_name);
	}
	if (errno != 0) {
		int saved = errno;
		for (size_t i = 0; i < *count; i++)
			free((*names)[i]);
		free(*names);
		*names = NULL;
		errno = saved;
		return evo_error_errno(err, "cannot list '%s'", abs);
	}
	if (*count > 1)
		qsort(*names, *count, sizeof **names, compare_names);
	return 0;
}

/* List dirfd (at absolute path abs, rel relative to the listed root) and
 * its subdirectories down to depth levels. Symlinks are listed, never
 * followed; unreadable subdirectories are listed, not entered. */
static int list_dir(int dirfd, const char *abs, const char *rel, uint32_t depth,
		    struct listing *ls, struct evo_error *err)
{
	char **names = NULL;
	size_t count = 0;
	int r = 0;

	if (read_names(dirfd, abs, &names, &count, err) < 0)
		return -1;
	for (size_t i = 0; i < count && r == 0; i++) {
		struct stat st;
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* removed since readdir */
		if (++ls->count > INIT_LIST_MAX_ENTRIES) {
			r = evo_error_set(err, EVO_ERR_LIMIT, E2BIG,
					  "more than %u entries; list with a smaller DEPTH",
					  INIT_LIST_MAX_ENTRIES);
			break;
		}
		_cleanup_free_ char *child_abs = path_join(abs, names[i]);
		_cleanup_free_ char *child_rel = rel[0] != '\0' ? path_join(rel, names[i])
								 : xstrdup(names[i]);
		size_t mark = evo_frame_nest_begin(&ls->entries, EVO_F_ENTRY);
		add_stat_fields(&ls->entries, child_rel, child_abs, &st, dirfd, names[i], &ls->owners);
		evo_frame_nest_end(&ls->entries, mark);
		if (S_ISDIR(st.st_mode) && depth > 1) {
			_cleanup_close_ int sub = openat(dirfd, names[i],
							 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				r = list_dir(sub, child_abs, child_rel, depth - 1, ls, err);
		}
	}
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return r;
}

int init_files_list(void *ctx, struct init_request *req, struct evo_buf *out,
		    struct evo_error *err)
{
	/* The listed directory itself may be reached through a symlink, as
	 * `ls dir/` would; nothing below it is. */
	_cleanup_close_ int fd = open(req->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return evo_error_errno(err, "cannot open directory '%s'", req->path);
	_cleanup_free_ char *root = path_trim(req->path);
	struct listing ls = {0};
	uint32_t depth = INIT_HAS(req, EVO_F_DEPTH) ? req->depth : 1;
	if (list_dir(fd, root, "", depth, &ls, err) < 0) {
		evo_buf_free(&ls.entries);
		return -1;
	}
	init_reply_entries(out, req->stream, &ls.entries);
	evo_buf_free(&ls.entries);
	return 0;
}

int init_files_stat(void *ctx, struct init_request *req, struct evo_buf *out,
		    struct evo_error *err)
{
	return reply_stat(out, req->stream, req->path, err);
}

/* ---- FILE_MKDIR, FILE_REMOVE, FILE_RENAME ---------------------------------- */

int init_files_mkdir(void *ctx, struct init_request *req, struct evo_buf *out,
		     struct evo_error *err)
{
	if ((req->flags & EVO_FLAG_FILE_MKPARENTS) && make_parents(req->path, req, err) < 0)
		return -1;
	mode_t mode = INIT_HAS(req, EVO_F_MODE) ? req->mode : 0755;
	if (mkdir(req->path, mode) == 0) {
		if (chown_new(req->path, -1, req, err) < 0)
			return -1;
	} else if (errno == EEXIST && !(req->flags & EVO_FLAG_FILE_EXCL)) {
		struct stat st;
		if (stat(req->path, &st) < 0)
			return evo_error_errno(err, "cannot stat '%s'", req->path);
		if (!S_ISDIR(st.st_mode))
			return evo_error_set(err, EVO_ERR_INVALID, ENOTDIR,
					     "'%s' exists and is not a directory", req->path);
	} else {
		return evo_error_errno(err, "cannot create directory '%s'", req->path);
	}
	return reply_stat(out, req->stream, req->path, err);
}

/* Remove the directory name in parent_fd and everything below it, without
 * following symlinks (O_NOFOLLOW on every directory opened, AT_SYMLINK_
 * NOFOLLOW on every stat) and without crossing into other filesystems. */
static int remove_tree(int parent_fd, const char *name, const char *path, dev_t dev,
		       struct evo_error *err)
{
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return evo_error_errno(err, "cannot open directory '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return evo_error_errno(err, "cannot stat '%s'", path);
	}
	if (st.st_dev != dev) {
		close(fd);
		return evo_error_set(err, EVO_ERR_INVALID, EXDEV,
				     "'%s' is a mount point; not removed", path);
	}
	__attribute__((cleanup(cleanup_closedirp))) DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return evo_error_errno(err, "cannot list '%s'", path);
	}
	struct dirent *de;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *child = path_join(path, de->d_name);
		struct stat cst;
		if (fstatat(dirfd(d), de->d_name, &cst, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return evo_error_errno(err, "cannot stat '%s'", child);
		}
		if (S_ISDIR(cst.st_mode)) {
			if (remove_tree(dirfd(d), de->d_name, child, dev, err) < 0)
				return -1;
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			return evo_error_errno(err, "cannot remove '%s'", child);
		}
	}
	if (errno != 0)
		return evo_error_errno(err, "cannot list '%s'", path);
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0)
		return evo_error_errno(err, "cannot remove directory '%s'", path);
	return 0;
}

int init_files_remove(void *ctx, struct init_request *req, struct evo_buf *out,
		      struct evo_error *err)
{
	_cleanup_free_ char *parent = NULL, *leaf = NULL;
	path_split(req->path, &parent, &leaf);
	if (leaf[0] == '\0' || strcmp(leaf, ".") == 0 || strcmp(leaf, "..") == 0)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "field PATH: refusing to remove '%s'", req->path);
	/* The parent is resolved like any path; only the removed entry and
	 * what is below it are never followed through a symlink. */
	_cleanup_close_ int parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent_fd < 0)
		return evo_error_errno(err, "cannot remove '%s': cannot open '%s'", req->path,
				       parent);
	struct stat st;
	if (fstatat(parent_fd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return evo_error_errno(err, "cannot remove '%s'", req->path);
	if (S_ISDIR(st.st_mode)) {
		if (req->flags & EVO_FLAG_FILE_RECURSIVE) {
			if (remove_tree(parent_fd, leaf, req->path, st.st_dev, err) < 0)
				return -1;
		} else if (unlinkat(parent_fd, leaf, AT_REMOVEDIR) < 0) {
			return evo_error_errno(err, "cannot remove directory '%s'%s", req->path,
					       errno == ENOTEMPTY ? " (set RECURSIVE to remove a tree)"
								  : "");
		}
	} else if (unlinkat(parent_fd, leaf, 0) < 0) {
		return evo_error_errno(err, "cannot remove '%s'", req->path);
	}
	size_t mark = evo_frame_begin(out, req->stream, EVO_MSG_OK, 0);
	evo_frame_end(out, mark);
	return 0;
}

int init_files_rename(void *ctx, struct init_request *req, struct evo_buf *out,
		      struct evo_error *err)
{
	if (rename(req->path, req->new_path) < 0)
		return evo_error_errno(err, "cannot rename '%s' to '%s'", req->path, req->new_path);
	return reply_stat(out, req->stream, req->new_path, err);
}
