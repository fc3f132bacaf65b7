/* The evoclaw command line: one file per command group. Each command
 * returns the process exit status; errors are one line on stderr. */
#ifndef EVOCLAW_CLI_CLI_H
#define EVOCLAW_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/error.h"

/* Exit statuses shared by commands (a sandboxed command's own status is
 * passed through by run and exec). */
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_FAILURE 1
/* Docker's convention: 125 means evoclaw itself failed, so a command's own
 * 1 or 2 stays distinguishable. */
#define CLI_EXIT_RUNTIME 125

/* Print "evoclaw: <message>" and return CLI_EXIT_RUNTIME (or USAGE for
 * invalid input). */
int cli_fail(const struct evo_error *err);
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_sandbox(int argc, char **argv);
/* Talk HTTP to evoclaw serve (cmd_cloud.c, cmd_agents.c). */
int cmd_cloud(int argc, char **argv);
/* evoclaw cloud tournament ... (cmd_tournament.c) */
int cmd_tournament(int argc, char **argv);
/* evoclaw cloud schedule ... (cmd_schedule.c) */
int cmd_schedule(int argc, char **argv);
int cmd_agents(int argc, char **argv);
int cmd_saas(int argc, char **argv);

/* ---- reading command lines (cli_args.c) --------------------------------- */

/* A command of a group: run with argv[0] its name. */
struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
};

/* evoclaw GROUP COMMAND...: run the one of commands that argv[1] names,
 * with argv from there. Without a command, usage goes to stderr
 * (CLI_EXIT_USAGE); for help or --help, to stdout (0). */
int cli_dispatch(int argc, char **argv, const char *group, const char *usage,
		 const struct cli_command *commands, size_t count);

/* The usage error of a getopt_long loop for command of group, naming
 * argv[optind - 1]: CLI_EXIT_USAGE. */
int cli_unknown_option(const char *group, const char *command, char **argv);

/* The IDs of "evoclaw GROUP argv[0] [--json] ID..." (exactly one ID with
 * one_id): the index of the first in argv, with *json; -1 after printing
 * usage for --help; or -CLI_EXIT_USAGE after saying what is wrong (the
 * first line of usage when IDs are missing). */
int cli_parse_ids(int argc, char **argv, const char *group, const char *usage, bool *json,
		  bool one_id);

/* "evoclaw GROUP argv[0] [--json]": 0 with *json; -1 after printing usage
 * for --help; CLI_EXIT_USAGE after saying what is wrong. */
int cli_parse_json_only(int argc, char **argv, const char *group, const char *usage, bool *json);

/* text as an integer from min to max for option opt: 0, or CLI_EXIT_USAGE
 * after saying what is wrong. */
int cli_parse_integer(const char *opt, const char *text, long long min, long long max,
		      long long *out);

/* Add "KEY=VALUE" (option opt) to the object env: 0 or CLI_EXIT_USAGE. */
int cli_env_add(json_t *env, const char *opt, const char *assignment);

/* object[key] = value (the text of option opt): 0, or CLI_EXIT_USAGE if
 * it is not UTF-8, which JSON cannot carry. */
int cli_set_string(json_t *object, const char *key, const char *opt, const char *value);

/* object[key] = text as an integer from min to max (option opt): 0, or
 * CLI_EXIT_USAGE as cli_parse_integer. */
int cli_set_integer(json_t *object, const char *key, const char *opt, const char *text,
		    long long min, long long max);

/* object[key] = argv[0..argc) as an array of strings: 0 or CLI_EXIT_USAGE. */
int cli_set_argv(json_t *object, const char *key, int argc, char *const *argv);

#endif
