/* Building a sandbox's filesystem view, inside its mount namespace.
 *
 * Everything here runs in the freshly cloned child, between clone and exec:
 * the plan is prepared by the parent beforehand so the child only issues
 * system calls and formats error text. */
#ifndef EVOCLAW_RUNTIME_LOCAL_ROOTFS_H
#define EVOCLAW_RUNTIME_LOCAL_ROOTFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/template.h"

#define ROOTFS_MAX_MOUNTS 8

/* One overlay: read-only layers (lowerdir list) shown at target. */
struct rootfs_overlay {
	char *target;   /* in the sandbox, "/" first */
	char *lowerdir; /* "a:b:c", top first */
};

struct rootfs_plan {
	const char *stage;    /* host directory to mount the writable tmpfs on */
	uint32_t disk_mb;     /* size of that tmpfs */
	struct rootfs_overlay overlays[ROOTFS_MAX_MOUNTS];
	size_t overlay_count;
	const char *hostname;
	const char *user_home; /* created writable for uid:gid */
	char *doors;           /* host directory bound at DOORS_SANDBOX_DIR, or NULL */
	uint32_t uid, gid;
};

/* Group a template's layers into overlays. Fails when the template needs
 * more than ROOTFS_MAX_MOUNTS mount points or a layer is missing. */
int rootfs_plan_init(struct rootfs_plan *plan, const struct template *t, const char *stage,
		     const char *hostname, uint32_t disk_mb, struct evo_error *err);
void rootfs_plan_free(struct rootfs_plan *plan);

/* In the child: build the rootfs and pivot into it. Returns 0, or -1 with
 * a message in errbuf (errno text included). */
int rootfs_enter(const struct rootfs_plan *plan, char *errbuf, size_t errlen);

#endif
