#include "orchestrator/orchestrator.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/random_hex.h"
#include "common/cleanup.h"
#include "common/telemetry_sig.h"
#include "common/text.h"
#include "common/fileutil.h"
#include "core/budget.h"

/* An agent's log rotates to .log.1 at this size: 1-2 MiB kept. */
#define LOG_ROTATE_BYTES (1024u * 1024u)
/* Last stderr bytes kept for a failed agent's error_message. */
#define STDERR_TAIL_BYTES 2048
#define LAUNCHERS 2
/* Keep-alive extends an agent this long before its deadline. */
#define KEEP_ALIVE_MARGIN_MS 30000
#define TICK_NS 250000000L

enum intent {
	INTENT_NONE,
	INTENT_TERMINATE,
	INTENT_DESTROY,
	INTENT_BUDGET,
	INTENT_STALE,
};

/* An agent that reports is stale after this many of its heartbeat
 * intervals without a word, and stopped (failed) after twice as many. */
#define STALE_INTERVALS 3

/* An agent pending or running. Owned by the live list; freed by whoever
 * takes it off (finish()). */
struct live {
	char id[AGENT_ID_MAX];
	char tenant[64];
	char sandbox_id[PROVIDER_SANDBOX_ID_MAX];
	const struct provider *provider; /* where its sandbox runs */
	usd_picos_per_sec rate;          /* per sandbox second, by provider */
	struct provider_watch *watch; /* NULL while pending */
	bool launching;               /* a launcher is starting it */
	enum intent intent;
	int64_t created_ms, started_ms, deadline_ms, max_deadline_ms;
	/* Paused (E2B pause) since; 0 = running. While paused the deadline
	 * stands still: deadline_ms - paused_since_ms is the time left. */
	int64_t paused_since_ms;
	int64_t paused_total_ms; /* paused before: not billed */
	uint32_t timeout_sec;
	bool keep_alive;
	int64_t tokens;
	char agent_token[72]; /* what its telemetry must carry */
	int64_t last_seen_ms; /* its last report, 0: none yet */
	uint32_t heartbeat_sec; /* how often it said it beats, 0: not said */
	uint64_t last_seq;      /* the highest numbered report taken (MQTT) */
	int log_fd;
	size_t log_size;
	char stderr_tail[STDERR_TAIL_BYTES];
	size_t stderr_len;
	struct provider_end end; /* set by the watch's ended() */
	int64_t end_ms;          /* when it ended, if not now (found after a restart) */
	struct live *next;
	struct orchestrator *o;
};

/* Spawn-to-running latency buckets (seconds) for GET /metrics. */
static const double latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					 0.1,   0.25,   0.5,   1,    2.5,   5};
#define LATENCY_BUCKETS (sizeof latency_buckets / sizeof *latency_buckets)

struct orchestrator {
	const struct evo_config *cfg;
	struct store *store;
	/* Where sandboxes can run; the configured default first. */
	const struct provider *providers[ORCH_PROVIDERS_MAX];
	size_t provider_count;
	char owner[64];
	char logs_dir[PATH_MAX];
	usd_picos_per_sec rate;      /* per local sandbox second */
	usd_picos_per_sec e2b_rate;  /* per remote (E2B) sandbox second */
	usd_picos_per_sec token_rate; /* per token */

	pthread_mutex_t lock;
	pthread_cond_t changed; /* an agent finished, or a launch was queued */
	struct live *live;
	usd_micros finished_spend;
	bool stopping;

	orch_log_hook log_hook;
	void *log_hook_ctx;

	int epoll_fd;
	int wake_fd; /* eventfd: tells the monitor to stop */
	pthread_t monitor, ticker, launchers[LAUNCHERS];
	int threads_started;

	/* Spend over time: when it is next sampled, and what each scope's
	 * last recorded sample said (the ticker's alone). */
	int64_t next_spend_sample_ms;
	struct spend_sample *spend_marks;
	size_t spend_mark_count;

	/* spawn-to-running latency histogram */
	uint64_t latency_counts[LATENCY_BUCKETS + 1];
	double latency_sum;
	uint64_t latency_total;
};

static void buf_puts(struct evo_buf *b, const char *s)
{
	evo_buf_append(b, s, strlen(s));
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- money (caller holds the lock) ------------------------------------ */

static int64_t billed_seconds(int64_t ms)
{
	return ms > 0 ? (ms + 999) / 1000 : 0; /* every started second */
}

/* Milliseconds it will have run by `to` if it runs (or, paused, runs
 * again) until then: paused time is not counted. */
static int64_t planned_run_ms(const struct live *l, int64_t to)
{
	return l->started_ms > 0 ? to - l->started_ms - l->paused_total_ms : 0;
}

/* Milliseconds it has run by `now`. */
static int64_t run_ms(const struct live *l, int64_t now)
{
	if (l->paused_since_ms && now > l->paused_since_ms)
		now = l->paused_since_ms;
	int64_t ms = planned_run_ms(l, now);
	return ms > 0 ? ms : 0;
}

static usd_micros live_accrued(const struct orchestrator *o, const struct live *l, int64_t now)
{
	return budget_cost(l->rate, billed_seconds(run_ms(l, now))) +
	       budget_cost(o->token_rate, l->tokens);
}

/* What it costs if it runs to its deadline. */
static usd_micros live_worst(const struct orchestrator *o, const struct live *l)
{
	int64_t seconds = l->started_ms ? billed_seconds(planned_run_ms(l, l->deadline_ms))
					 : (int64_t)l->timeout_sec;
	return budget_cost(l->rate, seconds) + budget_cost(o->token_rate, l->tokens);
}

/* What moving its deadline from the current one to `want` adds. */
static usd_micros live_extension_cost(const struct orchestrator *o, const struct live *l,
				      int64_t want)
{
	return budget_cost(l->rate, billed_seconds(planned_run_ms(l, want))) -
	       budget_cost(l->rate, billed_seconds(planned_run_ms(l, l->deadline_ms)));
}

/* Live agents' count, spend so far and worst case, plus `finished`:
 * everyone's (tenant NULL) or one tenant's. */
static void budget_numbers_of(const struct orchestrator *o, const char *tenant,
			      usd_micros finished, int64_t now, uint32_t *live_count,
			      usd_micros *accrued, usd_micros *committed)
{
	uint32_t n = 0;
	usd_micros acc = finished, worst = finished;
	for (const struct live *l = o->live; l; l = l->next) {
		if (tenant && strcmp(l->tenant, tenant) != 0)
			continue;
		n++;
		acc += live_accrued(o, l, now);
		usd_micros w = live_worst(o, l), a = live_accrued(o, l, now);
		worst += w > a ? w : a;
	}
	*live_count = n;
	*accrued = acc;
	*committed = worst;
}

static void budget_numbers(const struct orchestrator *o, int64_t now, uint32_t *live_count,
			   usd_micros *accrued, usd_micros *committed)
{
	budget_numbers_of(o, NULL, o->finished_spend, now, live_count, accrued, committed);
}

static struct live *find_live(struct orchestrator *o, const char *id)
{
	for (struct live *l = o->live; l; l = l->next)
		if (strcmp(l->id, id) == 0)
			return l;
	return NULL;
}

static void unlink_live(struct orchestrator *o, struct live *target)
{
	for (struct live **p = &o->live; *p; p = &(*p)->next) {
		if (*p == target) {
			*p = target->next;
			return;
		}
	}
}

/* ---- logs ------------------------------------------------------------- */

void orch_log_path(const struct orchestrator *o, const char *id, bool previous, char *out,
		   size_t size)
{
	snprintf(out, size, "%s/%s.log%s", o->logs_dir, id, previous ? ".1" : "");
}

static void log_open(struct live *l, bool truncate)
{
	char path[PATH_MAX];
	orch_log_path(l->o, l->id, false, path, sizeof path);
	l->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0),
			 0600);
	struct stat st;
	l->log_size = l->log_fd >= 0 && fstat(l->log_fd, &st) == 0 ? (size_t)st.st_size : 0;
	if (truncate) {
		orch_log_path(l->o, l->id, true, path, sizeof path);
		unlink(path);
	}
}

