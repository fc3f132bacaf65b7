/* Signed MQTT telemetry (common/telemetry_sig.h) and the topics it comes
 * on (api/requests.h). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "api/requests.h"
#include "common/telemetry_sig.h"

Test(telemetry_sig, signs_the_exact_bytes_and_splits_back)
{
	const char *msg = "{\"kind\":\"fitness\",\"fitness\":1.5}";
	char *s = telemetry_sign("tok", msg, strlen(msg));
	cr_assert_not_null(s);
	/* The object, then the signature as its last member: still JSON. */
	cr_assert(strncmp(s, msg, strlen(msg) - 1) == 0);
	cr_assert(strncmp(s + strlen(msg) - 1, ",\"sig\":\"", 8) == 0);
	cr_assert_eq(strlen(s), strlen(msg) - 1 + 8 + TELEMETRY_SIG_HEX + 2);
	size_t body_len;
	char sig[TELEMETRY_SIG_HEX + 1];
	cr_assert(telemetry_sig_split(s, strlen(s), &body_len, sig));
	cr_assert_eq(body_len, strlen(msg) - 1);
	cr_assert(telemetry_sig_ok("tok", s, body_len, sig));
	/* Another token, or one changed byte, does not verify. */
	cr_assert_not(telemetry_sig_ok("tok2", s, body_len, sig));
	cr_assert_not(telemetry_sig_ok("", s, body_len, sig));
	s[10] ^= 1;
	cr_assert_not(telemetry_sig_ok("tok", s, body_len, sig));
	free(s);
}

Test(telemetry_sig, is_hmac_sha256_of_the_object)
{
	/* The same as python3's
	 * hmac.new(b"Jefe", b'{"a":1}', hashlib.sha256).hexdigest() */
	const char *msg = "{\"a\":1}";
	char *s = telemetry_sign("Jefe", msg, strlen(msg));
	cr_assert_str_eq(s, "{\"a\":1,\"sig\":"
			    "\"cd7d7d7b1651caa92c82812e913859159c0e729d67421863aaf3e11d0c0e5a96\"}");
	free(s);
}

Test(telemetry_sig, refuses_what_is_not_a_signed_object)
{
	size_t n;
	char sig[TELEMETRY_SIG_HEX + 1];
	cr_assert_null(telemetry_sign("t", "{}", 2));
	cr_assert_null(telemetry_sign("t", "[1]", 3));
	cr_assert_null(telemetry_sign("t", "", 0));
	cr_assert_not(telemetry_sig_split("{\"a\":1}", 7, &n, sig));
	char bad[128];
	snprintf(bad, sizeof bad, "{\"a\":1,\"sig\":\"%063dx\"}", 0);
	cr_assert_not(telemetry_sig_split(bad, strlen(bad), &n, sig));
	snprintf(bad, sizeof bad, "{\"a\":1,\"sig\":\"%064d\"} ", 0);
	cr_assert_not(telemetry_sig_split(bad, strlen(bad), &n, sig));
	snprintf(bad, sizeof bad, "{\"a\":1,\"sig\":\"%064d\"}", 0);
	cr_assert(telemetry_sig_split(bad, strlen(bad), &n, sig));
	cr_assert_not(telemetry_sig_ok("t", bad, n, sig));
}

Test(telemetry_sig, topics)
{
	char id[64];
	const char *kind;
	cr_assert(request_parse_topic("evoclaw/agents/a-1/fitness", id, sizeof id, &kind));
	cr_assert_str_eq(id, "a-1");
	cr_assert_str_eq(kind, "fitness");
	cr_assert_not(request_parse_topic("evoclaw/agents//fitness", id, sizeof id, &kind));
	cr_assert_not(request_parse_topic("evoclaw/agents/a1/", id, sizeof id, &kind));
	cr_assert_not(request_parse_topic("evoclaw/agents/a1/x/y", id, sizeof id, &kind));
	cr_assert_not(request_parse_topic("evoclaw/agents/a1", id, sizeof id, &kind));
	cr_assert_not(request_parse_topic("other/agents/a1/log", id, sizeof id, &kind));
	char longer[200];
	snprintf(longer, sizeof longer, "evoclaw/agents/%0100d/log", 0);
	cr_assert_not(request_parse_topic(longer, id, sizeof id, &kind));
}
