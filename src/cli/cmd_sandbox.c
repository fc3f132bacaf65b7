/* evoclaw sandbox run|create|exec|ls|inspect|kill|attach|stats|timeout|pause|resume|templates */
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
#include "runtime/local/netpool.h"
#include "runtime/local/sandbox.h"
#include "runtime/local/spawn_trace.h"
#include "runtime/local/supervisor.h"
#include "runtime/local/warmpool.h"
#include "runtime/template.h"

static const char sandbox_usage[] =
	"usage: evoclaw sandbox <command> [options]\n"
	"\n"
	"  run [options] [--] CMD [ARG...]\n"
	"        run CMD in a new sandbox in the foreground; exits with its status\n"
	"  create [options] [--id ID] [--owner TAG] [--idle] [--] [CMD...]\n"
	"        start a long-lived sandbox with CMD (else the template's\n"
	"        entrypoint, if it has one) as its entrypoint, or idle (--idle:\n"
	"        always); prints its id; it lives until killed or its timeout;\n"
	"        --owner tags it as an orchestrator's (evoclaw serve uses this)\n"
	"  exec [-i] [--user NAME|UID] [--cwd DIR] [--env K=V]... ID [--] CMD [ARG...]\n"
	"        run CMD in a running sandbox; exits with its status\n"
	"  attach ID     stream the entrypoint's output (replayed, then live)\n"
	"  ls [--json]   list running sandboxes\n"
	"  inspect ID    what a sandbox is and its state, as JSON\n"
	"  stats ID [--json]  CPU, memory and process usage\n"
	"  timeout ID SECONDS  reset a sandbox's timeout to SECONDS from now\n"
	"                (of a paused one: from its resume)\n"
	"  pause ID      freeze every process of a sandbox; its timeout stops\n"
	"                running and its processes and files cannot be reached\n"
	"  resume ID [--timeout S]\n"
	"                let a paused sandbox run again, with the time it had left\n"
	"                (or S seconds from now)\n"
	"  kill ID...    stop sandboxes; nothing of them remains\n"
	"  gc            remove what crashed supervisors left behind\n"
	"  pool [fill [N] | warm TEMPLATE [N] | drain]\n"
	"                pools that make sandboxes start faster: ready network\n"
	"                namespaces (fill), and warm sandboxes per template that run\n"
	"                uses once each (warm); drain removes both\n"
	"                (EVOCLAW_NETNS_POOL=0, EVOCLAW_WARM_POOL=0: off)\n"
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
	bool idle; /* create: no entrypoint, whatever the template says */
	const char *id;
	const char *owner;
	char **env;
	size_t env_count;
};