static void log_append(struct live *l, const uint8_t *data, size_t len)
{
	if (l->log_fd < 0)
		return;
	if (l->log_size + len > LOG_ROTATE_BYTES) {
		char cur[PATH_MAX], prev[PATH_MAX];
		orch_log_path(l->o, l->id, false, cur, sizeof cur);
		orch_log_path(l->o, l->id, true, prev, sizeof prev);
		rename(cur, prev);
		close(l->log_fd);
		log_open(l, false);
		if (l->log_fd < 0)
			return;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(l->log_fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* disk full: the agent runs on, its log stops */
		off += (size_t)n;
		l->log_size += (size_t)n;
	}
}

static void stderr_keep(struct live *l, const uint8_t *data, size_t len)
{
	if (len >= STDERR_TAIL_BYTES) {
		memcpy(l->stderr_tail, data + len - STDERR_TAIL_BYTES, STDERR_TAIL_BYTES);
		l->stderr_len = STDERR_TAIL_BYTES;
		return;
	}
	if (l->stderr_len + len > STDERR_TAIL_BYTES) {
		size_t drop = l->stderr_len + len - STDERR_TAIL_BYTES;
		memmove(l->stderr_tail, l->stderr_tail + drop, l->stderr_len - drop);
		l->stderr_len -= drop;
	}
	memcpy(l->stderr_tail + l->stderr_len, data, len);
	l->stderr_len += len;
}

/* The last few lines of stderr, for error_message. */
static void stderr_summary(const struct live *l, char *out, size_t size)
{
	size_t len = l->stderr_len;
	while (len > 0 && (l->stderr_tail[len - 1] == '\n' || l->stderr_tail[len - 1] == '\r'))
		len--;
	size_t start = len, lines = 0;
	while (start > 0 && lines < 5) {
		start--;
		if (l->stderr_tail[start] == '\n' && ++lines == 5) {
			start++;
			break;
		}
	}
	size_t n = len - start;
	if (n >= size)
		start = len - (n = size - 1);
	memcpy(out, l->stderr_tail + start, n);
	out[n] = '\0';
}

/* Append the last `max` bytes of one of an agent's logs to out; true if
 * that is the whole file (or there is none). */
static bool log_read_end(const struct orchestrator *o, const char *id, bool previous, size_t max,
			 struct evo_buf *out)
{
	char path[PATH_MAX];
	orch_log_path(o, id, previous, path, sizeof path);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return true;
	size_t size = (size_t)st.st_size, from = size > max ? size - max : 0;
	uint8_t *buf = xmalloc(size - from + 1);
	ssize_t got = pread(fd, buf, size - from, (off_t)from);
	if (got > 0)
		evo_buf_append(out, buf, (size_t)got);
	free(buf);
	return from == 0;
}

char **orch_log_tail(const struct orchestrator *o, const char *id, size_t n)
{
	/* Only the end of the logs is read: enough for n ordinary lines. */
	size_t budget = n * 512 < 64 * 1024 ? 64 * 1024 : n * 512;
	if (budget > 2 * LOG_ROTATE_BYTES)
		budget = 2 * LOG_ROTATE_BYTES;
	struct evo_buf cur = {0}, text = {0};
	bool cur_whole = log_read_end(o, id, false, budget, &cur);
	bool whole = cur_whole;
	if (cur_whole && cur.len < budget)
		whole = log_read_end(o, id, true, budget - cur.len, &text);
	evo_buf_append(&text, cur.data, cur.len);
	evo_buf_free(&cur);
	/* A line cut by the budget is not shown. */
	size_t skip = 0;
	if (!whole) {
		while (skip < text.len && text.data[skip] != '\n')
			skip++;
		skip = skip < text.len ? skip + 1 : text.len;
		memmove(text.data, text.data + skip, text.len - skip);
		text.len -= skip;
	}
	size_t end = text.len;
	if (end > 0 && text.data[end - 1] == '\n')
		end--;
	size_t start = end, count = 0;
	while (start > 0 && count < n) {
		if (text.data[start - 1] == '\n' && ++count == n)
			break;
		start--;
	}
	if (end == 0)
		count = 0;
	else if (start == 0)
		count = count < n ? count + 1 : count;
	char **lines = xcalloc(count + 1, sizeof *lines);
	size_t i = 0;
	for (size_t p = start; i < count && p <= end;) {
		size_t q = p;
		while (q < end && text.data[q] != '\n')
			q++;
		lines[i++] = xstrndup((const char *)text.data + p, q - p);
		p = q + 1;
	}
	evo_buf_free(&text);
	return lines;
}

void orch_lines_free(char **lines)
{
	for (char **l = lines; l && *l; l++)
		free(*l);
	free(lines);
}

/* ---- finishing an agent ------------------------------------------------- */

/* Record why an agent stopped and take it off the live list; frees l.
 * Caller holds the lock. */
static void finish(struct orchestrator *o, struct live *l, enum agent_stop_reason reason,
		   int32_t exit_code, const char *message)
{
	int64_t now = l->end_ms ? l->end_ms : now_ms();
	struct agent a;
	struct evo_error err = {0};
	if (store_agent_get(o->store, l->id, &a, &err) == 0) {
		if (l->started_ms && a.status == AGENT_PENDING)
			agent_mark_running(&a, l->started_ms, NULL);
		snprintf(a.sandbox_id, sizeof a.sandbox_id, "%s", l->sandbox_id);
		a.tokens_used = l->tokens;
		a.cost = live_accrued(o, l, now);
		if (l->paused_since_ms && now > l->paused_since_ms)
			a.paused_total_ms = l->paused_total_ms + now - l->paused_since_ms;
		a.paused_at_ms = 0;
		int r = agent_mark_stopped(&a, reason, exit_code, message, now, &err);
		a.execution_time_ms = run_ms(l, now);
		if (r == 0 && store_agent_update(o->store, &a, &err) < 0)
			fprintf(stderr, "evoclaw: agent %s: cannot record its end: %s\n", l->id,
				err.msg);
		o->finished_spend += a.cost;
		agent_clear(&a);
	}
	unlink_live(o, l);
	if (l->log_fd >= 0)
		close(l->log_fd);
	if (l->watch)
		l->provider->watch_close(l->watch);
	if (o->log_hook)
		o->log_hook(o->log_hook_ctx, l->id);
	free(l);
	pthread_cond_broadcast(&o->changed);
}

/* The outcome of a sandbox's end, given what we asked for. */
static void finish_ended(struct orchestrator *o, struct live *l, const struct provider_end *end)
{
	char message[1024] = "";
	switch (l->intent) {
	case INTENT_TERMINATE:
	case INTENT_DESTROY:
		finish(o, l, AGENT_STOP_TERMINATED, 0, NULL);
		return;
	case INTENT_BUDGET:
		finish(o, l, AGENT_STOP_BUDGET, 0, "stopped: spend reached creditBudgetUsd");
		return;
	case INTENT_STALE:
		snprintf(message, sizeof message,
			 "stopped as stale: no report for %d of its %u s heartbeat intervals",
			 2 * STALE_INTERVALS, l->heartbeat_sec);
		finish(o, l, AGENT_STOP_ERROR, 0, message);
		return;
	case INTENT_NONE:
		break;
	}
	switch (end->reason) {
	case PROVIDER_END_EXITED: {
		int32_t code = end->signal ? 128 + end->signal : end->exit_code;
		char tail[900];
		stderr_summary(l, tail, sizeof tail);
		if (end->oom)
			snprintf(message, sizeof message, "killed: out of memory%s%s", *tail ? ": " : "",
				 tail);
		else if (end->signal)
			snprintf(message, sizeof message, "killed by signal %d%s%s", end->signal,
				 *tail ? ": " : "", tail);
		else if (code != 0)
			snprintf(message, sizeof message, "exit code %d%s%s", code, *tail ? ": " : "",
				 tail);
		finish(o, l, AGENT_STOP_EXITED, code, code != 0 ? message : NULL);
		return;
	}
	case PROVIDER_END_TIMEOUT:
		snprintf(message, sizeof message, "stopped at its timeout (%u s)", l->timeout_sec);
		finish(o, l, AGENT_STOP_TIMEOUT, 0, message);
		return;
	case PROVIDER_END_KILLED:
		finish(o, l, AGENT_STOP_ERROR, 0,
		       end->message[0] ? end->message : "its sandbox was killed outside the orchestrator");
		return;
	case PROVIDER_END_LOST:
		finish(o, l, AGENT_STOP_ORCHESTRATOR_LOST, 0,
		       end->message[0] ? end->message : "its sandbox's supervisor vanished");
		return;
	}
}

/* ---- the monitor ------------------------------------------------------ */

static void sink_output(void *ctx, bool is_stderr, const uint8_t *data, size_t len)
{
	struct live *l = ctx;
	log_append(l, data, len);
	if (is_stderr)
		stderr_keep(l, data, len);
	if (l->o->log_hook)
		l->o->log_hook(l->o->log_hook_ctx, l->id);
}

static void sink_ended(void *ctx, const struct provider_end *end)
{
	struct live *l = ctx;
	l->end = *end;
}

static void *monitor_main(void *arg)
{
	struct orchestrator *o = arg;
	struct epoll_event events[64];
	for (;;) {
		int n = epoll_wait(o->epoll_fd, events, 64, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return NULL;
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				return NULL; /* the wake fd: stopping */
			/* Only this thread reads watches and frees watched
			 * agents, so l stays valid here without the lock. */
			struct live *l = events[i].data.ptr;
			struct provider_sink sink = {.ctx = l, .output = sink_output, .ended = sink_ended};
			if (l->provider->watch_read(l->watch, &sink) != 0)
				continue;
			epoll_ctl(o->epoll_fd, EPOLL_CTL_DEL, l->provider->watch_fd(l->watch), NULL);
			/* We heard how it ended: its note for an absent owner is moot. */
			struct provider_end unused;
			long long at;
			l->provider->collect_end(l->sandbox_id, &unused, &at, NULL);
			pthread_mutex_lock(&o->lock);
			finish_ended(o, l, &l->end);
			pthread_mutex_unlock(&o->lock);
		}
	}
}

/* Follow a started sandbox. Caller holds the lock. */
static void watch_live(struct orchestrator *o, struct live *l)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
	epoll_ctl(o->epoll_fd, EPOLL_CTL_ADD, l->provider->watch_fd(l->watch), &ev);
}

