# evoclaw serve (issue 3, in progress): the real binary over HTTP.

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server DATA_DIR [CONFIG]: runs it in the background; sets
# SERVER_PID, URL, KEY (once the key exists). The same port on restart.
start_server() {
	if [ -z "${PORT:-}" ]; then PORT=$(free_port); fi
	URL="http://127.0.0.1:$PORT"
	# Its output goes to a file, never to the runner's pipe, and it is
	# stopped however the test ends.
	"$EVOCLAW" serve --listen "127.0.0.1:$PORT" --data "$1" ${2:+--config "$2"} >>"$1.log" 2>&1 &
	SERVER_PID=$!
	trap stop_test_processes EXIT
	wait_for_server "$SERVER_PID" "$URL" "$1.log"
	KEY=$(cat "$1/admin.key")
}

# Whatever a test started (the server, a broker, a second server playing
# E2B, a proxy) is stopped however the test ends; every starter sets this
# one trap, so none undoes another's.
stop_test_processes() {
	kill ${SERVER_PID:-} ${BROKER_PID:-} ${REMOTE_PID:-} ${PROXY_PID:-} 2>/dev/null || true
	# Our children: once they are gone, nothing writes in their dirs.
	wait ${SERVER_PID:-} ${BROKER_PID:-} ${REMOTE_PID:-} ${PROXY_PID:-} 2>/dev/null || true
	rm -rf ${BROKER_DIR:-} ${REMOTE_DIR:-} ${SERVE_DIR:-}
}

# wait_for_server PID URL LOG: ready when it answers; bounded, and a
# server that died fails fast (showing its log).
wait_for_server() {
	for i in $(seq 1 500); do
		curl -s -o /dev/null "$2/healthz" && return 0
		kill -0 "$1" 2>/dev/null || { cat "$3"; fail "the server at $2 exited"; }
		sleep 0.01
	done
	fail "the server at $2 did not answer within 5 s"
}

t_serve_health_auth_and_errors() {
	PORT=
	data=$(mktemp -d /tmp/evoclaw-serve.XXXXXX)/data
	start_server "$data"
	expect_eq '{"status":"ok"}' "$(curl -s "$URL/healthz")"
	# The admin key: created on first start, root's alone, never logged.
	expect_eq 600 "$(stat -c %a "$data/admin.key")"
	key=$(cat "$data/admin.key")
	grep -q "$key" "$data.log" && fail "the admin key was logged"
	# /api needs it.
	out=$(curl -s -w ' %{http_code}' "$URL/api/templates")
	expect_contains "$out" '"code":"unauthorized"'
	expect_contains "$out" " 401"
	out=$(curl -s -w ' %{http_code}' -H "X-API-Key: evo_admin_wrong" "$URL/api/templates")
	expect_contains "$out" '"message":"invalid API key"'
	out=$(curl -s -w ' %{http_code}' -H "X-API-Key: $key" "$URL/api/templates")
	expect_contains "$out" '"name":"minimal"'
	expect_contains "$out" '"memory_mb":256'
	expect_contains "$out" " 200"
	# Errors are JSON naming the problem.
	out=$(curl -s -w ' %{http_code}' -H "X-API-Key: $key" "$URL/api/nowhere")
	expect_eq '{"error":{"code":"not_found","message":"no route GET /api/nowhere"}} 404' "$out"
	out=$(curl -s -w ' %{http_code}' -X DELETE "$URL/healthz")
	expect_contains "$out" " 405"
	# Too large: refused on its declared length, and when sent chunked.
	out=$(head -c 2097152 /dev/zero | curl -s -w ' %{http_code}' -X POST --data-binary @- "$URL/healthz")
	expect_contains "$out" '"code":"payload_too_large"'
	expect_contains "$out" " 413"
	out=$(head -c 2097152 /dev/zero | curl -s -w ' %{http_code}' -H 'Transfer-Encoding: chunked' -X POST --data-binary @- "$URL/healthz")
	expect_contains "$out" " 413"
	# 10,000 bad requests on keep-alive connections, then still healthy
	# (and the flood was rate limited).
	python3 - "$URL" <<'PY'
import http.client, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
codes = {}
for i in range(10000):
    path = ["/api/x%d" % i, "/nope", "/api/templates"][i % 3]
    conn.request("GET", path, headers={"X-API-Key": "bad"} if i % 2 else {})
    r = conn.getresponse()
    body = r.read()
    if not body.startswith(b'{"error":'):
        sys.exit("not a JSON error: %r" % body[:80])
    codes[r.status] = codes.get(r.status, 0) + 1
# Past the per-address burst (4000 by default) the rest are 429.
if set(codes) - {401, 404, 429} or not codes.get(429):
    sys.exit("unexpected statuses %r" % codes)
print("10000 bad requests:", codes)
PY
	expect_eq '{"status":"ok"}' "$(curl -s "$URL/healthz")"
	# A restart finds the same key and database.
	kill "$SERVER_PID"
	wait "$SERVER_PID"
	start_server "$data"
	expect_eq "$key" "$(cat "$data/admin.key")"
	expect_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" "$URL/api/templates")"
	kill "$SERVER_PID"
	wait "$SERVER_PID"
	rm -rf "$(dirname "$data")"
}

t_serve_bad_configuration() {
	dir=$(mktemp -d /tmp/evoclaw-serve.XXXXXX)
	echo '{"cloud": {"maxAgents": "ten"}}' >"$dir/evoclaw.json"
	set +e
	err=$("$EVOCLAW" serve --config "$dir/evoclaw.json" --data "$dir/data" 2>&1)
	rc=$?
	set -e
	expect_eq 2 "$rc" "exit status"
	expect_contains "$err" "cloud.maxAgents: must be an integer"
	set +e
	err=$("$EVOCLAW" serve --listen nonsense --data "$dir/data" 2>&1)
	rc=$?
	set -e
	expect_eq 2 "$rc"
	expect_contains "$err" "HOST:PORT"
	"$EVOCLAW" serve --help | grep -q -- "--listen"
	rm -rf "$dir"
}

# ---- the orchestrator: agents over HTTP --------------------------------

# api METHOD PATH [JSON]: call the API with the key; prints the body then
# a line with the status.
api() { api_as "$KEY" "$@"; }
# api_as KEY METHOD PATH [JSON]: the same with another key (a tenant's)
api_as() {
	k=$1; shift
	if [ $# -ge 3 ]; then
		curl -s -w '\n%{http_code}' -X "$1" -H "X-API-Key: $k" \
			-H 'Content-Type: application/json' --data-binary "$3" "$URL$2"
	else
		curl -s -w '\n%{http_code}' -X "$1" -H "X-API-Key: $k" "$URL$2"
	fi
}
# body / status of what api printed
body() { printf '%s\n' "$1" | sed '$d'; }
status() { printf '%s\n' "$1" | tail -1; }
# jget JSON EXPR: a python expression over d, the parsed JSON.
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); r=eval(sys.argv[2]); print(r if isinstance(r,(str,int,float)) and not isinstance(r,bool) else json.dumps(r))' "$1" "$2"; }

# wait_status ID WANT: poll the agent until its status is WANT (10 s).
wait_status() {
	for i in $(seq 1 1000); do
		out=$(api GET "/api/agents/$1")
		[ "$(jget "$(body "$out")" 'd["status"]')" = "$2" ] && return 0
		sleep 0.01
	done
	fail "agent $1 never became $2: $(body "$out")"
}

