# Evolution tournaments (issue 7 §3): burst mode end to end with real
# sandboxed trader agents. Uses test_serve.sh's, test_serve_agent.sh's and
# test_serve_e2b_provider.sh's helpers.

# tournament_when ID PYTHON_EXPR [SECONDS]: poll GET /api/tournaments/ID
# until the expression over d holds; T is the last body.
tournament_when() {
	limit=$(( $(date +%s) + ${3:-60} ))
	while :; do
		T=$(body "$(api GET "/api/tournaments/$1")")
		[ "$(jget "$T" "str(bool($2))")" = True ] && return 0
		[ "$(date +%s)" -lt "$limit" ] || fail "tournament $1 never got to $2: $T"
		sleep 0.05
	done
}

t_tournament_8_agents_3_generations_complete_with_lineage() {
	# maxAgents 3 < 8: each generation waits in the queue, never fails.
	serve_with '{"cloud":{"maxAgents":3}}'
	out=$(api POST /api/tournaments '{"count":8,"generations":3,"survivors":2,"mutation_rate":0.3,"steps":400,"market_seed":42,"eval_seconds":60}')
	expect_eq 201 "$(status "$out")"
	id=$(jget "$(body "$out")" 'd["id"]')
	tournament_when "$id" 'd["state"] != "running"' 120
	expect_eq completed "$(jget "$T" 'd["state"]')"
	expect_eq null "$(jget "$T" 'd["error"]')"
	python3 - "$T" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
gens = d["generations"]
assert [g["generation"] for g in gens] == [0, 1, 2], gens
for g in gens:
    assert len(g["members"]) == 8, g
    for m in g["members"]:
        # Every member ran as an agent and reported its fitness.
        assert m["state"] == "done" and m["agent_id"] and m["fitness"] is not None, m
    assert g["best_fitness"] == max(m["fitness"] for m in g["members"]), g
assert all(m["parents"] == [] and not m["survivor"] for m in gens[0]["members"])
for prev, g in zip(gens, gens[1:]):
    survivors = [m for m in g["members"] if m["survivor"]]
    assert len(survivors) == 2, g
    best = sorted(prev["members"], key=lambda m: (-m["fitness"], m["index"]))[:2]
    for s, b in zip(survivors, best):
        # Elitism: the best go on unchanged, and score the same on the same market.
        assert s["parents"] == [b["index"]] and s["genome"] == b["genome"], (s, b)
        assert abs(s["fitness"] - b["fitness"]) < 1e-9, (s, b)
    for m in g["members"]:
        if not m["survivor"]:
            assert 1 <= len(m["parents"]) <= 2 and all(0 <= p < 8 for p in m["parents"]), m
# The champion is the best there was, at least generation 0's best.
c = d["champion"]
assert c["fitness"] >= gens[0]["best_fitness"], (c, gens[0]["best_fitness"])
assert c["fitness"] == max(g["best_fitness"] for g in gens), c
found = [m for g in gens for m in g["members"] if m["agent_id"] == c["agent_id"]]
assert found and found[0]["genome"] == c["genome"] and found[0]["fitness"] == c["fitness"], c
assert d["params"]["market_seed"] == 42 and d["params"]["count"] == 8
PY
	# Its members are ordinary agents: typed, numbered, billed, traceable.
	champ=$(jget "$T" 'd["champion"]["agent_id"]')
	a=$(body "$(api GET "/api/agents/$champ")")
	expect_eq trader "$(jget "$a" 'd["agent_type"]')"
	expect_eq burst "$(jget "$a" 'd["mode"]')"
	expect_eq completed "$(jget "$a" 'd["status"]')"
	expect_eq "$(jget "$T" 'd["champion"]["genome"]')" "$(jget "$a" 'd["genome"]')"
	expect_eq 1 "$(jget "$(body "$(api GET /api/tournaments)")" 'd["count"]')"
	serve_done
}

