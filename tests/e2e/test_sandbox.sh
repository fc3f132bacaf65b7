# The local sandbox runtime, asserted from inside sandboxes and from the host.

t_pid1_is_init() {
	out=$(run_in minimal 'cat /proc/1/comm; echo pid=$$')
	expect_contains "$out" "evoclaw-init"
	# The command is not PID 1 (init is), but a low pid of its own namespace.
	pid=$(echo "$out" | sed -n 's/^pid=//p')
	[ "$pid" -gt 1 ] && [ "$pid" -lt 10 ] || fail "command pid $pid"
}

t_host_processes_invisible() {
	# A host process with a unique command line must not show up inside.
	marker="evoclaw-marker-$$-$RANDOM"
	bash -c "exec -a $marker sleep 300" &
	host_pid=$!
	out=$(run_in minimal "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'")
	kill $host_pid
	case $out in *"$marker"*) fail "host process visible inside" ;; esac
	n=$(echo "$out" | tail -1)
	[ "$n" -le 4 ] || fail "$n processes visible inside"
}

t_only_loopback() {
	out=$(run_in minimal 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "')
	expect_eq "lo" "$out" "network interfaces"
	out=$(run_in minimal 'ip link show lo')
	expect_contains "$out" "UP"
}

t_hostname_is_sandbox_id() {
	out=$(run_in minimal 'hostname; cat /etc/hostname; grep -c "$(hostname)" /etc/hosts')
	h1=$(echo "$out" | sed -n 1p); h2=$(echo "$out" | sed -n 2p)
	expect_eq "$h1" "$h2" "hostname vs /etc/hostname"
	expect_eq 20 "${#h1}" "id length"
	expect_eq 1 "$(echo "$out" | sed -n 3p)" "hostname in /etc/hosts"
}

t_privileged_syscalls_fail() {
	# As root inside the sandbox (the strongest position a command has).
	script='
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def tried(name, r):
    e = ctypes.get_errno()
    print(name, "ok" if r == 0 else "EPERM" if e == 1 else "errno%d" % e)
tried("mount", libc.mount(b"none", b"/mnt", b"tmpfs", 0, None))
tried("unshare_user", libc.unshare(0x10000000))
tried("unshare_mount", libc.unshare(0x00020000))
tried("ptrace_attach", libc.ptrace(16, 1, 0, 0))
tried("keyctl", libc.syscall(250, 0, 0, 0, 0, 0))
tried("bpf", libc.syscall(321, 0, 0, 0))
tried("pivot_root", libc.syscall(155, b"/", b"/"))
tried("chroot", libc.chroot(b"/tmp"))
'
	out=$(ev sandbox run --template python -- python3 -c "$script")
	for call in mount unshare_user unshare_mount ptrace_attach keyctl bpf pivot_root chroot; do
		expect_contains "$out" "$call EPERM"
	done
	# And the process holds no capabilities at all, even as uid 0.
	out=$(ev sandbox run --template minimal -- /bin/sh -c 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status')
	for line in CapEff CapPrm CapBnd; do
		expect_contains "$out" "$line:	0000000000000000"
	done
	out=$(run_in minimal 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\t " " "')
	expect_contains "$out" "NoNewPrivs: 1"
	expect_contains "$out" "Seccomp: 2"
}

t_host_files_invisible() {
	secret=/tmp/evoclaw-secret-$$
	echo top-secret >"$secret"
	out=$(run_in base "cat $secret 2>&1; ls /work 2>&1; ls /root 2>&1 | wc -l; test -e /etc/shadow && echo shadow-visible; echo done")
	rm -f "$secret"
	case $out in *top-secret*) fail "host file readable inside" ;; esac
	case $out in *shadow-visible*) fail "/etc/shadow visible" ;; esac
	expect_contains "$out" "No such file"
	expect_contains "$out" "done"
}

t_writes_reach_neither_template_nor_host() {
	name="evoclaw-write-$$"
	run_in base "echo x > /tmp/$name; echo x > /home/user/$name; echo x > /etc/$name 2>/dev/null || true; mkdir -p /var/tmp/$name"
	for p in "/tmp/$name" "/etc/$name" "/home/user/$name" "/var/tmp/$name" \
		"$EVOCLAW_BUILD/rootfs/base/tmp/$name" "$EVOCLAW_BUILD/rootfs/base/home/user/$name" \
		"$EVOCLAW_BUILD/rootfs/base/etc/$name"; do
		[ ! -e "$p" ] || fail "$p exists on the host"
	done
	# Nor another sandbox.
	out=$(run_in base "ls /tmp /home/user")
	case $out in *"$name"*) fail "a later sandbox sees the file" ;; esac
	# The host's /usr layer is read-only inside.
	expect_status 1 run_in base "touch /usr/bin/$name 2>/dev/null"
	[ ! -e "/usr/bin/$name" ] || fail "wrote into the host's /usr"
}

