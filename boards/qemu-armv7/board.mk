# SPDX-License-Identifier: MIT
# qemu-armv7: Cortex-A7 class boards (Raspberry Pi 2/3 in 32-bit mode, i.MX6UL,
# Allwinner H3, STM32MP1), armhf glibc, Thumb-2, -Os. Also the size-budget target.
# No PIE and link-time optimisation: the smallest code for the size budget
# (make size-check); the tests run on exactly this build. A PIE build of the
# same code is about 2.3 KiB larger.
CROSS_COMPILE ?= arm-linux-gnueabihf-
# Scheduling after register allocation and sibling calls each make this
# Thumb-2 code larger (about 220 bytes together, measured with make size).
BOARD_SIZE_CFLAGS := -fno-schedule-insns2 -fno-optimize-sibling-calls
BOARD_CFLAGS ?= -mcpu=cortex-a7 -mthumb -ffunction-sections -fdata-sections -fno-pie -flto -ffat-lto-objects \
                $(BOARD_SIZE_CFLAGS)
BOARD_LDFLAGS ?= -Wl,--gc-sections -no-pie -flto -mcpu=cortex-a7 -mthumb -Os
CFLAGS ?= -Os -g
# LD_LIBRARY_PATH: the cross libc with the cross loader. Once a multiarch
# libc6:armhf is installed too (e.g. by libmbedtls-dev:armhf), the guest's
# loader would find that other glibc build through the host's ld.so.cache
# and mix the two: forked children crash.
BOARD_QEMU ?= qemu-arm -cpu cortex-a7 -L /usr/arm-linux-gnueabihf -E LD_LIBRARY_PATH=/usr/arm-linux-gnueabihf/lib
BOARD_SLOW ?= 3
BOARD_LIBC := glibc (dynamic)
BOARD_DEB_ARCH := armhf
BOARD_APT := gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user
