#include "runtime/e2b/e2b_api.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/cleanup.h"

#define DEFAULT_RETRY_MS 60000
#define CONNECT_TIMEOUT_MS 5000
#define REQUEST_TIMEOUT_MS 30000
/* envd is asked for a keepalive message after this many seconds of
 * silence; a stream silent for much longer is dead. */
#define STREAM_KEEPALIVE_SEC 15
#define STREAM_SILENCE_SEC 60
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 4000

struct e2b_api {
	char *api_url; /* without a trailing slash */
	char *api_key;
	char *sandbox_url;
	char *domain;
	uint32_t retry_ms;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *trimmed_url(const char *s)
{
	char *u = xstrdup(s ? s : "");
	size_t n = strlen(u);
	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	return u;
}

struct e2b_api *e2b_api_new(const struct e2b_api_config *cfg)
{
	pthread_once(&curl_once, curl_init_once);
	struct e2b_api *api = xcalloc(1, sizeof *api);
	api->api_url = trimmed_url(cfg->api_url);
	api->api_key = xstrdup(cfg->api_key ? cfg->api_key : "");
	api->sandbox_url = trimmed_url(cfg->sandbox_url);
	api->domain = xstrdup(cfg->domain && cfg->domain[0] ? cfg->domain : "e2b.app");
	api->retry_ms = cfg->retry_ms ? cfg->retry_ms : DEFAULT_RETRY_MS;
	return api;
}

void e2b_api_free(struct e2b_api *api)
{
	if (api == NULL)
		return;
	free(api->api_url);
	free(api->api_key);
	free(api->sandbox_url);
	free(api->domain);
	free(api);
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* ---- one HTTP exchange --------------------------------------------------- */

struct exchange {
	long status;
	struct evo_buf body;
	long retry_after_sec; /* -1: not said */
	char next_token[256];
	bool sent;	      /* the request reached the server (its outcome is unknown on failure) */
};

static size_t collect_body(char *data, size_t size, size_t n, void *ctx)
{
	struct exchange *x = ctx;
	if (x->body.len + size * n > 8u << 20)
		return 0; /* no answer of E2B's is this large: stop */
	evo_buf_append(&x->body, data, size * n);
	return size * n;
}

/* A header's value, if line is that header. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return NULL;
	const char *v = line + nlen + 1;
	const char *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	*vlen = (size_t)(end - v);
	return v;
}

static size_t collect_header(char *line, size_t size, size_t n, void *ctx)
{
	struct exchange *x = ctx;
	size_t len = size * n, vlen;
	const char *v;
	if ((v = header_value(line, len, "Retry-After", &vlen)) != NULL) {
		/* Whole seconds, or an HTTP date (RFC 9110 §10.2.3). */
		char text[64];
		snprintf(text, sizeof text, "%.*s", (int)(vlen < 63 ? vlen : 63), v);
		char *end;
		long s = strtol(text, &end, 10);
		if (end != text && *end == '\0') {
			x->retry_after_sec = s >= 0 ? s : -1;
		} else {
			time_t when = curl_getdate(text, NULL);
			time_t now = time(NULL);
			x->retry_after_sec = when < 0 ? -1 : when > now ? (long)(when - now) : 0;
		}
	} else if ((v = header_value(line, len, "X-Next-Token", &vlen)) != NULL) {
		snprintf(x->next_token, sizeof x->next_token, "%.*s",
			 (int)(vlen < sizeof x->next_token ? vlen : sizeof x->next_token - 1), v);
	}
	return len;
}

static struct curl_slist *api_headers(const struct e2b_api *api, bool body)
{
	char key[600];
	snprintf(key, sizeof key, "X-API-Key: %s", api->api_key);
	struct curl_slist *h = curl_slist_append(NULL, key);
	h = curl_slist_append(h, "Accept: application/json");
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	return h;
}

/* Send one request; x gets the status and body. -1 with err when no
 * answer came (x->sent says whether the server may have acted). */
static int http_exchange(const char *method, const char *url, struct curl_slist *headers,
			 const void *body, size_t body_len, struct exchange *x,
			 struct evo_error *err)
{
	*x = (struct exchange){.retry_after_sec = -1};
	CURL *curl = curl_easy_init();
	if (curl == NULL)
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "cannot start a libcurl handle");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "evoclaw");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(curl);
	int r = 0;
	if (rc != CURLE_OK) {
		/* Only a refused or unresolved connection surely sent nothing. */
		x->sent = rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST &&
			  rc != CURLE_COULDNT_RESOLVE_PROXY && rc != CURLE_UNSUPPORTED_PROTOCOL &&
			  rc != CURLE_URL_MALFORMAT;
		/* The URL, not the headers: the key must never reach a log. */
		r = evo_error_set(err, EVO_ERR_SYSTEM, 0, "%s %s: %s", method, url,
				  curl_easy_strerror(rc));
	} else {
		x->sent = true;
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x->status);
	}
	curl_easy_cleanup(curl);
	return r;
}

