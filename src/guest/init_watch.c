/* Directory watches (FILE_WATCH): what E2B's WatchDir reports, from
 * inotify inside the sandbox. One inotify instance per watch, so ending a
 * watch is closing a descriptor; with RECURSIVE every directory below the
 * root is watched too, and directories created later are added as they
 * appear. Events go out as FILE_EVENT frames naming the path relative to
 * the watched directory. */
#include "guest/init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

/* A recursive watch of a huge tree is refused rather than half made. */
#define WATCH_MAX_DIRS 8192
#define WATCH_MASK                                                                                 \
	(IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |             \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

struct watched_dir {
	int wd;
	char *rel; /* "" for the root, else "sub/dir" */
};

struct init_dir_watch {
	uint32_t stream;
	struct init_watch w;
	char *root;
	bool recursive;
	bool with_entry; /* FILE_EVENTs carry the file's stat fields */
	struct watched_dir *dirs;
	size_t ndirs;
	struct init_dir_watch *next;
};

static void dir_watch_close(struct init_loop *l, struct init_dir_watch *d)
{
	if (d->w.fd >= 0) {
		init_loop_unwatch(l, &d->w);
		close(d->w.fd);
		d->w.fd = -1;
	}
}

static void dir_watch_free(struct init_dir_watch *d)
{
	for (size_t i = 0; i < d->ndirs; i++)
		free(d->dirs[i].rel);
	free(d->dirs);
	free(d->root);
	free(d);
}

/* Watch rel (below the root) and, when recursive, what is under it. */
static int add_dir(struct init_dir_watch *d, const char *rel, struct evo_error *err)
{
	if (d->ndirs >= WATCH_MAX_DIRS)
		return evo_error_set(err, EVO_ERR_LIMIT, ENOSPC,
				     "cannot watch '%s': more than %d directories", d->root,
				     WATCH_MAX_DIRS);
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s%s%s", d->root, *rel ? "/" : "", rel) >= (int)sizeof path)
		return 0; /* too deep to name: skipped */
	int wd = inotify_add_watch(d->w.fd, path, WATCH_MASK);
	if (wd < 0) {
		if (*rel && (errno == ENOENT || errno == ENOTDIR || errno == EACCES))
			return 0; /* gone or not ours since it was listed */
		return evo_error_errno(err, "cannot watch '%s'", path);
	}
	for (size_t i = 0; i < d->ndirs; i++)
		if (d->dirs[i].wd == wd)
			return 0; /* seen already (a bind mount or a race) */
	d->dirs = xrealloc(d->dirs, (d->ndirs + 1) * sizeof *d->dirs);
	d->dirs[d->ndirs++] = (struct watched_dir){.wd = wd, .rel = xstrdup(rel)};
	if (!d->recursive)
		return 0;
	DIR *dir = opendir(path);
	if (dir == NULL)
		return 0;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		bool is_dir = e->d_type == DT_DIR;
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;
			is_dir = fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				 S_ISDIR(st.st_mode);
		}
		if (!is_dir)
			continue;
		char sub[PATH_MAX];
		if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) <
		    (int)sizeof sub)
			r = add_dir(d, sub, err);
	}
	closedir(dir);
	return r;
}

int init_watch_start(void *ctx, struct init_request *req, struct evo_buf *out,
		     struct evo_error *err)
{
	struct init_loop *l = ctx;
	if (init_loop_stream_busy(l, req->stream))
		return evo_error_set(err, EVO_ERR_CONFLICT, 0, "stream %u is already in use",
				     req->stream);
	struct init_dir_watch *d = xcalloc(1, sizeof *d);
	d->stream = req->stream;
	d->recursive = (req->flags & EVO_FLAG_FILE_RECURSIVE) != 0;
	d->with_entry = (req->flags & EVO_FLAG_WATCH_ENTRY) != 0;
	d->root = steal_pointer(&req->path);
	d->w = (struct init_watch){.kind = INIT_WATCH_DIR, .fd = -1, .dir = d};
	d->w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	int r = d->w.fd < 0 ? evo_error_errno(err, "cannot watch '%s': inotify", d->root)
			    : add_dir(d, "", err);
	if (r == 0 && init_loop_watch(l, &d->w, EPOLLIN) < 0)
		r = evo_error_errno(err, "cannot watch '%s': epoll", d->root);
	if (r < 0) {
		if (d->w.fd >= 0)
			close(d->w.fd);
		dir_watch_free(d);
		return -1;
	}
	d->next = l->dir_watches;
	l->dir_watches = d;
	size_t m = evo_frame_begin(out, req->stream, EVO_MSG_FILE_WATCHING, 0);
	evo_frame_end(out, m);
	return 0;
}

