/* Signed telemetry (issue 7 §2). An agent's MQTT messages pass through a
 * broker that other clients share, so they never carry the agent's token:
 * each is signed with it instead (HMAC-SHA256), and the orchestrator, who
 * knows every agent's token, checks the signature. Another client of the
 * broker can neither learn a token nor forge an agent's reports.
 *
 * The signed form of a JSON object `{...}` is the same object with the
 * signature of its exact bytes as a last member: `{...,"sig":"<hex>"}`
 * (still JSON for anyone else who listens). */
#ifndef EVOCLAW_COMMON_TELEMETRY_SIG_H
#define EVOCLAW_COMMON_TELEMETRY_SIG_H

#include <stdbool.h>
#include <stddef.h>

#define TELEMETRY_SIG_HEX 64

/* The signed form of the JSON object `json` (len bytes, ending in '}')
 * under `token`, malloc'd and NUL-terminated; NULL if json is not an
 * object with at least one member. */
char *telemetry_sign(const char *token, const char *json, size_t len);

/* Split a signed message: *body_len gets the length of the signed object's
 * bytes without the signature member, to be followed by a '}' (the object
 * as it was signed is payload[0..body_len) + "}"), and sig_hex the
 * signature. False when the payload does not end in a signature member. */
bool telemetry_sig_split(const char *payload, size_t len, size_t *body_len,
			 char sig_hex[TELEMETRY_SIG_HEX + 1]);

/* Does sig_hex sign payload[0..body_len) + "}" under token? In time that
 * does not depend on where a wrong signature differs. */
bool telemetry_sig_ok(const char *token, const char *payload, size_t body_len,
		      const char *sig_hex);

#endif
