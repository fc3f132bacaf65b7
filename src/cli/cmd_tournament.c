/* evoclaw cloud tournament start|list|show|cancel: evolution tournaments
 * (burst mode, docs/api.md) from the command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/cli_output.h"
#include "common/cleanup.h"

static const char tournament_usage[] =
	"usage: evoclaw cloud tournament <command> [options]\n"
	"\n"
	"  start --count N [options]  run a tournament of N trader agents; prints its id\n"
	"  list [--json]              tournaments: state, generation, champion's fitness\n"
	"  show [--json] ID           its generations, every member's fitness and parents,\n"
	"                             and the champion\n"
	"  cancel [--json] ID         stop it: running agents are terminated\n"
	"\n"
	"Options of start:\n"
	"  --count N            agents per generation (2..256)\n"
	"  --generations G      generations (1..100, default 3)\n"
	"  --survivors K        the best K go on unchanged (default count/4)\n"
	"  --mutation-rate R    0..1 (default 0.2)\n"
	"  --eval-seconds S     each agent's timeout (default 60)\n"
	"  -g, --genome JSON    the seed genome, e.g. '{\"strategy\":\"momentum\"}'\n"
	"  --market-seed N      the generated market every agent trades (default random)\n"
	"  --steps N            prices each agent trades (default 500)\n"
	"  -p, --provider NAME  where its agents run: local or e2b (default: the\n"
	"                       server's cloud.provider)\n"
	"  -q, --quiet          print only the id;  --json  the server's answer\n"
	"\n" API_ENVIRONMENT_HELP;

enum {
	OPT_COUNT = 256,
	OPT_GENERATIONS,
	OPT_SURVIVORS,
	OPT_RATE,
	OPT_EVAL,
	OPT_SEED,
	OPT_STEPS,
	OPT_JSON,
};

static int parse_start(int argc, char **argv, json_t *body, bool *quiet_out, bool *json_out)
{
	static const struct option longopts[] = {
		{"count", required_argument, NULL, OPT_COUNT},
		{"generations", required_argument, NULL, OPT_GENERATIONS},
		{"survivors", required_argument, NULL, OPT_SURVIVORS},
		{"mutation-rate", required_argument, NULL, OPT_RATE},
		{"eval-seconds", required_argument, NULL, OPT_EVAL},
		{"genome", required_argument, NULL, 'g'},
		{"market-seed", required_argument, NULL, OPT_SEED},
		{"steps", required_argument, NULL, OPT_STEPS},
		{"provider", required_argument, NULL, 'p'},
		{"quiet", no_argument, NULL, 'q'},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool quiet = false, json = false;
	int code = 0, c;
	optind = 1;
	opterr = 0;
	while (code == 0 && (c = getopt_long(argc, argv, "+g:p:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_COUNT:
			code = cli_set_integer(body, "count", "--count", optarg, 2, 256);
			break;
		case OPT_GENERATIONS:
			code = cli_set_integer(body, "generations", "--generations", optarg, 1, 100);
			break;
		case OPT_SURVIVORS:
			code = cli_set_integer(body, "survivors", "--survivors", optarg, 1, 256);
			break;
		case OPT_EVAL:
			code = cli_set_integer(body, "eval_seconds", "--eval-seconds", optarg, 1, 3600);
			break;
		case OPT_SEED:
			code = cli_set_integer(body, "market_seed", "--market-seed", optarg, 0,
					       (long long)1 << 53);
			break;
		case OPT_STEPS:
			code = cli_set_integer(body, "steps", "--steps", optarg, 2, 1000000);
			break;
		case OPT_RATE: {
			char *end;
			double r = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(r >= 0 && r <= 1))
				return cli_usage_error("--mutation-rate: \"%s\" is not a number from 0 to 1",
						       optarg);
			json_object_set_new(body, "mutation_rate", json_real(r));
			break;
		}
		case 'g': {
			json_error_t jerr;
			json_t *g = json_loads(optarg, 0, &jerr);
			if (!json_is_object(g)) {
				json_decref(g);
				return cli_usage_error("--genome: must be a JSON object, e.g. "
						       "'{\"strategy\": \"momentum\"}'");
			}
			json_object_set_new(body, "genome", g);
			break;
		}
		case 'p':
			code = cli_set_string(body, "provider", "--provider", optarg);
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(tournament_usage, stdout);
			return -1;
		default:
			return cli_unknown_option("cloud tournament", "start", argv);
		}
	}
	if (code)
		return code;
	if (optind < argc)
		return cli_usage_error("tournament start: unexpected argument \"%s\"", argv[optind]);
	if (json_object_get(body, "count") == NULL)
		return cli_usage_error("tournament start: --count is required");
	*quiet_out = quiet;
	*json_out = json;
	return 0;
}

static void print_started(const json_t *tr, void *ctx)
{
	const bool *quiet = ctx;
	const char *id = json_string_value(json_object_get(tr, "id"));
	if (*quiet)
		printf("%s\n", id ? id : "?");
	else
		printf("%s %s\n", id ? id : "?", json_string_value(json_object_get(tr, "state")));
}

static int cmd_start(int argc, char **argv)
{
	json_t *body = json_object();
	bool quiet, json;
	int code = parse_start(argc, argv, body, &quiet, &json);
	if (code == 0)
		code = api_request_print("POST", "/api/tournaments", body, json, print_started,
					 &quiet);
	json_decref(body);
	return code < 0 ? 0 : code;
}

/* A fitness to 4 places, or "-" for none. */
static void format_fitness(const json_t *f, char *out, size_t size)
{
	if (json_is_number(f))
		snprintf(out, size, "%.4f", json_number_value(f));
	else
		snprintf(out, size, "-");
}

