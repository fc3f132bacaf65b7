/* envd's wire pieces: Connect envelopes and error codes, request messages
 * with JSON or proto field names, Basic-auth users, base64 and passwd. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "api/envd_rpc.h"
#include "common/base64.h"
#include "common/passwd.h"

static int parse(enum envd_method m, const char *json, struct envd_request *r,
		 struct evo_error *err)
{
	return envd_request_parse(m, json, strlen(json), r, err);
}

static void expect_refused(enum envd_method m, const char *json, const char *message)
{
	struct envd_request r;
	struct evo_error err = {0};
	cr_assert_eq(parse(m, json, &r, &err), -1, "accepted %s", json);
	cr_assert(strstr(err.msg, message) != NULL, "%s: \"%s\" lacks \"%s\"", json, err.msg,
		  message);
	envd_request_free(&r);
}

Test(envd_rpc, start_as_the_sdk_sends_it)
{
	struct envd_request r;
	struct evo_error err = {0};
	cr_assert_eq(parse(ENVD_PROCESS_START,
			   "{\"process\":{\"cmd\":\"/bin/bash\",\"args\":[\"-l\",\"-c\",\"echo hi\"],"
			   "\"envs\":{\"X\":\"1\"},\"cwd\":\"/tmp\"},\"stdin\":false,\"unknown\":1}",
			   &r, &err),
		     0, "%s", err.msg);
	cr_assert_str_eq(r.cmd, "/bin/bash");
	cr_assert_eq(r.nargs, 3);
	cr_assert_str_eq(r.args[2], "echo hi");
	cr_assert_str_eq(json_string_value(json_object_get(r.envs, "X")), "1");
	cr_assert_str_eq(r.cwd, "/tmp");
	cr_assert(r.stdin_given && !r.stdin_open);
	cr_assert(!r.pty);
	envd_request_free(&r);
}

Test(envd_rpc, proto_names_and_defaults)
{
	struct envd_request r;
	struct evo_error err = {0};
	cr_assert_eq(parse(ENVD_FS_LIST_DIR, "{\"path\":\"/x\"}", &r, &err), 0);
	cr_assert_eq(r.depth, 1, "depth defaults to 1");
	envd_request_free(&r);
	cr_assert_eq(parse(ENVD_PROCESS_SEND_SIGNAL, "{\"process\":{\"pid\":\"42\"},\"signal\":9}",
			   &r, &err),
		     0, "%s", err.msg);
	cr_assert_eq(r.pid, 42);
	cr_assert_eq(r.signal, 9);
	envd_request_free(&r);
	cr_assert_eq(parse(ENVD_PROCESS_SEND_INPUT,
			   "{\"process\":{\"tag\":\"t\"},\"input\":{\"stdin\":\"YWJj\"}}", &r, &err),
		     0);
	cr_assert_eq(r.input_len, 3);
	cr_assert(memcmp(r.input, "abc", 3) == 0);
	cr_assert_str_eq(r.selector_tag, "t");
	envd_request_free(&r);
	cr_assert_eq(parse(ENVD_PROCESS_LIST, "", &r, &err), 0, "an empty body is {}");
	envd_request_free(&r);
}

Test(envd_rpc, refusals_name_the_field)
{
	expect_refused(ENVD_PROCESS_START, "{}", "process: required");
	expect_refused(ENVD_PROCESS_START, "{\"process\":{\"cmd\":\"\"}}", "process.cmd");
	expect_refused(ENVD_PROCESS_START, "{\"process\":{\"cmd\":\"x\",\"args\":[1]}}",
		       "process.args[0]");
	expect_refused(ENVD_PROCESS_START, "{\"process\":{\"cmd\":\"x\",\"envs\":{\"A=B\":\"c\"}}}",
		       "process.envs");
	expect_refused(ENVD_PROCESS_SEND_SIGNAL, "{\"process\":{\"pid\":1},\"signal\":\"SIGHUP\"}",
		       "signal:");
	expect_refused(ENVD_PROCESS_CONNECT, "{\"process\":{\"pid\":0}}", "process.pid");
	expect_refused(ENVD_PROCESS_SEND_INPUT, "{\"process\":{\"pid\":1},\"input\":{\"stdin\":\"%%\"}}",
		       "input.stdin: must be base64");
	expect_refused(ENVD_FS_LIST_DIR, "{\"path\":\"/\",\"depth\":65}", "depth");
	expect_refused(ENVD_FS_MOVE, "{\"source\":\"a\"}", "destination: required");
	expect_refused(ENVD_FS_STAT, "[]", "body: must be a JSON object");
	expect_refused(ENVD_FS_STAT, "{", "body: not JSON");
}

Test(envd_rpc, envelopes)
{
	struct evo_buf b = {0};
	connect_envelope_append(&b, CONNECT_FLAG_END_STREAM, "{}", 2);
	cr_assert_eq(b.len, 7);
	cr_assert(memcmp(b.data, "\x02\x00\x00\x00\x02{}", 7) == 0);
	const uint8_t *payload;
	size_t len;
	struct evo_error err = {0};
	b.data[0] = 0;
	cr_assert_eq(connect_envelope_single(b.data, b.len, &payload, &len, &err), 0);
	cr_assert_eq(len, 2);
	cr_assert_eq(connect_envelope_single(b.data, b.len - 1, &payload, &len, &err), -1,
		     "a short body");
	b.data[0] = 1;
	cr_assert_eq(connect_envelope_single(b.data, b.len, &payload, &len, &err), -1,
		     "compressed");
	evo_buf_free(&b);
}

Test(envd_rpc, error_codes)
{
	cr_assert_str_eq(connect_code_name(connect_code_from_errno(ENOENT)), "not_found");
	cr_assert_str_eq(connect_code_name(connect_code_from_errno(EEXIST)), "already_exists");
	cr_assert_eq(connect_code_http_status(CONNECT_NOT_FOUND), 404);
	cr_assert_eq(connect_code_http_status(CONNECT_UNAUTHENTICATED), 401);
	cr_assert_eq(envd_method_from_path("/process.Process/Start"), ENVD_PROCESS_START);
	cr_assert(envd_method_is_streaming(ENVD_FS_WATCH_DIR));
	cr_assert(!envd_method_is_streaming(ENVD_FS_STAT));
	cr_assert_eq(envd_method_from_path("/process.Process/Nope"), ENVD_METHOD_UNKNOWN);
}

Test(envd_rpc, basic_auth_users)
{
	char user[64];
	struct evo_error err = {0};
	cr_assert_eq(envd_basic_user("Basic cm9vdDo=", user, sizeof user, &err), 0);
	cr_assert_str_eq(user, "root");
	cr_assert_eq(envd_basic_user("Bearer x", user, sizeof user, &err), -1);
	cr_assert_eq(envd_basic_user("Basic Li4vZXRjOg==", user, sizeof user, &err), -1,
		     "../etc is no user name");
}

Test(envd_rpc, base64_both_alphabets)
{
	char out[16];
	base64_encode((const uint8_t *)"ab", 2, out);
	cr_assert_str_eq(out, "YWI=");
	uint8_t dec[16];
	size_t n;
	cr_assert(base64_decode("YWI", 3, dec, &n) && n == 2 && memcmp(dec, "ab", 2) == 0);
	cr_assert(base64_decode("-_8=", 4, dec, &n) && n == 2 && dec[0] == 0xfb && dec[1] == 0xff);
	cr_assert(!base64_decode("Y", 1, dec, &n));
	cr_assert(!base64_decode("Y=WI", 4, dec, &n));
}

Test(envd_rpc, passwd_by_name)
{
	const char *text = "# comment\nroot:x:0:0:root:/root:/bin/bash\nbad:x:a:0::/x:\n"
			   "user:x:1000:1000::/home/user:/bin/bash";
	struct passwd_entry pw;
	cr_assert(passwd_find_name(text, strlen(text), "user", &pw));
	cr_assert_eq(pw.uid, 1000);
	cr_assert_str_eq(pw.home, "/home/user");
	cr_assert(!passwd_find_name(text, strlen(text), "bad", &pw), "a non-numeric uid");
	cr_assert(!passwd_find_name(text, strlen(text), "nobody", &pw));
}
