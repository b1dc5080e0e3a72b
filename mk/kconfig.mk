# SPDX-License-Identifier: MIT
# mk/kconfig.mk: configuration targets (included by the Makefile). They use
# kconfiglib (python3-kconfiglib, Debian's /usr/bin/python3) or else
# kconfig-frontends; a plain build needs neither (boards/*/defconfig are
# stored fully resolved and scripts/mkconfig.sh makes the header with awk).
#   make BOARD=b defconfig      build/b/.config from boards/b/defconfig
#   make BOARD=b menuconfig     edit build/b/.config (the build then uses it)
#   make BOARD=b olddefconfig   bring build/b/.config up to date with Kconfig
#   make BOARD=b savedefconfig  build/b/defconfig: only what differs from defaults
#   make BOARD=b store-config   build/b/.config -> boards/b/defconfig (resolved)
#   make check-config           fail when a stored board config, or
#                               docs/configuration.md, is stale against Kconfig,
#                               or when a configuration that cannot work is
#                               not refused (scripts/check-config-refusals.py)
#   make refresh-configs        re-resolve every stored board config (after
#                               adding an option to Kconfig; review the diff)
#                               and regenerate docs/configuration.md
#   make docs-config            regenerate docs/configuration.md only
KCONFIG_PY := $(firstword $(wildcard /usr/bin/python3) python3)
KCONFIG_TOOL := $(KCONFIG_PY) scripts/kconfig.py
ALL_BOARDS := $(patsubst boards/%/defconfig,%,$(wildcard boards/*/defconfig))

.PHONY: defconfig menuconfig olddefconfig savedefconfig store-config check-config refresh-configs \
	docs-config
defconfig:
	@mkdir -p $(B)
	$(Q)$(KCONFIG_TOOL) resolve $(BOARD_DIR)/defconfig $(B)/.config
	@echo "  CONFIG  $(B)/.config (from $(BOARD_DIR)/defconfig)"

menuconfig:
	@mkdir -p $(B)
	@test -f $(B)/.config || cp $(BOARD_DIR)/defconfig $(B)/.config
	$(Q)if $(KCONFIG_PY) -c 'import kconfiglib' 2>/dev/null; then \
	  KCONFIG_CONFIG=$(B)/.config $(KCONFIG_PY) -m menuconfig Kconfig; \
	elif command -v kconfig-mconf >/dev/null; then \
	  KCONFIG_CONFIG=$(B)/.config kconfig-mconf Kconfig; \
	else echo "menuconfig needs python3-kconfiglib or kconfig-frontends-nox"; exit 3; fi
	$(Q)$(KCONFIG_TOOL) resolve $(B)/.config $(B)/.config
	@echo "  CONFIG  $(B)/.config: the build uses it; 'make BOARD=$(BOARD) store-config' keeps it"

olddefconfig:
	@mkdir -p $(B)
	$(Q)$(KCONFIG_TOOL) resolve $(CONFIG_SRC) $(B)/.config

savedefconfig:
	@mkdir -p $(B)
	$(Q)$(KCONFIG_TOOL) savedefconfig $(CONFIG_SRC) $(B)/defconfig
	@echo "  CONFIG  $(B)/defconfig (minimal)"

store-config:
	@test -f $(B)/.config || { echo "no $(B)/.config (make BOARD=$(BOARD) menuconfig first)"; exit 1; }
	$(Q)$(KCONFIG_TOOL) resolve $(B)/.config $(BOARD_DIR)/defconfig
	@echo "  CONFIG  $(BOARD_DIR)/defconfig"

check-config:
	$(Q)$(KCONFIG_TOOL) check $(addprefix boards/,$(ALL_BOARDS))
	$(Q)$(KCONFIG_PY) scripts/kconfig-doc.py --check docs/configuration.md
	$(Q)$(KCONFIG_PY) scripts/check-config-refusals.py

refresh-configs:
	$(Q)$(KCONFIG_TOOL) refresh $(addprefix boards/,$(ALL_BOARDS))
	$(Q)$(KCONFIG_PY) scripts/kconfig-doc.py docs/configuration.md

docs-config:
	$(Q)$(KCONFIG_PY) scripts/kconfig-doc.py docs/configuration.md
