/* A minimal HTTP/1.1 client: what the CLI and the edge agent use to talk
 * to `evoclaw serve`. Linked statically without libcurl (the server speaks
 * plain HTTP on a local port or a unix socket). One request per connection
 * (Connection: close); the response is read by common/http_response. */
#ifndef EVOCLAW_COMMON_HTTP_CLIENT_H
#define EVOCLAW_COMMON_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/http_response.h"

/* An http:// URL (or unix:/path/to/socket, for a server listening on a
 * unix socket), split for connecting. */
struct http_url {
	char *socket_path; /* a unix socket's path; NULL: TCP to host:port */
	char *host;	 /* for getaddrinfo: an IPv6 address without brackets */
	char *port;	 /* decimal, default 80 */
	char *authority; /* the Host header: host[:port] as written */
	char *base_path; /* "" or "/prefix", no trailing slash; requests go below it */
};

/* Parse "http://host[:port][/prefix]" (the scheme may be left out) or
 * "unix:/absolute/path.sock".
 * https:// and other schemes are refused with a message that says so.
 * 0, or -1 with err (kind EVO_ERR_INVALID). */
int http_url_parse(const char *text, struct http_url *url, struct evo_error *err);
void http_url_free(struct http_url *url);

struct http_request {
	const char *method;
	const char *path;    /* below the URL's base path, starting with '/' */
	const char *api_key; /* sent as X-API-Key; NULL: none */
	const char *header;  /* one more header, "Name: value"; NULL: none */
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

#endif
