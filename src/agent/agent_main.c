/* evoclaw-agent: the edge agent's program (docs/agent.md). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "common/cleanup.h"
#include "common/fileutil.h"
#include "core/market.h"
#include "core/trader.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stopping)
		;
}

/* The market the settings name: "generated[:SEED]" or a CSV file. */
static int load_market(const struct agent_config *c, struct market *m, struct evo_error *err)
{
	if (strncmp(c->market, "generated", 9) == 0) {
		uint64_t seed = 1;
		if (c->market[9] == ':') {
			char *end;
			seed = strtoull(c->market + 10, &end, 10);
			if (*end || c->market[10] == '\0')
				return evo_error_set(err, EVO_ERR_INVALID, 0,
						     "EVOCLAW_MARKET: \"%s\" is not generated:SEED", c->market);
		} else if (c->market[9] != '\0') {
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "EVOCLAW_MARKET: \"%s\" is not generated[:SEED] or a CSV file",
					     c->market);
		}
		return market_generate(seed, c->steps, 100, m, NULL, err);
	}
	size_t len;
	_cleanup_free_ char *text = read_file_all(c->market, &len);
	if (text == NULL)
		return evo_error_set(err, EVO_ERR_INVALID, errno, "EVOCLAW_MARKET: cannot read %s",
				     c->market);
	if (market_parse_csv(text, len, m, err) < 0)
		return evo_error_prefix(err, "EVOCLAW_MARKET %s", c->market);
	if (m->n > c->steps)
		m->n = c->steps;
	return 0;
}

/* Heartbeats on their own clock, whatever the work's pace. */
struct heartbeat {
	int64_t next_ms;
	uint32_t every_ms;
};

static void heartbeat_maybe(struct reporter *r, struct heartbeat *h, const char *state)
{
	int64_t now = now_ms();
	if (now < h->next_ms)
		return;
	h->next_ms = now + h->every_ms;
	reporter_send(r, "heartbeat", json_pack("{s:s, s:i}", "state", state, "interval_sec",
						 (int)(h->every_ms / 1000)));
}

static json_t *result_json(const struct trade_result *res, size_t step)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f, s:i, s:I}", "equity", res->final_equity, "pnl",
			 res->pnl, "sharpe", res->sharpe, "max_drawdown", res->max_drawdown, "fees",
			 res->fees, "trades", (int)res->trades, "step", (json_int_t)step);
}

static int run_trader(const struct agent_config *c, struct reporter *r, const struct market *m)
{
	struct trade_costs costs;
	trader_default_costs(&costs);
	struct trader t;
	trader_init(&t, &c->genome, &costs);
	char *genome = genome_to_json(&c->genome);
	reporter_log(r, LOG_INFO, "paper trading %zu prices with %s", m->n, genome);
	free(genome);
	struct heartbeat hb = {.every_ms = c->heartbeat_sec * 1000};
	struct trade_result res;
	size_t i = 0;
	for (; i < m->n && !stopping; i++) {
		heartbeat_maybe(r, &hb, "trading");
		trader_step(&t, m->price[i]);
		if ((i + 1) % c->report_every == 0) {
			trader_result(&t, &res);
			reporter_send(r, "metrics", json_pack("{s:o}", "metrics", result_json(&res, i + 1)));
		}
		if (c->step_ms)
			sleep_ms(c->step_ms);
	}
	trader_result(&t, &res);
	trader_free(&t);
	reporter_send(r, "fitness",
		      json_pack("{s:f, s:o}", "fitness", res.fitness, "metrics", result_json(&res, i)));
	reporter_log(r, LOG_INFO, "done: pnl %.2f, sharpe %.3f, max drawdown %.2f%%, %u trades, fitness %.4f",
		     res.pnl, res.sharpe, res.max_drawdown * 100, res.trades, res.fitness);
	return stopping ? AGENT_EXIT_FAILED : AGENT_EXIT_OK;
}

static int run_monitor(const struct agent_config *c, struct reporter *r, const struct market *m)
{
	if (c->monitor_above <= 0 && c->monitor_below <= 0) {
		fprintf(stderr, "evoclaw-agent: a monitor needs EVOCLAW_MONITOR_ABOVE or "
				"EVOCLAW_MONITOR_BELOW (a price)\n");
		return AGENT_EXIT_CONFIG;
	}
	struct heartbeat hb = {.every_ms = c->heartbeat_sec * 1000};
	/* -1 below, 0 between, +1 above: an alert when it changes sides. */
	int side = 0, alerts = 0;
	for (size_t i = 0; i < m->n && !stopping; i++) {
		heartbeat_maybe(r, &hb, "watching");
		double p = m->price[i];
		int now = c->monitor_above > 0 && p > c->monitor_above   ? 1
			: c->monitor_below > 0 && p < c->monitor_below ? -1
								       : 0;
		if (now != side && now != 0) {
			char message[160];
			snprintf(message, sizeof message, "price %.4f %s %.4f at step %zu", p,
				 now > 0 ? "rose above" : "fell below",
				 now > 0 ? c->monitor_above : c->monitor_below, i);
			reporter_send(r, "alert", json_pack("{s:s, s:{s:f, s:I}}", "message", message,
							     "metrics", "price", p, "step", (json_int_t)i));
			alerts++;
		}
		side = now;
		if ((i + 1) % c->report_every == 0)
			reporter_send(r, "metrics", json_pack("{s:{s:f, s:i}}", "metrics", "price", p,
							      "alerts", alerts));
		if (c->step_ms)
			sleep_ms(c->step_ms);
	}
	reporter_log(r, LOG_INFO, "watched %zu prices, %d alerts", m->n, alerts);
	return stopping ? AGENT_EXIT_FAILED : AGENT_EXIT_OK;
}

