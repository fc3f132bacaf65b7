/* uid -> user name, home and primary gid, read straight from the
 * sandbox's /etc/passwd: init is linked statically and must not depend on
 * NSS modules, which a minimal rootfs does not have anyway. */
#include "guest/init.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

static void cleanup_fclosep(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
}

int init_passwd_lookup(uid_t uid, struct passwd_entry *pw)
{
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
