# SPDX-License-Identifier: MIT
# tests/fuzz/fuzz.mk: the fuzz targets (included by the Makefile).
#
#   make fuzz [BOARD=host-redis] [FUZZ_SECONDS=60] [FUZZ_TARGETS="http ws_rx"] [-j N]
#       builds every tests/fuzz/fuzz_NAME.c with clang and libFuzzer under
#       ASan+UBSan in $(BUILD_ROOT)/$(BOARD)-fuzz and runs each for
#       FUZZ_SECONDS, starting from its seed corpus tests/fuzz/corpus/NAME
#       and its regression inputs tests/fuzz/regress/NAME. New inputs go to
#       the build folder, never into the repository. A crash stops the run
#       and names the input to add to tests/fuzz/regress/NAME.
#   make fuzz-build        only build them
# Targets of optional modules come with their module: resp, msgpack and
# layer_msg (the Redis layer) with BOARD=host-redis, which has every module.
#
# `make check` replays every seed and regression input without libFuzzer:
# $(B)/tests/test_fuzz_NAME (tests/fuzz/replay.c), with the normal compiler
# and, with SANITIZE=1, under ASan+UBSan.

# Targets of optional modules exist only in builds that have the module.
FUZZ_OFF := $(if $(CONFIG_JSON),,json) $(if $(CONFIG_JWT),,jwt) \
            $(if $(CONFIG_STATIC_FILES),,static) $(if $(CONFIG_CONTROL_SOCKET),,control) \
            $(if $(CONFIG_LAYER_REDIS),,resp msgpack layer_msg)
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
.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

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

-include $(wildcard $(FB)/obj/*/*.d $(FB)/obj/*/*/*.d $(FB)/obj/*/*/*/*.d)
