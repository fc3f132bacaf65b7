# The e2b provider (issue 8): one `evoclaw serve` runs its agents on a
# second one through E2B's API (the second speaks it as E2B's cloud does),
# with libcurl, envd's Connect streams, keep-alive, reconciliation and the
# failure cases. Uses test_serve.sh's and test_serve_agent.sh's helpers.

# remote_start [CONFIG_JSON]: the second server ("E2B"), with its own data
# dir and port; sets REMOTE_URL, REMOTE_KEY, REMOTE_PID, REMOTE_DATA. Again
# with the same REMOTE_PORT and data after remote_kill: a restart.
remote_start() {
	if [ -z "${REMOTE_DATA:-}" ]; then
		REMOTE_DIR=$(mktemp -d /tmp/evoclaw-remote.XXXXXX)
		REMOTE_DATA=$REMOTE_DIR/data
		REMOTE_PORT=$(free_port)
		printf '%s\n' "${1:-{\}}" >"$REMOTE_DIR/evoclaw.json"
	fi
	REMOTE_URL="http://127.0.0.1:$REMOTE_PORT"
	"$EVOCLAW" serve --listen "127.0.0.1:$REMOTE_PORT" --data "$REMOTE_DATA" \
		--config "$REMOTE_DIR/evoclaw.json" >>"$REMOTE_DATA.log" 2>&1 &
	REMOTE_PID=$!
	trap stop_test_processes EXIT
	wait_for_server "$REMOTE_PID" "$REMOTE_URL" "$REMOTE_DATA.log"
	REMOTE_KEY=$(cat "$REMOTE_DATA/admin.key")
}
remote_kill() { kill -9 "$REMOTE_PID"; wait "$REMOTE_PID" 2>/dev/null || true; }
# remote METHOD PATH [JSON]: E2B's API of the second server, with its key.
remote() {
	if [ $# -ge 3 ]; then
		curl -s -w '\n%{http_code}' -X "$1" -H "X-API-Key: $REMOTE_KEY" \
			-H 'Content-Type: application/json' --data-binary "$3" "$REMOTE_URL$2"
	else
		curl -s -w '\n%{http_code}' -X "$1" -H "X-API-Key: $REMOTE_KEY" "$REMOTE_URL$2"
	fi
}
# The remote sandboxes of agent $1 (their ids, space-separated); asked
# again while the remote says 429.
remote_sandboxes_of() {
	for i in $(seq 1 200); do
		out=$(remote GET /v2/sandboxes)
		[ "$(status "$out")" = 429 ] || break
		sleep 0.05
	done
	expect_eq 200 "$(status "$out")" "GET /v2/sandboxes"
	jget "$(body "$out")" "' '.join(s['sandboxID'] for s in d if s['metadata'].get('evoclawAgent') == '$1')"
}
remote_done() {
	kill "$REMOTE_PID"
	rc=0
	wait "$REMOTE_PID" || rc=$?
	[ "$rc" -eq 0 ] || { tail -40 "$REMOTE_DATA.log"; fail "the remote server exited with $rc"; }
	rm -rf "$REMOTE_DIR"
	REMOTE_DATA=
}

# The orchestrator's config for the e2b provider against the remote, with
# more cloud settings ($1, JSON members) and more top-level ones ($2).
e2b_config() {
	printf '{"cloud":{"provider":"e2b","e2bApiUrl":"%s","e2bSandboxUrl":"%s","e2bApiKey":"%s"%s}%s}' \
		"${API_URL:-$REMOTE_URL}" "$REMOTE_URL" "$REMOTE_KEY" "${1:+,$1}" "${2:+,$2}"
}

# wait_until SECONDS SHELL_CONDITION
e2b_wait_until() {
	limit=$(( $(date +%s) + $1 ))
	while ! eval "$2"; do
		[ "$(date +%s)" -lt "$limit" ] || fail "not within $1 s: $2"
		sleep 0.02
	done
}
agent_field() { jget "$(body "$(api GET "/api/agents/$1")")" "d[\"$2\"]"; }

t_e2b_provider_runs_agents_on_another_server() {
	remote_start '{"cloud":{"maxAgents":20}}'
	serve_with "$(e2b_config '"maxAgents":10,"creditBudgetUsd":10,"defaultTimeoutSec":60,"e2bReconcileSec":1,"defaultTemplate":"base"' '"pricing":{"e2bUsdPerSec":0.01,"sandboxUsdPerSec":0.0001},"agents":{"hyperliquidApiKey":"hlk-c0nf1g","hyperliquidApiSecret":"hls-c0nf1g"}')"
	# Its command runs there; output, exit code and the provider come back.
	# It gets every variable of DESIGN §10's table (the credentials checked
	# there, never printed).
	vars="EVOCLAW_AGENT_ID EVOCLAW_AGENT_TYPE MQTT_BROKER MQTT_PORT MQTT_USERNAME MQTT_PASSWORD ORCHESTRATOR_URL HYPERLIQUID_API_KEY HYPERLIQUID_API_SECRET EVOCLAW_PAPER_MODE EVOCLAW_LOG_LEVEL EVOCLAW_GENOME EVOCLAW_AGENT_TOKEN"
	out=$(api POST /api/cloud/spawn '{"agent_id":"r1","task":"count","env":{"SECRET":"s3"},"command":["bash","-c","echo hi; cat /home/user/task.txt; echo; echo id=$EVOCLAW_AGENT_ID secret=$SECRET; n=0; for v in '"$vars"'; do [ -n \"${!v+set}\" ] && n=$((n+1)); done; echo vars=$n; [ \"$HYPERLIQUID_API_KEY:$HYPERLIQUID_API_SECRET\" = hlk-c0n\"\"f1g:hls-c0n\"\"f1g ] && echo hl=given; sleep 1; echo bye >&2; exit 3"]}')
	expect_eq 201 "$(status "$out")"
	expect_eq e2b "$(jget "$(body "$out")" 'd["provider"]')"
	wait_status r1 failed
	b=$(body "$(api GET /api/agents/r1)")
	expect_eq exited "$(jget "$b" 'd["stop_reason"]')"
	expect_eq 3 "$(jget "$b" 'd["exit_code"]')"
	expect_eq "exit code 3: bye" "$(jget "$b" 'd["error_message"]')"
	expect_eq '["hi", "count", "id=r1 secret=s3", "vars=13", "hl=given", "bye"]' "$(jget "$b" 'd["log_tail"]')"
	case $b$(cat "$DATA.log" "$REMOTE_DATA.log") in *-c0nf1g*) fail "an exchange credential was shown or logged" ;; esac
	# Billed at the e2b rate (0.01 USD a second, at least 2 seconds).
	python3 -c "import sys; c=float(sys.argv[1]); assert 0.02 <= c <= 0.05, c" "$(jget "$b" 'd["cost_usd"]')"
	sb=$(jget "$b" 'd["sandbox_id"]')
	# Its command ended, so its sandbox there did too.
	expect_eq 404 "$(status "$(remote GET "/sandboxes/$sb")")"

	# What the remote says when it cannot make the sandbox reaches the agent.
	api POST /api/cloud/spawn '{"agent_id":"nt","template_id":"no-such-template","command":["true"]}' >/dev/null
	wait_status nt failed
	expect_contains "$(agent_field nt error_message)" 'its sandbox did not start: E2B API POST /v2/sandboxes: 404: template "no-such-template" not found'

	# list, costs and kill; the sandbox there is tagged as ours.
	api POST /api/cloud/spawn '{"agent_id":"r2","command":["sleep","300"],"timeout_sec":120}' >/dev/null
	wait_status r2 running
	sb=$(agent_field r2 sandbox_id)
	info=$(body "$(remote GET "/sandboxes/$sb")")
	expect_eq r2 "$(jget "$info" 'd["metadata"]["evoclawAgent"]')"
	case $(jget "$info" 'd["metadata"]["evoclawOwner"]') in evoclaw-serve-*) ;; *) fail "untagged: $info" ;; esac
	OWNER=$(jget "$info" 'd["metadata"]["evoclawOwner"]')
	expect_eq '["r2"]' "$(jget "$(body "$(api GET /api/cloud)")" '[a["id"] for a in d["agents"] if a["provider"] == "e2b"]')"
	costs=$(body "$(api GET /api/cloud/costs)")
	expect_eq "[('e2b', 0.01), ('local', 0.0001)]" "$(jget "$costs" 'str(sorted(d["provider_usd_per_sec"].items()))')"
	python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert d['total_spent_usd'] >= 0.02, d" "$costs"
	expect_eq 200 "$(status "$(api DELETE /api/cloud/r2)")"
	expect_eq terminated "$(agent_field r2 stop_reason)"
	expect_eq 404 "$(status "$(remote GET "/sandboxes/$sb")")"

	# A timeout there ends it as a timeout; keep-alive extends one there.
	api POST /api/cloud/spawn '{"agent_id":"t1","command":["sleep","300"],"timeout_sec":2}' >/dev/null
	api POST /api/cloud/spawn '{"agent_id":"k1","command":["sleep","300"],"timeout_sec":4,"keep_alive":true}' >/dev/null
	wait_status k1 running
	ksb=$(agent_field k1 sandbox_id)
	started=$(python3 -c 'import time; print(int(time.time()))')
	wait_status t1 failed
	expect_eq timeout "$(agent_field t1 stop_reason)"
	# Past its first deadline, the sandbox there lives on with a later one.
	e2b_wait_until 15 '[ "$(python3 -c "import time; print(int(time.time()))")" -ge $((started + 6)) ]'
	expect_eq running "$(agent_field k1 status)"
	end=$(jget "$(body "$(remote GET "/sandboxes/$ksb")")" 'd["endAt"]')
	python3 -c "import sys,datetime; e=datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')).timestamp(); assert e > $started + 6, (e, $started)" "$end"

	# Killed behind our back: the agent is lost, not timed out.
	expect_eq 204 "$(status "$(remote DELETE "/sandboxes/$ksb")")"
	wait_status k1 failed
	expect_eq orchestrator_lost "$(agent_field k1 stop_reason)"
	expect_contains "$(agent_field k1 error_message)" "vanished before its timeout"

	# The budget counts remote seconds at their rate: 0.01 x 1200 s > 10 USD.
	out=$(api POST /api/cloud/spawn '{"command":["true"],"timeout_sec":1200}')
	expect_eq 402 "$(status "$out")"
	expect_contains "$(body "$out")" creditBudgetUsd

	# A sandbox tagged ours that no agent has: reported, never killed.
	out=$(remote POST /v2/sandboxes "{\"templateID\":\"base\",\"timeout\":120,\"metadata\":{\"evoclawOwner\":\"$OWNER\",\"evoclawAgent\":\"ghost\"}}")
	expect_eq 201 "$(status "$out")"
	ghost=$(jget "$(body "$out")" 'd["sandboxID"]')
	e2b_wait_until 10 '[ "$(metric_sum evoclaw_e2b_unknown_sandboxes)" = 1 ]'
	expect_contains "$(cat "$DATA.log")" "sandbox $ghost is tagged as this orchestrator's (agent ghost)"
	expect_eq 200 "$(status "$(remote GET "/sandboxes/$ghost")")"

	# A restart re-adopts a running agent (reconnecting to its command by tag).
	api POST /api/cloud/spawn '{"agent_id":"a1","command":["bash","-c","echo before; sleep 300"],"timeout_sec":120}' >/dev/null
	wait_status a1 running
	kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
	start_server "$DATA" "$(dirname "$DATA")/evoclaw.json"
	expect_contains "$(cat "$DATA.log")" "1 agents re-adopted"
	expect_eq running "$(agent_field a1 status)"
	expect_eq 200 "$(status "$(api DELETE "/api/agents/a1?terminate_only=true")")"
	expect_eq terminated "$(agent_field a1 stop_reason)"
	expect_eq 204 "$(status "$(remote DELETE "/sandboxes/$ghost")")"
	serve_done
	remote_done
}

