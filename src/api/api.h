/* What the HTTP handlers share: the server's parts, the request being
 * answered, and the routes of each resource (one file per resource).
 * Handlers parse and validate into typed requests and call the
 * orchestrator; they never touch sandboxes or SQL themselves. */
#ifndef EVOCLAW_API_API_H
#define EVOCLAW_API_API_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>

#include "api/agent_json.h"
#include "api/auth.h"
#include "api/paths.h"
#include "common/proto.h"
#include "core/config.h"
#include "orchestrator/orchestrator.h"
#include "store/store.h"

struct api_metrics;
struct mqtt_ingest;
struct tournament_runner;
struct scheduler;
struct log_followers;
struct follow;
struct envd_hub;
struct envd_state;

struct api {
	const struct evo_config *cfg;
	struct store *store;
	struct orchestrator *orch;
	struct api_metrics *metrics;
	struct log_followers *followers;
	struct page_cache *pages; /* rendered agent lists (page_cache.h) */
	struct envd_hub *envd;    /* sessions with sandboxes' init (envd_session.h) */
	struct api_limiter *limiter; /* request rates per key and address (limiter.h) */
	struct mqtt_ingest *mqtt;    /* telemetry from the broker, NULL without one */
	struct tournament_runner *tournaments; /* burst mode (orchestrator/tournament.h) */
	struct scheduler *scheduler;           /* scheduled mode (orchestrator/scheduler.h) */
	char admin_key[80];
	uint8_t key_secret[AUTH_SECRET_LEN]; /* keys tenant keys are hashed with */
};

/* One request's state across libmicrohttpd's calls of the handler. */
struct api_request {
	struct evo_buf body;
	bool too_large;
	const char *route;   /* route pattern, for metrics ("/api/agents/{id}") */
	char method[8];
	unsigned status;     /* what was answered */
	void *stream;        /* a streaming response's state (logs ?follow=1) */
	struct follow *parked; /* waiting for an agent (api_wait_park) */
	char waiting_for[64];  /* E2B create: the sandbox being started */
	/* A parked request: called instead of routing when the handler runs
	 * again after its connection was resumed. */
	enum MHD_Result (*resume)(struct api *api, struct MHD_Connection *c,
				  struct api_request *req);
	/* A body taken as it arrives instead of buffered (envd uploads). */
	void (*consume)(struct api *api, struct api_request *req, const char *data, size_t size);
	struct envd_state *envd; /* an envd request's state (routes_envd.c) */
	struct api_caller caller; /* who asked (set once the key is checked) */
	bool audited;             /* a mutating API call: logged when it ends */
	char address[64];         /* the client's, for limits and the audit log */
	char target[64];          /* the id its path names, if any */
	bool door;                /* came through an agent sandbox's door: telemetry only */
};


/* Wall-clock milliseconds. */
int64_t api_now_ms(void);


/* The tenant a caller acts for: NULL for the admin (everyone's). */
const char *api_caller_tenant(const struct api_request *req);
/* What a tenant spent (finished, destroyed and live agents) and how many
 * of its agents run now. */
int api_tenant_spend(struct api *api, const char *tenant, usd_micros *spent, uint32_t *running,
		     struct evo_error *err);
/* A spawn on the caller's behalf: a tenant's gets its id and limits. */
int api_caller_spawn(struct api *api, const struct api_request *req, struct orch_spawn *s,
		     struct evo_error *err);

/* Parse the request body as a JSON object; on failure an error response
 * has been queued and *ret holds what to return. */
json_t *api_body_object(struct MHD_Connection *c, const struct api_request *req,
			enum MHD_Result *ret);

/* The query parameter `name` as an integer from min to max, def when
 * absent; -1 with a 400 answered (*ret) otherwise. */
int api_query_number(struct MHD_Connection *c, const char *name, long long min, long long max,
		     long long def, long long *out, enum MHD_Result *ret);

/* The template must exist; the error names the field (path). */
int api_check_template(const char *path, const char *tmpl, struct evo_error *err);
/* The same for a spawn, on its provider, which must be one this server
 * has: the local provider's templates are checked here, a remote
 * provider's only by name. */
int api_check_spawn_template(const struct api *api, const char *path,
			     const struct orch_spawn *spawn, struct evo_error *err);

/* POST /api/cloud/spawn (deploy false) and /api/agents/deploy (true). */
enum MHD_Result api_spawn(struct api *api, struct MHD_Connection *c, struct api_request *req,
			  bool deploy);

/* Routes. Each returns MHD_NO only when the connection must close. */
enum MHD_Result api_cloud_list(struct api *api, struct MHD_Connection *c,
			       const struct api_request *req);
enum MHD_Result api_cloud_costs(struct api *api, struct MHD_Connection *c,
				const struct api_request *req);
enum MHD_Result api_cloud_kill(struct api *api, struct MHD_Connection *c, const char *id);

enum MHD_Result api_agents_list(struct api *api, struct MHD_Connection *c,
				const struct api_request *req);
enum MHD_Result api_agents_get(struct api *api, struct MHD_Connection *c, const char *id);
enum MHD_Result api_agents_delete(struct api *api, struct MHD_Connection *c, const char *id);
/* POST /api/agents/{id}/telemetry: an agent's own report, authorised by
 * its token (X-Agent-Token), not an API key. */
