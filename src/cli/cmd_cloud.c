/* evoclaw cloud spawn|list|costs|kill: the EvoClaw surface of evoclaw
 * serve (docs/api.md), over HTTP. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_output.h"
#include "cli/api_client.h"
#include "common/cleanup.h"
#include "common/toml.h"
#include "core/agent_toml.h"

static const char cloud_usage[] =
	"usage: evoclaw cloud <command> [options]\n"
	"\n"
	"Agents on the orchestrator (evoclaw serve), over its HTTP API:\n"
	"  spawn [options] [-- CMD [ARG...]]\n"
	"                    start an agent; prints its id and status\n"
	"  list [--json]     agents pending or running\n"
	"  costs [--json]    spend against the budget, and what each agent cost\n"
	"  kill [--json] ID...\n"
	"                    stop agents (their records stay)\n"
	"  tournament start|list|show|cancel\n"
	"                    evolution tournaments of trader agents (burst mode)\n"
	"  schedule create|list|show|cancel\n"
	"                    agents started and stopped by a daily window (scheduled mode)\n"
	"\n"
	"evoclaw cloud <command> --help tells more. Exit status: 0, 1 when the\n"
	"server refused or could not be reached, 2 for a usage error.\n"
	"\n" API_ENVIRONMENT_HELP;

static const char spawn_usage[] =
	"usage: evoclaw cloud spawn [options] [-- CMD [ARG...]]\n"
	"\n"
	"Start an agent (POST /api/cloud/spawn) and print its id and status\n"
	"(pending: it turns running when its sandbox runs). CMD, if given, is what\n"
	"the agent runs instead of its template's entrypoint.\n"
	"\n"
	"  -c, --config FILE    an agent.toml ([agent], [mqtt], [genome], [env]);\n"
	"                       the options below win over what it says\n"
	"  -t, --template NAME  template (default: the server's cloud.defaultTemplate;\n"
	"                       on e2b, a template of your E2B team)\n"
	"  -p, --provider P     where its sandbox runs: local (the server's machine)\n"
	"                       or e2b (E2B's cloud; the server needs an E2B API key)\n"
	"                       (default: the server's cloud.provider)\n"
	"      --type TYPE      researcher|coder|analyst|tester|trader|monitor|sensor\n"
	"                       (default: trader)\n"
	"      --id ID          the agent's id, [A-Za-z0-9._-] up to 63 (default: a\n"
	"                       new agt_... id)\n"
	"      --task TEXT      what the agent should do\n"
	"  -T, --timeout S      stop it after S seconds (default: the server's\n"
	"                       cloud.defaultTimeoutSec)\n"
	"      --keep-alive     extend its timeout while it is healthy\n"
	"  -e, --env K=V        environment for the agent (repeatable)\n"
	"  -g, --genome JSON    its strategy genome, a JSON object\n"
	"      --mqtt-broker HOST\n"
	"      --mqtt-port N    where it reports telemetry\n"
	"  -q, --quiet          print only the id\n"
	"      --json           print the server's answer (the agent) as JSON\n"
	"\n" API_ENVIRONMENT_HELP;

static const char list_usage[] =
	"usage: evoclaw cloud list [--json]\n"
	"\n"
	"The agents pending or running (GET /api/cloud): id, name, type, status,\n"
	"provider (local or e2b), sandbox, age and cost so far. --json prints the\n"
	"server's answer.\n"
	"\n" API_ENVIRONMENT_HELP;

static const char costs_usage[] =
	"usage: evoclaw cloud costs [--json]\n"
	"\n"
	"Spend against the budget (GET /api/cloud/costs): spent, budget, remaining,\n"
	"committed (the worst case the agents pending or running can still cost),\n"
	"running and maximum agents, then what each agent cost (with its provider,\n"
	"local or e2b: each has its own price). --json prints the server's answer.\n"
	"\n" API_ENVIRONMENT_HELP;

static const char kill_usage[] =
	"usage: evoclaw cloud kill [--json] ID...\n"
	"\n"
	"Stop agents (DELETE /api/cloud/ID): each ends completed, stop reason\n"
	"terminated, and its record stays. Prints \"ID STATUS (REASON)\" per agent,\n"
	"or with --json the server's answers, one a line.\n"
	"\n" API_ENVIRONMENT_HELP;

enum {
	OPT_TYPE = 256,
	OPT_ID,
	OPT_TASK,
	OPT_KEEP_ALIVE,
	OPT_MQTT_BROKER,
	OPT_MQTT_PORT,
	OPT_JSON,
};

/* The whole of a (small) file, NUL-terminated. NULL with errno on
 * failure; EFBIG past max bytes. */
