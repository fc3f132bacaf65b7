/* /etc/passwd lines, read without NSS: init is static, and the host reads
 * a sandbox's file through init (a minimal rootfs has no NSS modules). */
#ifndef EVOCLAW_COMMON_PASSWD_H
#define EVOCLAW_COMMON_PASSWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct passwd_entry {
	char name[64];
	uint32_t uid, gid;
	char home[4096];
};

/* Parse one line (name:password:uid:gid:gecos:home[:shell], newline
 * optional) into out. False for comments, short lines, ids that are not
 * whole decimal numbers, and names or homes too long for out. */
bool passwd_parse_line(const char *line, size_t len, struct passwd_entry *out);

/* The entry of `name` in a whole file's text (len bytes): true with out
 * filled, false when it has none. */
bool passwd_find_name(const char *text, size_t len, const char *name, struct passwd_entry *out);

#endif