# A fresh server with CONFIG_JSON (may be {}); sets DATA.
serve_with() {
	PORT=
	dir=$(mktemp -d /tmp/evoclaw-serve.XXXXXX)
	SERVE_DIR=$dir
	DATA=$dir/data
	printf '%s\n' "$1" >"$dir/evoclaw.json"
	start_server "$DATA" "$dir/evoclaw.json"
}

# Stop the server and whatever sandboxes its agents still have.
serve_done() {
	# A clean stop, exit status 0: under ASan that also means no leak.
	kill "$SERVER_PID"
	rc=0
	wait "$SERVER_PID" || rc=$?
	[ "$rc" -eq 0 ] || { tail -40 "$DATA.log"; fail "the server exited with $rc"; }
	for id in $(ls "$EVOCLAW_RUN_DIR/sandboxes" 2>/dev/null); do
		grep -q '"owner":"evoclaw-serve' "$EVOCLAW_RUN_DIR/sandboxes/$id/state.json" 2>/dev/null &&
			"$EVOCLAW" sandbox kill "$id" >/dev/null 2>&1
	done
	# What those kills noted for a server that is gone for good.
	rm -f "$EVOCLAW_RUN_DIR"/ended/*.json
	rm -rf "$(dirname "$DATA")"
}

t_serve_agent_runs_its_command_and_reports() {
	# Exchange credentials from the server's environment reach its agents
	# (DESIGN §10) and nothing else.
	export HYPERLIQUID_API_KEY=hlk-from-env HYPERLIQUID_API_SECRET=hls-from-env
	serve_with '{"agents":{"logLevel":"warn"}}'
	# EvoClaw surface: the task arrives as EVOCLAW_TASK and task.txt.
	out=$(api POST /api/cloud/spawn '{"agent_id":"ok-1","template_id":"base","task":"add 2+2",
		"env":{"SECRET_TOKEN":"hunter2"},
		"command":["bash","-c","echo task=$EVOCLAW_TASK; cat /home/user/task.txt; echo; echo id=$EVOCLAW_AGENT_ID type=$EVOCLAW_AGENT_TYPE; [ \"$HYPERLIQUID_API_KEY:$HYPERLIQUID_API_SECRET\" = hlk-from-\"\"env:hls-from-\"\"env ] && echo hl=given; echo paper=$EVOCLAW_PAPER_MODE level=$EVOCLAW_LOG_LEVEL"]}')
	expect_eq 201 "$(status "$out")"
	b=$(body "$out")
	expect_eq pending "$(jget "$b" 'd["status"]')"
	expect_eq '["SECRET_TOKEN"]' "$(jget "$b" 'd["environment_keys"]')"
	case $b in *hunter2*) fail "an environment value was returned" ;; esac
	wait_status ok-1 completed
	b=$(body "$(api GET /api/agents/ok-1)")
	expect_eq exited "$(jget "$b" 'd["stop_reason"]')"
	expect_eq 0 "$(jget "$b" 'd["exit_code"]')"
	expect_eq '["task=add 2+2", "add 2+2", "id=ok-1 type=trader", "hl=given", "paper=true level=warn"]' "$(jget "$b" 'd["log_tail"]')"
	case $b$(cat "$DATA.log") in *-from-env*) fail "an exchange credential was shown or logged" ;; esac
	case $(jget "$b" 'd["sandbox_id"]') in None|'') fail "no sandbox id" ;; esac
	# A failing command: failed, its exit code and stderr's last lines.
	out=$(api POST /api/agents/deploy '{"agent_name":"bad","agent_type":"tester","template":"minimal",
		"config":{"command":["/bin/sh","-c","echo working; echo first problem >&2; echo it broke >&2; exit 3"]}}')
	expect_eq 201 "$(status "$out")"
	id=$(jget "$(body "$out")" 'd["agent_id"]')
	expect_eq pending "$(jget "$(body "$out")" 'd["status"]')"
	wait_status "$id" failed
	b=$(body "$(api GET "/api/agents/$id")")
	expect_eq 3 "$(jget "$b" 'd["exit_code"]')"
	expect_eq exited "$(jget "$b" 'd["stop_reason"]')"
	expect_contains "$(jget "$b" 'd["error_message"]')" "exit code 3"
	expect_contains "$(jget "$b" 'd["error_message"]')" "it broke"
	out=$(api GET "/api/agents/$id/logs?tail=2")
	expect_eq '["first problem", "it broke"]' "$(jget "$(body "$out")" 'd["lines"]')"
	# A command that cannot start: failed with the reason.
	out=$(api POST /api/cloud/spawn '{"template_id":"minimal","command":["/no/such/program"]}')
	id=$(jget "$(body "$out")" 'd["id"]')
	wait_status "$id" failed
	b=$(body "$(api GET "/api/agents/$id")")
	expect_eq error "$(jget "$b" 'd["stop_reason"]')"
	expect_contains "$(jget "$b" 'd["error_message"]')" "/no/such/program"
	# Listing, paging, filters.
	out=$(api GET '/api/agents?limit=2')
	expect_eq 3 "$(jget "$(body "$out")" 'd["total"]')"
	expect_eq 2 "$(jget "$(body "$out")" 'len(d["agents"])')"
	out=$(api GET '/api/agents?status=failed')
	expect_eq 2 "$(jget "$(body "$out")" 'd["total"]')"
	out=$(api GET '/api/agents?type=tester')
	expect_eq bad "$(jget "$(body "$out")" 'd["agents"][0]["name"]')"
	expect_eq 400 "$(status "$(api GET '/api/agents?limit=0')")"
	expect_eq 400 "$(status "$(api GET '/api/agents?status=asleep')")"
	serve_done
}

t_serve_idle_agent_terminate_and_destroy() {
	serve_with '{}'
	# Lists are cached between writes: every write shows at once.
	expect_eq 0 "$(jget "$(body "$(api GET /api/agents)")" 'd["total"]')"
	expect_eq 0 "$(jget "$(body "$(api GET /api/agents)")" 'd["total"]')"
	out=$(api POST /api/cloud/spawn '{"agent_id":"idler","template_id":"minimal"}')
	expect_eq 201 "$(status "$out")"
	expect_eq idler "$(jget "$(body "$(api GET /api/agents)")" 'd["agents"][0]["id"]')"
	wait_status idler running
	expect_eq running "$(jget "$(body "$(api GET /api/agents)")" 'd["agents"][0]["status"]')"
	sb=$(jget "$(body "$(api GET /api/agents/idler)")" 'd["sandbox_id"]')
	ev sandbox ls | grep -q "$sb"
	out=$(api GET /api/cloud)
	expect_eq 1 "$(jget "$(body "$out")" 'd["count"]')"
	# terminate: stopped, record kept.
	out=$(api DELETE /api/cloud/idler)
	expect_eq 200 "$(status "$out")"
	expect_eq completed "$(jget "$(body "$out")" 'd["status"]')"
	expect_eq terminated "$(jget "$(body "$out")" 'd["stop_reason"]')"
	ev sandbox ls | grep -q "$sb" && fail "its sandbox is still there"
	expect_eq 409 "$(status "$(api DELETE /api/cloud/idler)")"
	expect_eq 409 "$(status "$(api DELETE '/api/agents/idler?terminate_only=true')")"
	expect_eq 200 "$(status "$(api GET /api/agents/idler)")"
	expect_eq 0 "$(jget "$(body "$(api GET /api/cloud)")" 'd["count"]')"
	# destroy of a running one: sandbox and record go.
	out=$(api POST /api/agents/deploy '{"agent_name":"doomed","template":"minimal"}')
	id=$(jget "$(body "$out")" 'd["agent_id"]')
	wait_status "$id" running
	sb=$(jget "$(body "$(api GET "/api/agents/$id")")" 'd["sandbox_id"]')
	out=$(api DELETE "/api/agents/$id")
	expect_eq 200 "$(status "$out")"
	expect_eq true "$(jget "$(body "$out")" 'd["destroyed"]')"
	ev sandbox ls | grep -q "$sb" && fail "its sandbox is still there"
	expect_eq 404 "$(status "$(api GET "/api/agents/$id")")"
	expect_eq 1 "$(jget "$(body "$(api GET /api/agents)")" 'd["total"]')"
	expect_eq 404 "$(status "$(api DELETE "/api/agents/$id")")"
	[ -e "$DATA/logs/$id.log" ] && fail "its log was kept"
	# Costs still count what destroyed agents spent.
	out=$(api GET /api/cloud/costs)
	spent=$(jget "$(body "$out")" 'd["total_spent_usd"]')
	python3 -c "import sys; sys.exit(0 if $spent >= 0.0002 else 1)" || fail "spent $spent"
	expect_eq 1 "$(jget "$(body "$out")" 'len(d["agents"])')"
	serve_done
}

t_serve_bad_requests_name_the_field() {
	serve_with '{}'
	check() { # STATUS NEEDLE METHOD PATH [BODY]
		want=$1 needle=$2; shift 2
		out=$(api "$@")
		expect_eq "$want" "$(status "$out")" "status of $*"
		expect_contains "$(body "$out")" "$needle"
	}
	check 400 'body is not valid JSON' POST /api/cloud/spawn '{"agent_id": '
	check 400 'body must be a JSON object' POST /api/cloud/spawn '[1,2]'
	check 400 'timeout_sec: must be an integer' POST /api/cloud/spawn '{"timeout_sec":"10"}'
	check 400 'timeout_sec: must be an integer from 1 to 86400' POST /api/cloud/spawn '{"timeout_sec":999999}'
	check 400 'agent_type: \"wizard\" is not an agent type' POST /api/cloud/spawn '{"agent_type":"wizard"}'
	check 400 'template_id: no template' POST /api/cloud/spawn '{"template_id":"nope"}'
	check 400 'command[1]: must be a string' POST /api/cloud/spawn '{"command":["a",2]}'
	check 400 'env.1BAD: not a variable name' POST /api/cloud/spawn '{"env":{"1BAD":"x"}}'
	check 400 'genome: must be an object' POST /api/cloud/spawn '{"genome":[1]}'
	check 400 'agent_id: ' POST /api/cloud/spawn '{"agent_id":"../etc"}'
	check 400 'colour: unknown field' POST /api/cloud/spawn '{"colour":"red"}'
	check 400 'agent_name: required' POST /api/agents/deploy '{"agent_type":"coder"}'
	check 400 'config.timeout: must be an integer' POST /api/agents/deploy '{"agent_name":"a","config":{"timeout":-1}}'
	check 400 'config.retries: unknown field' POST /api/agents/deploy '{"agent_name":"a","config":{"retries":1}}'
	check 400 'capabilities: must be an array' POST /api/agents/deploy '{"agent_name":"a","capabilities":"all"}'
	check 404 'no agent nobody' GET /api/agents/nobody
	check 404 'no agent nobody' DELETE /api/cloud/nobody
	check 404 'no route' GET /api/agents/a/b/c
	check 405 'use POST' GET /api/cloud/spawn
	check 405 'use GET or DELETE' PUT /api/agents/x '{}'
	check 400 'tail: must be an integer' GET '/api/agents/x/logs?tail=lots'
	out=$(curl -s -w '\n%{http_code}' -H "X-API-Key: $KEY" -X POST -d '{}' "$URL/api/cloud/spawn")
	expect_eq 415 "$(status "$out")"
	out=$(head -c 2097152 /dev/zero | curl -s -w '\n%{http_code}' -H "X-API-Key: $KEY" \
		-H 'Content-Type: application/json' --data-binary @- "$URL/api/cloud/spawn")
	expect_eq 413 "$(status "$out")"
	# None of it made an agent.
	expect_eq 0 "$(jget "$(body "$(api GET /api/agents)")" 'd["total"]')"
	serve_done
}

t_serve_max_agents_exact_under_50_concurrent_spawns() {
	serve_with '{"cloud":{"maxAgents":5}}'
	codes=$(seq 1 50 | xargs -P 50 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST \
		-H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
		--data-binary '{"template_id":"minimal","timeout_sec":120}' "$URL/api/cloud/spawn" | sort | uniq -c)
	expect_eq "5 201|45 429" "$(echo "$codes" | awk '{print $1 " " $2}' | paste -sd'|')"
	out=$(api POST /api/cloud/spawn '{"template_id":"minimal"}')
	expect_eq 429 "$(status "$out")"
	expect_contains "$(body "$out")" '"code":"limit_exceeded"'
	expect_contains "$(body "$out")" 'maxAgents is 5'
	out=$(api GET /api/cloud)
	expect_eq 5 "$(jget "$(body "$out")" 'd["count"]')"
	for id in $(jget "$(body "$out")" '" ".join(a["id"] for a in d["agents"])'); do
		wait_status "$id" running
		expect_eq 200 "$(status "$(api DELETE "/api/cloud/$id")")"
	done
	expect_eq 201 "$(status "$(api POST /api/cloud/spawn '{"template_id":"minimal"}')")"
	serve_done
}

t_serve_budget_refuses_worst_case() {
	# 0.001 USD/s: a 30 s agent may cost 0.03; the budget holds one.
	serve_with '{"cloud":{"creditBudgetUsd":0.05},"pricing":{"sandboxUsdPerSec":0.001}}'
	expect_eq 201 "$(status "$(api POST /api/cloud/spawn '{"agent_id":"b1","template_id":"minimal","timeout_sec":30}')")"
	out=$(api POST /api/cloud/spawn '{"template_id":"minimal","timeout_sec":30}')
	expect_eq 402 "$(status "$out")"
	expect_contains "$(body "$out")" '"code":"budget_exceeded"'
	expect_contains "$(body "$out")" 'spawn refused: estimated spend 0.06'
	expect_contains "$(body "$out")" 'would exceed creditBudgetUsd 0.05'
	# A shorter one fits in what is left.
	expect_eq 201 "$(status "$(api POST /api/cloud/spawn '{"agent_id":"b2","template_id":"minimal","timeout_sec":10}')")"
	out=$(api GET /api/cloud/costs)
	expect_eq 0.05 "$(jget "$(body "$out")" 'd["budget_usd"]')"
	expect_eq 0.04 "$(jget "$(body "$out")" 'd["committed_usd"]')"
	wait_status b1 running
	wait_status b2 running
	api DELETE /api/cloud/b1 >/dev/null
	api DELETE /api/cloud/b2 >/dev/null
	serve_done
}

t_serve_timeout_within_a_second_and_keep_alive() {
	serve_with '{"cloud":{"maxLifetimeSec":4}}'
	api POST /api/cloud/spawn '{"agent_id":"t1","template_id":"minimal","timeout_sec":1}' >/dev/null
	api POST /api/cloud/spawn '{"agent_id":"k1","template_id":"minimal","timeout_sec":1,"keep_alive":true}' >/dev/null
	wait_status t1 failed
	b=$(body "$(api GET /api/agents/t1)")
	expect_eq timeout "$(jget "$b" 'd["stop_reason"]')"
	ran=$(jget "$b" 'd["execution_time_ms"]')
	[ "$ran" -ge 1000 ] && [ "$ran" -le 2000 ] || fail "timeout of 1 s took $ran ms"
	# Keep-alive outlives its timeout, up to maxLifetimeSec.
	expect_eq running "$(jget "$(body "$(api GET /api/agents/k1)")" 'd["status"]')"
	for i in $(seq 1 800); do
		b=$(body "$(api GET /api/agents/k1)")
		[ "$(jget "$b" 'd["status"]')" = failed ] && break
		sleep 0.01
	done
	expect_eq timeout "$(jget "$b" 'd["stop_reason"]')"
	ran=$(jget "$b" 'd["execution_time_ms"]')
	[ "$ran" -ge 3000 ] && [ "$ran" -le 5000 ] || fail "keep-alive agent ran $ran ms, maxLifetimeSec is 4"
	serve_done
}

t_serve_logs_follow_until_the_agent_ends() {
	serve_with '{}'
	api POST /api/cloud/spawn '{"agent_id":"talker","template_id":"minimal",
		"command":["/bin/sh","-c","for i in 1 2 3 4 5; do echo line $i; sleep 0.1; done"]}' >/dev/null
	out=$(timeout 20 curl -s -N -H "X-API-Key: $KEY" "$URL/api/agents/talker/logs?follow=1")
	expect_eq "line 1 line 2 line 3 line 4 line 5" "$(echo $out)"
	# Following a finished agent gives its whole log and ends.
	out=$(timeout 20 curl -s -N -H "X-API-Key: $KEY" "$URL/api/agents/talker/logs?follow=1")
	expect_eq "line 1 line 2 line 3 line 4 line 5" "$(echo $out)"
	expect_eq completed "$(jget "$(body "$(api GET /api/agents/talker)")" 'd["status"]')"
	serve_done
}

t_serve_restart_and_kill_9_recovery() {
	serve_with '{}'
	api POST /api/cloud/spawn '{"agent_id":"long","template_id":"minimal","timeout_sec":120,
		"command":["/bin/sh","-c","i=0; while :; do echo beat $i; i=$((i+1)); sleep 0.1; done"]}' >/dev/null
	api POST /api/cloud/spawn '{"agent_id":"gone","template_id":"minimal","timeout_sec":120}' >/dev/null
	api POST /api/cloud/spawn '{"agent_id":"lost","template_id":"minimal","timeout_sec":120}' >/dev/null
	api POST /api/cloud/spawn '{"agent_id":"done","template_id":"minimal","command":["true"]}' >/dev/null
	wait_status long running
	wait_status gone running
	wait_status lost running
	wait_status done completed
	sandbox_of() { jget "$(body "$(api GET "/api/agents/$1")")" 'd["sandbox_id"]'; }
	long_sb=$(sandbox_of long)
	gone_sb=$(sandbox_of gone)
	lost_sb=$(sandbox_of lost)
	# A clean restart: everything is where it was.
	kill "$SERVER_PID"; wait "$SERVER_PID" || true
	start_server "$DATA"
	expect_eq running "$(jget "$(body "$(api GET /api/agents/long)")" 'd["status"]')"
	expect_eq completed "$(jget "$(body "$(api GET /api/agents/done)")" 'd["status"]')"
	api POST /api/cloud/spawn '{"agent_id":"finisher","template_id":"minimal",
		"command":["/bin/sh","-c","sleep 0.5; echo finished"]}' >/dev/null
	wait_status finisher running
	fin_sb=$(sandbox_of finisher)
	# kill -9. While it is down: one agent finishes, one sandbox is killed,
	# one supervisor dies without a word, and an orphan of ours appears
	# (as if the crash came between making a sandbox and recording it).
	kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
	ev sandbox kill "$gone_sb"
	kill -9 "$(grep -o '"supervisor_pid":[0-9]*' "$EVOCLAW_RUN_DIR/sandboxes/$lost_sb/state.json" | cut -d: -f2)"
	owner=$(grep -o '"owner":"[^"]*"' "$EVOCLAW_RUN_DIR/sandboxes/$long_sb/state.json" | cut -d'"' -f4)
	orphan=$(ev sandbox create --template minimal --timeout 60 --owner "$owner")
	for i in $(seq 1 500); do # the finisher's command ends meanwhile (it sleeps 0.5 s)
		[ -e "$EVOCLAW_RUN_DIR/sandboxes/$fin_sb" ] || break
		sleep 0.01
	done
	[ -e "$EVOCLAW_RUN_DIR/ended/$fin_sb.json" ] || fail "no end note for the finisher"
	start_server "$DATA"
	grep -q "1 agents re-adopted, 2 ended while down, 1 lost, 1 orphan sandboxes killed" "$DATA.log" ||
		fail "$(tail -3 "$DATA.log")"
	b=$(body "$(api GET /api/agents/long)")
	expect_eq running "$(jget "$b" 'd["status"]')"
	expect_eq "$long_sb" "$(jget "$b" 'd["sandbox_id"]')"
	expect_contains "$(jget "$b" 'd["log_tail"]')" "beat"
	b=$(body "$(api GET /api/agents/finisher)")
	expect_eq completed "$(jget "$b" 'd["status"]')"
	expect_eq exited "$(jget "$b" 'd["stop_reason"]')"
	ran=$(jget "$b" 'd["execution_time_ms"]')
	[ "$ran" -lt 1000 ] || fail "billed $ran ms for a 0.5 s agent: not until it ended"
	b=$(body "$(api GET /api/agents/gone)")
	expect_eq failed "$(jget "$b" 'd["status"]')"
	expect_contains "$(jget "$b" 'd["error_message"]')" "killed outside the orchestrator"
	b=$(body "$(api GET /api/agents/lost)")
	expect_eq failed "$(jget "$b" 'd["status"]')"
	expect_eq orchestrator_lost "$(jget "$b" 'd["stop_reason"]')"
	ev sandbox ls | grep -q "$orphan" && fail "the orphan sandbox was left running"
	grep -qs "\"owner\":\"$owner\"" "$EVOCLAW_RUN_DIR"/ended/*.json && fail "end notes left: $(grep -ls "$owner" "$EVOCLAW_RUN_DIR"/ended/*.json)"
	expect_eq 5 "$(jget "$(body "$(api GET /api/agents)")" 'd["total"]')"
	# Still followed: terminating it works and bills it.
	out=$(api DELETE /api/cloud/long)
	expect_eq terminated "$(jget "$(body "$out")" 'd["stop_reason"]')"
	cost=$(jget "$(body "$out")" 'd["cost_usd"]')
	python3 -c "import sys; sys.exit(0 if $cost > 0 else 1)" || fail "cost $cost"
	grep -qs "\"owner\":\"$owner\"" "$EVOCLAW_RUN_DIR"/ended/*.json && fail "end notes left: $(grep -ls "$owner" "$EVOCLAW_RUN_DIR"/ended/*.json)"
	serve_done
}

t_serve_metrics() {
	serve_with '{}'
	api POST /api/cloud/spawn '{"agent_id":"m1","template_id":"minimal","command":["true"]}' >/dev/null
	wait_status m1 completed
	api GET /api/agents/nobody >/dev/null
	out=$(curl -s "$URL/metrics")
	expect_contains "$out" 'evoclaw_agents{status="completed"} 1'
	expect_contains "$out" 'evoclaw_spawn_latency_seconds_count 1'
	expect_contains "$out" 'evoclaw_budget_remaining_usd'
	expect_contains "$out" 'evoclaw_http_requests_total{route="/api/agents/{id}",method="GET",status="404"} 1'
	expect_contains "$out" 'evoclaw_http_requests_total{route="/api/cloud/spawn",method="POST",status="201"} 1'
	serve_done
}

t_serve_cli_against_the_server() {
	serve_with '{"cloud":{"maxAgents":3}}'
	export EVOCLAW_URL="$URL" EVOCLAW_DATA_DIR="$DATA"
	cfg=$(dirname "$DATA")/agent.toml
	cat >"$cfg" <<'TOML'
[agent]
id = "toml-1"
type = "monitor"
template = "minimal"
provider = "local"
task = "watch the price"
command = ["/bin/sh", "-c", "echo watching $EVOCLAW_TASK; echo genome=$EVOCLAW_GENOME; echo mqtt=$MQTT_BROKER:$MQTT_PORT"]

[mqtt]
broker = "broker.local"
port = 1884

[genome]
strategy = "momentum"
lookback_periods = 20

[env]
LEVEL = 3
TOML
	out=$(ev cloud spawn --config "$cfg" --timeout 60)
	expect_contains "$out" "toml-1"
	wait_status toml-1 completed
	logs=$(ev agents logs toml-1)
	expect_contains "$logs" "watching watch the price"
	expect_contains "$logs" 'genome={"lookback_periods":20,"strategy":"momentum"}'
	expect_contains "$logs" "mqtt=broker.local:1884"
	expect_contains "$(ev agents get toml-1)" "LEVEL"
	expect_eq local "$(jget "$(body "$(api GET /api/agents/toml-1)")" 'd["provider"]')"
	# Flags win over the file.
	id=$(ev cloud spawn -q --config "$cfg" --id toml-2 --type sensor --template minimal)
	expect_eq toml-2 "$id"
	expect_eq sensor "$(jget "$(body "$(api GET /api/agents/toml-2)")" 'd["agent_type"]')"
	# Human tables, --json for scripts.
	wait_status toml-2 completed
	id=$(ev agents deploy -q --name cli-idle --template minimal --provider local --timeout 60)
	wait_status "$id" running
	expect_eq local "$(jget "$(body "$(api GET "/api/agents/$id")")" 'd["provider"]')"
	# Where each runs: a PROVIDER column in every table of agents.
	list=$(ev cloud list)
	expect_contains "$list" "cli-idle"
	expect_contains "$(printf '%s\n' "$list" | head -1)" "PROVIDER"
	expect_contains "$(printf '%s\n' "$list" | grep cli-idle)" " local "
	expect_eq 1 "$(jget "$(ev cloud list --json)" 'd["count"]')"
	costs=$(ev cloud costs)
	expect_contains "$costs" "remaining"
	expect_contains "$costs" "PROVIDER"
	expect_contains "$costs" "rate:       0.0001 USD/s on local"
	expect_contains "$(printf '%s\n' "$costs" | grep toml-1)" " local "
	expect_eq local "$(jget "$(ev cloud costs --json)" '[a["provider"] for a in d["agents"] if a["id"] == "toml-1"][0]')"
	expect_eq 3 "$(jget "$(ev agents list --json)" 'd["total"]')"
	expect_contains "$(ev agents list --status completed)" "toml-1"
	expect_contains "$(ev agents list | head -1)" "PROVIDER"
	expect_contains "$(ev agents list | grep toml-2)" " local "
	# Follow streams until the agent ends.
	ev agents terminate "$id" >/dev/null
	expect_eq terminated "$(jget "$(body "$(api GET "/api/agents/$id")")" 'd["stop_reason"]')"
	ev agents destroy "$id" >/dev/null
	expect_eq 404 "$(status "$(api GET "/api/agents/$id")")"
	# Errors: the server's message, a non-zero exit.
	expect_failure 1 "no agent nobody" ev cloud kill nobody
	expect_failure 1 "is not an agent type" ev cloud spawn --type wizard
	# A provider this server does not have: its message names the field
	# and says what e2b needs; one that does not exist at all, likewise.
	expect_failure 1 'provider: "e2b" is not available on this server' ev cloud spawn --provider e2b --template minimal
	expect_contains "$err" "E2B_API_KEY"
	expect_failure 1 'provider: "bogus" is not a provider' ev cloud spawn --provider bogus
	expect_failure 1 'provider: "e2b"' ev agents deploy --name x --provider e2b
	set +e
	err=$(EVOCLAW_API_KEY=evo_admin_wrong ev cloud list 2>&1); rc=$?
	set -e
	expect_eq 1 "$rc"
	expect_contains "$err" "invalid API key"
	echo '[agent]
tymeout = 3' >"$cfg"
	expect_failure 2 "tymeout" ev cloud spawn --config "$cfg"
	set +e
	err=$(EVOCLAW_URL=http://127.0.0.1:1 ev cloud list 2>&1); rc=$?
	set -e
	expect_eq 1 "$rc"
	expect_contains "$err" "cannot reach"
	unset EVOCLAW_URL EVOCLAW_DATA_DIR
	serve_done
}

t_serve_spend_reaching_the_budget_stops_agents() {
	# An operator lowers the budget below what running agents have
	# already spent: they stop, with stop_reason budget.
	serve_with '{"cloud":{"creditBudgetUsd":1},"pricing":{"sandboxUsdPerSec":0.01}}'
	api POST /api/cloud/spawn '{"agent_id":"spender","template_id":"minimal","timeout_sec":60}' >/dev/null
	wait_status spender running
	kill "$SERVER_PID"; wait "$SERVER_PID" || true
	printf '%s\n' '{"cloud":{"creditBudgetUsd":0.005},"pricing":{"sandboxUsdPerSec":0.01}}' \
		>"$(dirname "$DATA")/evoclaw.json"
	start_server "$DATA" "$(dirname "$DATA")/evoclaw.json"
	wait_status spender failed
	b=$(body "$(api GET /api/agents/spender)")
	expect_eq budget "$(jget "$b" 'd["stop_reason"]')"
	expect_contains "$(jget "$b" 'd["error_message"]')" "creditBudgetUsd"
	# And nothing new starts.
	expect_eq 402 "$(status "$(api POST /api/cloud/spawn '{"template_id":"minimal","timeout_sec":1}')")"
	serve_done
}

t_serve_logs_are_bounded_and_rotate() {
	serve_with '{}'
	# 3 MB of output: the log keeps 1-2 MiB (it rotates once per MiB).
	api POST /api/cloud/spawn '{"agent_id":"chatty","template_id":"minimal","command":["/bin/sh","-c",
		"i=0; while [ $i -lt 60000 ]; do echo \"line $i ........................................\"; i=$((i+1)); done"]}' >/dev/null
	wait_status chatty completed
	size=$(cat "$DATA/logs/chatty.log" "$DATA/logs/chatty.log.1" | wc -c)
	[ "$size" -le 2097152 ] && [ "$size" -ge 1048576 ] || fail "kept $size bytes of log"
	out=$(api GET '/api/agents/chatty/logs?tail=2')
	expect_eq '["line 59998 ........................................", "line 59999 ........................................"]' \
		"$(jget "$(body "$out")" 'd["lines"]')"
	# Follow reads both halves, in order, whole lines, to the end.
	curl -s -N -H "X-API-Key: $KEY" "$URL/api/agents/chatty/logs?follow=1" >"$DATA.follow"
	expect_eq "$size" "$(wc -c <"$DATA.follow")"
	last=$(tail -1 "$DATA.follow")
	expect_eq "line 59999 ........................................" "$last"
	awk '{ n = $2 + 0; if (NR > 1 && n != prev + 1) { print "gap after " prev; exit 1 } prev = n }' "$DATA.follow"
	serve_done
}

t_serve_saas_tenants_and_keys() {
	serve_with '{"cloud":{"maxAgents":20}}'
	out=$(api POST /api/saas/register '{"email":"ops@acme.test","max_agents":3,"credit_limit_usd":2.5}')
	expect_eq 201 "$(status "$out")"
	tenant=$(jget "$(body "$out")" 'd["tenant_id"]')
	tkey=$(jget "$(body "$out")" 'd["api_key"]')
	first=$(jget "$(body "$out")" 'd["key_id"]')
	case $tkey in evo_????????????????????????????????????????????????????????????????) ;;
	*) fail "not a tenant key: $tkey" ;; esac
	# Bad registrations name the field; an e-mail registers once.
	out=$(api POST /api/saas/register '{"email":"nope","max_agents":3,"credit_limit_usd":1}')
	expect_eq 400 "$(status "$out")"; expect_contains "$(body "$out")" 'email: not an e-mail'
	out=$(api POST /api/saas/register '{"email":"b@acme.test","max_agents":99,"credit_limit_usd":1}')
	expect_eq 400 "$(status "$out")"; expect_contains "$(body "$out")" 'max_agents'
	out=$(api POST /api/saas/register '{"email":"b@acme.test","max_agents":1}')
	expect_eq 400 "$(status "$out")"; expect_contains "$(body "$out")" 'credit_limit_usd'
	out=$(api POST /api/saas/register '{"email":"ops@acme.test","max_agents":1,"credit_limit_usd":1}')
	expect_eq 409 "$(status "$out")"
	# Only the admin registers.
	out=$(api_as "$tkey" POST /api/saas/register '{"email":"c@acme.test","max_agents":1,"credit_limit_usd":1}')
	expect_eq 403 "$(status "$out")"

	# The tenant sees its usage and its keys (prefixes only).
	out=$(api_as "$tkey" GET /api/saas/usage)
	expect_eq 200 "$(status "$out")"
	expect_eq "$tenant" "$(jget "$(body "$out")" 'd["tenant_id"]')"
	expect_eq 3 "$(jget "$(body "$out")" 'd["max_agents"]')"
	expect_eq 2.5 "$(jget "$(body "$out")" 'd["remaining_usd"]')"
	out=$(api_as "$tkey" GET /api/saas/keys)
	expect_eq 200 "$(status "$out")"
	expect_eq 1 "$(jget "$(body "$out")" 'len(d["keys"])')"
	expect_eq True "$(jget "$(body "$out")" 'str(d["keys"][0]["current"])')"
	case $(body "$out") in *"$tkey"*) fail "a key listing shows the key" ;; esac
	# The admin names the tenant.
	expect_eq 400 "$(status "$(api GET /api/saas/usage)")"
	expect_eq 200 "$(status "$(api GET "/api/saas/usage?tenant=$tenant")")"
	expect_eq 404 "$(status "$(api GET '/api/saas/usage?tenant=ten_nobody')")"

	# Rotation: a new key works, the old one stops at once.
	out=$(api_as "$tkey" POST /api/saas/keys "{\"replaces\":\"$first\"}")
	expect_eq 201 "$(status "$out")"
	new=$(jget "$(body "$out")" 'd["api_key"]')
	newid=$(jget "$(body "$out")" 'd["key_id"]')
	out=$(api_as "$tkey" GET /api/saas/usage)
	expect_eq 401 "$(status "$out")"; expect_contains "$(body "$out")" 'revoked'
	expect_eq 200 "$(status "$(api_as "$new" GET /api/saas/usage)")"
	# A second key, then revoking the first of them: the other stays.
	out=$(api_as "$new" POST /api/saas/keys)
	expect_eq 201 "$(status "$out")"
	other=$(jget "$(body "$out")" 'd["api_key"]')
	expect_eq 204 "$(status "$(api_as "$other" DELETE "/api/saas/keys/$newid")")"
	expect_eq 401 "$(status "$(api_as "$new" GET /api/saas/usage)")"
	expect_eq 200 "$(status "$(api_as "$other" GET /api/saas/usage)")"
	expect_eq 404 "$(status "$(api_as "$other" DELETE "/api/saas/keys/$newid")")"
	# Bad and missing keys.
	expect_eq 401 "$(status "$(api_as "evo_$(printf '%064d' 0)" GET /api/saas/usage)")"
	expect_eq 401 "$(status "$(api_as "nonsense" GET /api/saas/usage)")"
	expect_eq 401 "$(status "$(curl -s -w '\n%{http_code}' "$URL/api/saas/usage")")"
	# Keys are never written down: not in the database, not in the log.
	for k in "$tkey" "$new" "$other"; do
		grep -rqF "$k" "$DATA" "$DATA.log" && fail "a key was stored or logged"
	done
	serve_done
}

t_serve_saas_tenant_isolation_and_limits() {
	serve_with '{"cloud":{"maxAgents":20,"defaultTemplate":"minimal"}}'
	register() {
		out=$(api POST /api/saas/register "{\"email\":\"$1\",\"max_agents\":$2,\"credit_limit_usd\":$3}")
		expect_eq 201 "$(status "$out")"
		jget "$(body "$out")" 'd["api_key"]'
	}
	a=$(register a@t.test 3 100)
	b=$(register b@t.test 3 100)
	# A's agents: through /api/saas/agents and the other surfaces.
	out=$(api_as "$a" POST /api/saas/agents '{"count":2,"agent_type":"monitor"}')
	expect_eq 201 "$(status "$out")"
	expect_eq 2 "$(jget "$(body "$out")" 'd["count"]')"
	a1=$(jget "$(body "$out")" 'd["agents"][0]["id"]')
	# Burst mode is a tournament (test_serve_tournament.sh); checked first.
	out=$(api_as "$a" POST /api/saas/agents '{"mode":"burst","count":1}')
	expect_eq 400 "$(status "$out")"; expect_contains "$(body "$out")" 'count: must be a whole number from 2'
	out=$(api_as "$a" POST /api/saas/agents '{"mode":"sometimes"}')
	expect_eq 400 "$(status "$out")"; expect_contains "$(body "$out")" 'mode:'
	out=$(api_as "$a" POST /api/cloud/spawn '{}')
	expect_eq 201 "$(status "$out")"
	# The tenant's third agent was its last: a fourth is refused, by its limit.
	out=$(api_as "$a" POST /api/agents/deploy '{"agent_name":"x","agent_type":"coder"}')
	expect_eq 429 "$(status "$out")"; expect_contains "$(body "$out")" "tenant's max_agents"
	# An E2B sandbox of B's, made with B's key.
	out=$(curl -s -w '\n%{http_code}' -X POST -H "X-API-Key: $b" -H 'Content-Type: application/json' \
		-d '{"templateID":"minimal"}' "$URL/v2/sandboxes")
	expect_eq 201 "$(status "$out")"
	sbx=$(jget "$(body "$out")" 'd["sandboxID"]')

	# Each sees its own, never the other's: lists, gets, logs, kills.
	expect_eq 3 "$(jget "$(body "$(api_as "$a" GET /api/agents)")" 'd["total"]')"
	expect_eq 1 "$(jget "$(body "$(api_as "$b" GET /api/agents)")" 'd["total"]')"
	expect_eq 3 "$(jget "$(body "$(api_as "$a" GET /api/cloud)")" 'd["count"]')"
	expect_eq 0 "$(jget "$(body "$(api_as "$a" GET /v2/sandboxes)")" 'len(d)')"
	expect_eq 1 "$(jget "$(body "$(api_as "$b" GET /v2/sandboxes)")" 'len(d)')"
	for route in "GET /api/agents/$a1" "GET /api/agents/$a1/logs" "DELETE /api/agents/$a1" \
		"DELETE /api/cloud/$a1"; do
		out=$(api_as "$b" $route)
		expect_eq 404 "$(status "$out")" "B: $route"
		expect_contains "$(body "$out")" "no agent $a1"
	done
	for route in "GET /sandboxes/$sbx" "DELETE /sandboxes/$sbx" "POST /sandboxes/$sbx/pause"; do
		expect_eq 404 "$(status "$(api_as "$a" $route)")" "A: $route"
	done
	expect_eq 404 "$(status "$(curl -s -w '\n%{http_code}' -X POST -H "X-API-Key: $a" \
		-H 'Content-Type: application/json' -d '{}' "$URL/v2/sandboxes/$sbx/connect")")"
	expect_eq 200 "$(status "$(api_as "$a" GET "/api/agents/$a1")")"
	# Costs are the tenant's own: its limit, its agents.
	out=$(api_as "$a" GET /api/cloud/costs)
	expect_eq 100.0 "$(jget "$(body "$out")" 'd["budget_usd"]')"
	expect_eq 3 "$(jget "$(body "$out")" 'len(d["agents"])')"
	expect_eq 3 "$(jget "$(body "$(api_as "$a" GET /api/saas/usage)")" 'd["running_agents"]')"
	# The admin sees everyone's, with the tenant.
	out=$(api GET /api/agents)
	expect_eq 4 "$(jget "$(body "$out")" 'd["total"]')"
	expect_eq 2 "$(jget "$(body "$out")" 'len({a["tenant"] for a in d["agents"]})')"
	# A tenant's agent ends like any: A kills one and may spawn again.
	expect_eq 200 "$(status "$(api_as "$a" DELETE "/api/cloud/$a1")")"
	expect_eq 201 "$(status "$(api_as "$a" POST /api/cloud/spawn '{}')")"
	expect_eq 204 "$(status "$(api_as "$b" DELETE "/sandboxes/$sbx")")"
	serve_done
}

t_serve_saas_tenant_limit_exact_under_concurrent_spawns() {
	serve_with '{"cloud":{"maxAgents":20,"defaultTemplate":"minimal"}}'
	out=$(api POST /api/saas/register '{"email":"race@t.test","max_agents":3,"credit_limit_usd":100}')
	k=$(jget "$(body "$out")" 'd["api_key"]')
	pids=""
	for i in $(seq 1 20); do
		curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "X-API-Key: $k" \
			-H 'Content-Type: application/json' -d '{}' "$URL/api/cloud/spawn" >>"$DATA.codes" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086 # a list of pids
	wait $pids
	expect_eq 3 "$(grep -c '^201$' "$DATA.codes")"
	expect_eq 17 "$(grep -c '^429$' "$DATA.codes")"
	expect_eq 3 "$(jget "$(body "$(curl -s -w '\n%{http_code}' -H "X-API-Key: $k" "$URL/api/agents")")" 'd["total"]')"
	serve_done
}

t_serve_saas_cli() {
	serve_with '{"cloud":{"maxAgents":5}}'
	export EVOCLAW_URL="$URL" EVOCLAW_DATA_DIR="$DATA"
	out=$(ev saas register --email cli@t.test --max-agents 2 --credit-limit 1.5 2>/dev/null)
	tenant=$(printf '%s\n' "$out" | sed -n 's/^tenant: *//p')
	key=$(printf '%s\n' "$out" | sed -n 's/^api key: *//p')
	first=$(printf '%s\n' "$out" | sed -n 's/^key id: *//p')
	case $key in evo_*) ;; *) fail "no key in: $out" ;; esac
	# The admin needs --tenant; the tenant's key speaks for itself.
	set +e
	err=$(ev saas usage 2>&1); rc=$?
	set -e
	expect_eq 1 "$rc"; expect_contains "$err" "tenant: required"
	expect_contains "$(ev saas usage --tenant "$tenant")" "running:    0 of 2 agents"
	export EVOCLAW_API_KEY="$key"
	expect_contains "$(ev saas usage)" "spent:      \$0.0000 of \$1.5000"
	out=$(ev saas keys new --replaces "$first" 2>/dev/null)
	new=$(printf '%s\n' "$out" | sed -n 's/^api key: *//p')
	set +e
	err=$(ev saas usage 2>&1); rc=$?
	set -e
	expect_eq 1 "$rc"; expect_contains "$err" "revoked"
	export EVOCLAW_API_KEY="$new"
	listing=$(ev saas keys)
	expect_contains "$listing" "revoked"
	expect_contains "$listing" "in use (this one)"
	case $listing in *"$new"*) fail "the listing shows a key" ;; esac
	set +e
	err=$(ev saas keys revoke "$first" 2>&1); rc=$?
	set -e
	expect_eq 1 "$rc"; expect_contains "$err" "no key $first in use"
	out=$(ev saas keys new 2>/dev/null)
	third=$(printf '%s\n' "$out" | sed -n 's/^key id: *//p')
	expect_eq "$third revoked" "$(ev saas keys revoke "$third")"
	# The tenant's agent shows, with its tenant, in the admin's listing.
	ev cloud spawn --template minimal -q -- /bin/true >/dev/null
	unset EVOCLAW_API_KEY
	listing=$(ev agents list)
	expect_contains "$listing" "TENANT"
	expect_contains "$listing" "$tenant"
	set +e
	ev saas register --email x >/dev/null 2>&1; rc=$?
	set -e
	expect_eq 2 "$rc"
	unset EVOCLAW_API_KEY
	serve_done
}