static void print_list(const json_t *reply, void *ctx)
{
	(void)ctx;
	static const char *const headers[] = {"ID", "STATE", "GENERATION", "CHAMPION FITNESS",
					      "QUEUED"};
	struct cli_table t;
	cli_table_init(&t, 5, headers);
	size_t i;
	json_t *tr;
	json_array_foreach(json_object_get(reply, "tournaments"), i, tr) {
		char gen[32], fit[32];
		json_t *params = json_object_get(tr, "params");
		snprintf(gen, sizeof gen, "%lld/%lld",
			 (long long)json_integer_value(json_object_get(tr, "generation")) + 1,
			 (long long)json_integer_value(json_object_get(params, "generations")));
		format_fitness(json_object_get(json_object_get(tr, "champion"), "fitness"), fit,
			       sizeof fit);
		_cleanup_free_ char *queued = cli_json_text(json_object_get(tr, "queued"));
		const char *cells[] = {json_string_value(json_object_get(tr, "id")),
				       json_string_value(json_object_get(tr, "state")), gen, fit,
				       queued};
		cli_table_add(&t, cells);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

static void print_one(const json_t *tr, void *ctx)
{
	(void)ctx;
	printf("tournament %s: %s", json_string_value(json_object_get(tr, "id")),
	       json_string_value(json_object_get(tr, "state")));
	const char *error = json_string_value(json_object_get(tr, "error"));
	printf("%s%s\n", error ? " — " : "", error ? error : "");
	json_t *champion = json_object_get(tr, "champion");
	if (json_is_object(champion)) {
		_cleanup_free_ char *genome = cli_json_text(json_object_get(champion, "genome"));
		printf("champion: fitness %.4f, generation %lld, agent %s\n  %s\n",
		       json_number_value(json_object_get(champion, "fitness")),
		       (long long)json_integer_value(json_object_get(champion, "generation")),
		       json_string_value(json_object_get(champion, "agent_id")), genome);
	}
	size_t i, j;
	json_t *g, *m;
	json_array_foreach(json_object_get(tr, "generations"), i, g) {
		static const char *const headers[] = {"#", "STATE", "FITNESS", "PARENTS",
						      "SURVIVOR", "AGENT", "GENOME"};
		char best[32];
		format_fitness(json_object_get(g, "best_fitness"), best, sizeof best);
		printf("\ngeneration %lld (best %s):\n",
		       (long long)json_integer_value(json_object_get(g, "generation")), best);
		struct cli_table t;
		cli_table_init(&t, 7, headers);
		json_array_foreach(json_object_get(g, "members"), j, m) {
			char fit[32];
			format_fitness(json_object_get(m, "fitness"), fit, sizeof fit);
			_cleanup_free_ char *index = cli_json_text(json_object_get(m, "index"));
			_cleanup_free_ char *parents = cli_json_text(json_object_get(m, "parents"));
			_cleanup_free_ char *genome = cli_json_text(json_object_get(m, "genome"));
			const char *agent = json_string_value(json_object_get(m, "agent_id"));
			const char *cells[] = {index, json_string_value(json_object_get(m, "state")),
					       fit, parents,
					       json_is_true(json_object_get(m, "survivor")) ? "yes" : "",
					       agent ? agent : "-", genome};
			cli_table_add(&t, cells);
		}
		cli_table_print(&t, stdout);
		cli_table_free(&t);
	}
}

static int cmd_list(int argc, char **argv)
{
	return cli_request_list(argc, argv, "cloud tournament", tournament_usage, "/api/tournaments",
				print_list);
}

static int cmd_show(int argc, char **argv)
{
	return cli_request_one(argc, argv, "cloud tournament", tournament_usage, "GET",
			       "/api/tournaments/", print_one);
}

static int cmd_cancel(int argc, char **argv)
{
	return cli_request_one(argc, argv, "cloud tournament", tournament_usage, "DELETE",
			       "/api/tournaments/", print_one);
}

int cmd_tournament(int argc, char **argv)
{
	static const struct cli_command commands[] = {
		{"start", cmd_start},
		{"list", cmd_list},
		{"show", cmd_show},
		{"cancel", cmd_cancel},
	};
	return cli_dispatch(argc, argv, "cloud tournament", tournament_usage, commands,
			    sizeof commands / sizeof *commands);
}
