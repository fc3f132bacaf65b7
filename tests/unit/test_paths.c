/* src/api/paths.c: taking request paths and headers apart. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/paths.h"

Test(paths, ids_of_routes)
{
	char id[AGENT_ID_MAX];
	const char *pattern;
	cr_expect(api_path_id("/api/agents/a1/logs", "/api/agents/", "/logs", id, sizeof id));
	cr_expect_str_eq(id, "a1");
	cr_expect_not(api_path_id("/api/agents//logs", "/api/agents/", "/logs", id, sizeof id));
	cr_expect_not(api_path_id("/api/agents/a/b", "/api/agents/", "", id, sizeof id));
	cr_expect(api_url_agent_id("/sandboxes/sb1/timeout", id, &pattern));
	cr_expect_str_eq(pattern, "/sandboxes/{id}/*");
	cr_expect_not(api_url_agent_id("/api/cloud/costs", id, &pattern));
	cr_expect_not(api_url_agent_id("/api/cloud/costs/history", id, &pattern));
}

Test(paths, dashboard_files)
{
	char name[64];
	const char *pages[] = {"/dashboard", "/dashboard/", "/dashboard/swarms", "/dashboard/swarms/"};
	for (size_t i = 0; i < 4; i++) {
		cr_expect(api_dashboard_file(pages[i], name, sizeof name), "%s", pages[i]);
		cr_expect_str_eq(name, "index.html");
	}
	cr_expect(api_dashboard_file("/dashboard/assets/app.js", name, sizeof name));
	cr_expect_str_eq(name, "app.js");
	/* One plain file name, nothing else. */
	const char *refused[] = {"/dashboard/assets/", "/dashboard/assets/../x", "/dashboard/assets/a/b",
				 "/dashboard/assets/.git", "/dashboard/other", "/dashboardx", "/api/x"};
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
		cr_expect_not(api_dashboard_file(refused[i], name, sizeof name), "%s", refused[i]);
	char small[4];
	cr_expect_not(api_dashboard_file("/dashboard/assets/app.js", small, sizeof small));
}

Test(paths, accept_encoding)
{
	cr_expect(api_accepts_gzip("gzip"));
	cr_expect(api_accepts_gzip("deflate, gzip, br"));
	cr_expect(api_accepts_gzip("GZIP;q=0.5"));
	cr_expect(api_accepts_gzip("br, *"));
	cr_expect(api_accepts_gzip("gzip;q=1.0"));
	cr_expect(api_accepts_gzip("gzip ; q=0.01"));
	cr_expect_not(api_accepts_gzip(NULL));
	cr_expect_not(api_accepts_gzip(""));
	cr_expect_not(api_accepts_gzip("identity"));
	cr_expect_not(api_accepts_gzip("x-gzip2, gzipped"));
	cr_expect_not(api_accepts_gzip("gzip;q=0"));
	cr_expect_not(api_accepts_gzip("gzip;q=0.000, identity"));
	cr_expect_not(api_accepts_gzip("*;q=0"));
}

Test(paths, if_none_match)
{
	const char *etag = "\"abc\"";
	cr_expect(api_etag_matches("\"abc\"", etag));
	cr_expect(api_etag_matches("\"x\", \"abc\"", etag));
	cr_expect(api_etag_matches("W/\"abc\"", etag));
	cr_expect(api_etag_matches("*", etag));
	cr_expect_not(api_etag_matches(NULL, etag));
	cr_expect_not(api_etag_matches("", etag));
	cr_expect_not(api_etag_matches("\"abcd\"", etag));
	cr_expect_not(api_etag_matches("abc", etag));
	cr_expect_not(api_etag_matches("\"ab\", c\"", etag));
}