t_home_and_user() {
	out=$(run_in base 'id -u; id -un; pwd; echo hi > ~/f && cat ~/f; ls -ld /tmp | cut -c1-10')
	expect_eq "1000
user
/home/user
hi
drwxrwxrwt" "$out"
}

t_exit_status_and_signals() {
	expect_status 0 run_in minimal 'exit 0'
	expect_status 42 run_in minimal 'exit 42'
	expect_status 143 run_in minimal 'kill -TERM $$'
	err=$(ev sandbox run --template minimal -- /no/such/program 2>&1 >/dev/null; echo "rc=$?")
	expect_contains "$err" "/no/such/program"
	expect_contains "$err" "rc=127"
}

t_stdout_stderr_and_stdin() {
	out=$(ev sandbox run --template minimal -- /bin/sh -c 'echo out; echo err >&2' 2>/dev/null)
	expect_eq out "$out"
	out=$(ev sandbox run --template minimal -- /bin/sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)
	expect_eq err "$out"
	out=$(printf 'line1\nline2\n' | ev sandbox run -i --template minimal -- /bin/sh -c 'wc -l')
	expect_eq 2 "$(echo $out)"
	# Large output arrives whole and in order.
	sum_in=$(ev sandbox run --template minimal -- /bin/sh -c 'seq 1 200000' | md5sum)
	sum_ref=$(seq 1 200000 | md5sum)
	expect_eq "$sum_ref" "$sum_in" "200k lines"
}

t_env_passed() {
	out=$(ev sandbox run --template minimal --env FOO=bar --env 'X=a b' -- /bin/sh -c 'echo "$FOO|$X|$HOME|$USER"')
	expect_eq "bar|a b|/home/user|user" "$out"
}

t_memory_hog_is_oom_killed() {
	set +e
	err=$(ev sandbox run --template minimal --memory 32 -- /bin/sh -c 'x=$(head -c 300000000 /dev/zero | tr "\\0" a); echo ${#x}' 2>&1)
	rc=$?
	set -e
	expect_eq 137 "$rc" "exit status"
	expect_contains "$err" "out of memory"
}

t_fork_bomb_is_contained() {
	id=$(ev sandbox create --template minimal --pids 64 --cpu 0.5 --timeout 60)
	# The bomb runs in the background inside; exec returns at once.
	ev sandbox exec "$id" -- /bin/sh -c 'b() { b | b & }; b' >/dev/null 2>&1 || true
	start=$(now_ms)
	# The host still forks and runs commands promptly while it rages.
	for i in 1 2 3 4 5; do /bin/true; done
	sh -c 'echo host-alive' | grep -q host-alive
	stats=$(ev sandbox stats "$id" --json)
	pids=$(echo "$stats" | sed 's/.*"pids":\([0-9]*\).*/\1/')
	[ "$pids" -le 64 ] || fail "pids $pids above the limit"
	ev sandbox kill "$id"
	elapsed=$(( $(now_ms) - start ))
	echo "fork bomb: $pids pids inside, host checks + kill in ${elapsed} ms"
	[ "$(count_cgroups_for "$id")" -eq 0 ] || fail "cgroup left"
}

count_cgroups_for() { find /sys/fs/cgroup -type d -name "$1" 2>/dev/null | wc -l; }

