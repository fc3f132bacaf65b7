#!/bin/bash
# Orchestrator HTTP benchmarks (results in docs/benchmarks.md):
#  1. GET /api/agents?limit=50 with AGENTS finished agents stored, under
#     wrk, interleaved round by round with a minimal libmicrohttpd server
#     set up like evoclaw-server (bench/hello_mhd.c), so noise hits both;
#  2. spawn-to-running over HTTP: SPAWNS sequential POST /api/cloud/spawn
#     of an idle `minimal` agent, each polled with GET /api/agents/{id}
#     until it is running, then destroyed; cross-checked against the
#     server's own evoclaw_spawn_latency_seconds histogram.
#   ROUNDS=3 DURATION=10 CONNS=64 THREADS=2 AGENTS=10000 SPAWNS=200 bench/http.sh
# (SWEEP="1 8 256": other wrk connection counts, 5 s each; SWEEP= skips)
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=lib.sh
. bench/lib.sh
build=${EVOCLAW_BUILD:-build}
rounds=${ROUNDS:-3}
duration=${DURATION:-10}
conns=${CONNS:-64}
threads=${THREADS:-2}
agents=${AGENTS:-10000}
spawns=${SPAWNS:-200}
sweep=${SWEEP-1 8 256}
command -v wrk >/dev/null || { echo "http.sh: wrk is missing (make deps)" >&2; exit 1; }
mkdir -p "$build/bench"
cc -O2 -Wall -Wextra -Werror -o "$build/bench/hello_mhd" bench/hello_mhd.c -lmicrohttpd

