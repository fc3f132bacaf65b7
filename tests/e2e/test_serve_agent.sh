# The edge agent (issue 7, in progress): bad settings, telemetry to the
# orchestrator over HTTP with its token, and MQTT to a real mosquitto.
# Uses test_serve.sh's helpers.

AGENT_BIN() { printf '%s\n' "$(dirname "$EVOCLAW")/evoclaw-agent"; }

t_agent_bad_settings_fail_cleanly() {
	a=$(AGENT_BIN)
	# Small: the seed's Rust agent is 3.2 MB; the target is 300 KB stripped
	# (the sanitizers' build carries their runtime: not measured).
	case $EVOCLAW_BUILD in
	*-san) ;;
	*)
		strip -o "$EVOCLAW_RUN_DIR.agent" "$a"
		size=$(stat -c %s "$EVOCLAW_RUN_DIR.agent"); rm -f "$EVOCLAW_RUN_DIR.agent"
		[ "$size" -le 307200 ] || fail "evoclaw-agent is $size bytes stripped" ;;
	esac
	run() { set +e; out=$(env -i PATH="$PATH" "$@" "$a" 2>&1 </dev/null); rc=$?; set -e; }
	run EVOCLAW_GENOME='{"strategy":"momentum","threshold":7}'
	expect_eq 2 "$rc"; expect_contains "$out" "EVOCLAW_GENOME.threshold: must be a number from 0 to 0.5"
	run EVOCLAW_GENOME='{"strategy":"moon"}'
	expect_eq 2 "$rc"; expect_contains "$out" 'EVOCLAW_GENOME.strategy: "moon" is not momentum or mean_reversion'
	run EVOCLAW_GENOME='not json'
	expect_eq 2 "$rc"; expect_contains "$out" "EVOCLAW_GENOME: not valid JSON"
	run EVOCLAW_PAPER_MODE=false
	expect_eq 2 "$rc"; expect_contains "$out" "live trading is not supported"
	run EVOCLAW_AGENT_TYPE=chef
	expect_eq 2 "$rc"; expect_contains "$out" 'EVOCLAW_AGENT_TYPE: "chef" is not an agent type'
	run EVOCLAW_AGENT_TYPE=coder
	expect_eq 2 "$rc"; expect_contains "$out" 'neither MQTT_BROKER nor ORCHESTRATOR_URL is set'
	run EVOCLAW_MARKET=/nonexistent.csv
	expect_eq 2 "$rc"; expect_contains "$out" "EVOCLAW_MARKET: cannot read /nonexistent.csv"
	run EVOCLAW_STEPS=1
	expect_eq 2 "$rc"; expect_contains "$out" "EVOCLAW_STEPS"
	run EVOCLAW_AGENT_TYPE=monitor
	expect_eq 2 "$rc"; expect_contains "$out" "EVOCLAW_MONITOR_ABOVE"
	# A broker nobody listens on: said, with its own exit status.
	port=$(free_port)
	run MQTT_BROKER=127.0.0.1 MQTT_PORT="$port"
	expect_eq 3 "$rc"; expect_contains "$out" "cannot reach the MQTT broker 127.0.0.1 (port $port)"
	# `evoclaw agent` is the same program.
	expect_contains "$("$EVOCLAW" agent --help)" "usage: evoclaw-agent"
	set +e; "$EVOCLAW" agent --bogus >/dev/null 2>&1; rc=$?; set -e
	expect_eq 2 "$rc"
}

# The token an agent was given, from its own output (the API never shows it).
agent_token() {
	for i in $(seq 1 500); do
		t=$(jget "$(body "$(api GET "/api/agents/$1/logs")")" '[l[6:] for l in d["lines"] if l.startswith("token=")][0] if any(l.startswith("token=") for l in d["lines"]) else ""')
		[ -n "$t" ] && { printf '%s\n' "$t"; return 0; }
		sleep 0.01
	done
	fail "agent $1 never printed its token"
}