/* ---- launching -------------------------------------------------------- */

/* A JSON array of strings -> NULL-terminated argv (NULL if none). */
static char **strv_from_json(const char *json)
{
	if (json == NULL)
		return NULL;
	json_t *a = json_loads(json, 0, NULL);
	if (!json_is_array(a)) {
		json_decref(a);
		return NULL;
	}
	char **v = xcalloc(json_array_size(a) + 1, sizeof *v);
	size_t n = 0, i;
	json_t *item;
	json_array_foreach(a, i, item)
		if (json_is_string(item))
			v[n++] = xstrdup(json_string_value(item));
	json_decref(a);
	return v;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static void env_add(json_t *env, const char *key, const char *value)
{
	json_object_set_new(env, key, json_string(value));
}

/* A local sandbox has no network: an agent told to use the broker this
 * server relays to (by the address we use) reaches it through the relay
 * instead, the one way out its sandbox has. So a broker named per spawn,
 * or by the orchestrator that created an E2B sandbox here, still works.
 * Done to the recorded environment, which every process of the sandbox
 * gets (envd's too). */
static void env_route_broker(const struct orchestrator *o, const struct provider *provider,
			     json_t *env)
{
	struct provider_agent_routes route = {0};
	provider->agent_routes(o->owner, &route);
	const struct provider_agent_routes *routes = &route;
	const char *broker = json_string_value(json_object_get(env, "MQTT_BROKER"));
	const char *port = json_string_value(json_object_get(env, "MQTT_PORT"));
	char ours[16];
	snprintf(ours, sizeof ours, "%u", o->cfg->mqtt.port);
	if (routes->mqtt_port != 0 || routes->mqtt_broker[0] == '\0' || broker == NULL ||
	    o->cfg->mqtt.broker[0] == '\0' || strcmp(broker, o->cfg->mqtt.broker) != 0 ||
	    (port && port[0] && strcmp(port, ours) != 0))
		return;
	env_add(env, "MQTT_BROKER", routes->mqtt_broker);
	env_add(env, "MQTT_PORT", "0");
}

/* The environment every agent gets (DESIGN §10), under the caller's own
 * variables; its identity is set last so nobody can forge it. An E2B
 * sandbox (mode "e2b") gets its creator's variables alone, as on E2B. */
static char **agent_env(const struct orchestrator *o, const struct provider *provider,
			const struct agent *a)
{
	json_t *env = json_object();
	bool plain = strcmp(a->mode, "e2b") == 0;
	/* The provider says how its sandboxes reach us and the broker (a
	 * local one has no network: sockets we listen on). */
	struct provider_agent_routes routes = {0};
	provider->agent_routes(o->owner, &routes);
	char port[16];
	snprintf(port, sizeof port, "%u", routes.mqtt_port);
	bool broker = o->cfg->mqtt.broker[0] != '\0';
	if (!plain) {
		env_add(env, "MQTT_BROKER", broker ? routes.mqtt_broker : "");
		env_add(env, "MQTT_PORT", broker ? port : "");
		env_add(env, "MQTT_USERNAME", broker ? o->cfg->mqtt.agent_username : "");
		env_add(env, "MQTT_PASSWORD", broker ? o->cfg->mqtt.agent_password : "");
		env_add(env, "ORCHESTRATOR_URL", routes.orchestrator_url);
		env_add(env, "EVOCLAW_PAPER_MODE", "true");
		env_add(env, "EVOCLAW_LOG_LEVEL", o->cfg->agents.log_level);
		/* Secrets: in the sandbox's environment, never in the agent's
		 * record (whose environment the API shows by keys alone). */
		env_add(env, "HYPERLIQUID_API_KEY", o->cfg->agents.hyperliquid_api_key);
		env_add(env, "HYPERLIQUID_API_SECRET", o->cfg->agents.hyperliquid_api_secret);
	}
	json_t *given = a->environment_json ? json_loads(a->environment_json, 0, NULL) : NULL;
	const char *k;
	json_t *v;
	json_object_foreach(given, k, v)
		if (json_is_string(v))
			json_object_set(env, k, v);
	json_decref(given);
	if (!plain) {
		env_add(env, "EVOCLAW_AGENT_ID", a->id);
		env_add(env, "EVOCLAW_AGENT_TYPE", a->agent_type);
		env_add(env, "EVOCLAW_TASK", a->task_description);
		env_add(env, "EVOCLAW_GENOME", a->genome_json ? a->genome_json : "{}");
		env_add(env, "EVOCLAW_AGENT_TOKEN", a->agent_token);
	}
	char **out = xcalloc(json_object_size(env) + 1, sizeof *out);
	size_t n = 0;
	json_object_foreach(env, k, v) {
		size_t len = strlen(k) + strlen(json_string_value(v)) + 2;
		out[n] = xmalloc(len);
		snprintf(out[n++], len, "%s=%s", k, json_string_value(v));
	}
	json_decref(env);
	return out;
}

static void record_latency(struct orchestrator *o, int64_t ms)
{
	double s = (double)ms / 1000.0;
	size_t b = 0;
	while (b < LATENCY_BUCKETS && s > latency_buckets[b])
		b++;
	o->latency_counts[b]++;
	o->latency_sum += s;
	o->latency_total++;
}

/* Start the sandbox of one pending agent. */
static void launch(struct orchestrator *o, struct live *l)
{
	const struct provider *provider = l->provider; /* set for good at spawn */
	struct agent a = {0};
	struct evo_error err = {0};
	int r = store_agent_get(o->store, l->id, &a, &err);
	struct provider_watch *watch = NULL;
	char sandbox_id[PROVIDER_SANDBOX_ID_MAX] = "";
	/* The sandbox's clock (its deadline, its bill) starts when it is
	 * claimed or created, just after this. */
	int64_t started = now_ms();
	if (r == 0) {
		char **argv = strv_from_json(a.command_json);
		char **env = agent_env(o, provider, &a);
		struct provider_spawn spec = {
			.template_name = a.template_name,
			.timeout_sec = a.timeout_sec,
			.argv = argv,
			/* An E2B sandbox idles, whatever its template's
			 * entrypoint: on E2B a command starts through envd. */
			.idle = strcmp(a.mode, "e2b") == 0,
			.env = env,
			.task = a.task_description,
			.owner = o->owner,
		};
		r = provider->start(&spec, sandbox_id, &watch, &err);
		strv_free(argv);
		strv_free(env);
	}
	int64_t now = now_ms();
	pthread_mutex_lock(&o->lock);
	l->launching = false;
	if (r < 0) {
		char message[1100];
		snprintf(message, sizeof message, "its sandbox did not start: %s", err.msg);
		finish(o, l, l->intent != INTENT_NONE ? AGENT_STOP_TERMINATED : AGENT_STOP_ERROR, 0,
		       l->intent != INTENT_NONE ? NULL : message);
		pthread_mutex_unlock(&o->lock);
		agent_clear(&a);
		return;
	}
	snprintf(l->sandbox_id, sizeof l->sandbox_id, "%s", sandbox_id);
	l->watch = watch;
	l->started_ms = started;
	l->deadline_ms = started + (int64_t)l->timeout_sec * 1000;
	record_latency(o, now - l->created_ms);
	agent_mark_running(&a, started, NULL);
	snprintf(a.sandbox_id, sizeof a.sandbox_id, "%s", sandbox_id);
	a.deadline_ms = l->deadline_ms;
	if (store_agent_update(o->store, &a, &err) < 0)
		fprintf(stderr, "evoclaw: agent %s: cannot record its start: %s\n", l->id, err.msg);
	agent_clear(&a);
	bool stop_now = l->intent != INTENT_NONE;
	watch_live(o, l);
	if (o->log_hook)
		o->log_hook(o->log_hook_ctx, l->id);
	pthread_mutex_unlock(&o->lock);
	/* Terminated while it was starting: the monitor records the end. */
	if (stop_now)
		provider->kill(sandbox_id, NULL);
}

static void *launcher_main(void *arg)
{
	struct orchestrator *o = arg;
	pthread_mutex_lock(&o->lock);
	for (;;) {
		/* The oldest waiting first (the list is newest first). */
		struct live *next = NULL;
		for (struct live *l = o->live; l; l = l->next)
			if (l->watch == NULL && !l->launching)
				next = l;
		if (o->stopping)
			break;
		if (next == NULL) {
			pthread_cond_wait(&o->changed, &o->lock);
			continue;
		}
		if (next->intent != INTENT_NONE) {
			finish(o, next, AGENT_STOP_TERMINATED, 0, NULL);
			continue;
		}
		next->launching = true;
		pthread_mutex_unlock(&o->lock);
		launch(o, next);
		pthread_mutex_lock(&o->lock);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

/* ---- the ticker: budget and keep-alive --------------------------------- */

/* A sandbox the ticker stops. */
struct kill_order {
	char sandbox_id[PROVIDER_SANDBOX_ID_MAX];
	const struct provider *provider;
};

struct extension {
	char sandbox_id[PROVIDER_SANDBOX_ID_MAX];
	const struct provider *provider;
	char id[AGENT_ID_MAX];
	uint32_t seconds;
	int64_t deadline_ms, old_deadline_ms;
};

/* Has a reporting agent said nothing for `intervals` of its heartbeat
 * intervals? Not one that never reported, and not while paused (a frozen
 * agent cannot speak). */
static bool live_silent_for(const struct live *l, int64_t now, int intervals)
{
	return l->heartbeat_sec > 0 && l->last_seen_ms > 0 && l->paused_since_ms == 0 &&
	       now - l->last_seen_ms > (int64_t)intervals * l->heartbeat_sec * 1000;
}

static void tick(struct orchestrator *o)
{
	int64_t now = now_ms();
	usd_micros budget = budget_usd_to_micros(o->cfg->cloud.credit_budget_usd);
	size_t cap = 0, nkill = 0, next = 0;
	struct kill_order *kills = NULL;
	struct extension *ext = NULL;
	pthread_mutex_lock(&o->lock);
	for (struct live *l = o->live; l; l = l->next)
		cap++;
	kills = xcalloc(cap + 1, sizeof *kills);
	ext = xcalloc(cap + 1, sizeof *ext);
	uint32_t n;
	usd_micros accrued, committed;
	budget_numbers(o, now, &n, &accrued, &committed);
	/* Spend reached the budget (tokens can do that): everything stops. */
	bool over = accrued >= budget;
	for (struct live *l = o->live; l; l = l->next) {
		if (l->watch == NULL || l->intent != INTENT_NONE)
			continue;
		if (over || live_silent_for(l, now, 2 * STALE_INTERVALS)) {
			l->intent = over ? INTENT_BUDGET : INTENT_STALE;
			struct kill_order *k = &kills[nkill++];
			snprintf(k->sandbox_id, sizeof k->sandbox_id, "%s", l->sandbox_id);
			k->provider = l->provider;
			continue;
		}
		/* A paused sandbox's deadline stands still. */
		if (!l->keep_alive || l->paused_since_ms || l->deadline_ms - now > KEEP_ALIVE_MARGIN_MS)
			continue;
		/* Another timeout's worth, never past maxLifetimeSec nor the
		 * budget: the extra worst case must fit like a spawn's. */
		int64_t want = now + (int64_t)l->timeout_sec * 1000;
		if (want > l->max_deadline_ms)
			want = l->max_deadline_ms;
		if (want <= l->deadline_ms)
			continue;
		usd_micros extra = live_extension_cost(o, l, want);
		if (committed + extra > budget)
			continue;
		committed += extra;
		struct extension *e = &ext[next++];
		snprintf(e->sandbox_id, sizeof e->sandbox_id, "%s", l->sandbox_id);
		e->provider = l->provider;
		snprintf(e->id, sizeof e->id, "%s", l->id);
		e->seconds = (uint32_t)((want - now + 999) / 1000);
		e->deadline_ms = want;
		e->old_deadline_ms = l->deadline_ms;
		l->deadline_ms = want;
	}
	pthread_mutex_unlock(&o->lock);
	for (size_t i = 0; i < nkill; i++)
		kills[i].provider->kill(kills[i].sandbox_id, NULL);
	for (size_t i = 0; i < next; i++) {
		struct evo_error err = {0};
		if (ext[i].provider->set_timeout(ext[i].sandbox_id, ext[i].seconds, &err) < 0) {
			/* Ended meanwhile (the monitor records how), or its
			 * provider could not be reached: the next tick tries
			 * again, its old deadline standing until then. */
			pthread_mutex_lock(&o->lock);
			struct live *l = find_live(o, ext[i].id);
			if (l && l->deadline_ms == ext[i].deadline_ms)
				l->deadline_ms = ext[i].old_deadline_ms;
			pthread_mutex_unlock(&o->lock);
			continue;
		}
		struct agent a;
		if (store_agent_get(o->store, ext[i].id, &a, NULL) == 0) {
			a.deadline_ms = ext[i].deadline_ms;
			store_agent_update(o->store, &a, NULL);
			agent_clear(&a);
		}
	}
	free(kills);
	free(ext);
}

/* ---- spend over time ------------------------------------------------- */

/* Samples are kept this long. */
#define SPEND_HISTORY_MS (7LL * 24 * 3600 * 1000)

static struct spend_sample *scope_in(struct spend_sample *list, size_t n, const char *scope)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].scope, scope) == 0)
			return &list[i];
	return NULL;
}

