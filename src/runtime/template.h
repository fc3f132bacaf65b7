/* Sandbox templates: what a sandbox is made of.
 *
 * A template is a JSON file templates/<name>.json naming read-only rootfs
 * layers, an optional entrypoint, environment, default resources, network
 * policy and the user commands run as. See docs/templates.md. */
#ifndef EVOCLAW_RUNTIME_TEMPLATE_H
#define EVOCLAW_RUNTIME_TEMPLATE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

#define TEMPLATE_NAME_MAX 64

/* One read-only layer: a host directory shown at `target` in the sandbox.
 * Layers sharing a target stack into one overlay, first listed on top. */
struct template_layer {
	char *path;   /* absolute host path */
	char *target; /* absolute path in the sandbox, "/" for the root */
};

struct template_resources {
	uint32_t cpu_millis; /* 1000 = one vCPU */
	uint32_t memory_mb;
	uint32_t disk_mb;    /* size of the writable layer */
	uint32_t pids;
};

enum template_network {
	TEMPLATE_NETWORK_NONE,  /* own netns with only lo */
	TEMPLATE_NETWORK_AGENT, /* the same, plus its orchestrator's doors: the
				 * telemetry endpoint and the MQTT broker
				 * (runtime/local/doors.h) */
};

struct template {
	char *name;
	char *description;
	struct template_layer *layers;
	size_t layer_count;
	char **entrypoint; /* NULL-terminated argv, NULL when the template idles */
	char **env;        /* NULL-terminated "KEY=VALUE" */
	struct template_resources resources;
	enum template_network network;
	char *user;        /* name commands run as by default */
	uint32_t uid, gid;
	char *home;
	char *workdir;
};

/* Limits accepted for resources (also for command-line overrides). */
#define TEMPLATE_MEMORY_MB_MIN 8u
#define TEMPLATE_MEMORY_MB_MAX (256u * 1024u)
#define TEMPLATE_DISK_MB_MIN 1u
#define TEMPLATE_DISK_MB_MAX (256u * 1024u)
#define TEMPLATE_PIDS_MIN 4u
#define TEMPLATE_PIDS_MAX 1000000u
#define TEMPLATE_CPU_MILLIS_MIN 10u
#define TEMPLATE_CPU_MILLIS_MAX (1024u * 1000u)

/* Is name a valid template name ([a-z0-9][a-z0-9_-]*, <= 64)? */
int template_name_valid(const char *name);

/* Parse a template from JSON text. `source` names it in errors;
 * `rootfs_dir` resolves "rootfs:NAME" layers, `base_dir` relative ones.
 * Errors name the JSON path ("resources.memory_mb: ..."). */
int template_parse(const char *json, size_t len, const char *source, const char *rootfs_dir,
		   const char *base_dir, struct template *out, struct evo_error *err);

/* Load templates/<name>.json from the templates directory. An unknown
 * name is EVO_ERR_NOT_FOUND and lists the available ones. */
int template_load(const char *name, struct template *out, struct evo_error *err);

/* Names of all templates, sorted; NULL-terminated, caller frees with
 * template_names_free. */
char **template_list(void);
void template_names_free(char **names);

void template_free(struct template *t);

#endif