/* CPU seconds and memory of this sandbox: its cgroup's own numbers when
 * visible (cgroup v2 at /sys/fs/cgroup), else the process tree's. */
static void sensor_reading(double *cpu_seconds, double *memory_mb)
{
	char buf[256];
	*cpu_seconds = *memory_mb = 0;
	if (read_file_small("/sys/fs/cgroup/cpu.stat", buf, sizeof buf) > 0) {
		const char *u = strstr(buf, "usage_usec ");
		if (u)
			*cpu_seconds = strtod(u + 11, NULL) / 1e6;
	} else {
		*cpu_seconds = (double)clock() / CLOCKS_PER_SEC;
	}
	if (read_file_small("/sys/fs/cgroup/memory.current", buf, sizeof buf) > 0) {
		*memory_mb = strtod(buf, NULL) / (1024.0 * 1024.0);
	} else if (read_file_small("/proc/self/statm", buf, sizeof buf) > 0) {
		long pages = 0, resident = 0;
		if (sscanf(buf, "%ld %ld", &pages, &resident) == 2)
			*memory_mb = (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
	}
}

static int run_sensor(const struct agent_config *c, struct reporter *r)
{
	struct heartbeat hb = {.every_ms = c->heartbeat_sec * 1000};
	for (uint32_t n = 0; !stopping && (c->sensor_readings == 0 || n < c->sensor_readings); n++) {
		heartbeat_maybe(r, &hb, "sensing");
		double cpu, mem;
		sensor_reading(&cpu, &mem);
		double load[1] = {0};
		getloadavg(load, 1);
		reporter_send(r, "metrics", json_pack("{s:{s:f, s:f, s:f, s:i}}", "metrics", "cpu_seconds",
						      cpu, "memory_mb", mem, "load1", load[0], "reading",
						      (int)n + 1));
		if (c->sensor_readings == 0 || n + 1 < c->sensor_readings)
			sleep_ms(c->sensor_interval_ms);
	}
	return AGENT_EXIT_OK;
}

static int run_standby(const struct agent_config *c, struct reporter *r)
{
	reporter_log(r, LOG_INFO,
		     "standing by: this agent type has no built-in behaviour; its work is run "
		     "in the sandbox");
	struct heartbeat hb = {.every_ms = c->heartbeat_sec * 1000};
	while (!stopping) {
		heartbeat_maybe(r, &hb, "standby");
		sleep_ms(c->heartbeat_sec * 1000);
	}
	return AGENT_EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: evoclaw-agent [--config agent.toml]\n"
		"The edge agent: runs as a trader (paper trading), monitor or sensor (other agent\n"
		"types stand by, beating until stopped) and reports\n"
		"to the orchestrator and an MQTT broker. Settings come from the environment\n"
		"(EVOCLAW_AGENT_ID, EVOCLAW_AGENT_TYPE, EVOCLAW_GENOME, EVOCLAW_PAPER_MODE,\n"
		"EVOCLAW_LOG_LEVEL, ORCHESTRATOR_URL, EVOCLAW_AGENT_TOKEN, MQTT_BROKER, MQTT_PORT,\n"
		"MQTT_USERNAME, MQTT_PASSWORD, EVOCLAW_MARKET, EVOCLAW_STEPS, EVOCLAW_STEP_MS,\n"
		"EVOCLAW_REPORT_EVERY, EVOCLAW_HEARTBEAT_SEC, EVOCLAW_MONITOR_ABOVE/BELOW,\n"
		"EVOCLAW_SENSOR_INTERVAL_MS, EVOCLAW_SENSOR_READINGS), after an agent.toml if\n"
		"given. Exit status: 0 done, 1 failed, 2 bad settings, 3 unreachable broker.\n"
		"See docs/agent.md.\n");
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return AGENT_EXIT_OK;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
			continue;
		}
		fprintf(stderr, "evoclaw-agent: unknown argument \"%s\" (see --help)\n", argv[i]);
		return AGENT_EXIT_CONFIG;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct agent_config c;
	struct evo_error err = {0};
	if (agent_config_load(config, &c, &err) < 0) {
		fprintf(stderr, "evoclaw-agent: %s\n", err.msg);
		return AGENT_EXIT_CONFIG;
	}
	struct market m = {0};
	bool needs_market = c.kind == AGENT_TRADER || c.kind == AGENT_MONITOR;
	if (needs_market && load_market(&c, &m, &err) < 0) {
		fprintf(stderr, "evoclaw-agent: %s\n", err.msg);
		return AGENT_EXIT_CONFIG;
	}
	struct reporter *r;
	if (reporter_open(&c, &r, &err) < 0) {
		fprintf(stderr, "evoclaw-agent: %s\n", err.msg);
		market_free(&m);
		return err.kind == EVO_ERR_INVALID ? AGENT_EXIT_CONFIG : AGENT_EXIT_UNREACHABLE;
	}
	int status = c.kind == AGENT_TRADER    ? run_trader(&c, r, &m)
		     : c.kind == AGENT_MONITOR ? run_monitor(&c, r, &m)
		     : c.kind == AGENT_SENSOR  ? run_sensor(&c, r)
					       : run_standby(&c, r);
	reporter_close(r);
	market_free(&m);
	return status;
}
