# Scheduled agents (issue 7 §4): windows a few seconds wide, in a zone
# that is not UTC, across a restart of the server. Uses test_serve.sh's
# and test_serve_agent.sh's helpers.

# at_iso ISO: UTC milliseconds of an ISO time.
at_ms() { python3 -c 'import sys,datetime; print(int(datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()*1000))' "$1"; }
now_ms_utc() { python3 -c 'import time; print(int(time.time()*1000))'; }
# A wall-clock time in Asia/Kolkata (UTC+05:30), N seconds from now.
kolkata_in() { TZ=Asia/Kolkata date -d "+$1 sec" +%H:%M:%S; }

t_schedule_opens_and_closes_windows_across_a_restart() {
	serve_with '{"cloud":{"maxAgents":10}}'
	# A: open from 3 s to 8 s from now; B: from 11 s to 13 s, after the
	# restart below.
	a=$(api POST /api/schedules "{\"agent_type\":\"coder\",\"env\":{\"K\":\"secret-value\"},
		\"schedule\":{\"start\":\"$(kolkata_in 3)\",\"end\":\"$(kolkata_in 8)\",\"timezone\":\"Asia/Kolkata\"}}")
	expect_eq 201 "$(status "$a")"
	case $a in *secret-value*) fail "an environment value was returned" ;; esac
	A=$(jget "$(body "$a")" 'd["id"]')
	expect_eq False "$(jget "$(body "$a")" 'str(d["open"])')"
	expect_eq null "$(jget "$(body "$a")" 'd["agent_id"]')"
	opens=$(at_ms "$(jget "$(body "$a")" 'd["opens_at"]')")
	closes=$(at_ms "$(jget "$(body "$a")" 'd["closes_at"]')")
	expect_eq 5000 $((closes - opens))
	b=$(api POST /api/schedules "{\"agent_type\":\"coder\",
		\"schedule\":{\"start\":\"$(kolkata_in 11)\",\"end\":\"$(kolkata_in 13)\",\"timezone\":\"Asia/Kolkata\"}}")
	expect_eq 201 "$(status "$b")"
	B=$(jget "$(body "$b")" 'd["id"]')
	# A's window opens: its agent starts then, not before.
	started() { [ "$(jget "$(body "$(api GET "/api/schedules/$A")")" 'd["agent_id"] or ""')" != "" ]; }
	wait_until 10 started
	[ "$(now_ms_utc)" -ge "$opens" ] || fail "started before its window opened"
	agent=$(jget "$(body "$(api GET "/api/schedules/$A")")" 'd["agent_id"]')
	wait_status "$agent" running
	created=$(at_ms "$(jget "$(body "$(api GET "/api/agents/$agent")")" 'd["created_at"]')")
	[ $((created - opens)) -lt 1000 ] || fail "started $((created - opens)) ms after the window opened"
	expect_eq scheduled "$(jget "$(body "$(api GET "/api/agents/$agent")")" 'd["mode"]')"
	# A restart inside the window: the agent goes on, and is not started twice.
	kill "$SERVER_PID"; wait "$SERVER_PID" || true
	start_server "$DATA"
	s=$(body "$(api GET "/api/schedules/$A")")
	expect_eq True "$(jget "$s" 'str(d["open"])')"
	expect_eq 1 "$(jget "$s" 'd["runs"]')"
	expect_eq running "$(jget "$(body "$(api GET "/api/agents/$agent")")" 'd["status"]')"
	# It closes: the agent is stopped then.
	stopped() { [ "$(jget "$(body "$(api GET "/api/agents/$agent")")" 'd["status"]')" != running ]; }
	wait_until 15 stopped
	end=$(at_ms "$(jget "$(body "$(api GET "/api/agents/$agent")")" 'd["completed_at"]')")
	[ "$end" -ge "$closes" ] || fail "stopped $((closes - end)) ms before the window closed"
	[ $((end - closes)) -lt 1500 ] || fail "stopped $((end - closes)) ms after the window closed"
	expect_eq 1 "$(jget "$(body "$(api GET "/api/schedules/$A")")" 'd["runs"]')"
	# B, made before the restart, opens after it.
	b_started() { [ "$(jget "$(body "$(api GET "/api/schedules/$B")")" 'd["agent_id"] or ""')" != "" ]; }
	wait_until 15 b_started
	# Cancelling stops its agent at once.
	bagent=$(jget "$(body "$(api GET "/api/schedules/$B")")" 'd["agent_id"]')
	out=$(api DELETE "/api/schedules/$B")
	expect_eq 200 "$(status "$out")"
	expect_eq cancelled "$(jget "$(body "$out")" 'd["state"]')"
	wait_status "$bagent" completed
	expect_eq terminated "$(jget "$(body "$(api GET "/api/agents/$bagent")")" 'd["stop_reason"]')"
	expect_eq 409 "$(status "$(api DELETE "/api/schedules/$B")")"
	serve_done
}

