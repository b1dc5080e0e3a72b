# SPDX-License-Identifier: MIT
"""test_license: the tree says its license everywhere a distribution looks:
LICENSE is the MIT text, every source file carries an SPDX line near its
top, and the Buildroot and OpenWrt packages name the license with the
license file's real sha256. Standard library only (git lists the files)."""

import hashlib
import os
import re
import subprocess

from cwtest import ROOT, Skip, case, main

TAG = "SPDX-License-Identifier: MIT"
SOURCE = re.compile(r"\.(c|h|py|js|sh|mk|css|html)$|(^|/)(Makefile|Kconfig|run)$")


def tracked():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise Skip("not a git checkout: no list of tracked files")
    return [f for f in out.splitlines() if f]


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


@case
def license_is_mit():
    text = read("LICENSE")
    assert text.startswith("MIT License"), text[:40]
    assert "Permission is hereby granted, free of charge" in text


@case
def every_source_file_has_an_spdx_line():
    files = [f for f in tracked() if SOURCE.search(f) and not f.startswith("tests/fuzz/corpus/")]
    assert len(files) > 100, len(files)  # the list is the tree, not an empty match
    # A Buildroot package's .mk must open with Buildroot's five-line banner
    # and a blank line (utils/check-package); its SPDX line comes next.
    def head(f):
        return 7 if f.startswith("dist/buildroot/package/") and f.endswith(".mk") else 3
    missing = [f for f in files if TAG not in "\n".join(read(f).split("\n")[:head(f)])]
    assert not missing, "no SPDX line in the first three lines of:\n  " + "\n  ".join(missing)


@case
def buildroot_names_the_license_with_its_hash():
    mk = read("dist/buildroot/package/chanwire/chanwire.mk")
    assert re.search(r"^CHANWIRE_LICENSE = MIT$", mk, re.M), mk
    assert re.search(r"^CHANWIRE_LICENSE_FILES = LICENSE$", mk, re.M), mk
    want = hashlib.sha256(open(os.path.join(ROOT, "LICENSE"), "rb").read()).hexdigest()
    hashes = read("dist/buildroot/package/chanwire/chanwire.hash")
    assert re.search(r"^sha256\s+%s\s+LICENSE$" % want, hashes, re.M), hashes


@case
def openwrt_names_the_license():
    mk = read("dist/openwrt/chanwire/Makefile")
    assert re.search(r"^PKG_LICENSE:=MIT$", mk, re.M), mk
    assert re.search(r"^PKG_LICENSE_FILES:=LICENSE$", mk, re.M), mk


if __name__ == "__main__":
    main()