/* Everyone's spend and each tenant's now: finished agents from the store,
 * live ones as they accrue. Read under the lock, as finish() writes, so
 * no agent is counted twice or not at all. *out malloc'd, "" first. */
static int spend_now(struct orchestrator *o, int64_t now, struct spend_sample **out, size_t *n)
{
	struct spend_sample *list;
	size_t count;
	pthread_mutex_lock(&o->lock);
	if (store_spend_finished_by_tenant(o->store, &list, &count, NULL) < 0) {
		pthread_mutex_unlock(&o->lock);
		return -1;
	}
	size_t cap = count;
	for (struct live *l = o->live; l; l = l->next) {
		struct spend_sample *e = scope_in(list, count, l->tenant);
		if (e == NULL) {
			if (count == cap) {
				cap = cap ? 2 * cap : 8;
				list = xrealloc(list, cap * sizeof *list);
			}
			e = &list[count++];
			*e = (struct spend_sample){0};
			snprintf(e->scope, sizeof e->scope, "%s", l->tenant);
		}
		e->spent += live_accrued(o, l, now);
	}
	pthread_mutex_unlock(&o->lock);
	/* Scope "" is everyone's: the operator's own agents so far, so add
	 * the tenants'. */
	usd_micros total = 0;
	for (size_t i = 0; i < count; i++) {
		total += list[i].spent;
		list[i].at_ms = now;
	}
	struct spend_sample *all = scope_in(list, count, "");
	if (all == NULL) {
		list = xrealloc(list, (count + 1) * sizeof *list);
		all = &list[count++];
		*all = (struct spend_sample){.at_ms = now};
	}
	all->spent = total;
	*out = list;
	*n = count;
	return 0;
}

