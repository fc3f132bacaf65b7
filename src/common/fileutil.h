/* Small whole-file helpers for sysfs, procfs and state files. */
#ifndef EVOCLAW_COMMON_FILEUTIL_H
#define EVOCLAW_COMMON_FILEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read up to size-1 bytes and NUL-terminate. Returns bytes read or -1
 * (errno set). */
ssize_t read_file_small(const char *path, char *buf, size_t size);

/* Write s to an existing file (O_WRONLY, no create, no truncate: the
 * cgroup and procfs way). Returns 0 or -1 (errno set). */
int write_file_string(const char *path, const char *s);

/* Create or replace path atomically (write a temp file, rename it over)
 * with the given mode. Returns 0 or -1 (errno set). */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Open (creating, mode 0600) dir/name and flock it with `how` (LOCK_EX,
 * maybe | LOCK_NB). Returns the fd holding the lock, or -1 (errno set). */
int lock_file(const char *dir, const char *name, int how);

/* The whole of a text file, NUL-terminated, in memory the caller frees;
 * *len gets its length (a NUL inside ends it). NULL with errno set on
 * failure. */
char *read_file_all(const char *path, size_t *len);

/* The whole of a file of bytes (NULs and all), at most max of them (EFBIG
 * past that), in memory the caller frees. NULL with errno set on failure. */
uint8_t *read_file_bytes(const char *path, size_t max, size_t *len);

/* How many entries of dir `keep` accepts (0 if dir cannot be read). */
int count_dir_entries(const char *dir, bool (*keep)(const char *name));

/* mkdir -p with mode for the missing parts. Returns 0 or -1 (errno set). */
int mkdir_parents(const char *path, mode_t mode);

#endif
