# SPDX-License-Identifier: MIT
# tests/bench/bench.mk: the benchmark and its guard (included by the Makefile).
#
#   make bench [BENCH_ARGS="--scenarios echo_pipe --peers chanwired,lws --rounds 5"]
#       chanwired against libwebsockets, Node ws and Django Channels on
#       daphne (each when installed), server and generator pinned to a core
#       each; prints a Markdown table, writes JSON lines and the table to
#       $(BUILD_ROOT)/bench/. tests/bench/run.py --help lists the options.
#   make bench-quick       one short round of everything
#       Both also build the TLS daemon (board host-tls, in $(BUILD_ROOT)/host-tls)
#       when mbedTLS is installed, for the tls_churn scenario (TLS handshakes/s
#       and per server CPU-s, by tests/bench/tls_churn.py with openssl s_time).
#   make bench-arm         guest instructions per echoed message and per fan-out
#       delivery of the qemu-armv7 build under qemu-arm (tests/bench/qemu_insns.py,
#       from QEMU's in_asm/exec log), beside the host build's callgrind figures.
#       BENCH_ARM_ARGS="--repeat 5"; BENCH_ARM_BOARD=qemu-aarch64 for the
#       64-bit board.
#   make bench-redis       group sends per second through Redis between two
#       daemons (tests/bench/redis_rate.py; make bench runs it last)
#   make bench-record      re-records the callgrind guard's figures
#       (tests/bench/callgrind-baseline.json) for the host builds.
#
# `make check` runs the guard, tests/bench/test_callgrind.py: instructions
# per echoed message / fan-out delivery / connection under callgrind, at
# most 10% above the record.

BENCH_GEN := $(B)/bench/cwbench
BENCH_LWS := $(B)/bench/lws_peer
# The libwebsockets peer is built only when its headers are installed
# (apt-get install libwebsockets-dev); run.py reports it missing otherwise.
HAVE_LWS = $(wildcard /usr/include/libwebsockets.h)

tests: $(BENCH_GEN)

$(BENCH_GEN): $(B)/obj/tests/bench/cwbench.o $(B)/obj/tests/lib/wsclient.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lm

# A peer, not chanwire code: built with the library's own expectations.
$(BENCH_LWS): tests/bench/peers/lws_peer.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -O2 -g -Wall -Wextra -o $@ $< -lwebsockets

.PHONY: bench bench-quick bench-record bench-tls-daemon bench-arm bench-redis
bench: $(DAEMON) $(BENCH_GEN) $(if $(HAVE_LWS),$(BENCH_LWS)) bench-tls-daemon
	$(Q)python3 tests/bench/run.py --build $(B) --out $(BUILD_ROOT)/bench $(BENCH_ARGS)
	$(Q)if [ -x $(BUILD_ROOT)/host-tls/chanwired ]; then \
	  /usr/bin/python3 tests/bench/tls_memory.py --build $(BUILD_ROOT)/host-tls; fi
	$(Q)$(MAKE) --no-print-directory bench-redis

# Group sends through Redis between two daemons (the Redis channel layer,
# board host-redis): a room of 1 and of 100 members on the far instance,
# under each channels_redis layer (core: Django's default; pubsub), the
# same rooms served locally for comparison, and channel sends (one client's
# channel name on the far instance) under each layer. Needs redis-server.
bench-redis:
	$(Q)if command -v redis-server >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory BOARD=host-redis daemon && \
	  for m in 1 100; do \
	    for l in core pubsub; do \
	      python3 tests/bench/redis_rate.py --build $(BUILD_ROOT)/host-redis --members $$m --layer $$l || exit 1; \
	    done; \
	    python3 tests/bench/redis_rate.py --build $(BUILD_ROOT)/host-redis --members $$m --local || exit 1; \
	  done; \
	  for l in core pubsub; do \
	    python3 tests/bench/redis_rate.py --build $(BUILD_ROOT)/host-redis --channel --layer $$l || exit 1; \
	  done; \
	else \
	  echo "bench: redis-server not installed (apt-get install redis-server): no group-send rate through Redis"; \
	fi

bench-quick: $(DAEMON) $(BENCH_GEN) $(if $(HAVE_LWS),$(BENCH_LWS)) bench-tls-daemon
	$(Q)python3 tests/bench/run.py --build $(B) --out $(BUILD_ROOT)/bench --quick $(BENCH_ARGS)

# tls_churn's daemon: run.py looks for it in <build>/../host-tls. Built
# only when mbedTLS's static library is found (or MBEDTLS_LIBDIR is given);
# without it run.py notes tls_churn as not measured.
bench-tls-daemon:
	$(Q)if [ -n "$(MBEDTLS_LIBDIR)" ] || [ -f "$$($(CC) -print-file-name=libmbedtls.a)" ]; then \
	  $(MAKE) --no-print-directory BOARD=host-tls daemon; \
	else \
	  echo "bench: mbedTLS not installed (apt-get install libmbedtls-dev): no tls_churn"; \
	fi

BENCH_ARM_BOARD ?= qemu-armv7
bench-arm:
	$(Q)$(MAKE) --no-print-directory BOARD=$(BENCH_ARM_BOARD) daemon
	$(Q)$(MAKE) --no-print-directory BOARD=host daemon $(BUILD_ROOT)/host/bench/cwbench
	$(Q)python3 tests/bench/qemu_insns.py --build $(BUILD_ROOT)/$(BENCH_ARM_BOARD) \
	  --board $(BENCH_ARM_BOARD) --gen $(BUILD_ROOT)/host/bench/cwbench --host-build $(BUILD_ROOT)/host \
	  --out $(BUILD_ROOT)/bench/qemu-insns.json $(BENCH_ARM_ARGS)

bench-record:
	$(Q)$(MAKE) --no-print-directory BOARD=host all
	$(Q)python3 tests/bench/test_callgrind.py --build $(BUILD_ROOT)/host --board host --update
	$(Q)$(MAKE) --no-print-directory BOARD=host-poll all
	$(Q)python3 tests/bench/test_callgrind.py --build $(BUILD_ROOT)/host-poll --board host-poll --update

# make bench-loop: instructions per application timer fire and per post
# (tests/bench/loopcost.c under callgrind, tests/bench/loopcost.sh).
.PHONY: bench-loop
$(B)/bench/loopcost: $(B)/obj/tests/bench/loopcost.o $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(EXTRA_LIBS)
bench-loop: $(B)/bench/loopcost
	$(Q)sh tests/bench/loopcost.sh $(B)/bench/loopcost