static int parse_number(const char *opt, const char *text, long long min, long long max,
			long long *out)
{
	return cli_parse_integer(opt, text, min, max, out);
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
		{"owner", required_argument, NULL, 'O'},     {"idle", no_argument, NULL, 'L'},
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
		case 'L':
			if (!allow_id)
				return cli_usage_error("--idle is only valid for create");
			o->idle = true;
			break;
		case 'O':
			if (!allow_id)
				return cli_usage_error("--owner is only valid for create");
			if (strlen(optarg) >= sizeof ((struct sandbox_state *)0)->owner)
				return cli_usage_error("--owner: at most %zu characters",
						       sizeof ((struct sandbox_state *)0)->owner - 1);
			o->owner = optarg;
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

/* Template + overrides -> effective resources; errors in err. */
static int resolve_template(const struct sandbox_options *o, struct template *t,
			    struct template_resources *res, struct evo_error *err)
{
	if (template_load(o->template_name, t, err) < 0)
		return -1;
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

/* The same, reporting a failure: returns 0 or the exit status. */
static int load_template(const struct sandbox_options *o, struct template *t,
			 struct template_resources *res)
{
	struct evo_error err = {0};
	if (resolve_template(o, t, res, &err) < 0)
		return cli_fail(&err);
	return 0;
}

/* Parse run/create options and load the template with overrides into
 * spec. Returns 0, or the exit status to return (options freed). */
static int prepare_spec(int argc, char **argv, bool is_create, struct sandbox_options *o,
			struct template *t, struct sandbox_spec *spec, int *first)
{
	int r = parse_sandbox_options(argc, argv, is_create, o, first);
	if (r)
		return r;
	memset(spec, 0, sizeof *spec);
	if ((r = load_template(o, t, &spec->resources)) != 0) {
		options_free(o);
		return r;
	}
	spec->tmpl = t;
	spec->entry_env = o->env;
	return 0;
}

/* One receive buffer for the whole command: a record can be 128 KiB, just
 * over malloc's mmap threshold, and a fresh mapping per use costs page
 * faults that are dear on this kind of host. */
static uint8_t *receive_buffer(void)
{
	static uint8_t buf[EVO_PROTO_MAX_FRAME];
	return buf;
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
	bool oom; /* the supervisor saw the memory limit kill it */
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
			else if (field.tag == EVO_F_OOM)
				st->oom = true;
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
	uint8_t *buf = receive_buffer();
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

/* Resources asked for on the command line; 0 keeps the template's. */
static struct template_resources requested_overrides(const struct sandbox_options *o)
{
	return (struct template_resources){
		.cpu_millis = o->cpu > 0 ? (uint32_t)(o->cpu * 1000 + 0.5) : 0,
		.memory_mb = o->memory_mb > 0 ? (uint32_t)o->memory_mb : 0,
		.disk_mb = o->disk_mb > 0 ? (uint32_t)o->disk_mb : 0,
		.pids = o->pids > 0 ? (uint32_t)o->pids : 0,
	};
}

/* Did the supervisor pass the first request on to init itself (an OK to a
 * claim that carried one names its stream)? A supervisor from before
 * claims could carry one ignores it. */
static bool claim_forwarded(const struct evo_frame *ok, uint32_t stream)
{
	struct evo_field field;
	uint32_t forwarded = 0;
	if (evo_frame_field(ok, EVO_F_STREAM, &field))
		evo_field_u32(&field, &forwarded, NULL);
	return forwarded == stream;
}

/* Run the command in a warm sandbox (see warmpool.h): take one, claim it
 * (taking over init's channel), relay until the command exits. The
 * request that starts the command rides on the claim, and the supervisor
 * hands it to init before it answers, so the command is starting while
 * the answer comes back. The sandbox ends when we disconnect.
 * Returns false when no warm sandbox could be had (build one). Otherwise
 * *failure is 0, or the exit status after reporting a claim whose outcome
 * is unknown: its command may have started, so it must not run again in
 * a sandbox built instead. */
static bool run_warm(const struct sandbox_options *o, char *const *cmd, const struct template *t,
		     struct exit_status *st, bool *timed_out, char *id, int *failure)
{
	spawn_trace_begin();
	*failure = 0;
	char key[WARMPOOL_KEY_MAX];
	struct template_resources overrides = requested_overrides(o);
	warmpool_key(o->template_name, &overrides, key);
	if (warmpool_take(key, id) < 0)
		return false;
	spawn_trace_mark("warm: taken");
	char sock[4096];
	supervisor_socket_path(id, sock, sizeof sock);
	_cleanup_close_ int control = channel_connect(sock, NULL);
	if (control < 0)
		return false;
	struct evo_buf entry = {0}, req = {0};
	/* Cannot fail after command_fits(); if it did, the claim still goes
	 * out, without the request, and we leave: the sandbox we took ends. */
	bool have_entry = sandbox_entry_request(&entry, EVO_ENTRYPOINT_STREAM, t, cmd, o->env, id,
						o->interactive, NULL) == 0;
	size_t m = evo_frame_begin(&req, 1, EVO_MSG_SUP_CLAIM, EVO_FLAG_CLAIM_HANDOFF);
	/* The largest commands do not fit in a claim; they follow the OK. */
	if (have_entry && entry.len + EVO_PROTO_FIELD_HEADER_LEN <= EVO_PROTO_MAX_PAYLOAD)
		evo_frame_add(&req, EVO_F_DATA, entry.data, (uint32_t)entry.len);
	evo_frame_end(&req, m);
	int r = channel_send_all(control, &req, NULL);
	evo_buf_free(&req);
	if (r < 0 || !have_entry) {
		evo_buf_free(&entry);
		return false; /* nothing was started: build one */
	}
	uint8_t *buf = receive_buffer();
	struct evo_frame f;
	_cleanup_close_ int init = -1;
	struct evo_error err = {0};
	r = channel_recv_fd(control, buf, &f, &init, 10000, &err);
	/* An error answer, or a supervisor gone before answering, started
	 * nothing (the supervisor forwards only what it answers OK, and init
	 * dies with it): claimed by someone else, or gone: build one. */
	if (r == 0 || (r == 1 && f.type == EVO_MSG_ERROR)) {
		evo_buf_free(&entry);
		return false;
	}
	if (r < 0 || f.type != EVO_MSG_OK || init < 0) {
		evo_buf_free(&entry);
		if (r == 1)
			evo_error_set(&err, EVO_ERR_INTERNAL, 0,
				      "the answer did not carry the channel to init");
		evo_error_prefix(&err, "claim warm sandbox %s", id);
		*failure = cli_fail(&err);
		return true;
	}
	spawn_trace_mark("warm: claimed");
	r = claim_forwarded(&f, EVO_ENTRYPOINT_STREAM) ? 0 : channel_send_all(init, &entry, NULL);
	evo_buf_free(&entry);
	if (r == 0)
		relay_process(init, EVO_ENTRYPOINT_STREAM, o->interactive,
			      o->timeout_s > 0 ? o->timeout_s : 0, st, timed_out);
	spawn_trace_mark("warm: command exited");
	/* The sandbox was fresh: any OOM kill in its cgroup was this command. */
	struct sandbox_state state;
	struct cgroup_stats stats;
	if (st->exited && st->signal == SIGKILL && supervisor_info(id, &state, NULL) == 0 &&
	    cgroup_read_stats(&state.cgroup, &stats, NULL) == 0)
		st->oom = stats.oom_kills > 0;
	spawn_trace_report();
	return true;
}

/* Build a fresh sandbox for the command and relay until it exits. */
static int run_cold(const struct sandbox_options *o, const struct template *t,
		    const struct template_resources *resources, char **cmd, struct exit_status *st,
		    bool *timed_out, char *id)
{
	struct sandbox_spec spec = {.tmpl = t, .entry_env = o->env, .resources = *resources};
	spec.entry_argv = cmd;
	spec.entry_stdin = o->interactive;
	spec.exit_with_entrypoint = true;
	struct sandbox sb;
	struct evo_error err = {0};
	if (sandbox_spawn(&spec, &sb, &err) < 0)
		return cli_fail(&err);
	snprintf(id, SANDBOX_ID_MAX, "%s", sb.id);
	/* The next runs of this kind find a warm sandbox; the refill forks
	 * while our command starts on the other side. */
	if (warmpool_enabled()) {
		char key[WARMPOOL_KEY_MAX];
		struct template_resources overrides = requested_overrides(o);
		warmpool_key(o->template_name, &overrides, key);
		warmpool_refill_async(key);
	}
	relay_process(sb.channel, EVO_ENTRYPOINT_STREAM, o->interactive,
		      o->timeout_s > 0 ? o->timeout_s : 0, st, timed_out);
	spawn_trace_mark("run: command exited");
	struct cgroup_stats stats = {0};
	cgroup_read_stats(&sb.cgroup, &stats, NULL);
	st->oom = st->oom || (st->exited && st->signal == SIGKILL && stats.oom_kills > 0);
	int code = 0;
	if (sandbox_destroy(&sb, &err) < 0) {
		fprintf(stderr, "evoclaw: sandbox %s: cleanup: %s\n", sb.id, err.msg);
		code = CLI_EXIT_RUNTIME;
	}
	spawn_trace_report();
	return code;
}

/* A command and its environment must fit in one protocol request; say so
 * here rather than fail half-way. Leaves room for the template's own. */
static bool command_fits(char *const *argv, char *const *env)
{
	size_t total = 0;
	for (char *const *a = argv; a && *a; a++)
		total += strlen(*a) + EVO_PROTO_FIELD_HEADER_LEN;
	for (char *const *e = env; e && *e; e++)
		total += strlen(*e) + EVO_PROTO_FIELD_HEADER_LEN;
	return total <= EVO_PROTO_MAX_PAYLOAD - 16 * 1024;
}

static int command_too_long(void)
{
	return cli_usage_error("command and environment are too long: at most %u KiB in all",
			       (EVO_PROTO_MAX_PAYLOAD - 16 * 1024) / 1024);
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
	if (!command_fits(argv + first, o.env)) {
		options_free(&o);
		return command_too_long();
	}
	/* Read before a warm sandbox is taken: once taken, only our claim
	 * (or its idle timeout) ends it. */
	struct template t;
	struct template_resources resources;
	if ((r = load_template(&o, &t, &resources)) != 0) {
		options_free(&o);
		return r;
	}
	uint32_t memory_mb = resources.memory_mb;
	struct exit_status st = {0};
	bool timed_out = false;
	char id[SANDBOX_ID_MAX] = "";
	int failure = 0;
	if (!run_warm(&o, argv + first, &t, &st, &timed_out, id, &failure))
		failure = run_cold(&o, &t, &resources, argv + first, &st, &timed_out, id);
	int code = failure ? failure : exit_code_of(&st);
	if (failure) {
		/* already reported */
	} else if (timed_out) {
		fprintf(stderr, "evoclaw: sandbox %s: timed out after %lld s, killed\n", id,
			o.timeout_s);
		code = 124;
	} else if (st.start_failed) {
		fprintf(stderr, "evoclaw: %s\n", st.message);
	} else if (st.oom) {
		fprintf(stderr, "evoclaw: sandbox %s: command killed: out of memory (limit %u MiB)\n",
			id, memory_mb);
	} else if (!st.exited) {
		fprintf(stderr, "evoclaw: sandbox %s ended before its command did\n", id);
	}
	template_free(&t);
	options_free(&o);
	return code;
}

static int cmd_create(int argc, char **argv)
{
	struct sandbox_options o;
	int first = 0;
	struct template t;
	struct sandbox_spec spec;
	int r = prepare_spec(argc, argv, true, &o, &t, &spec, &first);
	if (r)
		return r;
	if (o.interactive) {
		template_free(&t);
		options_free(&o);
		return cli_usage_error("create: --interactive applies to run and exec only");
	}
	if (o.id)
		snprintf(spec.id, sizeof spec.id, "%s", o.id);
	spec.owner = o.owner;
	if (o.idle && first < argc) {
		template_free(&t);
		options_free(&o);
		return cli_usage_error("create: --idle and a command contradict each other");
	}
	spec.entry_argv = first < argc ? argv + first : o.idle ? NULL : t.entrypoint;
	long long timeout_s = o.timeout_s >= 0 ? o.timeout_s : 300;
	if (timeout_s == 0) {
		template_free(&t);
		options_free(&o);
		return cli_usage_error("create: --timeout must be at least 1 second (every sandbox dies at its timeout)");
	}
	char id[SANDBOX_ID_MAX];
	struct evo_error err = {0};
	r = supervisor_start(&spec, (uint64_t)timeout_s * 1000, NULL, id, &err);
	template_free(&t);
	options_free(&o);
	if (r < 0)
		return cli_fail(&err);
	printf("%s\n", id);
	return 0;
}

/* Connect to a running sandbox's supervisor, with a clear error. */
static int connect_sandbox(const char *id, struct evo_error *err)
{
	if (!sandbox_id_valid(id))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "invalid sandbox id \"%.64s\"", id);
	struct sandbox_state info;
	if (supervisor_info(id, &info, err) < 0)
		return -1;
	char sock[4096];
	supervisor_socket_path(id, sock, sizeof sock);
	int fd = channel_connect(sock, err);
	if (fd < 0)
		return evo_error_prefix(err, "sandbox %s", id);
	return fd;
}

/* Resolve --user: a name from the template's conventions or a number. */
static int parse_user(const char *text, uint32_t *uid)
{
	if (strcmp(text, "root") == 0) {
		*uid = 0;
		return 0;
	}
	if (strcmp(text, "user") == 0) {
		*uid = 1000;
		return 0;
	}
	long long v;
	if (parse_number("--user", text, 0, 65535, &v))
		return -1;
	*uid = (uint32_t)v;
	return 0;
}

/* Relay a process on stream 1 of an open connection until it ends, close
 * the connection, and turn the outcome into an exit status (a start
 * failure is start_status). */
static int relay_and_report(int fd, bool interactive, const char *id, const char *what,
			    int start_status)
{
	struct exit_status st = {0};
	bool timed_out;
	relay_process(fd, 1, interactive, 0, &st, &timed_out);
	close(fd);
	if (st.start_failed) {
		fprintf(stderr, "evoclaw: %s\n", st.message);
		return start_status;
	}
	if (!st.exited) {
		fprintf(stderr, "evoclaw: sandbox %s ended before %s did\n", id, what);
		return CLI_EXIT_RUNTIME;
	}
	return exit_code_of(&st);
}

static int cmd_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"interactive", no_argument, NULL, 'i'}, {"user", required_argument, NULL, 'u'},
		{"cwd", required_argument, NULL, 'w'},   {"env", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	bool interactive = false;
	uint32_t uid = 1000;
	const char *cwd = NULL;
	struct evo_buf req = {0};
	size_t mark = evo_frame_begin(&req, 1, EVO_MSG_PROC_START, 0);
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+iu:w:e:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			interactive = true;
			break;
		case 'u':
			if (parse_user(optarg, &uid) < 0) {
				evo_buf_free(&req);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'w':
			if (optarg[0] != '/') {
				evo_buf_free(&req);
				return cli_usage_error("--cwd: \"%s\" must be an absolute path", optarg);
			}
			cwd = optarg;
			break;
		case 'e':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
				evo_buf_free(&req);
				return cli_usage_error("--env: \"%s\" is not KEY=VALUE", optarg);
			}
			evo_frame_add_str(&req, EVO_F_ENV, optarg);
			break;
		case 'h':
			fputs(sandbox_usage, stdout);
			evo_buf_free(&req);
			return 0;
		default:
			evo_buf_free(&req);
			return cli_usage_error("exec: unknown or incomplete option (see evoclaw sandbox --help)");
		}
	}
	if (optind >= argc) {
		evo_buf_free(&req);
		return cli_usage_error("exec: no sandbox id given");
	}
	const char *id = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind >= argc) {
		evo_buf_free(&req);
		return cli_usage_error("exec: no command given (usage: evoclaw sandbox exec ID -- CMD [ARG...])");
	}
	if (!command_fits(argv + optind, NULL) || req.len > EVO_PROTO_MAX_PAYLOAD / 2) {
		evo_buf_free(&req);
		return command_too_long();
	}
	for (int i = optind; i < argc; i++)
		evo_frame_add_str(&req, EVO_F_ARGV, argv[i]);
	evo_frame_add_u32(&req, EVO_F_UID, uid);
	evo_frame_add_u32(&req, EVO_F_GID, uid);
	if (cwd)
		evo_frame_add_str(&req, EVO_F_CWD, cwd);
	evo_frame_add_u8(&req, EVO_F_STDIN, interactive ? 1 : 0);
	evo_frame_end(&req, mark);

	struct evo_error err = {0};
	int fd = connect_sandbox(id, &err);
	if (fd < 0) {
		evo_buf_free(&req);
		return cli_fail(&err);
	}
	int r = channel_send_all(fd, &req, &err);
	evo_buf_free(&req);
	if (r < 0) {
		close(fd);
		return cli_fail(&err);
	}
	return relay_and_report(fd, interactive, id, "the command", 127);
}