/* Record the scopes whose spend changed since their last sample. */
static void sample_spend(struct orchestrator *o, int64_t now)
{
	struct spend_sample *list;
	size_t n, changed = 0;
	if (spend_now(o, now, &list, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct spend_sample *mark = scope_in(o->spend_marks, o->spend_mark_count, list[i].scope);
		if (mark && mark->spent == list[i].spent)
			continue;
		if (mark == NULL) {
			o->spend_marks = xrealloc(o->spend_marks,
						  (o->spend_mark_count + 1) * sizeof *o->spend_marks);
			mark = &o->spend_marks[o->spend_mark_count++];
		}
		*mark = list[i];
		list[changed++] = list[i];
	}
	struct evo_error err = {0};
	if (changed && store_spend_record(o->store, list, changed, now - SPEND_HISTORY_MS, &err) < 0)
		fprintf(stderr, "evoclaw: cannot record spend: %s\n", err.msg);
	free(list);
}

static void *ticker_main(void *arg)
{
	struct orchestrator *o = arg;
	pthread_mutex_lock(&o->lock);
	while (!o->stopping) {
		struct timespec until;
		/* Four times a second: a keep-alive agent with a one-second
		 * timeout is still extended before it runs out. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += TICK_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&o->changed, &o->lock, &until);
		if (o->stopping)
			break;
		pthread_mutex_unlock(&o->lock);
		tick(o);
		int64_t now = now_ms();
		if (now >= o->next_spend_sample_ms) {
			o->next_spend_sample_ms = now + (int64_t)o->cfg->cloud.spend_sample_sec * 1000;
			sample_spend(o, now);
		}
		pthread_mutex_lock(&o->lock);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

/* ---- the interface ---------------------------------------------------- */

void orch_new_id(char out[AGENT_ID_MAX], const char *prefix)
{
	memcpy(out, prefix, 4);
	random_hex(out + 4, 8);
}

/* A provider by name; NULL when this orchestrator has none such. */
static const struct provider *provider_named(const struct orchestrator *o, const char *name)
{
	for (size_t i = 0; i < o->provider_count; i++)
		if (strcmp(o->providers[i]->name, name) == 0)
			return o->providers[i];
	return NULL;
}

int orch_check_provider(const struct orchestrator *o, const char *name, struct evo_error *err)
{
	if (name == NULL || provider_named(o, name) != NULL)
		return 0;
	char names[128] = "";
	for (size_t i = 0; i < o->provider_count; i++)
		snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
			 o->providers[i]->name);
	return evo_error_set(err, EVO_ERR_INVALID, 0,
			     "provider: \"%.32s\" is not available on this server (it has: %s%s)", name,
			     names,
			     strcmp(name, "e2b") == 0 ? "; e2b needs cloud.e2bApiKey or E2B_API_KEY"
						      : "");
}

/* What a second of a provider's sandbox costs. */
static usd_picos_per_sec provider_rate(const struct orchestrator *o, const struct provider *p)
{
	return strcmp(p->name, "local") == 0 ? o->rate : o->e2b_rate;
}

size_t orch_provider_rates(const struct orchestrator *o, const char **names, double *usd_per_sec,
			   size_t max)
{
	size_t n = 0;
	for (; n < o->provider_count && n < max; n++) {
		names[n] = o->providers[n]->name;
		usd_per_sec[n] = (double)provider_rate(o, o->providers[n]) / 1e12;
	}
	return n;
}

static struct live *live_new(struct orchestrator *o, const struct provider *provider,
			     const struct agent *a)
{
	struct live *l = xcalloc(1, sizeof *l);
	l->o = o;
	l->provider = provider;
	l->rate = provider_rate(o, provider);
	snprintf(l->id, sizeof l->id, "%s", a->id);
	snprintf(l->tenant, sizeof l->tenant, "%s", a->tenant);
	l->created_ms = a->created_at_ms;
	l->timeout_sec = a->timeout_sec;
	l->keep_alive = a->keep_alive;
	l->tokens = a->tokens_used;
	snprintf(l->agent_token, sizeof l->agent_token, "%s", a->agent_token);
	l->last_seen_ms = a->last_seen_ms;
	l->heartbeat_sec = a->heartbeat_sec;
	int64_t born = a->started_at_ms ? a->started_at_ms : a->created_at_ms;
	l->paused_since_ms = a->paused_at_ms;
	l->paused_total_ms = a->paused_total_ms;
	/* Time paused does not count against its lifetime either. */
	l->max_deadline_ms = born + a->paused_total_ms + (int64_t)o->cfg->cloud.max_lifetime_sec * 1000;
	l->log_fd = -1;
	return l;
}

int orch_spawn(struct orchestrator *o, const struct orch_spawn *req, struct agent *out,
	       struct evo_error *err)
{
	struct agent a = {0};
	if (req->id)
		snprintf(a.id, sizeof a.id, "%s", req->id);
	else
		orch_new_id(a.id, req->mode && strcmp(req->mode, "e2b") == 0 ? "sbx_" : "agt_");
	snprintf(a.name, sizeof a.name, "%s", req->name ? req->name : a.id);
	snprintf(a.agent_type, sizeof a.agent_type, "%s", req->agent_type);
	snprintf(a.template_name, sizeof a.template_name, "%s",
		 req->template_name ? req->template_name : o->cfg->cloud.default_template);
	if (orch_check_provider(o, req->provider, err) < 0)
		return -1;
	const struct provider *provider = req->provider ? provider_named(o, req->provider)
							: o->providers[0];
	snprintf(a.provider, sizeof a.provider, "%s", provider->name);
	snprintf(a.task_description, sizeof a.task_description, "%s", req->task ? req->task : "");
	snprintf(a.mode, sizeof a.mode, "%s", req->mode ? req->mode : "on-demand");
	snprintf(a.tenant, sizeof a.tenant, "%s", req->tenant ? req->tenant : "");
	snprintf(a.tournament_id, sizeof a.tournament_id, "%s",
		 req->tournament_id ? req->tournament_id : "");
	a.generation = req->generation;
	a.metadata_json = req->metadata_json ? xstrdup(req->metadata_json) : NULL;
	if (req->envd_token)
		random_hex(a.envd_token, 24);
	random_hex(a.agent_token, 24);
	a.timeout_sec = req->timeout_sec ? req->timeout_sec : o->cfg->cloud.default_timeout_sec;
	a.keep_alive = req->keep_alive;
	a.status = AGENT_PENDING;
	a.command_json = req->command_json ? xstrdup(req->command_json) : NULL;
	a.capabilities_json = req->capabilities_json ? xstrdup(req->capabilities_json) : NULL;
	a.genome_json = req->genome_json ? xstrdup(req->genome_json) : NULL;
	/* The broker settings travel as the agent's environment. */
	json_t *env = req->env_json ? json_loads(req->env_json, 0, NULL) : json_object();
	if (env == NULL)
		env = json_object();
	if (req->mqtt_broker)
		json_object_set_new(env, "MQTT_BROKER", json_string(req->mqtt_broker));
	if (req->mqtt_port) {
		char port[16];
		snprintf(port, sizeof port, "%u", req->mqtt_port);
		json_object_set_new(env, "MQTT_PORT", json_string(port));
	}
	env_route_broker(o, provider, env);
	a.environment_json = json_object_size(env) ? json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS)
						    : NULL;
	json_decref(env);

	struct budget_limits limits = {
		.max_agents = o->cfg->cloud.max_agents,
		.budget = budget_usd_to_micros(o->cfg->cloud.credit_budget_usd),
	};
	usd_micros worst = budget_cost(provider_rate(o, provider), a.timeout_sec);
	pthread_mutex_lock(&o->lock);
	int64_t now = now_ms();
	a.created_at_ms = now;
	struct budget_state state;
	usd_micros committed;
	budget_numbers(o, now, &state.running, &state.accrued, &committed);
	state.running_worst = committed - state.accrued;
	int r = budget_check_spawn(&limits, &state, worst, err);
	/* A tenant's own limits too, under the same lock, so concurrent
	 * spawns of one tenant hold them exactly as well. */
	usd_micros tenant_finished = 0;
	if (r == 0 && req->tenant &&
	    (r = store_spend_finished(o->store, req->tenant, &tenant_finished, err)) == 0) {
		struct budget_limits tl = {.max_agents = req->tenant_max_agents,
					   .budget = req->tenant_credit_limit, .tenant = true};
		struct budget_state ts;
		usd_micros tcommitted;
		budget_numbers_of(o, req->tenant, tenant_finished, now, &ts.running, &ts.accrued,
				  &tcommitted);
		ts.running_worst = tcommitted - ts.accrued;
		r = budget_check_spawn(&tl, &ts, worst, err);
	}
	if (r == 0)
		r = store_agent_insert(o->store, &a, err);
	if (r == 0) {
		struct live *l = live_new(o, provider, &a);
		log_open(l, true);
		l->next = o->live;
		o->live = l;
		pthread_cond_broadcast(&o->changed);
	}
	pthread_mutex_unlock(&o->lock);
	if (r < 0) {
		agent_clear(&a);
		return -1;
	}
	*out = a;
	return 0;
}

/* Ask a live agent to stop, and wait until its end is recorded. */
static int stop_and_wait(struct orchestrator *o, const char *id, enum intent intent,
			 struct evo_error *err)
{
	pthread_mutex_lock(&o->lock);
	struct live *l = find_live(o, id);
	if (l == NULL) {
		pthread_mutex_unlock(&o->lock);
		return 1; /* not live */
	}
	if (l->intent == INTENT_NONE || intent == INTENT_DESTROY)
		l->intent = intent;
	char sandbox_id[PROVIDER_SANDBOX_ID_MAX];
	snprintf(sandbox_id, sizeof sandbox_id, "%s", l->sandbox_id);
	const struct provider *provider = l->provider;
	bool started = l->watch != NULL;
	pthread_cond_broadcast(&o->changed); /* a pending one: its launcher acts */
	pthread_mutex_unlock(&o->lock);
	if (started) {
		struct evo_error kerr = {0};
		if (provider->kill(sandbox_id, &kerr) < 0 && kerr.kind != EVO_ERR_NOT_FOUND)
			fprintf(stderr, "evoclaw: agent %s: kill sandbox %s: %s\n", id, sandbox_id,
				kerr.msg);
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&o->lock);
	int r = 0;
	while (find_live(o, id) != NULL) {
		if (pthread_cond_timedwait(&o->changed, &o->lock, &until) == ETIMEDOUT) {
			r = evo_error_set(err, EVO_ERR_SYSTEM, 0,
					  "agent %s: its sandbox did not stop within 30 s", id);
			break;
		}
	}
	pthread_mutex_unlock(&o->lock);
	return r;
}

int orch_terminate(struct orchestrator *o, const char *id, struct agent *out,
		   struct evo_error *err)
{
	struct agent a;
	if (store_agent_get(o->store, id, &a, err) < 0)
		return -1;
	bool finished = agent_is_finished(&a);
	char state[64];
	snprintf(state, sizeof state, "%s (%s)", agent_status_name(a.status),
		 agent_stop_reason_name(a.stop_reason));
	agent_clear(&a);
	int r = stop_and_wait(o, id, INTENT_TERMINATE, err);
	if (r < 0)
		return -1;
	if (r == 1 && finished)
		return evo_error_set(err, EVO_ERR_CONFLICT, 0, "agent %s has already finished: %s",
				     id, state);
	return store_agent_get(o->store, id, out, err);
}

int orch_destroy(struct orchestrator *o, const char *id, struct evo_error *err)
{
	struct agent a;
	if (store_agent_get(o->store, id, &a, err) < 0)
		return -1;
	agent_clear(&a);
	if (stop_and_wait(o, id, INTENT_DESTROY, err) < 0)
		return -1;
	/* Its spend moves to the ledger in the same transaction that deletes
	 * it, so the budget still counts it. */
	pthread_mutex_lock(&o->lock);
	int r = store_agent_get(o->store, id, &a, err);
	if (r == 0) {
		r = store_agent_destroy(o->store, id, a.cost, err);
		agent_clear(&a);
	}
	pthread_mutex_unlock(&o->lock);
	if (r < 0)
		return -1;
	char path[PATH_MAX];
	orch_log_path(o, id, false, path, sizeof path);
	unlink(path);
	orch_log_path(o, id, true, path, sizeof path);
	unlink(path);
	return 0;
}

int orch_set_timeout(struct orchestrator *o, const char *id, uint32_t seconds,
		     struct evo_error *err)
{
	int64_t now = now_ms();
	usd_micros budget = budget_usd_to_micros(o->cfg->cloud.credit_budget_usd);
	pthread_mutex_lock(&o->lock);
	struct live *l = find_live(o, id);
	if (l == NULL || l->watch == NULL || l->intent != INTENT_NONE) {
		pthread_mutex_unlock(&o->lock);
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no running agent %s", id);
	}
	/* Paused: the time it will have once resumed. */
	int64_t want = (l->paused_since_ms ? l->paused_since_ms : now) + (int64_t)seconds * 1000;
	if (want > l->max_deadline_ms) {
		int64_t left = (l->max_deadline_ms - now) / 1000;
		pthread_mutex_unlock(&o->lock);
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "timeout: %u s would outlive maxLifetimeSec (%u s after its start; "
				     "%lld s left)",
				     seconds, o->cfg->cloud.max_lifetime_sec, (long long)(left > 0 ? left : 0));
	}
	uint32_t n;
	usd_micros accrued, committed;
	budget_numbers(o, now, &n, &accrued, &committed);
	usd_micros extra = live_extension_cost(o, l, want);
	if (extra > 0 && committed + extra > budget) {
		char e[32], b[32];
		budget_format_usd(committed + extra, e);
		budget_format_usd(budget, b);
		pthread_mutex_unlock(&o->lock);
		return evo_error_set(err, EVO_ERR_BUDGET, 0,
				     "timeout refused: estimated spend %s USD would exceed creditBudgetUsd %s",
				     e, b);
	}
	int64_t old = l->deadline_ms;
	l->deadline_ms = want;
	char sandbox_id[PROVIDER_SANDBOX_ID_MAX];
	snprintf(sandbox_id, sizeof sandbox_id, "%s", l->sandbox_id);
	const struct provider *provider = l->provider;
	pthread_mutex_unlock(&o->lock);
	if (provider->set_timeout(sandbox_id, seconds, err) < 0) {
		pthread_mutex_lock(&o->lock);
		if ((l = find_live(o, id)) != NULL && l->deadline_ms == want)
			l->deadline_ms = old;
		pthread_mutex_unlock(&o->lock);
		return -1;
	}
	struct agent a;
	if (store_agent_get(o->store, id, &a, NULL) == 0) {
		a.deadline_ms = want;
		store_agent_update(o->store, &a, NULL);
		agent_clear(&a);
	}
	return 0;
}

