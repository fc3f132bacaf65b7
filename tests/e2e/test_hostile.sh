# Hostile sandboxes (issue 5 §3; threat model in docs/security.md): attacks
# run from inside a sandbox, as root of the sandbox where that is the
# stronger position, each asserted to fail with the host untouched. (The
# attacks test_sandbox.sh already makes — mount, unshare, ptrace, keyctl,
# bpf, pivot_root, chroot, host processes and files, memory and fork
# bombs — are not repeated here.)

# as_root ID SCRIPT: run a bash script as root in sandbox ID.
as_root() { ev sandbox exec --user root "$1" -- /bin/bash -c "$2"; }

hostile_sandbox() { ev sandbox create --template base --timeout 120 "$@"; }

t_attack_kernel_tunables_and_sys() {
	id=$(hostile_sandbox)
	before=$(hostname)
	out=$(as_root "$id" '
for f in /proc/sys/kernel/hostname /proc/sys/vm/drop_caches /proc/sys/kernel/panic \
	/proc/sysrq-trigger /sys/kernel/mm/transparent_hugepage/enabled /sys/power/state; do
	if echo 1 2>/dev/null > "$f"; then echo "WROTE $f"; else echo "refused $f"; fi
done')
	ev sandbox kill "$id"
	case $out in *WROTE*) fail "a kernel setting was written: $out" ;; esac
	expect_eq 6 "$(printf '%s\n' "$out" | grep -c '^refused')"
	expect_eq "$before" "$(hostname)" "the host's hostname"
}

t_attack_perf_userfaultfd_and_io_uring() {
	id=$(hostile_sandbox)
	out=$(as_root "$id" "python3 -c '
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for name, nr, args in ((\"perf_event_open\", 298, (0, 0, -1, -1, 0)),
                       (\"userfaultfd\", 323, (0,)),
                       (\"io_uring_setup\", 425, (8, 0)),
                       (\"kexec_load\", 246, (0, 0, 0, 0)),
                       (\"init_module\", 175, (0, 0, 0))):
    r = libc.syscall(nr, *args)
    print(name, \"ALLOWED\" if r >= 0 else \"errno%d\" % ctypes.get_errno())
'")
	ev sandbox kill "$id"
	case $out in *ALLOWED*) fail "a syscall went through: $out" ;; esac
	for call in perf_event_open userfaultfd init_module kexec_load; do
		expect_contains "$out" "$call errno1"
	done
	expect_contains "$out" "io_uring_setup errno"
}

t_attack_setuid_binaries_gain_nothing() {
	id=$(hostile_sandbox)
	# Root of the sandbox makes a setuid-root shell; the user runs it.
	as_root "$id" 'cp /bin/bash /tmp/rootsh && chmod 4755 /tmp/rootsh && ls -l /tmp/rootsh' >/dev/null
	out=$(ev sandbox exec "$id" -- /tmp/rootsh -p -c 'id -u; id -ru')
	expect_eq "1000
1000" "$out" "setuid gave nothing"
	# Nor do the host's own setuid binaries (mounted read-only from /usr).
	su_out=$(ev sandbox exec "$id" -- /bin/bash -c 'for b in /usr/bin/su /usr/bin/passwd /usr/bin/mount; do [ -u "$b" ] && { "$b" --help >/dev/null 2>&1; id -u; }; done; echo end' 2>&1)
	printf '%s\n' "$su_out" | grep -qx 0 && fail "a host setuid binary made root: $su_out"
	expect_contains "$su_out" "end"
	out=$(ev sandbox exec "$id" -- /bin/bash -c 'grep NoNewPrivs /proc/self/status')
	expect_contains "$out" "1"
	ev sandbox kill "$id"
}

t_attack_device_nodes() {
	id=$(hostile_sandbox)
	out=$(as_root "$id" '
mknod /tmp/sda b 8 0 2>/dev/null && echo MADE-BLOCK
mknod /tmp/kmem c 1 2 2>/dev/null && echo MADE-CHAR
ls /dev | tr "\n" " "
for d in /dev/sda /dev/vda /dev/mem /dev/kmem /dev/port /dev/kmsg; do [ -e "$d" ] && echo "HAS $d"; done
echo end')
	ev sandbox kill "$id"
	case $out in *MADE-*|*HAS\ *) fail "device access: $out" ;; esac
	expect_contains "$out" "end"
}

t_attack_raw_sockets() {
	id=$(hostile_sandbox)
	out=$(as_root "$id" "python3 -c '
import socket
for name, args in ((\"raw_icmp\", (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)),
                   (\"raw_tcp\", (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)),
                   (\"packet\", (socket.AF_PACKET, socket.SOCK_RAW, 0))):
    try:
        socket.socket(*args); print(name, \"OPENED\")
    except OSError as e:
        print(name, \"refused\", e.errno)
'")
	ev sandbox kill "$id"
	case $out in *OPENED*) fail "a raw socket: $out" ;; esac
	expect_eq 3 "$(printf '%s\n' "$out" | grep -c refused)"
}

t_attack_network_to_host_orchestrator_and_neighbours() {
	# A service on the host's loopback (as the orchestrator's API is), and
	# one inside a neighbouring sandbox: neither is reachable.
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	python3 -m http.server --bind 127.0.0.1 "$port" >/dev/null 2>&1 &
	server=$!
	for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.01; done
	neighbour=$(hostile_sandbox)
	ev sandbox exec "$neighbour" -- /bin/bash -c "python3 -m http.server --bind 127.0.0.1 $port >/dev/null 2>&1 &" || true
	host_ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)
	id=$(hostile_sandbox)
	out=$(ev sandbox exec "$id" -- python3 -c "
import socket, sys
for host in ('127.0.0.1', '${host_ip:-10.255.255.1}', '1.1.1.1'):
    s = socket.socket(); s.settimeout(2)
    try:
        s.connect((host, $port)); print(host, 'CONNECTED')
    except OSError as e:
        print(host, 'unreachable', e.errno)
")
	ev sandbox kill "$id" "$neighbour"
	kill "$server"
	case $out in *CONNECTED*) fail "reached a service outside the sandbox: $out" ;; esac
	expect_eq 3 "$(printf '%s\n' "$out" | grep -c unreachable)"
}

t_attack_signals_to_the_outside() {
	sleep 300 &
	victim=$!
	id=$(hostile_sandbox)
	out=$(as_root "$id" "kill -9 $victim 2>&1; kill -9 -1 2>&1; echo sent")
	ev sandbox kill "$id"
	expect_contains "$out" "sent"
	kill -0 "$victim" || fail "a host process was killed from inside"
	kill "$victim"
}

t_attack_disk_exhaustion() {
	id=$(ev sandbox create --template base --disk 32 --memory 256 --timeout 120)
	host_free=$(df --output=avail / | tail -1)
	out=$(ev sandbox exec "$id" -- /bin/bash -c 'dd if=/dev/zero of=/tmp/fill bs=1M count=200 2>&1; du -sm /tmp/fill | cut -f1')
	expect_contains "$out" "No space left on device"
	used=$(printf '%s\n' "$out" | tail -1)
	[ "$used" -le 32 ] || fail "wrote ${used} MB past a 32 MB disk"
	# The sandbox still works, and the host's disk did not take it.
	expect_eq ok "$(ev sandbox exec "$id" -- /bin/bash -c 'rm /tmp/fill && echo ok')"
	ev sandbox kill "$id"
	now_free=$(df --output=avail / | tail -1)
	[ $((host_free - now_free)) -lt 100000 ] || fail "the host lost disk: $host_free -> $now_free KiB"
}
