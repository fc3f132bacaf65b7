/* libFuzzer target: the template parser on arbitrary bytes. It must never
 * crash or leak, and on failure always say what was wrong. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct template t;
	struct evo_error err = {0};
	if (template_parse((const char *)data, size, "fuzz.json", "/rootfs", "/templates", &t,
			   &err) == 0) {
		if (t.name == NULL || t.layer_count == 0 || t.workdir == NULL)
			abort();
		template_free(&t);
	} else if (err.msg[0] == '\0' || err.kind == EVO_ERR_NONE) {
		abort();
	}
	return 0;
}
