# SPDX-License-Identifier: MIT
# chanwire: one entry point. Everything builds out of tree in build/<board>/.
#   make [BOARD=host] [CC=...] [CROSS_COMPILE=...] [CFLAGS=...] [V=1] [SANITIZE=1]
#   make run | check | clean
BOARD ?= host
BOARD_DIR := boards/$(BOARD)
ifeq ($(wildcard $(BOARD_DIR)/defconfig),)
$(error unknown BOARD '$(BOARD)': no $(BOARD_DIR)/defconfig)
endif
-include $(BOARD_DIR)/board.mk

BUILD_ROOT ?= build
B := $(BUILD_ROOT)/$(BOARD)$(if $(SANITIZE),-san)
# A .config in the build folder (from menuconfig) wins over the board's.
CONFIG_SRC := $(if $(wildcard $(B)/.config),$(B)/.config,$(BOARD_DIR)/defconfig)
include $(CONFIG_SRC)

ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
ifeq ($(origin AR),default)
AR := $(CROSS_COMPILE)ar
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

CFLAGS ?= -O2 -g
# WERROR= (empty) for toolchains newer than the one the code is checked with
# (distribution package builds); CI keeps -Werror.
WERROR ?= -Werror
WARN := -Wall -Wextra $(WERROR) -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes
# The library's objects see only the public headers, src/, port/ and the
# generated config; programs, examples and tests add their own folders.
CPPFLAGS_ALL := -Iinclude -Isrc -Iport -I$(B)/include -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
CPPFLAGS_APPS := -Iapps -Iexamples -Itests/lib
# 64-bit time_t on 32-bit glibc (2.34+); musl and 64-bit targets ignore it.
CPPFLAGS_ALL += $(if $(CONFIG_TIME64),-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64)
comma := ,
SAN_FLAGS := $(if $(SANITIZE),-fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
ALL_CFLAGS := -std=c11 $(WARN) $(BOARD_CFLAGS) $(CFLAGS) $(SAN_FLAGS) -MMD -MP
ALL_LDFLAGS := $(BOARD_LDFLAGS) $(LDFLAGS) $(SAN_FLAGS)

# The library, bottom to top (docs/architecture.md): src/base, src/proto,
# src/core, src/channels, then src/*.c. Optional modules (Kconfig
# "Features") are compiled only when selected.
OPT_SRCS := src/channels/groups.c src/proto/json.c src/proto/jwt.c src/base/sha256.c \
            src/proto/static.c src/control.c src/proto/control_cmd.c src/core/share.c
OPT_SRCS-$(CONFIG_GROUPS) += src/channels/groups.c
OPT_SRCS-$(CONFIG_FAIR_SHARES) += src/core/share.c
OPT_SRCS-$(CONFIG_JSON) += src/proto/json.c
OPT_SRCS-$(CONFIG_JWT) += src/proto/jwt.c src/base/sha256.c
OPT_SRCS-$(CONFIG_STATIC_FILES) += src/proto/static.c
OPT_SRCS-$(CONFIG_CONTROL_SOCKET) += src/control.c src/proto/control_cmd.c
# Prometheus metrics and the log's flood guard (issue 18).
# src/metrics.c is always built: without the option it holds only the
# "not in this build" answers of its public calls.
OPT_SRCS += src/base/hist.c src/base/loglimit.c
OPT_SRCS-$(CONFIG_METRICS) += src/base/hist.c
OPT_SRCS-$(CONFIG_LOG_RATELIMIT) += src/base/loglimit.c
# The application loop (issue 13): timers, watches, posts, foreign loops.
OPT_SRCS += src/core/app_timer.c src/core/watch.c src/core/post.c
OPT_SRCS-$(CONFIG_APP_TIMERS) += src/core/app_timer.c
OPT_SRCS-$(CONFIG_WATCHES) += src/core/watch.c
OPT_SRCS-$(CONFIG_POSTS) += src/core/post.c
# The Redis channel layer; src/channels/layer_redis.c is always built, as
# without the option it holds only cw_redis_layer's "not in this build" answer.
OPT_SRCS += src/proto/resp.c src/proto/msgpack.c src/proto/layer_msg.c src/channels/core_wire.c
OPT_SRCS-$(CONFIG_LAYER_REDIS) += src/proto/resp.c src/proto/msgpack.c src/proto/layer_msg.c \
                                  src/channels/core_wire.c
OPT_SRCS += src/proto/proxy_hdr.c src/core/trusted.c
OPT_SRCS-$(CONFIG_PROXY_HEADERS) += src/proto/proxy_hdr.c src/core/trusted.c
TLS_SRCS := src/core/tls.c
ALL_LIB_SRCS := $(wildcard src/base/*.c src/proto/*.c src/core/*.c src/channels/*.c src/*.c)
CORE_SRCS := $(filter-out $(TLS_SRCS) $(OPT_SRCS),$(ALL_LIB_SRCS)) $(OPT_SRCS-y)
PORT_SRCS := port/posix/clock.c port/posix/clock_us.c port/posix/random.c port/posix/log.c port/posix/net.c \
             port/posix/signals.c port/posix/files.c port/linux/watchdog.c \
             port/posix/privs.c port/posix/wakeup.c port/posix/process.c
ifeq ($(CONFIG_POLLER_POLL),y)
PORT_SRCS += port/posix/poller_poll.c
else
PORT_SRCS += port/linux/poller_epoll.c
endif
LIB_SRCS := $(CORE_SRCS) $(PORT_SRCS)

# TLS: mbedTLS's static libraries, copied into the build folder with their
# calloc/free references renamed to the TLS arena (src/core/tls_arena.c), so mbedTLS
# allocates only from that static arena and libc's own allocations stay
# libc's. MBEDTLS_INCDIR/MBEDTLS_LIBDIR point at another mbedTLS (e.g. 3.x).
ifeq ($(CONFIG_TLS),y)
LIB_SRCS += $(TLS_SRCS)
ifeq ($(origin OBJCOPY),undefined)
OBJCOPY := $(CROSS_COMPILE)objcopy
endif
MBEDTLS_LIBDIR ?= $(patsubst %/,%,$(dir $(shell $(CC) -print-file-name=libmbedtls.a)))
ifneq ($(MBEDTLS_INCDIR),)
CPPFLAGS_ALL += -I$(MBEDTLS_INCDIR)
endif
# MBEDTLS_LINK=shared links the shared mbedTLS instead (a distribution whose
# libraries are shared only, e.g. Buildroot's BR2_SHARED_LIBS): it must be
# built with MBEDTLS_PLATFORM_MEMORY, so that mbedtls_platform_set_calloc_free
# points its allocations at the same arena at start-up (src/core/tls.c); the
# build checks that and stops otherwise.
MBEDTLS_LINK ?= static
ifeq ($(MBEDTLS_LINK),shared)
TLS_LIBS := $(B)/mbedtls/platform-memory.ok
EXTRA_LIBS += -lmbedtls -lmbedx509 -lmbedcrypto -lpthread
else
TLS_LIBS := $(B)/mbedtls/libmbedtls.a $(B)/mbedtls/libmbedx509.a $(B)/mbedtls/libmbedcrypto.a
EXTRA_LIBS += $(TLS_LIBS) -lpthread
endif
endif
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
LIB := $(B)/libchanwire.a

# The chat and presence consumers need groups and JSON; without them the
# daemon serves /ws/echo/ only (the tiny profile).
DAEMON_SRCS := apps/chanwired.c examples/routes.c examples/echo.c
ifeq ($(CONFIG_GROUPS)$(CONFIG_JSON),yy)
DAEMON_SRCS += examples/chat.c examples/users.c examples/channels.c
ifeq ($(CONFIG_APP_TIMERS),y)
DAEMON_SRCS += examples/status.c
endif
endif
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(B)/obj/%.o)
DAEMON := $(B)/chanwired
CLI := $(B)/chanwire-send

TEST_LIB_SRCS := tests/lib/unit.c tests/lib/wsclient.c
TEST_LIB_OBJS := $(TEST_LIB_SRCS:%.c=$(B)/obj/%.o)
# Unit tests of optional modules are built only with their module.
UNIT_OFF := $(if $(CONFIG_GROUPS),,tests/unit/test_groups.c) \
            $(if $(CONFIG_JSON),,tests/unit/test_json.c) \
            $(if $(CONFIG_JWT),,tests/unit/test_sha256_jwt.c) \
            $(if $(CONFIG_STATIC_FILES),,tests/unit/test_static.c) \
            $(if $(CONFIG_CONTROL_SOCKET),,tests/unit/test_control.c) \
            $(if $(CONFIG_FAIR_SHARES),,tests/unit/test_share.c) \
            $(if $(CONFIG_METRICS),,tests/unit/test_metrics.c) \
            $(if $(CONFIG_LOG_RATELIMIT),,tests/unit/test_loglimit.c) \
            $(if $(CONFIG_MEM_PLAN),,tests/unit/test_plan.c)
UNIT_OFF += $(if $(CONFIG_LAYER_REDIS),,tests/unit/test_resp.c tests/unit/test_msgpack.c \
              tests/unit/test_layer_redis.c tests/unit/test_core_wire.c)
UNIT_OFF += $(if $(CONFIG_APP_TIMERS),,tests/unit/test_app_timer.c) \
            $(if $(CONFIG_WATCHES),,tests/unit/test_watch.c) \
            $(if $(CONFIG_POSTS),,tests/unit/test_post.c)
UNIT_OFF += $(if $(CONFIG_PROXY_HEADERS),,tests/unit/test_proxy_hdr.c)
UNIT_SRCS := $(filter-out $(UNIT_OFF),$(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
CTOOL_SRCS := $(wildcard tests/integration/*.c)
CTOOL_BINS := $(CTOOL_SRCS:tests/integration/%.c=$(B)/tests/%)
# The daemon with a malloc-counting shim linked in (tests/lib/malloc_count.c).
DAEMON_COUNTING := $(B)/tests/chanwired-counting

CONFIG_H := $(B)/include/cw_config.h

# Test objects are intermediate files of pattern rules: keep them.
.SECONDARY:

.PHONY: all lib daemon tests run test check check-one check-layers check-doc-tests clean size check-packaging check-deb
all: $(LIB) $(DAEMON) $(if $(CONFIG_CONTROL_SOCKET),$(CLI)) tests

lib: $(LIB)
daemon: $(DAEMON)
# The application-loop test program (tests/apps/loopapp.c), with and
# without the malloc-counting shim, in builds with the whole loop API.
LOOP_API := $(CONFIG_APP_TIMERS)$(CONFIG_WATCHES)$(CONFIG_POSTS)$(CONFIG_FOREIGN_LOOP)$(CONFIG_DEFERRED_ACCEPT)
LOOPAPP := $(if $(filter yyyyy,$(LOOP_API)),$(B)/tests/loopapp $(B)/tests/loopapp-counting)
# Examples of chanwire driven by another main loop (GLib, libuv), built on
# native epoll boards with the foreign-loop API when pkg-config finds the library
# (Debian: libglib2.0-dev, libuv1-dev); tests/integration/test_foreign_loops.py
# says which are missing.
ifeq ($(CROSS_COMPILE)/$(CONFIG_FOREIGN_LOOP)/$(CONFIG_APP_TIMERS)/$(CONFIG_POLLER_POLL),/y/y/)
GLIB_LIBS := $(shell pkg-config --libs glib-2.0 2>/dev/null)
UV_LIBS := $(shell pkg-config --libs libuv 2>/dev/null)
FOREIGN_EXAMPLES := $(if $(GLIB_LIBS),$(B)/examples/glib_loop) $(if $(UV_LIBS),$(B)/examples/libuv_loop)
$(B)/obj/examples/glib_loop.o: CPPFLAGS_EXTRA += $(patsubst -I%,-isystem %,$(shell pkg-config --cflags glib-2.0 2>/dev/null))
$(B)/obj/examples/libuv_loop.o: CPPFLAGS_EXTRA += $(patsubst -I%,-isystem %,$(shell pkg-config --cflags libuv 2>/dev/null))
$(B)/examples/glib_loop: LOOP_LIBS := $(GLIB_LIBS)
$(B)/examples/libuv_loop: LOOP_LIBS := $(UV_LIBS)
$(B)/examples/%_loop: $(B)/obj/examples/%_loop.o $(LIB) $(TLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(EXTRA_LIBS) $(LOOP_LIBS)
endif
tests: $(UNIT_BINS) $(CTOOL_BINS) $(DAEMON_COUNTING) $(LOOPAPP) $(FOREIGN_EXAMPLES)

# The header is compiled against src/config_check.h (with the board's
# compiler: sizes differ by target) before anything is built with it: a
# combination of options that cannot work stops the build here, with a
# message naming them. make check-config tests that it does. The header is
# replaced only when it changed, so editing the checks rebuilds nothing.
CONFIG_CHECK_DIR := $(B)/config-check
$(CONFIG_H): $(CONFIG_SRC) scripts/mkconfig.sh Kconfig src/config_check.h
	@mkdir -p $(dir $@) $(CONFIG_CHECK_DIR)
	$(Q)sh scripts/mkconfig.sh Kconfig < $(CONFIG_SRC) > $(CONFIG_CHECK_DIR)/cw_config.h
	$(Q)echo '#include "config_check.h"' | $(CC) -I$(CONFIG_CHECK_DIR) $(CPPFLAGS_ALL) $(CPPFLAGS) \
	  -std=c11 $(BOARD_CFLAGS) -fsyntax-only -x c - || { echo "$(CONFIG_SRC): these options" \
	  "cannot work together (src/config_check.h, docs/configuration.md)"; exit 1; }
	$(Q)cmp -s $(CONFIG_CHECK_DIR)/cw_config.h $@ || cp $(CONFIG_CHECK_DIR)/cw_config.h $@

# Programs, examples and tests may include apps/, examples/ and tests/lib/;
# the library may not.
$(B)/obj/apps/%.o $(B)/obj/examples/%.o $(B)/obj/tests/%.o: CPPFLAGS_EXTRA := $(CPPFLAGS_APPS)

$(B)/obj/%.o: %.c $(CONFIG_H)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS_EXTRA) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/mbedtls/platform-memory.ok: $(CONFIG_H)
	@mkdir -p $(dir $@)
	$(Q)printf '#include <mbedtls/platform.h>\n#if !defined(MBEDTLS_PLATFORM_MEMORY) || defined(MBEDTLS_PLATFORM_CALLOC_MACRO)\n#error no mbedtls_platform_set_calloc_free\n#endif\n' | \
	  $(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) -E -o /dev/null -x c - 2>/dev/null || { echo "MBEDTLS_LINK=shared needs" \
	  "an mbedTLS built with MBEDTLS_PLATFORM_MEMORY (its allocations go to the TLS arena);" \
	  "use MBEDTLS_LINK=static with its static libraries"; exit 1; }
	$(Q)touch $@

$(B)/mbedtls/%.a:
	@mkdir -p $(dir $@)
	@test -f $(MBEDTLS_LIBDIR)/$*.a || { echo "CONFIG_TLS needs mbedTLS's static libraries:" \
	  "apt-get install libmbedtls-dev (or set MBEDTLS_LIBDIR)"; exit 1; }
	@$(if $(Q),echo "  OBJCOPY $@")
	$(Q)$(OBJCOPY) --redefine-sym calloc=cw_tls_calloc --redefine-sym free=cw_tls_free \
	  $(MBEDTLS_LIBDIR)/$*.a $@

$(DAEMON): $(DAEMON_OBJS) $(LIB) $(TLS_LIBS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIB) $(EXTRA_LIBS)

$(CLI): $(B)/obj/apps/chanwire-send.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $<

$(DAEMON_COUNTING): $(DAEMON_OBJS) $(B)/obj/tests/lib/malloc_count.o $(LIB) $(TLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJS) $(B)/obj/tests/lib/malloc_count.o $(LIB) \
	  $(EXTRA_LIBS)

$(B)/tests/loopapp: $(B)/obj/tests/apps/loopapp.o $(LIB) $(TLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(EXTRA_LIBS) -lpthread

$(B)/tests/loopapp-counting: $(B)/obj/tests/apps/loopapp.o $(B)/obj/tests/lib/malloc_count.o $(LIB) \
  $(TLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(B)/obj/tests/lib/malloc_count.o $(LIB) $(EXTRA_LIBS) -lpthread

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(TEST_LIB_OBJS) $(LIB) $(TLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(LIB) $(EXTRA_LIBS) \
	  $(if $(filter %/test_post,$@),-lpthread)

$(B)/tests/%: $(B)/obj/tests/integration/%.o $(TEST_LIB_OBJS) $(LIB) $(TLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(LIB) $(EXTRA_LIBS)

# Build and start the daemon with its demo on 127.0.0.1:8080. A user other
# than root without $XDG_RUNTIME_DIR has no default control socket (never
# /tmp): it goes in the build folder, which is that user's own.
run: $(DAEMON) $(CLI)
	./$(DAEMON) --listen 127.0.0.1:8080 --www examples/www $(if $(filter 0,$(shell id -u)),--allow-root,$(if $(XDG_RUNTIME_DIR),,--control $(B)/chanwired.sock))

# Every suite for this board; on the host also the poll() build (the suites
# that drive its poller), the TLS build, whose pass runs the suites over
# wss:// (CW_TLS=1), the Redis-layer build and the ThreadSanitizer pass.
HAVE_MBEDTLS = $(wildcard $(patsubst %/,%,$(dir $(shell $(CC) -print-file-name=libmbedtls.a)))/libmbedtls.a)
# host-redis (the Redis channel layer built in) runs its own suites, those
# of the groups it hooks into, and the unit tests; the rest is the host's.
REDIS_SUITES := unit redis interop test_channels.py test_metrics.py
# host-poll differs from host only in its poller (port/posix/poller_poll.c):
# the suites that drive readiness, many sockets, timers, watches, faults and
# the callgrind guard's poll record; `make BOARD=host-poll check` runs all.
POLL_SUITES := unit wire test_websockets.py test_badinput.py test_faults.py test_chaos.py \
               test_loop.py test_shares.py test_daemon.py test_static.py test_framing.py \
               echo.test.js test_callgrind.py
# One total for the whole run: each board pass appends its totals to
# $(CHECK_TOTALS) (CW_TOTALS_FILE from outside, as .ci/run sets it, sums
# more passes); a pass that fails lets the others run, one that stops
# before reporting (a build error) is recorded as an error, and the last
# line is the grand total, which fails the run if any pass failed.
CHECK_TOTALS := $(abspath $(or $(CW_TOTALS_FILE),$(BUILD_ROOT)/check-totals))
# $(call check_pass,environment,make arguments,label)
define check_pass
	$(Q)f=$(CHECK_TOTALS); n=$$(cat $$f 2>/dev/null | wc -l); \
	$(1) CW_TOTALS_FILE=$$f $(MAKE) --no-print-directory $(2) || \
	  [ "$$(cat $$f 2>/dev/null | wc -l)" -gt "$$n" ] || echo "error $(3)" >> $$f
endef
check: check-layers check-doc-tests check-packaging
	$(Q)mkdir -p $(dir $(CHECK_TOTALS))$(if $(CW_TOTALS_FILE),,; rm -f $(CHECK_TOTALS))
	$(call check_pass,,check-one,$(BOARD))
ifeq ($(BOARD),host)
	$(call check_pass,,BOARD=host-poll check-one CHECK_ONLY="$(POLL_SUITES)",host-poll)
ifneq ($(HAVE_MBEDTLS),)
	$(call check_pass,CW_TLS=1,BOARD=host-tls check-one,host-tls)
else
	$(Q)CW_TOTALS_FILE=$(CHECK_TOTALS) python3 tests/run.py --board host-tls \
	  --unavailable "mbedTLS not installed (apt-get install libmbedtls-dev)" || true
endif
	$(call check_pass,,BOARD=host-redis check-one CHECK_ONLY="$(REDIS_SUITES)",host-redis)
	$(call check_pass,,check-tsan,check-tsan)
endif
	$(Q)python3 tests/run.py --grand-total $(CHECK_TOTALS)

# The README's test command: installs what the suites need (apt-get, npm;
# scripts/install-test-deps.sh) and runs every suite with nothing skipped.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test:
	$(Q)scripts/install-test-deps.sh
	$(Q)CHECK_STRICT=1 $(MAKE) --no-print-directory -j$(TEST_JOBS) check

# Cross boards: the native test programs and the daemon run under the
# board's qemu-user and CPU model (BOARD_QEMU in board.mk); the Python and
# Node clients run on the host and reach the daemon over loopback.
# CHECK_ONLY="glob ..." limits the suites (tests/run.py --only); boards
# whose pools are smaller than the integration cases assume set
# BOARD_CHECK_ONLY to the suites that fit.
# A board with BOARD_TLS := 1 in its board.mk runs its suites over TLS.
ifeq ($(BOARD_TLS),1)
export CW_TLS := 1
endif
ifneq ($(BOARD_QEMU),)
ifeq ($(origin CW_EXEC_PREFIX),undefined)
export CW_EXEC_PREFIX := $(BOARD_QEMU)
endif
export CW_SLOW ?= $(BOARD_SLOW)
endif

# cw_post's threads under clang's ThreadSanitizer: the post unit test and
# the library in a build folder of their own (make check runs it on host).
TSAN_B := $(BUILD_ROOT)/tsan
check-tsan:
	$(Q)if ! command -v clang >/dev/null; then echo "check-tsan: needs clang (apt-get install clang)"; exit 1; fi
	$(Q)$(MAKE) --no-print-directory BUILD_ROOT=$(TSAN_B) CC=clang CFLAGS="-O1 -g -fsanitize=thread" \
	  LDFLAGS=-fsanitize=thread $(TSAN_B)/$(BOARD)/tests/test_post
	$(Q)TSAN_OPTIONS=halt_on_error=1 python3 tests/run.py --build $(TSAN_B)/$(BOARD) \
	  --board $(BOARD)-tsan --only test_post

check-one: all
	$(Q)python3 tests/run.py --build $(B) --board $(BOARD)$(if $(SANITIZE), --sanitize) \
	  $(foreach o,$(or $(CHECK_ONLY),$(BOARD_CHECK_ONLY)),--only '$(o)')

# Every test the docs name (docs/security.md's rows, ...) exists.
check-doc-tests:
	$(Q)python3 scripts/check-doc-tests.py

# The packages (dist/, debian/): Buildroot's check-package rules, one
# control socket, version and board list across them, the OpenWrt procd
# script's command line, the BusyBox script run against the daemon
# (docs/packaging.md; the last with a native daemon, i.e. not under qemu).
check-packaging: $(if $(BOARD_QEMU),,$(DAEMON))
	$(Q)python3 scripts/check-buildroot-package.py
	$(Q)python3 tests/packaging/test_check_package.py
	$(Q)python3 tests/packaging/test_agree.py
	$(Q)sh tests/packaging/test_procd.sh
	$(if $(BOARD_QEMU),,$(Q)sh tests/packaging/test_sysv.sh $(B))
	$(Q)shellcheck dist/chanwired.default dist/openwrt/chanwire/files/chanwired.init \
	  scripts/check-deb.sh tests/packaging/test_procd.sh tests/packaging/test_sysv.sh

# The Debian packages built (host and armhf), lintian-clean, installed,
# started and removed (root; scripts/install-test-deps.sh --packaging).
check-deb:
	$(Q)sh scripts/check-deb.sh

# The include graph keeps the layers of docs/architecture.md: no file
# includes a header of a higher layer, no circle inside one layer.
check-layers:
	$(Q)python3 scripts/check-layers.py

clean:
	rm -rf $(BUILD_ROOT)

# Fuzz targets (make fuzz) and their corpus replay in make check; the
# fault-injection daemon (make check-faults) and the soak (make soak); the
# daemon with a moved wall clock (test_y2038.py); the
# benchmark (make bench) and its callgrind guard (in make check). A source
# without tests/ (what the Buildroot package copies) builds lib, daemon, cli.
ifneq ($(wildcard tests/run.py),)
include tests/fuzz/fuzz.mk tests/hardening.mk tests/clock.mk tests/bench/bench.mk
endif

# Configuration, sizes, the booted-board check, install and the Kconfig
# combinations no board builds (make check-combos, randconfig-check): mk/*.mk.
include mk/kconfig.mk mk/size.mk mk/vm.mk mk/install.mk mk/combos.mk

# Header dependencies of every object built so far (unit tests included).
-include $(wildcard $(B)/obj/*/*.d $(B)/obj/*/*/*.d $(B)/obj/*/*/*/*.d $(B)/obj/*/*/*/*/*.d)
