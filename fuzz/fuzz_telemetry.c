/* libFuzzer target: an MQTT telemetry message as the orchestrator gets it
 * (mqtt_ingest.c): the topic (up to the first newline of the input), then
 * the payload — its signature split off, checked, and the report parsed.
 * Never a crash or leak; a signature that splits is 64 hex digits, and a
 * payload signed with telemetry_sign always splits back and verifies. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/requests.h"
#include "common/telemetry_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t topic_len = nl ? (size_t)(nl - (const char *)data) : size;
	char *topic = strndup((const char *)data, topic_len);
	const char *payload = nl ? nl + 1 : "";
	size_t len = nl ? size - topic_len - 1 : 0;
	char id[64];
	const char *kind = NULL;
	if (request_parse_topic(topic, id, sizeof id, &kind) &&
	    (strlen(id) == 0 || strlen(id) >= sizeof id || strchr(id, '/') || strchr(kind, '/')))
		abort();
	size_t body_len;
	char sig[TELEMETRY_SIG_HEX + 1];
	if (telemetry_sig_split(payload, len, &body_len, sig)) {
		if (strlen(sig) != TELEMETRY_SIG_HEX || body_len >= len)
			abort();
		telemetry_sig_ok("token", payload, body_len, sig);
	}
	/* What we sign, we can check. */
	char *signed_msg = memchr(payload, '\0', len) ? NULL : telemetry_sign("token", payload, len);
	if (signed_msg) {
		size_t slen = strlen(signed_msg);
		if (!telemetry_sig_split(signed_msg, slen, &body_len, sig) ||
		    !telemetry_sig_ok("token", signed_msg, body_len, sig) ||
		    telemetry_sig_ok("other", signed_msg, body_len, sig))
			abort();
		free(signed_msg);
	}
	json_t *body = json_loadb(payload, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(body)) {
		json_object_del(body, "sig");
		json_object_del(body, "agent_id");
		struct report_request r;
		struct evo_error err = {0};
		if (request_parse_report(body, &r, &err) == 0)
			request_report_free(&r);
		else if (err.msg[0] == '\0')
			abort();
	}
	json_decref(body);
	free(topic);
	return 0;
}
