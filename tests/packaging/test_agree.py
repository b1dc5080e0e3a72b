#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_agree.py: the packages agree with the source and with each other.
- One control socket: the path chanwired and chanwire-send take by default
  (apps/ctlpath.h, root) is where every init system leaves it: the systemd
  unit, the BusyBox script, /etc/default/chanwired and the OpenWrt procd
  script set no other path (no CHANWIRE_SOCKET, no --control), and the unit
  lets the daemon write there (ProtectSystem=strict would make /run
  read-only).
- systemd's EnvironmentFile= reads /etc/default/chanwired as the shell does:
  plain KEY="value" lines, nothing a shell would expand ($, backquotes), so
  the unit and the init script run the same command.
- One version: CW_VERSION in include/chanwire.h = CHANWIRE_VERSION (Buildroot)
  = PKG_VERSION (OpenWrt) = debian/changelog's.
- The Buildroot board choice lists exactly the profiles in boards/.
- OpenWrt's package conventions: PKG_* variables, maintainer, license
  files, the order of includes, Package/ definitions, conffiles, install.
Prints ok/FAIL lines; exit 1 on a failure."""
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unit_command  # noqa: E402

fails = 0


def read(rel):
    with open(os.path.join(TOP, rel)) as f:
        return f.read()


def check(name, cond, detail=""):
    global fails
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)))
    fails += 0 if cond else 1


def subst(text):
    return text.replace("@SBINDIR@", "/usr/sbin").replace("@SYSCONFDIR@", "/etc")


# ---- the control socket ----
ctl = read("apps/ctlpath.h")
m = re.search(r'env = "(/[^"]+)";', ctl)
fmt = re.search(r'fmt = "%s(/[^"]+)";', ctl)
default = (m.group(1) + fmt.group(1)) if m and fmt else None
check("apps/ctlpath.h: root's default socket found", default, ctl[:200])
check("chanwire-send takes its default from apps/ctlpath.h",
      '#include "ctlpath.h"' in read("apps/chanwire-send.c")
      and "cw_default_control_path(" in read("apps/chanwire-send.c"))
unit = subst(read("dist/chanwired.service"))
envfile = read("dist/chanwired.default")
sysv = subst(read("dist/chanwired.init"))
procd = read("dist/openwrt/chanwire/files/chanwired.init")
uci = read("dist/openwrt/chanwire/files/chanwire.config")
for name, text in [("dist/chanwired.service", unit), ("dist/chanwired.default", envfile),
                   ("dist/chanwired.init", sysv), ("procd chanwired.init", procd),
                   ("/etc/config/chanwire", uci)]:
    code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    check(name + ": no other control socket (CHANWIRE_SOCKET, --control)",
          "CHANWIRE_SOCKET" not in code and "--control" not in code and "control_socket" not in code,
          [l for l in code.splitlines() if "CONTROL" in l.upper()])
settings = unit_command.unit_settings(unit)
strict = "strict" in settings.get("ProtectSystem", [""])
rw = " ".join(settings.get("ReadWritePaths", []))
sockdir = os.path.dirname(default or "/run/x")
check("systemd unit: the daemon may create %s" % default,
      not strict or sockdir in rw.split(), settings.get("ProtectSystem"))
check("systemd unit: ExecReload sends SIGHUP (as the init script's reload)",
      any("HUP" in x for x in settings.get("ExecReload", [])) and "--signal HUP" in sysv)

# ---- EnvironmentFile semantics ----
try:
    env = unit_command.env_file(envfile)
    check("/etc/default/chanwired: systemd reads every line as KEY=VALUE", True)
except ValueError as e:
    env = {}
    check("/etc/default/chanwired: systemd reads every line as KEY=VALUE", False, e)
for k, v in env.items():
    check("/etc/default/chanwired: %s has nothing a shell would expand" % k,
          not re.search(r"[$`\\]", v), v)
    shell = subprocess.run(["sh", "-c", envfile + '\nprintf "%s" "$' + k + '"'],
                           stdout=subprocess.PIPE, universal_newlines=True).stdout
    check("/etc/default/chanwired: %s the same for systemd and sh" % k, shell == v, (shell, v))
var = re.search(r"ExecStart=\S+ \$(\w+)$", unit, re.M)
check("systemd unit: ExecStart splits $VAR", var, settings.get("ExecStart"))
if var:
    check("the unit, the default file and the init script use one variable (%s)" % var.group(1),
          var.group(1) in env and re.search(r"^%s=" % var.group(1), sysv, re.M)
          and "$" + var.group(1) in sysv)
    unit_cmd = unit_command.command(unit, envfile)
    sh = subprocess.run(["sh", "-c", envfile + '\nprintf "%s" "$' + var.group(1) + '"'],
                        stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    check("systemd and the init script run the same command",
          unit_cmd[1:] == sh, (unit_cmd, sh))

# ---- one version ----
cw = re.search(r'#define CW_VERSION "([^"]+)"', read("include/chanwire.h")).group(1)
versions = {
    "Buildroot CHANWIRE_VERSION": re.search(r"^CHANWIRE_VERSION = (\S+)",
                                            read("dist/buildroot/package/chanwire/chanwire.mk"), re.M),
    "OpenWrt PKG_VERSION": re.search(r"^PKG_VERSION:=(\S+)", read("dist/openwrt/chanwire/Makefile"), re.M),
    "debian/changelog": re.match(r"chanwire \(([^)-]+)", read("debian/changelog")),
}
for name, m in versions.items():
    check("%s = CW_VERSION %s" % (name, cw), m and m.group(1) == cw, m and m.group(1))

# ---- the board choice ----
cfg = read("dist/buildroot/package/chanwire/Config.in")
listed = set(re.findall(r'default "([^"]+)" if BR2_PACKAGE_CHANWIRE_BOARD_', cfg))
boards = {b for b in os.listdir(os.path.join(TOP, "boards"))
          if os.path.isfile(os.path.join(TOP, "boards", b, "defconfig"))}
check("Buildroot board choice = boards/*", listed == boards, (sorted(listed ^ boards)))
for b in sorted(listed):
    sym = "BR2_PACKAGE_CHANWIRE_BOARD_" + re.sub(r"[^A-Z0-9]", "_", b.upper())
    check("board %s: choice entry %s" % (b, sym), re.search(r"^config %s$" % sym, cfg, re.M)
          and re.search(r'default "%s" if %s$' % (re.escape(b), sym), cfg, re.M))
owrt = re.search(r"^CHANWIRE_BOARD:=(\S+)", read("dist/openwrt/chanwire/Makefile"), re.M)
check("OpenWrt profile is a real one", owrt and owrt.group(1) in boards, owrt and owrt.group(1))

# ---- OpenWrt's package conventions ----
owm = read("dist/openwrt/chanwire/Makefile")
for var in ("PKG_NAME", "PKG_VERSION", "PKG_RELEASE", "PKG_LICENSE", "PKG_LICENSE_FILES",
            "PKG_MAINTAINER"):
    check("OpenWrt Makefile sets %s" % var, re.search(r"^%s:=\S" % var, owm, re.M))
check("OpenWrt PKG_MAINTAINER is 'Name <address>'",
      re.search(r"^PKG_MAINTAINER:=[^<]+ <[^@>]+@[^>]+>$", owm, re.M))
lic = re.search(r"^PKG_LICENSE_FILES:=(.*)$", owm, re.M)
check("OpenWrt PKG_LICENSE_FILES exist", lic and all(
    os.path.exists(os.path.join(TOP, f)) for f in lic.group(1).split()))
order = [owm.find(x) for x in ("include $(TOPDIR)/rules.mk", "PKG_NAME:=",
                               "include $(INCLUDE_DIR)/package.mk", "$(eval $(call BuildPackage,chanwire))")]
check("OpenWrt Makefile order: rules.mk, PKG_*, package.mk, BuildPackage last",
      all(x >= 0 for x in order) and order == sorted(order)
      and owm.rstrip().endswith("$(eval $(call BuildPackage,chanwire))"), order)
for d in ("Package/chanwire", "Package/chanwire/description", "Package/chanwire/conffiles",
          "Package/chanwire/install"):
    check("OpenWrt Makefile defines %s" % d, re.search(r"^define %s$" % re.escape(d), owm, re.M))
conff = re.search(r"^define Package/chanwire/conffiles\n(.*?)^endef", owm, re.M | re.S)
check("OpenWrt conffiles: /etc/config/chanwire", conff and "/etc/config/chanwire" in conff.group(1))
inst = re.search(r"^define Package/chanwire/install\n(.*?)^endef", owm, re.M | re.S)
check("OpenWrt install: the UCI file and the procd script",
      inst and "./files/chanwire.config $(1)/etc/config/chanwire" in inst.group(1)
      and "./files/chanwired.init $(1)/etc/init.d/chanwired" in inst.group(1))
for section in ("main", "tls", "jwt", "redis", "uplink"):
    check("/etc/config/chanwire has section %s" % section,
          re.search(r"^config \w+ '%s'$" % section, uci, re.M))

print("test_agree: %s" % ("all passed" if fails == 0 else "%d failed" % fails))
sys.exit(1 if fails else 0)
