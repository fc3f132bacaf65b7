/* evoclaw agents deploy|list|get|logs|terminate|destroy: the BeClever
 * surface of evoclaw serve (docs/api.md), over HTTP. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_output.h"
#include "cli/api_client.h"
#include "common/cleanup.h"

static const char agents_usage[] =
	"usage: evoclaw agents <command> [options]\n"
	"\n"
	"Agents on the orchestrator (evoclaw serve), over its HTTP API:\n"
	"  deploy --name NAME [options] [-- CMD [ARG...]]\n"
	"                    start an agent; prints its id and status\n"
	"  list [--status S] [--type T] [--limit N] [--offset N] [--json]\n"
	"                    agents, newest first\n"
	"  get [--json] ID   one agent in detail, with the end of its log\n"
	"  logs [--tail N] [--follow] [--json] ID\n"
	"                    its output; --follow streams it until the agent ends\n"
	"  terminate [--json] ID...\n"
	"                    stop agents, keeping their records and logs\n"
	"  destroy [--json] ID...\n"
	"                    stop agents and delete their records and logs\n"
	"\n"
	"evoclaw agents <command> --help tells more. Exit status: 0, 1 when the\n"
	"server refused or could not be reached, 2 for a usage error.\n"
	"\n" API_ENVIRONMENT_HELP;

static const char deploy_usage[] =
	"usage: evoclaw agents deploy --name NAME [options] [-- CMD [ARG...]]\n"
	"\n"
	"Start an agent (POST /api/agents/deploy) and print its id and status\n"
	"(pending: it turns running when its sandbox runs). CMD, if given, is what\n"
	"the agent runs instead of its template's entrypoint.\n"
	"\n"
	"  -n, --name NAME        its name, 1 to 127 characters (required)\n"
	"      --type TYPE        researcher|coder|analyst|tester|trader|monitor|sensor\n"
	"                         (default: coder)\n"
	"      --task TEXT        what the agent should do\n"
	"  -t, --template NAME    template (default: the server's cloud.defaultTemplate)\n"
	"  -p, --provider P       where its sandbox runs: local or e2b (default: the\n"
	"                         server's cloud.provider)\n"
	"  -e, --env K=V          environment for the agent (repeatable)\n"
	"      --capability C     something it may do (repeatable)\n"
	"  -T, --timeout S        stop it after S seconds\n"
	"      --keep-alive       extend its timeout while it is healthy\n"
	"  -q, --quiet            print only the id\n"
	"      --json             print the server's answer as JSON\n"
	"\n" API_ENVIRONMENT_HELP;

static const char list_usage[] =
	"usage: evoclaw agents list [--status S] [--type T] [--limit N] [--offset N] [--json]\n"
	"\n"
	"Agents, newest first (GET /api/agents): id, name, type, status, provider,\n"
	"sandbox, age, tokens and cost.\n"
	"\n"
	"  -s, --status S   only pending, running, completed or failed ones\n"
	"      --type T     only agents of type T\n"
	"  -l, --limit N    at most N (1..1000, default 50)\n"
	"  -o, --offset N   skip the first N\n"
	"      --json       print the server's answer\n"
	"\n" API_ENVIRONMENT_HELP;

static const char get_usage[] =
	"usage: evoclaw agents get [--json] ID\n"
	"\n"
	"One agent (GET /api/agents/ID): every field as \"key: value\", then the\n"
	"last lines of its log. --json prints the server's answer.\n"
	"\n" API_ENVIRONMENT_HELP;

static const char logs_usage[] =
	"usage: evoclaw agents logs [--tail N] [--follow] [--json] ID\n"
	"\n"
	"An agent's output (GET /api/agents/ID/logs).\n"
	"\n"
	"  -n, --tail N   the last N lines (0..10000, default 100)\n"
	"  -f, --follow   stream it as it is written, until the agent ends (with\n"
	"                 --tail, start N lines back; else from the start)\n"
	"      --json     print the server's answer (not with --follow)\n"
	"\n" API_ENVIRONMENT_HELP;

static const char terminate_usage[] =
	"usage: evoclaw agents terminate [--json] ID...\n"
	"\n"
	"Stop agents (DELETE /api/agents/ID?terminate_only=true): each ends\n"
	"completed, stop reason terminated; its record and logs stay. Prints\n"
	"\"ID STATUS (REASON)\" per agent, or with --json the server's answers.\n"
	"\n" API_ENVIRONMENT_HELP;

static const char destroy_usage[] =
	"usage: evoclaw agents destroy [--json] ID...\n"
	"\n"
	"Stop agents and delete them, record, sandbox and logs (DELETE\n"
	"/api/agents/ID). Prints \"ID destroyed\" per agent, or with --json the\n"
	"server's answers.\n"
	"\n" API_ENVIRONMENT_HELP;

enum {
	OPT_TYPE = 256,
	OPT_TASK,
	OPT_CAPABILITY,
	OPT_KEEP_ALIVE,
	OPT_JSON,
};

static char *agent_path(const char *id, const char *suffix)
{
	_cleanup_free_ char *escaped = api_escape(id);
	return xasprintf("/api/agents/%s%s", escaped, suffix);
}

static int cmd_deploy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"name", required_argument, NULL, 'n'},
		{"type", required_argument, NULL, OPT_TYPE},
		{"task", required_argument, NULL, OPT_TASK},
		{"template", required_argument, NULL, 't'},
		{"provider", required_argument, NULL, 'p'},
		{"env", required_argument, NULL, 'e'},
		{"capability", required_argument, NULL, OPT_CAPABILITY},
		{"timeout", required_argument, NULL, 'T'},
		{"keep-alive", no_argument, NULL, OPT_KEEP_ALIVE},
		{"quiet", no_argument, NULL, 'q'},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	json_t *body = json_object(), *env = json_object(), *capabilities = json_array(),
	       *config = json_object();
	bool quiet = false, json = false, named = false;
	int code = 0;
	optind = 1;
	opterr = 0;
	int c;
	while (code == 0 && (c = getopt_long(argc, argv, "+n:t:p:e:T:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			code = cli_set_string(body, "agent_name", "--name", optarg);
			named = true;
			break;
		case OPT_TYPE:
			code = cli_set_string(body, "agent_type", "--type", optarg);
			break;
		case OPT_TASK:
			code = cli_set_string(body, "task_description", "--task", optarg);
			break;
		case 't':
			code = cli_set_string(body, "template", "--template", optarg);
			break;
		case 'p':
			code = cli_set_string(body, "provider", "--provider", optarg);
			break;
		case 'e':
			code = cli_env_add(env, "--env", optarg);
			break;
		case OPT_CAPABILITY:
			if (json_array_append_new(capabilities, json_string(optarg)) < 0)
				code = cli_usage_error("--capability: not valid UTF-8");
			break;
		case 'T':
			code = cli_set_integer(config, "timeout", "--timeout", optarg, 1, 1LL << 31);
			break;
		case OPT_KEEP_ALIVE:
			json_object_set_new(config, "keep_alive", json_true());
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(deploy_usage, stdout);
			code = -1;
			break;
		default:
			code = cli_unknown_option("agents", "deploy", argv);
			break;
		}
	}
	if (code == 0 && optind < argc)
		code = cli_set_argv(config, "command", argc - optind, argv + optind);
	if (code == 0 && !named)
		code = cli_usage_error("deploy: --name is required (see evoclaw agents deploy --help)");
	if (json_object_size(env))
		json_object_set(body, "environment", env);
	if (json_array_size(capabilities))
		json_object_set(body, "capabilities", capabilities);
	if (json_object_size(config))
		json_object_set(body, "config", config);
	json_decref(env);
	json_decref(capabilities);
	json_decref(config);
	if (code == 0)
		code = cli_start_agent("/api/agents/deploy", body, "agent_id", quiet, json);
	json_decref(body);
	return code < 0 ? 0 : code;
}

/* A page of agents, and how to ask for the next. */
static void print_agent_page(const json_t *page, void *ctx)
{
	static const enum cli_agent_column columns[] = {
		CLI_AGENT_ID,	    CLI_AGENT_NAME,   CLI_AGENT_TYPE,	CLI_AGENT_STATUS,
		CLI_AGENT_PROVIDER, CLI_AGENT_SANDBOX, CLI_AGENT_AGE,	CLI_AGENT_TOKENS,
		CLI_AGENT_COST,	    CLI_AGENT_END,
	};
	json_t *agents = json_object_get(page, "agents");
	cli_print_agent_table(agents, columns);
	json_t *total = json_object_get(page, "total"), *offset = json_object_get(page, "offset");
	long long shown = (long long)json_array_size(agents);
	long long from = json_is_integer(offset) ? json_integer_value(offset) : 0;
	if (json_is_integer(total) && json_integer_value(total) > from + shown)
		printf("(%lld of %lld agents; --offset %lld for more)\n", shown,
		       (long long)json_integer_value(total), from + shown);
}