t_serve_rate_limits_per_key_and_address() {
	serve_with '{"limits":{"keyRequestsPerSec":1,"keyBurst":3,"ipRequestsPerSec":1000,"ipBurst":1000},"saas":{"openRegistration":true}}'
	# Registration is open: no key needed.
	out=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
		-d '{"email":"open@t.test","max_agents":1,"credit_limit_usd":1}' "$URL/api/saas/register")
	expect_eq 201 "$(status "$out")"
	tkey=$(jget "$(body "$out")" 'd["api_key"]')
	# Three in a burst, then 429 with when to retry; per key.
	for i in 1 2 3; do expect_eq 200 "$(status "$(api GET /api/agents)")" "request $i"; done
	out=$(curl -s -D - -o /dev/null -H "X-API-Key: $KEY" "$URL/api/agents")
	expect_contains "$out" " 429"
	expect_contains "$out" "Retry-After: 1"
	out=$(api GET /v2/sandboxes)
	expect_eq 429 "$(status "$out")"
	expect_eq 429 "$(jget "$(body "$out")" 'd["code"]')" "E2B's shape"
	expect_eq 200 "$(status "$(api_as "$tkey" GET /api/saas/usage)")" "another key is not limited"
	serve_done

	serve_with '{"limits":{"ipRequestsPerSec":1,"ipBurst":2}}'
	# Without openRegistration, registering needs the admin key.
	out=$(curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
		-d '{"email":"x@t.test","max_agents":1,"credit_limit_usd":1}' "$URL/api/saas/register")
	expect_eq 401 "$(status "$out")"
	expect_eq 401 "$(status "$(api_as nonsense GET /api/agents)")"
	out=$(api_as nonsense GET /api/agents)
	expect_eq 429 "$(status "$out")" "guessing keys is limited by address"
	expect_contains "$(body "$out")" "rate_limited"
	serve_done
}