static int cmd_attach(int argc, char **argv)
{
	if (argc != 2)
		return cli_usage_error("usage: evoclaw sandbox attach ID");
	struct evo_error err = {0};
	int fd = connect_sandbox(argv[1], &err);
	if (fd < 0)
		return cli_fail(&err);
	struct evo_buf req = {0};
	size_t m = evo_frame_begin(&req, 1, EVO_MSG_SUP_ATTACH, 0);
	evo_frame_end(&req, m);
	int r = channel_send_all(fd, &req, &err);
	evo_buf_free(&req);
	if (r < 0) {
		close(fd);
		return cli_fail(&err);
	}
	return relay_and_report(fd, false, argv[1], "its entrypoint", CLI_EXIT_RUNTIME);
}

/* Send one supervisor request and wait for its OK (fields in *reply,
 * pointing into buf) or ERROR. */
static int supervisor_request(const char *id, uint8_t type, const struct evo_buf *fields,
			      uint8_t *buf, struct evo_frame *reply, int *fd_out,
			      struct evo_error *err)
{
	int fd = connect_sandbox(id, err);
	if (fd < 0)
		return -1;
	struct evo_buf req = {0};
	size_t m = evo_frame_begin(&req, 1, type, 0);
	if (fields)
		evo_buf_append(&req, fields->data, fields->len);
	evo_frame_end(&req, m);
	int r = channel_send_all(fd, &req, err);
	evo_buf_free(&req);
	while (r == 0) {
		r = channel_recv(fd, buf, reply, 10000, err);
		if (r == 0)
			r = evo_error_set(err, EVO_ERR_NOT_FOUND, 0, "sandbox %s ended", id);
		else if (r > 0 && reply->stream == 1)
			r = reply->type == EVO_MSG_OK ? 1 : channel_error_from_frame(reply, err);
		else if (r > 0)
			r = 0;
	}
	if (r < 0) {
		close(fd);
		return -1;
	}
	*fd_out = fd;
	return 0;
}

