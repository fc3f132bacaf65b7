#!/bin/sh
# The edge agent with the template's agent.toml as defaults: variables in
# the environment (the orchestrator's, DESIGN §10) win over the file.
# Set cloud.e2bAgentCommand to /usr/local/bin/evoclaw-entrypoint for
# agents the orchestrator starts to use these defaults too.
set -eu
config=/home/user/agent.toml
if [ -r "$config" ]; then
	exec /usr/local/bin/evoclaw-agent --config "$config" "$@"
fi
exec /usr/local/bin/evoclaw-agent "$@"