static int api_exchange(struct e2b_api *api, const char *method, const char *path,
			const char *body, struct exchange *x, struct evo_error *err)
{
	char url[2048];
	snprintf(url, sizeof url, "%s%s", api->api_url, path);
	struct curl_slist *headers = api_headers(api, body != NULL);
	int r = http_exchange(method, url, headers, body, body ? strlen(body) : 0, x, err);
	curl_slist_free_all(headers);
	return r;
}

static void exchange_free(struct exchange *x)
{
	evo_buf_free(&x->body);
}

/* What a non-2xx answer means, as an error. */
static int status_error(const char *method, const char *path, const struct exchange *x,
			struct evo_error *err)
{
	char message[400];
	e2b_error_message((const char *)x->body.data, x->body.len, message, sizeof message);
	if (message[0] == '\0')
		snprintf(message, sizeof message, "no message");
	long s = x->status;
	if (s == 401 || s == 403)
		return evo_error_set(err, EVO_ERR_AUTH, 0,
				     "E2B refused the API key (%ld: %s): check cloud.e2bApiKey or "
				     "E2B_API_KEY",
				     s, message);
	enum evo_error_kind kind = s == 404   ? EVO_ERR_NOT_FOUND
				   : s == 409 ? EVO_ERR_CONFLICT
				   : s == 429 ? EVO_ERR_LIMIT
				   : s < 500  ? EVO_ERR_INVALID
					      : EVO_ERR_SYSTEM;
	return evo_error_set(err, kind, 0, "E2B API %s %s: %ld: %s", method, path, s, message);
}

/* When a failed attempt may be tried again, how long to wait first; -1
 * when it may not (the failure is the answer). */
static int64_t retry_wait(const struct exchange *x, bool answered, int64_t *backoff)
{
	if (answered && x->status == 429) {
		int64_t ms = x->retry_after_sec >= 0 ? x->retry_after_sec * 1000 : *backoff;
		*backoff = *backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff * 2;
		return ms;
	}
	if (answered && x->status < 500)
		return -1;
	int64_t ms = *backoff;
	*backoff = *backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff * 2;
	return ms;
}

/* An API call with the retry policy (the header's). 0 with x holding a
 * 2xx answer, or -1 with err (x freed). */
static int api_call(struct e2b_api *api, const char *method, const char *path, const char *body,
		    struct exchange *x, struct evo_error *err)
{
	int64_t give_up = monotonic_ms() + api->retry_ms, backoff = BACKOFF_FIRST_MS;
	for (;;) {
		struct evo_error e = {0};
		bool answered = api_exchange(api, method, path, body, x, &e) == 0;
		if (answered && x->status >= 200 && x->status < 300)
			return 0;
		if (answered)
			status_error(method, path, x, &e);
		int64_t wait = retry_wait(x, answered, &backoff);
		exchange_free(x);
		if (wait < 0 || monotonic_ms() + wait > give_up) {
			if (err)
				*err = e;
			return -1;
		}
		sleep_ms(wait);
	}
}

/* ---- the control plane --------------------------------------------------- */

/* A sandbox of ours whose create answer was lost, found by its spawn key:
 * 1 found (out), 0 surely not there, -1 cannot tell now. */
static int find_spawned(struct e2b_api *api, const char *spawn_key, struct e2b_sandbox *out)
{
	struct e2b_sandbox *list;
	size_t n;
	if (e2b_api_list(api, E2B_META_SPAWN, spawn_key, &list, &n, NULL) < 0)
		return -1;
	int found = 0;
	for (size_t i = 0; i < n && !found; i++)
		if (strcmp(list[i].spawn_key, spawn_key) == 0) {
			/* The list leaves out its envd token: ask for all of it. */
			found = e2b_api_get(api, list[i].id, out, NULL) == 0 ? 1 : -1;
		}
	free(list);
	return found;
}

