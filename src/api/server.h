/* evoclaw serve: the orchestrator's HTTP server (issue 3, in progress).
 * Today: configuration, the SQLite store, the admin key, /healthz and
 * /api/templates, with the error shape, auth and limits the rest will use.
 * It runs as its own program, evoclaw-server, which `evoclaw serve` execs:
 * its libraries (libmicrohttpd pulls in GnuTLS) would add ~2 ms to the
 * start of every other evoclaw command. */
#ifndef EVOCLAW_API_SERVER_H
#define EVOCLAW_API_SERVER_H

#include "common/error.h"
#include "core/config.h"

/* Bodies larger than this are refused with 413. */
#define API_MAX_BODY (1024u * 1024u)

/* Serve until SIGINT or SIGTERM. */
int api_serve(const struct evo_config *cfg, struct evo_error *err);

#endif
