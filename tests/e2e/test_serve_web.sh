# The dashboard (issue 6): what it reads from the API, its files as the
# server sends them, and the page itself in Debian's chromium driven by
# playwright-core (tests/web). Uses test_serve.sh's helpers.

# deploy NAME TYPE COMMAND: an agent through the BeClever surface; prints its id.
deploy() {
	out=$(api POST /api/agents/deploy "{\"agent_name\":\"$1\",\"agent_type\":\"$2\",\"config\":{\"command\":[\"/bin/sh\",\"-c\",\"$3\"]}}")
	[ "$(status "$out")" = 201 ] || fail "deploy $1: $out"
	jget "$(body "$out")" 'd["agent_id"]'
}

t_web_api_summary_sort_search_and_field_errors() {
	serve_with '{"cloud":{"maxAgents":20,"defaultTemplate":"minimal"}}'
	a=$(deploy "Alpha-one" coder 'echo a')
	b=$(deploy "beta_two" trader 'sleep 60')
	c=$(deploy "gamma%three" coder 'exit 3')
	wait_status "$a" completed
	wait_status "$b" running
	wait_status "$c" failed
	out=$(api GET /api/summary)
	expect_eq 200 "$(status "$out")"
	s=$(body "$out")
	expect_eq '{"total": 3, "pending": 0, "running": 1, "completed": 1, "failed": 1}' "$(jget "$s" 'd["agents"]')"
	expect_eq 1 "$(jget "$s" 'd["active_agents"]')"
	expect_eq 3 "$(jget "$s" 'd["sandboxes_total"]')"
	expect_eq True "$(jget "$s" 'str(d["caller"]["admin"])')"
	expect_eq True "$(jget "$s" 'str(abs(d["remaining_usd"] - (d["budget_usd"] - d["total_spent_usd"])) < 1e-9)')"

	# Sorted by name either way (case-insensitive), then searched: the
	# search is a substring of the name, with LIKE's wildcards taken as text.
	names() { jget "$(body "$(api GET "/api/agents?$1")")" '" ".join(a["name"] for a in d["agents"])'; }
	expect_eq "Alpha-one beta_two gamma%three" "$(names 'sort=name&order=asc')"
	expect_eq "gamma%three beta_two Alpha-one" "$(names 'sort=name&order=desc')"
	expect_eq "Alpha-one" "$(names 'q=ALPHA')"
	expect_eq "gamma%three" "$(names 'q=%25')"
	expect_eq "beta_two" "$(names 'q=_')"
	expect_eq "" "$(names 'q=zzz')"
	expect_eq "beta_two" "$(names 'q=t&type=trader&status=running')"
	out=$(api GET '/api/agents?q=o&sort=name&order=asc&limit=1&offset=1')
	expect_eq 2 "$(jget "$(body "$out")" 'd["total"]')"
	expect_eq beta_two "$(jget "$(body "$out")" 'd["agents"][0]["name"]')"
	# Bad ones name their parameter.
	out=$(api GET '/api/agents?sort=cost')
	expect_eq 400 "$(status "$out")"
	expect_eq sort "$(jget "$(body "$out")" 'd["error"]["field"]')"
	expect_eq order "$(jget "$(body "$(api GET '/api/agents?order=up')")" 'd["error"]["field"]')"
	expect_eq q "$(jget "$(body "$(api GET "/api/agents?q=$(printf 'x%.0s' $(seq 1 200))")")" 'd["error"]["field"]')"

	# A 400 about one field says which, apart from the message, so a form
	# can show it there; other errors have no field.
	out=$(api POST /api/agents/deploy '{"agent_name":"ok","config":{"timeout":0}}')
	expect_eq 400 "$(status "$out")"
	expect_eq config.timeout "$(jget "$(body "$out")" 'd["error"]["field"]')"
	out=$(api POST /api/agents/deploy '{"agent_name":"ok","capabilities":["a",7]}')
	expect_eq 'capabilities[1]' "$(jget "$(body "$out")" 'd["error"]["field"]')"
	out=$(api POST /api/agents/deploy '{"agent_name":"ok","template":"nope"}')
	expect_eq template "$(jget "$(body "$out")" 'd["error"]["field"]')"
	out=$(api POST /api/agents/deploy '{"agent_name":')
	expect_eq 400 "$(status "$out")"
	expect_eq False "$(jget "$(body "$out")" 'str("field" in d["error"])')"
	out=$(api GET /api/agents/agt_nobody)
	expect_eq False "$(jget "$(body "$out")" 'str("field" in d["error"])')"

	# A tenant's summary counts its own agents and its own money.
	out=$(api POST /api/saas/register '{"email":"dash@acme.test","max_agents":4,"credit_limit_usd":3}')
	tkey=$(jget "$(body "$out")" 'd["api_key"]')
	s=$(body "$(api_as "$tkey" GET /api/summary)")
	expect_eq 0 "$(jget "$s" 'd["agents"]["total"]')"
	expect_eq 3.0 "$(jget "$s" 'd["budget_usd"]')"
	expect_eq 4 "$(jget "$s" 'd["max_agents"]')"
	expect_eq False "$(jget "$s" 'str(d["caller"]["admin"])')"
	expect_eq "" "$(jget "$(body "$(api_as "$tkey" GET '/api/agents?q=a')")" '" ".join(a["name"] for a in d["agents"])')"
	api DELETE "/api/agents/$b?terminate_only=true" >/dev/null
	serve_done
}

