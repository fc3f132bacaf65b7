# Shared by the benchmark scripts (sourced).

# Kill every sandbox of $EVOCLAW_RUN_DIR (a server leaves its agents'
# sandboxes running when it stops) and drain its pools until no process of
# the run directory is left (a refill the server started may still run).
# $1: the evoclaw binary.
bench_reap_sandboxes() {
	local evoclaw=$1 ids
	ids=$("$evoclaw" sandbox ls --json 2>/dev/null |
		python3 -c 'import json,sys; print(" ".join(s["id"] for s in json.load(sys.stdin) if s["state"] != "warm"))')
	# shellcheck disable=SC2086 # a list of ids
	[ -n "$ids" ] && "$evoclaw" sandbox kill $ids >/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		"$evoclaw" sandbox pool drain >/dev/null
		grep -lsx "EVOCLAW_RUN_DIR=$EVOCLAW_RUN_DIR" --null-data /proc/[0-9]*/environ >/dev/null || break
		sleep 0.2
	done
}

# A run directory of the benchmark's own (exported as EVOCLAW_RUN_DIR),
# which sandboxes pass through as an unprivileged id.
bench_run_dir() {
	EVOCLAW_RUN_DIR=$(mktemp -d /tmp/evoclaw-bench.XXXXXX)
	export EVOCLAW_RUN_DIR
	chmod 711 "$EVOCLAW_RUN_DIR"
}

# Wait (5 s at most) until the server at $1 answers /healthz; else show
# the end of its log ($2) and fail.
bench_wait_healthy() {
	for _ in $(seq 1 500); do
		curl -s -o /dev/null "$1/healthz" && return 0
		sleep 0.01
	done
	echo "the server at $1 did not start: $(tail -3 "$2")" >&2
	exit 1
}
