/* evoclaw-agent, the edge agent (issue 7, DESIGN §10): one small program
 * that runs inside the evoclaw-agent template or on bare metal. It reads
 * its settings from the environment the orchestrator gives every agent
 * (or an agent.toml), runs as a trader, monitor or sensor, and reports
 * heartbeats, metrics, fitness, log lines and alerts to the orchestrator
 * (HTTP, with its agent token) and to an MQTT broker (libmosquitto). */
#ifndef EVOCLAW_AGENT_AGENT_H
#define EVOCLAW_AGENT_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/http_client.h"
#include "core/genome.h"

/* Exit statuses. */
#define AGENT_EXIT_OK 0
#define AGENT_EXIT_FAILED 1      /* it ran and something went wrong */
#define AGENT_EXIT_CONFIG 2      /* bad settings: genome, type, paper mode, values */
#define AGENT_EXIT_UNREACHABLE 3 /* the broker or orchestrator cannot be reached */

/* Standby: the orchestrator's other agent types (researcher, coder,
 * analyst, tester) have no built-in behaviour here; the agent keeps their
 * sandbox alive and beats until stopped, while the work is done by
 * commands run in the sandbox. */
enum agent_kind { AGENT_TRADER, AGENT_MONITOR, AGENT_SENSOR, AGENT_STANDBY };

enum agent_log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
/* "debug", "info", "warn", "error": EVOCLAW_LOG_LEVEL's words and what log
 * reports say. */
extern const char *const agent_log_level_names[4];

struct agent_config {
	char id[64];
	enum agent_kind kind;
	enum agent_log_level log_level;
	bool paper_mode;
	struct genome genome;
	/* the orchestrator, for reports without a broker: URL and token */
	char orchestrator_url[512];
	char token[128];
	/* MQTT (optional) */
	char mqtt_broker[256];
	uint32_t mqtt_port;
	char mqtt_username[128], mqtt_password[256];
	/* the market (trader, monitor): "generated[:SEED]" or a CSV file */
	char market[512];
	uint32_t steps;       /* prices to go through */
	uint32_t step_ms;     /* pause between prices (0: as fast as it can) */
	uint32_t report_every; /* steps between metrics reports */
	uint32_t heartbeat_sec;
	/* monitor: alert when the price goes above / below (0: never) */
	double monitor_above, monitor_below;
	/* sensor: a reading every interval_ms, `readings` of them (0: until stopped) */
	uint32_t sensor_interval_ms, sensor_readings;
};

/* Settings from the environment (DESIGN §10's variables and the agent's
 * own EVOCLAW_*), after an agent.toml when config_path is not NULL (the
 * environment wins). Errors name the variable; kind EVO_ERR_INVALID. */
int agent_config_load(const char *config_path, struct agent_config *out, struct evo_error *err);

/* ---- reports (agent_report.c) ---------------------------------------- */

struct reporter;

/* Connect what the settings name: the orchestrator (checked with a first
 * heartbeat) and the broker. AGENT_EXIT_UNREACHABLE-worthy failures are
 * EVO_ERR_SYSTEM with a message naming what could not be reached. */
int reporter_open(const struct agent_config *cfg, struct reporter **out, struct evo_error *err);
/* Send one report: kind is heartbeat, metrics, fitness, log or alert;
 * body (consumed) holds its fields. Printed on stdout as a JSON line too. */
void reporter_send(struct reporter *r, const char *kind, json_t *body);
/* A log line at a level (filtered by EVOCLAW_LOG_LEVEL). */
void reporter_log(struct reporter *r, enum agent_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Flush what is queued (QoS 1 messages) and disconnect. */
void reporter_close(struct reporter *r);

#endif
