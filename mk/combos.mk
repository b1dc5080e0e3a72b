# SPDX-License-Identifier: MIT
# mk/combos.mk: Kconfig combinations no board builds (included by the
# Makefile); scripts/check-combos.sh does the work, each in its own build
# folder under $(BUILD_ROOT)/combos/.
#   make check-combos [COMBOS="sendq-drop groups-no-json poll-tls time64-off"]
#       each combination built and run on its unit tests and the suites of
#       the option it changes (the list and why: scripts/check-combos.sh)
#   make randconfig-check [RANDCONFIG_SEEDS="n ..."]
#       random configurations of the host board (scripts/randconfig.py,
#       like the kernel's randconfig; 2 new seeds when none are given): each
#       must be refused by the build with its message, or build and pass
#       its unit tests. The seeds are printed; giving one replays it.
# Both need kconfiglib (python3-kconfiglib); time64-off the qemu-armv7
# toolchain and qemu-user, poll-tls mbedTLS.
COMBOS ?=
RANDCONFIG_SEEDS ?= $(shell od -An -N4 -tu4 /dev/urandom) $(shell od -An -N4 -tu4 /dev/urandom)

.PHONY: check-combos randconfig-check
check-combos:
	$(Q)BUILD_ROOT=$(BUILD_ROOT) MAKE="$(MAKE)" KCONFIG_PY=$(KCONFIG_PY) \
	  sh scripts/check-combos.sh combos $(COMBOS)

randconfig-check:
	$(Q)BUILD_ROOT=$(BUILD_ROOT) MAKE="$(MAKE)" KCONFIG_PY=$(KCONFIG_PY) \
	  sh scripts/check-combos.sh randconfig $(strip $(RANDCONFIG_SEEDS))
