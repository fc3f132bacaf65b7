/* evoclaw saas register|usage|keys: tenants of SaaS mode on evoclaw serve
 * (docs/api.md, "SaaS"), over HTTP. register needs the admin key; the
 * others act for the tenant whose key EVOCLAW_API_KEY holds, or, with the
 * admin key, for the tenant --tenant names. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_output.h"
#include "cli/api_client.h"
#include "common/cleanup.h"

static const char saas_usage[] =
	"usage: evoclaw saas <command> [options]\n"
	"\n"
	"Tenants of SaaS mode on the orchestrator (evoclaw serve):\n"
	"  register --email E --max-agents N --credit-limit USD [--json]\n"
	"                    a new tenant (admin key); prints its API key, once\n"
	"  usage [--tenant ID] [--json]\n"
	"                    limits, running agents and spend\n"
	"  keys [--tenant ID] [--json]\n"
	"                    the tenant's API keys (prefixes only)\n"
	"  keys new [--replaces KEY_ID] [--tenant ID] [--json]\n"
	"                    another key (--replaces revokes that one: rotation)\n"
	"  keys revoke KEY_ID [--tenant ID]\n"
	"                    revoke a key now\n"
	"\n"
	"A tenant's own key (EVOCLAW_API_KEY) acts for it; the admin key needs\n"
	"--tenant. Exit status: 0, 1 when the server refused or could not be\n"
	"reached, 2 for a usage error.\n"
	"\n" API_ENVIRONMENT_HELP;

struct saas_options {
	const char *email, *max_agents, *credit_limit, *tenant, *replaces;
	bool json;
	int first_arg; /* argv index of the first operand */
};

/* Options shared by the commands; which are allowed is the caller's to
 * check. 0, -1 after printing help, or CLI_EXIT_USAGE. */
static int parse_options(int argc, char **argv, const char *command, struct saas_options *o)
{
	static const struct option longopts[] = {
		{"email", required_argument, NULL, 'e'},   {"max-agents", required_argument, NULL, 'm'},
		{"credit-limit", required_argument, NULL, 'c'}, {"tenant", required_argument, NULL, 't'},
		{"replaces", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},	    {0},
	};
	memset(o, 0, sizeof *o);
	optind = 1;
	int ch;
	/* Options may follow the operands ("keys new --replaces ID"). */
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'e': o->email = optarg; break;
		case 'm': o->max_agents = optarg; break;
		case 'c': o->credit_limit = optarg; break;
		case 't': o->tenant = optarg; break;
		case 'r': o->replaces = optarg; break;
		case 'j': o->json = true; break;
		case 'h': fputs(saas_usage, stdout); return -1;
		default: return cli_unknown_option("saas", command, argv);
		}
	}
	o->first_arg = optind;
	return 0;
}

/* "?tenant=ID" for the admin, or "". */
static void tenant_query(const struct saas_options *o, char *out, size_t size)
{
	_cleanup_free_ char *id = o->tenant ? api_escape(o->tenant) : NULL;
	snprintf(out, size, "%s%s", id ? "?tenant=" : "", id ? id : "");
}

static void print_registered(const json_t *reply, void *ctx)
{
	(void)ctx;
	printf("tenant:   %s\n", json_string_value(json_object_get(reply, "tenant_id")));
	printf("email:    %s\n", json_string_value(json_object_get(reply, "email")));
	printf("key id:   %s\n", json_string_value(json_object_get(reply, "key_id")));
	printf("api key:  %s\n", json_string_value(json_object_get(reply, "api_key")));
	fputs("(the key is shown this once: the server keeps only a hash of it)\n", stderr);
}

static int cmd_register(int argc, char **argv)
{
	struct saas_options o;
	int code = parse_options(argc, argv, "register", &o);
	if (code)
		return code < 0 ? 0 : code;
	if (!o.email || !o.max_agents || !o.credit_limit || o.first_arg < argc)
		return cli_usage_error(
			"register: give --email, --max-agents and --credit-limit (and nothing else)");
	json_t *body = json_object();
	char *end;
	double usd = strtod(o.credit_limit, &end);
	if (*o.credit_limit == '\0' || *end != '\0' || !(usd > 0)) {
		json_decref(body);
		return cli_usage_error("--credit-limit: a number of dollars above 0, got \"%s\"",
				       o.credit_limit);
	}
	if (cli_set_string(body, "email", "--email", o.email) ||
	    cli_set_integer(body, "max_agents", "--max-agents", o.max_agents, 1, 1000000)) {
		json_decref(body);
		return CLI_EXIT_USAGE;
	}
	json_object_set_new(body, "credit_limit_usd", json_real(usd));
	code = api_request_print("POST", "/api/saas/register", body, o.json, print_registered, NULL);
	json_decref(body);
	return code;
}

