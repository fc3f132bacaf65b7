#include <criterion/criterion.h>

#include "runtime/local/warmpool.h"

/* Sandboxes are interchangeable only when template and every asked-for
 * resource match, so each must show in the key; unset ones must not. */
Test(warmpool, key_names_template_and_overrides)
{
	char key[WARMPOOL_KEY_MAX];
	struct template_resources none = {0};
	warmpool_key("minimal", &none, key);
	cr_expect_str_eq(key, "minimal");
	struct template_resources some = {.memory_mb = 64, .pids = 32};
	warmpool_key("base", &some, key);
	cr_expect_str_eq(key, "base.m64.p32");
	struct template_resources all = {.cpu_millis = 500, .memory_mb = 64, .disk_mb = 10, .pids = 32};
	warmpool_key("python", &all, key);
	cr_expect_str_eq(key, "python.c500.m64.d10.p32");
}

/* A template may be named like another's key with overrides; the keys
 * must still differ, or one would be served the other's sandboxes. */
Test(warmpool, keys_of_different_templates_never_collide)
{
	char a[WARMPOOL_KEY_MAX], b[WARMPOOL_KEY_MAX];
	struct template_resources m300 = {.memory_mb = 300}, none = {0};
	warmpool_key("base", &m300, a);
	warmpool_key("base-m300", &none, b);
	cr_expect_str_neq(a, b);
}

Test(warmpool, keys_parse_back)
{
	char name[TEMPLATE_NAME_MAX + 1];
	struct template_resources o;
	cr_assert_eq(warmpool_key_parse("python.c500.m64.d10.p32", name, &o), 0);
	cr_expect_str_eq(name, "python");
	cr_expect_eq(o.cpu_millis, 500);
	cr_expect_eq(o.memory_mb, 64);
	cr_expect_eq(o.disk_mb, 10);
	cr_expect_eq(o.pids, 32);
	cr_assert_eq(warmpool_key_parse("base-m300", name, &o), 0);
	cr_expect_str_eq(name, "base-m300");
	cr_expect_eq(o.memory_mb, 0);
	static const char *const bad[] = {"", ".m64", "../etc", "base.x5", "base.m", "base.m0",
					  "base/..", "Base", "base.m64/x"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_expect_eq(warmpool_key_parse(bad[i], name, &o), -1, "accepted \"%s\"", bad[i]);
}