int e2b_api_create(struct e2b_api *api, const struct e2b_create_request *req,
		   struct e2b_sandbox *out, struct evo_error *err)
{
	_cleanup_free_ char *body = e2b_create_body(req);
	int64_t give_up = monotonic_ms() + api->retry_ms, backoff = BACKOFF_FIRST_MS;
	bool maybe_created = false;
	for (;;) {
		struct evo_error e = {0};
		struct exchange x;
		bool answered;
		/* A previous attempt may have made it: look before making one. */
		int found = maybe_created ? find_spawned(api, req->spawn_key, out) : 0;
		if (found == 1)
			return 0;
		if (found < 0) {
			answered = false;
			x = (struct exchange){.retry_after_sec = -1};
			evo_error_set(&e, EVO_ERR_SYSTEM, 0,
				      "E2B API: cannot tell whether sandbox %s was created",
				      req->spawn_key);
		} else {
			answered = api_exchange(api, "POST", "/v2/sandboxes", body, &x, &e) == 0;
			if (answered && x.status >= 200 && x.status < 300) {
				int r = e2b_sandbox_parse((const char *)x.body.data, x.body.len, out,
							  err);
				exchange_free(&x);
				return r;
			}
			if (answered)
				status_error("POST", "/v2/sandboxes", &x, &e);
			if ((answered && x.status >= 500) || (!answered && x.sent))
				maybe_created = true;
		}
		int64_t wait = retry_wait(&x, answered, &backoff);
		exchange_free(&x);
		if (wait < 0 || monotonic_ms() + wait > give_up) {
			if (err)
				*err = e;
			return -1;
		}
		sleep_ms(wait);
	}
}

static int sandbox_call(struct e2b_api *api, const char *method, const char *path,
			const char *body, struct e2b_sandbox *out, struct evo_error *err)
{
	struct exchange x;
	if (api_call(api, method, path, body, &x, err) < 0)
		return -1;
	int r = out ? e2b_sandbox_parse((const char *)x.body.data, x.body.len, out, err) : 0;
	exchange_free(&x);
	return r;
}

/* A sandbox id as a path segment: E2B's are [a-z0-9]; refuse the rest
 * rather than let one escape its segment. */
static int id_path(const char *fmt, const char *id, char *out, size_t size,
		   struct evo_error *err)
{
	if (id == NULL || id[0] == '\0' || strlen(id) >= PROVIDER_SANDBOX_ID_MAX ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
		    strlen(id))
		return evo_error_set(err, EVO_ERR_INVALID, 0, "not a sandbox id: %s", id ? id : "");
	snprintf(out, size, fmt, id);
	return 0;
}

int e2b_api_get(struct e2b_api *api, const char *id, struct e2b_sandbox *out,
		struct evo_error *err)
{
	char path[160];
	if (id_path("/sandboxes/%s", id, path, sizeof path, err) < 0)
		return -1;
	return sandbox_call(api, "GET", path, NULL, out, err);
}

int e2b_api_list(struct e2b_api *api, const char *key, const char *value,
		 struct e2b_sandbox **out, size_t *n, struct evo_error *err)
{
	char filter[600] = "";
	if (key) {
		char q[560];
		e2b_metadata_query(key, value, q, sizeof q);
		snprintf(filter, sizeof filter, "&metadata=%s", q);
	}
	struct e2b_sandbox *all = NULL;
	size_t count = 0;
	char token[256] = "";
	/* Pages until the server stops naming a next one (bounded, should a
	 * server keep naming the same). */
	for (int page = 0; page < 10000; page++) {
		char path[1200], tok[400] = "";
		if (token[0]) {
			CURL *c = curl_easy_init();
			char *esc = c ? curl_easy_escape(c, token, 0) : NULL;
			snprintf(tok, sizeof tok, "&nextToken=%s", esc ? esc : "");
			curl_free(esc);
			curl_easy_cleanup(c);
		}
		snprintf(path, sizeof path, "/v2/sandboxes?state=running,paused&limit=100%s%s", filter,
			 tok);
		struct exchange x;
		if (api_call(api, "GET", path, NULL, &x, err) < 0) {
			free(all);
			return -1;
		}
		struct e2b_sandbox *list;
		size_t got;
		int r = e2b_sandbox_list_parse((const char *)x.body.data, x.body.len, &list, &got, err);
		snprintf(token, sizeof token, "%s", x.next_token);
		exchange_free(&x);
		if (r < 0) {
			free(all);
			return -1;
		}
		all = xrealloc(all, (count + got + 1) * sizeof *all);
		memcpy(all + count, list, got * sizeof *list);
		count += got;
		free(list);
		if (token[0] == '\0' || got == 0)
			break;
	}
	if (all == NULL)
		all = xcalloc(1, sizeof *all);
	*out = all;
	*n = count;
	return 0;
}

int e2b_api_kill(struct e2b_api *api, const char *id, struct evo_error *err)
{
	char path[160];
	if (id_path("/sandboxes/%s", id, path, sizeof path, err) < 0)
		return -1;
	return sandbox_call(api, "DELETE", path, NULL, NULL, err);
}

