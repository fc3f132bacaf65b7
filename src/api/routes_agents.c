/* The BeClever surface (seed "E2B Swarm Deployment Guide"): /api/agents. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "api/http.h"
#include "api/page_cache.h"
#include "api/requests.h"

/* A query parameter as a number in [min, max]; def when absent. -1 (and
 * an error queued) when malformed. */
int api_query_number(struct MHD_Connection *c, const char *name, long long min, long long max,
		     long long def, long long *out, enum MHD_Result *ret)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	if (v == NULL) {
		*out = def;
		return 0;
	}
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max) {
		*ret = http_send_error(c, 400, "invalid_request", "%s: must be an integer from %lld to %lld",
				       name, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

/* The columns a list sorts by (?sort=), as the agent JSON names them. */
static const char *const sort_names[] = {
	[STORE_SORT_CREATED] = "created_at", [STORE_SORT_NAME] = "name",
	[STORE_SORT_STATUS] = "status",      [STORE_SORT_TYPE] = "agent_type",
	[STORE_SORT_TOKENS] = "tokens_used", [STORE_SORT_COST] = "cost_usd",
	[STORE_SORT_RUN_TIME] = "execution_time_ms",
};

/* ?sort= and ?order= into the filter; false with a 400 queued. */
static bool parse_order(struct MHD_Connection *c, struct store_agent_filter *f,
			enum MHD_Result *ret)
{
	const char *sort = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sort");
	const char *order = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "order");
	size_t i = 0;
	while (sort && i < sizeof sort_names / sizeof *sort_names && strcmp(sort, sort_names[i]) != 0)
		i++;
	if (sort && i == sizeof sort_names / sizeof *sort_names) {
		*ret = http_send_error(c, 400, "invalid_request",
				       "sort: \"%.32s\" is not created_at, name, status, agent_type,"
				       " tokens_used, cost_usd or execution_time_ms",
				       sort);
		return false;
	}
	if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
		*ret = http_send_error(c, 400, "invalid_request", "order: must be asc or desc");
		return false;
	}
	f->sort = (enum store_agent_sort)i % (sizeof sort_names / sizeof *sort_names);
	f->ascending = order && strcmp(order, "asc") == 0;
	return true;
}

enum MHD_Result api_agents_list(struct api *api, struct MHD_Connection *c,
				const struct api_request *req)
{
	enum MHD_Result ret;
	long long limit, offset;
	if (api_query_number(c, "limit", 1, 1000, 50, &limit, &ret) < 0 ||
	    api_query_number(c, "offset", 0, LLONG_MAX / 2, 0, &offset, &ret) < 0)
		return ret;
	struct store_agent_filter f = {
		.status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status"),
		.agent_type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type"),
		.name_contains = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q"),
		.tenant = api_caller_tenant(req),
	};
	if (f.status && agent_status_parse(f.status) < 0)
		return http_send_error(c, 400, "invalid_request",
				       "status: \"%.32s\" is not pending, running, completed or failed",
				       f.status);
	if (f.name_contains && strlen(f.name_contains) >= AGENT_NAME_MAX)
		return http_send_error(c, 400, "invalid_request", "q: at most %d characters",
				       AGENT_NAME_MAX - 1);
	if (f.name_contains && *f.name_contains == '\0')
		f.name_contains = NULL;
	if (!parse_order(c, &f, &ret))
		return ret;
	/* The generation is read before the rows: a write in between makes
	 * the page kept here stale at once, never a stale page current. */
	char key[PAGE_CACHE_KEY_MAX];
	int keylen = snprintf(key, sizeof key,
			      "agents?limit=%lld&offset=%lld&status=%.32s&type=%.64s&tenant=%s&sort=%d"
			      "&asc=%d&q=%s",
			      limit, offset, f.status ? f.status : "", f.agent_type ? f.agent_type : "",
			      f.tenant ? f.tenant : "*", (int)f.sort, (int)f.ascending,
			      f.name_contains ? f.name_contains : "");
	/* A search too long to be a key is not cached (two would share one). */
	bool cacheable = keylen >= 0 && (size_t)keylen < sizeof key;
	uint64_t generation = store_generation(api->store);
	int64_t now = api_now_ms();
	size_t len;
	char *page = cacheable ? page_cache_get(api->pages, key, generation, now, &len) : NULL;
	if (page)
		return http_send_json_text(c, 200, page, len);
	struct agent *list;
	size_t n;
	int64_t total;
	struct evo_error err = {0};
	if (orch_list(api->orch, &f, (size_t)offset, (size_t)limit, &list, &n, &total, &err) < 0)
		return http_send_evo_error(c, &err);
	bool shows_live = false;
	for (size_t i = 0; i < n; i++)
		shows_live |= !agent_is_finished(&list[i]);
	/* Written straight as text: a page of 50 takes ~80 us so, against
	 * ~720 us to build jansson trees and dump them. */
	struct evo_buf text = {0};
	api_agent_page_write(&text, list, n, total, limit, offset);
	for (size_t i = 0; i < n; i++)
		agent_clear(&list[i]);
	free(list);
	page = (char *)text.data;
	len = text.len;
	/* Live agents' cost and run time grow without a write. */
	if (cacheable)
		page_cache_put(api->pages, key, generation, shows_live ? now + PAGE_CACHE_LIVE_MS : 0,
			       page, len);
	return http_send_json_text(c, 200, page, len);
}

