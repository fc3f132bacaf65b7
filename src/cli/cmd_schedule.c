/* evoclaw cloud schedule create|list|show|cancel: scheduled agents
 * (docs/api.md, "Scheduled agents") from the command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/cli_output.h"
#include "common/cleanup.h"

static const char schedule_usage[] =
	"usage: evoclaw cloud schedule <command> [options]\n"
	"\n"
	"  create --start HH:MM[:SS] --end HH:MM[:SS] --timezone ZONE [options] [-- CMD...]\n"
	"                      start an agent whenever the daily window opens, stop it\n"
	"                      when it closes; prints the schedule's id\n"
	"  list [--json]       schedules: window, open or not, next change, runs\n"
	"  show [--json] ID    one schedule\n"
	"  cancel [--json] ID  stop it: its running agent is terminated\n"
	"\n"
	"Options of create:\n"
	"  --start, --end      local time in the zone; an end at or before the start\n"
	"                      runs past midnight\n"
	"  --timezone ZONE     an IANA zone: America/New_York, Europe/London, UTC, ...\n"
	"  --days LIST         e.g. mon,tue,wed,thu,fri (default: every day)\n"
	"  --type TYPE         the agent's type (default trader)\n"
	"  -t, --template T    its template (default: the server's)\n"
	"  -p, --provider P    where it runs: local or e2b (default: the server's)\n"
	"  --task TEXT         its task;  -e, --env K=V  its environment (repeatable)\n"
	"  -g, --genome JSON   its genome\n"
	"  -q, --quiet         print only the id;  --json  the server's answer\n"
	"\n" API_ENVIRONMENT_HELP;

enum {
	OPT_START = 256,
	OPT_END,
	OPT_ZONE,
	OPT_DAYS,
	OPT_TYPE,
	OPT_TASK,
	OPT_JSON,
};

/* --days mon,tue,...: a JSON array (the server checks the names). */
static json_t *day_list(const char *text)
{
	json_t *days = json_array();
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;
	for (char *d = strtok_r(copy, ",", &save); d; d = strtok_r(NULL, ",", &save))
		json_array_append_new(days, json_string(d));
	return days;
}

