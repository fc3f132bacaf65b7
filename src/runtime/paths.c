#include "runtime/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void pick(char *out, const char *env, const char *exe_dir, const char *rel)
{
	const char *v = getenv(env);
	if (v && *v)
		snprintf(out, PATH_MAX, "%s", v);
	else
		snprintf(out, PATH_MAX, "%s/%s", exe_dir, rel);
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
		*slash = '\0';
	else
		snprintf(exe, sizeof exe, ".");
	pick(paths.templates, "EVOCLAW_TEMPLATES_DIR", exe, "../../templates");
	pick(paths.rootfs, "EVOCLAW_ROOTFS_DIR", exe, "../rootfs");
	pick(paths.init, "EVOCLAW_INIT", exe, "evoclaw-init");
	pick(paths.server, "EVOCLAW_SERVER", exe, "evoclaw-server");
	pick(paths.cli, "EVOCLAW_CLI", exe, "evoclaw");
	pick(paths.agent, "EVOCLAW_AGENT_BIN", exe, "evoclaw-agent");
	const char *run = getenv("EVOCLAW_RUN_DIR");
	snprintf(paths.run, PATH_MAX, "%s", run && *run ? run : "/run/evoclaw");
	ready = 1;
	return &paths;
}
