#include "runtime/template.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fileutil.h"
#include "runtime/paths.h"

int template_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > TEMPLATE_NAME_MAX)
		return 0;
	if (!islower((unsigned char)name[0]) && !isdigit((unsigned char)name[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!islower(c) && !isdigit(c) && c != '-' && c != '_')
			return 0;
	}
	return 1;
}

static int field_error(struct evo_error *err, const char *source, const char *path,
		       const char *what)
{
	return evo_error_set(err, EVO_ERR_INVALID, 0, "%s: %s: %s", source, path, what);
}

static int get_string(json_t *obj, const char *key, const char *source, bool required,
		      char **out, struct evo_error *err)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL) {
		if (required)
			return field_error(err, source, key, "required string is missing");
		return 0;
	}
	if (!json_is_string(v))
		return field_error(err, source, key, "must be a string");
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int get_uint(json_t *obj, const char *key, const char *path, const char *source,
		    uint64_t min, uint64_t max, uint32_t *out, struct evo_error *err)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
	    json_integer_value(v) > (json_int_t)max) {
		char what[128];
		snprintf(what, sizeof what, "must be an integer from %llu to %llu",
			 (unsigned long long)min, (unsigned long long)max);
		return field_error(err, source, path, what);
	}
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

/* Reject keys we do not know, so a typo is an error, not a silent default. */
static int check_keys(json_t *obj, const char *prefix, const char *const *allowed,
		      const char *source, struct evo_error *err)
{
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value) {
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok = ok || strcmp(*a, key) == 0;
		if (!ok) {
			char path[256];
			snprintf(path, sizeof path, "%s%s", prefix, key);
			return field_error(err, source, path, "unknown key");
		}
	}
	return 0;
}

static char **string_array(json_t *arr, const char *path, const char *source, bool nonempty,
			   struct evo_error *err)
{
	if (!json_is_array(arr)) {
		field_error(err, source, path, "must be an array of strings");
		return NULL;
	}
	size_t n = json_array_size(arr);
	if (nonempty && n == 0) {
		field_error(err, source, path, "must not be empty");
		return NULL;
	}
	char **out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(arr, i);
		if (!json_is_string(s)) {
			char p[128];
			snprintf(p, sizeof p, "%s[%zu]", path, i);
			field_error(err, source, p, "must be a string");
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
		out[i] = xstrdup(json_string_value(s));
	}
	return out;
}

static void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static int parse_layers(json_t *layers, const char *source, const char *rootfs_dir,
			const char *base_dir, struct template *t, struct evo_error *err)
{
	if (!json_is_array(layers) || json_array_size(layers) == 0)
		return field_error(err, source, "layers", "must be a non-empty array");
	size_t n = json_array_size(layers);
	t->layers = xcalloc(n, sizeof *t->layers);
	static const char *const keys[] = {"path", "at", NULL};
	for (size_t i = 0; i < n; i++) {
		json_t *l = json_array_get(layers, i);
		char where[64];
		snprintf(where, sizeof where, "layers[%zu]", i);
		if (!json_is_object(l))
			return field_error(err, source, where, "must be an object");
		char prefix[80];
		snprintf(prefix, sizeof prefix, "%s.", where);
		if (check_keys(l, prefix, keys, source, err) < 0)
			return -1;
		json_t *p = json_object_get(l, "path");
		json_t *at = json_object_get(l, "at");
		snprintf(prefix, sizeof prefix, "%s.path", where);
		if (!json_is_string(p) || json_string_length(p) == 0)
			return field_error(err, source, prefix, "must be a non-empty string");
		const char *ps = json_string_value(p);
		char resolved[PATH_MAX];
		if (strncmp(ps, "rootfs:", 7) == 0)
			snprintf(resolved, sizeof resolved, "%s/%s", rootfs_dir, ps + 7);
		else if (ps[0] == '/')
			snprintf(resolved, sizeof resolved, "%s", ps);
		else
			snprintf(resolved, sizeof resolved, "%s/%s", base_dir, ps);
		const char *target = "/";
		if (at != NULL) {
			snprintf(prefix, sizeof prefix, "%s.at", where);
			if (!json_is_string(at) || json_string_value(at)[0] != '/' ||
			    strstr(json_string_value(at), ".."))
				return field_error(err, source, prefix,
						   "must be an absolute path without '..'");
			target = json_string_value(at);
		}
		t->layers[i].path = xstrdup(resolved);
		t->layers[i].target = xstrdup(target);
		t->layer_count = i + 1;
	}
	if (strcmp(t->layers[0].target, "/") != 0)
		return field_error(err, source, "layers[0].at", "the first layer must be the root \"/\"");
	return 0;
}

