#include "runtime/local/state.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fileutil.h"

int sandbox_state_write(const char *path, const struct sandbox_state *st, struct evo_error *err)
{
	json_t *paths = json_array();
	int n = st->cgroup.v2 ? 1 : CGROUP_CONTROLLER_COUNT;
	for (int c = 0; c < n; c++)
		json_array_append_new(paths, json_string(st->cgroup.path[c]));
	json_t *root = json_pack(
		"{s:s, s:s, s:i, s:i, s:I, s:I, s:b, s:{s:i, s:i, s:i, s:i}, s:{s:b, s:o}}",
		"id", st->id, "template", st->template_name, "supervisor_pid", (int)st->supervisor_pid,
		"init_pid", (int)st->init_pid, "created_ms", (json_int_t)st->created_ms,
		"deadline_ms", (json_int_t)st->deadline_ms, "entrypoint", st->has_entrypoint,
		"resources", "cpu_millis", (int)st->resources.cpu_millis, "memory_mb",
		(int)st->resources.memory_mb, "disk_mb", (int)st->resources.disk_mb, "pids",
		(int)st->resources.pids, "cgroup", "v2", st->cgroup.v2, "paths", paths);
	if (root != NULL && st->pool_key[0])
		json_object_set_new(root, "pool", json_string(st->pool_key));
	if (root != NULL && st->owner[0])
		json_object_set_new(root, "owner", json_string(st->owner));
	if (root != NULL && st->id_slot >= 0)
		json_object_set_new(root, "id_slot", json_integer(st->id_slot));
	if (root != NULL && st->paused)
		json_object_set_new(root, "paused",
				    json_pack("{s:I, s:I}", "since_ms", (json_int_t)st->paused_ms,
					      "remaining_ms", (json_int_t)st->remaining_ms));
	if (root == NULL)
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "encode sandbox state");
	_cleanup_free_ char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text == NULL)
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "encode sandbox state");
	if (write_file_atomic(path, text, strlen(text), 0600) < 0)
		return evo_error_errno(err, "write %s", path);
	return 0;
}

int sandbox_state_read(const char *path, struct sandbox_state *out, struct evo_error *err)
{
	memset(out, 0, sizeof *out);
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	if (root == NULL) {
		if (access(path, F_OK) < 0)
			return evo_error_set(err, EVO_ERR_NOT_FOUND, errno, "read %s", path);
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "%s: %s", path, jerr.text);
	}
	const char *id = NULL, *tmpl = NULL;
	int sup = 0, init = 0, entry = 0, v2 = 0;
	json_int_t created = 0, deadline = 0;
	int cpu = 0, mem = 0, disk = 0, pids = 0;
	json_t *paths = NULL;
	if (json_unpack_ex(root, &jerr, 0,
			   "{s:s, s:s, s:i, s:i, s:I, s:I, s:b, s:{s:i, s:i, s:i, s:i}, s:{s:b, s:o}}",
			   "id", &id, "template", &tmpl, "supervisor_pid", &sup, "init_pid", &init,
			   "created_ms", &created, "deadline_ms", &deadline, "entrypoint", &entry,
			   "resources", "cpu_millis", &cpu, "memory_mb", &mem, "disk_mb", &disk, "pids",
			   &pids, "cgroup", "v2", &v2, "paths", &paths) < 0 ||
	    !json_is_array(paths)) {
		json_decref(root);
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "%s: %s", path, jerr.text);
	}
	snprintf(out->id, sizeof out->id, "%s", id);
	snprintf(out->template_name, sizeof out->template_name, "%s", tmpl);
	out->supervisor_pid = sup;
	out->init_pid = init;
	out->created_ms = created;
	out->deadline_ms = deadline;
	out->has_entrypoint = entry;
	out->resources = (struct template_resources){(uint32_t)cpu, (uint32_t)mem, (uint32_t)disk,
						     (uint32_t)pids};
	out->cgroup.v2 = v2;
	for (size_t i = 0; i < json_array_size(paths) && i < CGROUP_CONTROLLER_COUNT; i++) {
		json_t *p = json_array_get(paths, i);
		if (json_is_string(p))
			snprintf(out->cgroup.path[i], CGROUP_PATH_MAX, "%s", json_string_value(p));
	}
	json_t *slot = json_object_get(root, "id_slot");
	out->id_slot = json_is_integer(slot) ? (int)json_integer_value(slot) : -1;
	json_t *pool = json_object_get(root, "pool");
	if (json_is_string(pool))
		snprintf(out->pool_key, sizeof out->pool_key, "%s", json_string_value(pool));
	json_int_t since = 0, remaining = 0;
	json_t *paused = json_object_get(root, "paused");
	if (json_is_object(paused) && json_unpack(paused, "{s:I, s:I}", "since_ms", &since,
						  "remaining_ms", &remaining) == 0) {
		out->paused = true;
		out->paused_ms = since;
		out->remaining_ms = remaining;
	}
	json_t *owner = json_object_get(root, "owner");
	if (json_is_string(owner))
		snprintf(out->owner, sizeof out->owner, "%s", json_string_value(owner));
	json_decref(root);
	return 0;
}
