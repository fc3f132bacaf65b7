#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <errno.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/paths.h"

static const char usage[] =
	"usage: evoclaw <command> [options]\n"
	"\n"
	"Commands:\n"
	"  agent          the edge agent: a paper trader, monitor or sensor that reports\n"
	"                 to the orchestrator and MQTT (evoclaw agent --help)\n"
	"  serve          the orchestrator's HTTP API (evoclaw serve --help; in progress:\n"
	"                 health and templates so far)\n"
	"  cloud spawn|list|costs|kill\n"
	"                 agents on a running evoclaw serve (evoclaw cloud --help)\n"
	"  agents deploy|list|get|logs|terminate|destroy\n"
	"                 the same agents, BeClever style (evoclaw agents --help)\n"
	"  saas register|usage|keys\n"
	"                 tenants of SaaS mode and their API keys (evoclaw saas --help)\n"
	"  sandbox run|create|exec|ls|kill|attach|stats|templates|pool|gc\n"
	"                 isolated local sandboxes (evoclaw sandbox --help)\n"
	"  help           this text\n"
	"\n"
	"Environment: EVOCLAW_RUN_DIR (sandbox state, default /run/evoclaw),\n"
	"EVOCLAW_TEMPLATES_DIR, EVOCLAW_ROOTFS_DIR, EVOCLAW_INIT; for cloud and\n"
	"agents EVOCLAW_URL (default http://127.0.0.1:8420) and EVOCLAW_API_KEY\n"
	"(default: the first line of $EVOCLAW_DATA_DIR/admin.key, EVOCLAW_DATA_DIR\n"
	"default ./data).\n";

int cli_fail(const struct evo_error *err)
{
	fprintf(stderr, "evoclaw: %s\n", err->msg[0] ? err->msg : "unknown error");
	return err->kind == EVO_ERR_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("evoclaw: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return CLI_EXIT_USAGE;
}

/* Become `program` with the command's arguments (argv[1] is replaced by
 * `name`, what it calls itself); returns only when that failed. */
static int run_program(const char *program, const char *name, char **argv)
{
	argv[1] = (char *)name;
	execv(program, argv + 1);
	fprintf(stderr, "evoclaw: %s: cannot run %s: %s (was it built? run make)\n", name + 8,
		program, strerror(errno));
	return CLI_EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "sandbox") == 0)
		return cmd_sandbox(argc - 1, argv + 1);
	if (strcmp(cmd, "cloud") == 0)
		return cmd_cloud(argc - 1, argv + 1);
	if (strcmp(cmd, "agents") == 0)
		return cmd_agents(argc - 1, argv + 1);
	if (strcmp(cmd, "saas") == 0)
		return cmd_saas(argc - 1, argv + 1);
	/* Programs of their own: the server's libraries would slow every
	 * other command's start (see api/server.h), and the edge agent runs
	 * in sandboxes and on bare metal without the rest of evoclaw. */
	if (strcmp(cmd, "agent") == 0)
		return run_program(evo_paths_get()->agent, "evoclaw agent", argv);
	if (strcmp(cmd, "serve") == 0)
		return run_program(evo_paths_get()->server, "evoclaw serve", argv);
	fprintf(stderr, "evoclaw: unknown command \"%s\" (see evoclaw --help)\n", cmd);
	return CLI_EXIT_USAGE;
}