t_serve_audit_log_of_mutating_calls() {
	serve_with '{"cloud":{"defaultTemplate":"minimal"}}'
	out=$(api POST /api/saas/register '{"email":"aud@t.test","max_agents":2,"credit_limit_usd":5}')
	tkey=$(jget "$(body "$out")" 'd["api_key"]')
	tenant=$(jget "$(body "$out")" 'd["tenant_id"]')
	id=$(jget "$(body "$(api POST /api/cloud/spawn '{"env":{"SECRET_TOKEN":"hunter2"}}')")" 'd["id"]')
	expect_eq 200 "$(status "$(api DELETE "/api/cloud/$id")")"
	expect_eq 401 "$(status "$(api_as evo_nope DELETE "/api/cloud/$id")")"
	expect_eq 404 "$(status "$(api_as "$tkey" DELETE "/api/cloud/$id")")"
	api GET /api/agents >/dev/null # reads are not logged
	out=$(api GET /api/audit)
	expect_eq 200 "$(status "$out")"
	log=$(body "$out")
	expect_eq 5 "$(jget "$log" 'len(d["entries"])')"
	expect_eq "DELETE /api/cloud/{id} $id 404 $tenant" \
		"$(jget "$log" '" ".join(str(x) for x in (d["entries"][0]["method"], d["entries"][0]["route"], d["entries"][0]["target"], d["entries"][0]["status"], d["entries"][0]["actor"]))')"
	expect_eq "anonymous 401" "$(jget "$log" 'd["entries"][1]["actor"] + " " + str(d["entries"][1]["status"])')"
	expect_eq "admin /api/cloud/spawn 201" "$(jget "$log" '" ".join(str(x) for x in (d["entries"][3]["actor"], d["entries"][3]["route"], d["entries"][3]["status"]))')"
	expect_eq 127.0.0.1 "$(jget "$log" 'd["entries"][0]["address"]')"
	# Filters and paging.
	expect_eq 1 "$(jget "$(body "$(api GET "/api/audit?actor=$tenant")")" 'len(d["entries"])')"
	expect_eq 2 "$(jget "$(body "$(api GET '/api/audit?method=DELETE&status=404')")" 'len(d["entries"]) + 1')"
	page=$(body "$(api GET '/api/audit?limit=2')")
	before=$(jget "$page" 'd["next_before"]')
	expect_eq 2 "$(jget "$(body "$(api GET "/api/audit?limit=2&before=$before")")" 'len(d["entries"])')"
	# The operator's only; and no secret in it.
	expect_eq 403 "$(status "$(api_as "$tkey" GET /api/audit)")"
	case $log in *hunter2*|*"$tkey"*) fail "a secret reached the audit log" ;; esac
	serve_done
}

