/* Warm sandboxes: complete, never-used sandboxes kept ready per template
 * and resources, so a sandbox is handed out in well under a millisecond
 * instead of being built on demand (~2.5 ms of namespaces, mounts, cgroups
 * and execs).
 *
 * A warm sandbox is an ordinary supervised sandbox (no entrypoint, idle
 * init) plus a marker file <run dir>/warm/<key>/<id>. Taking one removes
 * the marker (unlink: exactly one taker wins); the taker then claims it
 * over the control socket (SUP_CLAIM), which ties the sandbox's life to
 * that connection and makes its supervisor start a detached refill. Each
 * sandbox is used once and destroyed after; nothing is recycled. A warm
 * sandbox not taken within WARMPOOL_IDLE_TIMEOUT_S is retired by its own
 * timeout. EVOCLAW_WARM_POOL=0 disables the pool. */
#ifndef EVOCLAW_RUNTIME_LOCAL_WARMPOOL_H
#define EVOCLAW_RUNTIME_LOCAL_WARMPOOL_H

#include <stdbool.h>

#include "common/error.h"
#include "runtime/local/sandbox.h"
#include "runtime/local/state.h"
#include "runtime/template.h"

#define WARMPOOL_TARGET 2
#define WARMPOOL_IDLE_TIMEOUT_S 600
#define WARMPOOL_KEY_MAX (TEMPLATE_NAME_MAX + 64)

bool warmpool_enabled(void);

/* The pool for a template with some resources overridden (0 fields keep
 * the template's): "<template>[.c<cpu millis>][.m<MiB>][.d<MiB>][.p<pids>]".
 * Built from what was asked, not what the template resolves to, so a
 * taker finds its pool before it has even read the template. */
void warmpool_key(const char *template_name, const struct template_resources *overrides,
		  char out[WARMPOOL_KEY_MAX]);

/* Back from a key to template name and overrides; -1 for a bad key. */
int warmpool_key_parse(const char *key, char name[TEMPLATE_NAME_MAX + 1],
		       struct template_resources *overrides);

/* Take a warm sandbox from pool `key`: 0 with its id, or -1 when none is
 * ready. The caller must claim it (SUP_CLAIM); if its supervisor died
 * meanwhile, connecting fails and the caller builds one. */
int warmpool_take(const char *key, char id[SANDBOX_ID_MAX]);

/* Start a detached process that brings pool `key` up to WARMPOOL_TARGET,
 * one refiller per pool at a time. Safe to call from a supervisor. */
void warmpool_refill_async(const char *key);

/* Bring pool `key` up to target now, built from the template as it is
 * now with the key's overrides. Returns how many were added or -1. */
int warmpool_fill(const char *key, int target, struct evo_error *err);

/* Is this running sandbox a warm one, not yet taken? */
bool warmpool_is_warm(const struct sandbox_state *st);

/* Mark a new pool sandbox warm (its supervisor does, before it publishes
 * its state). */
int warmpool_mark(const struct sandbox_state *st, struct evo_error *err);

/* A warm sandbox is ending unclaimed (timeout, kill): drop its marker so
 * nobody takes it and refills do not count it. */
void warmpool_forget(const struct sandbox_state *st);

/* Warm sandboxes ready, over all pools. */
int warmpool_count(void);

/* Kill every warm sandbox, after waiting for claimed pool sandboxes to
 * end (up to a minute for all) and for the refills they start (30 s).
 * Returns how many were killed. */
int warmpool_drain(void);

#endif
