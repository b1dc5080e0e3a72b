# SPDX-License-Identifier: MIT
# tiny: the smallest useful build, an echo server: no groups, JSON, JWT,
# static files, control socket or syslog, 16 connections, 1 KiB messages.
# Built for the size-budget target with exactly its toolchain and flags
# (Cortex-A7, Thumb-2, -Os, no PIE, LTO, dynamically linked), so that
# make size-check compares it with the full daemon like for like.
include boards/qemu-armv7/board.mk
# Echo only, 1 KiB messages: make check runs the unit suites of the modules
# it has and the suites that fit (also the debug log compiled out, the
# layers, the wall clock past 2038; 3 cases skip for messages over 1 KiB).
# The others assume the chat consumers, the control socket or larger
# messages. CHECK_ONLY="..." overrides.
BOARD_CHECK_ONLY ?= unit test_close.py test_utf8.py test_footprint.py test_debug_log.py \
                    test_layers.py test_y2038.py
# SysV instead of GNU symbol hash: this executable's GNU table hashes all
# its 67 dynamic symbols (the PLT-addressed imports), the SysV one is
# 64 bytes smaller (make size-check, 2026-12-07). Every glibc and musl
# loader reads both.
BOARD_LDFLAGS += -Wl,--hash-style=sysv