t_agent_reports_to_the_orchestrator_over_http() {
	serve_with '{"cloud":{"maxAgents":10,"defaultTemplate":"minimal"},"pricing":{"usdPerToken":0.001}}'
	api POST /api/cloud/spawn '{"agent_id":"edge1","agent_type":"trader","command":["/bin/sh","-c","echo token=$EVOCLAW_AGENT_TOKEN; sleep 120"]}' >/dev/null
	wait_status edge1 running
	token=$(agent_token edge1)
	expect_eq 48 "${#token}"
	# The API never shows the token.
	api GET /api/agents/edge1 | grep -q "\"$token\"" && fail "the token is in the agent's JSON"
	# The agent paper-trades a generated market and reports as it goes.
	set +e
	out=$(env -i PATH="$PATH" EVOCLAW_AGENT_ID=edge1 EVOCLAW_AGENT_TOKEN="$token" ORCHESTRATOR_URL="$URL" \
		EVOCLAW_GENOME='{"strategy":"mean_reversion","window":25,"z_entry":1.5,"z_exit":0.3}' \
		EVOCLAW_MARKET=generated:7 EVOCLAW_STEPS=600 EVOCLAW_REPORT_EVERY=200 "$(AGENT_BIN)" 2>&1)
	rc=$?
	set -e
	expect_eq 0 "$rc"
	case $out in *"cannot report"*) fail "a report was refused: $out" ;; esac
	fitness=$(printf '%s\n' "$out" | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin if l.startswith("{")][-2]["fitness"])')
	a=$(body "$(api GET /api/agents/edge1)")
	# What it reported is on the agent: fitness, metrics, when it was seen, its log.
	expect_eq True "$(jget "$a" "str(abs(d['fitness'] - $fitness) < 1e-6)")"
	expect_eq 600 "$(jget "$a" 'd["metrics"]["step"]')"
	[ "$(jget "$a" 'd["last_seen_at"]')" != None ] || fail "never seen"
	expect_contains "$(jget "$a" 'd["log_tail"]')" "[evoclaw-agent info] done: pnl"
	# Tokens reported count toward its cost at once.
	before=$(jget "$a" 'd["cost_usd"]')
	out=$(curl -s -w '\n%{http_code}' -H "X-Agent-Token: $token" -H 'Content-Type: application/json' \
		-d '{"kind":"metrics","tokens_used":1000,"metrics":{"calls":3}}' "$URL/api/agents/edge1/telemetry")
	expect_eq 202 "$(status "$out")"
	after=$(jget "$(body "$(api GET /api/agents/edge1)")" 'd["cost_usd"]')
	expect_eq True "$(python3 -c "print($after - $before >= 1.0)")"
	# Only its own token, only for itself; bad reports name the field.
	tele() { curl -s -w '\n%{http_code}' -H "X-Agent-Token: $1" -H 'Content-Type: application/json' -d "$3" "$URL/api/agents/$2/telemetry"; }
	expect_eq 401 "$(status "$(tele wrong edge1 '{"kind":"heartbeat"}')")"
	expect_eq 401 "$(status "$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d '{"kind":"heartbeat"}' "$URL/api/agents/edge1/telemetry")")"
	api POST /api/cloud/spawn '{"agent_id":"edge2","command":["/bin/sh","-c","sleep 120"]}' >/dev/null
	expect_eq 401 "$(status "$(tele "$token" edge2 '{"kind":"heartbeat"}')")"
	expect_eq 401 "$(status "$(tele "$token" nobody '{"kind":"heartbeat"}')")"
	out=$(tele "$token" edge1 '{"kind":"fitness"}')
	expect_eq 400 "$(status "$out")"; expect_eq fitness "$(jget "$(body "$out")" 'd["error"]["field"]')"
	out=$(tele "$token" edge1 '{"kind":"log","message":"x","level":"loud"}')
	expect_eq level "$(jget "$(body "$out")" 'd["error"]["field"]')"
	out=$(tele "$token" edge1 '{"kind":"metrics","metrics":{"a":"b"}}')
	expect_eq metrics.a "$(jget "$(body "$out")" 'd["error"]["field"]')"
	# An ended agent's reports are refused as such (to itself only).
	api DELETE '/api/agents/edge1?terminate_only=true' >/dev/null
	expect_eq 409 "$(status "$(tele "$token" edge1 '{"kind":"heartbeat"}')")"
	api DELETE '/api/agents/edge2?terminate_only=true' >/dev/null
	serve_done
}

