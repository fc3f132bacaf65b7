/* evoclaw sandbox run|create|exec|ls|kill|attach|stats|templates */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/proto.h"
#include "runtime/local/channel.h"
#include "runtime/local/sandbox.h"
#include "runtime/template.h"

static const char sandbox_usage[] =
	"usage: evoclaw sandbox <command> [options]\n"
	"\n"
	"  run [options] [--] CMD [ARG...]\n"
	"        run CMD in a new sandbox in the foreground; exits with its status\n"
	"  create [options] [--id ID] [--] [CMD...]\n"
	"        start a long-lived sandbox (CMD as its entrypoint, or idle);\n"
	"        prints its id; it lives until killed or its timeout\n"
	"  exec [-i] [--user NAME|UID] [--cwd DIR] [--env K=V]... ID [--] CMD [ARG...]\n"
	"        run CMD in a running sandbox; exits with its status\n"
	"  attach ID     stream the entrypoint's output (replayed, then live)\n"
	"  ls [--json]   list running sandboxes\n"
	"  stats ID [--json]  CPU, memory and process usage\n"
	"  timeout ID SECONDS  reset a sandbox's timeout to SECONDS from now\n"
	"  kill ID...    stop sandboxes; nothing of them remains\n"
	"  templates     list templates and their default resources\n"
	"\n"
	"Options for run and create:\n"
	"  -t, --template NAME  template (default: base)\n"
	"  -m, --memory MB      memory limit (8..262144)\n"
	"  -p, --pids N         process limit (4..1000000)\n"
	"  -c, --cpu N          CPU limit in cores, e.g. 0.5 (0.01..host cores)\n"
	"  -d, --disk MB        size of the writable layer (1..262144)\n"
	"  -T, --timeout S      kill the sandbox after S seconds (create: default 300;\n"
	"                       run: default none; 0 = none for run)\n"
	"  -e, --env K=V        environment for the command (repeatable)\n"
	"  -i, --interactive    run: forward stdin to the command\n";

/* Options shared by run and create, validated into a spec. */
struct sandbox_options {
	const char *template_name;
	long long memory_mb, pids, disk_mb, timeout_s;
	double cpu;
	bool interactive;
	const char *id;
	char **env;
	size_t env_count;
};

static int parse_number(const char *opt, const char *text, long long min, long long max,
			long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end != '\0' || v < min || v > max)
		return cli_usage_error("%s: \"%s\" is not an integer from %lld to %lld", opt, text,
				       min, max);
	*out = v;
	return 0;
}

static void options_free(struct sandbox_options *o)
{
	free(o->env);
}

/* Parse run/create options; returns 0 with *first_arg at the command, or
 * CLI_EXIT_USAGE. */
static int parse_sandbox_options(int argc, char **argv, bool allow_id, struct sandbox_options *o,
				 int *first_arg)
{
	static const struct option longopts[] = {
		{"template", required_argument, NULL, 't'}, {"memory", required_argument, NULL, 'm'},
		{"pids", required_argument, NULL, 'p'},     {"cpu", required_argument, NULL, 'c'},
		{"disk", required_argument, NULL, 'd'},     {"timeout", required_argument, NULL, 'T'},
		{"env", required_argument, NULL, 'e'},      {"interactive", no_argument, NULL, 'i'},
		{"id", required_argument, NULL, 'I'},       {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	o->template_name = "base";
	o->memory_mb = o->pids = o->disk_mb = o->timeout_s = -1;
	o->cpu = -1;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+t:m:p:c:d:T:e:ih", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o->template_name = optarg;
			break;
		case 'm':
			if (parse_number("--memory", optarg, TEMPLATE_MEMORY_MB_MIN,
					 TEMPLATE_MEMORY_MB_MAX, &o->memory_mb))
				return CLI_EXIT_USAGE;
			break;
		case 'p':
			if (parse_number("--pids", optarg, TEMPLATE_PIDS_MIN, TEMPLATE_PIDS_MAX,
					 &o->pids))
				return CLI_EXIT_USAGE;
			break;
		case 'd':
			if (parse_number("--disk", optarg, TEMPLATE_DISK_MB_MIN, TEMPLATE_DISK_MB_MAX,
					 &o->disk_mb))
				return CLI_EXIT_USAGE;
			break;
		case 'T':
			if (parse_number("--timeout", optarg, 0, 31L * 24 * 3600, &o->timeout_s))
				return CLI_EXIT_USAGE;
			break;
		case 'c': {
			char *end;
			errno = 0;
			double v = strtod(optarg, &end);
			long cores = sysconf(_SC_NPROCESSORS_ONLN);
			if (errno || end == optarg || *end != '\0' || !(v >= 0.01) || v > (double)cores)
				return cli_usage_error("--cpu: \"%s\" is not a number of cores from 0.01 to %ld (this host's CPUs)",
						       optarg, cores);
			o->cpu = v;
			break;
		}
		case 'e':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				return cli_usage_error("--env: \"%s\" is not KEY=VALUE", optarg);
			o->env = xrealloc(o->env, (o->env_count + 2) * sizeof *o->env);
			o->env[o->env_count++] = optarg;
			o->env[o->env_count] = NULL;
			break;
		case 'i':
			o->interactive = true;
			break;
		case 'I':
			if (!allow_id)
				return cli_usage_error("--id is only valid for create");
			if (!sandbox_id_valid(optarg))
				return cli_usage_error("--id: \"%s\" must be [a-z0-9][a-z0-9-]* (up to 63)", optarg);
			o->id = optarg;
			break;
		case 'h':
			fputs(sandbox_usage, stdout);
			exit(0);
		default:
			if (optopt)
				return cli_usage_error("unknown or incomplete option -%c (see evoclaw sandbox --help)", optopt);
			return cli_usage_error("unknown option %s (see evoclaw sandbox --help)", argv[optind - 1]);
		}
	}
	*first_arg = optind;
	return 0;
}

