# tiny: the smallest useful build, an echo server: no groups, JSON, JWT,
# static files, control socket or syslog, 16 connections, 1 KiB messages.
# Built for the size-budget target (Cortex-A7, Thumb-2, -Os), dynamically
# linked like the full daemon it is compared with (make size-check).
# No PIE and link-time optimisation, as qemu-armv7.
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
# Echo only, 1 KiB messages: make check runs the unit suites of the modules
# it has and the suites that fit. CHECK_ONLY="..." overrides.
BOARD_CHECK_ONLY ?= unit test_close.py test_utf8.py
