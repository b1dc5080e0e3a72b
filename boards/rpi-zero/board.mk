# SPDX-License-Identifier: MIT
# rpi-zero: Raspberry Pi Zero/Zero W/1 (BCM2835, ARM1176JZF-S, ARMv6). Debian
# has no ARMv6 hard-float toolchain (armhf code dies with SIGILL there), so
# this is armel soft-float ABI with VFP code, linked static: the binary runs
# on Raspberry Pi OS and on any ARMv6+ Linux.
CROSS_COMPILE ?= arm-linux-gnueabi-
BOARD_CFLAGS ?= -march=armv6kz -mfpu=vfp -mfloat-abi=softfp -marm -ffunction-sections -fdata-sections
BOARD_LDFLAGS ?= -static -Wl,--gc-sections
CFLAGS ?= -Os -g
BOARD_QEMU ?= qemu-arm -cpu arm1176
BOARD_SLOW ?= 3
BOARD_LIBC := glibc (static)
BOARD_DEB_ARCH := armel
BOARD_APT := gcc-arm-linux-gnueabi libc6-dev-armel-cross qemu-user