t_web_spend_history_grows_and_is_scoped() {
	# Sampled every second here (a minute by default).
	serve_with '{"cloud":{"maxAgents":20,"defaultTemplate":"minimal","spendSampleSec":1},"pricing":{"sandboxUsdPerSec":0.01}}'
	a=$(deploy spender coder 'sleep 60')
	wait_status "$a" running
	# Wait (bounded) until two samples show spend growing.
	for i in $(seq 1 600); do
		h=$(body "$(api GET /api/cloud/costs/history?window_sec=60)")
		[ "$(jget "$h" 'len([p for p in d["points"] if p["spent_usd"] > 0])')" -ge 3 ] && break
		sleep 0.02
	done
	expect_eq 60 "$(jget "$h" 'd["window_sec"]')"
	# Cumulative: never falling, times in order, the last point is now.
	expect_eq True "$(jget "$h" 'str(all(a["spent_usd"] <= b["spent_usd"] and a["at"] <= b["at"] for a, b in zip(d["points"], d["points"][1:])))')"
	expect_eq True "$(jget "$h" 'str(len([p for p in d["points"] if p["spent_usd"] > 0]) >= 3)')"
	api DELETE "/api/agents/$a?terminate_only=true" >/dev/null
	total=$(jget "$(body "$(api GET /api/summary)")" 'd["total_spent_usd"]')
	last=$(jget "$(body "$(api GET /api/cloud/costs/history)")" 'd["points"][-1]["spent_usd"]')
	expect_eq "$total" "$last"
	# Destroying the agent keeps its spend in the history (the ledger).
	expect_eq 200 "$(status "$(api DELETE "/api/agents/$a")")"
	last=$(jget "$(body "$(api GET /api/cloud/costs/history)")" 'd["points"][-1]["spent_usd"]')
	expect_eq "$total" "$last"
	# A tenant sees only its own (nothing spent yet).
	out=$(api POST /api/saas/register '{"email":"hist@acme.test","max_agents":4,"credit_limit_usd":3}')
	tkey=$(jget "$(body "$out")" 'd["api_key"]')
	h=$(body "$(api_as "$tkey" GET /api/cloud/costs/history)")
	expect_eq 0.0 "$(jget "$h" 'max(p["spent_usd"] for p in d["points"])')"
	out=$(api GET '/api/cloud/costs/history?window_sec=5')
	expect_eq 400 "$(status "$out")"
	expect_eq window_sec "$(jget "$(body "$out")" 'd["error"]["field"]')"
	# The samples survive a restart.
	kill "$SERVER_PID"; wait "$SERVER_PID" || true
	start_server "$DATA" "$(dirname "$DATA")/evoclaw.json"
	expect_eq True "$(jget "$(body "$(api GET "/api/cloud/costs/history?window_sec=60")")" 'str(len([p for p in d["points"] if p["spent_usd"] > 0]) >= 3)')"
	serve_done
}

