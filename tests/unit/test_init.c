/* evoclaw-init end to end: the real binary (evoclaw-init-dyn, under
 * sanitizers with SAN=1) started as an ordinary process with a socketpair
 * on fd 3, driven over the wire protocol. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sys/xattr.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>

#include "init_client.h"

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

TestSuite(init, .timeout = 90);

/* ---- helpers ------------------------------------------------------------ */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* A scratch directory for file tests, removed at the end. */
static char *scratch_dir(void)
{
	char *dir = strdup("/tmp/evoclaw-init-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static void scratch_remove(char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static char *path_in(const char *dir, const char *name)
{
	char *p;
	cr_assert_gt(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

static void write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(content, f);
	fclose(f);
}

/* FILE_WRITE path with data; flags and an optional offset (<0: none). */
static void send_write(struct init_client *c, uint32_t stream, const char *path, const void *data,
		       size_t len, uint8_t flags, int64_t offset)
{
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, EVO_MSG_FILE_WRITE, flags);
	evo_frame_add_str(&b, EVO_F_PATH, path);
	evo_frame_add(&b, EVO_F_DATA, data, (uint32_t)len);
	if (offset >= 0)
		evo_frame_add_u64(&b, EVO_F_OFFSET, (uint64_t)offset);
	evo_frame_end(&b, m);
	client_send(c, &b);
}

static void write_ok(struct init_client *c, uint32_t stream, const char *path, const void *data,
		     size_t len, uint8_t flags, int64_t offset)
{
	struct rx r;
	send_write(c, stream, path, data, len, flags, offset);
	client_expect(c, stream, EVO_MSG_OK, &r);
	cr_assert_eq(rx_int(&r, EVO_F_SIZE), (int64_t)len);
	rx_free(&r);
}

/* A request carrying only PATH (and optional LENGTH/OFFSET for reads). */
static void send_path(struct init_client *c, uint32_t stream, uint8_t type, uint8_t flags,
		      const char *path)
{
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, type, flags);
	evo_frame_add_str(&b, EVO_F_PATH, path);
	evo_frame_end(&b, m);
	client_send(c, &b);
}

/* FILE_READ: collect FILE_DATA into data until OK; returns OK's SIZE. */
static uint64_t read_file(struct init_client *c, uint32_t stream, const char *path, int64_t offset,
			  int64_t length, struct evo_buf *data, size_t *frames)
{
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, stream, EVO_MSG_FILE_READ, 0);
	evo_frame_add_str(&b, EVO_F_PATH, path);
	if (offset >= 0)
		evo_frame_add_u64(&b, EVO_F_OFFSET, (uint64_t)offset);
	if (length >= 0)
		evo_frame_add_u64(&b, EVO_F_LENGTH, (uint64_t)length);
	evo_frame_end(&b, m);
	client_send(c, &b);
	for (*frames = 0;; ++*frames) {
		struct rx r;
		struct evo_field f;
		client_recv(c, &r);
		cr_assert_eq(r.f.stream, stream);
		if (r.f.type == EVO_MSG_OK) {
			uint64_t size = (uint64_t)rx_int(&r, EVO_F_SIZE);
			rx_free(&r);
			return size;
		}
		cr_assert_eq(r.f.type, EVO_MSG_FILE_DATA, "got %s", evo_msg_type_name(r.f.type));
		cr_assert(rx_find(&r, EVO_F_DATA, &f));
		cr_assert_leq(f.len, EVO_PROTO_CHUNK);
		evo_buf_append(data, f.value, f.len);
		rx_free(&r);
	}
}

/* A listing reply (ENTRIES* then OK) gathered into one buffer of ENTRY
 * fields; returns the entry count. */
static size_t collect_entries(struct init_client *c, uint32_t stream, struct evo_buf *entries,
			      size_t *frames)
{
	size_t count = 0;
	for (*frames = 1;; ++*frames) {
		struct rx r;
		client_recv(c, &r);
		cr_assert_eq(r.f.stream, stream);
		cr_assert(r.f.type == EVO_MSG_OK || r.f.type == EVO_MSG_ENTRIES, "got %s",
			  evo_msg_type_name(r.f.type));
		struct evo_field_iter it;
		struct evo_field f;
		evo_field_iter_init(&it, r.f.payload, r.f.payload_len);
		while (evo_field_next(&it, &f, NULL) > 0) {
			if (f.tag != EVO_F_ENTRY)
				continue;
			evo_frame_add(entries, EVO_F_ENTRY, f.value, f.len);
			count++;
		}
		bool last = r.f.type == EVO_MSG_OK;
		rx_free(&r);
		if (last)
			return count;
	}
}

/* The entry whose string field tag equals value, or false. */
static bool entries_find(const struct evo_buf *entries, uint16_t tag, const char *value,
			 struct evo_field *entry)
{
	struct evo_field_iter it;
	evo_field_iter_init(&it, entries->data, entries->len);
	while (evo_field_next(&it, entry, NULL) > 0) {
		struct evo_field f;
		if (fields_find(entry->value, entry->len, tag, &f) && f.len == strlen(value) &&
		    memcmp(f.value, value, f.len) == 0)
			return true;
	}
	return false;
}

static int64_t entry_int(const struct evo_field *entry, uint16_t tag)
{
	struct evo_field f;
	cr_assert(fields_find(entry->value, entry->len, tag, &f), "entry lacks %s",
		  evo_field_tag_name(tag));
	return field_int(&f);
}

static bool entry_str_eq(const struct evo_field *entry, uint16_t tag, const char *want)
{
	struct evo_field f;
	return fields_find(entry->value, entry->len, tag, &f) && f.len == strlen(want) &&
	       memcmp(f.value, want, f.len) == 0;
}

static bool process_gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/* ---- basics and processes --------------------------------------------- */

Test(init, ping_and_clean_exit_on_channel_close)
{
	struct init_client c;
	client_start(&c, NULL);
	client_ping(&c, 7);
	client_ping(&c, 0xffffffffu);
	client_stop(&c);
}

Test(init, output_streams_in_order_across_many_chunks)
{
	struct init_client c;
	struct proc_result res;
	client_start(&c, NULL);
	/* seq 1 200000 prints 1288895 bytes: about 20 chunks at least. */
	client_run(&c, 5, ARGV("seq", "1", "200000"), &res);
	cr_assert(res.started && res.exited);
	cr_assert_eq(res.code, 0);
	cr_assert_eq(res.sig, 0);

	struct evo_buf want = {0};
	char line[16];
	for (int i = 1; i <= 200000; i++) {
		int n = snprintf(line, sizeof line, "%d\n", i);
		evo_buf_append(&want, line, (size_t)n);
	}
	cr_assert_eq(res.out.len, want.len, "got %zu bytes, want %zu", res.out.len, want.len);
	cr_assert_arr_eq(res.out.data, want.data, want.len);
	cr_assert_geq(res.out_frames, want.len / EVO_PROTO_CHUNK);
	cr_assert_eq(res.err.len, 0);
	evo_buf_free(&want);
	proc_result_free(&res);
	client_stop(&c);
}

