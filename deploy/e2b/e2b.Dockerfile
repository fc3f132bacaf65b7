# The evoclaw-agent template on E2B's cloud (docs/providers.md). Built by
# build.sh, which stages the edge agent (build/rootfs/agent/local/bin/
# evoclaw-agent, made by `make` on Debian 12) next to this file first. The
# agent needs glibc 2.34 or later and the libraries below; the --help run
# at the end fails the build, not the first agent, if the base image does
# not have them.
FROM e2bdev/base

USER root
# The agent's shared libraries (libmosquitto brings libssl).
RUN apt-get update \
	&& apt-get install -y --no-install-recommends libjansson4 libmosquitto1 libsodium23 \
	&& rm -rf /var/lib/apt/lists/*

COPY evoclaw-agent /usr/local/bin/evoclaw-agent
COPY entrypoint.sh /usr/local/bin/evoclaw-entrypoint
COPY agent.toml /home/user/agent.toml
RUN chmod 755 /usr/local/bin/evoclaw-agent /usr/local/bin/evoclaw-entrypoint \
	&& chown user:user /home/user/agent.toml && chmod 644 /home/user/agent.toml \
	&& /usr/local/bin/evoclaw-agent --help >/dev/null

# No start command: the orchestrator starts the agent through envd after
# the create, so that the create's envVars (its identity, its token, where
# to report) reach it.
USER user
WORKDIR /home/user
