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

/* Parse a decimal id field; false unless the whole field is a number. */
static bool parse_id(const char *s, unsigned long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return false;
	*out = strtoul(s, &end, 10);
	return *end == '\0';
}

int init_passwd_lookup(uid_t uid, struct init_passwd *pw)
{
	__attribute__((cleanup(cleanup_fclosep))) FILE *f = fopen("/etc/passwd", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		/* name:password:uid:gid:gecos:home:shell */
		char *fields[7] = {0};
		char *rest = line;
		line[strcspn(line, "\n")] = '\0';
		int n = 0;
		for (; n < 7 && rest != NULL; n++)
			fields[n] = strsep(&rest, ":");
		if (n < 6)
			continue;
		unsigned long entry_uid, entry_gid;
		if (!parse_id(fields[2], &entry_uid) || entry_uid != uid ||
		    !parse_id(fields[3], &entry_gid))
			continue;
		if (strlen(fields[0]) >= sizeof pw->name || strlen(fields[5]) >= sizeof pw->home)
			continue;
		strcpy(pw->name, fields[0]);
		strcpy(pw->home, fields[5]);
		pw->gid = (gid_t)entry_gid;
		return 0;
	}
	return -1;
}