Test(init, exit_codes_and_stderr)
{
	struct init_client c;
	struct proc_result res;
	client_start(&c, NULL);
	client_run(&c, 3, ARGV("sh", "-c", "echo out; echo err >&2; exit 7"), &res);
	cr_assert_eq(res.code, 7);
	cr_assert_eq(res.sig, 0);
	cr_assert_eq(res.out.len, 4);
	cr_assert_arr_eq(res.out.data, "out\n", 4);
	cr_assert_eq(res.err.len, 4);
	cr_assert_arr_eq(res.err.data, "err\n", 4);
	proc_result_free(&res);

	client_run(&c, 3, ARGV("true"), &res);
	cr_assert_eq(res.code, 0, "stream 3 is free again once its PROC_EXIT is out");
	proc_result_free(&res);
	client_stop(&c);
}

Test(init, death_by_signal_is_reported_as_signal)
{
	struct init_client c;
	struct proc_result res;
	client_start(&c, NULL);
	client_run(&c, 4, ARGV("sh", "-c", "kill -KILL $$"), &res);
	cr_assert(res.exited);
	cr_assert_eq(res.code, -1);
	cr_assert_eq(res.sig, SIGKILL);
	proc_result_free(&res);
	client_stop(&c);
}

Test(init, proc_signal_by_stream_and_by_pid)
{
	struct init_client c;
	struct rx r;
	client_start(&c, NULL);

	client_start_proc(&c, 5, false, NULL, ARGV("sleep", "1000"));
	client_expect_started(&c, 5);
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, 5, EVO_MSG_PROC_SIGNAL, 0);
	evo_frame_add_i32(&b, EVO_F_SIGNAL, SIGTERM);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	client_expect(&c, 5, EVO_MSG_OK, &r);
	rx_free(&r);
	client_expect(&c, 5, EVO_MSG_PROC_EXIT, &r);
	cr_assert_eq(rx_int(&r, EVO_F_SIGNAL), SIGTERM);
	cr_assert_eq(rx_int(&r, EVO_F_EXIT_CODE), -1);
	rx_free(&r);

	client_start_proc(&c, 6, false, NULL, ARGV("sleep", "1000"));
	uint32_t pid = client_expect_started(&c, 6);
	m = evo_frame_begin(&b, 60, EVO_MSG_PROC_SIGNAL, 0);
	evo_frame_add_i32(&b, EVO_F_SIGNAL, SIGKILL);
	evo_frame_add_u32(&b, EVO_F_PID, pid);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	client_expect(&c, 60, EVO_MSG_OK, &r);
	rx_free(&r);
	client_expect(&c, 6, EVO_MSG_PROC_EXIT, &r);
	cr_assert_eq(rx_int(&r, EVO_F_SIGNAL), SIGKILL);
	rx_free(&r);

	/* Neither a stream nor a PID that init does not run. */
	m = evo_frame_begin(&b, 61, EVO_MSG_PROC_SIGNAL, 0);
	evo_frame_add_i32(&b, EVO_F_SIGNAL, SIGKILL);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	free(client_expect_error(&c, 61, ESRCH));
	m = evo_frame_begin(&b, 62, EVO_MSG_PROC_SIGNAL, 0);
	evo_frame_add_i32(&b, EVO_F_SIGNAL, SIGKILL);
	evo_frame_add_u32(&b, EVO_F_PID, (uint32_t)getpid());
	evo_frame_end(&b, m);
	client_send(&c, &b);
	free(client_expect_error(&c, 62, ESRCH));
	cr_assert(!process_gone(getpid()));
	client_stop(&c);
}

Test(init, stdin_round_trip_and_close_gives_eof)
{
	struct init_client c;
	struct proc_result res = {0};
	client_start(&c, NULL);
	client_start_proc(&c, 9, true, NULL, ARGV("cat"));

	/* 1 MiB in 16 frames: more than a pipe holds, so init must queue
	 * stdin and write it as cat makes room. */
	struct evo_buf want = {0};
	for (int i = 0; i < 16; i++) {
		uint8_t chunk[64 * 1024];
		for (size_t j = 0; j < sizeof chunk; j++)
			chunk[j] = (uint8_t)(i * 31 + j * 7);
		evo_buf_append(&want, chunk, sizeof chunk);
		struct evo_buf b = {0};
		size_t m = evo_frame_begin(&b, 9, EVO_MSG_PROC_STDIN, 0);
		evo_frame_add(&b, EVO_F_DATA, chunk, sizeof chunk);
		evo_frame_end(&b, m);
		client_send(&c, &b);
	}
	client_send_empty(&c, 9, EVO_MSG_PROC_CLOSE_STDIN);
	client_collect(&c, 9, &res, 1);
	cr_assert_eq(res.code, 0, "cat saw EOF and exited 0");
	cr_assert_eq(res.out.len, want.len);
	cr_assert_arr_eq(res.out.data, want.data, want.len);
	evo_buf_free(&want);
	proc_result_free(&res);

	/* Stdin to a process started without STDIN is refused. */
	client_start_proc(&c, 10, false, NULL, ARGV("sleep", "1000"));
	client_expect_started(&c, 10);
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, 10, EVO_MSG_PROC_STDIN, 0);
	evo_frame_add(&b, EVO_F_DATA, "x", 1);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	free(client_expect_error(&c, 10, EBADF));
	/* And to a stream with no process. */
	m = evo_frame_begin(&b, 11, EVO_MSG_PROC_STDIN, 0);
	evo_frame_add(&b, EVO_F_DATA, "x", 1);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	free(client_expect_error(&c, 11, ESRCH));
	client_stop(&c);
}

Test(init, exec_failures_are_errors_naming_the_program)
{
	struct init_client c;
	client_start(&c, NULL);
	client_start_proc(&c, 12, false, NULL, ARGV("no-such-program-evoclaw"));
	char *msg = client_expect_error(&c, 12, ENOENT);
	cr_assert(strstr(msg, "no-such-program-evoclaw") != NULL, "%s", msg);
	free(msg);

	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, 13, EVO_MSG_PROC_START, 0);
	evo_frame_add_str(&b, EVO_F_ARGV, "true");
	evo_frame_add_str(&b, EVO_F_CWD, "/no/such/dir/evoclaw");
	evo_frame_end(&b, m);
	client_send(&c, &b);
	msg = client_expect_error(&c, 13, ENOENT);
	cr_assert(strstr(msg, "/no/such/dir/evoclaw") != NULL, "%s", msg);
	free(msg);

	char *dir = scratch_dir();
	char *plain = path_in(dir, "not-executable");
	write_file(plain, "#!/bin/sh\n");
	cr_assert_eq(chmod(plain, 0644), 0);
	client_start_proc(&c, 14, false, NULL, ARGV(plain));
	msg = client_expect_error(&c, 14, EACCES);
	cr_assert(strstr(msg, plain) != NULL, "%s", msg);
	free(msg);
	client_ping(&c, 15);
	client_stop(&c);
	free(plain);
	scratch_remove(dir);
}