t_tournament_bad_input_cancel_and_tenants() {
	serve_with '{"cloud":{"maxAgents":10}}'
	check() { out=$(api POST /api/tournaments "$2"); expect_eq 400 "$(status "$out")"; expect_contains "$(body "$out")" "$1"; }
	check 'genome.threshold: must be a number from 0 to 0.5' '{"count":4,"genome":{"strategy":"momentum","threshold":7}}'
	check 'genome.strategy: \"moon\" is not momentum or mean_reversion' '{"count":4,"genome":{"strategy":"moon"}}'
	check 'count: required' '{}'
	check 'count: must be a whole number from 2 to 256' '{"count":1}'
	check 'survivors: must be a whole number from 1 to 4' '{"count":4,"survivors":9}'
	check 'mutation_rate: must be a number from 0 to 1' '{"count":4,"mutation_rate":2}'
	check 'colour: unknown field' '{"count":4,"colour":"red"}'
	check 'provider: must be a provider' '{"count":4,"provider":7}'
	check 'provider: \"e2b\" is not available on this server (it has: local; e2b needs cloud.e2bApiKey or E2B_API_KEY)' '{"count":4,"provider":"e2b"}'
	expect_eq 404 "$(status "$(api GET /api/tournaments/trn_nope)")"
	# Cancel: its running agents stop, the rest never start.
	out=$(api POST /api/tournaments '{"count":3,"generations":5,"steps":100000,"step_ms":5,"eval_seconds":600}')
	id=$(jget "$(body "$out")" 'd["id"]')
	tournament_when "$id" 'all(m["state"] == "running" for m in d["generations"][0]["members"])' 30
	out=$(api DELETE "/api/tournaments/$id")
	expect_eq 200 "$(status "$out")"
	expect_eq cancelled "$(jget "$(body "$out")" 'd["state"]')"
	for agent in $(jget "$(body "$out")" '" ".join(m["agent_id"] for m in d["generations"][0]["members"])'); do
		a=$(body "$(api GET "/api/agents/$agent")")
		expect_eq terminated "$(jget "$a" 'd["stop_reason"]')"
	done
	expect_eq 409 "$(status "$(api DELETE "/api/tournaments/$id")")"
	# A tenant's burst is its own tournament; another's is not found.
	out=$(api POST /api/saas/register '{"email":"evo@t.test","max_agents":4,"credit_limit_usd":10}')
	k=$(jget "$(body "$out")" 'd["api_key"]')
	out=$(api_as "$k" POST /api/saas/agents '{"mode":"burst","count":2,"generations":1,"steps":200}')
	expect_eq 201 "$(status "$out")"
	mine=$(jget "$(body "$out")" 'd["id"]')
	expect_eq "[\"$mine\"]" "$(jget "$(body "$(api_as "$k" GET /api/tournaments)")" '[t["id"] for t in d["tournaments"]]')"
	expect_eq 404 "$(status "$(api_as "$k" GET "/api/tournaments/$id")")"
	expect_eq 404 "$(status "$(api_as "$k" DELETE "/api/tournaments/$id")")"
	expect_eq 2 "$(jget "$(body "$(api GET /api/tournaments)")" 'd["count"]')"
	out=$(api_as "$k" POST /api/saas/agents '{"mode":"burst","count":2,"agent_type":"coder"}')
	expect_eq 400 "$(status "$out")"; expect_contains "$(body "$out")" "agent_type: burst mode runs traders"
	# From the command line.
	cli() { EVOCLAW_URL=$URL EVOCLAW_API_KEY=$KEY "$EVOCLAW" cloud tournament "$@"; }
	tid=$(cli start --count 2 --generations 1 --steps 200 --market-seed 5 -q)
	tournament_when "$tid" 'd["state"] == "completed"' 60
	expect_contains "$(cli list)" "$tid  completed  1/1"
	expect_contains "$(cli show "$tid")" "champion: fitness $(jget "$T" '"%.4f" % d["champion"]["fitness"]')"
	set +e; out=$(cli start 2>&1); rc=$?; set -e
	expect_eq 2 "$rc"; expect_contains "$out" "--count is required"
	set +e; out=$(cli start --count 4 --genome '{"strategy":"moon"}' 2>&1); rc=$?; set -e
	expect_eq 1 "$rc"; expect_contains "$out" 'genome.strategy: "moon" is not momentum or mean_reversion (HTTP 400)'
	set +e; out=$(cli start --count 4 --provider e2b 2>&1); rc=$?; set -e
	expect_eq 1 "$rc"; expect_contains "$out" 'provider: "e2b" is not available on this server'
	# Its agents are the tenant's.
	tournament_when "$mine" 'd["state"] == "completed"' 60
	agent=$(jget "$T" 'd["generations"][0]["members"][0]["agent_id"]')
	expect_eq 200 "$(status "$(api_as "$k" GET "/api/agents/$agent")")"
	serve_done
}

# A tournament of a few traders on the remote: they report over MQTT (the
# remote's sandboxes reach the broker through its relay), and breed.
t_tournament_on_the_e2b_provider() {
	broker_start
	mq="\"mqtt\":{\"broker\":\"127.0.0.1\",\"port\":$BROKER_PORT,\"username\":\"evoclaw\",\"password\":\"orchpw\",\"agentUsername\":\"agent\",\"agentPassword\":\"s3cret\"}"
	remote_start "{\"cloud\":{\"maxAgents\":20},$mq}"
	# The server runs locally by default; this tournament asks for e2b.
	serve_with "{\"cloud\":{\"provider\":\"local\",\"maxAgents\":4,\"e2bApiUrl\":\"$REMOTE_URL\",\"e2bSandboxUrl\":\"$REMOTE_URL\",\"e2bApiKey\":\"$REMOTE_KEY\"},$mq}"
	out=$(api POST /api/tournaments '{"count":3,"generations":2,"survivors":1,"steps":200,"market_seed":7,"provider":"gvisor"}')
	expect_eq 400 "$(status "$out")"
	expect_contains "$(body "$out")" 'provider: \"gvisor\" is not available on this server (it has: local, e2b)'
	out=$(api POST /api/tournaments '{"count":3,"generations":2,"survivors":1,"steps":200,"market_seed":7,"eval_seconds":60,"provider":"e2b"}')
	expect_eq 201 "$(status "$out")"
	expect_eq e2b "$(jget "$(body "$out")" 'd["params"]["provider"]')"
	id=$(jget "$(body "$out")" 'd["id"]')
	tournament_when "$id" 'd["state"] != "running"' 120
	expect_eq completed "$(jget "$T" 'd["state"]')"
	python3 - "$T" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
gens = d["generations"]
assert [g["generation"] for g in gens] == [0, 1], gens
for g in gens:
    assert len(g["members"]) == 3 and all(m["state"] == "done" and m["fitness"] is not None for m in g["members"]), g
assert d["champion"]["fitness"] == max(g["best_fitness"] for g in gens), d["champion"]
PY
	champ=$(jget "$T" 'd["champion"]["agent_id"]')
	expect_eq e2b "$(agent_field "$champ" provider)"
	[ "$(metric_sum evoclaw_mqtt_reports_total 'result="accepted"')" -ge 6 ] || fail "reports did not come over MQTT"
	serve_done
	remote_done
	broker_stop
}