static int parse_user(json_t *user, const char *source, struct template *t,
		      struct evo_error *err)
{
	if (user == NULL) {
		t->user = xstrdup("root");
		t->home = xstrdup("/root");
		return 0;
	}
	if (!json_is_object(user))
		return field_error(err, source, "user", "must be an object {name, uid, gid, home}");
	static const char *const keys[] = {"name", "uid", "gid", "home", NULL};
	if (check_keys(user, "user.", keys, source, err) < 0)
		return -1;
	if (get_string(user, "name", source, true, &t->user, err) < 0)
		return evo_error_prefix(err, "user");
	if (get_uint(user, "uid", "user.uid", source, 0, 65535, &t->uid, err) < 0 ||
	    get_uint(user, "gid", "user.gid", source, 0, 65535, &t->gid, err) < 0)
		return -1;
	if (get_string(user, "home", source, false, &t->home, err) < 0)
		return -1;
	if (t->home == NULL)
		t->home = t->uid == 0 ? xstrdup("/root") : xasprintf("/home/%s", t->user);
	if (t->home[0] != '/')
		return field_error(err, source, "user.home", "must be an absolute path");
	return 0;
}

static int parse_env(json_t *env, const char *source, struct template *t, struct evo_error *err)
{
	size_t n = env ? json_object_size(env) : 0;
	if (env != NULL && !json_is_object(env))
		return field_error(err, source, "env", "must be an object of strings");
	t->env = xcalloc(n + 1, sizeof *t->env);
	size_t i = 0;
	const char *key;
	json_t *value;
	json_object_foreach(env, key, value) {
		char path[160];
		snprintf(path, sizeof path, "env.%s", key);
		if (!json_is_string(value))
			return field_error(err, source, path, "must be a string");
		if (key[0] == '\0' || strchr(key, '='))
			return field_error(err, source, path, "name must be non-empty without '='");
		t->env[i++] = xasprintf("%s=%s", key, json_string_value(value));
	}
	return 0;
}

int template_parse(const char *json, size_t len, const char *source, const char *rootfs_dir,
		   const char *base_dir, struct template *out, struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "%s:%d:%d: %s", source, jerr.line,
				     jerr.column, jerr.text);
	int r = -1;
	if (!json_is_object(root)) {
		field_error(err, source, "(root)", "must be an object");
		goto out;
	}
	static const char *const keys[] = {"name", "description", "layers", "entrypoint", "env",
					   "resources", "network", "user", "workdir", NULL};
	if (check_keys(root, "", keys, source, err) < 0)
		goto out;
	if (get_string(root, "name", source, true, &out->name, err) < 0)
		goto out;
	if (!template_name_valid(out->name)) {
		field_error(err, source, "name", "must match [a-z0-9][a-z0-9_-]{0,63}");
		goto out;
	}
	if (get_string(root, "description", source, false, &out->description, err) < 0)
		goto out;
	if (parse_layers(json_object_get(root, "layers"), source, rootfs_dir, base_dir, out, err) < 0)
		goto out;
	json_t *ep = json_object_get(root, "entrypoint");
	if (ep != NULL && !json_is_null(ep)) {
		out->entrypoint = string_array(ep, "entrypoint", source, true, err);
		if (out->entrypoint == NULL)
			goto out;
	}
	if (parse_env(json_object_get(root, "env"), source, out, err) < 0)
		goto out;

	out->resources = (struct template_resources){
		.cpu_millis = 1000, .memory_mb = 512, .disk_mb = 512, .pids = 512};
	json_t *res = json_object_get(root, "resources");
	if (res != NULL) {
		static const char *const rkeys[] = {"vcpu", "memory_mb", "disk_mb", "pids", NULL};
		if (!json_is_object(res)) {
			field_error(err, source, "resources", "must be an object");
			goto out;
		}
		if (check_keys(res, "resources.", rkeys, source, err) < 0)
			goto out;
		json_t *vcpu = json_object_get(res, "vcpu");
		if (vcpu != NULL) {
			double v = json_is_number(vcpu) ? json_number_value(vcpu) : -1;
			if (v * 1000 < TEMPLATE_CPU_MILLIS_MIN || v * 1000 > TEMPLATE_CPU_MILLIS_MAX) {
				field_error(err, source, "resources.vcpu", "must be a number from 0.01 to 1024");
				goto out;
			}
			out->resources.cpu_millis = (uint32_t)(v * 1000 + 0.5);
		}
		if (get_uint(res, "memory_mb", "resources.memory_mb", source, TEMPLATE_MEMORY_MB_MIN,
			     TEMPLATE_MEMORY_MB_MAX, &out->resources.memory_mb, err) < 0 ||
		    get_uint(res, "disk_mb", "resources.disk_mb", source, TEMPLATE_DISK_MB_MIN,
			     TEMPLATE_DISK_MB_MAX, &out->resources.disk_mb, err) < 0 ||
		    get_uint(res, "pids", "resources.pids", source, TEMPLATE_PIDS_MIN,
			     TEMPLATE_PIDS_MAX, &out->resources.pids, err) < 0)
			goto out;
	}
	json_t *net = json_object_get(root, "network");
	const char *policy = net ? json_string_value(net) : "none";
	if (policy != NULL && strcmp(policy, "none") == 0) {
		out->network = TEMPLATE_NETWORK_NONE;
	} else if (policy != NULL && strcmp(policy, "agent") == 0) {
		out->network = TEMPLATE_NETWORK_AGENT;
	} else {
		field_error(err, source, "network",
			    "must be \"none\" (only lo) or \"agent\" (only lo, plus the "
			    "orchestrator's telemetry socket and MQTT relay)");
		goto out;
	}
	if (parse_user(json_object_get(root, "user"), source, out, err) < 0)
		goto out;
	if (get_string(root, "workdir", source, false, &out->workdir, err) < 0)
		goto out;
	if (out->workdir == NULL)
		out->workdir = xstrdup(out->home);
	if (out->workdir[0] != '/') {
		field_error(err, source, "workdir", "must be an absolute path");
		goto out;
	}
	r = 0;