Test(init, twenty_concurrent_processes)
{
	enum { N = 20, FIRST = 100 };
	struct init_client c;
	struct proc_result res[N];
	memset(res, 0, sizeof res);
	client_start(&c, NULL);
	for (int i = 0; i < N; i++) {
		char n[16], code[16];
		snprintf(n, sizeof n, "%d", i);
		snprintf(code, sizeof code, "%d", i + 1);
		client_start_proc(&c, FIRST + (uint32_t)i, false, NULL,
				  ARGV("sh", "-c", "for k in 1 2 3; do echo out-$0-$k; echo err-$0 >&2; done; exit $1",
				       n, code));
	}
	client_collect(&c, FIRST, res, N);
	for (int i = 0; i < N; i++) {
		char want[128];
		int len = snprintf(want, sizeof want, "out-%d-1\nout-%d-2\nout-%d-3\n", i, i, i);
		cr_assert(res[i].started && res[i].exited, "stream %d", FIRST + i);
		cr_assert_eq(res[i].code, i + 1);
		cr_assert_eq(res[i].out.len, (size_t)len, "stream %d", FIRST + i);
		cr_assert_arr_eq(res[i].out.data, want, (size_t)len);
		len = snprintf(want, sizeof want, "err-%d\nerr-%d\nerr-%d\n", i, i, i);
		cr_assert_eq(res[i].err.len, (size_t)len);
		cr_assert_arr_eq(res[i].err.data, want, (size_t)len);
		proc_result_free(&res[i]);
	}
	client_stop(&c);
}

Test(init, duplicate_stream_is_rejected)
{
	struct init_client c;
	client_start(&c, NULL);
	client_start_proc(&c, 20, false, NULL, ARGV("sleep", "1000"));
	uint32_t pid = client_expect_started(&c, 20);
	client_start_proc(&c, 20, false, NULL, ARGV("true"));
	char *msg = client_expect_error(&c, 20, EEXIST);
	cr_assert(strstr(msg, "20") != NULL, "%s", msg);
	free(msg);
	/* A file read cannot take a process's stream either. */
	send_path(&c, 20, EVO_MSG_FILE_READ, 0, "/etc/hostname");
	free(client_expect_error(&c, 20, EEXIST));
	client_stop(&c);
	cr_assert(process_gone((pid_t)pid), "init killed its process when the channel closed");
}

Test(init, proc_list)
{
	struct init_client c;
	client_start(&c, NULL);
	client_start_proc(&c, 30, false, "sleeper", ARGV("sleep", "1000"));
	uint32_t pid1 = client_expect_started(&c, 30);
	client_start_proc(&c, 31, false, NULL, ARGV("sleep", "1001"));
	uint32_t pid2 = client_expect_started(&c, 31);

	struct evo_buf entries = {0};
	size_t frames;
	client_send_empty(&c, 32, EVO_MSG_PROC_LIST);
	cr_assert_eq(collect_entries(&c, 32, &entries, &frames), 2);
	struct evo_field e;
	cr_assert(entries_find(&entries, EVO_F_TAG, "sleeper", &e));
	cr_assert_eq(entry_int(&e, EVO_F_PID), pid1);
	cr_assert_eq(entry_int(&e, EVO_F_STREAM), 30);
	struct evo_field_iter it;
	struct evo_field f;
	const char *want[] = { "sleep", "1000" };
	size_t argc = 0;
	evo_field_iter_init(&it, e.value, e.len);
	while (evo_field_next(&it, &f, NULL) > 0) {
		if (f.tag != EVO_F_ARGV)
			continue;
		cr_assert_lt(argc, 2);
		cr_assert_eq(f.len, strlen(want[argc]));
		cr_assert_arr_eq(f.value, want[argc], f.len);
		argc++;
	}
	cr_assert_eq(argc, 2);
	cr_assert(entries_find(&entries, EVO_F_ARGV, "sleep", &e));
	evo_buf_free(&entries);

	/* After one exits, only the other is listed. */
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, 30, EVO_MSG_PROC_SIGNAL, 0);
	evo_frame_add_i32(&b, EVO_F_SIGNAL, SIGKILL);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	struct rx r;
	client_expect(&c, 30, EVO_MSG_OK, &r);
	rx_free(&r);
	client_expect(&c, 30, EVO_MSG_PROC_EXIT, &r);
	rx_free(&r);
	client_send_empty(&c, 33, EVO_MSG_PROC_LIST);
	cr_assert_eq(collect_entries(&c, 33, &entries, &frames), 1);
	cr_assert(entries_find(&entries, EVO_F_ARGV, "sleep", &e));
	cr_assert_eq(entry_int(&e, EVO_F_PID), pid2);
	evo_buf_free(&entries);
	client_stop(&c);
	cr_assert(process_gone((pid_t)pid2));
}

Test(init, processes_run_without_capabilities_and_with_a_default_env)
{
	struct init_client c;
	struct proc_result res;
	client_start(&c, NULL);
	client_run(&c, 40, ARGV("sh", "-c", "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status; "
				"grep NoNewPrivs /proc/self/status; echo \"$PATH\"; pwd"),
		   &res);
	cr_assert_eq(res.code, 0);
	evo_buf_append(&res.out, "", 1);
	const char *out = (const char *)res.out.data;
	/* The bounding set can only be emptied with CAP_SETPCAP, i.e. when
	 * init runs as root (as it does in a sandbox). */
	const char *caps[] = { "CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd" };
	for (size_t i = 0; i < (geteuid() == 0 ? 5u : 4u); i++) {
		char want[64];
		snprintf(want, sizeof want, "%s:\t0000000000000000", caps[i]);
		cr_assert(strstr(out, want) != NULL, "%s not empty in:\n%s", caps[i], out);
	}
	cr_assert(strstr(out, "NoNewPrivs:\t1") != NULL, "%s", out);
	cr_assert(strstr(out, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n") != NULL,
		  "%s", out);
	proc_result_free(&res);

	/* Given env wins, PATH and HOME are added; the identity given works
	 * (the same uid when unprivileged, another one as root). */
	uid_t uid = getuid() == 0 ? 65534 : getuid();
	gid_t gid = getuid() == 0 ? 65534 : getgid();
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, 41, EVO_MSG_PROC_START, 0);
	evo_frame_add_str(&b, EVO_F_ARGV, "sh");
	evo_frame_add_str(&b, EVO_F_ARGV, "-c");
	evo_frame_add_str(&b, EVO_F_ARGV, "echo $FOO $(id -u) $(id -g) $(id -G); pwd; test -n \"$HOME\"");
	evo_frame_add_str(&b, EVO_F_ENV, "FOO=bar baz");
	evo_frame_add_str(&b, EVO_F_CWD, "/tmp");
	evo_frame_add_u32(&b, EVO_F_UID, uid);
	evo_frame_add_u32(&b, EVO_F_GID, gid);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	memset(&res, 0, sizeof res);
	client_collect(&c, 41, &res, 1);
	cr_assert_eq(res.code, 0, "%.*s", (int)res.err.len, res.err.data);
	char want[128];
	if (getuid() == 0)
		snprintf(want, sizeof want, "bar baz %u %u %u\n/tmp\n", uid, gid, gid);
	else
		snprintf(want, sizeof want, "bar baz %u %u ", uid, gid);
	cr_assert(res.out.len >= strlen(want) && memcmp(res.out.data, want, strlen(want)) == 0,
		  "got '%.*s', want '%s'", (int)res.out.len, res.out.data, want);
	proc_result_free(&res);
	client_stop(&c);
}

