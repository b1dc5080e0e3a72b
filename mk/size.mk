# SPDX-License-Identifier: MIT
# mk/size.mk: code and static RAM (included by the Makefile).
#   make [BOARD=b] size   size's text column (code, read-only data, PLT and
#                         dynamic symbols), .text, .rodata, .data, .bss of the
#                         library and daemon
#   make size-all         the same for every board whose toolchain is installed
#   make size-check       the budget (scripts/size-budget) in size's text
#                         column, on the qemu-armv7 toolchain: the full daemon
#                         (TLS and Redis layer forced off), tiny, the TLS
#                         build (qemu-armv7-tls) and the Redis-layer build
#   make [BOARD=b] size-map  the 30 largest functions and read-only objects
#                         of the daemon, and the sections of its text column
#   make ram-table        static RAM and RSS per board (scripts/ram-table.py)
SIZE_TOOL = $(firstword $(CROSS_COMPILE)size)
SIZE_B := $(BUILD_ROOT)/size

.PHONY: size size-all size-check
size: $(LIB) $(DAEMON)
	$(Q)sh scripts/size.sh $(SIZE_TOOL) $(BOARD) $(LIB) $(DAEMON)

size-all:
	$(Q)for b in $(ALL_BOARDS); do \
	  cc=$$($(MAKE) -s --no-print-directory BOARD=$$b print-CC); \
	  if ! command -v $${cc%% *} >/dev/null; then echo "$$b: no $${cc%% *} (skipped)"; continue; fi; \
	  $(MAKE) -s --no-print-directory BOARD=$$b lib daemon >/dev/null || exit 1; \
	  $(MAKE) -s --no-print-directory BOARD=$$b size | tail -n +$$( [ $$b = $(firstword $(ALL_BOARDS)) ] && echo 1 || echo 2); \
	done

size-check:
	@mkdir -p $(SIZE_B)/qemu-armv7 $(SIZE_B)/redis/qemu-armv7
	$(Q)cp boards/qemu-armv7/defconfig $(SIZE_B)/qemu-armv7/.config.new
	$(Q)sh scripts/setconfig.sh $(SIZE_B)/qemu-armv7/.config.new TLS=n LAYER_REDIS=n
	$(Q)cmp -s $(SIZE_B)/qemu-armv7/.config.new $(SIZE_B)/qemu-armv7/.config || \
	  mv $(SIZE_B)/qemu-armv7/.config.new $(SIZE_B)/qemu-armv7/.config
	$(Q)cp boards/qemu-armv7/defconfig $(SIZE_B)/redis/qemu-armv7/.config.new
	$(Q)sh scripts/setconfig.sh $(SIZE_B)/redis/qemu-armv7/.config.new TLS=n LAYER_REDIS=y LAYER_REDIS_SENDQ=1572864
	$(Q)cmp -s $(SIZE_B)/redis/qemu-armv7/.config.new $(SIZE_B)/redis/qemu-armv7/.config || \
	  mv $(SIZE_B)/redis/qemu-armv7/.config.new $(SIZE_B)/redis/qemu-armv7/.config
	$(Q)$(MAKE) --no-print-directory BOARD=qemu-armv7 BUILD_ROOT=$(SIZE_B) daemon
	$(Q)$(MAKE) --no-print-directory BOARD=tiny BUILD_ROOT=$(SIZE_B) daemon
	$(Q)$(MAKE) --no-print-directory BOARD=qemu-armv7-tls BUILD_ROOT=$(SIZE_B) daemon
	$(Q)$(MAKE) --no-print-directory BOARD=qemu-armv7 BUILD_ROOT=$(SIZE_B)/redis daemon
	$(Q)sh scripts/size.sh arm-linux-gnueabihf-size armv7-full $(SIZE_B)/qemu-armv7/chanwired
	$(Q)sh scripts/size.sh arm-linux-gnueabihf-size tiny $(SIZE_B)/tiny/chanwired | tail -n 1
	$(Q)sh scripts/size.sh arm-linux-gnueabihf-size armv7-tls $(SIZE_B)/qemu-armv7-tls/chanwired | tail -n 1
	$(Q)sh scripts/size.sh arm-linux-gnueabihf-size armv7-redis $(SIZE_B)/redis/qemu-armv7/chanwired | tail -n 1
	$(Q)sh scripts/size-check.sh scripts/size-budget arm-linux-gnueabihf-size \
	  full=$(SIZE_B)/qemu-armv7/chanwired tiny=$(SIZE_B)/tiny/chanwired \
	  tls=$(SIZE_B)/qemu-armv7-tls/chanwired redis=$(SIZE_B)/redis/qemu-armv7/chanwired

.PHONY: size-map ram-table
size-map: $(DAEMON)
	$(Q)$(KCONFIG_PY) scripts/size-map.py --prefix "$(CROSS_COMPILE)" $(DAEMON)

ram-table:
	$(Q)$(KCONFIG_PY) scripts/ram-table.py --build-root $(BUILD_ROOT)

print-%:
	@echo '$($*)'
