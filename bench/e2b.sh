#!/bin/bash
# E2B SDK benchmark (issue 4; results in docs/benchmarks.md): the
# unmodified e2b SDK against a fresh `evoclaw serve`:
#  - Sandbox.create -> first output of commands.run('echo ok'), p50/p99
#    over SEQ sandboxes made one after another;
#  - CONC creates issued at once: time until all are ready.
# Each round starts its own server; ROUNDS rounds.
#   ROUNDS=3 SEQ=200 CONC=100 bench/e2b.sh
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=lib.sh
. bench/lib.sh
build=${EVOCLAW_BUILD:-build}
rounds=${ROUNDS:-3}
export SEQ=${SEQ:-200} CONC=${CONC:-100}
[ -d tests/e2b/node_modules/e2b ] || { echo "e2b.sh: the e2b SDK is missing (make deps)" >&2; exit 1; }
evoclaw=$PWD/$build/bin/evoclaw
work=$(mktemp -d /tmp/evoclaw-e2b-bench.XXXXXX)
bench_run_dir
server_pid=''
cleanup() {
	set +e
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	bench_reap_sandboxes "$evoclaw"
	rm -rf "$EVOCLAW_RUN_DIR" "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
cat >"$work/evoclaw.json" <<JSON
{"cloud": {"maxAgents": $((CONC + 20)), "creditBudgetUsd": 1000000}}
JSON
for round in $(seq 1 "$rounds"); do
	rm -rf "$work/data"
	"$evoclaw" serve --listen "127.0.0.1:$port" --data "$work/data" --config "$work/evoclaw.json" \
		>>"$work/server.log" 2>&1 &
	server_pid=$!
	bench_wait_healthy "$url" "$work/server.log"
	E2B_API_KEY=$(cat "$work/data/admin.key") E2B_API_URL=$url E2B_SANDBOX_URL=$url \
		node bench/e2b_create.mjs | sed "s/^/round $round: /"
	kill "$server_pid"
	wait "$server_pid" || true
	server_pid=''
done
