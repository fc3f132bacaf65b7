# evoclaw — build, test, run.  `make` builds, `make check` runs every test
# (plain and under ASan+UBSan), `make run` starts the main job.
# Dependencies are installed by scripts/install-deps.sh when missing.

CC      ?= cc
SAN     ?=
BUILD   ?= build$(if $(SAN),-san)
CFLAGS_BASE := -std=gnu11 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-format-truncation \
               -Isrc -D_GNU_SOURCE -fno-strict-aliasing
ifeq ($(SAN),1)
  OPT       := -O1 -fno-omit-frame-pointer
  SANFLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=undefined
  # evoclaw-init must be static (it runs inside rootfs without a libc), and
  # ASan cannot link statically: it gets UBSan only.
  INIT_SAN  := -fsanitize=undefined -fno-sanitize-recover=undefined
else
  OPT       := -O2
  SANFLAGS  :=
  INIT_SAN  :=
endif
CFLAGS  := $(CFLAGS_BASE) $(OPT) -I$(BUILD)/gen $(EXTRA_CFLAGS)
LIBS    := -ljansson -lm
# evoclaw is linked statically: a sandbox run is a short-lived process, and
# dynamic loading alone costs ~0.3 ms of it. ASan cannot link statically.
ifeq ($(SAN),1)
  EVOCLAW_LDFLAGS :=
else
  EVOCLAW_LDFLAGS := -static
endif