# broker_start: a real mosquitto on a free port (BROKER_PORT, BROKER_PID,
# BROKER_DIR) that wants a user and password: `evoclaw` may read agents'
# topics, `agent` may only publish to them. Persistent, so a restart keeps
# sessions and what was queued for them.
broker_start() {
	command -v mosquitto >/dev/null || fail "mosquitto is not installed (make deps)"
	BROKER_DIR=$(mktemp -d /tmp/evoclaw-mqtt.XXXXXX)
	BROKER_PORT=$(free_port)
	mosquitto_passwd -b -c "$BROKER_DIR/passwd" evoclaw orchpw 2>/dev/null
	mosquitto_passwd -b "$BROKER_DIR/passwd" agent s3cret 2>/dev/null
	printf 'user evoclaw\ntopic read evoclaw/agents/#\ntopic probe\nuser agent\ntopic write evoclaw/agents/#\n' \
		>"$BROKER_DIR/acl"
	mkdir "$BROKER_DIR/db"
	printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s/passwd\nacl_file %s/acl\npersistence true\npersistence_location %s/db/\n' \
		"$BROKER_PORT" "$BROKER_DIR" "$BROKER_DIR" "$BROKER_DIR" >"$BROKER_DIR/mosquitto.conf"
	# The broker drops root for its own user, who must read and write here.
	chmod 711 "$BROKER_DIR"
	chown -R mosquitto "$BROKER_DIR" 2>/dev/null || chmod -R a+rwX "$BROKER_DIR"
	broker_run
}
# broker_run: (re)start it on its port; back once it answers.
broker_run() {
	mosquitto -c "$BROKER_DIR/mosquitto.conf" >>"$BROKER_DIR/broker.log" 2>&1 &
	BROKER_PID=$!
	trap stop_test_processes EXIT
	for i in $(seq 1 500); do
		mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -u evoclaw -P orchpw -t probe -m x 2>/dev/null && return 0
		sleep 0.01
	done
	fail "the broker did not start: $(cat "$BROKER_DIR/broker.log")"
}
broker_stop() { kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true; }

t_agent_publishes_to_a_real_mosquitto() {
	broker_start
	dir=$BROKER_DIR port=$BROKER_PORT broker=$BROKER_PID
	mosquitto_sub -h 127.0.0.1 -p "$port" -u evoclaw -P orchpw -v -t 'evoclaw/agents/#' >"$dir/got" 2>&1 &
	sub=$!
	# Subscribed before the agent starts: a retained-free probe shows it.
	for i in $(seq 1 500); do
		mosquitto_pub -h 127.0.0.1 -p "$port" -u agent -P s3cret -t evoclaw/agents/probe/ready -m 1 || true
		grep -q "evoclaw/agents/probe/ready" "$dir/got" && break
		sleep 0.01
	done
	set +e
	env -i PATH="$PATH" EVOCLAW_AGENT_ID=mq1 MQTT_BROKER=127.0.0.1 MQTT_PORT="$port" \
		MQTT_USERNAME=agent MQTT_PASSWORD=s3cret EVOCLAW_STEPS=400 EVOCLAW_REPORT_EVERY=100 \
		"$(AGENT_BIN)" >"$dir/out" 2>&1
	rc=$?
	# The wrong password: refused, said, exit 3.
	out=$(env -i PATH="$PATH" EVOCLAW_AGENT_ID=mq2 MQTT_BROKER=127.0.0.1 MQTT_PORT="$port" \
		MQTT_USERNAME=agent MQTT_PASSWORD=nope "$(AGENT_BIN)" 2>&1)
	bad=$?
	set -e
	expect_eq 0 "$rc"
	for i in $(seq 1 500); do
		grep -q '^evoclaw/agents/mq1/fitness ' "$dir/got" && break
		sleep 0.01
	done
	kill $sub 2>/dev/null || true
	grep -q '^evoclaw/agents/mq1/heartbeat {' "$dir/got" || fail "no heartbeat: $(cat "$dir/got")"
	expect_eq 4 "$(grep -c '^evoclaw/agents/mq1/metrics {' "$dir/got")"
	grep -q '^evoclaw/agents/mq1/fitness {.*"fitness":' "$dir/got" || fail "no fitness: $(cat "$dir/got")"
	grep -q '^evoclaw/agents/mq1/log {.*paper trading 400 prices' "$dir/got" || fail "no log line"
	# What went to the broker is what it printed.
	expect_eq "$(grep '"kind":"fitness"' "$dir/out")" "$(sed -n 's|^evoclaw/agents/mq1/fitness ||p' "$dir/got")"
	[ "$bad" -ne 0 ] || fail "a wrong MQTT password was accepted"
	# With a token, each message is signed with it (HMAC-SHA256 of the
	# object before its "sig" member) and the token itself never travels.
	mosquitto_sub -h 127.0.0.1 -p "$port" -u evoclaw -P orchpw -v -t 'evoclaw/agents/signed/#' >"$dir/signed" 2>&1 &
	sub=$!
	for i in $(seq 1 500); do
		mosquitto_pub -h 127.0.0.1 -p "$port" -u agent -P s3cret -t evoclaw/agents/signed/ready -m 1 || true
		grep -q "evoclaw/agents/signed/ready" "$dir/signed" && break
		sleep 0.01
	done
	env -i PATH="$PATH" EVOCLAW_AGENT_ID=signed EVOCLAW_AGENT_TOKEN=tok-123 MQTT_BROKER=127.0.0.1 \
		MQTT_PORT="$port" MQTT_USERNAME=agent MQTT_PASSWORD=s3cret EVOCLAW_STEPS=200 "$(AGENT_BIN)" >/dev/null
	for i in $(seq 1 500); do
		grep -q '^evoclaw/agents/signed/fitness ' "$dir/signed" && break
		sleep 0.01
	done
	kill $sub 2>/dev/null || true
	grep -q tok-123 "$dir/signed" && fail "the token went to the broker"
	python3 - "$dir/signed" <<'PY'
import hashlib, hmac, sys
n = 0
for line in open(sys.argv[1]):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if topic.endswith("/ready"):
        continue
    body, sep, sig = payload.rpartition(',"sig":"')
    assert sep and sig.endswith('"}'), payload
    want = hmac.new(b"tok-123", (body + "}").encode(), hashlib.sha256).hexdigest()
    assert sig[:-2] == want, (payload, want)
    n += 1
assert n >= 3, n
PY
	kill $broker; wait $broker 2>/dev/null || true
	rm -rf "$dir"
}