t_timeout_kills_within_one_second() {
	start=$(now_ms)
	id=$(ev sandbox create --template minimal --timeout 2 -- /bin/sleep 1000)
	# attach follows the entrypoint's output until the sandbox ends.
	set +e
	ev sandbox attach "$id" >/dev/null 2>&1
	set -e
	elapsed=$(( $(now_ms) - start ))
	echo "timeout 2 s: sandbox gone after ${elapsed} ms"
	[ "$elapsed" -ge 1000 ] && [ "$elapsed" -le 3000 ] || fail "ended after $elapsed ms"
	[ ! -e "$EVOCLAW_RUN_DIR/sandboxes/$id" ] || fail "state dir left"
	[ "$(count_cgroups_for "$id")" -eq 0 ] || fail "cgroup left"
	expect_status 125 ev sandbox exec "$id" -- /bin/true
}

t_run_timeout() {
	start=$(now_ms)
	expect_status 124 ev sandbox run --template minimal --timeout 1 -- /bin/sleep 100
	elapsed=$(( $(now_ms) - start ))
	[ "$elapsed" -le 2500 ] || fail "run --timeout 1 took $elapsed ms"
}

t_create_exec_ls_kill() {
	id=$(ev sandbox create --template base --memory 128 -- /bin/sleep 1000)
	ev sandbox ls | grep -q "^$id .*base" || fail "not listed"
	ev sandbox ls --json | grep -q "\"id\":\"$id\"" || fail "not in json"
	out=$(ev sandbox exec "$id" -- /bin/bash -c 'echo hello > /tmp/f; cat /tmp/f; id -u')
	expect_eq "hello
1000" "$out"
	# State persists between execs, and root is available on request.
	out=$(ev sandbox exec --user root "$id" -- /bin/sh -c 'cat /tmp/f; id -u')
	expect_eq "hello
0" "$out"
	out=$(echo piped | ev sandbox exec -i "$id" -- /bin/cat)
	expect_eq piped "$out"
	expect_status 3 ev sandbox exec "$id" -- /bin/sh -c 'exit 3'
	out=$(ev sandbox exec --cwd /tmp --env A=1 "$id" -- /bin/sh -c 'echo $PWD $A')
	expect_eq "/tmp 1" "$out"
	ev sandbox stats "$id" | grep -q "memory" || fail "stats"
	ev sandbox timeout "$id" 100
	ev sandbox kill "$id"
	[ ! -e "$EVOCLAW_RUN_DIR/sandboxes/$id" ] || fail "state dir left after kill"
	ev sandbox ls | grep -q "^$id" && fail "still listed after kill"
	expect_status 125 ev sandbox kill "$id"
}

t_attach_replays_output() {
	id=$(ev sandbox create --template minimal -- /bin/sh -c 'echo first; exec sleep 1000')
	fifo=$(mktemp -u /tmp/evoclaw-fifo.XXXXXX)
	mkfifo "$fifo"
	ev sandbox attach "$id" >"$fifo" &
	pid=$!
	exec 3<"$fifo"
	rm -f "$fifo"
	# Blocks until attach relays the entrypoint's first line (replayed
	# from the log or live, whichever comes first).
	read -r line <&3
	expect_eq first "$line"
	ev sandbox kill "$id"
	set +e
	wait $pid
	rc=$?
	set -e
	exec 3<&-
	expect_eq 125 "$rc" "attach status when the sandbox is killed"
}

t_supervisor_crash_is_cleaned_up() {
	id=$(ev sandbox create --template minimal -- /bin/sleep 1000)
	sup=$(sed 's/.*"supervisor_pid":\([0-9]*\).*/\1/' "$EVOCLAW_RUN_DIR/sandboxes/$id/state.json")
	kill -9 "$sup"
	# init dies with its supervisor (parent-death signal); ls cleans up.
	ev sandbox ls >/dev/null
	[ ! -e "$EVOCLAW_RUN_DIR/sandboxes/$id" ] || fail "state dir left"
	[ "$(count_cgroups_for "$id")" -eq 0 ] || fail "cgroup left"
	expect_status 125 ev sandbox exec "$id" -- /bin/true
}