/* ---- files --------------------------------------------------------------- */

Test(init, file_write_read_offsets_and_errors)
{
	struct init_client c;
	char *dir = scratch_dir();
	char *a = path_in(dir, "a.txt");
	struct evo_buf data = {0};
	size_t frames;
	client_start(&c, NULL);

	write_ok(&c, 50, a, "hello world", 11, 0, -1);
	cr_assert_eq(read_file(&c, 51, a, -1, -1, &data, &frames), 11);
	cr_assert_eq(data.len, 11);
	cr_assert_arr_eq(data.data, "hello world", 11);
	data.len = 0;

	cr_assert_eq(read_file(&c, 52, a, 6, 3, &data, &frames), 3);
	cr_assert_arr_eq(data.data, "wor", 3);
	data.len = 0;
	cr_assert_eq(read_file(&c, 52, a, 100, -1, &data, &frames), 0, "reading past the end is empty");
	cr_assert_eq(data.len, 0);

	/* OFFSET overwrites in place, without truncating. */
	write_ok(&c, 53, a, "HELLO", 5, 0, 0);
	cr_assert_eq(read_file(&c, 54, a, -1, -1, &data, &frames), 11);
	cr_assert_arr_eq(data.data, "HELLO world", 11);
	data.len = 0;
	/* No OFFSET, no APPEND: truncate. */
	write_ok(&c, 53, a, "new", 3, 0, -1);
	struct stat st;
	cr_assert_eq(stat(a, &st), 0);
	cr_assert_eq(st.st_size, 3);

	send_path(&c, 55, EVO_MSG_FILE_READ, 0, "/no/such/evoclaw/file");
	char *msg = client_expect_error(&c, 55, ENOENT);
	cr_assert(strstr(msg, "/no/such/evoclaw/file") != NULL, "%s", msg);
	free(msg);

	send_path(&c, 56, EVO_MSG_FILE_READ, 0, "relative/path");
	msg = client_expect_error(&c, 56, EINVAL);
	cr_assert(strstr(msg, "PATH") != NULL, "%s", msg);
	free(msg);
	send_write(&c, 56, "relative", "x", 1, 0, -1);
	free(client_expect_error(&c, 56, EINVAL));

	send_path(&c, 57, EVO_MSG_FILE_READ, 0, dir);
	free(client_expect_error(&c, 57, EISDIR));

	/* APPEND and OFFSET contradict each other. */
	send_write(&c, 58, a, "x", 1, EVO_FLAG_FILE_APPEND, 0);
	msg = client_expect_error(&c, 58, EINVAL);
	cr_assert(strstr(msg, "OFFSET") != NULL, "%s", msg);
	free(msg);

	evo_buf_free(&data);
	free(a);
	client_stop(&c);
	scratch_remove(dir);
}

Test(init, file_large_append_write_and_streamed_read)
{
	struct init_client c;
	char *dir = scratch_dir();
	char *big = path_in(dir, "big.bin");
	struct evo_buf want = {0}, got = {0};
	size_t frames;
	client_start(&c, NULL);

	for (int i = 0; i < 16; i++) {
		uint8_t chunk[64 * 1024];
		for (size_t j = 0; j < sizeof chunk; j++)
			chunk[j] = (uint8_t)(j * 13 + (size_t)i * 101 + j / 251);
		evo_buf_append(&want, chunk, sizeof chunk);
		write_ok(&c, 60, big, chunk, sizeof chunk, EVO_FLAG_FILE_APPEND, -1);
	}
	struct stat st;
	cr_assert_eq(stat(big, &st), 0);
	cr_assert_eq((size_t)st.st_size, want.len);

	cr_assert_eq(read_file(&c, 61, big, -1, -1, &got, &frames), want.len);
	cr_assert_eq(got.len, want.len);
	cr_assert_arr_eq(got.data, want.data, want.len);
	cr_assert_geq(frames, want.len / EVO_PROTO_CHUNK, "streamed in chunks");
	got.len = 0;

	/* A window that straddles chunk boundaries. */
	cr_assert_eq(read_file(&c, 62, big, 70000, 200000, &got, &frames), 200000);
	cr_assert_arr_eq(got.data, want.data + 70000, 200000);

	evo_buf_free(&want);
	evo_buf_free(&got);
	free(big);
	client_stop(&c);
	scratch_remove(dir);
}

