# SPDX-License-Identifier: MIT
# tests/fuzz/fuzz.mk: the fuzz targets (included by the Makefile).
#
#   make fuzz [BOARD=host-redis] [FUZZ_SECONDS=60] [FUZZ_TARGETS="http ws_rx"] [-j N]
#       builds every tests/fuzz/fuzz_NAME.c with clang and libFuzzer under
#       ASan+UBSan in $(BUILD_ROOT)/$(BOARD)-fuzz and runs each for
#       FUZZ_SECONDS, starting from its seed corpus tests/fuzz/corpus/NAME
#       and its regression inputs tests/fuzz/regress/NAME. New inputs go to
#       the build folder (make fuzz-merge takes them into the repository).
#       A crash stops the run and names the input to add to
#       tests/fuzz/regress/NAME. CI: FUZZ_SECONDS=10 with -j2 (two targets
#       at a time), past the committed corpus (README, "Tests in CI").
#   make fuzz-build        only build them
#   make fuzz-long [FUZZ_LONG_SECONDS=600] [-j2]
#       the nightly-style campaign: every target FUZZ_LONG_SECONDS (10 min
#       each by default: about 65 min for the 13 targets with -j2), then
#       make fuzz-merge. CI's `make fuzz` runs each target only seconds,
#       from the committed corpus: what a long run finds is kept by
#       committing what fuzz-merge adds (docs/security.md, "Fuzzing").
#   make fuzz-merge
#       adds to tests/fuzz/corpus/NAME the inputs of the last campaign's
#       working corpus ($(FB)/corpus/NAME) that reach code edges the
#       committed corpus does not (libFuzzer -merge=1 -use_counters=0, so
#       one input per new edge, not one per new hit count) and prints
#       what it added; review with git status, then commit. A crash is
#       never merged: the run stops first and names the input for
#       tests/fuzz/regress/NAME.
# Targets of optional modules come with their module: resp, msgpack and
# layer_msg (the Redis layer) with BOARD=host-redis, which has every module.
#
# `make check` replays every seed and regression input without libFuzzer:
# $(B)/tests/test_fuzz_NAME (tests/fuzz/replay.c), with the normal compiler
# and, with SANITIZE=1, under ASan+UBSan.

# Targets of optional modules exist only in builds that have the module.
FUZZ_OFF := $(if $(CONFIG_JSON),,json) $(if $(CONFIG_JWT),,jwt) \
            $(if $(CONFIG_STATIC_FILES),,static) $(if $(CONFIG_CONTROL_SOCKET),,control) \
            $(if $(CONFIG_LAYER_REDIS),,resp msgpack layer_msg core_wire) \
            $(if $(CONFIG_PROXY_HEADERS),,proxy_hdr) $(if $(CONFIG_LOG_JSON),,log_json)
FUZZ_ALL := $(filter-out $(FUZZ_OFF),$(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_AR ?= ar
FB := $(BUILD_ROOT)/$(BOARD)-fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Wno-unused-parameter $(FUZZ_SAN)
FUZZ_CPPFLAGS := -Iinclude -Isrc -Iport -I$(FB)/include \
                 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
FUZZ_LIB := $(FB)/libchanwire-fuzz.a
FUZZ_LIB_OBJS := $(patsubst %.c,$(FB)/obj/%.o,$(filter-out $(TLS_SRCS),$(LIB_SRCS)))
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FB)/fuzz_%)

# ---- replay in make check ----
FUZZ_REPLAY_BINS := $(FUZZ_ALL:%=$(B)/tests/test_fuzz_%)
tests: $(FUZZ_REPLAY_BINS)

$(B)/tests/test_fuzz_%: $(B)/obj/tests/fuzz/fuzz_%.o $(B)/obj/tests/fuzz/replay.o $(LIB) $(TLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/obj/tests/fuzz/replay.o $(LIB) $(EXTRA_LIBS) -lm

# ---- libFuzzer builds ----
.PHONY: fuzz fuzz-build fuzz-long fuzz-merge
fuzz-build: $(FUZZ_BINS)
FUZZ_LONG_SECONDS ?= 600

$(FB)/include/cw_config.h: $(CONFIG_SRC) scripts/mkconfig.sh
	@mkdir -p $(dir $@)
	$(Q)sh scripts/mkconfig.sh < $(CONFIG_SRC) > $@.tmp && mv $@.tmp $@

# The library with coverage instrumentation, the targets linked to libFuzzer.
# Only the targets see tests/fuzz; the library sees include/, src/, port/.
$(FB)/obj/tests/%.o: FUZZ_CPPFLAGS += -Itests/fuzz
$(FB)/obj/%.o: %.c $(FB)/include/cw_config.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC-FUZZ $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(FUZZ_AR) rcs $@ $^

$(FB)/fuzz_%: $(FB)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	@$(if $(Q),echo "  LD-FUZZ $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) -lm

fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-run-%: $(FB)/fuzz_%
	$(Q)sh tests/fuzz/run.sh $* $(FB) $(FUZZ_SECONDS)

# The campaign, then the merge (a sub-make: the merge waits for every run).
fuzz-long:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_LONG_SECONDS)
	$(Q)$(MAKE) --no-print-directory fuzz-merge

fuzz-merge: $(FUZZ_TARGETS:%=fuzz-merge-%)
	@echo "fuzz-merge: tests/fuzz/corpus has $$(find tests/fuzz/corpus -type f | wc -l) inputs," \
	  "$$(cat tests/fuzz/corpus/*/* | wc -c) bytes; new ones: git status tests/fuzz/corpus"

fuzz-merge-%: $(FB)/fuzz_%
	$(Q)sh tests/fuzz/run.sh --merge $* $(FB)

-include $(wildcard $(FB)/obj/*/*.d $(FB)/obj/*/*/*.d $(FB)/obj/*/*/*/*.d)
