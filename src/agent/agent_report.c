/* Where the edge agent's reports go: a JSON line on stdout always (the
 * orchestrator keeps it in the agent's log), and an MQTT broker when one
 * is named (evoclaw/agents/<id>/<kind>; QoS 1 for what must not be lost;
 * signed with the agent's token, telemetry_sig.h), else the orchestrator
 * over HTTP when it has a URL and token. */
#include "agent/agent.h"

#include <mosquitto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/telemetry_sig.h"

struct reporter {
	uint64_t seq; /* numbers its MQTT messages: the orchestrator drops repeats */
	const struct agent_config *cfg;
	bool http;
	struct http_url url;
	char token_header[160];
	struct mosquitto *mqtt;
	int pending;      /* published, not yet acknowledged (atomic) */
	int connack;      /* the broker's first answer: -1 none yet, else its code (atomic) */
	bool http_warned; /* the orchestrator's refusal is said once */
};

static void on_connect(struct mosquitto *m, void *ctx, int rc)
{
	(void)m;
	struct reporter *r = ctx;
	int none = -1;
	__atomic_compare_exchange_n(&r->connack, &none, rc, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* The broker has it (QoS 1: acknowledged; QoS 0: sent). */
static void on_publish(struct mosquitto *m, void *ctx, int mid)
{
	(void)m;
	(void)mid;
	struct reporter *r = ctx;
	__atomic_sub_fetch(&r->pending, 1, __ATOMIC_RELAXED);
}

/* Fitness and alerts must arrive (QoS 1: kept and resent across a broker
 * restart); heartbeats and metrics are replaced by the next ones. */
/* Everything but heartbeats must arrive (QoS 1); a lost heartbeat is
 * replaced by the next one. */
static int qos_of(const char *kind)
{
	return strcmp(kind, "heartbeat") == 0 ? 0 : 1;
}

static int http_post(struct reporter *r, const char *json, struct evo_error *err)
{
	char path[160];
	snprintf(path, sizeof path, "/api/agents/%s/telemetry", r->cfg->id);
	struct http_response resp;
	http_response_init(&resp, NULL, NULL);
	struct http_request req = {
		.method = "POST",
		.path = path,
		.header = r->token_header,
		.body = json,
		.body_len = strlen(json),
		.timeout_ms = 5000,
	};
	int rc = http_request_send(&r->url, &req, &resp, err);
	int status = resp.status;
	http_response_free(&resp);
	if (rc < 0)
		return rc;
	if (status < 200 || status > 299)
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "the orchestrator answered %d", status);
	return 0;
}

static int mqtt_open(struct reporter *r, struct evo_error *err)
{
	const struct agent_config *c = r->cfg;
	mosquitto_lib_init();
	/* A persistent session (clean_session false): QoS 1 messages queued
	 * while the broker is away are delivered when it is back. */
	r->mqtt = mosquitto_new(c->id, false, r);
	if (r->mqtt == NULL)
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "cannot create an MQTT client");
	if (c->mqtt_username[0])
		mosquitto_username_pw_set(r->mqtt, c->mqtt_username,
					  c->mqtt_password[0] ? c->mqtt_password : NULL);
	/* Reconnect after 1 s, doubling up to 30 s. */
	mosquitto_reconnect_delay_set(r->mqtt, 1, 30, true);
	mosquitto_max_inflight_messages_set(r->mqtt, 100);
	mosquitto_publish_callback_set(r->mqtt, on_publish);
	mosquitto_connect_callback_set(r->mqtt, on_connect);
	r->connack = -1;
	int rc = mosquitto_connect(r->mqtt, c->mqtt_broker, (int)c->mqtt_port, 30);
	if (rc != MOSQ_ERR_SUCCESS)
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "cannot reach the MQTT broker %s (port %u): %s",
				     c->mqtt_broker, c->mqtt_port,
				     rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	if (mosquitto_loop_start(r->mqtt) != MOSQ_ERR_SUCCESS)
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "cannot start the MQTT client's thread");
	/* The broker's answer to CONNECT: a wrong password is refused here,
	 * not found out by messages silently dropped later. */
	int connack = -1;
	for (int i = 0; i < 1000 && (connack = __atomic_load_n(&r->connack, __ATOMIC_ACQUIRE)) < 0; i++)
		usleep(10000);
	if (connack != 0)
		return evo_error_set(err, EVO_ERR_SYSTEM, 0, "the MQTT broker %s:%u %s", c->mqtt_broker,
				     c->mqtt_port,
				     connack < 0 ? "did not answer within 10 s"
						 : mosquitto_connack_string(connack));
	return 0;
}