/* Write a live agent's pause state and deadline to its row. */
static void store_pause_state(struct orchestrator *o, const char *id, int64_t paused_at,
			      int64_t paused_total, int64_t deadline)
{
	struct agent a;
	if (store_agent_get(o->store, id, &a, NULL) == 0) {
		a.paused_at_ms = paused_at;
		a.paused_total_ms = paused_total;
		a.deadline_ms = deadline;
		store_agent_update(o->store, &a, NULL);
		agent_clear(&a);
	}
}

int orch_pause(struct orchestrator *o, const char *id, struct evo_error *err)
{
	pthread_mutex_lock(&o->lock);
	struct live *l = find_live(o, id);
	if (l == NULL || l->watch == NULL || l->intent != INTENT_NONE) {
		pthread_mutex_unlock(&o->lock);
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no running agent %s", id);
	}
	if (l->paused_since_ms) {
		pthread_mutex_unlock(&o->lock);
		return evo_error_set(err, EVO_ERR_CONFLICT, 0, "%s is paused already", id);
	}
	char sandbox_id[PROVIDER_SANDBOX_ID_MAX];
	snprintf(sandbox_id, sizeof sandbox_id, "%s", l->sandbox_id);
	const struct provider *provider = l->provider;
	pthread_mutex_unlock(&o->lock);
	if (provider->pause(sandbox_id, err) < 0)
		return -1;
	int64_t now = now_ms();
	pthread_mutex_lock(&o->lock);
	l = find_live(o, id);
	int64_t total = 0, deadline = 0;
	if (l != NULL) {
		l->paused_since_ms = now;
		total = l->paused_total_ms;
		deadline = l->deadline_ms;
	}
	pthread_mutex_unlock(&o->lock);
	if (l != NULL)
		store_pause_state(o, id, now, total, deadline);
	return 0;
}

int orch_resume(struct orchestrator *o, const char *id, uint32_t seconds, struct evo_error *err)
{
	usd_micros budget = budget_usd_to_micros(o->cfg->cloud.credit_budget_usd);
	int64_t now = now_ms();
	pthread_mutex_lock(&o->lock);
	struct live *l = find_live(o, id);
	if (l == NULL || l->watch == NULL || l->intent != INTENT_NONE) {
		pthread_mutex_unlock(&o->lock);
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no running agent %s", id);
	}
	if (!l->paused_since_ms) {
		pthread_mutex_unlock(&o->lock);
		return evo_error_set(err, EVO_ERR_CONFLICT, 0, "%s is not paused", id);
	}
	int64_t paused_for = now - l->paused_since_ms;
	if (seconds > 0) {
		/* In the frame of the pause, like orch_set_timeout while paused. */
		int64_t want = l->paused_since_ms + (int64_t)seconds * 1000;
		if (want > l->max_deadline_ms) {
			pthread_mutex_unlock(&o->lock);
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "timeout: %u s would outlive maxLifetimeSec (%u s)", seconds,
					     o->cfg->cloud.max_lifetime_sec);
		}
		uint32_t n;
		usd_micros accrued, committed;
		budget_numbers(o, now, &n, &accrued, &committed);
		usd_micros extra = live_extension_cost(o, l, want);
		if (extra > 0 && committed + extra > budget) {
			pthread_mutex_unlock(&o->lock);
			return evo_error_set(err, EVO_ERR_BUDGET, 0,
					     "resume refused: %u s more would exceed creditBudgetUsd",
					     seconds);
		}
	}
	char sandbox_id[PROVIDER_SANDBOX_ID_MAX];
	snprintf(sandbox_id, sizeof sandbox_id, "%s", l->sandbox_id);
	const struct provider *provider = l->provider;
	pthread_mutex_unlock(&o->lock);
	if (provider->resume(sandbox_id, seconds, err) < 0)
		return -1;
	now = now_ms();
	pthread_mutex_lock(&o->lock);
	l = find_live(o, id);
	int64_t total = 0, deadline = 0;
	if (l != NULL && l->paused_since_ms) {
		paused_for = now - l->paused_since_ms;
		int64_t left = l->deadline_ms - l->paused_since_ms;
		l->paused_total_ms += paused_for;
		l->max_deadline_ms += paused_for;
		l->deadline_ms = now + (seconds > 0 ? (int64_t)seconds * 1000 : left);
		l->paused_since_ms = 0;
		total = l->paused_total_ms;
		deadline = l->deadline_ms;
	}
	pthread_mutex_unlock(&o->lock);
	if (l != NULL)
		store_pause_state(o, id, 0, total, deadline);
	return 0;
}

int orch_stats(struct orchestrator *o, const char *id, struct provider_stats *out,
	       struct evo_error *err)
{
	pthread_mutex_lock(&o->lock);
	struct live *l = find_live(o, id);
	char sandbox_id[PROVIDER_SANDBOX_ID_MAX] = "";
	const struct provider *provider = NULL;
	if (l && l->watch) {
		snprintf(sandbox_id, sizeof sandbox_id, "%s", l->sandbox_id);
		provider = l->provider;
	}
	pthread_mutex_unlock(&o->lock);
	if (provider == NULL)
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "no running agent %s", id);
	return provider->stats(sandbox_id, out, err);
}

/* Fill in what a live agent has accrued so far. Caller holds the lock. */
static void accrue(struct orchestrator *o, struct agent *a, int64_t now)
{
	struct live *l = agent_is_finished(a) ? NULL : find_live(o, a->id);
	if (l == NULL)
		return;
	a->cost = live_accrued(o, l, now);
	a->tokens_used = l->tokens;
	if (l->started_ms)
		a->execution_time_ms = run_ms(l, now);
	a->deadline_ms = l->deadline_ms;
	a->paused_at_ms = l->paused_since_ms;
	a->last_seen_ms = l->last_seen_ms;
	a->heartbeat_sec = l->heartbeat_sec;
	a->stale = live_silent_for(l, now, STALE_INTERVALS);
}

int orch_get(struct orchestrator *o, const char *id, struct agent *out, struct evo_error *err)
{
	if (store_agent_get(o->store, id, out, err) < 0)
		return -1;
	pthread_mutex_lock(&o->lock);
	accrue(o, out, now_ms());
	pthread_mutex_unlock(&o->lock);
	return 0;
}

