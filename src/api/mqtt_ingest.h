/* The orchestrator's MQTT surface (issue 7 §2): with a broker configured,
 * it subscribes to every agent's telemetry, evoclaw/agents/<id>/<kind>,
 * and records each report as if it came over HTTP, once its signature
 * (telemetry_sig.h) proves it is that agent's own.
 *
 * QoS 1 on a persistent session (clean session off, one client id per
 * orchestrator): reports published while the orchestrator is away, or
 * while the broker restarts with persistence on, are delivered when it is
 * back. The client reconnects with backoff (1 s doubling to 30 s). */
#ifndef EVOCLAW_API_MQTT_INGEST_H
#define EVOCLAW_API_MQTT_INGEST_H

#include "common/error.h"
#include "common/proto.h"
#include "core/config.h"
#include "orchestrator/orchestrator.h"

struct mqtt_ingest;

/* Start subscribing to cfg->mqtt.broker (NULL without one; a broker that is
 * down is retried, not an error). */
int mqtt_ingest_start(const struct evo_config *cfg, struct orchestrator *orch,
		      struct mqtt_ingest **out, struct evo_error *err);
void mqtt_ingest_stop(struct mqtt_ingest *m);

/* Prometheus lines: reports accepted and dropped (by why), connection. */
void mqtt_ingest_metrics(struct mqtt_ingest *m, struct evo_buf *out);

#endif
