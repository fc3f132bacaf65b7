#include "api/mqtt_ingest.h"

#include <jansson.h>
#include <mosquitto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/requests.h"
#include "common/cleanup.h"
#include "common/telemetry_sig.h"

#define TELEMETRY_FILTER "evoclaw/agents/+/+"

/* Why a message was not recorded, for the metrics. */
enum drop_reason {
	DROP_TOPIC,    /* not evoclaw/agents/<id>/<kind> with a known kind */
	DROP_UNSIGNED, /* no signature: nobody can tell whose it is */
	DROP_INVALID,  /* not a report (bad JSON or fields) */
	DROP_AUTH,     /* the signature is not the agent's (or no such agent) */
	DROP_ENDED,    /* the agent has ended */
	DROP_REPEAT,   /* delivered again (QoS 1 is at least once) or replayed */
	DROP_REASONS,
};
static const char *const drop_names[DROP_REASONS] = {"topic", "unsigned", "invalid",
						     "auth",  "ended",    "repeat"};

struct mqtt_ingest {
	struct mosquitto *client;
	struct orchestrator *orch;
	char broker[CONFIG_STRING_MAX];
	atomic_ullong accepted[ORCH_REPORT_KINDS]; /* by kind */
	atomic_ullong dropped[DROP_REASONS];
	atomic_bool connected;
	/* At most one line a second about dropped messages: a misbehaving
	 * client must not be able to flood the server's log. */
	atomic_llong last_complaint;
};

static void complain(struct mqtt_ingest *m, const char *topic, const char *why)
{
	long long now = (long long)time(NULL);
	long long last = atomic_load(&m->last_complaint);
	if (now == last || !atomic_compare_exchange_strong(&m->last_complaint, &last, now))
		return;
	fprintf(stderr, "evoclaw: mqtt: dropped a message on %.200s: %s\n", topic, why);
}

static void drop(struct mqtt_ingest *m, enum drop_reason r, const char *topic, const char *why)
{
	atomic_fetch_add(&m->dropped[r], 1);
	if (r != DROP_ENDED && r != DROP_REPEAT)
		complain(m, topic, why);
}

/* One message: checked, then recorded as the agent's report. */
static void ingest(struct mqtt_ingest *m, const char *topic, const char *payload, size_t len)
{
	char id[64];
	const char *kind;
	if (!request_parse_topic(topic, id, sizeof id, &kind))
		return drop(m, DROP_TOPIC, topic, "not evoclaw/agents/<id>/<kind>");
	size_t body_len;
	char sig[TELEMETRY_SIG_HEX + 1];
	if (!telemetry_sig_split(payload, len, &body_len, sig))
		return drop(m, DROP_UNSIGNED, topic, "not signed with the agent's token");
	json_error_t jerr;
	json_t *body = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(body)) {
		json_decref(body);
		return drop(m, DROP_INVALID, topic, "not a JSON object");
	}
	/* What the topic says wins over what the body repeats; a body that
	 * disagrees is not this agent's report. */
	const char *said_id = json_string_value(json_object_get(body, "agent_id"));
	const char *said_kind = json_string_value(json_object_get(body, "kind"));
	if ((said_id && strcmp(said_id, id) != 0) || (said_kind && strcmp(said_kind, kind) != 0)) {
		json_decref(body);
		return drop(m, DROP_INVALID, topic, "its agent_id or kind is not its topic's");
	}
	json_object_del(body, "agent_id");
	json_object_del(body, "sig");
	json_object_set_new(body, "kind", json_string(kind));
	struct report_request r;
	struct evo_error err = {0};
	int rc = request_parse_report(body, &r, &err);
	json_decref(body);
	enum orch_report_kind k = r.report.kind;
	if (rc == 0) {
		struct orch_credential cred = {
			.signed_bytes = payload, .signed_len = body_len, .sig_hex = sig};
		rc = orch_report(m->orch, id, &cred, &r.report, &err);
	}
	request_report_free(&r);
	if (rc == 0) {
		atomic_fetch_add(&m->accepted[k], 1);
		return;
	}
	if (rc == 1)
		return drop(m, DROP_REPEAT, topic, "a repeat");
	enum drop_reason why = err.kind == EVO_ERR_AUTH	      ? DROP_AUTH
			       : err.kind == EVO_ERR_CONFLICT ? DROP_ENDED
							      : DROP_INVALID;
	drop(m, why, topic, err.msg);
}

static void on_message(struct mosquitto *mosq, void *ctx, const struct mosquitto_message *msg)
{
	(void)mosq;
	if (msg->payloadlen < 0)
		return;
	ingest(ctx, msg->topic, msg->payload ? msg->payload : "", (size_t)msg->payloadlen);
}