/* Template + overrides -> effective resources. */
static int load_template(const struct sandbox_options *o, struct template *t,
			 struct template_resources *res)
{
	struct evo_error err = {0};
	if (template_load(o->template_name, t, &err) < 0)
		return cli_fail(&err);
	*res = t->resources;
	if (o->memory_mb > 0)
		res->memory_mb = (uint32_t)o->memory_mb;
	if (o->pids > 0)
		res->pids = (uint32_t)o->pids;
	if (o->disk_mb > 0)
		res->disk_mb = (uint32_t)o->disk_mb;
	if (o->cpu > 0)
		res->cpu_millis = (uint32_t)(o->cpu * 1000 + 0.5);
	return 0;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* reader went away: drop output, keep running */
		}
		p += w;
		n -= (size_t)w;
	}
}

/* What a relayed process ended with. */
struct exit_status {
	bool exited;
	int32_t code;
	int32_t signal;
	bool start_failed;
	char message[EVO_ERROR_MSG_MAX];
};

/* Handle one frame of a relayed process stream: output to our stdout and
 * stderr, exit status recorded. Returns 1 when the stream has ended. */
static int relay_frame(const struct evo_frame *f, struct exit_status *st)
{
	struct evo_field_iter it;
	struct evo_field field;
	evo_field_iter_init(&it, f->payload, f->payload_len);
	switch (f->type) {
	case EVO_MSG_PROC_STDOUT:
	case EVO_MSG_PROC_STDERR:
		while (evo_field_next(&it, &field, NULL) == 1)
			if (field.tag == EVO_F_DATA)
				write_all(f->type == EVO_MSG_PROC_STDOUT ? 1 : 2, field.value, field.len);
		return 0;
	case EVO_MSG_PROC_EXIT:
		st->exited = true;
		while (evo_field_next(&it, &field, NULL) == 1) {
			if (field.tag == EVO_F_EXIT_CODE)
				evo_field_i32(&field, &st->code, NULL);
			else if (field.tag == EVO_F_SIGNAL)
				evo_field_i32(&field, &st->signal, NULL);
		}
		return 1;
	case EVO_MSG_ERROR: {
		struct evo_error err = {0};
		channel_error_from_frame(f, &err);
		st->start_failed = true;
		snprintf(st->message, sizeof st->message, "%s", err.msg);
		return 1;
	}
	default:
		return 0;
	}
}

static int exit_code_of(const struct exit_status *st)
{
	if (st->start_failed)
		return 127;
	if (!st->exited)
		return CLI_EXIT_RUNTIME;
	return st->signal ? 128 + st->signal : st->code;
}