# Against a server that says 429 with Retry-After: the orchestrator waits
# as told, and every agent still starts.
t_e2b_provider_honours_429_retry_after() {
	remote_start '{"cloud":{"maxAgents":20},"limits":{"keyRequestsPerSec":2,"keyBurst":2}}'
	serve_with "$(e2b_config '"maxAgents":10,"defaultTemplate":"base"')"
	for i in 1 2 3; do
		expect_eq 201 "$(status "$(api POST /api/cloud/spawn "{\"agent_id\":\"q$i\",\"command\":[\"sleep\",\"60\"],\"timeout_sec\":60}")")"
	done
	for i in 1 2 3; do wait_status "q$i" running; done
	# It was told to wait (the remote answered 429), and nothing failed.
	limited=$(curl -s -H "X-API-Key: $REMOTE_KEY" "$REMOTE_URL/metrics" | awk '/^evoclaw_http_requests_total/ && /status="429"/ {s += $2} END {print s + 0}')
	[ "$limited" -ge 1 ] || fail "the remote never answered 429"
	for i in 1 2 3; do expect_eq 1 "$(echo $(remote_sandboxes_of "q$i") | wc -w)"; done
	serve_done
	remote_done
}

# A wrong key stops the server at start, saying which setting to fix.
t_e2b_provider_bad_key_is_a_configuration_error() {
	remote_start '{}'
	dir=$(mktemp -d /tmp/evoclaw-serve.XXXXXX)
	REMOTE_KEY_SAVED=$REMOTE_KEY; REMOTE_KEY=not-the-key
	e2b_config >"$dir/evoclaw.json"
	REMOTE_KEY=$REMOTE_KEY_SAVED
	set +e
	out=$(timeout 30 "$EVOCLAW" serve --listen "127.0.0.1:$(free_port)" --data "$dir/data" --config "$dir/evoclaw.json" 2>&1)
	rc=$?
	set -e
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "serve with a wrong key: exit $rc: $out"
	expect_contains "$out" "E2B refused the API key (401"
	expect_contains "$out" "cloud.e2bApiKey"
	case $out in *not-the-key*) fail "the key was printed: $out" ;; esac
	# Without a key at all: said before anything is tried.
	printf '{"cloud":{"provider":"e2b"}}\n' >"$dir/evoclaw.json"
	set +e
	out=$(env -u E2B_API_KEY timeout 30 "$EVOCLAW" serve --listen "127.0.0.1:$(free_port)" --data "$dir/data" --config "$dir/evoclaw.json" 2>&1)
	rc=$?
	set -e
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "serve without a key: exit $rc: $out"
	expect_contains "$out" "cloud.e2bApiKey: the e2b provider needs an API key"
	rm -rf "$dir"
	remote_done
}