int orch_list(struct orchestrator *o, const struct store_agent_filter *filter, size_t offset,
	      size_t limit, struct agent **out, size_t *count, int64_t *total,
	      struct evo_error *err)
{
	if (store_agent_list(o->store, filter, offset, limit, out, count, err) < 0)
		return -1;
	if (total && store_agent_count(o->store, filter, total, err) < 0) {
		for (size_t i = 0; i < *count; i++)
			agent_clear(&(*out)[i]);
		free(*out);
		return -1;
	}
	pthread_mutex_lock(&o->lock);
	int64_t now = now_ms();
	for (size_t i = 0; i < *count; i++)
		accrue(o, &(*out)[i], now);
	pthread_mutex_unlock(&o->lock);
	return 0;
}

/* Reports over MQTT that reach us after their agent ended (delayed in a
 * broker's queue) are still recorded this long after the end. Over HTTP
 * there is no queue: an agent that has ended is told so. */
#define LATE_REPORT_MS 60000

/* A credential is the agent's; an agent without a token (made before
 * tokens existed) has none. */
static bool credential_ok(const char *token, const struct orch_credential *c)
{
	if (token[0] == '\0')
		return false;
	if (c->sig_hex)
		return telemetry_sig_ok(token, c->signed_bytes, c->signed_len, c->sig_hex);
	return c->token && text_same_secret(c->token, token);
}

