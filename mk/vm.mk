# SPDX-License-Identifier: MIT
# mk/vm.mk: `make BOARD=qemu-armv7 check-vm` (included by the Makefile).
# Builds the daemon static with CONFIG_WATCHDOG on (in $(BUILD_ROOT)/vm): a
# 10 s softdog timeout, kicked every 2 s, so a reactor that stopped kicking
# would reboot the board (qemu -no-reboot: it stops) in the middle of the
# suites. Boots Debian's armhf kernel with it under qemu-system-arm -M virt
# and runs the integration suites from the host against it (tests/qemu/vm.py).
VM_B := $(BUILD_ROOT)/vm

.PHONY: check-vm
check-vm:
ifneq ($(BOARD),qemu-armv7)
	@echo "check-vm boots the qemu-armv7 board: make BOARD=qemu-armv7 check-vm"; exit 2
endif
	@mkdir -p $(VM_B)/qemu-armv7
	$(Q)cp boards/qemu-armv7/defconfig $(VM_B)/qemu-armv7/.config.new
	$(Q)sh scripts/setconfig.sh $(VM_B)/qemu-armv7/.config.new TLS=n \
	  WATCHDOG=y WATCHDOG_TIMEOUT_S=10 WATCHDOG_INTERVAL_MS=2000
	$(Q)cmp -s $(VM_B)/qemu-armv7/.config.new $(VM_B)/qemu-armv7/.config || \
	  mv $(VM_B)/qemu-armv7/.config.new $(VM_B)/qemu-armv7/.config
	$(Q)$(MAKE) --no-print-directory BOARD=qemu-armv7 BUILD_ROOT=$(VM_B) \
	  BOARD_LDFLAGS="-static $(BOARD_LDFLAGS)" daemon
	$(Q)python3 tests/qemu/vm.py --build $(VM_B)/qemu-armv7 --cache $(BUILD_ROOT)/vm-cache \
	  $(foreach o,$(CHECK_ONLY),--only '$(o)')
