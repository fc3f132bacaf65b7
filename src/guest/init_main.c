/* evoclaw-init's command line and process-wide setup.
 *
 *   evoclaw-init [--uid N] [--gid N] [--cwd DIR] [--env K=V]... [--stdin]
 *                [--exit-with-entrypoint] [-- ENTRYPOINT ARGV...]
 *
 * The runtime starts it as PID 1 of a sandbox with the channel on fd 3;
 * tests start it as an ordinary process the same way. */
#include "guest/init.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

/* Exit statuses of init itself, besides the entrypoint's. */
#define EXIT_USAGE 2
#define EXIT_ENTRYPOINT_NOT_FOUND 127
#define EXIT_ENTRYPOINT_FAILED 126

struct init_options {
	struct init_request entrypoint; /* argc == 0: none */
	bool exit_with_entrypoint;
};

static void usage(FILE *f)
{
	fputs("usage: evoclaw-init [--uid N] [--gid N] [--cwd DIR] [--env K=V]... [--stdin]\n"
	      "                    [--exit-with-entrypoint] [-- ENTRYPOINT ARGV...]\n"
	      "PID 1 of an evoclaw sandbox: serves the host's requests on the SEQPACKET\n"
	      "socket inherited as fd 3 (see docs/init-protocol.md) and runs ENTRYPOINT\n"
	      "on stream 1 with the given identity.\n", f);
}

static int parse_id(const char *option, const char *s, uint32_t *out, struct evo_error *err)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v >= UINT32_MAX)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: '%s' is not a numeric id", option, s);
	*out = (uint32_t)v;
	return 0;
}

static void strv_append(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

/* Parse argv into opts; the entrypoint is described as the PROC_START it
 * stands for, and validated the same way. */
static int parse_options(int argc, char **argv, struct init_options *opts, struct evo_error *err)
{
	enum { OPT_UID = 256, OPT_GID, OPT_CWD, OPT_ENV, OPT_STDIN, OPT_EXIT, OPT_HELP };
	static const struct option longopts[] = {
		{ "uid", required_argument, NULL, OPT_UID },
		{ "gid", required_argument, NULL, OPT_GID },
		{ "cwd", required_argument, NULL, OPT_CWD },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "stdin", no_argument, NULL, OPT_STDIN },
		{ "exit-with-entrypoint", no_argument, NULL, OPT_EXIT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 },
	};
	struct init_request *ep = &opts->entrypoint;
	int c;

	memset(opts, 0, sizeof *opts);
	ep->stream = EVO_ENTRYPOINT_STREAM;
	ep->type = EVO_MSG_PROC_START;
	opterr = 0;
	/* "+": stop at the first non-option, so the entrypoint's own options
	 * are never taken for init's. */
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_UID:
			if (parse_id("--uid", optarg, &ep->uid, err) < 0)
				return -1;
			ep->present |= UINT64_C(1) << EVO_F_UID;
			break;
		case OPT_GID:
			if (parse_id("--gid", optarg, &ep->gid, err) < 0)
				return -1;
			ep->present |= UINT64_C(1) << EVO_F_GID;
			break;
		case OPT_CWD:
			if (optarg[0] != '/')
				return evo_error_set(err, EVO_ERR_INVALID, 0,
						     "--cwd: '%s' is not an absolute path", optarg);
			free(ep->cwd);
			ep->cwd = xstrdup(optarg);
			break;
		case OPT_ENV:
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				return evo_error_set(err, EVO_ERR_INVALID, 0,
						     "--env: '%s' is not KEY=VALUE", optarg);
			strv_append(&ep->env, &ep->envc, optarg);
			break;
		case OPT_STDIN:
			ep->stdin_pipe = 1;
			break;
		case OPT_EXIT:
			opts->exit_with_entrypoint = true;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			return evo_error_set(err, EVO_ERR_INVALID, 0, "unknown option '%s'",
					     argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++)
		strv_append(&ep->argv, &ep->argc, argv[i]);
	if (ep->argc > 0 && ep->argv[0][0] == '\0')
		return evo_error_set(err, EVO_ERR_INVALID, 0, "the entrypoint's program name is empty");
	/* --exit-with-entrypoint without one here: it comes as the first
	 * request, a PROC_START on stream 1. */
	return 0;
}