static void on_connect(struct mosquitto *mosq, void *ctx, int rc)
{
	struct mqtt_ingest *m = ctx;
	if (rc != 0) {
		fprintf(stderr, "evoclaw: mqtt: %s refused us: %s\n", m->broker,
			mosquitto_connack_string(rc));
		return;
	}
	/* Again on every connection: a broker that lost our session (no
	 * persistence) lost our subscription with it. */
	mosquitto_subscribe(mosq, NULL, TELEMETRY_FILTER, 1);
	if (!atomic_exchange(&m->connected, true))
		fprintf(stderr, "evoclaw: mqtt: subscribed to %s on %s\n", TELEMETRY_FILTER,
			m->broker);
}

static void on_disconnect(struct mosquitto *mosq, void *ctx, int rc)
{
	(void)mosq;
	struct mqtt_ingest *m = ctx;
	if (atomic_exchange(&m->connected, false) && rc != 0)
		fprintf(stderr, "evoclaw: mqtt: lost %s (%s); reconnecting\n", m->broker,
			mosquitto_strerror(rc));
}

int mqtt_ingest_start(const struct evo_config *cfg, struct orchestrator *orch,
		      struct mqtt_ingest **out, struct evo_error *err)
{
	*out = NULL;
	if (cfg->mqtt.broker[0] == '\0')
		return 0;
	struct mqtt_ingest *m = xcalloc(1, sizeof *m);
	m->orch = orch;
	snprintf(m->broker, sizeof m->broker, "%s:%u", cfg->mqtt.broker, cfg->mqtt.port);
	mosquitto_lib_init();
	/* One id per orchestrator, so its session (and what was queued for
	 * it at QoS 1) is found again after a restart. */
	char client_id[96];
	snprintf(client_id, sizeof client_id, "evoclaw-serve-%s", orch_owner(orch));
	m->client = mosquitto_new(client_id, false, m);
	if (m->client == NULL) {
		free(m);
		mosquitto_lib_cleanup();
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "mqtt: cannot make a client");
	}
	if (cfg->mqtt.username[0])
		mosquitto_username_pw_set(m->client, cfg->mqtt.username,
					  cfg->mqtt.password[0] ? cfg->mqtt.password : NULL);
	mosquitto_reconnect_delay_set(m->client, 1, 30, true);
	mosquitto_connect_callback_set(m->client, on_connect);
	mosquitto_disconnect_callback_set(m->client, on_disconnect);
	mosquitto_message_callback_set(m->client, on_message);
	/* A broker that is down now is retried by the loop. */
	int rc = mosquitto_connect_async(m->client, cfg->mqtt.broker, (int)cfg->mqtt.port, 30);
	if (rc != MOSQ_ERR_SUCCESS)
		fprintf(stderr, "evoclaw: mqtt: cannot reach %s yet (%s); retrying\n", m->broker,
			rc == MOSQ_ERR_ERRNO ? "connection failed" : mosquitto_strerror(rc));
	if (mosquitto_loop_start(m->client) != MOSQ_ERR_SUCCESS) {
		mosquitto_destroy(m->client);
		free(m);
		mosquitto_lib_cleanup();
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "mqtt: cannot start the client's thread");
	}
	*out = m;
	return 0;
}

void mqtt_ingest_stop(struct mqtt_ingest *m)
{
	if (m == NULL)
		return;
	mosquitto_disconnect(m->client);
	mosquitto_loop_stop(m->client, false);
	mosquitto_destroy(m->client);
	mosquitto_lib_cleanup();
	free(m);
}

void mqtt_ingest_metrics(struct mqtt_ingest *m, struct evo_buf *out)
{
	if (m == NULL)
		return;
	static const char head[] =
		"# HELP evoclaw_mqtt_connected Whether the telemetry subscriber is connected.\n"
		"# TYPE evoclaw_mqtt_connected gauge\n";
	static const char reports[] =
		"# HELP evoclaw_mqtt_reports_total MQTT telemetry messages: accepted by kind, or "
		"dropped and why.\n"
		"# TYPE evoclaw_mqtt_reports_total counter\n";
	char line[160];
	evo_buf_append(out, head, sizeof head - 1);
	int n = snprintf(line, sizeof line, "evoclaw_mqtt_connected %d\n",
			 atomic_load(&m->connected) ? 1 : 0);
	evo_buf_append(out, line, (size_t)n);
	evo_buf_append(out, reports, sizeof reports - 1);
	for (int k = 0; k < ORCH_REPORT_KINDS; k++) {
		n = snprintf(line, sizeof line,
			     "evoclaw_mqtt_reports_total{result=\"accepted\",kind=\"%s\"} %llu\n",
			     report_kind_names[k], atomic_load(&m->accepted[k]));
		evo_buf_append(out, line, (size_t)n);
	}
	for (int i = 0; i < DROP_REASONS; i++) {
		n = snprintf(line, sizeof line, "evoclaw_mqtt_reports_total{result=\"%s\"} %llu\n",
			     drop_names[i], atomic_load(&m->dropped[i]));
		evo_buf_append(out, line, (size_t)n);
	}
}
