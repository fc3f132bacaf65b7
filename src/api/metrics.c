/* GET /metrics: Prometheus text. HTTP requests are counted per route
 * pattern (never per raw path, so ids cannot blow up the series). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "common/cleanup.h"
#include "api/http.h"
#include "api/mqtt_ingest.h"

#define METRIC_SERIES_MAX 512

struct series {
	const char *route; /* static pattern */
	char method[8];
	unsigned status;
	unsigned long long count;
};

struct api_metrics {
	pthread_mutex_t lock;
	struct series series[METRIC_SERIES_MAX];
	size_t n;
	unsigned long long dropped;
};

struct api_metrics *api_metrics_new(void)
{
	struct api_metrics *m = xcalloc(1, sizeof *m);
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void api_metrics_free(struct api_metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void api_metrics_count(struct api_metrics *m, const char *route, const char *method,
		       unsigned status)
{
	/* Methods outside the usual set are one series, not one each. */
	static const char *const known[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
	const char *name = "other";
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (strcmp(method, known[i]) == 0)
			name = known[i];
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++) {
		struct series *s = &m->series[i];
		if (s->route == route && s->status == status && strcmp(s->method, name) == 0) {
			s->count++;
			pthread_mutex_unlock(&m->lock);
			return;
		}
	}
	if (m->n < METRIC_SERIES_MAX) {
		struct series *s = &m->series[m->n++];
		s->route = route;
		snprintf(s->method, sizeof s->method, "%s", name);
		s->status = status;
		s->count = 1;
	} else {
		m->dropped++;
	}
	pthread_mutex_unlock(&m->lock);
}

enum MHD_Result api_metrics_serve(struct api *api, struct MHD_Connection *c)
{
	struct evo_buf out = {0};
	orch_metrics(api->orch, &out);
	mqtt_ingest_metrics(api->mqtt, &out);
	static const char head[] = "# HELP evoclaw_http_requests_total HTTP requests by route, method and status.\n"
				   "# TYPE evoclaw_http_requests_total counter\n";
	evo_buf_append(&out, head, sizeof head - 1);
	struct api_metrics *m = api->metrics;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++) {
		char line[256];
		int n = snprintf(line, sizeof line,
				 "evoclaw_http_requests_total{route=\"%s\",method=\"%s\",status=\"%u\"} %llu\n",
				 m->series[i].route, m->series[i].method, m->series[i].status,
				 m->series[i].count);
		evo_buf_append(&out, line, (size_t)n);
	}
	pthread_mutex_unlock(&m->lock);
	struct MHD_Response *r = MHD_create_response_from_buffer(out.len, out.data, MHD_RESPMEM_MUST_COPY);
	evo_buf_free(&out);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	return http_queue(c, 200, r);
}