static uint64_t reply_u64(const struct evo_frame *f, uint16_t tag)
{
	struct evo_field field;
	uint64_t v = 0;
	if (evo_frame_field(f, tag, &field))
		evo_field_u64(&field, &v, NULL);
	return v;
}

static int cmd_stats(int argc, char **argv)
{
	bool json = argc == 3 && strcmp(argv[2], "--json") == 0;
	if (argc != 2 && !json)
		return cli_usage_error("usage: evoclaw sandbox stats ID [--json]");
	uint8_t *buf = receive_buffer();
	struct evo_frame f;
	struct evo_error err = {0};
	int fd;
	if (supervisor_request(argv[1], EVO_MSG_SUP_STATS, NULL, buf, &f, &fd, &err) < 0)
		return cli_fail(&err);
	uint64_t cpu = reply_u64(&f, EVO_F_CPU_USEC), mem = reply_u64(&f, EVO_F_MEM_BYTES),
		 peak = reply_u64(&f, EVO_F_MEM_PEAK), limit = reply_u64(&f, EVO_F_MEM_LIMIT),
		 pids = reply_u64(&f, EVO_F_PIDS), ooms = reply_u64(&f, EVO_F_OOM_KILLS);
	close(fd);
	if (json)
		printf("{\"id\":\"%s\",\"cpu_usec\":%" PRIu64 ",\"memory_bytes\":%" PRIu64
		       ",\"memory_peak_bytes\":%" PRIu64 ",\"memory_limit_bytes\":%" PRIu64
		       ",\"pids\":%" PRIu64 ",\"oom_kills\":%" PRIu64 "}\n",
		       argv[1], cpu, mem, peak, limit, pids, ooms);
	else
		printf("cpu %.3f s  memory %.1f MiB (peak %.1f, limit %.0f MiB)  processes %" PRIu64
		       "  oom kills %" PRIu64 "\n",
		       cpu / 1e6, mem / 1048576.0, peak / 1048576.0, limit / 1048576.0, pids, ooms);
	return 0;
}