t_serve_cross_origin_requests_cannot_mutate() {
	# Even with auth off, a page on another origin can change nothing:
	# preflights are never granted, and what a browser sends without one
	# (form and text bodies) is refused before anything runs.
	serve_with '{"auth":{"mode":"none"},"cloud":{"defaultTemplate":"minimal"}}'
	out=$(curl -s -D - -o /dev/null -X OPTIONS -H 'Origin: https://evil.test' \
		-H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type' \
		"$URL/api/cloud/spawn")
	case $out in *[Aa]ccess-[Cc]ontrol-[Aa]llow-*) fail "a preflight was granted: $out" ;; esac
	for type in text/plain application/x-www-form-urlencoded multipart/form-data; do
		out=$(curl -s -w '\n%{http_code}' -X POST -H 'Origin: https://evil.test' \
			-H "Content-Type: $type" --data-binary '{}' "$URL/api/cloud/spawn")
		expect_eq 415 "$(status "$out")" "$type"
		case $out in *[Aa]ccess-[Cc]ontrol-*) fail "CORS headers on $type" ;; esac
	done
	expect_eq 0 "$(jget "$(body "$(curl -s -w '\n%{http_code}' "$URL/api/agents")")" 'd["total"]')"
	serve_done
}

t_serve_connection_and_header_limits() {
	serve_with '{"limits":{"connectionsPerIp":5}}'
	python3 - "$URL" <<'PY'
import http.client, socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
# Five keep-alive connections from one address are served; a sixth is not.
held = []
for i in range(5):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    c.request("GET", "/healthz")
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
    held.append(c)
extra = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
try:
    extra.request("GET", "/healthz")
    r = extra.getresponse()
    sys.exit("a sixth connection was served: %d" % r.status)
except (ConnectionError, http.client.RemoteDisconnected, socket.timeout, OSError):
    pass
for c in held:
    c.close()
# Headers past 32 KiB are refused, not buffered.
c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
c.request("GET", "/healthz", headers={"X-Big": "a" * 65536})
r = c.getresponse()
assert r.status == 431, r.status
print("connection and header limits hold")
PY
	# Still serving.
	expect_eq '{"status":"ok"}' "$(curl -s "$URL/healthz")"
	serve_done
}

t_serve_slow_clients_are_cut_off() {
	serve_with '{"limits":{"idleTimeoutSec":1}}'
	python3 - "$URL" <<'PY'
import socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
# Half a request line, then nothing: the server hangs up, it does not wait.
s = socket.create_connection((u.hostname, u.port), timeout=10)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
start = time.monotonic()
data = s.recv(4096)
waited = time.monotonic() - start
assert data == b"", data[:80]
assert waited < 5, "held for %.1f s" % waited
# A body that trickles in stops the same way.
s = socket.create_connection((u.hostname, u.port), timeout=10)
s.sendall(b"POST /api/agents/deploy HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
start = time.monotonic()
data = s.recv(4096)
assert data == b"" or b" 408 " in data[:20] or b" 401 " in data[:20], data[:80]
assert time.monotonic() - start < 5
print("slow clients cut off after about %.1f s" % waited)
PY
	expect_eq '{"status":"ok"}' "$(curl -s "$URL/healthz")"
	serve_done
}