static json_t *lines_json(char **lines)
{
	json_t *arr = json_array();
	for (char **l = lines; l && *l; l++)
		json_array_append_new(arr, json_stringn_nocheck(*l, strlen(*l)));
	orch_lines_free(lines);
	return arr;
}

enum MHD_Result api_agents_get(struct api *api, struct MHD_Connection *c, const char *id)
{
	struct agent a;
	struct evo_error err = {0};
	if (orch_get(api->orch, id, &a, &err) < 0)
		return http_send_evo_error(c, &err);
	json_t *out = api_agent_json(&a);
	agent_clear(&a);
	json_object_set_new(out, "config",
			    json_pack("{s:O, s:O, s:O}", "timeout", json_object_get(out, "timeout_sec"),
				      "command", json_object_get(out, "command"), "keep_alive",
				      json_object_get(out, "keep_alive")));
	json_object_set_new(out, "log_tail", lines_json(orch_log_tail(api->orch, id, 20)));
	return http_send_json(c, 200, out);
}

enum MHD_Result api_agents_report(struct api *api, struct MHD_Connection *c,
				  struct api_request *req, const char *id)
{
	const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Agent-Token");
	if (token == NULL || *token == '\0')
		return http_send_error(c, 401, "unauthorized",
				       "missing X-Agent-Token header (the agent's EVOCLAW_AGENT_TOKEN)");
	enum MHD_Result ret;
	json_t *body = api_body_object(c, req, &ret);
	if (body == NULL)
		return ret;
	struct report_request r;
	struct evo_error err = {0};
	int rc = request_parse_report(body, &r, &err);
	json_decref(body);
	if (rc == 0)
		rc = orch_report(api->orch, id, &(struct orch_credential){.token = token}, &r.report,
				 &err);
	request_report_free(&r);
	if (rc < 0)
		return http_send_evo_error(c, &err);
	return http_send_json(c, 202, json_pack("{s:s, s:b}", "agent_id", id, "accepted", 1));
}

enum MHD_Result api_agents_delete(struct api *api, struct MHD_Connection *c, const char *id)
{
	const char *only = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "terminate_only");
	struct evo_error err = {0};
	if (only && (strcmp(only, "true") == 0 || strcmp(only, "1") == 0)) {
		struct agent a;
		if (orch_terminate(api->orch, id, &a, &err) < 0)
			return http_send_evo_error(c, &err);
		json_t *out = api_agent_json(&a);
		agent_clear(&a);
		return http_send_json(c, 200, out);
	}
	if (only && strcmp(only, "false") != 0 && strcmp(only, "0") != 0)
		return http_send_error(c, 400, "invalid_request",
				       "terminate_only: must be true or false");
	if (orch_destroy(api->orch, id, &err) < 0)
		return http_send_evo_error(c, &err);
	return http_send_json(c, 200, json_pack("{s:s, s:b}", "id", id, "destroyed", 1));
}

/* ---- following a log ---------------------------------------------------- */

struct follow {
	struct api *api;
	struct MHD_Connection *c;
	char id[AGENT_ID_MAX];
	int fd;
	bool on_current; /* reading .log (not .log.1) */
	ino_t ino;
	bool suspended;
	struct follow *next;
};

struct log_followers {
	pthread_mutex_t lock;
	struct follow *list;
	bool stopping;
};

