/* uid -> user name, home and primary gid, read straight from the
 * sandbox's /etc/passwd: init is linked statically and must not depend on
 * NSS modules, which a minimal rootfs does not have anyway. */
#include "guest/init.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fileutil.h"

/* /etc/passwd as read when init started, while nothing else could have
 * run in the sandbox: the first process a warm sandbox starts then does
 * not wait for an open through the overlay. Valid only until anything
 * could have changed the file (see init_passwd_forget). */
static char *preloaded;
static size_t preloaded_len;

void init_passwd_preload(void)
{
	init_passwd_forget();
	preloaded = read_file_all("/etc/passwd", &preloaded_len);
}

void init_passwd_forget(void)
{
	free(preloaded);
	preloaded = NULL;
	preloaded_len = 0;
}

static int lookup_in(const char *text, size_t len, uid_t uid, struct passwd_entry *pw)
{
	const char *pos = text, *end = text + len;
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t line_len = (size_t)((nl ? nl : end) - pos);
		if (passwd_parse_line(pos, line_len, pw) && pw->uid == uid)
			return 0;
		pos += line_len + 1;
	}
	return -1;
}

static void cleanup_fclosep(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
}

int init_passwd_lookup(uid_t uid, struct passwd_entry *pw)
{
	if (preloaded != NULL)
		return lookup_in(preloaded, preloaded_len, uid, pw);
	__attribute__((cleanup(cleanup_fclosep))) FILE *f = fopen("/etc/passwd", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (f == NULL)
		return -1;
	while ((len = getline(&line, &cap, f)) > 0)
		if (passwd_parse_line(line, (size_t)len, pw) && pw->uid == uid)
			return 0;
	return -1;
}