int e2b_api_set_timeout(struct e2b_api *api, const char *id, uint32_t seconds,
			struct evo_error *err)
{
	char path[160], body[48];
	if (id_path("/sandboxes/%s/timeout", id, path, sizeof path, err) < 0)
		return -1;
	snprintf(body, sizeof body, "{\"timeout\":%u}", seconds);
	return sandbox_call(api, "POST", path, body, NULL, err);
}

int e2b_api_pause(struct e2b_api *api, const char *id, struct evo_error *err)
{
	char path[160];
	if (id_path("/sandboxes/%s/pause", id, path, sizeof path, err) < 0)
		return -1;
	return sandbox_call(api, "POST", path, "{}", NULL, err);
}

int e2b_api_connect(struct e2b_api *api, const char *id, uint32_t timeout_sec,
		    struct e2b_sandbox *out, struct evo_error *err)
{
	char path[160], body[48] = "{}";
	if (id_path("/v2/sandboxes/%s/connect", id, path, sizeof path, err) < 0)
		return -1;
	if (timeout_sec)
		snprintf(body, sizeof body, "{\"timeout\":%u}", timeout_sec);
	return sandbox_call(api, "POST", path, body, out, err);
}

int e2b_api_metrics(struct e2b_api *api, const char *id, struct e2b_metrics *out,
		    struct evo_error *err)
{
	char path[160];
	if (id_path("/sandboxes/%s/metrics", id, path, sizeof path, err) < 0)
		return -1;
	struct exchange x;
	if (api_call(api, "GET", path, NULL, &x, err) < 0)
		return -1;
	*out = (struct e2b_metrics){0};
	json_t *v = json_loadb((const char *)x.body.data, x.body.len, 0, NULL);
	exchange_free(&x);
	if (!json_is_array(v)) {
		json_decref(v);
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "E2B answered metrics that are not a JSON array");
	}
	json_t *last = json_array_get(v, json_array_size(v) - 1);
	if (last) {
		out->cpu_used_pct = json_number_value(json_object_get(last, "cpuUsedPct"));
		out->cpu_count = (uint32_t)json_integer_value(json_object_get(last, "cpuCount"));
		out->mem_used = (uint64_t)json_integer_value(json_object_get(last, "memUsed"));
		out->mem_total = (uint64_t)json_integer_value(json_object_get(last, "memTotal"));
	}
	json_decref(v);
	return 0;
}

/* ---- envd ---------------------------------------------------------------- */

static bool shared_sandbox_host(const char *domain)
{
	static const char *const shared[] = {"e2b.app", "e2b.dev", "e2b.pro", "e2b-staging.dev"};
	for (size_t i = 0; i < sizeof shared / sizeof *shared; i++)
		if (strcmp(domain, shared[i]) == 0)
			return true;
	return false;
}

/* Where envd of sb answers (spec §1: the SDK's rules, in its order). */
static void envd_base(const struct e2b_api *api, const struct e2b_sandbox *sb, char *out,
		      size_t size)
{
	if (api->sandbox_url[0]) {
		snprintf(out, size, "%s", api->sandbox_url);
		return;
	}
	const char *domain = sb->domain[0] ? sb->domain : api->domain;
	if (shared_sandbox_host(domain))
		snprintf(out, size, "https://sandbox.%s", domain);
	else
		snprintf(out, size, "https://49983-%s.%s", sb->id, domain);
}

/* The headers of every envd request (spec §4.1): which sandbox, and its
 * access token. */
static struct curl_slist *envd_headers(const struct e2b_sandbox *sb)
{
	char line[300];
	snprintf(line, sizeof line, "E2b-Sandbox-Id: %s", sb->id);
	struct curl_slist *h = curl_slist_append(NULL, line);
	h = curl_slist_append(h, "E2b-Sandbox-Port: 49983");
	if (sb->envd_token[0]) {
		snprintf(line, sizeof line, "X-Access-Token: %s", sb->envd_token);
		h = curl_slist_append(h, line);
	}
	return h;
}

