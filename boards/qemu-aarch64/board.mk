# SPDX-License-Identifier: MIT
# qemu-aarch64: Cortex-A53/A72 class boards (Raspberry Pi 3/4/5, RK3399,
# i.MX8M), arm64 glibc.
CROSS_COMPILE ?= aarch64-linux-gnu-
BOARD_CFLAGS ?= -mcpu=cortex-a53 -ffunction-sections -fdata-sections
BOARD_LDFLAGS ?= -Wl,--gc-sections
CFLAGS ?= -O2 -g
# LD_LIBRARY_PATH: the cross libc with the cross loader. Once a multiarch
# libc6:arm64 is installed too (e.g. by libmbedtls-dev:arm64), the guest's
# loader would find that other glibc build through the host's ld.so.cache
# and mix the two: forked children crash.
BOARD_QEMU ?= qemu-aarch64 -cpu cortex-a53 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib
BOARD_SLOW ?= 3
BOARD_LIBC := glibc (dynamic)
BOARD_DEB_ARCH := arm64
BOARD_APT := gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
