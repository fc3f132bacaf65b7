#include <criterion/criterion.h>
#include <string.h>

#include "runtime/template.h"

static int parse(const char *json, struct template *t, struct evo_error *err)
{
	return template_parse(json, strlen(json), "t.json", "/rootfs", "/tmpl", t, err);
}

Test(template, full_template_parses)
{
	struct template t;
	struct evo_error err = {0};
	int r = parse("{\"name\":\"py\",\"description\":\"d\","
		      "\"layers\":[{\"path\":\"rootfs:base\"},{\"path\":\"/usr\",\"at\":\"/usr\"},"
		      "{\"path\":\"extra\",\"at\":\"/usr\"}],"
		      "\"entrypoint\":[\"python3\",\"-u\"],\"env\":{\"A\":\"1\"},"
		      "\"resources\":{\"vcpu\":0.5,\"memory_mb\":256,\"disk_mb\":64,\"pids\":100},"
		      "\"network\":\"none\",\"user\":{\"name\":\"user\",\"uid\":1000,\"gid\":1000},"
		      "\"workdir\":\"/tmp\"}",
		      &t, &err);
	cr_assert_eq(r, 0, "%s", err.msg);
	cr_expect_str_eq(t.name, "py");
	cr_expect_eq(t.layer_count, 3);
	cr_expect_str_eq(t.layers[0].path, "/rootfs/base");
	cr_expect_str_eq(t.layers[0].target, "/");
	cr_expect_str_eq(t.layers[1].path, "/usr");
	cr_expect_str_eq(t.layers[1].target, "/usr");
	cr_expect_str_eq(t.layers[2].path, "/tmpl/extra");
	cr_expect_str_eq(t.entrypoint[0], "python3");
	cr_expect_str_eq(t.entrypoint[1], "-u");
	cr_expect_null(t.entrypoint[2]);
	cr_expect_str_eq(t.env[0], "A=1");
	cr_expect_eq(t.resources.cpu_millis, 500);
	cr_expect_eq(t.resources.memory_mb, 256);
	cr_expect_eq(t.resources.disk_mb, 64);
	cr_expect_eq(t.resources.pids, 100);
	cr_expect_eq(t.uid, 1000);
	cr_expect_str_eq(t.home, "/home/user");
	cr_expect_str_eq(t.workdir, "/tmp");
	template_free(&t);
}

Test(template, defaults_apply)
{
	struct template t;
	struct evo_error err = {0};
	cr_assert_eq(parse("{\"name\":\"m\",\"layers\":[{\"path\":\"/x\"}]}", &t, &err), 0, "%s", err.msg);
	cr_expect_null(t.entrypoint);
	cr_expect_eq(t.resources.memory_mb, 512);
	cr_expect_str_eq(t.user, "root");
	cr_expect_str_eq(t.home, "/root");
	cr_expect_str_eq(t.workdir, "/root");
	template_free(&t);
}

struct bad_case {
	const char *json;
	const char *want; /* substring of the error naming the problem */
};

Test(template, bad_templates_name_the_field)
{
	static const struct bad_case cases[] = {
		{"{", "t.json:1:"},
		{"[]", "(root): must be an object"},
		{"{\"layers\":[{\"path\":\"/x\"}]}", "name: required"},
		{"{\"name\":\"Bad Name\",\"layers\":[{\"path\":\"/x\"}]}", "name: must match"},
		{"{\"name\":\"a\"}", "layers: must be a non-empty array"},
		{"{\"name\":\"a\",\"layers\":[]}", "layers: must be a non-empty array"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":1}]}", "layers[0].path"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\",\"at\":\"/a/../b\"}]}", "layers[0].at"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\",\"at\":\"/usr\"}]}", "layers[0].at: the first layer"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\",\"size\":1}]}", "layers[0].size: unknown key"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"colour\":1}", "colour: unknown key"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"entrypoint\":[]}", "entrypoint: must not be empty"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"entrypoint\":[\"a\",2]}", "entrypoint[1]"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"env\":{\"A\":1}}", "env.A: must be a string"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"env\":{\"A=B\":\"x\"}}", "env.A=B"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"resources\":{\"memory_mb\":1}}", "resources.memory_mb"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"resources\":{\"memory_mb\":\"lots\"}}", "resources.memory_mb"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"resources\":{\"pids\":-3}}", "resources.pids"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"resources\":{\"vcpu\":0}}", "resources.vcpu"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"resources\":{\"gpu\":1}}", "resources.gpu: unknown key"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"network\":\"host\"}", "network"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"user\":{\"uid\":1}}", "name: required"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"user\":{\"name\":\"u\",\"uid\":70000}}", "user.uid"},
		{"{\"name\":\"a\",\"layers\":[{\"path\":\"/x\"}],\"workdir\":\"rel\"}", "workdir: must be an absolute path"},
		{"{\"name\":\"a\",\"name\":\"b\",\"layers\":[{\"path\":\"/x\"}]}", "duplicate"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct template t;
		struct evo_error err = {0};
		cr_expect_eq(parse(cases[i].json, &t, &err), -1, "case %zu accepted: %s", i, cases[i].json);
		cr_expect_eq(err.kind, EVO_ERR_INVALID, "case %zu kind", i);
		cr_expect(strstr(err.msg, cases[i].want) != NULL, "case %zu: want \"%s\" in \"%s\"", i,
			  cases[i].want, err.msg);
	}
}

Test(template, names)
{
	cr_expect(template_name_valid("base"));
	cr_expect(template_name_valid("py-3_11"));
	cr_expect_not(template_name_valid(""));
	cr_expect_not(template_name_valid("-x"));
	cr_expect_not(template_name_valid("../etc"));
	cr_expect_not(template_name_valid("Base"));
}

Test(template, unknown_template_lists_available)
{
	setenv("EVOCLAW_TEMPLATES_DIR", "templates", 1);
	struct template t;
	struct evo_error err = {0};
	cr_assert_eq(template_load("no-such-template", &t, &err), -1);
	cr_expect_eq(err.kind, EVO_ERR_NOT_FOUND);
	cr_expect(strstr(err.msg, "minimal") != NULL, "%s", err.msg);
}

Test(template, builtin_templates_all_load)
{
	setenv("EVOCLAW_TEMPLATES_DIR", "templates", 1);
	static const char *const names[] = {"base", "minimal", "python", "nodejs"};
	for (size_t i = 0; i < 4; i++) {
		struct template t;
		struct evo_error err = {0};
		cr_expect_eq(template_load(names[i], &t, &err), 0, "%s: %s", names[i], err.msg);
		if (err.kind == EVO_ERR_NONE)
			template_free(&t);
	}
}