/* Append "&name=escaped value" (or "?..." first) to *query. */
static void query_add(char **query, const char *name, const char *value)
{
	_cleanup_free_ char *escaped = api_escape(value);
	char *longer = xasprintf("%s%c%s=%s", *query, **query ? '&' : '?', name, escaped);
	free(*query);
	*query = longer;
}

static int cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"status", required_argument, NULL, 's'}, {"type", required_argument, NULL, OPT_TYPE},
		{"limit", required_argument, NULL, 'l'},  {"offset", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, OPT_JSON},    {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	_cleanup_free_ char *query = xstrdup("");
	bool json = false;
	long long number;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+s:l:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			query_add(&query, "status", optarg);
			break;
		case OPT_TYPE:
			query_add(&query, "type", optarg);
			break;
		case 'l':
			if (cli_parse_integer("--limit", optarg, 1, 1000, &number))
				return CLI_EXIT_USAGE;
			query_add(&query, "limit", optarg);
			break;
		case 'o':
			if (cli_parse_integer("--offset", optarg, 0, 1LL << 62, &number))
				return CLI_EXIT_USAGE;
			query_add(&query, "offset", optarg);
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(list_usage, stdout);
			return 0;
		default:
			return cli_unknown_option("agents", "list", argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("list: unexpected argument \"%s\" (see evoclaw agents list --help)",
				       argv[optind]);
	_cleanup_free_ char *path = xasprintf("/api/agents%s", query);
	return api_request_print("GET", path, NULL, json, print_agent_page, NULL);
}

/* argv as a shell would read it back: words quoted where they need it. */
static char *command_text(const json_t *argv)
{
	char *text = xstrdup("");
	size_t i;
	json_t *word;
	json_array_foreach(argv, i, word) {
		const char *w = json_string_value(word);
		if (w == NULL)
			w = "?";
		bool plain = w[0] != '\0' && strspn(w, "abcdefghijklmnopqrstuvwxyz"
						       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
						       "@%_+=:,./-") == strlen(w);
		_cleanup_free_ char *quoted = NULL;
		if (!plain) {
			/* 'it'\''s' */
			size_t n = 2;
			for (const char *p = w; *p; p++)
				n += *p == '\'' ? 4 : 1;
			quoted = xmalloc(n + 1);
			char *o = quoted;
			*o++ = '\'';
			for (const char *p = w; *p; p++) {
				if (*p == '\'') {
					memcpy(o, "'\\''", 4);
					o += 4;
				} else {
					*o++ = *p;
				}
			}
			*o++ = '\'';
			*o = '\0';
		}
		char *longer = xasprintf("%s%s%s", text, i ? " " : "", plain ? w : quoted);
		free(text);
		text = longer;
	}
	return text;
}

/* An agent's field as text for `get`. */
static char *field_text(const char *key, const json_t *value)
{
	if (value == NULL || json_is_null(value) ||
	    (json_is_string(value) && json_string_length(value) == 0))
		return xstrdup("-");
	if (strcmp(key, "cost_usd") == 0) {
		char money[64];
		cli_format_money(value, money, sizeof money);
		return xstrdup(money);
	}
	if (strcmp(key, "timeout_sec") == 0 && json_is_integer(value))
		return xasprintf("%lld s", (long long)json_integer_value(value));
	if (strcmp(key, "execution_time_ms") == 0 && json_is_number(value))
		return xasprintf("%.3f s", json_number_value(value) / 1000.0);
	if (strcmp(key, "command") == 0 && json_is_array(value))
		return command_text(value);
	if (json_is_boolean(value))
		return xstrdup(json_is_true(value) ? "yes" : "no");
	if (json_is_array(value)) {
		/* Lists of names (capabilities, environment keys) read best
		 * comma-separated. */
		bool strings = true;
		size_t i;
		json_t *item;
		json_array_foreach(value, i, item) {
			strings = strings && json_is_string(item);
		}
		if (strings) {
			if (json_array_size(value) == 0)
				return xstrdup("-");
			char *text = xstrdup("");
			json_array_foreach(value, i, item) {
				char *longer = xasprintf("%s%s%s", text, i ? ", " : "",
							 json_string_value(item));
				free(text);
				text = longer;
			}
			return text;
		}
	}
	return cli_json_text(value);
}

static void print_agent(const json_t *agent, void *ctx)
{
	/* The agent object's fields (docs/api.md) in a reading order, with
	 * labels; fields the server adds later follow under their own
	 * names. */
	static const struct {
		const char *key, *label;
	} known[] = {
		{"id", "id"},
		{"name", "name"},
		{"agent_type", "type"},
		{"status", "status"},
		{"stop_reason", "stop reason"},
		{"exit_code", "exit code"},
		{"error_message", "error"},
		{"template", "template"},
		{"provider", "provider"},
		{"sandbox_id", "sandbox"},
		{"mode", "mode"},
		{"task_description", "task"},
		{"command", "command"},
		{"capabilities", "capabilities"},
		{"environment_keys", "environment"},
		{"genome", "genome"},
		{"config", "config"},
		{"timeout_sec", "timeout"},
		{"keep_alive", "keep alive"},
		{"tokens_used", "tokens"},
		{"cost_usd", "cost"},
		{"execution_time_ms", "run time"},
		{"created_at", "created"},
		{"started_at", "started"},
		{"completed_at", "completed"},
	};
	size_t n_known = sizeof known / sizeof *known;
	size_t capacity = n_known + json_object_size(agent);
	const char **labels = xcalloc(capacity, sizeof *labels);
	char **values = xcalloc(capacity, sizeof *values);
	size_t count = 0, width = 0;
	for (size_t i = 0; i < n_known; i++) {
		json_t *value = json_object_get(agent, known[i].key);
		if (value == NULL)
			continue;
		labels[count] = known[i].label;
		values[count++] = field_text(known[i].key, value);
	}
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)agent, key, value) {
		bool is_known = strcmp(key, "log_tail") == 0;
		for (size_t i = 0; i < n_known && !is_known; i++)
			is_known = strcmp(key, known[i].key) == 0;
		if (is_known)
			continue;
		labels[count] = key;
		values[count++] = field_text(key, value);
	}
	for (size_t i = 0; i < count; i++)
		if (strlen(labels[i]) > width)
			width = strlen(labels[i]);
	for (size_t i = 0; i < count; i++) {
		printf("%s:%*s %s\n", labels[i], (int)(width - strlen(labels[i])), "", values[i]);
		free(values[i]);
	}
	free(labels);
	free(values);

	json_t *tail = json_object_get(agent, "log_tail");
	if (json_is_array(tail)) {
		size_t i;
		json_t *line;
		printf("\nlog (last %zu lines):\n", json_array_size(tail));
		json_array_foreach(tail, i, line) {
			const char *text = json_string_value(line);
			printf("  %s\n", text ? text : "");
		}
	}
}

