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
WARN := -Wall -Wextra -Werror -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS_ALL := -Iinclude -Isrc -Iport -Iexamples -Itests/lib -I$(B)/include -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
comma := ,
SAN_FLAGS := $(if $(SANITIZE),-fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
ALL_CFLAGS := -std=c11 $(WARN) $(BOARD_CFLAGS) $(CFLAGS) $(SAN_FLAGS) -MMD -MP
ALL_LDFLAGS := $(BOARD_LDFLAGS) $(LDFLAGS) $(SAN_FLAGS)

CORE_SRCS := $(wildcard src/*.c)
PORT_SRCS := port/posix/clock.c port/posix/random.c port/posix/log.c port/posix/net.c \
             port/posix/signals.c port/posix/files.c
ifeq ($(CONFIG_POLLER_POLL),y)
PORT_SRCS += port/posix/poller_poll.c
else
PORT_SRCS += port/linux/poller_epoll.c
endif
LIB_SRCS := $(CORE_SRCS) $(PORT_SRCS)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
LIB := $(B)/libchanwire.a

DAEMON_SRCS := examples/chanwired.c examples/routes.c examples/echo.c examples/chat.c \
               examples/users.c
DAEMON_OBJS := $(DAEMON_SRCS:%.c=$(B)/obj/%.o)
DAEMON := $(B)/chanwired
CLI := $(B)/chanwire-send

TEST_LIB_SRCS := tests/lib/unit.c tests/lib/wsclient.c
TEST_LIB_OBJS := $(TEST_LIB_SRCS:%.c=$(B)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
CTOOL_SRCS := $(wildcard tests/integration/*.c)
CTOOL_BINS := $(CTOOL_SRCS:tests/integration/%.c=$(B)/tests/%)
# The daemon with a malloc-counting shim linked in (tests/lib/malloc_count.c).
DAEMON_COUNTING := $(B)/tests/chanwired-counting

CONFIG_H := $(B)/include/cw_config.h

# Test objects are intermediate files of pattern rules: keep them.
.SECONDARY:

.PHONY: all lib daemon tests run check check-one clean size
all: $(LIB) $(DAEMON) $(CLI) tests

lib: $(LIB)
daemon: $(DAEMON)
tests: $(UNIT_BINS) $(CTOOL_BINS) $(DAEMON_COUNTING)

$(CONFIG_H): $(CONFIG_SRC) scripts/mkconfig.sh
	@mkdir -p $(dir $@)
	$(Q)sh scripts/mkconfig.sh < $(CONFIG_SRC) > $@.tmp && mv $@.tmp $@

$(B)/obj/%.o: %.c $(CONFIG_H)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(DAEMON): $(DAEMON_OBJS) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIB)

$(CLI): $(B)/obj/examples/chanwire-send.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $<

$(DAEMON_COUNTING): $(DAEMON_OBJS) $(B)/obj/tests/lib/malloc_count.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJS) $(B)/obj/tests/lib/malloc_count.o $(LIB)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(TEST_LIB_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(LIB)

$(B)/tests/%: $(B)/obj/tests/integration/%.o $(TEST_LIB_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_LIB_OBJS) $(LIB)

# Build and start the daemon with its demo on 127.0.0.1:8080.
run: $(DAEMON) $(CLI)
	./$(DAEMON) --listen 127.0.0.1:8080 --www examples/www

# Every suite for this board; on the host also the poll() build.
check:
	$(Q)$(MAKE) --no-print-directory check-one
ifeq ($(BOARD),host)
	$(Q)$(MAKE) --no-print-directory BOARD=host-poll check-one
endif

check-one: all
	$(Q)python3 tests/run.py --build $(B) --board $(BOARD)$(if $(SANITIZE), --sanitize)

size: $(LIB) $(DAEMON)
	$(Q)$(CROSS_COMPILE)size $(LIB) $(DAEMON)

clean:
	rm -rf $(BUILD_ROOT)

# Header dependencies of every object built so far (unit tests included).
-include $(wildcard $(B)/obj/*/*.d $(B)/obj/*/*/*.d $(B)/obj/*/*/*/*.d)
