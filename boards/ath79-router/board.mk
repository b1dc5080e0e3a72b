# SPDX-License-Identifier: MIT
# ath79-router: Qualcomm Atheros AR71xx/AR9xxx/QCA95xx routers (MIPS 24Kc/74Kc,
# big-endian, 32-128 MiB RAM). OpenWrt's userland is musl, but Debian 12 has
# no big-endian MIPS port and so no musl-dev:mips: this is glibc, linked
# static (about 600 KiB more than musl; an OpenWrt SDK toolchain can be given
# with CROSS_COMPILE=mips-openwrt-linux-musl-).
CROSS_COMPILE ?= mips-linux-gnu-
BOARD_CFLAGS ?= -march=mips32r2 -mtune=24kc -ffunction-sections -fdata-sections
BOARD_LDFLAGS ?= -static -Wl,--gc-sections
CFLAGS ?= -Os -g
BOARD_QEMU ?= qemu-mips -cpu 24Kf
BOARD_SLOW ?= 3
BOARD_LIBC := glibc (static)
BOARD_DEB_ARCH := mips
BOARD_APT := gcc-mips-linux-gnu libc6-dev-mips-cross qemu-user
# Router-sized pools (4 KiB messages, few clients) are smaller than most
# integration cases need (1 MiB messages, 200 clients at once): make check
# runs the suites that fit, and the bad-input, exhaustion and fault suites,
# whose cases scale to the build's pools. CHECK_ONLY="..." overrides.
BOARD_CHECK_ONLY ?= unit test_static.py test_close.py test_utf8.py test_defaults.py channels.test.js chat.test.js \
                    test_json_consumers.py \
                    test_badinput.py test_faults.py test_chaos.py test_y2038.py
