#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""size-map.py [--prefix CROSS_COMPILE] [-n N] ELF: where the bytes of an
image go (make size-map). The N (default 30) largest functions and
read-only objects by symbol size (nm --size-sort -S), then every section
`size` counts in its text column (allocated and not writable: code,
read-only data, PLT, dynamic symbol tables), with the .rodata bytes no
symbol names (string literals: format strings, messages) shown apart."""

import argparse
import os
import re
import subprocess
import sys


def run(cmd):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout


def sections(readelf, elf):
    """(name, size, flags, type) of every section."""
    out = []
    rx = re.compile(r"^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+([A-Z]*)")
    for line in run([readelf, "-SW", elf]).splitlines():
        m = rx.match(line)
        if m:
            out.append((m.group(1), int(m.group(3), 16), m.group(4), m.group(2)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", default="")
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("elf")
    a = ap.parse_args()
    syms = []
    for line in run([a.prefix + "nm", "--size-sort", "-S", a.elf]).splitlines():
        f = line.split()
        if len(f) >= 4:
            syms.append((int(f[1], 16), f[2], f[3]))
    syms.sort(key=lambda s: -s[0])
    funcs = [s for s in syms if s[1] in "Tt"]
    ro = [s for s in syms if s[1] in "Rr"]
    name = os.path.basename(a.elf)
    print("%s: the %d largest functions (%d bytes in %d named functions)"
          % (name, min(a.n, len(funcs)), sum(s[0] for s in funcs), len(funcs)))
    for s in funcs[:a.n]:
        print("%7d  %s" % (s[0], s[2]))
    print("\n%s: the %d largest read-only objects (%d bytes in %d named objects)"
          % (name, min(a.n, len(ro)), sum(s[0] for s in ro), len(ro)))
    for s in ro[:a.n]:
        print("%7d  %s" % (s[0], s[2]))
    named_ro = sum(s[0] for s in ro)
    print("\n%s: the sections of size's text column" % name)
    total = 0
    for sname, size, flags, typ in sections(a.prefix + "readelf", a.elf):
        if "A" not in flags or "W" in flags or size == 0:
            continue
        total += size
        extra = ""
        if sname == ".rodata":
            extra = "  (%d in named objects, %d in string literals and other unnamed data)" % (
                named_ro, size - named_ro)
        print("%7d  %s%s" % (size, sname, extra))
    print("%7d  total (size's text column)" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