static char *read_text_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	char *text = NULL;
	size_t n = 0;
	for (;;) {
		text = xrealloc(text, n + 65536 + 1);
		size_t got = fread(text + n, 1, 65536, f);
		n += got;
		if (n > max) {
			fclose(f);
			free(text);
			errno = EFBIG;
			return NULL;
		}
		if (got < 65536)
			break;
	}
	int failed = ferror(f);
	fclose(f);
	if (failed) {
		free(text);
		errno = EIO;
		return NULL;
	}
	text[n] = '\0';
	*len = n;
	return text;
}

/* Add what agent.toml at path says to spawn (flags already there win). */
static int apply_agent_toml(const char *path, json_t *spawn)
{
	size_t len;
	_cleanup_free_ char *text = read_text_file(path, 1 << 20, &len);
	if (text == NULL)
		return cli_usage_error("--config: cannot read %s: %s", path,
				       errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
	json_t *doc = NULL;
	struct evo_error err = {0};
	int rc = toml_parse(text, len, path, &doc, &err);
	if (rc == 0)
		rc = agent_toml_to_spawn(doc, spawn, &err);
	json_decref(doc);
	if (rc < 0)
		return cli_usage_error("--config: %s", err.msg);
	return 0;
}

static int parse_genome(const char *text, json_t *spawn)
{
	json_error_t jerr;
	json_t *genome = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (genome == NULL)
		return cli_usage_error("--genome: not valid JSON: %s (at character %d)", jerr.text,
				       jerr.position);
	if (!json_is_object(genome)) {
		json_decref(genome);
		return cli_usage_error("--genome: must be a JSON object, e.g. '{\"risk\": 0.2}'");
	}
	json_object_set_new(spawn, "genome", genome);
	return 0;
}

/* Options of spawn into the body of POST /api/cloud/spawn; *config is the
 * agent.toml to add, if any. 0, -1 after printing help, or
 * CLI_EXIT_USAGE. */
static int parse_spawn_options(int argc, char **argv, json_t *spawn, const char **config,
			       bool *quiet, bool *json)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"template", required_argument, NULL, 't'},
		{"provider", required_argument, NULL, 'p'},
		{"type", required_argument, NULL, OPT_TYPE},
		{"id", required_argument, NULL, OPT_ID},
		{"task", required_argument, NULL, OPT_TASK},
		{"timeout", required_argument, NULL, 'T'},
		{"keep-alive", no_argument, NULL, OPT_KEEP_ALIVE},
		{"env", required_argument, NULL, 'e'},
		{"genome", required_argument, NULL, 'g'},
		{"mqtt-broker", required_argument, NULL, OPT_MQTT_BROKER},
		{"mqtt-port", required_argument, NULL, OPT_MQTT_PORT},
		{"quiet", no_argument, NULL, 'q'},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	json_t *env = json_object();
	int code = 0;
	optind = 1;
	opterr = 0;
	int c;
	while (code == 0 && (c = getopt_long(argc, argv, "+c:t:p:T:e:g:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			break;
		case 't':
			code = cli_set_string(spawn, "template_id", "--template", optarg);
			break;
		case 'p':
			code = cli_set_string(spawn, "provider", "--provider", optarg);
			break;
		case OPT_TYPE:
			code = cli_set_string(spawn, "agent_type", "--type", optarg);
			break;
		case OPT_ID:
			code = cli_set_string(spawn, "agent_id", "--id", optarg);
			break;
		case OPT_TASK:
			code = cli_set_string(spawn, "task", "--task", optarg);
			break;
		case 'T':
			code = cli_set_integer(spawn, "timeout_sec", "--timeout", optarg, 1, 1LL << 31);
			break;
		case OPT_KEEP_ALIVE:
			json_object_set_new(spawn, "keep_alive", json_true());
			break;
		case 'e':
			code = cli_env_add(env, "--env", optarg);
			break;
		case 'g':
			code = parse_genome(optarg, spawn);
			break;
		case OPT_MQTT_BROKER:
			code = cli_set_string(spawn, "mqtt_broker", "--mqtt-broker", optarg);
			break;
		case OPT_MQTT_PORT:
			code = cli_set_integer(spawn, "mqtt_port", "--mqtt-port", optarg, 1, 65535);
			break;
		case 'q':
			*quiet = true;
			break;
		case OPT_JSON:
			*json = true;
			break;
		case 'h':
			fputs(spawn_usage, stdout);
			code = -1;
			break;
		default:
			code = cli_unknown_option("cloud", "spawn", argv);
			break;
		}
	}
	if (code == 0 && json_object_size(env) > 0)
		json_object_set(spawn, "env", env);
	json_decref(env);
	if (code == 0 && optind < argc)
		code = cli_set_argv(spawn, "command", argc - optind, argv + optind);
	return code;
}