# The remote dies while a create is on its way, then comes back: the
# agent starts, on exactly one sandbox.
t_e2b_provider_survives_the_remote_dying_mid_spawn() {
	remote_start '{"cloud":{"maxAgents":20}}'
	serve_with "$(e2b_config '"maxAgents":10,"defaultTemplate":"base"')"
	kill -STOP "$REMOTE_PID"
	expect_eq 201 "$(status "$(api POST /api/cloud/spawn '{"agent_id":"m1","command":["sleep","120"],"timeout_sec":120}')")"
	# The create waits in the frozen server's accept queue.
	e2b_wait_until 10 '[ "$(ss -Hltn "sport = :$REMOTE_PORT" | awk "{print \$2}")" -ge 1 ]'
	remote_kill
	remote_start
	wait_status m1 running
	expect_eq 1 "$(echo $(remote_sandboxes_of m1) | wc -w)"
	# The orchestrator restarts while the remote is down: it keeps
	# following the agent (never takes it for lost) until the remote is back.
	remote_kill
	kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
	start_server "$DATA" "$(dirname "$DATA")/evoclaw.json"
	expect_contains "$(cat "$DATA.log")" "1 agents re-adopted"
	remote_start
	expect_eq running "$(agent_field m1 status)"
	expect_eq 200 "$(status "$(api DELETE "/api/agents/m1?terminate_only=true")")"
	expect_eq terminated "$(agent_field m1 stop_reason)"
	expect_eq "" "$(remote_sandboxes_of m1)"
	serve_done
	remote_done
}