static int cmd_get(int argc, char **argv)
{
	bool json;
	int first = cli_parse_ids(argc, argv, "agents", get_usage, &json, true);
	if (first < 0)
		return first == -1 ? 0 : -first;
	_cleanup_free_ char *path = agent_path(argv[first], "");
	return api_request_print("GET", path, NULL, json, print_agent, NULL);
}

/* A stream's text goes to stdout as it arrives, so `logs --follow` is
 * live even through a pipe. */
static int write_stdout(void *ctx, const char *data, size_t len, struct evo_error *err)
{
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
		return evo_error_errno(err, "writing to stdout");
	return 0;
}

/* The lines of a log, each ending its line. */
static void print_log_lines(const json_t *log, void *ctx)
{
	size_t i;
	json_t *line;
	json_array_foreach(json_object_get(log, "lines"), i, line) {
		const char *text = json_string_value(line);
		size_t len = text ? strlen(text) : 0;
		fwrite(text ? text : "", 1, len, stdout);
		if (len == 0 || text[len - 1] != '\n')
			putchar('\n');
	}
}

static int cmd_logs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"tail", required_argument, NULL, 'n'}, {"follow", no_argument, NULL, 'f'},
		{"json", no_argument, NULL, OPT_JSON},  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *tail = NULL;
	bool follow = false, json = false;
	long long number;
	optind = 1;
	opterr = 0;
	int c;
	/* Options may follow the id, as in `agents logs ID -f`. */
	while ((c = getopt_long(argc, argv, "n:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_integer("--tail", optarg, 0, 10000, &number))
				return CLI_EXIT_USAGE;
			tail = optarg;
			break;
		case 'f':
			follow = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(logs_usage, stdout);
			return 0;
		default:
			return cli_unknown_option("agents", "logs", argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("usage: evoclaw agents logs [--tail N] [--follow] [--json] ID");
	if (json && follow)
		return cli_usage_error("logs: --json and --follow do not go together (the stream is plain text)");
	_cleanup_free_ char *query = xstrdup("");
	if (follow)
		query_add(&query, "follow", "1");
	if (tail)
		query_add(&query, "tail", tail);
	_cleanup_free_ char *path = agent_path(argv[optind], "/logs");
	_cleanup_free_ char *full = xasprintf("%s%s", path, query);
	if (!follow)
		return api_request_print("GET", full, NULL, json, print_log_lines, NULL);
	struct api_client client;
	int code = api_client_init(&client);
	if (code)
		return code;
	code = api_stream(&client, full, write_stdout, NULL);
	api_client_free(&client);
	return code;
}

static int cmd_terminate(int argc, char **argv)
{
	return cli_delete_agents(argc, argv, "agents", terminate_usage, "/api/agents/",
				 "?terminate_only=true", cli_print_stopped_agent);
}

static void print_destroyed(const json_t *reply, void *ctx)
{
	const char *id = json_string_value(json_object_get(reply, "id"));
	printf("%s destroyed\n", id ? id : "?");
}

static int cmd_destroy(int argc, char **argv)
{
	return cli_delete_agents(argc, argv, "agents", destroy_usage, "/api/agents/", "",
				 print_destroyed);
}

int cmd_agents(int argc, char **argv)
{
	static const struct cli_command commands[] = {
		{"deploy", cmd_deploy}, {"list", cmd_list},	      {"get", cmd_get},
		{"logs", cmd_logs},	{"terminate", cmd_terminate}, {"destroy", cmd_destroy},
	};
	return cli_dispatch(argc, argv, "agents", agents_usage, commands,
			    sizeof commands / sizeof *commands);
}