struct log_followers *api_followers_new(void)
{
	struct log_followers *f = xcalloc(1, sizeof *f);
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

void api_followers_free(struct log_followers *f)
{
	if (f == NULL)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* Resume every stream so the daemon can stop (they then end). */
void api_followers_stop(struct log_followers *f)
{
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	for (struct follow *w = f->list; w; w = w->next) {
		if (w->suspended) {
			w->suspended = false;
			MHD_resume_connection(w->c);
		}
	}
	pthread_mutex_unlock(&f->lock);
}

void api_followers_wake(void *ctx, const char *agent_id)
{
	struct log_followers *f = ctx;
	pthread_mutex_lock(&f->lock);
	for (struct follow *w = f->list; w; w = w->next) {
		if (w->suspended && strcmp(w->id, agent_id) == 0) {
			w->suspended = false;
			MHD_resume_connection(w->c);
		}
	}
	pthread_mutex_unlock(&f->lock);
}

/* A request parked until an agent changes: E2B's create waits so for its
 * sandbox to run without holding one of the server's threads. */
struct follow *api_wait_park(struct api *api, struct MHD_Connection *c, const char *agent_id)
{
	struct follow *w = xcalloc(1, sizeof *w);
	w->api = api;
	w->c = c;
	w->fd = -1;
	snprintf(w->id, sizeof w->id, "%s", agent_id);
	struct log_followers *f = api->followers;
	pthread_mutex_lock(&f->lock);
	if (f->stopping) {
		/* Nobody would resume it. */
		pthread_mutex_unlock(&f->lock);
		free(w);
		return NULL;
	}
	w->next = f->list;
	f->list = w;
	w->suspended = true;
	MHD_suspend_connection(c);
	pthread_mutex_unlock(&f->lock);
	return w;
}

void api_wait_wake(struct api *api, struct follow *w)
{
	struct log_followers *f = api->followers;
	pthread_mutex_lock(&f->lock);
	if (w->suspended) {
		w->suspended = false;
		MHD_resume_connection(w->c);
	}
	pthread_mutex_unlock(&f->lock);
}

void api_wait_done(struct api *api, struct follow *w)
{
	struct log_followers *f = api->followers;
	pthread_mutex_lock(&f->lock);
	for (struct follow **p = &f->list; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
	free(w);
}

static int open_log(struct follow *w, bool current)
{
	char path[PATH_MAX];
	orch_log_path(w->api->orch, w->id, !current, path, sizeof path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0)
		w->ino = st.st_ino;
	return fd;
}

/* Move on to the current log when the one being read is finished with:
 * .log.1 read to its end, or .log rotated away under us. */
static void next_log(struct follow *w)
{
	char path[PATH_MAX];
	orch_log_path(w->api->orch, w->id, false, path, sizeof path);
	struct stat st;
	if (w->on_current && (stat(path, &st) < 0 || st.st_ino == w->ino))
		return;
	if (w->fd >= 0)
		close(w->fd);
	w->on_current = true;
	w->fd = open_log(w, true);
}

static ssize_t follow_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct follow *w = cls;
	struct log_followers *f = w->api->followers;
	for (int attempt = 0; attempt < 2; attempt++) {
		ssize_t n = w->fd >= 0 ? read(w->fd, buf, max) : 0;
		if (n > 0)
			return n;
		if (n < 0 && errno == EINTR)
			continue;
		next_log(w);
	}
	/* Quiet: end if the agent has, else park until it writes or ends.
	 * Liveness first, then read again under our lock: output written
	 * after this read wakes us, output before it is read now. */
	bool live = orch_is_live(w->api->orch, w->id);
	pthread_mutex_lock(&f->lock);
	ssize_t n = w->fd >= 0 ? read(w->fd, buf, max) : 0;
	if (n <= 0) {
		next_log(w);
		n = w->fd >= 0 ? read(w->fd, buf, max) : 0;
	}
	if (n > 0) {
		pthread_mutex_unlock(&f->lock);
		return n;
	}
	if (!live || f->stopping) {
		pthread_mutex_unlock(&f->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	w->suspended = true;
	MHD_suspend_connection(w->c);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static void follow_free(void *cls)
{
	struct follow *w = cls;
	struct log_followers *f = w->api->followers;
	pthread_mutex_lock(&f->lock);
	for (struct follow **p = &f->list; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

enum MHD_Result api_agents_logs(struct api *api, struct MHD_Connection *c,
				struct api_request *req, const char *id)
{
	(void)req;
	enum MHD_Result ret;
	long long tail;
	if (api_query_number(c, "tail", 1, 10000, 100, &tail, &ret) < 0)
		return ret;
	const char *follow = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "follow");
	struct agent a;
	struct evo_error err = {0};
	if (orch_get(api->orch, id, &a, &err) < 0)
		return http_send_evo_error(c, &err);
	agent_clear(&a);
	if (follow == NULL || strcmp(follow, "0") == 0 || strcmp(follow, "false") == 0)
		return http_send_json(c, 200,
				      json_pack("{s:s, s:o}", "agent_id", id, "lines",
						lines_json(orch_log_tail(api->orch, id, (size_t)tail))));
	if (strcmp(follow, "1") != 0 && strcmp(follow, "true") != 0)
		return http_send_error(c, 400, "invalid_request", "follow: must be 1 or 0");
	struct follow *w = xcalloc(1, sizeof *w);
	w->api = api;
	w->c = c;
	snprintf(w->id, sizeof w->id, "%s", id);
	w->fd = open_log(w, false); /* the older half first, if there is one */
	if (w->fd < 0) {
		w->on_current = true;
		w->fd = open_log(w, true);
	}
	struct MHD_Response *r =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, follow_read, w, follow_free);
	if (r == NULL) {
		if (w->fd >= 0)
			close(w->fd);
		free(w);
		return MHD_NO;
	}
	struct log_followers *f = api->followers;
	pthread_mutex_lock(&f->lock);
	w->next = f->list;
	f->list = w;
	pthread_mutex_unlock(&f->lock);
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	return http_queue(c, 200, r);
}
