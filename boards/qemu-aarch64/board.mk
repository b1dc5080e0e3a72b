# qemu-aarch64: Cortex-A53/A72 class boards (Raspberry Pi 3/4/5, RK3399,
# i.MX8M), arm64 glibc.
CROSS_COMPILE ?= aarch64-linux-gnu-
BOARD_CFLAGS ?= -mcpu=cortex-a53 -ffunction-sections -fdata-sections
BOARD_LDFLAGS ?= -Wl,--gc-sections
CFLAGS ?= -O2 -g
BOARD_QEMU ?= qemu-aarch64 -cpu cortex-a53 -L /usr/aarch64-linux-gnu
BOARD_SLOW ?= 3
BOARD_LIBC := glibc (dynamic)
BOARD_DEB_ARCH := arm64
BOARD_APT := gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