# The remote makes the sandbox but its answer is lost on the way (a proxy
# drops it): the orchestrator finds the sandbox by its spawn key rather
# than making a second. Then the proxy answers a create 429 with an HTTP
# date in Retry-After, which is waited for.
t_e2b_provider_never_double_creates_when_an_answer_is_lost() {
	remote_start '{"cloud":{"maxAgents":20}}'
	proxy_port=$(free_port)
	python3 - "$proxy_port" "$REMOTE_PORT" >"$REMOTE_DATA.proxy" 2>&1 <<'PY' &
import email.utils, socket, sys, threading, time
listen, target = int(sys.argv[1]), int(sys.argv[2])
dropped = False
limited = False
lock = threading.Lock()
def read_message(sock, buf):
    """One HTTP message (headers and Content-Length body) from sock."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]
def serve(client):
    global dropped, limited
    upstream = socket.create_connection(("127.0.0.1", target))
    buf = b""
    while True:
        req, buf = read_message(client, buf)
        if req is None:
            break
        create = req.startswith(b"POST /v2/sandboxes ")
        with lock:
            limit = dropped and not limited and create
            limited = limited or limit
        if limit:
            body = b'{"code":429,"message":"slow down"}'
            when = email.utils.formatdate(time.time() + 2, usegmt=True).encode()
            print("429 at %.3f" % time.time(), flush=True)
            client.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: " + when +
                           b"\r\nContent-Type: application/json\r\nContent-Length: " +
                           str(len(body)).encode() + b"\r\n\r\n" + body)
            continue
        if create and limited:
            print("create at %.3f" % time.time(), flush=True)
        upstream.sendall(req)
        resp, _ = read_message(upstream, b"")
        if resp is None:
            break
        with lock:
            drop = not dropped and req.startswith(b"POST /v2/sandboxes ")
            dropped = dropped or drop
        if drop:
            print("dropped the answer to a create", flush=True)
            break
        client.sendall(resp)
    client.close()
    upstream.close()
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen))
srv.listen(64)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	PROXY_PID=$!
	e2b_wait_until 10 'grep -q ready "$REMOTE_DATA.proxy"'
	API_URL="http://127.0.0.1:$proxy_port"
	serve_with "$(e2b_config '"maxAgents":10,"defaultTemplate":"base"')"
	API_URL=
	expect_eq 201 "$(status "$(api POST /api/cloud/spawn '{"agent_id":"d1","command":["sleep","120"],"timeout_sec":120}')")"
	wait_status d1 running
	expect_contains "$(cat "$REMOTE_DATA.proxy")" "dropped the answer to a create"
	expect_eq "$(agent_field d1 sandbox_id)" "$(remote_sandboxes_of d1)"
	# Retry-After as an HTTP date two seconds ahead: at least a second
	# passes (the date has whole seconds) before the create is sent again.
	expect_eq 201 "$(status "$(api POST /api/cloud/spawn '{"agent_id":"d2","command":["sleep","120"],"timeout_sec":120}')")"
	wait_status d2 running
	python3 - "$(cat "$REMOTE_DATA.proxy")" <<'PY'
import re, sys
log = sys.argv[1]
limited = float(re.search(r"429 at ([0-9.]+)", log).group(1))
again = float(re.search(r"create at ([0-9.]+)", log).group(1))
assert again - limited >= 1.0, (limited, again)
PY
	expect_eq 1 "$(echo $(remote_sandboxes_of d2) | wc -w)"
	kill "$PROXY_PID"
	serve_done
	remote_done
}
