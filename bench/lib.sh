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
