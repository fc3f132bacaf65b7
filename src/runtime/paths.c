#include "runtime/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The paths, packed one after another: every process that starts a
 * sandbox resolves them, and seven page-sized buffers would be seven page
 * faults (dear on this kind of host) for a few hundred bytes. */
static char arena[7 * PATH_MAX];

/* Append a path a+b (truncated to PATH_MAX - 1 bytes) at *used and return
 * it. The offset is the caller's, not a static: two threads resolving the
 * paths at once write the same bytes to the same places. */
static const char *keep(size_t *used, const char *a, const char *b)
{
	char *out = arena + *used;
	int n = snprintf(out, PATH_MAX, "%s%s", a, b);
	if (n < 0)
		n = 0;
	else if (n >= PATH_MAX)
		n = PATH_MAX - 1;
	*used += (size_t)n + 1;
	return out;
}

static const char *pick(size_t *used, const char *env, const char *exe_dir, const char *rel)
{
	const char *v = getenv(env);
	if (v && *v)
		return keep(used, v, "");
	return keep(used, exe_dir, rel);
}

const struct evo_paths *evo_paths_get(void)
{
	static struct evo_paths paths;
	static int ready;
	if (ready)
		return &paths;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		n = 0;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		slash[1] = '\0';
	else
		snprintf(exe, sizeof exe, "./");
	size_t used = 0;
	paths.templates = pick(&used, "EVOCLAW_TEMPLATES_DIR", exe, "../../templates");
	paths.rootfs = pick(&used, "EVOCLAW_ROOTFS_DIR", exe, "../rootfs");
	paths.init = pick(&used, "EVOCLAW_INIT", exe, "evoclaw-init");
	paths.server = pick(&used, "EVOCLAW_SERVER", exe, "evoclaw-server");
	paths.cli = pick(&used, "EVOCLAW_CLI", exe, "evoclaw");
	paths.agent = pick(&used, "EVOCLAW_AGENT_BIN", exe, "evoclaw-agent");
	paths.run = pick(&used, "EVOCLAW_RUN_DIR", "/run/evoclaw", "");
	ready = 1;
	return &paths;
}
