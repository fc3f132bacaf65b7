/* What `evoclaw cloud` and `evoclaw agents` print: aligned tables, ages,
 * money, tables of agents, and the two things both do with agents (start
 * one, stop some) with what they print of them. */
#ifndef EVOCLAW_CLI_CLI_OUTPUT_H
#define EVOCLAW_CLI_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/api_client.h"

/* A table printed with aligned columns: cells are copied in; columns
 * whose header starts with '>' (not printed) are right-aligned. */
struct cli_table {
	size_t columns, rows;
	char **cells; /* rows + 1 (the header) times columns */
	bool *right;
};

void cli_table_init(struct cli_table *t, size_t columns, const char *const *headers);
/* Add a row of `columns` cells; a NULL cell prints as "-". */
void cli_table_add(struct cli_table *t, const char *const *cells);
void cli_table_print(const struct cli_table *t, FILE *out);
void cli_table_free(struct cli_table *t);

/* Human text for JSON values: a string as is, null or missing as "-",
 * numbers and the rest compact JSON. Newly allocated. */
char *cli_json_text(const json_t *value);
/* "$0.0123" from a number, "-" when not one. */
void cli_format_money(const json_t *value, char *out, size_t size);
/* Seconds as "45s", "12m", "5h", "3d". */
void cli_format_duration(long long seconds, char *out, size_t size);
/* How long ago an RFC 3339 timestamp was, as cli_format_duration; "-" when
 * it is not one. */
void cli_format_age(const json_t *timestamp, char *out, size_t size);

/* The columns of a table of agents, from the fields of the API's agent
 * objects (docs/api.md). */
enum cli_agent_column {
	CLI_AGENT_END, /* ends a list of columns */
	CLI_AGENT_ID,
	CLI_AGENT_NAME,
	CLI_AGENT_TYPE,
	CLI_AGENT_STATUS,
	CLI_AGENT_PROVIDER, /* where its sandbox runs: local or e2b */
	CLI_AGENT_SANDBOX,
	CLI_AGENT_AGE,	   /* since created_at */
	CLI_AGENT_RUNTIME, /* runtime_sec */
	CLI_AGENT_TOKENS,
	CLI_AGENT_COST,
	CLI_AGENT_TENANT, /* added after NAME by itself when an agent has one */
};

/* agents (a JSON array of agent objects) on stdout, a row each, in the
 * columns listed up to CLI_AGENT_END; a field an agent lacks (or has
 * empty) prints as "-". */
void cli_print_agent_table(const json_t *agents, const enum cli_agent_column *columns);

/* An agent the server just stopped: "ID STATUS (STOP_REASON)" (an
 * api_print_fn; ctx unused). */
void cli_print_stopped_agent(const json_t *agent, void *ctx);

/* POST body to path, which starts an agent, and print the answer: "ID
 * STATUS", only the ID with quiet (id_key names it in the answer), or with
 * json the answer as the server sent it. 0 or an exit status. */
int cli_start_agent(const char *path, const json_t *body, const char *id_key, bool quiet,
		    bool json);

/* evoclaw GROUP argv[0] [--json] ID...: DELETE prefix + ID + suffix for
 * each ID (percent-encoded) and print each answer, as sent with --json,
 * else through print. 0, or the exit status of the last that failed (the
 * others are still tried). */
int cli_delete_agents(int argc, char **argv, const char *group, const char *usage,
		      const char *prefix, const char *suffix, api_print_fn *print);

/* evoclaw GROUP argv[0] [--json] ID: method prefix + ID (percent-encoded),
 * the answer printed as sent with --json, else through print. 0 or an
 * exit status. */
int cli_request_one(int argc, char **argv, const char *group, const char *usage,
		    const char *method, const char *prefix, api_print_fn *print);
/* evoclaw GROUP argv[0] [--json]: GET path, printed likewise. */
int cli_request_list(int argc, char **argv, const char *group, const char *usage,
		     const char *path, api_print_fn *print);

#endif
