/* Where evoclaw finds its parts. Each can be overridden by environment for
 * tests and packaging; defaults are relative to the running binary so a
 * fresh build tree works without installing:
 *   EVOCLAW_TEMPLATES_DIR  <exe>/../../templates  (source tree)
 *   EVOCLAW_ROOTFS_DIR     <exe>/../rootfs        (built by make)
 *   EVOCLAW_INIT           <exe>/evoclaw-init
 *   EVOCLAW_SERVER         <exe>/evoclaw-server
 *   EVOCLAW_CLI            <exe>/evoclaw          (the server runs it)
 *   EVOCLAW_AGENT_BIN      <exe>/evoclaw-agent    (the edge agent)
 *   EVOCLAW_RUN_DIR        /run/evoclaw           (sandbox runtime state) */
#ifndef EVOCLAW_RUNTIME_PATHS_H
#define EVOCLAW_RUNTIME_PATHS_H

#include <limits.h>

/* Each is a NUL-terminated path shorter than PATH_MAX. */
struct evo_paths {
	const char *templates;
	const char *rootfs;
	const char *init;
	const char *server;
	const char *cli;
	const char *agent;
	const char *run;
};

/* Resolved once per process; never fails (falls back to the defaults). */
const struct evo_paths *evo_paths_get(void);

#endif
