# SPDX-License-Identifier: MIT
# mt7621-router: MediaTek MT7621 routers (MIPS 1004Kc, little-endian, 128-512
# MiB RAM) running OpenWrt, whose userland is musl. Debian's cross gcc
# targets glibc; musl comes from multiarch musl-dev:mipsel through its specs
# file. Static, so it runs on any firmware. qemu has no 1004Kc: 24Kf runs
# the same mips32r2 code. The MT7621 has no FPU: the kernel's FPU emulator
# covers the few floating-point instructions (JWT claim times) as it does
# for every hard-float OpenWrt binary.
CROSS_COMPILE ?= mipsel-linux-gnu-
MUSL_SPECS ?= /usr/lib/mipsel-linux-musl/musl-gcc.specs
ifeq ($(origin CC)$(CROSS_COMPILE),defaultmipsel-linux-gnu-)
CC := $(CROSS_COMPILE)gcc -specs $(MUSL_SPECS)
endif
BOARD_CFLAGS ?= -march=mips32r2 -mtune=1004kc -ffunction-sections -fdata-sections
BOARD_LDFLAGS ?= -static -Wl,--gc-sections
CFLAGS ?= -Os -g
BOARD_QEMU ?= qemu-mipsel -cpu 24Kf
BOARD_SLOW ?= 3
BOARD_LIBC := musl (static)
BOARD_DEB_ARCH := mipsel
BOARD_APT := gcc-mipsel-linux-gnu libc6-dev-mipsel-cross musl-dev:mipsel qemu-user
# Router-sized pools (4 KiB messages, few clients) are smaller than most
# integration cases need (1 MiB messages, 200 clients at once): make check
# runs the suites that fit, and the bad-input, exhaustion and fault suites,
# whose cases scale to the build's pools. CHECK_ONLY="..." overrides.
BOARD_CHECK_ONLY ?= unit test_static.py test_close.py test_utf8.py test_defaults.py channels.test.js chat.test.js \
                    test_json_consumers.py \
                    test_badinput.py test_faults.py test_chaos.py test_y2038.py
