# SPDX-License-Identifier: MIT
# tiny: the smallest useful build, an echo server: no groups, JSON, JWT,
# static files, control socket or syslog, 16 connections, 1 KiB messages.
# Built for the size-budget target with exactly its toolchain and flags
# (Cortex-A7, Thumb-2, -Os, no PIE, LTO, dynamically linked), so that
# make size-check compares it with the full daemon like for like.
include boards/qemu-armv7/board.mk
# Echo only, 1 KiB messages: make check runs the unit suites of the modules
# it has and the suites that fit. CHECK_ONLY="..." overrides.
BOARD_CHECK_ONLY ?= unit test_close.py test_utf8.py