COMMON_SRC  := $(wildcard src/common/*.c)
# What evoclaw-init needs of it: no JSON, nothing that grows the binary
# every sandbox runs as PID 1.
INIT_COMMON_SRC := $(addprefix src/common/,error.c fileutil.c passwd.c proto.c xalloc.c)
GUEST_SRC   := $(wildcard src/guest/*.c)
# The seccomp policy is compiled at build time (tools/gen_seccomp.c), not
# linked into evoclaw.
POLICY_SRC  := src/runtime/local/seccomp_policy.c
RUNTIME_SRC := $(filter-out $(POLICY_SRC),$(wildcard src/runtime/*.c src/runtime/local/*.c))
# The e2b provider (libcurl): the server's alone, never the static CLI's.
E2B_SRC     := $(wildcard src/runtime/e2b/*.c)
# Its pure wire formats: unit-tested and fuzzed without libcurl.
E2B_WIRE_SRC := src/runtime/e2b/e2b_wire.c
CLI_SRC     := $(wildcard src/cli/*.c)
CORE_SRC    := $(wildcard src/core/*.c)
# SQLite state for the orchestrator; linked into the tests until `serve`
# (the next issue) uses it.
STORE_SRC   := $(wildcard src/store/*.c)
API_SRC     := $(wildcard src/api/*.c)
ORCH_SRC    := $(wildcard src/orchestrator/*.c)
# The pure request parsers of the HTTP layer: unit-tested and fuzzed.
API_PARSE_SRC := src/api/requests.c src/api/json_input.c src/api/agent_json.c src/api/envd_rpc.c src/api/paths.c

obj = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(1))
iobj = $(patsubst src/%.c,$(BUILD)/iobj/%.o,$(1))

BIN      := $(BUILD)/bin
EVOCLAW  := $(BIN)/evoclaw
INIT     := $(BIN)/evoclaw-init
# Init outside a sandbox, dynamically linked with full sanitizers, for the
# protocol tests.
INIT_DYN := $(BIN)/evoclaw-init-dyn
# The edge agent (issue 7): small and dynamic (libmosquitto ships no
# static library); `evoclaw agent` runs it.
AGENT    := $(BIN)/evoclaw-agent
AGENT_SRC := $(wildcard src/agent/*.c) \
             $(addprefix src/common/,error.c xalloc.c fileutil.c http_client.c http_response.c \
               telemetry_sig.c toml.c) \
             $(addprefix src/core/,genome.c rng.c market.c trader.c agent_toml.c)
# The orchestrator's server, exec'd by `evoclaw serve`: dynamic, because
# libmicrohttpd cannot be linked statically here (GnuTLS's dependencies).
SERVER   := $(BIN)/evoclaw-server

.SECONDARY:
.PHONY: all deps check check-plain check-san unit e2e fuzz run bench clean rootfs

all: $(EVOCLAW) $(INIT) $(INIT_DYN) $(SERVER) $(AGENT) rootfs

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/iobj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INIT_SAN) -MMD -MP -c $< -o $@

# The CLI signs no telemetry: without it (and libsodium) the static binary
# stays small, and every `evoclaw sandbox run` starts that much faster.
$(EVOCLAW): $(call obj,$(filter-out src/common/telemetry_sig.c,$(COMMON_SRC)) $(CORE_SRC) $(RUNTIME_SRC) $(CLI_SRC))
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(SANFLAGS) $(EVOCLAW_LDFLAGS) -o $@ $^ $(LIBS)

# The dashboard's files (web/), compiled into the server.
WEB_FILES := $(sort $(wildcard web/*.html web/*.js web/*.css web/*.svg))
$(BUILD)/gen/web_assets.c: tools/embed_web.c $(WEB_FILES)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 -o $(BUILD)/gen/embed_web tools/embed_web.c -lz
	$(BUILD)/gen/embed_web $@ $(WEB_FILES)
$(BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(SERVER): $(call obj,$(COMMON_SRC) $(CORE_SRC) $(RUNTIME_SRC) $(E2B_SRC) $(STORE_SRC) $(ORCH_SRC) $(API_SRC)) $(BUILD)/obj/gen/web_assets.o
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS) -lsodium -lmicrohttpd -lmosquitto -lcurl -lsqlite3 -lz -lpthread

$(AGENT): $(call obj,$(AGENT_SRC))
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ -ljansson -lmosquitto -lsodium -lm -lpthread

# The seccomp filter, compiled from its policy with libseccomp at build time.
$(BUILD)/gen/seccomp_filter.h: tools/gen_seccomp.c $(POLICY_SRC) src/common/error.c src/common/xalloc.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 -o $(BUILD)/gen/gen_seccomp $^ -lseccomp
	$(BUILD)/gen/gen_seccomp >$@.tmp && mv $@.tmp $@
$(call obj,src/runtime/local/seccomp.c): $(BUILD)/gen/seccomp_filter.h

$(INIT): $(call iobj,$(INIT_COMMON_SRC) $(GUEST_SRC))
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(INIT_SAN) -static -o $@ $^

$(INIT_DYN): $(call obj,$(INIT_COMMON_SRC) $(GUEST_SRC))
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^

# Template root filesystems built from this machine's packages.
rootfs: $(BUILD)/rootfs/.stamp $(BUILD)/rootfs/agent/local/bin/evoclaw-agent
# The evoclaw-agent template's layer at /usr: the edge agent as
# /usr/local/bin/evoclaw-agent. Always built without sanitizers: it is
# what ships, and LeakSanitizer cannot stop the world inside a sandbox
# (no ptrace there). After the other layers: build-rootfs.sh replaces the
# whole rootfs directory, which would delete an agent linked meanwhile.
$(BUILD)/rootfs/agent/local/bin/evoclaw-agent: $(AGENT_SRC) $(BUILD)/rootfs/.stamp
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@.tmp $(AGENT_SRC) -ljansson -lmosquitto -lsodium -lm -lpthread && mv $@.tmp $@
$(BUILD)/rootfs/.stamp: scripts/build-rootfs.sh
	scripts/build-rootfs.sh $(BUILD)/rootfs
	@touch $@

# ---- tests -----------------------------------------------------------
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
LIB_OBJS   := $(call obj,$(COMMON_SRC) $(CORE_SRC) $(RUNTIME_SRC))

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) $(call obj,$(POLICY_SRC) $(E2B_SRC) $(STORE_SRC) $(ORCH_SRC) $(API_PARSE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANFLAGS) -Itests -o $@ $^ $(LIBS) -lsodium -lsqlite3 -lcurl -lpthread -lseccomp -lcriterion

# The e2b SDK of the compatibility tests, exactly as package-lock.json pins it.
E2B_SDK := tests/e2b/node_modules/.package-lock.json
$(E2B_SDK): tests/e2b/package-lock.json
	cd tests/e2b && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The dashboard's browser tests: playwright-core drives Debian's chromium.
PLAYWRIGHT := tests/web/node_modules/.package-lock.json
$(PLAYWRIGHT): tests/web/package-lock.json
	cd tests/web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory $(E2B_SDK) $(PLAYWRIGHT)

# test_init drives the real init binary of this build.
unit: $(UNIT_BINS) $(INIT_DYN)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; EVOCLAW_BUILD=$(BUILD) $$t --jobs 2; done

e2e: all
	@EVOCLAW_BUILD=$(BUILD) tests/e2e/run.sh

check-plain: unit e2e

check: deps
	$(MAKE) check-plain
	$(MAKE) SAN=1 check-plain
	$(MAKE) fuzz

# ---- fuzzing: libFuzzer targets, run briefly ---------------------------
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 20
build-fuzz/%: fuzz/%.c $(COMMON_SRC) $(CORE_SRC) $(GUEST_SRC) $(RUNTIME_SRC) $(E2B_WIRE_SRC) $(API_PARSE_SRC) build/gen/seccomp_filter.h
	@mkdir -p build-fuzz
	clang $(CFLAGS_BASE) -Wno-unknown-warning-option -Ibuild/gen -O1 -DEVO_FUZZING -fsanitize=fuzzer,address,undefined \
	  -o $@ $< $(COMMON_SRC) $(CORE_SRC) $(filter-out src/guest/init_main.c,$(GUEST_SRC)) $(RUNTIME_SRC) $(E2B_WIRE_SRC) $(API_PARSE_SRC) $(LIBS) -lsodium
fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p build-fuzz/corpus-$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 build-fuzz/corpus-$$n fuzz/corpus/$$n 2>&1 | tail -2; done

# The main job: the orchestrator on the embedded default (127.0.0.1:8420,
# data in ./data, local sandboxes), in the foreground until Ctrl-C.
run: deps all
	$(EVOCLAW) serve

bench: deps all
	bench/spawn.sh
	bench/idle_memory.sh
	bench/http.sh
	bench/e2b.sh
	bench/e2b_provider.sh

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj $(BUILD)/iobj -name '*.d' 2>/dev/null)
