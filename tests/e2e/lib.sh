# Helpers for end-to-end tests. Every evoclaw call has a safety-net time
# limit so a broken build fails a test instead of hanging CI.

# ev ARGS...: run evoclaw with a 120 s limit.
ev() { timeout 120 "$EVOCLAW" "$@"; }

fail() { echo "FAIL: $*" >&2; return 1; }

# expect_eq WANT GOT [WHAT]
expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: want [$1], got [$2]"
}

# expect_contains HAYSTACK NEEDLE
expect_contains() {
	case $1 in *"$2"*) ;; *) fail "expected [$2] in: $1" ;; esac
}

# expect_status WANT CMD...: the command exits with status WANT.
expect_status() {
	want=$1; shift
	set +e
	"$@"
	got=$?
	set -e
	[ "$got" -eq "$want" ] || fail "exit status of [$*]: want $want, got $got"
}

# expect_failure STATUS TEXT CMD...: the command exits with STATUS and says
# TEXT (stdout and stderr together, left in $err for more checks).
expect_failure() {
	want=$1 text=$2; shift 2
	set +e
	err=$("$@" 2>&1)
	got=$?
	set -e
	[ "$got" -eq "$want" ] || fail "exit status of [$*]: want $want, got $got: $err"
	expect_contains "$err" "$text"
}

# run_in TEMPLATE SCRIPT: run a shell script in a fresh sandbox.
run_in() {
	tmpl=$1; shift
	if [ "$tmpl" = minimal ]; then sh=/bin/sh; else sh=/bin/bash; fi
	ev sandbox run --template "$tmpl" -- "$sh" -c "$1"
}

# Counts of what a sandbox could leak on the host.
# Host mounts, less the pool of ready network namespaces (which is kept
# topped up on purpose and drained when the tests end).
count_mounts() { grep -vc " $EVOCLAW_RUN_DIR/netns/" /proc/self/mountinfo; }
count_cgroups() {
	find /sys/fs/cgroup -type d -path '*/evoclaw/*' 2>/dev/null | wc -l
}
# Live evoclaw processes (zombies are the reaper's, not ours to count).
count_processes() {
	ps -eo stat=,comm= | awk '$1 !~ /^Z/ && ($2 == "evoclaw" || $2 == "evoclaw-init")' | wc -l
}
count_rundir() { find "$EVOCLAW_RUN_DIR/sandboxes" -mindepth 1 2>/dev/null | wc -l; }

now_ms() { date +%s%3N; }