Test(init, file_mkdir_list_stat_rename_remove)
{
	struct init_client c;
	struct rx r;
	char *dir = scratch_dir();
	client_start(&c, NULL);

	/* MKPARENTS on write creates x/y; MODE applies to the new file. */
	char *deep = path_in(dir, "x/y/z.txt");
	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, 70, EVO_MSG_FILE_WRITE, EVO_FLAG_FILE_MKPARENTS);
	evo_frame_add_str(&b, EVO_F_PATH, deep);
	evo_frame_add(&b, EVO_F_DATA, "deep", 4);
	evo_frame_add_u32(&b, EVO_F_MODE, 0600);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	client_expect(&c, 70, EVO_MSG_OK, &r);
	rx_free(&r);
	struct stat st;
	cr_assert_eq(stat(deep, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);

	/* Without MKPARENTS a missing parent is an error naming the path. */
	char *orphan = path_in(dir, "nope/file");
	send_write(&c, 71, orphan, "x", 1, 0, -1);
	char *msg = client_expect_error(&c, 71, ENOENT);
	cr_assert(strstr(msg, orphan) != NULL, "%s", msg);
	free(msg);

	char *m1 = path_in(dir, "m");
	send_path(&c, 72, EVO_MSG_FILE_MKDIR, 0, m1);
	client_expect(&c, 72, EVO_MSG_OK, &r);
	cr_assert_eq(rx_int(&r, EVO_F_TYPE), 'd');
	rx_free(&r);
	send_path(&c, 72, EVO_MSG_FILE_MKDIR, 0, m1);
	client_expect(&c, 72, EVO_MSG_OK, &r);
	rx_free(&r);
	send_path(&c, 72, EVO_MSG_FILE_MKDIR, EVO_FLAG_FILE_EXCL, m1);
	free(client_expect_error(&c, 72, EEXIST));
	char *pqr = path_in(dir, "p/q/r");
	send_path(&c, 73, EVO_MSG_FILE_MKDIR, 0, pqr);
	free(client_expect_error(&c, 73, ENOENT));
	send_path(&c, 73, EVO_MSG_FILE_MKDIR, EVO_FLAG_FILE_MKPARENTS, pqr);
	client_expect(&c, 73, EVO_MSG_OK, &r);
	rx_free(&r);
	cr_assert_eq(stat(pqr, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));

	/* Symlinks are described, not followed. */
	char *link = path_in(dir, "link");
	cr_assert_eq(symlink("x/y", link), 0);
	send_path(&c, 74, EVO_MSG_FILE_STAT, 0, link);
	client_expect(&c, 74, EVO_MSG_OK, &r);
	cr_assert_eq(rx_int(&r, EVO_F_TYPE), 'l');
	char *target = rx_str(&r, EVO_F_LINK_TARGET);
	cr_assert_str_eq(target, "x/y");
	free(target);
	char *name = rx_str(&r, EVO_F_NAME);
	cr_assert_str_eq(name, "link");
	free(name);
	rx_free(&r);

	/* Depth 2: x, x/y, but not x/y/z.txt; NAME relative, PATH absolute. */
	struct evo_buf entries = {0};
	size_t frames;
	m = evo_frame_begin(&b, 75, EVO_MSG_FILE_LIST, 0);
	evo_frame_add_str(&b, EVO_F_PATH, dir);
	evo_frame_add_u32(&b, EVO_F_DEPTH, 2);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	size_t count = collect_entries(&c, 75, &entries, &frames);
	struct evo_field e;
	cr_assert(entries_find(&entries, EVO_F_NAME, "x", &e));
	cr_assert_eq(entry_int(&e, EVO_F_TYPE), 'd');
	cr_assert(entries_find(&entries, EVO_F_NAME, "x/y", &e));
	char *xy = path_in(dir, "x/y");
	cr_assert(entry_str_eq(&e, EVO_F_PATH, xy));
	free(xy);
	cr_assert(!entries_find(&entries, EVO_F_NAME, "x/y/z.txt", &e));
	cr_assert(entries_find(&entries, EVO_F_NAME, "link", &e));
	cr_assert_eq(entry_int(&e, EVO_F_TYPE), 'l');
	cr_assert(entry_str_eq(&e, EVO_F_LINK_TARGET, "x/y"));
	cr_assert(!entries_find(&entries, EVO_F_NAME, "link/z.txt", &e), "symlinks are not entered");
	cr_assert(entries_find(&entries, EVO_F_NAME, "p/q", &e));
	/* x x/y m p p/q link */
	cr_assert_eq(count, 6);
	evo_buf_free(&entries);

	/* Default depth 1. */
	send_path(&c, 76, EVO_MSG_FILE_LIST, 0, dir);
	cr_assert_eq(collect_entries(&c, 76, &entries, &frames), 4);
	evo_buf_free(&entries);
	send_path(&c, 76, EVO_MSG_FILE_LIST, 0, deep);
	free(client_expect_error(&c, 76, ENOTDIR));

	/* Rename answers with the new file's stat fields. */
	char *moved = path_in(dir, "moved.txt");
	m = evo_frame_begin(&b, 77, EVO_MSG_FILE_RENAME, 0);
	evo_frame_add_str(&b, EVO_F_PATH, deep);
	evo_frame_add_str(&b, EVO_F_NEW_PATH, moved);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	client_expect(&c, 77, EVO_MSG_OK, &r);
	cr_assert_eq(rx_int(&r, EVO_F_SIZE), 4);
	char *path = rx_str(&r, EVO_F_PATH);
	cr_assert_str_eq(path, moved);
	free(path);
	rx_free(&r);
	send_path(&c, 78, EVO_MSG_FILE_STAT, 0, deep);
	free(client_expect_error(&c, 78, ENOENT));

	/* Remove: a non-empty directory needs RECURSIVE. */
	char *x = path_in(dir, "x");
	write_file(deep, "again");
	send_path(&c, 79, EVO_MSG_FILE_REMOVE, 0, x);
	msg = client_expect_error(&c, 79, ENOTEMPTY);
	cr_assert(strstr(msg, "RECURSIVE") != NULL, "%s", msg);
	free(msg);
	send_path(&c, 79, EVO_MSG_FILE_REMOVE, EVO_FLAG_FILE_RECURSIVE, x);
	client_expect(&c, 79, EVO_MSG_OK, &r);
	rx_free(&r);
	cr_assert(stat(x, &st) < 0 && errno == ENOENT);
	send_path(&c, 80, EVO_MSG_FILE_REMOVE, 0, moved);
	client_expect(&c, 80, EVO_MSG_OK, &r);
	rx_free(&r);
	cr_assert(stat(moved, &st) < 0 && errno == ENOENT);
	send_path(&c, 80, EVO_MSG_FILE_REMOVE, 0, moved);
	free(client_expect_error(&c, 80, ENOENT));
	send_path(&c, 81, EVO_MSG_FILE_REMOVE, EVO_FLAG_FILE_RECURSIVE, "/");
	free(client_expect_error(&c, 81, EINVAL));

	free(x);
	free(moved);
	free(link);
	free(pqr);
	free(m1);
	free(orphan);
	free(deep);
	client_stop(&c);
	scratch_remove(dir);
}

Test(init, recursive_remove_does_not_follow_symlinks)
{
	struct init_client c;
	struct rx r;
	char *dir = scratch_dir();
	char *outside = scratch_dir();
	char *precious = path_in(outside, "precious");
	write_file(precious, "keep me");
	char *tree = path_in(dir, "tree");
	char *sub = path_in(dir, "tree/sub");
	char *link_dir = path_in(dir, "tree/sub/to-outside");
	char *link_file = path_in(dir, "tree/precious-link");
	cr_assert_eq(mkdir(tree, 0755), 0);
	cr_assert_eq(mkdir(sub, 0755), 0);
	cr_assert_eq(symlink(outside, link_dir), 0);
	cr_assert_eq(symlink(precious, link_file), 0);
	client_start(&c, NULL);

	send_path(&c, 90, EVO_MSG_FILE_REMOVE, EVO_FLAG_FILE_RECURSIVE, tree);
	client_expect(&c, 90, EVO_MSG_OK, &r);
	rx_free(&r);
	struct stat st;
	cr_assert(lstat(tree, &st) < 0 && errno == ENOENT);
	cr_assert_eq(stat(precious, &st), 0, "the symlink's target survived");
	cr_assert_eq(st.st_size, 7);

	/* Removing a symlink to a directory removes the link only. */
	char *link_top = path_in(dir, "top-link");
	cr_assert_eq(symlink(outside, link_top), 0);
	send_path(&c, 91, EVO_MSG_FILE_REMOVE, EVO_FLAG_FILE_RECURSIVE, link_top);
	client_expect(&c, 91, EVO_MSG_OK, &r);
	rx_free(&r);
	cr_assert(lstat(link_top, &st) < 0);
	cr_assert_eq(stat(precious, &st), 0);

	free(link_top);
	free(link_file);
	free(link_dir);
	free(sub);
	free(tree);
	free(precious);
	client_stop(&c);
	scratch_remove(outside);
	scratch_remove(dir);
}