int orch_report(struct orchestrator *o, const char *id, const struct orch_credential *cred,
		const struct orch_report *r, struct evo_error *err)
{
	int64_t now = now_ms();
	pthread_mutex_lock(&o->lock);
	struct live *l = find_live(o, id);
	if (l == NULL) {
		pthread_mutex_unlock(&o->lock);
		/* Ended (409) only to the agent itself; anyone else learns
		 * nothing about the id. */
		struct agent a;
		if (store_agent_get(o->store, id, &a, NULL) < 0)
			return evo_error_set(err, EVO_ERR_AUTH, 0, "invalid agent token");
		bool mine = credential_ok(a.agent_token, cred);
		bool just_ended = cred->sig_hex && a.completed_at_ms &&
				  now - a.completed_at_ms <= LATE_REPORT_MS;
		agent_clear(&a);
		if (!mine)
			return evo_error_set(err, EVO_ERR_AUTH, 0, "invalid agent token");
		if (!just_ended)
			return evo_error_set(err, EVO_ERR_CONFLICT, 0, "agent %s has ended", id);
		/* A report that was queued (MQTT) while its agent finished:
		 * its numbers still count; it was not seen alive after all. */
		struct agent_report late = r->report;
		late.seen_ms = 0;
		return store_agent_report(o->store, id, &late, err);
	}
	if (!credential_ok(l->agent_token, cred)) {
		pthread_mutex_unlock(&o->lock);
		return evo_error_set(err, EVO_ERR_AUTH, 0, "invalid agent token");
	}
	if (r->seq) {
		if (r->seq <= l->last_seq) {
			pthread_mutex_unlock(&o->lock);
			return 1;
		}
		l->last_seq = r->seq;
	}
	l->last_seen_ms = now;
	if (r->interval_sec)
		l->heartbeat_sec = r->interval_sec;
	/* Tokens count toward its cost (and the budget) at once; a total is
	 * never lowered. */
	if (r->report.has_tokens && r->report.tokens_used > l->tokens)
		l->tokens = r->report.tokens_used;
	if (r->message) {
		char line[1200];
		int n = snprintf(line, sizeof line, "[evoclaw-agent %s] %s\n",
				 r->kind == ORCH_REPORT_ALERT ? "ALERT" : r->level ? r->level : "info",
				 r->message);
		log_append(l, (const uint8_t *)line, n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	}
	orch_log_hook hook = o->log_hook;
	void *hook_ctx = o->log_hook_ctx;
	pthread_mutex_unlock(&o->lock);
	struct agent_report rec = r->report;
	rec.seen_ms = now;
	rec.heartbeat_sec = r->interval_sec;
	if (store_agent_report(o->store, id, &rec, err) < 0)
		return -1;
	if (r->message && hook)
		hook(hook_ctx, id);
	return 0;
}

int orch_costs(struct orchestrator *o, struct orch_costs *out, struct evo_error *err)
{
	(void)err;
	pthread_mutex_lock(&o->lock);
	budget_numbers(o, now_ms(), &out->live_agents, &out->spent, &out->committed);
	pthread_mutex_unlock(&o->lock);
	out->budget = budget_usd_to_micros(o->cfg->cloud.credit_budget_usd);
	out->max_agents = o->cfg->cloud.max_agents;
	return 0;
}

bool orch_is_live(struct orchestrator *o, const char *id)
{
	pthread_mutex_lock(&o->lock);
	bool live = find_live(o, id) != NULL;
	pthread_mutex_unlock(&o->lock);
	return live;
}

bool orch_is_pending(struct orchestrator *o, const char *id)
{
	pthread_mutex_lock(&o->lock);
	struct live *l = find_live(o, id);
	bool pending = l != NULL && l->watch == NULL;
	pthread_mutex_unlock(&o->lock);
	return pending;
}

const char *orch_owner(const struct orchestrator *o)
{
	return o->owner;
}

void orch_set_log_hook(struct orchestrator *o, orch_log_hook hook, void *ctx)
{
	pthread_mutex_lock(&o->lock);
	o->log_hook = hook;
	o->log_hook_ctx = ctx;
	pthread_mutex_unlock(&o->lock);
}

void orch_metrics(struct orchestrator *o, struct evo_buf *out)
{
	static const char *const statuses[] = {"pending", "running", "completed", "failed"};
	char line[256];
	buf_puts(out, "# HELP evoclaw_agents Agents by status.\n# TYPE evoclaw_agents gauge\n");
	for (size_t i = 0; i < 4; i++) {
		struct store_agent_filter f = {.status = statuses[i]};
		int64_t n = 0;
		store_agent_count(o->store, &f, &n, NULL);
		snprintf(line, sizeof line, "evoclaw_agents{status=\"%s\"} %lld\n", statuses[i],
			 (long long)n);
		buf_puts(out, line);
	}
	struct orch_costs c;
	orch_costs(o, &c, NULL);
	uint32_t sandboxes[ORCH_PROVIDERS_MAX] = {0};
	pthread_mutex_lock(&o->lock);
	for (struct live *l = o->live; l; l = l->next)
		for (size_t i = 0; i < o->provider_count; i++)
			sandboxes[i] += l->watch != NULL && l->provider == o->providers[i];
	uint64_t counts[LATENCY_BUCKETS + 1];
	memcpy(counts, o->latency_counts, sizeof counts);
	double sum = o->latency_sum;
	uint64_t total = o->latency_total;
	pthread_mutex_unlock(&o->lock);
	buf_puts(out, "# HELP evoclaw_sandboxes Sandboxes running agents.\n"
		      "# TYPE evoclaw_sandboxes gauge\n");
	for (size_t i = 0; i < o->provider_count; i++) {
		snprintf(line, sizeof line, "evoclaw_sandboxes{provider=\"%s\"} %u\n",
			 o->providers[i]->name, sandboxes[i]);
		buf_puts(out, line);
		if (o->providers[i]->metrics)
			o->providers[i]->metrics(out);
	}
	snprintf(line, sizeof line,
		 "# HELP evoclaw_spend_usd Spend so far, finished and running agents.\n"
		 "# TYPE evoclaw_spend_usd gauge\nevoclaw_spend_usd %.6f\n",
		 (double)c.spent / USD_MICROS_PER_USD);
	buf_puts(out, line);
	snprintf(line, sizeof line,
		 "# HELP evoclaw_budget_remaining_usd creditBudgetUsd less spend.\n"
		 "# TYPE evoclaw_budget_remaining_usd gauge\nevoclaw_budget_remaining_usd %.6f\n",
		 (double)(c.budget - c.spent) / USD_MICROS_PER_USD);
	buf_puts(out, line);
	buf_puts(out, "# HELP evoclaw_spawn_latency_seconds From spawn request to running.\n"
				"# TYPE evoclaw_spawn_latency_seconds histogram\n");
	uint64_t cumulative = 0;
	for (size_t b = 0; b < LATENCY_BUCKETS; b++) {
		cumulative += counts[b];
		snprintf(line, sizeof line, "evoclaw_spawn_latency_seconds_bucket{le=\"%g\"} %llu\n",
			 latency_buckets[b], (unsigned long long)cumulative);
		buf_puts(out, line);
	}
	snprintf(line, sizeof line,
		 "evoclaw_spawn_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
		 "evoclaw_spawn_latency_seconds_sum %.6f\nevoclaw_spawn_latency_seconds_count %llu\n",
		 (unsigned long long)total, sum, (unsigned long long)total);
	buf_puts(out, line);
}

/* ---- opening, recovery, closing ---------------------------------------- */

/* A tag for our sandboxes, from the data directory, so two orchestrators
 * on one machine never take each other's for orphans. */
static void owner_tag(const char *data_dir, char out[64])
{
	char real[PATH_MAX];
	if (realpath(data_dir, real) == NULL)
		snprintf(real, sizeof real, "%s", data_dir);
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const char *p = real; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	snprintf(out, 64, "evoclaw-serve-%016llx", (unsigned long long)h);
}

/* Agents the store says are live: follow their sandboxes again, or
 * record that they were lost. Then kill our sandboxes nobody claims. */
static int recover(struct orchestrator *o, struct evo_error *err)
{
	struct agent *list;
	size_t n;
	struct store_agent_filter live_only = {.active_only = true};
	if (store_agent_list(o->store, &live_only, 0, SIZE_MAX / 2, &list, &n, err) < 0)
		return -1;
	int64_t now = now_ms();
	size_t adopted = 0, lost = 0, noted = 0;
	size_t unavailable = 0;
	for (size_t i = 0; i < n; i++) {
		struct agent *a = &list[i];
		const struct provider *provider = provider_named(o, a->provider[0] ? a->provider
										  : "local");
		if (provider == NULL) {
			/* Its provider is not configured now: we cannot tell
			 * whether its sandbox runs. Recorded as lost, billed
			 * up to its deadline at most. */
			struct live *l = live_new(o, o->providers[0], a);
			l->started_ms = a->started_at_ms;
			l->deadline_ms = a->deadline_ms;
			snprintf(l->sandbox_id, sizeof l->sandbox_id, "%s", a->sandbox_id);
			l->next = o->live;
			o->live = l;
			l->rate = strcmp(a->provider, "e2b") == 0 ? o->e2b_rate : o->rate;
			l->end_ms = l->deadline_ms && l->deadline_ms < now ? l->deadline_ms : now;
			char message[200];
			snprintf(message, sizeof message,
				 "its provider %.32s is not configured on this server any more; its "
				 "sandbox %.64s was not looked for",
				 a->provider, a->sandbox_id);
			finish(o, l, AGENT_STOP_ORCHESTRATOR_LOST, 0, message);
			unavailable++;
			continue;
		}
		struct live *l = live_new(o, provider, a);
		l->started_ms = a->started_at_ms;
		l->deadline_ms = a->deadline_ms;
		snprintf(l->sandbox_id, sizeof l->sandbox_id, "%s", a->sandbox_id);
		struct evo_error aerr = {0};
		long long deadline = 0;
		if (a->sandbox_id[0] &&
		    provider->adopt(a->sandbox_id, &l->watch, &deadline, &aerr) == 0) {
			/* A paused sandbox has no deadline running: keep ours. */
			if (deadline && !l->paused_since_ms)
				l->deadline_ms = deadline;
			/* Its output so far is replayed: the log starts over. */
			log_open(l, true);
			l->next = o->live;
			o->live = l;
			watch_live(o, l);
			adopted++;
			continue;
		}
		/* Ended while we were down. Its supervisor left a note of how
		 * and when if it got that far; else it is lost, billed up to
		 * its deadline at most. */
		l->next = o->live;
		o->live = l;
		struct provider_end end;
		long long ended_ms = 0;
		if (a->sandbox_id[0] &&
		    provider->collect_end(a->sandbox_id, &end, &ended_ms, NULL) == 0) {
			l->end_ms = ended_ms > 0 && ended_ms < now ? ended_ms : now;
			finish_ended(o, l, &end);
			noted++;
		} else {
			l->end_ms = l->deadline_ms && l->deadline_ms < now ? l->deadline_ms : now;
			finish(o, l, AGENT_STOP_ORCHESTRATOR_LOST, 0,
			       a->sandbox_id[0] ? "its sandbox ended while the orchestrator was down"
						: "the orchestrator stopped before its sandbox started");
			lost++;
		}
	}
	for (size_t i = 0; i < n; i++)
		agent_clear(&list[i]);
	free(list);
	size_t orphans = 0, unclaimed = 0;
	for (size_t p = 0; p < o->provider_count; p++) {
		const struct provider *provider = o->providers[p];
		char **owned = provider->list_owned(o->owner);
		for (char **id = owned; id && *id; id++) {
			bool claimed = false;
			for (struct live *l = o->live; l && !claimed; l = l->next)
				claimed = l->provider == provider && strcmp(l->sandbox_id, *id) == 0;
			if (!claimed && provider->kills_orphans) {
				provider->kill(*id, NULL);
				orphans++;
			} else if (!claimed) {
				fprintf(stderr,
					"evoclaw: %s sandbox %s is tagged as ours but no agent claims "
					"it; left running\n",
					provider->name, *id);
				unclaimed++;
			}
			free(*id);
		}
		free(owned);
		provider->forget_ends(o->owner);
	}
	if (adopted || lost || noted || orphans || unclaimed || unavailable) {
		char more[160] = "";
		if (unavailable)
			snprintf(more, sizeof more, ", %zu on a provider not configured", unavailable);
		if (unclaimed)
			snprintf(more + strlen(more), sizeof more - strlen(more),
				 ", %zu remote sandboxes tagged ours left alone", unclaimed);
		fprintf(stderr,
			"evoclaw: recovered: %zu agents re-adopted, %zu ended while down, %zu lost, "
			"%zu orphan sandboxes killed%s\n",
			adopted, noted, lost, orphans, more);
	}
	return 0;
}

/* A remote sandbox's price a second: by its size when vCPU or RAM rates
 * are set (E2B's way), else the flat rate. */
static double e2b_usd_per_sec(const struct evo_config *cfg)
{
	if (cfg->pricing.e2b_vcpu_usd_per_sec > 0 || cfg->pricing.e2b_gib_usd_per_sec > 0)
		return cfg->cloud.e2b_vcpus * cfg->pricing.e2b_vcpu_usd_per_sec +
		       cfg->cloud.e2b_memory_mb / 1024.0 * cfg->pricing.e2b_gib_usd_per_sec;
	return cfg->pricing.e2b_usd_per_sec;
}

int orch_open(const struct evo_config *cfg, struct store *store,
	      const struct provider *const *providers, size_t provider_count,
	      struct orchestrator **out, struct evo_error *err)
{
	if (provider_count == 0 || provider_count > ORCH_PROVIDERS_MAX)
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "orch_open: %zu providers",
				     provider_count);
	struct orchestrator *o = xcalloc(1, sizeof *o);
	o->cfg = cfg;
	o->store = store;
	memcpy(o->providers, providers, provider_count * sizeof *providers);
	o->provider_count = provider_count;
	o->rate = budget_rate_from_usd(cfg->pricing.sandbox_usd_per_sec);
	o->e2b_rate = budget_rate_from_usd(e2b_usd_per_sec(cfg));
	o->token_rate = budget_rate_from_usd(cfg->pricing.usd_per_token);
	o->epoll_fd = o->wake_fd = -1;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->changed, NULL);
	owner_tag(cfg->data_dir, o->owner);
	snprintf(o->logs_dir, sizeof o->logs_dir, "%s/logs", cfg->data_dir);
	if (mkdir_parents(o->logs_dir, 0700) < 0) {
		evo_error_errno(err, "create %s", o->logs_dir);
		orch_close(o);
		return -1;
	}
	o->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	o->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (o->epoll_fd < 0 || o->wake_fd < 0) {
		evo_error_errno(err, "epoll");
		orch_close(o);
		return -1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(o->epoll_fd, EPOLL_CTL_ADD, o->wake_fd, &ev);
	if (store_spend_finished(store, NULL, &o->finished_spend, err) < 0 || recover(o, err) < 0) {
		orch_close(o);
		return -1;
	}
	bool ok = pthread_create(&o->monitor, NULL, monitor_main, o) == 0;
	o->threads_started = ok ? 1 : 0;
	ok = ok && pthread_create(&o->ticker, NULL, ticker_main, o) == 0;
	o->threads_started += ok ? 1 : 0;
	for (int i = 0; ok && i < LAUNCHERS; i++) {
		ok = pthread_create(&o->launchers[i], NULL, launcher_main, o) == 0;
		o->threads_started += ok ? 1 : 0;
	}
	if (!ok) {
		evo_error_set(err, EVO_ERR_SYSTEM, 0, "cannot start the orchestrator's threads");
		orch_close(o);
		return -1;
	}
	*out = o;
	return 0;
}

void orch_close(struct orchestrator *o)
{
	if (o == NULL)
		return;
	pthread_mutex_lock(&o->lock);
	o->stopping = true;
	pthread_cond_broadcast(&o->changed);
	pthread_mutex_unlock(&o->lock);
	if (o->wake_fd >= 0) {
		uint64_t one = 1;
		(void)!write(o->wake_fd, &one, sizeof one);
	}
	/* In the order they were started; a launcher mid-start finishes it. */
	if (o->threads_started > 0)
		pthread_join(o->monitor, NULL);
	if (o->threads_started > 1)
		pthread_join(o->ticker, NULL);
	for (int i = 0; i + 2 < o->threads_started; i++)
		pthread_join(o->launchers[i], NULL);
	while (o->live) {
		struct live *l = o->live;
		o->live = l->next;
		if (l->watch)
			l->provider->watch_close(l->watch);
		if (l->log_fd >= 0)
			close(l->log_fd);
		free(l);
	}
	if (o->epoll_fd >= 0)
		close(o->epoll_fd);
	if (o->wake_fd >= 0)
		close(o->wake_fd);
	pthread_cond_destroy(&o->changed);
	pthread_mutex_destroy(&o->lock);
	free(o->spend_marks);
	free(o);
}
