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
	cr_expect_str_eq(key, "base-m64-p32");
	struct template_resources all = {.cpu_millis = 500, .memory_mb = 64, .disk_mb = 10, .pids = 32};
	warmpool_key("python", &all, key);
	cr_expect_str_eq(key, "python-c500-m64-d10-p32");
}