# Sum of a metric's series from the server's /metrics whose labels
# contain all of LABELS (e.g. 'result="accepted"').
metric_sum() {
	curl -s "$URL/metrics" | python3 -c '
import sys
name, labels = sys.argv[1], sys.argv[2:]
total = 0.0
for line in sys.stdin:
    if line.startswith(name + "{") or line.startswith(name + " "):
        head, value = line.rsplit(" ", 1)
        if all(l in head for l in labels):
            total += float(value)
print(int(total))' "$@"
}

# wait_until SECONDS CMD...: poll CMD until it succeeds.
wait_until() {
	limit=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -lt "$limit" ] || fail "timed out waiting for: $*"
		sleep 0.02
	done
}

t_agent_in_its_sandbox_reaches_only_its_door() {
	# The default template is evoclaw-agent: the edge agent is the
	# entrypoint; it has no network, only the socket in /run/evoclaw.
	serve_with '{"cloud":{"maxAgents":10}}'
	api POST /api/cloud/spawn '{"agent_id":"sock1","agent_type":"trader","genome":{"strategy":"mean_reversion","window":25,"z_entry":1.5,"z_exit":0.3},
		"env":{"EVOCLAW_MARKET":"generated:7","EVOCLAW_STEPS":"600","EVOCLAW_REPORT_EVERY":"200"}}' >/dev/null
	wait_status sock1 completed
	a=$(body "$(api GET /api/agents/sock1)")
	expect_eq 0 "$(jget "$a" 'd["exit_code"]')"
	expect_eq 600 "$(jget "$a" 'd["metrics"]["step"]')"
	[ "$(jget "$a" 'd["last_seen_at"]')" != None ] || fail "never seen: $a"
	# The log line the orchestrator writes for a log report it took.
	expect_contains "$(jget "$a" 'd["log_tail"]')" "[evoclaw-agent info] done: pnl"
	# Its fitness is the one it printed.
	printed=$(jget "$(body "$(api GET '/api/agents/sock1/logs?tail=50')")" '[__import__("json").loads(l)["fitness"] for l in d["lines"] if l.startswith("{") and "\"kind\":\"fitness\"" in l][-1]')
	expect_eq True "$(jget "$a" "str(abs(d['fitness'] - $printed) < 1e-6)")"
	# A bad genome is refused when spawning, naming the field.
	out=$(api POST /api/cloud/spawn '{"agent_type":"trader","genome":{"strategy":"momentum","threshold":7}}')
	expect_eq 400 "$(status "$out")"
	expect_contains "$(body "$out")" "genome.threshold: must be a number from 0 to 0.5"
	# A coder stands by, beating, until stopped.
	api POST /api/cloud/spawn '{"agent_id":"stand1","agent_type":"coder","env":{"EVOCLAW_HEARTBEAT_SEC":"1"}}' >/dev/null
	seen() { [ "$(jget "$(body "$(api GET /api/agents/stand1)")" 'd["last_seen_at"]')" != None ]; }
	wait_until 10 seen
	# What else a sandbox of the template can reach: the door serves only
	# telemetry, only with the agent's own token; no TCP to the host.
	cat >"$DATA.probe" <<EOF
