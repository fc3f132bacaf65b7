/* libFuzzer target: the direct agent JSON writer (api/agent_json.c) must
 * give exactly the bytes jansson gives for the same agent, whatever the
 * stored JSON columns and texts hold. Input: name, genome, environment,
 * capabilities, command separated by 0xFE bytes, then 8 bytes of numbers. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/agent_json.h"

static char *part(const uint8_t **d, size_t *n)
{
	const uint8_t *end = memchr(*d, 0xFE, *n);
	size_t len = end ? (size_t)(end - *d) : *n;
	char *s = malloc(len + 1);
	memcpy(s, *d, len);
	s[len] = 0;
	*d += end ? len + 1 : len;
	*n -= end ? len + 1 : len;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent a;
	memset(&a, 0, sizeof a);
	char *name = part(&data, &size);
	snprintf(a.name, sizeof a.name, "%s", name);
	free(name);
	a.genome_json = part(&data, &size);
	a.environment_json = part(&data, &size);
	a.capabilities_json = part(&data, &size);
	a.command_json = part(&data, &size);
	if (size >= 8) {
		memcpy(&a.cost, data, 8);
		memcpy(&a.created_at_ms, data, 8);
		a.created_at_ms &= 0xFFFFFFFFFFFFll;
	}
	json_t *tree = api_agent_json(&a);
	char *want = json_dumps(tree, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(tree);
	struct evo_buf got = {0};
	api_agent_json_write(&got, &a);
	if (got.len != strlen(want) || memcmp(got.data, want, got.len) != 0) {
		fprintf(stderr, "differs\n got: %.*s\nwant: %s\n", (int)got.len, got.data, want);
		abort();
	}
	free(want);
	evo_buf_free(&got);
	agent_clear(&a);
	return 0;
}