static int cmd_timeout(int argc, char **argv)
{
	long long seconds;
	if (argc != 3)
		return cli_usage_error("usage: evoclaw sandbox timeout ID SECONDS");
	if (parse_number("SECONDS", argv[2], 1, 31L * 24 * 3600, &seconds))
		return CLI_EXIT_USAGE;
	struct evo_buf fields = {0};
	evo_frame_add_u64(&fields, EVO_F_TIMEOUT_MS, (uint64_t)seconds * 1000);
	uint8_t *buf = receive_buffer();
	struct evo_frame f;
	struct evo_error err = {0};
	int fd;
	int r = supervisor_request(argv[1], EVO_MSG_SUP_SET_TIMEOUT, &fields, buf, &f, &fd, &err);
	evo_buf_free(&fields);
	if (r < 0)
		return cli_fail(&err);
	close(fd);
	return 0;
}

/* A supervisor's refusal does not name the sandbox; say which. */
static int fail_for_sandbox(const char *id, struct evo_error *err)
{
	if (err->kind != EVO_ERR_NOT_FOUND && err->kind != EVO_ERR_INVALID)
		evo_error_prefix(err, "sandbox %s", id);
	return cli_fail(err);
}

static int cmd_pause(int argc, char **argv)
{
	if (argc != 2)
		return cli_usage_error("usage: evoclaw sandbox pause ID");
	uint8_t *buf = receive_buffer();
	struct evo_frame f;
	struct evo_error err = {0};
	int fd;
	if (supervisor_request(argv[1], EVO_MSG_SUP_PAUSE, NULL, buf, &f, &fd, &err) < 0)
		return fail_for_sandbox(argv[1], &err);
	close(fd);
	return 0;
}

