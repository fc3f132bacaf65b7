/* The CLI's side of `evoclaw serve` (docs/api.md).
 *
 * Two layers, bottom up:
 *  - a minimal HTTP/1.1 client over plain TCP: the evoclaw binary is
 *    linked statically, without libcurl, and the server speaks plain HTTP
 *    on a local port. One request per connection (Connection: close);
 *    the response is read by common/http_response.
 *  - the API's conventions, shared by `evoclaw cloud` and `evoclaw
 *    agents`: where the server is (EVOCLAW_URL), the key (EVOCLAW_API_KEY
 *    or <data dir>/admin.key), JSON bodies, and turning any failure into
 *    one line on stderr and an exit status.
 * The tables and lines those commands print are in cli_output.h; their
 * option parsing in cli.h. */
#ifndef EVOCLAW_CLI_HTTP_CLIENT_H
#define EVOCLAW_CLI_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "common/error.h"
#include "common/http_response.h"

#define API_DEFAULT_URL "http://127.0.0.1:8420"

/* The end of the help of every command that talks to the API. */
#define API_ENVIRONMENT_HELP                                                                 \
	"Environment: EVOCLAW_URL (the server, default " API_DEFAULT_URL "),\n"              \
	"EVOCLAW_API_KEY (default: the first line of $EVOCLAW_DATA_DIR/admin.key,\n"         \
	"EVOCLAW_DATA_DIR default ./data).\n"

/* ---- HTTP over TCP ---------------------------------------------------- */

/* An http:// URL, split for connecting. */
struct http_url {
	char *host;	 /* for getaddrinfo: an IPv6 address without brackets */
	char *port;	 /* decimal, default 80 */
	char *authority; /* the Host header: host[:port] as written */
	char *base_path; /* "" or "/prefix", no trailing slash; requests go below it */
};

/* Parse "http://host[:port][/prefix]" (the scheme may be left out).
 * https:// and other schemes are refused with a message that says so.
 * 0, or -1 with err (kind EVO_ERR_INVALID). */
int http_url_parse(const char *text, struct http_url *url, struct evo_error *err);
void http_url_free(struct http_url *url);

struct http_request {
	const char *method;
	const char *path;    /* below the URL's base path, starting with '/' */
	const char *api_key; /* sent as X-API-Key; NULL: none */
	const char *accept;  /* NULL: application/json */
	const char *body;    /* sent as application/json; NULL: no body */
	size_t body_len;
	/* How long to wait for the connection and then for each piece of the
	 * response, in ms; -1 waits for the response forever (a stream). */
	int timeout_ms;
};

/* http_request_send's failure before anything was sent: the server could
 * not be reached at all (err says why, errnum set when the system did). */
#define HTTP_CLIENT_UNREACHABLE (-2)

/* Connect to url, send req, and read one response into resp, which the
 * caller has init'ed (collecting the body, or passing it to a callback as
 * it arrives). Returns 0 when a complete response was read,
 * HTTP_CLIENT_UNREACHABLE, or -1 with err for any later failure (a
 * timeout, a reset, a malformed response). */
int http_request_send(const struct http_url *url, const struct http_request *req,
		      struct http_response *resp, struct evo_error *err);

/* ---- the orchestrator's API -------------------------------------------- */

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
