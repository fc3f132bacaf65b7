# deploy/: what ships to other places (E2B's cloud) is not built here, but
# its pieces are checked against this build: the agent.toml the template
# carries is one the edge agent reads, and the scripts are valid sh.

t_deploy_e2b_agent_toml_and_scripts() {
	root=$(cd "$(dirname "$EVOCLAW")/../.." && pwd)
	dir=$root/deploy/e2b
	agent=$EVOCLAW_BUILD/rootfs/agent/local/bin/evoclaw-agent
	# The template's defaults run a paper trader; the environment wins.
	out=$(EVOCLAW_STEPS=200 EVOCLAW_AGENT_ID=deploy-check "$agent" --config "$dir/agent.toml")
	expect_contains "$out" '"kind":"fitness","agent_id":"deploy-check"'
	expect_contains "$out" 'paper trading 200 prices with {\"strategy\":\"momentum\"'
	out=$(EVOCLAW_STEPS=200 EVOCLAW_GENOME='{"strategy":"mean_reversion","window":30,"z_entry":2,"z_exit":0.5}' \
		"$agent" --config "$dir/agent.toml")
	expect_contains "$out" 'mean_reversion'
	for f in entrypoint.sh build.sh; do
		sh -n "$dir/$f" || fail "$f is not valid sh"
		head -1 "$dir/$f" | grep -qx '#!/bin/sh' || fail "$f is not a POSIX sh script"
	done
	# Nothing in the Dockerfile starts the agent: envd does, after the create.
	grep -q '^CMD\|^ENTRYPOINT' "$dir/e2b.Dockerfile" && fail "e2b.Dockerfile starts something"
	grep -q '^start_cmd' "$dir/e2b.toml" && fail "e2b.toml has a start_cmd"
	grep -qx 'template_name = "evoclaw-agent"' "$dir/e2b.toml" || fail "e2b.toml does not name evoclaw-agent"
	return 0
}