static int cmd_resume(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long long seconds = 0;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "T:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'T':
			if (parse_number("--timeout", optarg, 1, 31L * 24 * 3600, &seconds))
				return CLI_EXIT_USAGE;
			break;
		case 'h':
			fputs(sandbox_usage, stdout);
			return 0;
		default:
			return cli_usage_error("usage: evoclaw sandbox resume ID [--timeout SECONDS]");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("usage: evoclaw sandbox resume ID [--timeout SECONDS]");
	const char *id = argv[optind];
	struct evo_buf fields = {0};
	if (seconds > 0)
		evo_frame_add_u64(&fields, EVO_F_TIMEOUT_MS, (uint64_t)seconds * 1000);
	uint8_t *buf = receive_buffer();
	struct evo_frame f;
	struct evo_error err = {0};
	int fd;
	int r = supervisor_request(id, EVO_MSG_SUP_RESUME, &fields, buf, &f, &fd, &err);
	evo_buf_free(&fields);
	if (r < 0)
		return fail_for_sandbox(id, &err);
	close(fd);
	return 0;
}

static void format_age(long long ms, char *out, size_t size)
{
	long long s = ms / 1000;
	if (s < 120)
		snprintf(out, size, "%llds", s);
	else if (s < 7200)
		snprintf(out, size, "%lldm", s / 60);
	else
		snprintf(out, size, "%lldh", s / 3600);
}

