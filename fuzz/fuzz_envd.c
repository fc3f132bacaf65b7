/* libFuzzer target: what envd parses from a client (routes_envd.c) and
 * from a sandbox. The first byte picks the method; the rest is its body,
 * tried both as a plain JSON message (unary) and as a Connect envelope
 * (streaming); then as an Authorization header, base64 text and an
 * /etc/passwd file. Never a crash or leak; a refusal names the field; an
 * accepted message holds what its method needs; base64 round-trips. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/envd_rpc.h"
#include "common/base64.h"
#include "common/passwd.h"

static void check_parsed(enum envd_method m, const char *json, size_t len)
{
	struct envd_request r;
	struct evo_error err = {0};
	if (envd_request_parse(m, json, len, &r, &err) < 0) {
		if (err.kind != EVO_ERR_INVALID || strchr(err.msg, ':') == NULL)
			abort();
		envd_request_free(&r);
		return;
	}
	switch (m) {
	case ENVD_PROCESS_START:
		if (r.cmd == NULL || *r.cmd == '\0' || r.nargs > ENVD_MAX_ARGS)
			abort();
		for (size_t i = 0; i < r.nargs; i++)
			if (r.args[i] == NULL)
				abort();
		break;
	case ENVD_PROCESS_SEND_SIGNAL:
		if (r.signal != 9 && r.signal != 15)
			abort();
		/* fall through */
	case ENVD_PROCESS_CONNECT:
	case ENVD_PROCESS_CLOSE_STDIN:
		if (r.pid == 0 && (r.selector_tag == NULL || *r.selector_tag == '\0'))
			abort();
		break;
	case ENVD_FS_MOVE:
		if (r.destination == NULL || *r.destination == '\0')
			abort();
		/* fall through */
	case ENVD_FS_STAT:
	case ENVD_FS_REMOVE:
	case ENVD_FS_MAKE_DIR:
	case ENVD_FS_WATCH_DIR:
		if (r.path == NULL || *r.path == '\0')
			abort();
		break;
	case ENVD_FS_LIST_DIR:
		if (r.path == NULL || r.depth < 1 || r.depth > ENVD_MAX_DEPTH)
			abort();
		break;
	default:
		break;
	}
	envd_request_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	enum envd_method m = (enum envd_method)(data[0] % (ENVD_FS_WATCH_DIR + 1));
	const uint8_t *body = data + 1;
	size_t len = size - 1;
	check_parsed(m, (const char *)body, len);

	const uint8_t *payload;
	size_t payload_len;
	struct evo_error err = {0};
	if (connect_envelope_single(body, len, &payload, &payload_len, &err) == 0) {
		if (payload_len != len - CONNECT_ENVELOPE_HEADER)
			abort();
		check_parsed(m, (const char *)payload, payload_len);
	} else if (err.msg[0] == '\0') {
		abort();
	}

	char *text = malloc(len + 1);
	memcpy(text, body, len);
	text[len] = '\0';
	char user[64];
	err = (struct evo_error){0};
	if (envd_basic_user(text, user, sizeof user, &err) == 0 && !envd_user_name_valid(user))
		abort();

	uint8_t *decoded = malloc(len * 3 / 4 + 3);
	size_t n;
	if (base64_decode(text, len, decoded, &n)) {
		char *again = malloc(base64_encoded_len(n) + 1);
		uint8_t *twice = malloc(n + 3);
		size_t m2;
		base64_encode(decoded, n, again);
		if (!base64_decode(again, strlen(again), twice, &m2) || m2 != n ||
		    memcmp(twice, decoded, n) != 0)
			abort();
		free(again);
		free(twice);
	}
	free(decoded);

	struct passwd_entry pw;
	if (passwd_find_name(text, len, "user", &pw) && strcmp(pw.name, "user") != 0)
		abort();
	free(text);
	return 0;
}