enum MHD_Result api_agents_report(struct api *api, struct MHD_Connection *c,
				  struct api_request *req, const char *id);
enum MHD_Result api_agents_logs(struct api *api, struct MHD_Connection *c,
				struct api_request *req, const char *id);

/* E2B's control plane (/sandboxes, /v2/sandboxes) and envd (requests
 * with an E2b-Sandbox-Id header): routes_e2b.c. */
enum MHD_Result api_e2b_unauthorized(struct MHD_Connection *c, const char *message);
enum MHD_Result api_e2b_route(struct api *api, struct MHD_Connection *c, const char *method,
			      const char *url, struct api_request *req);
/* E2B's error shape: {"code": <status>, "message"}; a 429 says when to
 * retry. */
enum MHD_Result api_e2b_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* envd (routes_envd.c). begin runs when the headers are in (it may take
 * the body as it arrives, req->consume), route when the body is, done when
 * the request ends however it ends. */
void api_envd_begin(struct api *api, struct MHD_Connection *c, const char *method,
		    const char *url, struct api_request *req);
enum MHD_Result api_envd_route(struct api *api, struct MHD_Connection *c, const char *method,
			       const char *url, struct api_request *req);
void api_envd_done(struct api *api, struct api_request *req);

/* Log streams (logs ?follow=1): suspended while the agent is quiet. */
struct log_followers *api_followers_new(void);
void api_followers_free(struct log_followers *f);
/* The orchestrator's hook: an agent's log grew or it ended. */
void api_followers_wake(void *followers, const char *agent_id);
/* Wake every stream and make them end: before the daemon stops. */
void api_followers_stop(struct log_followers *f);

/* Park a request until agent_id changes (starts, writes or ends): the
 * connection is suspended and resumed then, when libmicrohttpd calls the
 * handler again. api_wait_wake resumes it now; api_wait_done forgets it
 * (once resumed). NULL when the server is stopping: answer instead. */
struct follow *api_wait_park(struct api *api, struct MHD_Connection *c, const char *agent_id);
void api_wait_wake(struct api *api, struct follow *w);
void api_wait_done(struct api *api, struct follow *w);

/* E2B create, resumed: answer if its sandbox runs or failed, else park. */
enum MHD_Result api_e2b_create_resume(struct api *api, struct MHD_Connection *c,
				      struct api_request *req);

/* SaaS mode (routes_saas.c): /api/saas/register, /keys, /usage. The
 * only routes a tenant key reaches so far. */
/* A collection of records under base ("/api/tournaments"): GET base
 * lists, POST base creates from a JSON object, GET and DELETE base/{id}
 * (collection.c routes them). */
struct api_collection {
	const char *base, *route_all, *route_one;
	enum MHD_Result (*list)(struct api *api, struct MHD_Connection *c, struct api_request *req);
	enum MHD_Result (*create)(struct api *api, struct MHD_Connection *c,
				  struct api_request *req, json_t *body);
	enum MHD_Result (*get)(struct api *api, struct MHD_Connection *c, struct api_request *req,
			       const char *id);
	enum MHD_Result (*remove)(struct api *api, struct MHD_Connection *c,
				  struct api_request *req, const char *id);
};
enum MHD_Result api_collection_route(struct api *api, struct MHD_Connection *c,
				     const char *method, const char *url, struct api_request *req,
				     const struct api_collection *col);

/* /api/tournaments (routes_tournaments.c) and /api/schedules
 * (routes_schedules.c); their create is also burst and scheduled mode of
 * POST /api/saas/agents. */
extern const struct api_collection api_tournaments, api_schedules;
enum MHD_Result api_tournament_create(struct api *api, struct MHD_Connection *c,
				      struct api_request *req, json_t *body);
enum MHD_Result api_schedule_create(struct api *api, struct MHD_Connection *c,
				    struct api_request *req, json_t *body);

enum MHD_Result api_saas_route(struct api *api, struct MHD_Connection *c, const char *method,
			       const char *url, struct api_request *req);

/* GET /api/audit (admin): the audit log, newest first, with filters. */
enum MHD_Result api_audit_list(struct api *api, struct MHD_Connection *c,
			       const struct api_request *req);

/* GET /api/summary: the dashboard's metric cards, the caller's own. */
enum MHD_Result api_summary(struct api *api, struct MHD_Connection *c,
			    const struct api_request *req);
/* GET /api/cloud/costs/history: cumulative spend over a window. */
enum MHD_Result api_cloud_costs_history(struct api *api, struct MHD_Connection *c,
					const struct api_request *req);

/* The dashboard's page and files (routes_dashboard.c); needs no key. */
enum MHD_Result api_dashboard_route(struct MHD_Connection *c, const char *method,
				    const char *url, struct api_request *req);

/* HTTP request counters and GET /metrics. */
struct api_metrics *api_metrics_new(void);
void api_metrics_free(struct api_metrics *m);
void api_metrics_count(struct api_metrics *m, const char *route, const char *method,
		       unsigned status);
enum MHD_Result api_metrics_serve(struct api *api, struct MHD_Connection *c);

#endif