/* Open /dev/null on any of fds 0-2 that is closed, so that no pipe or
 * socket init opens later lands there and is mistaken for stdio. */
static void ensure_stdio(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int null = open("/dev/null", O_RDWR);
		if (null >= 0 && null != fd) {
			dup2(null, fd);
			close(null);
		}
	}
}

static int check_channel(struct evo_error *err)
{
	struct stat st;
	int type;
	socklen_t len = sizeof type;
	if (fstat(EVO_INIT_CHANNEL_FD, &st) < 0 || !S_ISSOCK(st.st_mode))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "fd %d is not a socket: start evoclaw-init with its channel "
				     "(an AF_UNIX SOCK_SEQPACKET socket) on fd %d",
				     EVO_INIT_CHANNEL_FD, EVO_INIT_CHANNEL_FD);
	if (getsockopt(EVO_INIT_CHANNEL_FD, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET)
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "fd %d is not a SOCK_SEQPACKET socket", EVO_INIT_CHANNEL_FD);
	return 0;
}

static void start_entrypoint(struct init_loop *l, struct init_request *ep)
{
	struct evo_error err = {0};
	struct evo_buf out = {0};
	if (init_process_spawn(l, ep, true, &out, &err) < 0) {
		int errnum = init_error_errno(&err);
		fprintf(stderr, "evoclaw-init: entrypoint: %s\n", err.msg);
		evo_frame_error(&out, ep->stream, errnum, err.msg);
		if (l->exit_with_entrypoint)
			init_loop_shutdown(l, errnum == ENOENT ? EXIT_ENTRYPOINT_NOT_FOUND
							      : EXIT_ENTRYPOINT_FAILED);
	}
	init_loop_queue(l, &out);
}

int main(int argc, char **argv)
{
	struct init_options opts;
	struct evo_error err = {0};

	/* Not dumpable: the processes init starts share its memory until they
	 * exec (CLONE_VM), and root in the sandbox must not be able to open
	 * /proc/<pid>/mem of one of them in that window and write into init. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	ensure_stdio();
	init_child_prepare();
	if (parse_options(argc, argv, &opts, &err) < 0) {
		fprintf(stderr, "evoclaw-init: %s\n", err.msg);
		usage(stderr);
		init_request_free(&opts.entrypoint);
		return EXIT_USAGE;
	}
	if (check_channel(&err) < 0) {
		fprintf(stderr, "evoclaw-init: %s\n", err.msg);
		init_request_free(&opts.entrypoint);
		return EXIT_USAGE;
	}
	/* Modes in requests are meant exactly; programs get umask 022. */
	umask(0);
	/* Outside a PID namespace (tests), orphans still come to init to be
	 * reaped, as they would to PID 1. */
	if (getpid() != 1)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

	struct init_loop loop;
	if (init_loop_init(&loop, EVO_INIT_CHANNEL_FD, &err) < 0) {
		fprintf(stderr, "evoclaw-init: %s\n", err.msg);
		init_loop_free(&loop);
		init_request_free(&opts.entrypoint);
		return 1;
	}
	loop.exit_with_entrypoint = opts.exit_with_entrypoint;
	/* Nothing has run in the sandbox yet, so /etc/passwd is as built. */
	init_passwd_preload();
	if (opts.entrypoint.argc > 0)
		start_entrypoint(&loop, &opts.entrypoint);
	init_request_free(&opts.entrypoint);

	int status = init_loop_run(&loop);
	init_loop_free(&loop);
	return status;
}
