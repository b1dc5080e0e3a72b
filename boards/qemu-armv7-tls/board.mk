# SPDX-License-Identifier: MIT
# qemu-armv7-tls: the qemu-armv7 board with wss:// (CONFIG_TLS), built
# against the target's own mbedTLS: Debian's multiarch libmbedtls-dev:armhf
# (dpkg --add-architecture armhf; apt-get install libmbedtls-dev:armhf),
# found by the cross compiler in /usr/lib/arm-linux-gnueabihf. Its check
# runs the suites over TLS (CW_TLS=1) under qemu-arm.
include boards/qemu-armv7/board.mk
BOARD_APT += libmbedtls-dev:armhf
BOARD_TLS := 1
