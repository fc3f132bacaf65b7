#!/bin/bash
# The e2b provider's overhead (issue 8; results in docs/benchmarks.md):
# spawn-to-running of an agent on one `evoclaw serve` whose e2b provider
# points at a second (which speaks E2B's API and runs the sandbox
# locally), interleaved with the same spawn made on the second server
# directly (its local provider): the ratio is what E2B's API and envd's
# Connect stream add. RUNS spawns of each per round, ROUNDS rounds.
#   ROUNDS=3 RUNS=200 bench/e2b_provider.sh
set -eu
cd "$(dirname "$0")/.."
# shellcheck source=lib.sh
. bench/lib.sh
build=${EVOCLAW_BUILD:-build}
rounds=${ROUNDS:-3} runs=${RUNS:-200}
evoclaw=$PWD/$build/bin/evoclaw
work=$(mktemp -d /tmp/evoclaw-provider-bench.XXXXXX)
bench_run_dir
pids=''
cleanup() {
	set +e
	for p in $pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	bench_reap_sandboxes "$evoclaw"
	rm -rf "$EVOCLAW_RUN_DIR" "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
serve() { # NAME PORT CONFIG
	rm -rf "$work/$1"
	printf '%s\n' "$3" >"$work/$1.json"
	"$evoclaw" serve --listen "127.0.0.1:$2" --data "$work/$1" --config "$work/$1.json" \
		>>"$work/$1.log" 2>&1 &
	pids="$pids $!"
	bench_wait_healthy "http://127.0.0.1:$2" "$work/$1.log"
}
for round in $(seq 1 "$rounds"); do
	remote=$(free_port) orch=$(free_port)
	serve remote "$remote" '{"auth":{"mode":"none"},"cloud":{"maxAgents":50,"creditBudgetUsd":1000000}}'
	serve orch "$orch" "{\"auth\":{\"mode\":\"none\"},\"cloud\":{\"provider\":\"e2b\",\"e2bApiKey\":\"bench\",\"e2bApiUrl\":\"http://127.0.0.1:$remote\",\"e2bSandboxUrl\":\"http://127.0.0.1:$remote\",\"maxAgents\":50,\"creditBudgetUsd\":1000000}}"
	python3 bench/provider_latency.py "http://127.0.0.1:$orch" "http://127.0.0.1:$remote" "$runs" |
		sed "s/^/round $round: /"
	for p in $pids; do kill "$p"; wait "$p" 2>/dev/null || true; done
	pids=''
done
