#include "cli/api_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/fileutil.h"

/* ---- the orchestrator's API -------------------------------------------- */

/* How long a request may wait for the server (a spawn answers at once:
 * the agent starts after the response). */
#define API_TIMEOUT_MS 60000

static bool key_is_printable(const char *key)
{
	for (const unsigned char *c = (const unsigned char *)key; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

/* Show a relative path as an absolute one, for messages. */
static char *absolute_path(const char *path)
{
	char cwd[4096];
	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return xstrdup(path);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	return xasprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
}

/* The key from EVOCLAW_API_KEY, else the first line of the admin key
 * file. Sets c->api_key (or leaves it NULL) and c->key_origin. Returns 0
 * or an exit status. */
static int find_api_key(struct api_client *c)
{
	const char *env = getenv("EVOCLAW_API_KEY");
	if (env && env[0]) {
		if (!key_is_printable(env))
			return cli_usage_error("EVOCLAW_API_KEY contains control characters");
		c->api_key = xstrdup(env);
		c->key_origin = xstrdup("EVOCLAW_API_KEY");
		return 0;
	}
	const char *data_dir = getenv("EVOCLAW_DATA_DIR");
	if (data_dir == NULL || data_dir[0] == '\0')
		data_dir = "./data";
	_cleanup_free_ char *joined = xasprintf("%s/admin.key", data_dir);
	_cleanup_free_ char *path = absolute_path(joined);
	char key[1024];
	ssize_t n = read_file_small(path, key, sizeof key);
	if (n < 0) {
		c->key_origin = errno == ENOENT
					? xasprintf("EVOCLAW_API_KEY is not set and %s does not exist",
						    path)
					: xasprintf("EVOCLAW_API_KEY is not set and %s cannot be read: %s",
						    path, strerror(errno));
		return 0;
	}
	key[strcspn(key, "\r\n")] = '\0';
	size_t len = strlen(key);
	while (len > 0 && (key[len - 1] == ' ' || key[len - 1] == '\t'))
		key[--len] = '\0';
	if (len == 0) {
		c->key_origin = xasprintf("EVOCLAW_API_KEY is not set and %s is empty", path);
		return 0;
	}
	if (!key_is_printable(key))
		return cli_usage_error("%s: the key contains control characters", path);
	c->api_key = xstrdup(key);
	c->key_origin = xstrdup(path);
	return 0;
}

int api_client_init(struct api_client *c)
{
	memset(c, 0, sizeof *c);
	const char *url = getenv("EVOCLAW_URL");
	if (url == NULL || url[0] == '\0')
		url = API_DEFAULT_URL;
	struct evo_error err = {0};
	if (http_url_parse(url, &c->endpoint, &err) < 0)
		return cli_usage_error("EVOCLAW_URL: %s", err.msg);
	c->url = xstrdup(url);
	size_t len = strlen(c->url);
	while (len > 0 && c->url[len - 1] == '/')
		c->url[--len] = '\0';
	int code = find_api_key(c);
	if (code)
		api_client_free(c);
	return code;
}

void api_client_free(struct api_client *c)
{
	free(c->url);
	http_url_free(&c->endpoint);
	free(c->api_key);
	free(c->key_origin);
	memset(c, 0, sizeof *c);
}

/* Server text for the terminal: control characters become '?', and
 * long texts are cut. */
static void sanitize_text(const char *text, size_t len, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 4 < size; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch == '\n' || ch == '\r')
			break;
		out[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (o + 4 >= size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Print "evoclaw: <message> (HTTP <status>)" from an error response, and
 * for a 401 where the key came from or was looked for. */
static void report_http_error(const struct api_client *c, const struct http_response *resp,
			      const char *body, size_t body_len)
{
	json_t *doc = body_len ? json_loadb(body, body_len, 0, NULL) : NULL;
	const char *message = NULL;
	if (json_is_object(doc)) {
		json_t *e = json_object_get(doc, "error");
		if (json_is_object(e))
			message = json_string_value(json_object_get(e, "message"));
		else if (json_is_string(e))
			message = json_string_value(e);
		/* E2B's shape: {"code": 404, "message": "..."}. */
		if (message == NULL)
			message = json_string_value(json_object_get(doc, "message"));
	}
	char text[400];
	if (message)
		sanitize_text(message, strlen(message), text, sizeof text);
	else if (body_len && doc == NULL)
		sanitize_text(body, body_len, text, sizeof text);
	else
		text[0] = '\0';
	if (text[0] == '\0') {
		const char *reason = resp->reason && resp->reason[0] ? resp->reason : "request failed";
		sanitize_text(reason, strlen(reason), text, sizeof text);
	}
	fprintf(stderr, "evoclaw: %s (HTTP %d)\n", text, resp->status);
	json_decref(doc);
	if (resp->status != 401)
		return;
	if (c->api_key == NULL)
		fprintf(stderr,
			"evoclaw: no API key was sent: %s (set EVOCLAW_API_KEY, or EVOCLAW_DATA_DIR "
			"to the server's data dir)\n",
			c->key_origin);
	else if (strcmp(c->key_origin, "EVOCLAW_API_KEY") == 0)
		fprintf(stderr, "evoclaw: the API key sent came from EVOCLAW_API_KEY\n");
	else
		fprintf(stderr,
			"evoclaw: the API key sent came from %s (EVOCLAW_API_KEY is not set; set "
			"it, or EVOCLAW_DATA_DIR to the server's data dir)\n",
			c->key_origin);
}

static int report_transport_error(const struct api_client *c, int rc,
				  const struct evo_error *err)
{
	if (rc == HTTP_CLIENT_UNREACHABLE)
		fprintf(stderr, "evoclaw: cannot reach evoclaw serve at %s: %s (is it running? set "
				"EVOCLAW_URL)\n",
			c->url, err->errnum ? strerror(err->errnum) : err->msg);
	else
		fprintf(stderr, "evoclaw: evoclaw serve at %s: %s\n", c->url, err->msg);
	return CLI_EXIT_FAILURE;
}

static bool status_ok(int status)
{
	return status >= 200 && status < 300;
}

/* The fewest significant digits (15 to 17) that print every real in
 * value so that it reads back the same: a genome's 0.1 goes out as 0.1,
 * not 0.10000000000000001, and nothing is rounded. */
static int real_digits(const json_t *value)
{
	int digits = 15;
	size_t i;
	const char *key;
	json_t *item;
	if (json_is_real(value)) {
		double v = json_real_value(value);
		char text[64];
		for (; digits < 17; digits++) {
			snprintf(text, sizeof text, "%.*g", digits, v);
			if (strtod(text, NULL) == v)
				break;
		}
	} else if (json_is_object(value)) {
		json_object_foreach((json_t *)value, key, item) {
			int d = real_digits(item);
			digits = d > digits ? d : digits;
		}
	} else if (json_is_array(value)) {
		json_array_foreach(value, i, item) {
			int d = real_digits(item);
			digits = d > digits ? d : digits;
		}
	}
	return digits;
}

int api_call(struct api_client *c, const char *method, const char *path, const json_t *body,
	     json_t **out, char **raw)
{
	if (out)
		*out = NULL;
	if (raw)
		*raw = NULL;
	_cleanup_free_ char *text =
		body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(real_digits(body)))
		     : NULL;
	struct http_request req = {
		.method = method,
		.path = path,
		.api_key = c->api_key,
		.body = text,
		.body_len = text ? strlen(text) : 0,
		.timeout_ms = API_TIMEOUT_MS,
	};
	struct http_response resp;
	http_response_init(&resp, NULL, NULL);
	struct evo_error err = {0};
	int rc = http_request_send(&c->endpoint, &req, &resp, &err);
	if (rc < 0) {
		http_response_free(&resp);
		return report_transport_error(c, rc, &err);
	}
	if (!status_ok(resp.status)) {
		report_http_error(c, &resp, resp.body, resp.body_len);
		http_response_free(&resp);
		return CLI_EXIT_FAILURE;
	}
	/* 204 No Content: nothing to decode. */
	if (out && resp.status == 204) {
		*out = json_null();
	} else if (out) {
		json_error_t jerr;
		*out = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, &jerr);
		if (*out == NULL) {
			fprintf(stderr,
				"evoclaw: evoclaw serve at %s sent a response that is not JSON (HTTP "
				"%d): %s\n",
				c->url, resp.status, jerr.text);
			http_response_free(&resp);
			return CLI_EXIT_FAILURE;
		}
	}
	if (raw)
		*raw = resp.body ? steal_pointer(&resp.body) : xstrdup("");
	http_response_free(&resp);
	return 0;
}

/* Routes a streamed body: a success's to the caller, an error's into a
 * bounded buffer for its message. */
struct stream_route {
	struct http_response *resp;
	http_body_fn on_data;
	void *ctx;
	char error_body[16384];
	size_t error_len;
};

static int route_body(void *ctx, const char *data, size_t len, struct evo_error *err)
{
	struct stream_route *route = ctx;
	if (status_ok(route->resp->status))
		return route->on_data(route->ctx, data, len, err);
	size_t room = sizeof route->error_body - 1 - route->error_len;
	if (len > room)
		len = room;
	memcpy(route->error_body + route->error_len, data, len);
	route->error_len += len;
	return 0;
}

int api_stream(struct api_client *c, const char *path, http_body_fn on_data, void *ctx)
{
	struct http_request req = {
		.method = "GET",
		.path = path,
		.api_key = c->api_key,
		.accept = "text/plain, application/json",
		.timeout_ms = -1,
	};
	struct http_response resp;
	struct stream_route route = {.resp = &resp, .on_data = on_data, .ctx = ctx};
	http_response_init(&resp, route_body, &route);
	/* Unbounded: a stream lasts as long as its agent. */
	resp.body_max = UINT64_MAX;
	struct evo_error err = {0};
	int rc = http_request_send(&c->endpoint, &req, &resp, &err);
	bool ok = status_ok(resp.status);
	int code = 0;
	if (rc < 0 && (rc == HTTP_CLIENT_UNREACHABLE || !http_response_head_complete(&resp) || ok)) {
		code = report_transport_error(c, rc, &err);
	} else if (!ok) {
		report_http_error(c, &resp, route.error_body, route.error_len);
		code = CLI_EXIT_FAILURE;
	}
	http_response_free(&resp);
	return code;
}

char *api_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(s);
	char *out = xmalloc(len * 3 + 1), *o = out;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    *c == '-' || *c == '.' || *c == '_' || *c == '~') {
			*o++ = (char)*c;
		} else {
			*o++ = '%';
			*o++ = hex[*c >> 4];
			*o++ = hex[*c & 15];
		}
	}
	*o = '\0';
	return out;
}

void api_print_raw(const char *raw)
{
	size_t len = strlen(raw);
	fwrite(raw, 1, len, stdout);
	if (len == 0 || raw[len - 1] != '\n')
		putchar('\n');
}

int api_call_print(struct api_client *c, const char *method, const char *path,
		   const json_t *body, bool json, api_print_fn *print, void *ctx)
{
	json_t *reply;
	char *raw;
	int code = api_call(c, method, path, body, &reply, &raw);
	if (code)
		return code;
	if (json)
		api_print_raw(raw);
	else
		print(reply, ctx);
	json_decref(reply);
	free(raw);
	return 0;
}

int api_request_print(const char *method, const char *path, const json_t *body, bool json,
		      api_print_fn *print, void *ctx)
{
	struct api_client client;
	int code = api_client_init(&client);
	if (code)
		return code;
	code = api_call_print(&client, method, path, body, json, print, ctx);
	api_client_free(&client);
	return code;
}
