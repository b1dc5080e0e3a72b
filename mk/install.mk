# SPDX-License-Identifier: MIT
# mk/install.mk: make install [DESTDIR=] [PREFIX=/usr/local] (included by the
# Makefile), for distributions and build systems (Buildroot, OpenWrt):
#   $(PREFIX)/sbin/chanwired, $(PREFIX)/bin/chanwire-send, include/chanwire.h,
#   lib/libchanwire.a, lib/pkgconfig/chanwire.pc, man pages, share/chanwire/www,
#   $(SYSCONFDIR)/init.d/S50chanwired (BusyBox/SysV), lib/systemd/system/
#   chanwired.service and lib/sysusers.d/chanwire.conf (the user chanwire),
#   $(SYSCONFDIR)/default/chanwired (kept if present).
#   INSTALL_INIT=none|sysv|systemd|both (default both) picks the service files.
#   make install-dev     the header, libchanwire.a and chanwire.pc only
#   make install-bin     the rest: programs, man pages, www, service files
#   make check-install   installs into a scratch folder and checks the result
PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
BINDIR ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/chanwire
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL_INIT ?= both
INSTALL ?= install
CW_VERSION := $(shell sed -n 's/^\#define CW_VERSION "\(.*\)"/\1/p' include/chanwire.h)
PC_LIBS_PRIVATE := $(if $(CONFIG_TLS),-lmbedtls -lmbedx509 -lmbedcrypto)
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
  -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@VERSION@|$(CW_VERSION)|g' \
  -e 's|@LIBS_PRIVATE@|$(PC_LIBS_PRIVATE)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g'

.PHONY: cli install install-bin install-dev install-init-sysv install-init-systemd check-install
cli: $(CLI)

install: install-dev install-bin

# Everything but the development files (Buildroot's target).
install-bin: $(DAEMON) $(if $(CONFIG_CONTROL_SOCKET),$(CLI)) \
	 $(if $(filter sysv both,$(INSTALL_INIT)),install-init-sysv) \
	 $(if $(filter systemd both,$(INSTALL_INIT)),install-init-systemd)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/default
	$(INSTALL) -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/chanwired
ifeq ($(CONFIG_CONTROL_SOCKET),y)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/chanwire-send
	$(INSTALL) -m 0644 docs/man/chanwire-send.1 $(DESTDIR)$(MANDIR)/man1/chanwire-send.1
endif
	$(INSTALL) -m 0644 docs/man/chanwired.8 $(DESTDIR)$(MANDIR)/man8/chanwired.8
ifeq ($(CONFIG_STATIC_FILES),y)
	$(INSTALL) -d $(DESTDIR)$(DATADIR)/www/status
	$(INSTALL) -m 0644 $(wildcard examples/www/*.*) $(DESTDIR)$(DATADIR)/www/
	$(INSTALL) -m 0644 examples/www/status/* $(DESTDIR)$(DATADIR)/www/status/
endif
	test -e $(DESTDIR)$(SYSCONFDIR)/default/chanwired || \
	  $(INSTALL) -m 0644 dist/chanwired.default $(DESTDIR)$(SYSCONFDIR)/default/chanwired

# What a program linking the library needs, alone (Buildroot's staging,
# Debian's libchanwire-dev): the header, the archive and chanwire.pc.
install-dev: $(LIB)
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	$(INSTALL) -m 0644 include/chanwire.h $(DESTDIR)$(INCLUDEDIR)/chanwire.h
	$(INSTALL) -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/libchanwire.a
	$(SUBST) dist/chanwire.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/chanwire.pc

# The service files alone (Buildroot's INSTALL_INIT_SYSV/_SYSTEMD hooks).
install-init-sysv:
	$(INSTALL) -d $(DESTDIR)$(SYSCONFDIR)/init.d
	$(SUBST) dist/chanwired.init > $(DESTDIR)$(SYSCONFDIR)/init.d/S50chanwired
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/init.d/S50chanwired

install-init-systemd:
	$(INSTALL) -d $(DESTDIR)$(SYSTEMDDIR)
	$(SUBST) dist/chanwired.service > $(DESTDIR)$(SYSTEMDDIR)/chanwired.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/chanwired.service
	$(INSTALL) -d $(DESTDIR)$(SYSUSERSDIR)
	$(INSTALL) -m 0644 dist/chanwire.sysusers $(DESTDIR)$(SYSUSERSDIR)/chanwire.conf

check-install:
	$(Q)sh tests/install/check_install.sh "$(MAKE)" "$(BOARD)" "$(BUILD_ROOT)"
