#include "core/tenant.h"

#include <string.h>

bool tenant_email_valid(const char *email)
{
	size_t n = strlen(email);
	const char *at = strchr(email, '@');
	if (n == 0 || n > TENANT_EMAIL_MAX || at == NULL || at == email || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || strchr(at + 1, '.') == NULL)
		return false;
	for (const char *p = email; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"(),:;<>[\\]", *p))
			return false;
	return true;
}
