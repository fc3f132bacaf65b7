/* libFuzzer target: evoclaw.json parsing on arbitrary bytes. Never a
 * crash or leak; a failure always says what was wrong; a success leaves
 * a usable listen address. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evo_config c;
	struct evo_error err = {0};
	config_defaults(&c);
	if (config_parse(&c, (const char *)data, size, "fuzz.json", &err) == 0) {
		char host[CONFIG_STRING_MAX];
		uint16_t port;
		if (config_listen_address(&c, host, sizeof host, &port, NULL) < 0 || port == 0)
			abort();
	} else if (err.kind != EVO_ERR_INVALID || err.msg[0] == '\0') {
		abort();
	}
	return 0;
}