out:
	json_decref(root);
	if (r < 0)
		template_free(out);
	return r;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **template_list(void)
{
	const struct evo_paths *paths = evo_paths_get();
	size_t n = 0, cap = 8;
	char **names = xcalloc(cap, sizeof *names);
	DIR *d = opendir(paths->templates);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			size_t len = strlen(e->d_name);
			if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
				continue;
			if (n + 2 > cap) {
				cap *= 2;
				names = xrealloc(names, cap * sizeof *names);
			}
			names[n++] = xstrndup(e->d_name, len - 5);
		}
		closedir(d);
	}
	names[n] = NULL;
	qsort(names, n, sizeof *names, compare_names);
	return names;
}

void template_names_free(char **names)
{
	strv_free(names);
}

int template_load(const char *name, struct template *out, struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	if (!template_name_valid(name))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "template: invalid name \"%.80s\" (use [a-z0-9][a-z0-9_-]*)", name);
	const struct evo_paths *paths = evo_paths_get();
	char file[PATH_MAX];
	snprintf(file, sizeof file, "%s/%s.json", paths->templates, name);
	size_t len;
	char *text = read_file_all(file, &len);
	if (text == NULL) {
		if (errno != ENOENT)
			return evo_error_errno(err, "template %s: read %s", name, file);
		char **names = template_list();
		char avail[512] = "";
		for (char **p = names; *p; p++) {
			size_t used = strlen(avail);
			snprintf(avail + used, sizeof avail - used, "%s%s", used ? ", " : "", *p);
		}
		template_names_free(names);
		return evo_error_set(err, EVO_ERR_NOT_FOUND, 0,
				     "unknown template \"%s\" (available: %s)", name,
				     avail[0] ? avail : "none");
	}
	int r = template_parse(text, len, file, paths->rootfs, paths->templates, out, err);
	free(text);
	if (r == 0 && strcmp(out->name, name) != 0) {
		evo_error_set(err, EVO_ERR_INVALID, 0, "%s: name: \"%s\" does not match the file name",
			      file, out->name);
		template_free(out);
		return -1;
	}
	return r;
}

void template_free(struct template *t)
{
	free(t->name);
	free(t->description);
	for (size_t i = 0; i < t->layer_count; i++) {
		free(t->layers[i].path);
		free(t->layers[i].target);
	}
	free(t->layers);
	strv_free(t->entrypoint);
	strv_free(t->env);
	free(t->user);
	free(t->home);
	free(t->workdir);
	memset(t, 0, sizeof *t);
}
