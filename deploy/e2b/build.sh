#!/bin/sh
# Build (or rebuild) the evoclaw-agent template on E2B's cloud: stage the
# edge agent next to e2b.Dockerfile, then `e2b template build`.
#
# Needs: `make` run first (it builds build/rootfs/agent/local/bin/
# evoclaw-agent on a Debian 12 machine, like e2bdev/base), the e2b CLI
# (npm install -g @e2b/cli) and an E2B account: `e2b auth login`, or
# E2B_ACCESS_TOKEN in the environment. Not run in CI. Extra arguments go
# to `e2b template build` (e.g. --team ID); EVOCLAW_AGENT_BINARY names
# another build of the agent to ship.
# Usage: deploy/e2b/build.sh [E2B-CLI-OPTION...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
agent=${EVOCLAW_AGENT_BINARY:-$root/build/rootfs/agent/local/bin/evoclaw-agent}

if [ ! -x "$agent" ]; then
	echo "build.sh: no edge agent at $agent: run make first" >&2
	exit 1
fi
if ! command -v e2b >/dev/null 2>&1; then
	echo "build.sh: the e2b CLI is not installed (npm install -g @e2b/cli)" >&2
	exit 1
fi

# The staged copy is removed however the build ends.
trap 'rm -f "$here/evoclaw-agent"' EXIT
cp "$agent" "$here/evoclaw-agent"
cd "$here"
# e2b.toml names the template (evoclaw-agent), the Dockerfile and the size.
e2b template build "$@"
echo "built: spawn with \"provider\": \"e2b\" and template evoclaw-agent (docs/providers.md)"
