################################################################################
#
# chanwire
#
################################################################################

# SPDX-License-Identifier: MIT
# The same number as CW_VERSION in include/chanwire.h (make check-packaging
# checks that they agree).
CHANWIRE_VERSION = 0.1.0
# This external tree is part of the chanwire source (dist/buildroot): the
# package builds that source, found relative to BR2_EXTERNAL_CHANWIRE_PATH
# wherever the tree was copied. An external tree copied out of the source
# takes the release tarball, chanwire-$(CHANWIRE_VERSION).tar.gz, from the
# download directory or BR2_PACKAGE_CHANWIRE_SITE (its sha256 goes into
# chanwire.hash).
CHANWIRE_SRCTREE = $(realpath $(BR2_EXTERNAL_CHANWIRE_PATH)/../..)
ifneq ($(wildcard $(CHANWIRE_SRCTREE)/include/chanwire.h),)
CHANWIRE_SITE = $(CHANWIRE_SRCTREE)
CHANWIRE_SITE_METHOD = local
else
# Empty: the tarball must already be in the download directory (Buildroot
# looks there first; SITE itself must not be empty).
CHANWIRE_SITE = $(or $(call qstrip,$(BR2_PACKAGE_CHANWIRE_SITE)),file://$(DL_DIR)/chanwire)
endif
# What the build does not need stays out of the build directory.
CHANWIRE_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /build --exclude /tests --exclude /.ci --exclude /debian \
	--exclude node_modules
CHANWIRE_INSTALL_STAGING = YES
CHANWIRE_LICENSE = MIT
CHANWIRE_LICENSE_FILES = LICENSE

# The user the daemon drops to (/etc/default/chanwired: --user chanwire),
# with a group of its own; no login, no home. Processes running with that
# group may use the control socket (chanwire-send), as root may.
CHANWIRE_USERS = chanwire -1 chanwire -1 * - - - chanwire WebSocket server

CHANWIRE_BOARD = $(call qstrip,$(BR2_PACKAGE_CHANWIRE_BOARD))
CHANWIRE_DOTCONFIG = $(@D)/output/$(CHANWIRE_BOARD)/.config

# Kconfig options passed through to the chanwire build; pool sizes stay
# the profile's unless set.
CHANWIRE_KCONFIG = \
	GROUPS=$(if $(BR2_PACKAGE_CHANWIRE_GROUPS),y,n) \
	JSON=$(if $(BR2_PACKAGE_CHANWIRE_JSON),y,n) \
	JWT=$(if $(BR2_PACKAGE_CHANWIRE_JWT),y,n) \
	STATIC_FILES=$(if $(BR2_PACKAGE_CHANWIRE_STATIC_FILES),y,n) \
	CONTROL_SOCKET=$(if $(BR2_PACKAGE_CHANWIRE_CONTROL_SOCKET),y,n) \
	WATCHDOG=$(if $(BR2_PACKAGE_CHANWIRE_WATCHDOG),y,n)

ifneq ($(BR2_PACKAGE_CHANWIRE_MAX_CONNS),0)
CHANWIRE_KCONFIG += MAX_CONNS=$(BR2_PACKAGE_CHANWIRE_MAX_CONNS)
endif
ifneq ($(BR2_PACKAGE_CHANWIRE_MAX_MESSAGE_SIZE),0)
CHANWIRE_KCONFIG += MAX_MESSAGE_SIZE=$(BR2_PACKAGE_CHANWIRE_MAX_MESSAGE_SIZE)
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

ifeq ($(BR2_PACKAGE_CHANWIRE_TLS),y)
CHANWIRE_DEPENDENCIES += mbedtls
CHANWIRE_KCONFIG += TLS=y
ifeq ($(BR2_SHARED_LIBS),y)
# No static mbedTLS to rename calloc/free in: link libmbedtls.so and route
# its allocations to chanwire's TLS arena at run time, which needs
# MBEDTLS_PLATFORM_MEMORY in mbedTLS (off by default; it changes nothing
# for programs that never call mbedtls_platform_set_calloc_free).
CHANWIRE_MAKE_OPTS += MBEDTLS_LINK=shared
define CHANWIRE_MBEDTLS_PLATFORM_MEMORY
	$(SED) 's://#define MBEDTLS_PLATFORM_MEMORY:#define MBEDTLS_PLATFORM_MEMORY:' \
		$(@D)/include/mbedtls/mbedtls_config.h
	grep -q '^#define MBEDTLS_PLATFORM_MEMORY' $(@D)/include/mbedtls/mbedtls_config.h || \
		{ echo "chanwire: cannot turn on MBEDTLS_PLATFORM_MEMORY in mbedTLS"; exit 1; }
endef
# A hook on mbedtls, deliberately (the only way to reach its config):
# check-package disable TypoInPackageVariable
MBEDTLS_PRE_CONFIGURE_HOOKS += CHANWIRE_MBEDTLS_PLATFORM_MEMORY
else
CHANWIRE_MAKE_OPTS += MBEDTLS_LINK=static
endif
else
CHANWIRE_KCONFIG += TLS=n
endif

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

# Staging: what programs linking libchanwire need (header, archive, .pc).
define CHANWIRE_INSTALL_STAGING_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) $(TARGET_CONFIGURE_OPTS) -C $(@D) \
		$(CHANWIRE_MAKE_OPTS) DESTDIR=$(STAGING_DIR) install-dev
endef

# The target gets the programs, man pages, www and /etc/default/chanwired
# (install-bin: no header, archive or .pc, which staging has). The default
# file is replaced on every install, so that it stays in step with the
# daemon (a rootfs overlay still has the last word).
define CHANWIRE_INSTALL_TARGET_CMDS
	rm -f $(TARGET_DIR)/etc/default/chanwired
	$(TARGET_MAKE_ENV) $(MAKE) $(TARGET_CONFIGURE_OPTS) -C $(@D) \
		$(CHANWIRE_MAKE_OPTS) DESTDIR=$(TARGET_DIR) INSTALL_INIT=none install-bin
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