static int cmd_spawn(int argc, char **argv)
{
	json_t *spawn = json_object();
	const char *config = NULL;
	bool quiet = false, json = false;
	int code = parse_spawn_options(argc, argv, spawn, &config, &quiet, &json);
	/* Flags first: agent.toml only adds what they left out. */
	if (code == 0 && config)
		code = apply_agent_toml(config, spawn);
	if (code == 0)
		code = cli_start_agent("/api/cloud/spawn", spawn, "id", quiet, json);
	json_decref(spawn);
	return code < 0 ? 0 : code;
}

/* The agents of list, and those under costs. */
static const enum cli_agent_column running_columns[] = {
	CLI_AGENT_ID,	    CLI_AGENT_NAME,    CLI_AGENT_TYPE, CLI_AGENT_STATUS, CLI_AGENT_PROVIDER,
	CLI_AGENT_SANDBOX, CLI_AGENT_AGE,     CLI_AGENT_COST, CLI_AGENT_END,
};
static const enum cli_agent_column cost_columns[] = {
	CLI_AGENT_ID,	    CLI_AGENT_NAME,   CLI_AGENT_TYPE, CLI_AGENT_STATUS, CLI_AGENT_PROVIDER,
	CLI_AGENT_RUNTIME, CLI_AGENT_TOKENS, CLI_AGENT_COST, CLI_AGENT_END,
};

static void print_running_agents(const json_t *reply, void *ctx)
{
	cli_print_agent_table(json_object_get(reply, "agents"), running_columns);
}

static int cmd_list(int argc, char **argv)
{
	return cli_request_list(argc, argv, "cloud", list_usage, "/api/cloud", print_running_agents);
}

static void print_costs(const json_t *costs, void *ctx)
{
	char spent[32], budget[32], remaining[32], committed[32];
	cli_format_money(json_object_get(costs, "total_spent_usd"), spent, sizeof spent);
	cli_format_money(json_object_get(costs, "budget_usd"), budget, sizeof budget);
	cli_format_money(json_object_get(costs, "remaining_usd"), remaining, sizeof remaining);
	cli_format_money(json_object_get(costs, "committed_usd"), committed, sizeof committed);
	_cleanup_free_ char *running = cli_json_text(json_object_get(costs, "running_agents"));
	_cleanup_free_ char *max = cli_json_text(json_object_get(costs, "max_agents"));
	printf("spent:      %s\n", spent);
	printf("budget:     %s\n", budget);
	printf("remaining:  %s\n", remaining);
	printf("committed:  %s  (the most the agents pending or running can still cost)\n",
	       committed);
	printf("running:    %s agents\n", running);
	printf("max:        %s agents\n", max);
	/* What a second costs where agents run (a server before providers
	 * had rates says nothing here). */
	const char *name;
	json_t *rate;
	json_object_foreach(json_object_get(costs, "provider_usd_per_sec"), name, rate)
		if (json_is_number(rate))
			printf("rate:       %.10g USD/s on %s\n", json_number_value(rate), name);
	putchar('\n');

	cli_print_agent_table(json_object_get(costs, "agents"), cost_columns);
}

static int cmd_costs(int argc, char **argv)
{
	return cli_request_list(argc, argv, "cloud", costs_usage, "/api/cloud/costs", print_costs);
}

static int cmd_kill(int argc, char **argv)
{
	return cli_delete_agents(argc, argv, "cloud", kill_usage, "/api/cloud/", "",
				 cli_print_stopped_agent);
}

int cmd_cloud(int argc, char **argv)
{
	static const struct cli_command commands[] = {
		{"spawn", cmd_spawn},
		{"list", cmd_list},
		{"costs", cmd_costs},
		{"kill", cmd_kill},
		{"tournament", cmd_tournament},
		{"schedule", cmd_schedule},
	};
	return cli_dispatch(argc, argv, "cloud", cloud_usage, commands,
			    sizeof commands / sizeof *commands);
}
