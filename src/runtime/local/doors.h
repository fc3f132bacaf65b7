/* The only ways out of an agent's sandbox (template network "agent").
 *
 * Such a sandbox has its own network namespace with only lo, like every
 * other: nothing on the host or beyond is reachable over the network.
 * What it can reach are the unix sockets an orchestrator puts in its
 * doors directory, <run dir>/doors/<owner>/, which every "agent" sandbox
 * sees at /run/evoclaw (read-only to it: the directory belongs to host
 * root, an id its user namespace cannot act as):
 *
 *   orchestrator.sock  the orchestrator's telemetry endpoint and nothing
 *                      else of its API (each report needs the agent's own
 *                      token)
 *   mqtt.sock          a relay to the configured MQTT broker, and to no
 *                      other address
 *
 * Several orchestrators (told apart by their owner tag) share one run
 * directory; an agent is told its own orchestrator's paths. */
#ifndef EVOCLAW_RUNTIME_LOCAL_DOORS_H
#define EVOCLAW_RUNTIME_LOCAL_DOORS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Where the doors directory appears inside a sandbox. */
#define DOORS_SANDBOX_DIR "/run/evoclaw"
#define DOORS_ORCHESTRATOR "orchestrator.sock"
#define DOORS_MQTT "mqtt.sock"

/* <run dir>/doors: what "agent" sandboxes bind at DOORS_SANDBOX_DIR.
 * Created (mode 0755) when missing. */
int doors_host_root(char *out, size_t size, struct evo_error *err);

/* The path of door `name` of owner's sandboxes, as seen inside them. */
void doors_sandbox_path(const char *owner, const char *name, char *out, size_t size);

/* Listen on door `name` of owner (a stale socket of an earlier run is
 * replaced). Returns a listening, non-blocking, close-on-exec socket. */
int doors_listen(const char *owner, const char *name, struct evo_error *err);

/* Remove door `name` of owner (when its listener closes). */
void doors_remove(const char *owner, const char *name);

/* Relay every connection to `listen_fd` (a door) to host:port over TCP,
 * byte for byte, in both directions, until either side closes. Runs in
 * its own threads; NULL with err set when they cannot start. */
struct door_relay;
struct door_relay *door_relay_start(int listen_fd, const char *host, uint16_t port,
				    struct evo_error *err);
/* Stop accepting and close every relayed connection; closes listen_fd. */
void door_relay_stop(struct door_relay *r);

#endif
