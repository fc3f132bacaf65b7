/* The CLI's side of `evoclaw serve` (docs/api.md), over common/http_client:
 * the API's conventions, shared by `evoclaw cloud`, `agents` and `saas`:
 * where the server is (EVOCLAW_URL), the key (EVOCLAW_API_KEY or <data
 * dir>/admin.key), JSON bodies, and turning any failure into one line on
 * stderr and an exit status.
 * The tables and lines those commands print are in cli_output.h; their
 * option parsing in cli.h. */
#ifndef EVOCLAW_CLI_API_CLIENT_H
#define EVOCLAW_CLI_API_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "common/error.h"
#include "common/http_client.h"
#include "common/http_response.h"

#define API_DEFAULT_URL "http://127.0.0.1:8420"

/* The end of the help of every command that talks to the API. */
#define API_ENVIRONMENT_HELP                                                                 \
	"Environment: EVOCLAW_URL (the server, default " API_DEFAULT_URL "),\n"              \
	"EVOCLAW_API_KEY (default: the first line of $EVOCLAW_DATA_DIR/admin.key,\n"         \
	"EVOCLAW_DATA_DIR default ./data).\n"

struct api_client {
	char *url; /* as configured, for messages */
	struct http_url endpoint;
	char *api_key;	   /* NULL: none found (the server may not need one) */
	char *key_origin;  /* where the key came from, or where it was looked for */
};

/* Configure from EVOCLAW_URL, EVOCLAW_API_KEY, EVOCLAW_DATA_DIR. Returns 0,
 * or an exit status after printing what is wrong. A missing key file is
 * not an error: a 401 later says where the key was looked for. */
int api_client_init(struct api_client *c);
void api_client_free(struct api_client *c);

/* Send method path with body (NULL: none) and read the JSON answer. On a
 * 2xx status: 0, with the decoded JSON in *out (NULL allowed; the caller
 * json_decref()s it) and the text exactly as received in *raw (NULL
 * allowed; the caller frees it). Otherwise prints the failure, e.g.
 * "evoclaw: <the server's error.message> (HTTP 404)", and returns the exit
 * status (1). */
int api_call(struct api_client *c, const char *method, const char *path, const json_t *body,
	     json_t **out, char **raw);

/* GET path and pass a 2xx response's body to on_data as it arrives, until
 * the server ends it. 0, or an exit status after printing the failure (an
 * error status's JSON message as api_call does). */
int api_stream(struct api_client *c, const char *path, http_body_fn on_data, void *ctx);

/* s percent-encoded for a path segment or a query value (newly
 * allocated). */
char *api_escape(const char *s);

/* Print a server's JSON exactly as it sent it (--json), ending the line. */
void api_print_raw(const char *raw);

/* How a command prints a 2xx answer (the decoded JSON) for people. */
typedef void api_print_fn(const json_t *reply, void *ctx);

/* api_call, then print the answer: with json exactly as the server sent
 * it (api_print_raw), else through print(reply, ctx). 0, or api_call's
 * exit status. */
int api_call_print(struct api_client *c, const char *method, const char *path,
		   const json_t *body, bool json, api_print_fn *print, void *ctx);

/* api_call_print on a client of its own (api_client_init), for a command
 * that makes one request. */
int api_request_print(const char *method, const char *path, const json_t *body, bool json,
		      api_print_fn *print, void *ctx);

#endif
