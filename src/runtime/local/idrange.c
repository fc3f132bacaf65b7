#include "runtime/local/idrange.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fileutil.h"
#include "runtime/paths.h"

static void slots_dir(char *out, size_t size)
{
	snprintf(out, size, "%s/idranges", evo_paths_get()->run);
}

uint32_t idrange_host_base(uint32_t slot)
{
	return IDRANGE_BASE + slot * IDRANGE_SIZE;
}

int idrange_claim(const char *id, uint32_t *slot, struct evo_error *err)
{
	char dir[PATH_MAX];
	slots_dir(dir, sizeof dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return evo_error_errno(err, "create %s", dir);
	/* Start at a random slot: concurrent claimers rarely collide, and a
	 * range is seldom reused right after its sandbox ended. */
	uint32_t start = 0;
	if (getrandom(&start, sizeof start, 0) != (ssize_t)sizeof start)
		start = (uint32_t)getpid() * 2654435761u;
	for (uint32_t i = 0; i < IDRANGE_SLOTS; i++) {
		uint32_t s = (start + i) % IDRANGE_SLOTS;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%u", dir, s);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return evo_error_errno(err, "claim id range %s", path);
		}
		ssize_t n = write(fd, id, strlen(id));
		close(fd);
		if (n != (ssize_t)strlen(id)) {
			unlink(path);
			return evo_error_errno(err, "claim id range %s", path);
		}
		*slot = s;
		return 0;
	}
	return evo_error_set(err, EVO_ERR_LIMIT, 0,
			     "all %u host id ranges are in use: too many sandboxes at once",
			     IDRANGE_SLOTS);
}

void idrange_release(uint32_t slot, const char *id)
{
	char dir[PATH_MAX], path[PATH_MAX], owner[128];
	slots_dir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/%u", dir, slot);
	/* Only our own claim: a slot released once may already be another
	 * sandbox's, and two sandboxes must never share a range. */
	if (read_file_small(path, owner, sizeof owner) > 0 && strcmp(owner, id) == 0)
		unlink(path);
}

int idrange_collect_garbage(bool (*is_live)(const char *id, void *ctx), void *ctx)
{
	char dir[PATH_MAX];
	slots_dir(dir, sizeof dir);
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	int released = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX], id[128];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) < 0 || time(NULL) - st.st_mtime < 60)
			continue;
		if (read_file_small(path, id, sizeof id) <= 0 || is_live(id, ctx))
			continue;
		if (unlink(path) == 0)
			released++;
	}
	closedir(d);
	return released;
}