sock=\${ORCHESTRATOR_URL#unix:}
c() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "\$sock" "\$@"; }
t() { c -H "X-Agent-Token: \$EVOCLAW_AGENT_TOKEN" -H 'Content-Type: application/json' -d '{"kind":"heartbeat"}' "http://door/api/agents/\$1/telemetry"; }
echo list=\$(c -H 'X-API-Key: $KEY' http://door/api/agents)
echo own=\$(t "\$EVOCLAW_AGENT_ID") other=\$(t stand1)
curl -s -m 5 http://127.0.0.1:$PORT/healthz; echo tcp=\$?
EOF
	api POST /api/cloud/spawn "$(python3 -c 'import json,sys; print(json.dumps({"agent_id": "probe1", "command": ["/bin/sh", "-c", open(sys.argv[1]).read()]}))' "$DATA.probe")" >/dev/null
	wait_status probe1 completed
	lines=$(jget "$(body "$(api GET '/api/agents/probe1/logs?tail=20')")" '" ".join(d["lines"])')
	expect_contains "$lines" "list=404"
	expect_contains "$lines" "own=202"
	expect_contains "$lines" "other=401"
	# curl: 7, could not connect (only lo in its network namespace).
	expect_contains "$lines" "tcp=7"
	api DELETE '/api/agents/stand1?terminate_only=true' >/dev/null
	serve_done
}

t_agent_mqtt_through_the_relay_survives_a_broker_restart() {
	broker_start
	serve_with "{\"cloud\":{\"maxAgents\":10},\"mqtt\":{\"broker\":\"127.0.0.1\",\"port\":$BROKER_PORT,
		\"username\":\"evoclaw\",\"password\":\"orchpw\",\"agentUsername\":\"agent\",\"agentPassword\":\"s3cret\"}}"
	connected() { [ "$(metric_sum evoclaw_mqtt_connected)" = 1 ]; }
	wait_until 10 connected
	# Reports reach the orchestrator over MQTT (the agent has no HTTP route
	# when a broker is configured): through the relay in its sandbox.
	api POST /api/cloud/spawn '{"agent_id":"mq1","agent_type":"trader","env":{"EVOCLAW_STEPS":"600","EVOCLAW_REPORT_EVERY":"200"}}' >/dev/null
	wait_status mq1 completed
	done_logged() { expect_contains "$(jget "$(body "$(api GET /api/agents/mq1)")" 'd["log_tail"]')" "[evoclaw-agent info] done: pnl" 2>/dev/null; }
	wait_until 10 done_logged
	a=$(body "$(api GET /api/agents/mq1)")
	[ "$(jget "$a" 'd["fitness"]')" != None ] || fail "no fitness: $a"
	expect_eq 600 "$(jget "$a" 'd["metrics"]["step"]')"
	expect_eq 1 "$(metric_sum evoclaw_mqtt_reports_total 'result="accepted"' 'kind="fitness"')"
	[ "$(metric_sum evoclaw_mqtt_reports_total 'result="accepted"' 'kind="heartbeat"')" -ge 1 ] ||
		fail "no heartbeat arrived over MQTT"
	# Neither broker password is shown or logged.
	case "$a$(cat "$DATA.log")" in *orchpw*|*s3cret*) fail "an MQTT password leaked" ;; esac
	# Forged reports from another client of the broker are dropped.
	fitness=$(jget "$a" 'd["fitness"]')
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -u agent -P s3cret -q 1 -t evoclaw/agents/mq1/fitness -m '{"fitness":1e9}'
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -u agent -P s3cret -q 1 -t evoclaw/agents/mq1/fitness \
		-m "{\"fitness\":1e9,\"sig\":\"$(printf '%064d' 0)\"}"
	dropped() { [ "$(metric_sum evoclaw_mqtt_reports_total 'result="unsigned"')" = 1 ] &&
		[ "$(metric_sum evoclaw_mqtt_reports_total 'result="auth"')" = 1 ]; }
	wait_until 10 dropped
	expect_eq "$fitness" "$(jget "$(body "$(api GET /api/agents/mq1)")" 'd["fitness"]')"
	# The broker restarts while an agent reports: it reconnects, and every
	# QoS 1 report (all but heartbeats) arrives exactly once.
	nohb() { echo $(( $(metric_sum evoclaw_mqtt_reports_total 'result="accepted"') -
		$(metric_sum evoclaw_mqtt_reports_total 'result="accepted"' 'kind="heartbeat"') )); }
	base=$(nohb)
	api POST /api/cloud/spawn '{"agent_id":"rs1","agent_type":"trader","env":{"EVOCLAW_STEPS":"3000","EVOCLAW_STEP_MS":"2","EVOCLAW_REPORT_EVERY":"100"}}' >/dev/null
	printed() { jget "$(body "$(api GET '/api/agents/rs1/logs?tail=1000')")" 'len([l for l in d["lines"] if l.startswith("{") and "\"kind\":\"heartbeat\"" not in l])'; }
	some_arrived() { [ $(( $(nohb) - base )) -ge 3 ]; }
	wait_until 10 some_arrived
	broker_stop
	before=$(printed)
	more_printed() { [ "$(printed)" -ge $((before + 3)) ]; }
	wait_until 10 more_printed
	broker_run
	ended() { [ "$(jget "$(body "$(api GET /api/agents/rs1)")" 'd["status"]')" = completed ]; }
	wait_until 60 ended
	want=$(printed)
	all_arrived() { [ $(( $(nohb) - base )) -ge "$want" ]; }
	wait_until 30 all_arrived
	expect_eq "$want" "$(( $(nohb) - base ))"
	a=$(body "$(api GET /api/agents/rs1)")
	expect_eq 3000 "$(jget "$a" 'd["metrics"]["step"]')"
	[ "$(jget "$a" 'd["fitness"]')" != None ] || fail "no fitness: $a"
	serve_done
	broker_stop
	rm -rf "$BROKER_DIR"
}

