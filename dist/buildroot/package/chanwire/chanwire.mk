# SPDX-License-Identifier: MIT
################################################################################
#
# chanwire
#
################################################################################

CHANWIRE_VERSION = 0.1.0
# The external tree lives in the chanwire source (dist/buildroot): build
# that source. For a release tarball set CHANWIRE_SITE to its URL, drop
# SITE_METHOD and add the tarball's sha256 to chanwire.hash.
CHANWIRE_SITE = $(BR2_EXTERNAL_CHANWIRE_PATH)/../..
CHANWIRE_SITE_METHOD = local
CHANWIRE_INSTALL_STAGING = YES
CHANWIRE_LICENSE = MIT
CHANWIRE_LICENSE_FILES = LICENSE

# The user the daemon drops to (/etc/default/chanwired: --user chanwire),
# with a group of its own; no login, no home. Processes running with that
# group may use the control socket (chanwire-send), as root may.
CHANWIRE_USERS = chanwire -1 chanwire -1 * - - - chanwire WebSocket server

CHANWIRE_BOARD = $(call qstrip,$(BR2_PACKAGE_CHANWIRE_BOARD))
CHANWIRE_DOTCONFIG = $(@D)/output/$(CHANWIRE_BOARD)/.config

# Kconfig options passed through to the chanwire build.
CHANWIRE_KCONFIG = \
	MAX_CONNS=$(BR2_PACKAGE_CHANWIRE_MAX_CONNS) \
	MAX_MESSAGE_SIZE=$(BR2_PACKAGE_CHANWIRE_MAX_MESSAGE_SIZE) \
	GROUPS=$(if $(BR2_PACKAGE_CHANWIRE_GROUPS),y,n) \
	JSON=$(if $(BR2_PACKAGE_CHANWIRE_JSON),y,n) \
	JWT=$(if $(BR2_PACKAGE_CHANWIRE_JWT),y,n) \
	STATIC_FILES=$(if $(BR2_PACKAGE_CHANWIRE_STATIC_FILES),y,n) \
	CONTROL_SOCKET=$(if $(BR2_PACKAGE_CHANWIRE_CONTROL_SOCKET),y,n) \
	WATCHDOG=$(if $(BR2_PACKAGE_CHANWIRE_WATCHDOG),y,n)

ifeq ($(BR2_PACKAGE_CHANWIRE_TLS),y)
CHANWIRE_DEPENDENCIES += mbedtls
CHANWIRE_KCONFIG += TLS=y
else
CHANWIRE_KCONFIG += TLS=n
endif

# Buildroot's compiler and flags (TARGET_CONFIGURE_OPTS), not the board's
# toolchain; the board profile only supplies the Kconfig selection.
CHANWIRE_MAKE_OPTS = \
	BOARD=$(CHANWIRE_BOARD) \
	BUILD_ROOT=$(@D)/output \
	BOARD_CFLAGS="-ffunction-sections -fdata-sections" \
	BOARD_LDFLAGS="-Wl,--gc-sections" \
	BOARD_QEMU= \
	WERROR= \
	PREFIX=/usr

define CHANWIRE_CONFIGURE_CMDS
	mkdir -p $(dir $(CHANWIRE_DOTCONFIG))
	cp $(@D)/boards/$(CHANWIRE_BOARD)/defconfig $(CHANWIRE_DOTCONFIG)
	$(@D)/scripts/setconfig.sh $(CHANWIRE_DOTCONFIG) $(CHANWIRE_KCONFIG)
endef

define CHANWIRE_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) $(TARGET_CONFIGURE_OPTS) -C $(@D) \
		$(CHANWIRE_MAKE_OPTS) lib daemon \
		$(if $(BR2_PACKAGE_CHANWIRE_CONTROL_SOCKET),cli)
endef

define CHANWIRE_INSTALL_STAGING_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) $(TARGET_CONFIGURE_OPTS) -C $(@D) \
		$(CHANWIRE_MAKE_OPTS) DESTDIR=$(STAGING_DIR) INSTALL_INIT=none install
endef

define CHANWIRE_INSTALL_TARGET_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) $(TARGET_CONFIGURE_OPTS) -C $(@D) \
		$(CHANWIRE_MAKE_OPTS) DESTDIR=$(TARGET_DIR) INSTALL_INIT=none install
endef

define CHANWIRE_INSTALL_INIT_SYSV
	$(TARGET_MAKE_ENV) $(MAKE) $(TARGET_CONFIGURE_OPTS) -C $(@D) \
		$(CHANWIRE_MAKE_OPTS) DESTDIR=$(TARGET_DIR) install-init-sysv
endef

define CHANWIRE_INSTALL_INIT_SYSTEMD
	$(TARGET_MAKE_ENV) $(MAKE) $(TARGET_CONFIGURE_OPTS) -C $(@D) \
		$(CHANWIRE_MAKE_OPTS) DESTDIR=$(TARGET_DIR) install-init-systemd
endef

$(eval $(generic-package))