static const char *state_name(const struct sandbox_state *info)
{
	return warmpool_is_warm(info) ? "warm" : info->paused ? "paused" : "running";
}

/* One sandbox as a JSON object (ls --json, inspect). A paused one says
 * since when and how much of its timeout it will have when resumed; its
 * deadline_ms is then 0. */
static void print_state_json(const struct sandbox_state *info, bool detail)
{
	printf("{\"id\":\"%s\",\"template\":\"%s\",\"state\":\"%s\",\"init_pid\":%d,"
	       "\"created_ms\":%lld,\"deadline_ms\":%lld,\"memory_mb\":%u,\"pids\":%u,"
	       "\"cpu_millis\":%u,\"disk_mb\":%u",
	       info->id, info->template_name, state_name(info), (int)info->init_pid,
	       info->created_ms, info->deadline_ms, info->resources.memory_mb, info->resources.pids,
	       info->resources.cpu_millis, info->resources.disk_mb);
	if (info->paused)
		printf(",\"paused_ms\":%lld,\"remaining_ms\":%lld", info->paused_ms,
		       info->remaining_ms);
	if (detail) {
		/* The owner tag is free text: JSON-escaped by jansson. */
		json_t *owner = json_string(info->owner);
		char *owner_text = owner ? json_dumps(owner, JSON_ENCODE_ANY) : NULL;
		printf(",\"supervisor_pid\":%d,\"entrypoint\":%s,\"owner\":%s",
		       (int)info->supervisor_pid, info->has_entrypoint ? "true" : "false",
		       owner_text ? owner_text : "\"\"");
		free(owner_text);
		json_decref(owner);
	}
	fputs("}", stdout);
}

static int cmd_inspect(int argc, char **argv)
{
	if (argc != 2)
		return cli_usage_error("usage: evoclaw sandbox inspect ID");
	struct sandbox_state info;
	struct evo_error err = {0};
	if (!sandbox_id_valid(argv[1]))
		return cli_usage_error("invalid sandbox id \"%.64s\"", argv[1]);
	if (supervisor_info(argv[1], &info, &err) < 0)
		return cli_fail(&err);
	print_state_json(&info, true);
	fputs("\n", stdout);
	return 0;
}