static void print_usage(const json_t *u, void *ctx)
{
	(void)ctx;
	char limit[32], spent[32], left[32];
	cli_format_money(json_object_get(u, "credit_limit_usd"), limit, sizeof limit);
	cli_format_money(json_object_get(u, "spent_usd"), spent, sizeof spent);
	cli_format_money(json_object_get(u, "remaining_usd"), left, sizeof left);
	_cleanup_free_ char *running = cli_json_text(json_object_get(u, "running_agents"));
	_cleanup_free_ char *max = cli_json_text(json_object_get(u, "max_agents"));
	printf("tenant:     %s (%s)\n", json_string_value(json_object_get(u, "tenant_id")),
	       json_string_value(json_object_get(u, "email")));
	printf("running:    %s of %s agents\n", running, max);
	printf("spent:      %s of %s\n", spent, limit);
	printf("remaining:  %s\n", left);
}

static int cmd_usage(int argc, char **argv)
{
	struct saas_options o;
	int code = parse_options(argc, argv, "usage", &o);
	if (code)
		return code < 0 ? 0 : code;
	if (o.first_arg < argc || o.email || o.max_agents || o.credit_limit || o.replaces)
		return cli_usage_error("usage: takes only --tenant and --json");
	char path[160];
	char query[96];
	tenant_query(&o, query, sizeof query);
	snprintf(path, sizeof path, "/api/saas/usage%s", query);
	return api_request_print("GET", path, NULL, o.json, print_usage, NULL);
}

static void print_keys(const json_t *reply, void *ctx)
{
	(void)ctx;
	static const char *const headers[] = {"KEY ID", "PREFIX", "CREATED", "STATE"};
	struct cli_table t;
	cli_table_init(&t, 4, headers);
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(reply, "keys"), i, k)
	{
		char age[32];
		cli_format_age(json_object_get(k, "created_at"), age, sizeof age);
		const char *state = !json_is_null(json_object_get(k, "revoked_at")) ? "revoked"
				    : json_is_true(json_object_get(k, "current"))    ? "in use (this one)"
										      : "in use";
		const char *cells[] = {json_string_value(json_object_get(k, "id")),
				       json_string_value(json_object_get(k, "prefix")), age, state};
		cli_table_add(&t, cells);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

static void print_new_key(const json_t *reply, void *ctx)
{
	(void)ctx;
	printf("key id:   %s\n", json_string_value(json_object_get(reply, "key_id")));
	printf("api key:  %s\n", json_string_value(json_object_get(reply, "api_key")));
	fputs("(the key is shown this once)\n", stderr);
}

static void print_revoked(const json_t *reply, void *ctx)
{
	(void)reply;
	printf("%s revoked\n", (const char *)ctx);
}

static int cmd_keys(int argc, char **argv)
{
	struct saas_options o;
	int code = parse_options(argc, argv, "keys", &o);
	if (code)
		return code < 0 ? 0 : code;
	if (o.email || o.max_agents || o.credit_limit)
		return cli_usage_error("keys: takes --tenant, --replaces and --json");
	char query[96], path[256];
	tenant_query(&o, query, sizeof query);
	const char *verb = o.first_arg < argc ? argv[o.first_arg] : NULL;
	if (verb == NULL) {
		if (o.replaces)
			return cli_usage_error("keys: --replaces goes with \"keys new\"");
		snprintf(path, sizeof path, "/api/saas/keys%s", query);
		return api_request_print("GET", path, NULL, o.json, print_keys, NULL);
	}
	if (strcmp(verb, "new") == 0 && o.first_arg + 1 == argc) {
		json_t *body = json_object();
		if (o.replaces && cli_set_string(body, "replaces", "--replaces", o.replaces)) {
			json_decref(body);
			return CLI_EXIT_USAGE;
		}
		snprintf(path, sizeof path, "/api/saas/keys%s", query);
		code = api_request_print("POST", path, body, o.json, print_new_key, NULL);
		json_decref(body);
		return code;
	}
	if (strcmp(verb, "revoke") == 0 && o.first_arg + 2 == argc && !o.replaces) {
		_cleanup_free_ char *id = api_escape(argv[o.first_arg + 1]);
		snprintf(path, sizeof path, "/api/saas/keys/%s%s", id, query);
		return api_request_print("DELETE", path, NULL, o.json, print_revoked,
					 argv[o.first_arg + 1]);
	}
	return cli_usage_error("keys: use \"keys\", \"keys new\" or \"keys revoke KEY_ID\"");
}

int cmd_saas(int argc, char **argv)
{
	static const struct cli_command commands[] = {
		{"register", cmd_register},
		{"usage", cmd_usage},
		{"keys", cmd_keys},
	};
	return cli_dispatch(argc, argv, "saas", saas_usage, commands,
			    sizeof commands / sizeof commands[0]);
}