Test(init, large_listing_spans_several_frames)
{
	struct init_client c;
	char *dir = scratch_dir();
	enum { FILES = 3000 };
	for (int i = 0; i < FILES; i++) {
		char name[64];
		snprintf(name, sizeof name, "file-with-a-longish-name-%05d", i);
		char *p = path_in(dir, name);
		write_file(p, "");
		free(p);
	}
	client_start(&c, NULL);
	struct evo_buf entries = {0};
	size_t frames;
	send_path(&c, 95, EVO_MSG_FILE_LIST, 0, dir);
	cr_assert_eq(collect_entries(&c, 95, &entries, &frames), FILES);
	cr_assert_gt(frames, 1, "the reply did not fit one frame, so ENTRIES came first");
	struct evo_field e;
	cr_assert(entries_find(&entries, EVO_F_NAME, "file-with-a-longish-name-02999", &e));
	evo_buf_free(&entries);
	client_stop(&c);
	scratch_remove(dir);
}

/* ---- malformed input -------------------------------------------------- */

/* A frame header with arbitrary fields, followed by payload bytes. */
static void send_crafted(struct init_client *c, uint32_t payload_len, uint32_t stream, uint8_t type,
			 uint8_t flags, uint16_t reserved, const void *payload, size_t len)
{
	uint8_t rec[256];
	cr_assert_leq(len + EVO_PROTO_HEADER_LEN, sizeof rec);
	for (int i = 0; i < 4; i++) {
		rec[i] = (uint8_t)(payload_len >> (8 * i));
		rec[4 + i] = (uint8_t)(stream >> (8 * i));
	}
	rec[8] = type;
	rec[9] = flags;
	rec[10] = (uint8_t)reserved;
	rec[11] = (uint8_t)(reserved >> 8);
	if (len > 0)
		memcpy(rec + EVO_PROTO_HEADER_LEN, payload, len);
	client_send_raw(c, rec, EVO_PROTO_HEADER_LEN + len);
}

static void expect_error_then_ping(struct init_client *c, uint32_t stream, int errnum,
				   const char *needle)
{
	char *msg = client_expect_error(c, stream, errnum);
	if (needle != NULL)
		cr_assert(strstr(msg, needle) != NULL, "'%s' not in '%s'", needle, msg);
	free(msg);
	client_ping(c, 999);
}

Test(init, malformed_frames_get_errors_and_init_carries_on)
{
	struct init_client c;
	client_start(&c, NULL);
	static const uint8_t argv_true[] = { EVO_F_ARGV, 0, 4, 0, 0, 0, 't', 'r', 'u', 'e' };

	/* Unreadable header: stream 0. */
	client_send_raw(&c, "12345", 5);
	expect_error_then_ping(&c, 0, EBADMSG, "header");
	client_send_raw(&c, "", 0);
	expect_error_then_ping(&c, 0, EBADMSG, "empty");

	/* Reserved bits. */
	send_crafted(&c, 0, 201, EVO_MSG_PING, 0, 1, NULL, 0);
	expect_error_then_ping(&c, 201, EBADMSG, "reserved");
	/* Header and record disagree, both ways. */
	send_crafted(&c, 10, 202, EVO_MSG_PROC_START, 0, 0, argv_true, 4);
	expect_error_then_ping(&c, 202, EBADMSG, "announces");
	send_crafted(&c, 2, 203, EVO_MSG_PROC_START, 0, 0, argv_true, sizeof argv_true);
	expect_error_then_ping(&c, 203, EBADMSG, "announces");
	/* Over the maximum payload in the header. */
	send_crafted(&c, EVO_PROTO_MAX_PAYLOAD + 1, 204, EVO_MSG_PING, 0, 0, NULL, 0);
	expect_error_then_ping(&c, 204, EBADMSG, "exceeds");
	/* Truncated TLV: the field claims 9 bytes, 4 follow. */
	static const uint8_t truncated[] = { EVO_F_ARGV, 0, 9, 0, 0, 0, 't', 'r', 'u', 'e' };
	send_crafted(&c, sizeof truncated, 205, EVO_MSG_PROC_START, 0, 0, truncated, sizeof truncated);
	expect_error_then_ping(&c, 205, EBADMSG, "ARGV");
	/* Wrong field size: UID of 2 bytes. */
	static const uint8_t short_uid[] = { EVO_F_ARGV, 0, 4, 0, 0, 0, 't', 'r', 'u', 'e',
					     EVO_F_UID, 0, 2, 0, 0, 0, 1, 0 };
	send_crafted(&c, sizeof short_uid, 206, EVO_MSG_PROC_START, 0, 0, short_uid, sizeof short_uid);
	expect_error_then_ping(&c, 206, EINVAL, "UID");
	/* Missing required field. */
	send_crafted(&c, 0, 207, EVO_MSG_PROC_START, 0, 0, NULL, 0);
	expect_error_then_ping(&c, 207, EINVAL, "ARGV");
	send_crafted(&c, 0, 207, EVO_MSG_FILE_STAT, 0, 0, NULL, 0);
	expect_error_then_ping(&c, 207, EINVAL, "PATH");
	/* NUL inside a string. */
	static const uint8_t nul_path[] = { EVO_F_PATH, 0, 4, 0, 0, 0, '/', 'a', 0, 'b' };
	send_crafted(&c, sizeof nul_path, 208, EVO_MSG_FILE_STAT, 0, 0, nul_path, sizeof nul_path);
	expect_error_then_ping(&c, 208, EINVAL, "NUL");
	/* A single field given twice. */
	static const uint8_t two_paths[] = { EVO_F_PATH, 0, 1, 0, 0, 0, '/',
					     EVO_F_PATH, 0, 1, 0, 0, 0, '/' };
	send_crafted(&c, sizeof two_paths, 209, EVO_MSG_FILE_STAT, 0, 0, two_paths, sizeof two_paths);
	expect_error_then_ping(&c, 209, EINVAL, "twice");
	/* Undefined flags. */
	send_crafted(&c, 0, 210, EVO_MSG_PING, 0x80, 0, NULL, 0);
	expect_error_then_ping(&c, 210, EINVAL, "flags");
	/* Unknown type, and a reply type sent as a request. */
	send_crafted(&c, 0, 211, 200, 0, 0, NULL, 0);
	expect_error_then_ping(&c, 211, EOPNOTSUPP, "200");
	send_crafted(&c, 0, 212, EVO_MSG_OK, 0, 0, NULL, 0);
	expect_error_then_ping(&c, 212, EOPNOTSUPP, "OK");
	/* Stream 0 is not for requests. */
	send_crafted(&c, 0, 0, EVO_MSG_PING, 0, 0, NULL, 0);
	expect_error_then_ping(&c, 0, EINVAL, "stream");
	/* Unknown tags are ignored. */
	static const uint8_t unknown_tag[] = { 0xff, 0x7f, 1, 0, 0, 0, 'x' };
	send_crafted(&c, sizeof unknown_tag, 213, EVO_MSG_PING, 0, 0, unknown_tag, sizeof unknown_tag);
	struct rx r;
	client_expect(&c, 213, EVO_MSG_OK, &r);
	rx_free(&r);

	/* A record bigger than any frame: rejected whole, on its stream. */
	size_t big = EVO_PROTO_MAX_FRAME + 100;
	uint8_t *rec = calloc(1, big);
	rec[4] = 214;
	rec[8] = EVO_MSG_PING;
	client_send_raw(&c, rec, big);
	free(rec);
	expect_error_then_ping(&c, 214, EMSGSIZE, "exceeds");
	client_stop(&c);
}

