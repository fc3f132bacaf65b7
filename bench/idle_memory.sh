#!/bin/bash
# Host memory per idle sandbox with N alive (default 500): the growth of
# the host's used memory (MemTotal - MemAvailable) divided by N, and the
# processes' own share (PSS of supervisor + init). Then kills them all and
# checks nothing remains.
#   N=500 bench/idle_memory.sh
set -eu
cd "$(dirname "$0")/.."
build=${EVOCLAW_BUILD:-build}
n=${N:-500}
export EVOCLAW_RUN_DIR=$(mktemp -d /tmp/evoclaw-bench.XXXXXX)
chmod 711 "$EVOCLAW_RUN_DIR" # sandboxes pass through it as an unprivileged id
evoclaw=$PWD/$build/bin/evoclaw
used_kb() { awk '/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{print t-a}' /proc/meminfo; }
pss_kb() {
	local total=0
	for p in $(pgrep -x evoclaw) $(pgrep -x evoclaw-init); do
		v=$(awk '/^Pss:/{print $2}' /proc/$p/smaps_rollup 2>/dev/null || echo 0)
		total=$((total + ${v:-0}))
	done
	echo $total
}
count_processes() {
	ps -eo stat=,comm= | awk '$1 !~ /^Z/ && ($2 == "evoclaw" || $2 == "evoclaw-init")' | wc -l
}
procs_before=$(count_processes)
sync; echo 1 >/proc/sys/vm/drop_caches 2>/dev/null || true
before=$(used_kb)
ids=()
for i in $(seq 1 "$n"); do
	ids+=("$("$evoclaw" sandbox create --template minimal --timeout 3600)")
done
after=$(used_kb)
pss=$(pss_kb)
alive=$("$evoclaw" sandbox ls --json | grep -o '"id"' | wc -l)
echo "sandboxes alive: $alive"
echo "host used memory: +$(( (after - before) / 1024 )) MiB for $n sandboxes = $(( (after - before) / n )) KiB per sandbox"
echo "supervisor+init PSS: $(( pss / 1024 )) MiB = $(( pss / n )) KiB per sandbox"
"$evoclaw" sandbox kill "${ids[@]}"
"$evoclaw" sandbox pool drain >/dev/null
left=$(find "$EVOCLAW_RUN_DIR/sandboxes" -mindepth 1 | wc -l)
echo "after kill: $left state entries, evoclaw processes $procs_before before, $(count_processes) after"
rm -rf "$EVOCLAW_RUN_DIR"