static int parse_create(int argc, char **argv, json_t *body, json_t *schedule, bool *quiet,
			bool *json)
{
	static const struct option longopts[] = {
		{"start", required_argument, NULL, OPT_START},
		{"end", required_argument, NULL, OPT_END},
		{"timezone", required_argument, NULL, OPT_ZONE},
		{"days", required_argument, NULL, OPT_DAYS},
		{"type", required_argument, NULL, OPT_TYPE},
		{"template", required_argument, NULL, 't'},
		{"provider", required_argument, NULL, 'p'},
		{"task", required_argument, NULL, OPT_TASK},
		{"env", required_argument, NULL, 'e'},
		{"genome", required_argument, NULL, 'g'},
		{"quiet", no_argument, NULL, 'q'},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	json_t *env = json_object();
	json_object_set_new(body, "env", env);
	int code = 0, c;
	optind = 1;
	opterr = 0;
	while (code == 0 && (c = getopt_long(argc, argv, "+t:p:e:g:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_START:
			code = cli_set_string(schedule, "start", "--start", optarg);
			break;
		case OPT_END:
			code = cli_set_string(schedule, "end", "--end", optarg);
			break;
		case OPT_ZONE:
			code = cli_set_string(schedule, "timezone", "--timezone", optarg);
			break;
		case OPT_DAYS:
			json_object_set_new(schedule, "days", day_list(optarg));
			break;
		case OPT_TYPE:
			code = cli_set_string(body, "agent_type", "--type", optarg);
			break;
		case 't':
			code = cli_set_string(body, "template_id", "--template", optarg);
			break;
		case 'p':
			code = cli_set_string(body, "provider", "--provider", optarg);
			break;
		case OPT_TASK:
			code = cli_set_string(body, "task", "--task", optarg);
			break;
		case 'e':
			code = cli_env_add(env, "--env", optarg);
			break;
		case 'g': {
			json_t *g = json_loads(optarg, 0, NULL);
			if (!json_is_object(g)) {
				json_decref(g);
				return cli_usage_error("--genome: must be a JSON object");
			}
			json_object_set_new(body, "genome", g);
			break;
		}
		case 'q':
			*quiet = true;
			break;
		case OPT_JSON:
			*json = true;
			break;
		case 'h':
			fputs(schedule_usage, stdout);
			return -1;
		default:
			return cli_unknown_option("cloud schedule", "create", argv);
		}
	}
	if (code)
		return code;
	static const char *const required[] = {"start", "end", "timezone"};
	for (size_t i = 0; i < 3; i++)
		if (json_object_get(schedule, required[i]) == NULL)
			return cli_usage_error("schedule create: --%s is required", required[i]);
	if (json_object_size(env) == 0)
		json_object_del(body, "env");
	if (optind < argc)
		code = cli_set_argv(body, "command", argc - optind, argv + optind);
	return code;
}

static void print_created(const json_t *r, void *ctx)
{
	const bool *quiet = ctx;
	const char *id = json_string_value(json_object_get(r, "id"));
	if (*quiet)
		printf("%s\n", id ? id : "?");
	else
		printf("%s %s\n", id ? id : "?", json_string_value(json_object_get(r, "state")));
}

static int cmd_create(int argc, char **argv)
{
	json_t *body = json_object(), *schedule = json_object();
	json_object_set(body, "schedule", schedule);
	bool quiet = false, json = false;
	int code = parse_create(argc, argv, body, schedule, &quiet, &json);
	if (code == 0)
		code = api_request_print("POST", "/api/schedules", body, json, print_created, &quiet);
	json_decref(schedule);
	json_decref(body);
	return code < 0 ? 0 : code;
}

/* "09:00-16:00 America/New_York mon,fri" */
static void window_text(const json_t *schedule, char *out, size_t size)
{
	size_t i;
	json_t *d;
	char days[64] = "";
	json_array_foreach(json_object_get(schedule, "days"), i, d) {
		size_t n = strlen(days);
		snprintf(days + n, sizeof days - n, "%s%s", n ? "," : "", json_string_value(d));
	}
	snprintf(out, size, "%s-%s %s%s%s", json_string_value(json_object_get(schedule, "start")),
		 json_string_value(json_object_get(schedule, "end")),
		 json_string_value(json_object_get(schedule, "timezone")), days[0] ? " " : "", days);
}

static const char *text_or_dash(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "-";
}

static void print_list(const json_t *reply, void *ctx)
{
	(void)ctx;
	static const char *const headers[] = {"ID",   "STATE", "WINDOW", "OPEN",
					      "NEXT", "RUNS",  "AGENT"};
	struct cli_table t;
	cli_table_init(&t, 7, headers);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(reply, "schedules"), i, r) {
		char window[160];
		window_text(json_object_get(r, "schedule"), window, sizeof window);
		bool open = json_is_true(json_object_get(r, "open"));
		_cleanup_free_ char *runs = cli_json_text(json_object_get(r, "runs"));
		const char *cells[] = {
			json_string_value(json_object_get(r, "id")),
			json_string_value(json_object_get(r, "state")),
			window,
			open ? "yes" : "no",
			text_or_dash(json_object_get(r, open ? "closes_at" : "opens_at")),
			runs,
			text_or_dash(json_object_get(r, "agent_id")),
		};
		cli_table_add(&t, cells);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

static void print_one(const json_t *r, void *ctx)
{
	(void)ctx;
	char window[160];
	window_text(json_object_get(r, "schedule"), window, sizeof window);
	_cleanup_free_ char *runs = cli_json_text(json_object_get(r, "runs"));
	_cleanup_free_ char *agent = cli_json_text(json_object_get(r, "agent"));
	printf("schedule %s: %s\n", json_string_value(json_object_get(r, "id")),
	       json_string_value(json_object_get(r, "state")));
	printf("window:    %s (%s now)\n", window,
	       json_is_true(json_object_get(r, "open")) ? "open" : "closed");
	printf("opens at:  %s\ncloses at: %s\n", text_or_dash(json_object_get(r, "opens_at")),
	       text_or_dash(json_object_get(r, "closes_at")));
	printf("runs:      %s, latest agent %s\n", runs, text_or_dash(json_object_get(r, "agent_id")));
	printf("agent:     %s\n", agent);
	if (json_is_string(json_object_get(r, "note")))
		printf("note:      %s\n", json_string_value(json_object_get(r, "note")));
}

static int cmd_list(int argc, char **argv)
{
	return cli_request_list(argc, argv, "cloud schedule", schedule_usage, "/api/schedules",
				print_list);
}

static int cmd_show(int argc, char **argv)
{
	return cli_request_one(argc, argv, "cloud schedule", schedule_usage, "GET",
			       "/api/schedules/", print_one);
}

static int cmd_cancel(int argc, char **argv)
{
	return cli_request_one(argc, argv, "cloud schedule", schedule_usage, "DELETE",
			       "/api/schedules/", print_one);
}

int cmd_schedule(int argc, char **argv)
{
	static const struct cli_command commands[] = {
		{"create", cmd_create},
		{"list", cmd_list},
		{"show", cmd_show},
		{"cancel", cmd_cancel},
	};
	return cli_dispatch(argc, argv, "cloud schedule", schedule_usage, commands,
			    sizeof commands / sizeof *commands);
}