/* ---- entrypoint, signals, lifetime -------------------------------------- */

Test(init, entrypoint_exit_status_becomes_inits)
{
	struct init_client c;
	struct proc_result res = {0};
	client_start(&c, ARGV("--exit-with-entrypoint", "--env", "FOO=from-cmdline", "--cwd", "/tmp",
			      "--", "sh", "-c", "echo $FOO; pwd; exit 3"));
	client_collect(&c, EVO_ENTRYPOINT_STREAM, &res, 1);
	cr_assert(res.started);
	cr_assert_eq(res.code, 3);
	cr_assert_eq(res.out.len, strlen("from-cmdline\n/tmp\n"));
	cr_assert_arr_eq(res.out.data, "from-cmdline\n/tmp\n", res.out.len);
	int status = client_wait_exit(&c);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status 0x%x", status);
	proc_result_free(&res);
	close(c.fd);
}

Test(init, entrypoint_killed_by_signal_exits_128_plus_signal)
{
	struct init_client c;
	struct proc_result res = {0};
	client_start(&c, ARGV("--exit-with-entrypoint", "--", "sh", "-c", "kill -KILL $$"));
	client_collect(&c, EVO_ENTRYPOINT_STREAM, &res, 1);
	cr_assert_eq(res.sig, SIGKILL);
	int status = client_wait_exit(&c);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGKILL, "status 0x%x", status);
	close(c.fd);
}

Test(init, missing_entrypoint_is_an_error_and_exit_127)
{
	struct init_client c;
	client_start(&c, ARGV("--exit-with-entrypoint", "--", "no-such-entrypoint-evoclaw"));
	char *msg = client_expect_error(&c, EVO_ENTRYPOINT_STREAM, ENOENT);
	cr_assert(strstr(msg, "no-such-entrypoint-evoclaw") != NULL, "%s", msg);
	free(msg);
	int status = client_wait_exit(&c);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 127, "status 0x%x", status);
	close(c.fd);
}

Test(init, entrypoint_without_exit_flag_leaves_init_serving)
{
	struct init_client c;
	struct proc_result res = {0};
	client_start(&c, ARGV("--", "true"));
	client_collect(&c, EVO_ENTRYPOINT_STREAM, &res, 1);
	cr_assert_eq(res.code, 0);
	client_ping(&c, 2);
	client_stop(&c);
}

Test(init, sigterm_is_forwarded_to_the_entrypoint)
{
	struct init_client c;
	struct proc_result res = {0};
	client_start(&c, ARGV("--exit-with-entrypoint", "--", "sleep", "1000"));
	struct rx r;
	client_expect(&c, EVO_ENTRYPOINT_STREAM, EVO_MSG_PROC_STARTED, &r);
	proc_result_apply(&res, &r);
	rx_free(&r);
	cr_assert_eq(kill(c.pid, SIGTERM), 0);
	client_collect(&c, EVO_ENTRYPOINT_STREAM, &res, 1);
	cr_assert_eq(res.sig, SIGTERM);
	int status = client_wait_exit(&c);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM, "status 0x%x", status);
	close(c.fd);
}

Test(init, sigterm_without_entrypoint_kills_everything_and_exits_0)
{
	struct init_client c;
	client_start(&c, NULL);
	client_start_proc(&c, 5, false, NULL, ARGV("sleep", "1000"));
	uint32_t pid = client_expect_started(&c, 5);
	cr_assert_eq(kill(c.pid, SIGTERM), 0);
	int status = client_wait_exit(&c);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
	cr_assert(process_gone((pid_t)pid));
	close(c.fd);
}

Test(init, channel_close_kills_processes)
{
	struct init_client c;
	client_start(&c, NULL);
	client_start_proc(&c, 5, false, NULL, ARGV("sleep", "1000"));
	uint32_t pid1 = client_expect_started(&c, 5);
	/* A process group, not just a process: the child of sh goes too. */
	client_start_proc(&c, 6, false, NULL, ARGV("sh", "-c", "sleep 1000 & echo $!; wait"));
	struct rx r;
	client_expect_started(&c, 6);
	client_expect(&c, 6, EVO_MSG_PROC_STDOUT, &r);
	char *text = rx_str(&r, EVO_F_DATA);
	pid_t grandchild = atoi(text);
	free(text);
	rx_free(&r);
	cr_assert_gt(grandchild, 0);
	client_stop(&c);
	cr_assert(process_gone((pid_t)pid1));
	/* The grandchild was SIGKILLed with its group; it is reaped by
	 * whoever inherits it, so wait for that through a pidfd. */
	int pidfd = (int)syscall(SYS_pidfd_open, grandchild, 0);
	if (pidfd >= 0) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		cr_assert_eq(poll(&pfd, 1, CLIENT_TIMEOUT_MS), 1, "grandchild still alive");
		close(pidfd);
	}
}

Test(init, fd3_must_be_a_socket)
{
	struct init_client c;
	client_start_ex(&c, NULL, false);
	int status = client_wait_exit(&c);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status 0x%x", status);
	close(c.fd);
}

Test(init, bad_command_line_exits_2)
{
	struct init_client c;
	client_start(&c, ARGV("--uid", "abc", "--", "true"));
	int status = client_wait_exit(&c);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status 0x%x", status);
	close(c.fd);
	client_start(&c, ARGV("--gid"));
	status = client_wait_exit(&c);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status 0x%x", status);
	close(c.fd);
}

/* The runtime sends the entrypoint as the first request (stream 1), not on
 * init's command line, so its environment never shows in /proc/1/cmdline;
 * with --exit-with-entrypoint init still ends with it. */