t_agent_silent_agents_go_stale_then_fail() {
	serve_with '{"cloud":{"maxAgents":10,"defaultTemplate":"minimal"}}'
	api POST /api/cloud/spawn '{"agent_id":"quiet","command":["/bin/sh","-c","echo token=$EVOCLAW_AGENT_TOKEN; sleep 120"]}' >/dev/null
	api POST /api/cloud/spawn '{"agent_id":"mute","command":["/bin/sh","-c","sleep 120"]}' >/dev/null
	wait_status quiet running
	token=$(agent_token quiet)
	# It says it beats every second, once, then falls silent.
	out=$(curl -s -w '\n%{http_code}' -H "X-Agent-Token: $token" -H 'Content-Type: application/json' \
		-d '{"kind":"heartbeat","interval_sec":1,"state":"trading"}' "$URL/api/agents/quiet/telemetry")
	expect_eq 202 "$(status "$out")"
	expect_eq False "$(jget "$(body "$(api GET /api/agents/quiet)")" 'str(d["stale"])')"
	# Stale after 3 silent intervals...
	for i in $(seq 1 1000); do
		a=$(body "$(api GET /api/agents/quiet)")
		[ "$(jget "$a" 'str(d["stale"])')" = True ] && break
		sleep 0.01
	done
	expect_eq True "$(jget "$a" 'str(d["stale"])')"
	expect_eq running "$(jget "$a" 'd["status"]')"
	# ...then failed after 6, its sandbox stopped.
	wait_status quiet failed
	a=$(body "$(api GET /api/agents/quiet)")
	expect_eq error "$(jget "$a" 'd["stop_reason"]')"
	expect_contains "$(jget "$a" 'd["error_message"]')" "stopped as stale: no report for 6 of its 1 s heartbeat intervals"
	# An agent that never reported is never called stale.
	a=$(body "$(api GET /api/agents/mute)")
	expect_eq running "$(jget "$a" 'd["status"]')"
	expect_eq False "$(jget "$a" 'str(d["stale"])')"
	api DELETE '/api/agents/mute?terminate_only=true' >/dev/null
	serve_done
}
