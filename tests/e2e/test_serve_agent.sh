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
	expect_eq 3 "$rc"; expect_contains "$out" "cannot reach the MQTT broker 127.0.0.1:$port"
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

t_agent_publishes_to_a_real_mosquitto() {
	command -v mosquitto >/dev/null || fail "mosquitto is not installed (make deps)"
	dir=$(mktemp -d /tmp/evoclaw-mqtt.XXXXXX)
	port=$(free_port)
	# A broker that wants a user and password.
	mosquitto_passwd -b -c "$dir/passwd" agent s3cret 2>/dev/null
	# The broker drops root for its own user, who must read the file.
	chmod 711 "$dir"
	chown mosquitto "$dir/passwd" 2>/dev/null || chmod 644 "$dir/passwd"
	printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s/passwd\npersistence false\n' \
		"$port" "$dir" >"$dir/mosquitto.conf"
	mosquitto -c "$dir/mosquitto.conf" >"$dir/broker.log" 2>&1 &
	broker=$!
	trap 'kill $broker 2>/dev/null || true' EXIT
	for i in $(seq 1 500); do
		mosquitto_pub -h 127.0.0.1 -p "$port" -u agent -P s3cret -t probe -m x 2>/dev/null && break
		sleep 0.01
	done
	mosquitto_pub -h 127.0.0.1 -p "$port" -u agent -P s3cret -t probe -m x ||
		fail "the broker did not start: $(cat "$dir/broker.log")"
	mosquitto_sub -h 127.0.0.1 -p "$port" -u agent -P s3cret -v -t 'evoclaw/agents/#' >"$dir/got" 2>&1 &
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
	kill $broker; wait $broker 2>/dev/null || true
	rm -rf "$dir"
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