int e2b_api_write_file(struct e2b_api *api, const struct e2b_sandbox *sb, const char *path,
		       const uint8_t *data, size_t len, struct evo_error *err)
{
	char base[1024], url[2048];
	envd_base(api, sb, base, sizeof base);
	CURL *c = curl_easy_init();
	char *escaped = c ? curl_easy_escape(c, path, 0) : NULL;
	snprintf(url, sizeof url, "%s/files?path=%s", base, escaped ? escaped : "");
	curl_free(escaped);
	curl_easy_cleanup(c);
	struct curl_slist *h = envd_headers(sb);
	h = curl_slist_append(h, "Content-Type: application/octet-stream");
	int64_t give_up = monotonic_ms() + api->retry_ms, backoff = BACKOFF_FIRST_MS;
	int r;
	for (;;) {
		struct exchange x;
		struct evo_error e = {0};
		/* Writing a whole file again is harmless: retry any failure
		 * the policy allows. */
		bool answered = http_exchange("POST", url, h, data ? (const void *)data : "", len,
					      &x, &e) == 0;
		if (answered && x.status >= 200 && x.status < 300) {
			exchange_free(&x);
			r = 0;
			break;
		}
		if (answered)
			status_error("POST", "/files", &x, &e);
		int64_t wait = retry_wait(&x, answered, &backoff);
		exchange_free(&x);
		if (wait < 0 || monotonic_ms() + wait > give_up) {
			if (err)
				*err = e;
			r = -1;
			break;
		}
		sleep_ms(wait);
	}
	curl_slist_free_all(h);
	return r;
}

struct stream_state {
	struct e2b_stream_decoder decoder;
	e2b_event_fn fn;
	void *ctx;
	const atomic_bool *cancel;
	int stopped; /* fn's non-zero answer */
	long status;
	struct evo_buf error_body; /* a non-200 answer's body */
	struct evo_error err;
	bool failed;
};

static size_t stream_body(char *data, size_t size, size_t n, void *ctx)
{
	struct stream_state *s = ctx;
	size_t len = size * n;
	if (s->status != 200) {
		if (s->error_body.len < 4096)
			evo_buf_append(&s->error_body, data, len);
		return len;
	}
	int r = e2b_stream_feed(&s->decoder, (const uint8_t *)data, len, s->fn, s->ctx, &s->err);
	if (r < 0) {
		s->failed = true;
		return 0;
	}
	if (r > 0) {
		s->stopped = r;
		return 0;
	}
	return len;
}

static size_t stream_header(char *line, size_t size, size_t n, void *ctx)
{
	struct stream_state *s = ctx;
	/* Each response's status line resets it (a 100 Continue comes first). */
	if (size * n > 9 && strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = memchr(line, ' ', size * n);
		s->status = sp ? strtol(sp + 1, NULL, 10) : 0;
	}
	return size * n;
}

static int stream_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			   curl_off_t ulnow)
{
	struct stream_state *s = ctx;
	return s->cancel && atomic_load(s->cancel) ? 1 : 0;
}

int e2b_api_process_stream(struct e2b_api *api, const struct e2b_sandbox *sb,
			   const char *method, const struct evo_buf *envelope, e2b_event_fn fn,
			   void *ctx, const atomic_bool *cancel, struct evo_error *err)
{
	CURL *curl = curl_easy_init();
	if (curl == NULL)
		return evo_error_set(err, EVO_ERR_INTERNAL, 0, "cannot start a libcurl handle");
	char base[1024], url[1200], line[64];
	envd_base(api, sb, base, sizeof base);
	snprintf(url, sizeof url, "%s/process.Process/%s", base, method);
	struct curl_slist *h = envd_headers(sb);
	h = curl_slist_append(h, "Connect-Protocol-Version: 1");
	h = curl_slist_append(h, "Content-Type: application/connect+json");
	snprintf(line, sizeof line, "Keepalive-Ping-Interval: %d", STREAM_KEEPALIVE_SEC);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "Expect:");
	struct stream_state s = {.fn = fn, .ctx = ctx, .cancel = cancel};
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)envelope->data);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)envelope->len);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "evoclaw");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long)STREAM_SILENCE_SEC);
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, stream_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, stream_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, stream_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(curl);
	int r;
	if (s.stopped || (cancel && atomic_load(cancel))) {
		r = 1;
	} else if (s.failed) {
		if (err)
			*err = s.err;
		r = -1;
	} else if (rc != CURLE_OK) {
		r = evo_error_set(err, EVO_ERR_SYSTEM, 0, "envd %s of sandbox %s: %s", method, sb->id,
				  curl_easy_strerror(rc));
	} else if (s.status != 200) {
		struct exchange x = {.status = s.status, .body = s.error_body};
		status_error("POST", url + strlen(base), &x, err);
		r = -1;
	} else if (!s.decoder.ended) {
		r = evo_error_set(err, EVO_ERR_SYSTEM, 0,
				  "envd %s of sandbox %s: the stream broke before its end", method,
				  sb->id);
	} else {
		r = 0;
	}
	e2b_stream_decoder_free(&s.decoder);
	evo_buf_free(&s.error_body);
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	return r;
}