/* Forward our stdin as PROC_STDIN frames on stream; returns false at EOF. */
static bool forward_stdin(int channel, uint32_t stream)
{
	uint8_t buf[EVO_PROTO_CHUNK];
	ssize_t n = read(0, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	struct evo_buf out = {0};
	size_t mark;
	if (n <= 0) {
		mark = evo_frame_begin(&out, stream, EVO_MSG_PROC_CLOSE_STDIN, 0);
		evo_frame_end(&out, mark);
	} else {
		mark = evo_frame_begin(&out, stream, EVO_MSG_PROC_STDIN, 0);
		evo_frame_add(&out, EVO_F_DATA, buf, (uint32_t)n);
		evo_frame_end(&out, mark);
	}
	channel_send_all(channel, &out, NULL);
	evo_buf_free(&out);
	return n > 0;
}

static void send_signal(int channel, uint32_t stream, int sig)
{
	struct evo_buf out = {0};
	size_t mark = evo_frame_begin(&out, stream, EVO_MSG_PROC_SIGNAL, 0);
	evo_frame_add_i32(&out, EVO_F_SIGNAL, sig);
	evo_frame_end(&out, mark);
	channel_send_all(channel, &out, NULL);
	evo_buf_free(&out);
}

/* Relay one process stream between a channel and our stdio until it ends.
 * Signals we receive (INT, TERM, HUP, QUIT) are passed to the process.
 * timeout_s > 0 stops waiting after that long (sets *timed_out). */
static int relay_process(int channel, uint32_t stream, bool interactive, long long timeout_s,
			 struct exit_status *st, bool *timed_out)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	_cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	_cleanup_close_ int tfd = -1;
	if (timeout_s > 0) {
		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		struct itimerspec its = {.it_value = {.tv_sec = timeout_s}};
		timerfd_settime(tfd, 0, &its, NULL);
	}
	_cleanup_free_ uint8_t *buf = xmalloc(EVO_PROTO_MAX_FRAME);
	bool stdin_open = interactive;
	*timed_out = false;
	for (;;) {
		struct pollfd fds[4] = {
			{.fd = channel, .events = POLLIN},
			{.fd = sfd, .events = POLLIN},
			{.fd = tfd, .events = POLLIN},
			{.fd = stdin_open ? 0 : -1, .events = POLLIN},
		};
		if (poll(fds, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (fds[0].revents) {
			struct evo_frame f;
			struct evo_error err = {0};
			int r = channel_recv(channel, buf, &f, 0, &err);
			if (r <= 0)
				return r; /* the sandbox is gone */
			if (f.stream == stream && relay_frame(&f, st))
				return 1;
		}
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == sizeof si)
				send_signal(channel, stream, (int)si.ssi_signo);
		}
		if (fds[2].revents & POLLIN) {
			*timed_out = true;
			return 0;
		}
		if (fds[3].revents)
			stdin_open = forward_stdin(channel, stream);
	}
}

static int cmd_run(int argc, char **argv)
{
	struct sandbox_options o;
	int first = 0;
	int r = parse_sandbox_options(argc, argv, false, &o, &first);
	if (r)
		return r;
	if (first >= argc) {
		options_free(&o);
		return cli_usage_error("run: no command given (usage: evoclaw sandbox run [options] -- CMD [ARG...])");
	}
	struct template t;
	struct sandbox_spec spec = {0};
	if ((r = load_template(&o, &t, &spec.resources)) != 0) {
		options_free(&o);
		return r;
	}
	spec.tmpl = &t;
	spec.entry_argv = argv + first;
	spec.entry_env = o.env;
	spec.entry_stdin = o.interactive;
	spec.exit_with_entrypoint = true;
	struct sandbox sb;
	struct evo_error err = {0};
	if (sandbox_spawn(&spec, &sb, &err) < 0) {
		template_free(&t);
		options_free(&o);
		return cli_fail(&err);
	}
	struct exit_status st = {0};
	bool timed_out = false;
	relay_process(sb.channel, EVO_ENTRYPOINT_STREAM, o.interactive,
		      o.timeout_s > 0 ? o.timeout_s : 0, &st, &timed_out);
	struct cgroup_stats stats = {0};
	cgroup_read_stats(&sb.cgroup, &stats, NULL);
	int code = exit_code_of(&st);
	if (timed_out) {
		fprintf(stderr, "evoclaw: sandbox %s: timed out after %lld s, killed\n", sb.id,
			o.timeout_s);
		code = 124;
	} else if (st.start_failed) {
		fprintf(stderr, "evoclaw: %s\n", st.message);
	} else if (st.exited && st.signal == SIGKILL && stats.oom_kills > 0) {
		fprintf(stderr, "evoclaw: sandbox %s: command killed: out of memory (limit %u MiB)\n",
			sb.id, spec.resources.memory_mb);
	}
	if (sandbox_destroy(&sb, &err) < 0) {
		fprintf(stderr, "evoclaw: sandbox %s: cleanup: %s\n", sb.id, err.msg);
		if (code == 0)
			code = CLI_EXIT_RUNTIME;
	}
	template_free(&t);
	options_free(&o);
	return code;
}

static int cmd_templates(int argc, char **argv)
{
	char **names = template_list();
	printf("%-10s %5s %8s %8s %6s  %s\n", "NAME", "VCPU", "MEMORY", "DISK", "PIDS", "DESCRIPTION");
	int code = 0;
	for (char **n = names; *n; n++) {
		struct template t;
		struct evo_error err = {0};
		if (template_load(*n, &t, &err) < 0) {
			fprintf(stderr, "evoclaw: %s\n", err.msg);
			code = CLI_EXIT_RUNTIME;
			continue;
		}
		printf("%-10s %5.2g %6uMB %6uMB %6u  %s\n", t.name, t.resources.cpu_millis / 1000.0,
		       t.resources.memory_mb, t.resources.disk_mb, t.resources.pids,
		       t.description ? t.description : "");
		template_free(&t);
	}
	template_names_free(names);
	return code;
}

int cmd_sandbox(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(sandbox_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : 0;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(sub, "templates") == 0)
		return cmd_templates(argc - 1, argv + 1);
	return cli_usage_error("sandbox: unknown command \"%s\" (see evoclaw sandbox --help)", sub);
}