/* Move d from the live list to the graveyard. */
static void dir_watch_end(struct init_loop *l, struct init_dir_watch *d)
{
	dir_watch_close(l, d);
	for (struct init_dir_watch **pp = &l->dir_watches; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	d->next = l->dir_graveyard;
	l->dir_graveyard = d;
}

int init_watch_stop(void *ctx, struct init_request *req, struct evo_buf *out,
		    struct evo_error *err)
{
	struct init_loop *l = ctx;
	for (struct init_dir_watch *d = l->dir_watches; d; d = d->next) {
		if (d->stream == req->stream) {
			dir_watch_end(l, d);
			size_t m = evo_frame_begin(out, req->stream, EVO_MSG_OK, 0);
			evo_frame_end(out, m);
			return 0;
		}
	}
	return evo_error_set(err, EVO_ERR_NOT_FOUND, ESRCH, "no watch on stream %u", req->stream);
}

static void queue_event(struct init_dir_watch *d, struct evo_buf *frames, const char *name,
			uint8_t what, bool is_dir)
{
	size_t m = evo_frame_begin(frames, d->stream, EVO_MSG_FILE_EVENT, 0);
	evo_frame_add_str(frames, EVO_F_NAME, name);
	evo_frame_add_u8(frames, EVO_F_EVENT, what);
	evo_frame_add_u8(frames, EVO_F_TYPE, is_dir ? 'd' : 'f');
	if (d->with_entry && what != EVO_FILE_EVENT_REMOVE && what != EVO_FILE_EVENT_RENAME) {
		char full[PATH_MAX];
		if (snprintf(full, sizeof full, "%s/%s", d->root, name) < (int)sizeof full)
			init_files_add_entry(frames, full);
	}
	evo_frame_end(frames, m);
}

/* A directory that appeared under a recursive watch may have been filled
 * before its own watch was added (a write that made its parents does both
 * at once): what is in it is reported as created. */
static void report_existing(struct init_dir_watch *d, struct evo_buf *frames, const char *rel,
			    int depth)
{
	char path[PATH_MAX];
	if (depth > 32 || snprintf(path, sizeof path, "%s/%s", d->root, rel) >= (int)sizeof path)
		return;
	DIR *dir = opendir(path);
	if (dir == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char name[PATH_MAX];
		if (snprintf(name, sizeof name, "%s/%s", rel, e->d_name) >= (int)sizeof name)
			continue;
		bool is_dir = e->d_type == DT_DIR;
		queue_event(d, frames, name, EVO_FILE_EVENT_CREATE, is_dir);
		if (is_dir)
			report_existing(d, frames, name, depth + 1);
	}
	closedir(dir);
}

static const char *dir_of(const struct init_dir_watch *d, int wd)
{
	for (size_t i = 0; i < d->ndirs; i++)
		if (d->dirs[i].wd == wd)
			return d->dirs[i].rel;
	return NULL;
}

static void forget_dir(struct init_dir_watch *d, int wd)
{
	for (size_t i = 0; i < d->ndirs; i++) {
		if (d->dirs[i].wd == wd) {
			free(d->dirs[i].rel);
			d->dirs[i] = d->dirs[--d->ndirs];
			return;
		}
	}
}

static uint8_t event_of(uint32_t mask)
{
	if (mask & (IN_CREATE | IN_MOVED_TO))
		return EVO_FILE_EVENT_CREATE;
	if (mask & IN_MODIFY)
		return EVO_FILE_EVENT_WRITE;
	if (mask & IN_DELETE)
		return EVO_FILE_EVENT_REMOVE;
	if (mask & IN_MOVED_FROM)
		return EVO_FILE_EVENT_RENAME;
	if (mask & IN_ATTRIB)
		return EVO_FILE_EVENT_CHMOD;
	return 0;
}

void init_watch_event(struct init_loop *l, struct init_watch *w)
{
	struct init_dir_watch *d = w->dir;
	if (w->fd < 0)
		return; /* ended earlier in this batch */
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct evo_buf frames = {0};
	bool root_gone = false;
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof *ev + ev->len;
			const char *rel = dir_of(d, ev->wd);
			if (ev->mask & IN_IGNORED) {
				if (rel != NULL && *rel == '\0')
					root_gone = true;
				forget_dir(d, ev->wd);
				continue;
			}
			if (rel == NULL || ev->len == 0)
				continue; /* about a directory itself (DELETE_SELF...) */
			uint8_t what = event_of(ev->mask);
			if (what == 0)
				continue;
			char name[PATH_MAX];
			if (snprintf(name, sizeof name, "%s%s%s", rel, *rel ? "/" : "", ev->name) >=
			    (int)sizeof name)
				continue;
			queue_event(d, &frames, name, what, (ev->mask & IN_ISDIR) != 0);
			if (d->recursive && (ev->mask & IN_ISDIR) &&
			    (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
				(void)add_dir(d, name, NULL);
				report_existing(d, &frames, name, 0);
			}
		}
	}
	if (root_gone) {
		evo_frame_error(&frames, d->stream, ENOENT, "the watched directory is gone");
		dir_watch_end(l, d);
	}
	init_loop_queue(l, &frames);
}

bool init_watch_stream_busy(const struct init_loop *l, uint32_t stream)
{
	for (const struct init_dir_watch *d = l->dir_watches; d; d = d->next)
		if (d->stream == stream)
			return true;
	return false;
}

void init_watch_free_graveyard(struct init_loop *l)
{
	while (l->dir_graveyard) {
		struct init_dir_watch *d = l->dir_graveyard;
		l->dir_graveyard = d->next;
		dir_watch_free(d);
	}
}

void init_watch_free_all(struct init_loop *l)
{
	while (l->dir_watches)
		dir_watch_end(l, l->dir_watches);
	init_watch_free_graveyard(l);
}