evoclaw=$PWD/$build/bin/evoclaw
work=$(mktemp -d /tmp/evoclaw-http.XXXXXX)
EVOCLAW_RUN_DIR=$(mktemp -d /tmp/evoclaw-bench.XXXXXX)
export EVOCLAW_RUN_DIR
chmod 711 "$EVOCLAW_RUN_DIR" # sandboxes pass through it as an unprivileged id
data=$work/data
server_pid='' hello_pid='' page_pid=''
cleanup() {
	set +e
	for p in $hello_pid $page_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	bench_reap_sandboxes "$evoclaw"
	rm -rf "$EVOCLAW_RUN_DIR" "$work"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
hello_port=$(free_port)
url=http://127.0.0.1:$port
hello_url=http://127.0.0.1:$hello_port
# Room for the spawns: the defaults are 10 agents and 50 USD, and the
# seeded agents' spend counts against the budget. No request limits: wrk
# is one key from one address, far past them by design.
cat >"$work/evoclaw.json" <<EOF
{"cloud": {"defaultTemplate": "minimal", "maxAgents": 1000, "creditBudgetUsd": 1000000,
           "defaultTimeoutSec": 60},
 "limits": {"keyRequestsPerSec": 0, "ipRequestsPerSec": 0}}
EOF

start_server() {
	"$evoclaw" serve --listen "127.0.0.1:$port" --data "$data" --config "$work/evoclaw.json" \
		>>"$work/server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 1 500); do
		curl -s -o /dev/null "$url/healthz" && return 0
		kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
		sleep 0.01
	done
	echo "http.sh: the server did not answer within 5 s" >&2
	exit 1
}
stop_server() {
	kill "$server_pid"
	wait "$server_pid" || true
	server_pid=
}

echo "machine: $(nproc) cores, $(uname -r); $(date -u +%FT%TZ); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo

# ---- seeding: real records, written while the server is stopped --------
start_server # creates the database, its schema and the admin key
stop_server
t0=$(date +%s%N)
python3 - "$data/evoclaw.db" "$agents" <<'PY'
# Finished agents (completed / failed) with the fields the server itself
# would have written, spread over the last week. The columns come from the
# server's own schema; a NOT NULL column without a default that this does
# not know is an error, not a guess.
import json, random, sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
con = sqlite3.connect(db)
schema = {r[1]: r for r in con.execute("PRAGMA table_info(agents)")}
types = ["researcher", "coder", "analyst", "tester", "trader", "monitor", "sensor"]
templates = ["minimal", "base", "python", "evoclaw-agent"]
tasks = ["scan the BTC-PERP order book and report spreads above 5 bps",
         "summarise yesterday's fills and compute realised PnL",
         "run the unit tests of strategy v%d and report failures",
         "watch funding rates on ETH, SOL and ARB; alert on sign flips",
         "read sensor 17 every second and publish the moving average"]
alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
now = int(time.time() * 1000) - 3600_000
rows = []
for i in range(n):
    t = types[i % len(types)]
    created = now - rnd.randrange(7 * 86400_000)
    started = created + rnd.randrange(1, 40)
    run_ms = rnd.randrange(200, 600_000)
    failed = rnd.random() < 0.1
    timeout = rnd.choice([300, 600, 900, 3600])
    if failed:
        status, reason = "failed", rnd.choice(["error", "timeout", "orchestrator_lost"])
        exit_code = rnd.choice([1, 2, 137, None])
        error = "process exited with status %s" % exit_code if exit_code else \
                "its sandbox did not stop in time"
    else:
        status, reason = "completed", rnd.choice(["exited", "exited", "exited", "terminated"])
        exit_code, error = (0 if reason == "exited" else None), ""
    tokens = rnd.randrange(0, 200_000)
    cost = (run_ms + 999) // 1000 * 100 + tokens * 100  # micro-USD: 1e-4/s + 1e-4/token
    genome = json.dumps({"risk": round(rnd.random(), 3), "lookback": rnd.randrange(5, 200),
                         "threshold_bps": rnd.randrange(1, 50)}, separators=(",", ":"))
    row = {
        "id": "agt_%016x" % rnd.getrandbits(64),
        "name": "%s-%d" % (t, i),
        "tenant": "",
        "agent_type": t,
        "template": templates[i % len(templates)],
        "provider": "local",
        "sandbox_id": "".join(rnd.choice(alnum) for _ in range(20)),
        "status": status,
        "stop_reason": reason,
        "task_description": rnd.choice(tasks).replace("%d", str(i % 9)),
        "environment": json.dumps({"EXCHANGE": "hyperliquid", "SYMBOL": "BTC-PERP"},
                                  separators=(",", ":"), sort_keys=True),
        "capabilities": json.dumps(["market-data", "paper-trading"], separators=(",", ":")),
        "genome": genome if t == "trader" else None,
        "mode": "on-demand",
        "timeout_sec": timeout,
        "keep_alive": int(rnd.random() < 0.2),
        "tokens_used": tokens,
        "cost_micros": cost,
        "execution_time_ms": run_ms,
        "exit_code": exit_code,
        "error_message": error,
        "created_at_ms": created,
        "started_at_ms": started,
        "completed_at_ms": started + run_ms,
        "tournament_id": "",
        "generation": 0,
        "fitness": 0.0,
        "command": json.dumps(["python3", "-m", "agent", "--type", t], separators=(",", ":")),
        "deadline_ms": started + timeout * 1000,
    }
    rows.append(row)
cols = [c for c in rows[0] if c in schema]
unknown = [c for c, r in schema.items() if c not in cols and r[3] and r[4] is None]
if unknown:
    sys.exit("seed: the agents table has NOT NULL columns this does not fill: %s" % unknown)
with con:
    con.executemany("INSERT INTO agents (%s) VALUES (%s)" % (",".join(cols), ",".join("?" * len(cols))),
                    [[r[c] for c in cols] for r in rows])
con.close()
PY
t1=$(date +%s%N)
start_server
key=$(cat "$data/admin.key")
export EVOCLAW_BENCH_KEY=$key
"$build/bench/hello_mhd" "$hello_port" &
hello_pid=$!
page=$(curl -s -H "X-API-Key: $key" "$url/api/agents?limit=50")
# A third peer: the same server answering evoclaw's own page, bytes for
# bytes, tells what the size of the answer costs from what evoclaw does.
printf '%s' "$page" >"$work/page.json"
page_port=$(free_port)
"$build/bench/hello_mhd" "$page_port" "$work/page.json" &
page_pid=$!
python3 - "$page" "$agents" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
if len(d["agents"]) != 50 or d["total"] != int(sys.argv[2]):
    sys.exit("http.sh: unexpected page: %d agents, total %s" % (len(d["agents"]), d["total"]))
print("seeded %d agents; a page of 50 is %d bytes of JSON" % (d["total"], len(sys.argv[1])))
PY
echo "seeding took $(( (t1 - t0) / 1000000 )) ms"
echo

# ---- GET /api/agents under wrk, interleaved with the hello server ------
cat >"$work/wrk.lua" <<'LUA'
wrk.headers["X-API-Key"] = os.getenv("EVOCLAW_BENCH_KEY") or ""
done = function(summary, latency, requests)
	local s = summary.duration / 1e6
	local e = summary.errors
	io.write(string.format("RESULT %.0f %.3f %.3f %.3f %d %d\n", summary.requests / s,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
LUA
run_wrk() { # NAME DURATION URL: one line of results (wrk -t$threads -c$conns)
	local out
	out=$(wrk -t"$threads" -c"$conns" -d"$2" --latency -s "$work/wrk.lua" "$3")
	echo "$out" | awk -v name="$1" '/^RESULT/ {
		printf "%-22s %10.0f %8.3f %8.3f %8.3f %8d %8d\n", name, $2, $3, $4, $5, $6, $7 }'
}
echo "== GET /api/agents?limit=50 ($agents agents stored) vs hello_mhd: wrk -t$threads -c$conns -d${duration}s, $rounds rounds"
echo "   (hello_mhd: a 31-byte JSON body; hello_mhd+page: the same evoclaw page, served as a fixed body)"
run_wrk warmup 2s "$url/api/agents?limit=50" >/dev/null
run_wrk warmup 2s "$hello_url/" >/dev/null
run_wrk warmup 2s "http://127.0.0.1:$page_port/" >/dev/null
printf '%-22s %10s %8s %8s %8s %8s %8s\n' server "req/s" "p50 ms" "p90 ms" "p99 ms" non-2xx "sock err"
: >"$work/wrk.txt"
for _ in $(seq 1 "$rounds"); do
	run_wrk "evoclaw /api/agents" "${duration}s" "$url/api/agents?limit=50" | tee -a "$work/wrk.txt"
	run_wrk "hello_mhd" "${duration}s" "$hello_url/" | tee -a "$work/wrk.txt"
	run_wrk "hello_mhd+page" "${duration}s" "http://127.0.0.1:$page_port/" | tee -a "$work/wrk.txt"
done
python3 - "$work/wrk.txt" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name = line.split()[0]
    name = {"evoclaw": "evoclaw", "hello_mhd": "hello", "hello_mhd+page": "hello+page"}[name]
    f = line.split()[-6:]
    rows.setdefault(name, []).append([float(x) for x in f])
med = {k: [statistics.median(r[i] for r in v) for i in range(6)] for k, v in rows.items()}
for k in ("evoclaw", "hello", "hello+page"):
    m = med[k]
    print("median %-15s %10.0f req/s  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms" % (k, m[0], m[1], m[2], m[3]))
ratios = [a[0] / b[0] for a, b in zip(rows["evoclaw"], rows["hello"])]
print("rate ratio evoclaw/hello: %.3f (medians); per round %s" %
      (med["evoclaw"][0] / med["hello"][0], " ".join("%.3f" % r for r in ratios)))
print("rate ratio evoclaw/hello+page (same bytes): %.3f" % (med["evoclaw"][0] / med["hello+page"][0]))
if any(r[4] or r[5] for v in rows.values() for r in v):
    print("WARNING: some requests failed (non-2xx or socket errors)")
PY
echo
echo "== connection counts: -c N for 5 s each (SWEEP=\"$sweep\")"
printf '%-22s %10s %8s %8s %8s %8s %8s\n' server "req/s" "p50 ms" "p90 ms" "p99 ms" non-2xx "sock err"
for c in $sweep; do
	t=$threads
	[ "$c" -lt "$t" ] && t=$c
	conns=$c threads=$t run_wrk "evoclaw -c$c" 5s "$url/api/agents?limit=50"
	conns=$c threads=$t run_wrk "hello_mhd -c$c" 5s "$hello_url/"
done
echo

# ---- spawn-to-running over HTTP -----------------------------------------
# wrk stops sending, but requests it left queued on its connections are
# still being answered: wait until the server is idle (under 20 ms of CPU
# in half a second), so that backlog does not land on the spawns.
t0=$(date +%s%N)
for _ in $(seq 1 60); do
	a=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
	sleep 0.5
	b=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
	[ $(( (b - a) * 1000 / $(getconf CLK_TCK) )) -lt 20 ] && break
done
echo "== spawn-to-running over HTTP: $spawns sequential spawns of an idle minimal agent"
echo "   (waited $(( ($(date +%s%N) - t0) / 1000000 )) ms, in 0.5 s steps, for the server to go idle after wrk)"
python3 - "$port" "$spawns" <<'PY'
# One keep-alive connection. Timed from just before the POST is sent to
# the receipt of the first GET /api/agents/{id} that says "running";
# the polls follow each other with no pause.
import http.client, json, os, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
key = os.environ["EVOCLAW_BENCH_KEY"]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
hdr = {"X-API-Key": key, "Content-Type": "application/json"}
body = json.dumps({"template_id": "minimal", "timeout_sec": 60})

def call(method, path, data=None):
    conn.request(method, path, body=data, headers=hdr)
    r = conn.getresponse()
    return r.status, r.read()

def pct(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[int(p * (len(s) - 1) + 0.5)]

total, post, polls, destroy, get_rtt, warm, cold = [], [], [], [], [], [], []
run_dir = os.environ["EVOCLAW_RUN_DIR"]
def histogram():
    st, b = call("GET", "/metrics")
    h = {}
    for line in b.decode().splitlines():
        if line.startswith("evoclaw_spawn_latency_seconds_bucket"):
            h[line.split('le="')[1].split('"')[0]] = int(line.split()[-1])
        elif line.startswith("evoclaw_spawn_latency_seconds_sum"):
            h["sum"] = float(line.split()[-1])
    return h

for i in range(n + 5):  # the first 5 warm the pool and are not counted
    if i == 5:
        before = histogram()
    wall0 = time.time()
    t0 = time.perf_counter()
    st, b = call("POST", "/api/cloud/spawn", body)
    t1 = time.perf_counter()
    if st != 201:
        sys.exit("spawn: HTTP %d %s" % (st, b[:200]))
    aid = json.loads(b)["id"]
    k = 0
    while True:
        g0 = time.perf_counter()
        st, b = call("GET", "/api/agents/" + aid)
        t2 = time.perf_counter()
        k += 1
        a = json.loads(b)
        if a["status"] == "running":
            break
        if a["status"] != "pending" or t2 - t0 > 10:
            sys.exit("agent %s: %s" % (aid, b[:300]))
    if i >= 5:
        total.append((t2 - t0) * 1e3)
        # Warm or cold: was its sandbox made before the request (pooled)?
        state = json.load(open("%s/sandboxes/%s/state.json" % (run_dir, a["sandbox_id"])))
        (warm if state["created_ms"] < wall0 * 1000 else cold).append(total[-1])
    t3 = time.perf_counter()
    st, b = call("DELETE", "/api/agents/" + aid)
    t4 = time.perf_counter()
    if st != 200:
        sys.exit("destroy: HTTP %d %s" % (st, b[:200]))
    if i < 5:
        continue
    post.append((t1 - t0) * 1e3)
    polls.append(k)
    get_rtt.append((t2 - g0) * 1e3)
    destroy.append((t4 - t3) * 1e3)

print("%-44s %8s %8s %8s %8s" % ("what", "p50 ms", "p90 ms", "p99 ms", "mean ms"))
for name, xs in [("spawn-to-running (POST sent -> GET running)", total),
                 ("  warm: a pooled sandbox claimed (%d)" % len(warm), warm),
                 ("  cold: the sandbox built on demand (%d)" % len(cold), cold),
                 ("POST /api/cloud/spawn -> 201", post),
                 ("last poll GET /api/agents/{id} round trip", get_rtt),
                 ("DELETE /api/agents/{id} (destroy)", destroy)]:
    print("%-44s %8.3f %8.3f %8.3f %8.3f" % (name, pct(xs, .5), pct(xs, .9), pct(xs, .99),
                                             sum(xs) / max(len(xs), 1)))
print("polls until running: p50 %d, max %d; already running at the first poll: %d of %d" %
      (pct(polls, .5), max(polls), sum(1 for k in polls if k == 1), len(polls)))
# The server's own histogram, this run's counted spawns only.
after = histogram()
count = after["+Inf"] - before["+Inf"]
print("server histogram evoclaw_spawn_latency_seconds: %d spawns, mean %.3f ms" %
      (count, (after["sum"] - before["sum"]) / max(count, 1) * 1e3))
cells = []
for le in after:
    if le != "sum":
        k = after[le] - before[le]
        cells.append("le %s s: %d (%.1f%%)" % (le, k, 100.0 * k / max(count, 1)))
        if k == count:
            break
print("  cumulative: " + ", ".join(cells))
PY