static int cmd_ls(int argc, char **argv)
{
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	if (argc > 1 && !json)
		return cli_usage_error("usage: evoclaw sandbox ls [--json]");
	supervisor_collect_garbage();
	char **ids = supervisor_list_ids();
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long long now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (json)
		printf("[");
	else
		printf("%-22s %-10s %-8s %8s %10s %8s %6s\n", "ID", "TEMPLATE", "STATE", "AGE",
		       "EXPIRES IN", "MEMORY", "PIDS");
	bool first = true;
	for (char **id = ids; *id; id++) {
		struct sandbox_state info;
		if (supervisor_info(*id, &info, NULL) < 0)
			continue;
		if (json) {
			fputs(first ? "" : ",", stdout);
			print_state_json(&info, false);
		} else {
			char age[16], expires[16] = "never";
			format_age(now_ms - info.created_ms, age, sizeof age);
			long long left = -1; /* never */
			if (info.paused && info.remaining_ms > 0)
				left = info.remaining_ms; /* its clock stands still */
			else if (!info.paused && info.deadline_ms > 0)
				left = info.deadline_ms > now_ms ? info.deadline_ms - now_ms : 0;
			if (left >= 0)
				format_age(left, expires, sizeof expires);
			printf("%-22s %-10s %-8s %8s %10s %6uMB %6u\n", info.id, info.template_name,
			       state_name(&info), age, expires, info.resources.memory_mb,
			       info.resources.pids);
		}
		first = false;
	}
	if (json)
		printf("]\n");
	for (char **id = ids; *id; id++)
		free(*id);
	free(ids);
	return 0;
}

static int cmd_kill(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("usage: evoclaw sandbox kill ID...");
	int code = 0;
	for (int i = 1; i < argc; i++) {
		struct evo_error err = {0};
		if (supervisor_kill(argv[i], &err) < 0)
			code = cli_fail(&err);
	}
	return code;
}

static int cmd_pool(int argc, char **argv)
{
	if (argc == 1) {
		printf("%d network namespaces ready (refilled to %d below %d)\n", netpool_count(),
		       NETPOOL_TARGET, NETPOOL_LOW_WATER);
		printf("%d warm sandboxes ready (%d per template and resources)\n", warmpool_count(),
		       WARMPOOL_TARGET);
		return 0;
	}
	if (strcmp(argv[1], "drain") == 0 && argc == 2) {
		int warm = warmpool_drain();
		printf("removed %d warm sandboxes and %d pooled network namespaces\n", warm,
		       netpool_drain());
		return 0;
	}
	if (strcmp(argv[1], "warm") == 0 && argc >= 3 && argc <= 4) {
		long long n = WARMPOOL_TARGET;
		if (argc == 4 && parse_number("N", argv[3], 1, 64, &n))
			return CLI_EXIT_USAGE;
		struct template t;
		struct evo_error err = {0};
		if (template_load(argv[2], &t, &err) < 0)
			return cli_fail(&err);
		char key[WARMPOOL_KEY_MAX];
		struct template_resources none = {0};
		warmpool_key(t.name, &none, key);
		int added = warmpool_fill(key, (int)n, &err);
		template_free(&t);
		if (added < 0)
			return cli_fail(&err);
		printf("added %d warm %s sandboxes\n", added, argv[2]);
		return 0;
	}
	if (strcmp(argv[1], "fill") == 0 && argc <= 3) {
		long long n = NETPOOL_TARGET;
		if (argc == 3 && parse_number("N", argv[2], 1, 1024, &n))
			return CLI_EXIT_USAGE;
		struct evo_error err = {0};
		int added = netpool_fill((int)n, &err);
		if (added < 0)
			return cli_fail(&err);
		printf("added %d; %d ready\n", added, netpool_count());
		return 0;
	}
	return cli_usage_error("usage: evoclaw sandbox pool [fill [N] | warm TEMPLATE [N] | drain]");
}

static int cmd_gc(int argc, char **argv)
{
	int n = supervisor_collect_garbage();
	printf("cleaned %d leftover sandbox%s\n", n, n == 1 ? "" : "es");
	return 0;
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
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} commands[] = {
		{"create", cmd_create}, {"exec", cmd_exec},   {"attach", cmd_attach},
		{"ls", cmd_ls},         {"stats", cmd_stats}, {"timeout", cmd_timeout},
		{"kill", cmd_kill},     {"gc", cmd_gc},       {"templates", cmd_templates},
		{"pool", cmd_pool},     {"pause", cmd_pause}, {"resume", cmd_resume},
		{"inspect", cmd_inspect},
	};
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(sub, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	return cli_usage_error("sandbox: unknown command \"%s\" (see evoclaw sandbox --help)", sub);
}
