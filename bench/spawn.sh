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
# The in-process benchmark links the runtime the way the orchestrator will.
cc -O2 -std=gnu11 -Wall -Wextra -Werror -Isrc -I"$build/gen" -D_GNU_SOURCE -static \
	-o "$build/bench/spawn_inproc" bench/spawn_inproc.c "$build"/obj/common/*.o "$build"/obj/runtime/*.o \
	$(ls "$build"/obj/runtime/local/*.o | grep -v seccomp_policy) -ljansson -lsodium
export EVOCLAW_RUN_DIR=$(mktemp -d /tmp/evoclaw-bench.XXXXXX)
chmod 711 "$EVOCLAW_RUN_DIR" # sandboxes pass through it as an unprivileged id
evoclaw=$PWD/$build/bin/evoclaw
trap '"$evoclaw" sandbox pool drain >/dev/null; rm -rf "$EVOCLAW_RUN_DIR"' EXIT
rootfs=$PWD/$build/rootfs/minimal
bwrap=$(command -v bwrap)

echo "machine: $(nproc) cores, $(uname -r); $(date -u +%FT%TZ)"
echo
bwrap_cmd="bwrap --unshare-all=$bwrap --unshare-all --ro-bind $rootfs / --proc /proc --dev /dev --tmpfs /tmp /bin/true"
run_cmd="$evoclaw sandbox run --template minimal -- /bin/true"

echo "== bubblewrap alone (nothing of evoclaw running), $runs runs"
"$build/bench/latency" "$runs" 20 "$bwrap_cmd"
echo
echo "== spawn-to-exit, default (warm pool on): /bin/true in the minimal rootfs, interleaved with bwrap"
"$evoclaw" sandbox pool drain >/dev/null
"$build/bench/latency" "$runs" 20 "$bwrap_cmd" "evoclaw sandbox run=$run_cmd"
echo
echo "== spawn-to-exit, cold (EVOCLAW_WARM_POOL=0: every sandbox built on demand), interleaved"
"$evoclaw" sandbox pool drain >/dev/null
EVOCLAW_WARM_POOL=0 "$build/bench/latency" "$runs" 20 "$bwrap_cmd" "evoclaw run, cold=$run_cmd"
"$evoclaw" sandbox pool drain >/dev/null
echo
echo "== spawn-to-exit through the runtime library, cold (sandbox_spawn to exit status), $runs runs"
EVOCLAW_TEMPLATES_DIR=$PWD/templates EVOCLAW_ROOTFS_DIR=$PWD/$build/rootfs \
	EVOCLAW_INIT=$PWD/$build/bin/evoclaw-init "$build/bench/spawn_inproc" "$runs" "$rootfs" "$bwrap"
echo
echo "== create-to-first-exec: create, then exec /bin/true, $runs runs"
"$evoclaw" sandbox pool drain >/dev/null
printf '%-28s %5s %8s %8s %8s %8s\n' command runs "p50 ms" "p90 ms" "p99 ms" "mean ms"
"$build/bench/create_exec" "$evoclaw" "$runs" minimal /bin/true