t_bad_input_is_one_clear_line() {
	check_bad() {
		want=$1; shift
		set +e
		err=$("$EVOCLAW" "$@" 2>&1 >/dev/null)
		rc=$?
		set -e
		[ "$rc" -ne 0 ] || fail "[$*] succeeded"
		[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "[$*] printed more than one line: $err"
		expect_contains "$err" "$want"
	}
	check_bad 'unknown template "nope"' sandbox run --template nope -- /bin/true
	check_bad 'available: base' sandbox run --template nope -- /bin/true
	check_bad '--memory' sandbox run --memory 1 -- /bin/true
	check_bad '--memory' sandbox run --memory lots -- /bin/true
	check_bad '--pids' sandbox run --pids 0 -- /bin/true
	check_bad '--cpu' sandbox run --cpu 999 -- /bin/true
	check_bad 'no command' sandbox run --template minimal
	check_bad 'no sandbox' sandbox exec zzzzdead -- /bin/true
	check_bad 'no sandbox' sandbox kill zzzzdead
	check_bad 'invalid sandbox id' sandbox kill '../etc'
	check_bad 'unknown command' sandbox frobnicate
	check_bad '--env' sandbox run --env NOEQUALS -- /bin/true
	check_bad 'unknown command' frobnicate
}

t_help_everywhere() {
	ev --help | grep -q "sandbox"
	ev sandbox --help | grep -q "run \[options\]"
	ev sandbox run --help | grep -q -- "--memory"
	ev sandbox create --help | grep -q -- "--timeout"
	ev sandbox exec --help | grep -q "exec"
	ev sandbox --help | grep -q "pause ID"
	ev sandbox templates | grep -q "^minimal"
}

t_no_leak_after_1000_cycles() {
	n=${EVOCLAW_LEAK_CYCLES:-1000}
	# The pools are caches, kept full on purpose: empty them (this waits
	# for refills in flight) so the counts see only what cycles leave.
	ev sandbox pool drain >/dev/null
	m0=$(count_mounts); c0=$(count_cgroups); p0=$(count_processes); r0=$(count_rundir)
	f0=$(awk '{print $1}' /proc/sys/fs/file-nr)
	for i in $(seq 1 "$n"); do
		id=$("$EVOCLAW" sandbox create --template minimal --timeout 60)
		"$EVOCLAW" sandbox kill "$id"
	done
	ev sandbox pool drain >/dev/null
	m1=$(count_mounts); c1=$(count_cgroups); p1=$(count_processes); r1=$(count_rundir)
	f1=$(awk '{print $1}' /proc/sys/fs/file-nr)
	echo "after $n create/kill cycles: mounts $m0->$m1 cgroups $c0->$c1 processes $p0->$p1 rundir $r0->$r1 open files $f0->$f1"
	expect_eq "$m0" "$m1" "host mounts"
	expect_eq "$c0" "$c1" "cgroups"
	expect_eq "$p0" "$p1" "evoclaw processes"
	expect_eq "$r0" "$r1" "runtime dir entries"
	# The system-wide count moves with unrelated activity (a compiler
	# running meanwhile was seen to add 114); a leak of one descriptor per
	# cycle would show as the number of cycles.
	[ $((f1 - f0)) -lt $((n / 2)) ] || fail "open files grew by $((f1 - f0)) over $n cycles"
}

t_netns_pool() {
	ev sandbox pool drain >/dev/null
	expect_eq "0 network namespaces ready (refilled to 8 below 4)" "$(ev sandbox pool | head -1)"
	ev sandbox pool fill 3 | grep -q "added 3; 3 ready"
	# A pooled namespace is used once: two sandboxes never share one, and
	# each has only lo, up, and cannot reconfigure it.
	a=$(run_in minimal 'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "; readlink /proc/self/ns/net')
	b=$(run_in minimal 'readlink /proc/self/ns/net')
	[ "$(echo "$a" | tail -1)" != "$b" ] || fail "two sandboxes share a network namespace"
	expect_eq lo "$(echo "$a" | head -1)"
	out=$(run_in minimal 'ip link set lo down 2>&1; ip link show lo')
	expect_contains "$out" "Operation not permitted"
	expect_contains "$out" "UP"
	# Without the pool, sandboxes still get their own namespace.
	out=$(EVOCLAW_NETNS_POOL=0 ev sandbox run --template minimal -- /bin/sh -c 'ip link show lo')
	expect_contains "$out" "UP"
	ev sandbox pool drain | grep -q "removed"
	expect_eq 0 "$(grep -c " $EVOCLAW_RUN_DIR/netns/" /proc/self/mountinfo)" "pool mounts after drain"
}

t_warm_pool() {
	ev sandbox pool drain >/dev/null
	p0=$(count_processes)
	ev sandbox pool warm minimal 2 | grep -q "added 2 warm minimal"
	warm=$(ev sandbox ls | awk '$3 == "warm" {print $1}' | sort)
	expect_eq 2 "$(echo "$warm" | wc -l)" "warm sandboxes listed"
	# Nobody can use one before run claims it, so it is handed out pristine.
	err=$(ev sandbox exec "$(echo "$warm" | head -1)" -- /bin/true 2>&1 || true)
	expect_contains "$err" "warm sandbox is kept unused"
	# run takes one of them, runs the command as the template's user with
	# its environment, and passes the exit status through.
	out=$(ev sandbox run --template minimal --env A=b -- /bin/sh -c 'echo "$HOSTNAME $(id -u) $PWD $A $USER"; cat /proc/1/comm; exit 7' || echo "rc=$?")
	used=$(echo "$out" | head -1 | cut -d' ' -f1)
	echo "$warm" | grep -qx "$used" || fail "run did not use a warm sandbox ($used not in: $warm)"
	expect_eq "$used 1000 /home/user b user
evoclaw-init
rc=7" "$out"
	# stdin, signals and timeouts work the same way.
	expect_eq 3 "$(printf 'a\nb\nc\n' | ev sandbox run -i --template minimal -- /bin/sh -c 'wc -l' | tr -d ' ')"
	expect_status 143 ev sandbox run --template minimal -- /bin/sh -c 'kill -TERM $$'
	expect_status 124 ev sandbox run --template minimal --timeout 1 -- /bin/sleep 100
	# The command rides on the claim; one near the size limit still runs.
	big=$(head -c 100000 /dev/zero | tr '\0' x)
	expect_eq 100000 "$(ev sandbox run --template minimal -- /bin/sh -c 'echo ${#1}' sh "$big")"
	# A claimed sandbox's state is published a moment after its command
	# starts: `ls` stops showing the idle deadline while it runs.
	ev sandbox run --template minimal -- /bin/sleep 2 &
	runner=$!
	claimed=""
	for _ in $(seq 40); do
		claimed=$(ev sandbox ls | awk '$3 == "running" && $5 == "never" {print $1}')
		[ -n "$claimed" ] && break
		sleep 0.05
	done
	wait "$runner"
	[ -n "$claimed" ] || fail "a claimed warm sandbox still shows its idle deadline"
	# A used sandbox is gone once its run ends: drain waits for it, and for
	# the refills it starts, then nothing of the pool remains.
	ev sandbox pool drain >/dev/null
	expect_status 125 ev sandbox exec "$used" -- /bin/true
	expect_eq 0 "$(ls "$EVOCLAW_RUN_DIR/sandboxes" | wc -l)" "sandboxes after drain"
	expect_eq "$p0" "$(count_processes)" "evoclaw processes after drain"
}

t_cold_path_without_pools() {
	export EVOCLAW_WARM_POOL=0 EVOCLAW_NETNS_POOL=0
	ev sandbox pool drain >/dev/null
	out=$(run_in minimal 'cat /proc/1/comm; grep CapEff /proc/self/status; ip link show lo | head -1; tail -n +3 /proc/net/dev | wc -l')
	expect_contains "$out" "evoclaw-init"
	expect_contains "$out" "CapEff:	0000000000000000"
	expect_contains "$out" "UP"
	expect_eq 1 "$(echo "$out" | tail -1)" "interfaces"
	expect_status 42 run_in minimal 'exit 42'
	set +e
	err=$(ev sandbox run --template minimal --memory 32 -- /bin/sh -c 'x=$(head -c 300000000 /dev/zero | tr "\\0" a)' 2>&1)
	rc=$?
	set -e
	expect_eq 137 "$rc"
	expect_contains "$err" "out of memory"
	expect_contains "$(ev sandbox pool)" "0 warm sandboxes ready"
}

t_processes_end_with_their_client() {
	id=$(ev sandbox create --template minimal --timeout 60)
	fifo=$(mktemp -u /tmp/evoclaw-fifo.XXXXXX)
	mkfifo "$fifo"
	"$EVOCLAW" sandbox exec "$id" -- /bin/sh -c 'echo started; while :; do sleep 1; done' >"$fifo" &
	client=$!
	exec 3<"$fifo"
	rm -f "$fifo"
	read -r line <&3
	expect_eq started "$line"
	kill -9 "$client"
	wait "$client" 2>/dev/null || true
	exec 3<&-
	# The client is gone, so is its process (the supervisor kills it);
	# wait for that inside the sandbox, bounded.
	out=$(ev sandbox exec "$id" -- /bin/sh -c 'for i in $(seq 1 500); do ps -o args | grep -q "[w]hile :" || { echo gone; exit 0; }; usleep 10000; done; echo still-running')
	expect_eq gone "$out"
	# And a new client gets a clean stream space.
	expect_eq hi "$(ev sandbox exec "$id" -- /bin/echo hi)"
	ev sandbox kill "$id"
}

t_sandboxes_do_not_share_per_user_limits() {
	a=$(ev sandbox create --template python --timeout 60)
	b=$(ev sandbox create --template python --timeout 60)
	map_a=$(ev sandbox exec "$a" -- cat /proc/self/uid_map | awk '{print $2}')
	map_b=$(ev sandbox exec "$b" -- cat /proc/self/uid_map | awk '{print $2}')
	[ "$map_a" != "$map_b" ] || fail "both sandboxes map onto host ids from $map_a"
	[ "$map_a" -ge 1000000 ] || fail "host id range starts at $map_a"
	# inotify instances are limited per host user: A takes all it can...
	fifo=$(mktemp -u /tmp/evoclaw-fifo.XXXXXX)
	mkfifo "$fifo"
	"$EVOCLAW" sandbox exec "$a" -- python3 -c '
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
n = 0
while libc.inotify_init() >= 0:
    n += 1
print("held", n, flush=True)
time.sleep(60)' >"$fifo" &
	holder=$!
	exec 3<"$fifo"
	rm -f "$fifo"
	read -r line <&3
	expect_contains "$line" "held"
	# ...and B still gets one, and so does root on the host (the kernel
	# charges these to the user namespace's owner, its own host id).
	out=$(ev sandbox exec "$b" -- python3 -c 'import ctypes; print(ctypes.CDLL(None).inotify_init() >= 0)')
	expect_eq True "$out"
	expect_eq True "$(python3 -c 'import ctypes; print(ctypes.CDLL(None).inotify_init() >= 0)')" "host root"
	ev sandbox kill "$a" "$b"
	wait "$holder" 2>/dev/null || true
	exec 3<&-
	expect_eq 0 "$(ls "$EVOCLAW_RUN_DIR/idranges" | wc -l)" "id ranges left after kill"
}

# wait_until MS CMD...: poll until CMD succeeds; fails after MS ms.
wait_until() {
	limit=$1; shift
	end=$(( $(now_ms) + limit ))
	until "$@"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.01
	done
}

# json_number FIELD JSON: the value of a numeric field of a flat object.
json_number() { echo "$2" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
cpu_of() { json_number cpu_usec "$(ev sandbox stats "$1" --json)"; }
state_of() { ev sandbox ls | awk -v id="$1" '$1 == id {print $3}'; }
# Host pids of every process in a sandbox (its cgroup, whichever hierarchy).
pids_of() { cat "$(find /sys/fs/cgroup -type d -name "$1" 2>/dev/null | head -1)/cgroup.procs"; }
gone() { [ ! -e "$EVOCLAW_RUN_DIR/sandboxes/$1" ] && [ "$(count_cgroups_for "$1")" -eq 0 ]; }

t_pause_freezes_and_resume_continues() {
	id=$(ev sandbox create --template minimal --timeout 60 -- /bin/sh -c 'i=0; while :; do i=$((i+1)); echo $i; usleep 2000; done')
	# The loop counts into the entrypoint's log, which the host can read
	# while the sandbox is frozen.
	log=$EVOCLAW_RUN_DIR/sandboxes/$id/output.log
	counter() { tail -n 1 "$log"; }
	counter_above() { [ "$(counter)" -gt "$1" ] 2>/dev/null; }
	cpu_above() { [ "$(cpu_of "$id")" -gt "$1" ]; }
	wait_until 5000 counter_above 3 || fail "the loop never ran"
	ev sandbox pause "$id"
	expect_eq paused "$(state_of "$id")" "ls state"
	expect_contains "$(ev sandbox ls --json)" "\"id\":\"$id\",\"template\":\"minimal\",\"state\":\"paused\""
	expect_contains "$(ev sandbox inspect "$id")" '"state":"paused"'
	c1=$(counter); cpu1=$(cpu_of "$id")
	# Not a wait for anything: the window in which nothing may move.
	sleep 0.5
	expect_eq "$c1" "$(counter)" "counter while paused"
	expect_eq "$cpu1" "$(cpu_of "$id")" "CPU time while paused"
	set +e
	err=$(ev sandbox pause "$id" 2>&1); rc=$?
	set -e
	[ $rc -ne 0 ] || fail "a second pause succeeded"
	expect_contains "$err" "already paused"
	# Requests for the sandbox's processes are refused at once, saying why.
	start=$(now_ms)
	set +e
	err=$(ev sandbox exec "$id" -- /bin/echo ran 2>&1); rc=$?
	set -e
	elapsed=$(( $(now_ms) - start ))
	[ $rc -ne 0 ] || fail "exec ran in a paused sandbox: $err"
	expect_contains "$err" "paused; resume it first"
	[ "$elapsed" -lt 2000 ] || fail "exec took $elapsed ms to be refused"
	ev sandbox resume "$id"
	expect_eq running "$(state_of "$id")" "ls state after resume"
	wait_until 5000 counter_above "$c1" || fail "the counter stayed at $c1 after resume"
	wait_until 5000 cpu_above "$cpu1" || fail "no CPU used after resume"
	expect_eq ran "$(ev sandbox exec "$id" -- /bin/echo ran)"
	set +e
	err=$(ev sandbox resume "$id" 2>&1); rc=$?
	set -e
	[ $rc -ne 0 ] || fail "resuming a running sandbox succeeded"
	expect_contains "$err" "not paused"
	ev sandbox kill "$id"
}

t_paused_sandbox_does_not_time_out() {
	a=$(ev sandbox create --template minimal --timeout 2)
	ev sandbox pause "$a"
	b=$(ev sandbox create --template minimal --timeout 2)
	ev sandbox pause "$b"
	c=$(ev sandbox create --template minimal --timeout 2)
	ev sandbox pause "$c"
	left=$(json_number remaining_ms "$(ev sandbox inspect "$a")")
	[ "$left" -gt 1000 ] && [ "$left" -le 2000 ] || fail "remaining_ms $left"
	expect_eq 0 "$(json_number deadline_ms "$(ev sandbox inspect "$a")")" "deadline while paused"
	# While paused, a new timeout counts from the resume.
	ev sandbox timeout "$b" 1
	expect_eq 1000 "$(json_number remaining_ms "$(ev sandbox inspect "$b")")" "remaining after timeout"
	# Well past all three deadlines: the window in which none may end.
	sleep 3
	for id in "$a" "$b" "$c"; do
		expect_eq paused "$(state_of "$id")" "$id past its deadline"
	done
	# Resumed, each ends when the time it had left has run out (+-1 s):
	# attach follows it until then.
	ends_after() {
		start=$(now_ms)
		ev sandbox resume "$@"
		ev sandbox attach "$1" >/dev/null 2>&1 || true
		echo $(( $(now_ms) - start ))
	}
	ms=$(ends_after "$a")
	echo "a: ended ${ms} ms after its resume, with ${left} ms left"
	[ "$ms" -ge $((left - 1000)) ] && [ "$ms" -le $((left + 1000)) ] || fail "a ended after $ms ms"
	ms=$(ends_after "$b")
	echo "b (timeout 1 s set while paused): ended ${ms} ms after its resume"
	[ "$ms" -le 2000 ] || fail "b ended after $ms ms"
	ms=$(ends_after "$c" --timeout 1)
	echo "c (resume --timeout 1): ended ${ms} ms after its resume"
	[ "$ms" -le 2000 ] || fail "c ended after $ms ms"
	for id in "$a" "$b" "$c"; do
		wait_until 5000 gone "$id" || fail "$id left state or cgroups behind"
	done
}

t_paused_sandbox_ends_without_leftovers() {
	ev sandbox pool drain >/dev/null
	c0=$(count_cgroups); p0=$(count_processes); r0=$(count_rundir)
	at_least() { [ "$(pids_of "$1" | wc -l)" -ge "$2" ]; }
	# kill: every process of the frozen sandbox dies, nothing is left.
	id=$(ev sandbox create --template minimal --timeout 60 -- /bin/sh -c 'sleep 1000 & sleep 1000 & (sleep 1000 &); exec sleep 1000')
	wait_until 5000 at_least "$id" 5 || fail "the entrypoint's processes did not start"
	pids=$(pids_of "$id")
	ev sandbox pause "$id"
	start=$(now_ms)
	ev sandbox kill "$id"
	echo "kill of a paused sandbox: $(( $(now_ms) - start )) ms"
	for p in $pids; do [ ! -e "/proc/$p" ] || fail "process $p outlived the kill"; done
	gone "$id" || fail "state or cgroups left after the kill"
	# SIGTERM to its supervisor: the same teardown.
	id=$(ev sandbox create --template minimal --timeout 60 -- /bin/sleep 1000)
	ev sandbox pause "$id"
	sup=$(json_number supervisor_pid "$(ev sandbox inspect "$id")")
	kill -TERM "$sup"
	wait_until 10000 gone "$id" || fail "SIGTERM: state or cgroups left"
	# kill -9 of its supervisor: init's parent-death SIGKILL waits in the
	# freezer; the next ls kills, thaws and removes what is left.
	id=$(ev sandbox create --template minimal --timeout 60 -- /bin/sh -c 'sleep 1000 & exec sleep 1000')
	wait_until 5000 at_least "$id" 3 || fail "the entrypoint's processes did not start"
	pids=$(pids_of "$id")
	ev sandbox pause "$id"
	sup=$(json_number supervisor_pid "$(ev sandbox inspect "$id")")
	kill -9 "$sup"
	gone_processes() { for p in $pids; do [ ! -e "/proc/$p" ] || return 1; done; }
	ev sandbox ls >/dev/null
	wait_until 5000 gone_processes || fail "processes left after kill -9 and ls: $pids"
	gone "$id" || fail "kill -9: state or cgroups left after ls"
	# And pause/kill cycles leave nothing behind.
	for i in $(seq 1 20); do
		id=$("$EVOCLAW" sandbox create --template minimal --timeout 60)
		"$EVOCLAW" sandbox pause "$id"
		"$EVOCLAW" sandbox kill "$id"
	done
	ev sandbox pool drain >/dev/null
	c1=$(count_cgroups); p1=$(count_processes); r1=$(count_rundir)
	echo "after pause/kill cycles: cgroups $c0->$c1 processes $p0->$p1 rundir $r0->$r1"
	expect_eq "$c0" "$c1" "cgroups"
	expect_eq "$p0" "$p1" "evoclaw processes"
	expect_eq "$r0" "$r1" "runtime dir entries"
}

t_pause_refusals() {
	ev sandbox pool drain >/dev/null
	ev sandbox pool warm minimal 1 | grep -q "added 1 warm minimal"
	warm=$(ev sandbox ls | awk '$3 == "warm" {print $1}' | head -1)
	set +e
	err=$(ev sandbox pause "$warm" 2>&1); rc=$?
	set -e
	[ $rc -ne 0 ] || fail "a warm sandbox was paused"
	expect_contains "$err" "warm sandbox"
	expect_eq warm "$(state_of "$warm")" "state after the refused pause"
	ev sandbox pool drain >/dev/null
	for cmd in pause resume; do
		set +e
		err=$(ev sandbox $cmd zzzzdead 2>&1); rc=$?
		set -e
		expect_eq 125 "$rc" "$cmd of a missing sandbox"
		expect_contains "$err" "no sandbox"
	done
	expect_status 2 ev sandbox resume
	expect_status 2 ev sandbox resume zzzzdead --timeout 0
}
