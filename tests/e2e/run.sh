#!/bin/bash
# End-to-end tests: run every tests/e2e/test_*.sh against the real binary.
# Each file defines functions named t_*; each runs in its own subshell with
# errexit, so the first failing command fails that test. Prints one line
# per test and closes with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${EVOCLAW_BUILD:-build}
case $build in /*) ;; *) build="$root/$build" ;; esac
export EVOCLAW="$build/bin/evoclaw"
export EVOCLAW_BUILD="$build"
# Sandboxes of the tests live in their own runtime dir, never the user's.
export EVOCLAW_RUN_DIR=$(mktemp -d /tmp/evoclaw-e2e.XXXXXX)
chmod 711 "$EVOCLAW_RUN_DIR" # sandboxes pass through it as an unprivileged id
trap '"$EVOCLAW" sandbox ls --json >/dev/null 2>&1; for id in $(ls "$EVOCLAW_RUN_DIR/sandboxes" 2>/dev/null); do "$EVOCLAW" sandbox kill "$id" >/dev/null 2>&1; done; "$EVOCLAW" sandbox pool drain >/dev/null 2>&1; rm -rf "$EVOCLAW_RUN_DIR" "$EVOCLAW_RUN_DIR.out"' EXIT

# shellcheck source=lib.sh
. "$here/lib.sh"
filter=${1:-}
passed=0 failed=0 failures=""
for file in "$here"/test_*.sh; do
	# shellcheck source=/dev/null
	. "$file"
	for t in $(grep -o '^t_[a-z0-9_]*' "$file"); do
		case $t in *"$filter"*) ;; *) continue ;; esac
		start=$(now_ms)
		# Through a file, not a pipe: a process a failed test leaves
		# behind must not keep the runner waiting for end of file.
		(set -e; "$t") >"$EVOCLAW_RUN_DIR.out" 2>&1 </dev/null
		rc=$?
		out=$(cat "$EVOCLAW_RUN_DIR.out")
		ms=$(( $(now_ms) - start ))
		secs=$(printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10)))
		if [ $rc -eq 0 ]; then
			passed=$((passed + 1))
			echo "ok - $(basename "$file" .sh) $t (${secs}s)"
		else
			failed=$((failed + 1))
			failures="$failures $t"
			echo "not ok - $(basename "$file" .sh) $t (${secs}s)"
			echo "$out" | tail -25 | sed 's/^/    # /'
		fi
	done
done
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
