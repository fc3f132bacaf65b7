/* The dashboard (GET /dashboard, /dashboard/swarms, /dashboard/assets/NAME):
 * static files compiled into the server (web/, tools/embed_web.c). The
 * page holds no data of its own: it asks the API with the key the user
 * signs in with, so serving it needs no key. */
#include <string.h>

#include "api/api.h"
#include "api/http.h"
#include "api/web_assets.h"

/* Scripts and styles only from here, no framing, no forms posting
 * elsewhere, fetches only to this origin. */
#define DASHBOARD_CSP                                                                      \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "   \
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static const struct web_asset *find_asset(const char *name)
{
	for (size_t i = 0; i < web_assets_count; i++)
		if (strcmp(web_assets[i].name, name) == 0)
			return &web_assets[i];
	return NULL;
}

enum MHD_Result api_dashboard_route(struct MHD_Connection *c, const char *method,
				    const char *url, struct api_request *req)
{
	char name[128];
	req->route = "/dashboard";
	if (!api_dashboard_file(url, name, sizeof name))
		return http_send_error(c, 404, "not_found", "no dashboard file %.200s", url);
	const struct web_asset *asset = find_asset(name);
	if (asset == NULL)
		return http_send_error(c, 404, "not_found", "no dashboard file %.200s", url);
	bool head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0)
		return http_send_error(c, 405, "method_not_allowed",
				       "%.8s /dashboard: only GET and HEAD", method);
	struct MHD_Response *r;
	unsigned status = 200;
	bool zipped = false;
	if (api_etag_matches(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match"),
			     asset->etag)) {
		status = 304;
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		zipped = api_accepts_gzip(
			MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
		/* The arrays live as long as the program: nothing to copy. */
		r = MHD_create_response_from_buffer(
			zipped ? asset->gzip_len : asset->len,
			(void *)(zipped ? asset->gzip : asset->data), MHD_RESPMEM_PERSISTENT);
	}
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", asset->content_type);
	MHD_add_response_header(r, "ETag", asset->etag);
	/* Revalidate every time: a new build's page must not run old code. */
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_add_response_header(r, "Vary", "Accept-Encoding");
	if (zipped)
		MHD_add_response_header(r, "Content-Encoding", "gzip");
	MHD_add_response_header(r, "Content-Security-Policy", DASHBOARD_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	return http_queue(c, status, r);
}