t_schedule_bad_input_and_tenants() {
	serve_with '{"cloud":{"maxAgents":10}}'
	check() { out=$(api POST /api/schedules "$2"); expect_eq 400 "$(status "$out")"; expect_contains "$(body "$out")" "$1"; }
	check 'schedule: required' '{"agent_type":"coder"}'
	check 'schedule.timezone: no zone \"Mars/Olympus\"' '{"schedule":{"start":"09:00","end":"16:00","timezone":"Mars/Olympus"}}'
	check 'schedule.start: must be \"HH:MM\" or \"HH:MM:SS\"' '{"schedule":{"start":"9am","end":"16:00","timezone":"UTC"}}'
	check 'schedule.days[1]: must be one of' '{"schedule":{"start":"09:00","end":"16:00","timezone":"UTC","days":["mon","someday"]}}'
	check 'agent_id: a schedule names' '{"agent_id":"x","schedule":{"start":"09:00","end":"16:00","timezone":"UTC"}}'
	check 'genome.threshold' '{"genome":{"strategy":"momentum","threshold":9},"schedule":{"start":"09:00","end":"16:00","timezone":"UTC"}}'
	check 'provider: \"e2b\" is not available on this server (it has: local; e2b needs' '{"provider":"e2b","schedule":{"start":"09:00","end":"16:00","timezone":"UTC"}}'
	# From the command line.
	cli() { EVOCLAW_URL=$URL EVOCLAW_API_KEY=$KEY "$EVOCLAW" cloud schedule "$@"; }
	sid=$(cli create --start 09:00 --end 16:00 --timezone America/New_York --days mon,fri --type coder --provider local --env K=v -q)
	expect_contains "$(cli list)" "$sid  active  09:00-16:00 America/New_York mon,fri"
	expect_contains "$(cli show "$sid")" '"environment_keys":["K"]'
	expect_contains "$(cli show "$sid")" '"provider":"local"'
	expect_contains "$(cli cancel "$sid")" "schedule $sid: cancelled"
	set +e; out=$(cli create --end 16:00 --timezone UTC 2>&1); rc=$?; set -e
	expect_eq 2 "$rc"; expect_contains "$out" "--start is required"
	set +e; out=$(cli create --start 9am --end 16:00 --timezone UTC 2>&1); rc=$?; set -e
	expect_eq 1 "$rc"; expect_contains "$out" 'schedule.start: must be "HH:MM" or "HH:MM:SS" (24-hour) (HTTP 400)'
	out=$(api POST /api/saas/register '{"email":"s@t.test","max_agents":2,"credit_limit_usd":10}')
	k=$(jget "$(body "$out")" 'd["api_key"]')
	out=$(api_as "$k" POST /api/saas/agents '{"mode":"scheduled","agent_type":"coder","schedule":{"start":"09:00","end":"16:00","timezone":"America/New_York","days":["mon","fri"]}}')
	expect_eq 201 "$(status "$out")"
	mine=$(jget "$(body "$out")" 'd["id"]')
	out=$(api_as "$k" POST /api/saas/agents '{"mode":"scheduled","count":3,"schedule":{"start":"09:00","end":"16:00","timezone":"UTC"}}')
	expect_eq 400 "$(status "$out")"; expect_contains "$(body "$out")" "count: a schedule starts one agent per window"
	theirs=$(jget "$(body "$(api POST /api/schedules '{"agent_type":"coder","schedule":{"start":"09:00","end":"16:00","timezone":"UTC"}}')")" 'd["id"]')
	expect_eq "[\"$mine\"]" "$(jget "$(body "$(api_as "$k" GET /api/schedules)")" '[s["id"] for s in d["schedules"]]')"
	expect_eq 404 "$(status "$(api_as "$k" GET "/api/schedules/$theirs")")"
	expect_eq 404 "$(status "$(api_as "$k" DELETE "/api/schedules/$theirs")")"
	expect_eq 3 "$(jget "$(body "$(api GET /api/schedules)")" 'd["count"]')"
	serve_done
}