t_web_dashboard_files_as_served() {
	serve_with '{}'
	# The page needs no key (it holds no data: it asks the API with the
	# key the user signs in with) and is locked down.
	hdr=$(curl -s -D - -o "$DATA.page" "$URL/dashboard")
	expect_contains "$hdr" "HTTP/1.1 200"
	expect_contains "$hdr" "Content-Type: text/html; charset=utf-8"
	expect_contains "$hdr" "Content-Security-Policy: default-src 'none'; script-src 'self'"
	expect_contains "$hdr" "frame-ancestors 'none'"
	expect_contains "$hdr" "X-Frame-Options: DENY"
	expect_contains "$hdr" "X-Content-Type-Options: nosniff"
	grep -q '/dashboard/assets/app.js' "$DATA.page" || fail "the page does not load app.js"
	grep -qi '<script>' "$DATA.page" && fail "an inline script (the CSP forbids it)"
	# The same page at /dashboard/swarms and with a trailing slash.
	for p in /dashboard/ /dashboard/swarms /dashboard/swarms/; do
		curl -s "$URL$p" | cmp -s - "$DATA.page" || fail "$p is not the dashboard"
	done
	# The files, compiled in; gzip when asked; revalidation by ETag.
	for f in app.js app.css favicon.svg; do
		cmp -s <(curl -s "$URL/dashboard/assets/$f") "$(dirname "$EVOCLAW")/../../web/$f" ||
			fail "$f as served differs from web/$f"
	done
	hdr=$(curl -s -D - -o /dev/null "$URL/dashboard/assets/app.js")
	expect_contains "$hdr" "Content-Type: text/javascript; charset=utf-8"
	etag=$(printf '%s' "$hdr" | tr -d '\r' | sed -n 's/^ETag: //p')
	[ -n "$etag" ] || fail "no ETag"
	expect_eq 304 "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$URL/dashboard/assets/app.js")"
	expect_eq 304 "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: \"x\", W/$etag" "$URL/dashboard/assets/app.js")"
	expect_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "0000"' "$URL/dashboard/assets/app.js")"
	hdr=$(curl -s -D - -o "$DATA.gz" -H 'Accept-Encoding: gzip' "$URL/dashboard/assets/app.js")
	expect_contains "$hdr" "Content-Encoding: gzip"
	gunzip -c "$DATA.gz" | cmp -s - "$(dirname "$EVOCLAW")/../../web/app.js" || fail "gzip body is not app.js"
	hdr=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip;q=0, identity' "$URL/dashboard/assets/app.js")
	case $hdr in *Content-Encoding*) fail "gzip sent though refused" ;; esac
	expect_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' -I "$URL/dashboard")"
	# Nothing else is reachable through it.
	for p in /dashboard/assets/ /dashboard/assets/nope.js /dashboard/assets/../../etc/passwd \
		/dashboard/assets/%2e%2e%2fapi /dashboard/assets/.hidden /dashboard/other /dashboardx; do
		expect_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$URL$p")"
	done
	expect_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "$URL/dashboard")"
	serve_done
}

t_web_dashboard_in_chromium() {
	# A small per-agent price so spend and the chart move within the test.
	serve_with '{"cloud":{"maxAgents":40,"defaultTemplate":"minimal","spendSampleSec":1}}'
	root=$(cd "$(dirname "$EVOCLAW")/../.." && pwd)
	[ -d "$root/tests/web/node_modules/playwright-core" ] || fail "playwright-core is not installed (make deps)"
	command -v chromium >/dev/null || fail "chromium is not installed (make deps)"
	out=$(api POST /api/saas/register '{"email":"web@acme.test","max_agents":5,"credit_limit_usd":2}')
	tkey=$(jget "$(body "$out")" 'd["api_key"]')
	artifacts="$(dirname "$EVOCLAW")/../artifacts/dashboard"
	mkdir -p "$artifacts"
	set +e
	DASHBOARD_URL="$URL" ADMIN_KEY="$KEY" TENANT_KEY="$tkey" ARTIFACTS="$artifacts" \
		timeout 600 node --test --test-concurrency=1 --test-reporter=tap "$root/tests/web/" >"$DATA.node" 2>&1
	rc=$?
	set -e
	grep -E '^ *(not )?ok ' "$DATA.node" || true
	[ "$rc" -eq 0 ] || { tail -80 "$DATA.node"; fail "the dashboard suite failed ($rc)"; }
	grep -q '^# fail 0' "$DATA.node" || fail "no test summary"
	for w in 1280 390; do
		[ -s "$artifacts/dashboard-$w.png" ] || fail "no screenshot at $w px"
	done
	serve_done
}