int reporter_open(const struct agent_config *cfg, struct reporter **out, struct evo_error *err)
{
	struct reporter *r = xcalloc(1, sizeof *r);
	r->cfg = cfg;
	/* A broker, when there is one, carries everything: the orchestrator
	 * reads it there, and one channel means each report counts once. */
	if (cfg->orchestrator_url[0] && cfg->token[0] && !cfg->mqtt_broker[0]) {
		if (http_url_parse(cfg->orchestrator_url, &r->url, err) < 0) {
			evo_error_prefix(err, "ORCHESTRATOR_URL");
			err->kind = EVO_ERR_INVALID;
			free(r);
			return -1;
		}
		snprintf(r->token_header, sizeof r->token_header, "X-Agent-Token: %s", cfg->token);
		r->http = true;
	}
	if (cfg->mqtt_broker[0] && mqtt_open(r, err) < 0) {
		reporter_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

void reporter_send(struct reporter *r, const char *kind, json_t *body)
{
	json_object_set_new(body, "kind", json_string(kind));
	json_object_set_new(body, "agent_id", json_string(r->cfg->id));
	/* Numbered over MQTT, so a message the broker delivers twice (QoS 1 is
	 * at least once) or someone replays is recorded once. */
	if (r->mqtt)
		json_object_set_new(body, "seq", json_integer((json_int_t)++r->seq));
	char *line = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(12));
	if (line == NULL) {
		json_decref(body);
		return;
	}
	printf("%s\n", line);
	fflush(stdout);
	if (r->mqtt) {
		char topic[160];
		snprintf(topic, sizeof topic, "evoclaw/agents/%s/%s", r->cfg->id, kind);
		/* Signed with its token, which the broker's other clients must
		 * never see (unsigned without one: an agent on its own). */
		char *signed_line = r->cfg->token[0] ? telemetry_sign(r->cfg->token, line, strlen(line))
						     : NULL;
		const char *payload = signed_line ? signed_line : line;
		/* Queued by the client while the broker is away (QoS 1). */
		__atomic_add_fetch(&r->pending, 1, __ATOMIC_RELAXED);
		if (mosquitto_publish(r->mqtt, NULL, topic, (int)strlen(payload), payload,
				      qos_of(kind), false) != MOSQ_ERR_SUCCESS &&
		    qos_of(kind) == 0)
			__atomic_sub_fetch(&r->pending, 1, __ATOMIC_RELAXED);
		free(signed_line);
	}
	if (r->http) {
		/* The orchestrator's form: no agent_id (the path has it). */
		json_object_del(body, "agent_id");
		json_object_del(body, "seq");
		char *post = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(12));
		struct evo_error err = {0};
		if (post && http_post(r, post, &err) < 0 && !r->http_warned) {
			r->http_warned = true;
			fprintf(stderr, "evoclaw-agent: cannot report to %s: %s\n",
				r->cfg->orchestrator_url, err.msg);
		}
		free(post);
	}
	free(line);
	json_decref(body);
}

void reporter_log(struct reporter *r, enum agent_log_level level, const char *fmt, ...)
{
	if (level < r->cfg->log_level)
		return;
	char message[1000];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	reporter_send(r, "log", json_pack("{s:s, s:s}", "level", agent_log_level_names[level], "message", message));
}

void reporter_close(struct reporter *r)
{
	if (r == NULL)
		return;
	if (r->mqtt) {
		/* What is queued gets up to 10 s to be acknowledged (the
		 * client reconnects meanwhile if the broker was away). */
		for (int i = 0; i < 500 && __atomic_load_n(&r->pending, __ATOMIC_RELAXED) > 0; i++)
			usleep(20000);
		mosquitto_disconnect(r->mqtt);
		mosquitto_loop_stop(r->mqtt, false);
		mosquitto_destroy(r->mqtt);
		mosquitto_lib_cleanup();
	}
	if (r->http)
		http_url_free(&r->url);
	free(r);
}
