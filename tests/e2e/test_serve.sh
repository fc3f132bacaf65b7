# evoclaw serve (issue 3, in progress): the real binary over HTTP.

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server DATA_DIR: runs it in the background; sets SERVER_PID, URL.
start_server() {
	port=$(free_port)
	URL="http://127.0.0.1:$port"
	# Its output goes to a file, never to the runner's pipe, and it is
	# stopped however the test ends.
	"$EVOCLAW" serve --listen "127.0.0.1:$port" --data "$1" >"$1.log" 2>&1 &
	SERVER_PID=$!
	trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
	# Ready when it answers; bounded, and a server that died fails fast.
	for i in $(seq 1 500); do
		curl -s -o /dev/null "$URL/healthz" && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || { cat "$1.log"; fail "server exited"; }
		sleep 0.01
	done
	fail "server did not answer within 5 s"
}

t_serve_health_auth_and_errors() {
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
	# 10,000 bad requests on keep-alive connections, then still healthy.
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
if set(codes) - {401, 404}:
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
