# The unmodified e2b SDK (tests/e2b, pinned by package-lock.json) against
# the real server: E2B's control plane on evoclaw. (After test_serve.sh,
# whose helpers it uses.)

t_e2b_sdk_control_plane() {
	serve_with '{"cloud":{"maxAgents":60}}'
	here=$(cd "$(dirname "$EVOCLAW")/../.." && pwd)
	[ -d "$here/tests/e2b/node_modules/e2b" ] || fail "the e2b SDK is not installed (make deps)"
	set +e
	E2B_API_KEY="$KEY" E2B_API_URL="$URL" E2B_SANDBOX_URL="$URL" \
		timeout 300 node --test --test-reporter=tap "$here/tests/e2b/" >"$DATA.node" 2>&1
	rc=$?
	set -e
	grep -E '^(not )?ok ' "$DATA.node" || true
	[ "$rc" -eq 0 ] || { tail -60 "$DATA.node"; fail "the e2b SDK suite failed ($rc)"; }
	grep -q '^# fail 0' "$DATA.node" || fail "no test summary"
	# What the SDK made counts like any agent, and is gone.
	out=$(api GET '/api/agents?type=sandbox&limit=1')
	[ "$(jget "$(body "$out")" 'd["total"]')" -ge 15 ] || fail "E2B sandboxes are not agents: $(body "$out")"
	expect_eq 0 "$(jget "$(body "$(api GET /api/cloud)")" 'd["count"]')"
	serve_done
}
