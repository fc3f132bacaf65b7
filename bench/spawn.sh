#!/bin/bash
# Sandbox start-up benchmarks, evoclaw side by side with bubblewrap on the
# same rootfs, in one run (commands interleaved run by run, so machine
# noise hits both). Results are recorded in docs/benchmarks.md.
#   RUNS=300 bench/spawn.sh
set -eu
cd "$(dirname "$0")/.."
build=${EVOCLAW_BUILD:-build}
runs=${RUNS:-300}
mkdir -p "$build/bench"
cc -O2 -Wall -Werror -o "$build/bench/latency" bench/latency.c
cc -O2 -Wall -Werror -o "$build/bench/create_exec" bench/create_exec.c
export EVOCLAW_RUN_DIR=$(mktemp -d /tmp/evoclaw-bench.XXXXXX)
trap 'rm -rf "$EVOCLAW_RUN_DIR"' EXIT
evoclaw=$PWD/$build/bin/evoclaw
rootfs=$PWD/$build/rootfs/minimal
bwrap=$(command -v bwrap)

echo "machine: $(nproc) cores, $(uname -r); $(date -u +%FT%TZ)"
echo
echo "== spawn-to-exit: /bin/true (busybox) in the minimal rootfs, $runs runs each"
"$build/bench/latency" "$runs" 20 \
	"bwrap --unshare-all=$bwrap --unshare-all --ro-bind $rootfs / --proc /proc --dev /dev --tmpfs /tmp /bin/true" \
	"evoclaw sandbox run=$evoclaw sandbox run --template minimal -- /bin/true"
echo
echo "== create-to-first-exec: create, then exec /bin/true, $runs runs"
printf '%-28s %5s %8s %8s %8s %8s\n' command runs "p50 ms" "p90 ms" "p99 ms" "mean ms"
"$build/bench/create_exec" "$evoclaw" "$runs" minimal /bin/true
