#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""kconfig-doc.py [--check] OUT: writes docs/configuration.md from Kconfig
(every option, menu by menu, with its type, default, range, dependencies,
help, and its value on every board). --check: exit 1 when OUT differs.
Needs kconfiglib (Debian's python3-kconfiglib, /usr/bin/python3)."""

import glob
import os
import sys

import kconfiglib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

INTRO = """# Configuration

Every build-time option of chanwire, as `Kconfig` defines it. This file is
generated from `Kconfig` and the board configs by `make docs-config`
(scripts/kconfig-doc.py); `make check-config` fails when it is stale.

Options are chosen per board: `boards/<board>/defconfig` stores the whole
selection, fully resolved, so a plain `make` needs no Kconfig tool. To change
one:

    make BOARD=rpi-zero menuconfig     # edits build/rpi-zero/.config; the build uses it
    make BOARD=rpi-zero store-config   # keeps it as boards/rpi-zero/defconfig
    make BOARD=rpi-zero savedefconfig  # build/rpi-zero/defconfig: only non-defaults

After adding an option to `Kconfig`, `make refresh-configs` gives every board
its default (review the diff) and `make docs-config` updates this page.
Run-time flags of `chanwired` can lower the limits below, never raise them.

Memory: the pools are static arrays (`.bss`): they cost address space at
start-up, and RAM only as far as they are ever used (pages are touched on
first use). `make size` shows the `.bss` of each board; the README has the
table.

Combinations that cannot work are refused. A range that names another
option (`range MAX_MESSAGE_SIZE 67108864` below) is Kconfig's own refusal,
in menuconfig and olddefconfig. The rest, and every rule again for a
configuration written by hand or by `scripts/setconfig.sh` (Buildroot,
OpenWrt), is checked by the build: `src/config_check.h` is compiled against
the generated `cw_config.h` before anything else, and stops the build with a
message naming the options. Its rules: `SENDQ_MAX` at least
`MAX_MESSAGE_SIZE`; both (plus a frame header) within the I/O pool left
beside `IO_RESERVE`; `IO_RESERVE` below `IO_BUFS`; with TLS and static files
the loop buffer (`READ_BUF_SIZE` + 256) within that pool too; `TLS_MAX_CONNS`
at most `MAX_CONNS`, and `TLS_ARENA_SIZE` at least `TLS_MAX_CONNS` times
mbedTLS's two record buffers; `MAX_GROUPS` at most `MAX_MEMBERSHIPS`;
`LAYER_REDIS_SENDQ` at least `MAX_MESSAGE_SIZE` + 512 and within the I/O
pool; every deadline at least `TIMER_TICK_MS` (and at most an hour, where
the server would cut it); `WATCHDOG_INTERVAL_MS` at most half of
`WATCHDOG_TIMEOUT_S`; and the ranges the code relies on (`IO_BUF_SIZE`,
`HTTP_MAX_REQUEST`, `CONTROL_BUF`, `GROUP_NAME_MAX`, ...). `make
check-config` proves each refusal with a deliberately bad configuration
(`scripts/check-config-refusals.py`); docs/security.md lists them.
"""


def expr(e):
    return kconfiglib.expr_str(e) if e is not None else ""


def board_values(kconf):
    boards = sorted(os.path.basename(os.path.dirname(p))
                    for p in glob.glob(os.path.join(ROOT, "boards", "*", "defconfig")))
    vals = {}
    for b in boards:
        kconf.load_config(os.path.join(ROOT, "boards", b, "defconfig"), replace=True)
        for sym in kconf.unique_defined_syms:
            # "-": the option does not apply (a feature it depends on is off)
            dep_met = kconfiglib.expr_value(sym.direct_dep)
            vals.setdefault(sym.name, {})[b] = sym.str_value if dep_met else "-"
    return boards, vals


def render(kconf):
    boards, vals = board_values(kconf)
    out = [INTRO]
    out.append("\nBoards: " + ", ".join("`%s`" % b for b in boards) + "\n")

    def walk(node, depth):
        while node:
            item = node.item
            if item == kconfiglib.MENU and node is not kconf.top_node:
                out.append("\n%s %s\n" % ("#" * min(depth + 1, 4), node.prompt[0]))
            elif item == kconfiglib.COMMENT:
                out.append("\n_%s_\n" % node.prompt[0])
            elif isinstance(item, kconfiglib.Symbol):
                sym = item
                prompt = node.prompt[0] if node.prompt else ""
                out.append("\n**`CONFIG_%s`** (%s) %s\n" % (
                    sym.name, kconfiglib.TYPE_TO_STR[sym.orig_type], prompt))
                facts = []
                if sym.defaults:
                    facts.append("default `%s`" % expr(sym.defaults[0][0]))
                if sym.ranges:
                    facts.append("range %s..%s" % (expr(sym.ranges[0][0]), expr(sym.ranges[0][1])))
                if sym.direct_dep is not kconf.y:
                    facts.append("depends on `%s`" % expr(sym.direct_dep))
                if sym.selects:
                    facts.append("selects " + ", ".join("`%s`" % expr(s[0]) for s in sym.selects))
                if node.parent and isinstance(node.parent.item, kconfiglib.Choice):
                    facts.append("one choice of: " + node.parent.prompt[0])
                if facts:
                    out.append("- " + "; ".join(facts) + "\n")
                per = vals.get(sym.name, {})
                out.append("- boards: " + ", ".join("%s `%s`" % (b, per.get(b, "?") or "\"\"")
                                                  for b in boards) + "\n")
                if node.help:
                    out.append("\n" + node.help + "\n")
            elif isinstance(item, kconfiglib.Choice) and node.help:
                out.append("\n_%s_: %s\n" % (node.prompt[0], " ".join(node.help.split())))
            if node.list:
                walk(node.list, depth + (1 if item == kconfiglib.MENU else 0))
            node = node.next

    walk(kconf.top_node.list, 1)
    text = "".join(out)
    # one blank line at most, and help text as plain paragraphs
    lines, blank = [], False
    for l in text.splitlines():
        l = l.rstrip()
        if not l:
            if not blank:
                lines.append("")
            blank = True
            continue
        blank = False
        lines.append(l)
    return "\n".join(lines).strip() + "\n"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv[1:] if a != "--check"]
    out = args[0] if args else os.path.join(ROOT, "docs", "configuration.md")
    kconf = kconfiglib.Kconfig(os.path.join(ROOT, "Kconfig"), warn_to_stderr=False)
    text = render(kconf)
    if check:
        have = open(out).read() if os.path.exists(out) else ""
        if have != text:
            print("%s is stale against Kconfig or the board configs: run `make docs-config`" % out)
            return 1
        print("%s matches Kconfig" % os.path.relpath(out, ROOT))
        return 0
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.replace(out + ".tmp", out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
