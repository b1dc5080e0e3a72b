#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""test_check_package.py: scripts/check-buildroot-package.py finds what
Buildroot's utils/check-package finds: a scratch external tree with one
mistake per rule must produce that rule's finding, the fixed tree none, and
'# check-package disable RULE' waives the next line."""
import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(TOP, "scripts", "check-buildroot-package.py")
fails = 0

GOOD_MK = """################################################################################
#
# foo
#
################################################################################

FOO_VERSION = 1.0
FOO_SITE = http://example.com
FOO_LICENSE = MIT
FOO_LICENSE_FILES = LICENSE

ifeq ($(BR2_PACKAGE_FOO_BAR),y)
FOO_DEPENDENCIES += bar
endif

define FOO_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) \\
		all
endef

$(eval $(generic-package))
"""
GOOD_CONFIG = """config BR2_PACKAGE_FOO
	bool "foo"
	default y
	depends on BR2_USE_MMU
	select BR2_PACKAGE_BAR
	help
	  Foo does things.

	  https://example.com/foo

if BR2_PACKAGE_FOO

config BR2_PACKAGE_FOO_BAR
	bool "bar"

endif
"""
GOOD_HASH = "# Locally calculated\nsha256  " + "a" * 64 + "  LICENSE\n"
GOOD_INIT = """#!/bin/sh

DAEMON="foo"
PIDFILE="/var/run/$DAEMON.pid"

start() {
	start-stop-daemon --start --pidfile "$PIDFILE" --exec "/usr/bin/$DAEMON"
}

case "$1" in
	start)
		start;;
	*)
		exit 1
esac
"""
GOOD = {"foo.mk": GOOD_MK, "Config.in": GOOD_CONFIG, "foo.hash": GOOD_HASH, "S50foo": GOOD_INIT}

# rule -> (file, text replaced, replacement)
BAD = [
    ("PackageHeader", "foo.mk", "#\n# foo\n#\n", "# foo\n#\n#\n"),
    ("Indent", "foo.mk", "\t$(TARGET_MAKE_ENV)", "    $(TARGET_MAKE_ENV)"),
    ("Ifdef", "foo.mk", "ifeq ($(BR2_PACKAGE_FOO_BAR),y)", "ifdef BR2_PACKAGE_FOO_BAR"),
    ("TypoInPackageVariable", "foo.mk", "FOO_LICENSE_FILES", "FOOO_LICENSE_FILES"),
    ("UselessFlag", "foo.mk", "FOO_LICENSE = MIT\n", "FOO_LICENSE = MIT\nFOO_INSTALL_TARGET = YES\n"),
    ("VariableWithBraces", "foo.mk", "-C $(@D)", "-C ${TOPDIR}"),
    ("SpaceBeforeBackslash", "foo.mk", "$(@D) \\", "$(@D)  \\"),
    ("OverriddenVariable", "foo.mk", "FOO_SITE = http://example.com\n",
     "FOO_SITE = http://example.com\nFOO_SITE = http://example.org\n"),
    ("TrailingSpace", "foo.mk", "FOO_VERSION = 1.0\n", "FOO_VERSION = 1.0 \n"),
    ("ConsecutiveEmptyLines", "foo.mk", "\nifeq", "\n\nifeq"),
    ("HelpText", "Config.in", "Foo does things.", "Foo does " + "many " * 14 + "things."),
    ("NoDefaultN", "Config.in", "\tbool \"bar\"\n", "\tbool \"bar\"\n\tdefault n\n"),
    ("AttributesOrder", "Config.in", "\tdefault y\n\tdepends on BR2_USE_MMU\n",
     "\tdepends on BR2_USE_MMU\n\tdefault y\n"),
    ("Indent", "Config.in", "\tselect BR2_PACKAGE_BAR", "    select BR2_PACKAGE_BAR"),
    ("RedefinedConfig", "Config.in", "endif\n", "config BR2_PACKAGE_FOO_BAR\n\tbool \"bar\"\n\nendif\n"),
    ("HashSpaces", "foo.hash", "sha256  ", "sha256 "),
    ("HashType", "foo.hash", "a" * 64, "a" * 63),
    ("HashNumberOfFields", "foo.hash", "  LICENSE", "  LICENSE  COPYING"),
    ("Variables", "S50foo", 'DAEMON="foo"', 'DAEMON="/usr/bin/foo"'),
    ("Variables", "S50foo", 'PIDFILE="/var/run/$DAEMON.pid"', 'PIDFILE="/tmp/foo.pid"'),
    ("Indent", "S50foo", "\tstart-stop-daemon", "    start-stop-daemon"),
    ("Shellcheck", "S50foo", '--exec "/usr/bin/$DAEMON"', '--exec "/usr/bin/$DAEMON" -- $@'),
    ("EmptyLastLine", "foo.hash", "LICENSE\n", "LICENSE\n\n"),
    ("NewlineAtEof", "foo.hash", "LICENSE\n", "LICENSE"),
]


def run(files):
    with tempfile.TemporaryDirectory() as tmp:
        pkg = os.path.join(tmp, "package", "foo")
        os.makedirs(pkg)
        for name, text in files.items():
            with open(os.path.join(pkg, name), "w") as f:
                f.write(text)
        p = subprocess.run([sys.executable, CHECK, tmp], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        return p.returncode, p.stdout


def check(name, cond, detail=""):
    global fails
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else "\n" + detail))
    fails += 0 if cond else 1


rc, out = run(GOOD)
check("a clean package: no finding", rc == 0 and "0 findings" in out, out)
for rule, fname, old, new in BAD:
    files = dict(GOOD)
    assert old in files[fname], (rule, old)
    files[fname] = files[fname].replace(old, new, 1)
    rc, out = run(files)
    check("%s: %s found (%r)" % (fname, rule, new.strip()[:40]), rc == 1 and "[%s]" % rule in out, out)
files = dict(GOOD)
files["foo.mk"] = GOOD_MK.replace("FOO_LICENSE_FILES", "# check-package disable TypoInPackageVariable\n"
                                  "BAR_POST_PATCH_HOOKS += FOO_HOOK\nFOO_LICENSE_FILES")
rc, out = run(files)
check("a waived line: no finding", rc == 0, out)
print("test_check_package: %s" % ("all passed" if fails == 0 else "%d failed" % fails))
sys.exit(1 if fails else 0)
