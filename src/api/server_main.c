/* evoclaw-server: what `evoclaw serve` runs (see api/server.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/server.h"
#include "common/fileutil.h"
#include "core/config.h"

static const char usage[] =
	"usage: evoclaw serve [--config FILE] [--listen HOST:PORT] [--data DIR]\n"
	"  Serve the evoclaw API (default 127.0.0.1:8420, data in ./data).\n"
	"  --config FILE    evoclaw.json (see docs; default ./evoclaw.json if there\n"
	"                   is one); flags override it\n"
	"  --listen ADDR    address to listen on, e.g. 127.0.0.1:8420 or [::1]:8420\n"
	"  --data DIR       where the database and the admin key live\n"
	"  Environment: EVOCLAW_LISTEN, EVOCLAW_DATA_DIR, E2B_API_KEY, HYPERLIQUID_API_KEY,\n"
	"  HYPERLIQUID_API_SECRET (given to agents, never shown).\n";

static const char *env_lookup(const char *name)
{
	return getenv(name);
}

static int read_config(struct evo_config *cfg, const char *path, struct evo_error *err)
{
	size_t len;
	char *text = read_file_all(path, &len);
	if (text == NULL)
		return evo_error_errno(err, "config %s", path);
	int r = config_parse(cfg, text, len, path, err);
	free(text);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"listen", required_argument, NULL, 'l'},
		{"data", required_argument, NULL, 'd'},   {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL, *listen = NULL, *data = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:l:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'd':
			data = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fprintf(stderr, "evoclaw: serve: unknown or incomplete option (see evoclaw serve --help)\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "evoclaw: serve: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	struct evo_config cfg;
	struct evo_error err = {0};
	config_defaults(&cfg);
	/* Like the seed's layout: an evoclaw.json beside you is the config. */
	if (config_path == NULL && access("evoclaw.json", F_OK) == 0) {
		config_path = "evoclaw.json";
		fprintf(stderr, "evoclaw: using ./evoclaw.json\n");
	}
	if ((config_path && read_config(&cfg, config_path, &err) < 0) ||
	    config_apply_env(&cfg, env_lookup, &err) < 0) {
		fprintf(stderr, "evoclaw: %s\n", err.msg);
		return 2;
	}
	if (listen)
		snprintf(cfg.listen, sizeof cfg.listen, "%s", listen);
	if (data)
		snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
	/* Blocked before any thread starts, so sigwait alone receives them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The database and the key are nobody else's to read. */
	umask(077);
	if (api_serve(&cfg, &err) < 0) {
		fprintf(stderr, "evoclaw: %s\n", err.msg);
		return err.kind == EVO_ERR_INVALID ? 2 : 1;
	}
	return 0;
}
