/* The evoclaw command line: one file per command group. Each command
 * returns the process exit status; errors are one line on stderr. */
#ifndef EVOCLAW_CLI_CLI_H
#define EVOCLAW_CLI_CLI_H

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
int cmd_agents(int argc, char **argv);

#endif