Test(init, entrypoint_as_first_request_ends_init)
{
	struct init_client c;
	client_start(&c, ARGV("--exit-with-entrypoint"));
	client_start_proc(&c, EVO_ENTRYPOINT_STREAM, false, NULL, ARGV("sh", "-c", "exit 5"));
	struct rx r;
	client_expect(&c, EVO_ENTRYPOINT_STREAM, EVO_MSG_PROC_STARTED, &r);
	rx_free(&r);
	client_expect(&c, EVO_ENTRYPOINT_STREAM, EVO_MSG_PROC_EXIT, &r);
	rx_free(&r);
	int status = client_wait_exit(&c);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 5, "status 0x%x", status);
	close(c.fd);
}

/* A process writing far more than the queue limit cannot finish while the
 * host reads nothing: init stops reading its pipe instead of buffering. */
Test(init, backpressure_blocks_a_chatty_process)
{
	struct init_client c;
	struct proc_result res = {0};
	client_start(&c, NULL);
	client_start_proc(&c, 5, false, NULL, ARGV("head", "-c", "67108864", "/dev/zero"));
	struct rx r;
	client_expect(&c, 5, EVO_MSG_PROC_STARTED, &r);
	proc_result_apply(&res, &r);
	rx_free(&r);

	int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)res.pid, 0);
	cr_assert_geq(pidfd, 0);
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	/* Not a synchronisation sleep: this waits for something that must
	 * not happen. Without backpressure head finishes in well under this. */
	cr_assert_eq(poll(&pfd, 1, 1500), 0, "the writer finished although nobody read its output");
	close(pidfd);

	client_collect(&c, 5, &res, 1);
	cr_assert_eq(res.code, 0);
	cr_assert_eq(res.out.len, 67108864u);
	proc_result_free(&res);
	client_stop(&c);
}

/* FILE_WATCH: set, then events for what changes below (recursive, also in
 * a directory made after the watch), with the entry's stat fields; ended
 * by FILE_UNWATCH. FILE_WRITE's XATTRs come back in stat fields. */
Test(init, file_watch_and_metadata_attributes)
{
	struct init_client c;
	struct rx r;
	char *dir = scratch_dir();
	client_start(&c, NULL);

	struct evo_buf b = {0};
	size_t m = evo_frame_begin(&b, 90, EVO_MSG_FILE_WATCH,
				   EVO_FLAG_FILE_RECURSIVE | EVO_FLAG_WATCH_ENTRY);
	evo_frame_add_str(&b, EVO_F_PATH, dir);
	evo_frame_end(&b, m);
	client_send(&c, &b);
	client_expect(&c, 90, EVO_MSG_FILE_WATCHING, &r);
	rx_free(&r);

	char *sub = path_in(dir, "sub");
	send_path(&c, 91, EVO_MSG_FILE_MKDIR, 0, sub);
	client_expect(&c, 91, EVO_MSG_OK, &r);
	rx_free(&r);
	/* The new directory is watched before its file is written: the
	 * mkdir's event is handled first, init serving one request at a time. */
	client_expect(&c, 90, EVO_MSG_FILE_EVENT, &r);
	char *name = rx_str(&r, EVO_F_NAME);
	cr_assert_str_eq(name, "sub");
	cr_assert_eq(rx_int(&r, EVO_F_EVENT), EVO_FILE_EVENT_CREATE);
	free(name);
	rx_free(&r);

	char *file = path_in(dir, "sub/f.txt");
	b = (struct evo_buf){0};
	m = evo_frame_begin(&b, 92, EVO_MSG_FILE_WRITE, 0);
	evo_frame_add_str(&b, EVO_F_PATH, file);
	evo_frame_add(&b, EVO_F_DATA, "hi", 2);
	evo_frame_add_str(&b, EVO_F_XATTR, "user.e2b.owner=team a");
	evo_frame_end(&b, m);
	client_send(&c, &b);
	client_expect(&c, 92, EVO_MSG_OK, &r);
	rx_free(&r);
	bool created = false, written = false;
	while (!created || !written) {
		client_expect(&c, 90, EVO_MSG_FILE_EVENT, &r);
		name = rx_str(&r, EVO_F_NAME);
		cr_assert_str_eq(name, "sub/f.txt");
		free(name);
		int64_t what = rx_int(&r, EVO_F_EVENT);
		created |= what == EVO_FILE_EVENT_CREATE;
		written |= what == EVO_FILE_EVENT_WRITE;
		struct evo_field entry;
		cr_assert(rx_find(&r, EVO_F_ENTRY, &entry), "the event carries the entry");
		rx_free(&r);
	}

	/* The attribute is set, and reported by FILE_STAT. */
	char value[32];
	ssize_t n = getxattr(file, "user.e2b.owner", value, sizeof value);
	cr_assert_eq(n, 6);
	cr_assert(memcmp(value, "team a", 6) == 0);
	send_path(&c, 93, EVO_MSG_FILE_STAT, 0, file);
	for (;;) { /* the attribute's own chmod event may come first */
		client_recv(&c, &r);
		if (r.f.stream == 93)
			break;
		cr_assert(r.f.stream == 90 && r.f.type == EVO_MSG_FILE_EVENT);
		rx_free(&r);
	}
	cr_assert_eq(r.f.type, EVO_MSG_OK);
	char *xattr = rx_str(&r, EVO_F_XATTR);
	cr_assert_str_eq(xattr, "user.e2b.owner=team a");
	free(xattr);
	rx_free(&r);

	/* Only user.* attributes may be set. */
	b = (struct evo_buf){0};
	m = evo_frame_begin(&b, 94, EVO_MSG_FILE_WRITE, 0);
	evo_frame_add_str(&b, EVO_F_PATH, file);
	evo_frame_add(&b, EVO_F_DATA, "x", 1);
	evo_frame_add_str(&b, EVO_F_XATTR, "trusted.x=1");
	evo_frame_end(&b, m);
	client_send(&c, &b);
	free(client_expect_error(&c, 94, EINVAL));

	client_send_empty(&c, 90, EVO_MSG_FILE_UNWATCH);
	/* Events of the write above may still come first. */
	for (;;) {
		client_recv(&c, &r);
		if (r.f.stream == 90 && r.f.type == EVO_MSG_OK)
			break;
		cr_assert(r.f.stream == 90 && r.f.type == EVO_MSG_FILE_EVENT,
			  "stream %u type %u", r.f.stream, r.f.type);
		rx_free(&r);
	}
	rx_free(&r);
	client_send_empty(&c, 90, EVO_MSG_FILE_UNWATCH);
	free(client_expect_error(&c, 90, ESRCH));
	send_path(&c, 95, EVO_MSG_FILE_WATCH, 0, file);
	free(client_expect_error(&c, 95, ENOTDIR));

	client_stop(&c);
	free(file);
	free(sub);
	scratch_remove(dir);
}
