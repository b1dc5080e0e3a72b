#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""randconfig.py: a random configuration from Kconfig, like the kernel's
`make randconfig`, for scripts/check-combos.sh (make randconfig-check).

  randconfig.py SEED OUT     write a fully resolved config (the form of
                             boards/*/defconfig) drawn with SEED to OUT and
                             print the options it sets away from Kconfig's
                             defaults (one line)

The same SEED always gives the same configuration for the same Kconfig, so
a failing seed printed by CI is replayed with
  make randconfig-check RANDCONFIG_SEEDS=<seed>
Every visible bool is drawn y or n (so features, the poller choice,
TLS, the Redis layer, the watchdog, ... in any combination Kconfig
allows), and about one int in four is moved from its default: to the low
end of its range or to a value between it and four times the default
(log-uniform), so pools stay within what a test machine has; a power of
two (nine draws in ten) where the option's prompt asks for one. Kconfig's own
rules (depends on, ranges) hold by construction; the combinations that
only src/config_check.h refuses are part of the draw, and the build must
refuse them with its message. Needs kconfiglib (python3-kconfiglib).
"""

import math
import os
import random
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kconfig as kc  # noqa: E402  (scripts/kconfig.py: Kconfig path and normal form)

try:
    import kconfiglib
except ImportError:
    sys.stderr.write("randconfig: needs kconfiglib: apt-get install python3-kconfiglib "
                     "(run with /usr/bin/python3)\n")
    sys.exit(3)

MOVE_INT = 0.25  # share of int options moved from their default


def active_range(sym):
    for low, high, cond in sym.ranges:
        if kconfiglib.expr_value(cond):
            return int(low.str_value, 0), int(high.str_value, 0)
    return None


def draw_int(rng, sym):
    default = int(sym.str_value, 0) if sym.str_value else 0
    r = active_range(sym)
    if r is None or rng.random() >= MOVE_INT:
        return None
    low, high = r
    top = min(high, max(low, 4 * default))
    if rng.random() < 0.3 or top <= low:
        v = low
    elif low <= 0:
        v = rng.randint(low, top)
    else:
        v = max(low, min(top, int(math.exp(rng.uniform(math.log(low), math.log(top))))))
    # An option whose prompt asks for a power of two gets one (its other
    # values are refused by the build, which one draw in ten still checks).
    if any("power of two" in (n.prompt[0] if n.prompt else "") for n in sym.nodes) and \
            v > 0 and rng.random() < 0.9:
        p = 1 << (v.bit_length() - 1)
        v = p if p >= low else p * 2
    return v


def randconfig(seed):
    rng = random.Random(seed)
    kconf = kconfiglib.Kconfig(kc.KCONFIG, warn_to_stderr=False)
    kconf.load_config(os.devnull)  # Kconfig's defaults
    moved = []
    for node in kconf.node_iter():
        item = node.item
        if isinstance(item, kconfiglib.Choice):
            syms = [s for s in item.syms if s.visibility]
            if item.visibility and syms:
                pick = rng.choice(syms)
                if pick is not item.selection:
                    moved.append(pick.name + "=y")
                pick.set_value(2)
            continue
        if not isinstance(item, kconfiglib.Symbol) or item.choice or not item.visibility:
            continue
        if item.type == kconfiglib.BOOL:
            v = rng.choice(("y", "n"))
            if v != item.str_value:
                moved.append("%s=%s" % (item.name, v))
            item.set_value(v)
        elif item.type == kconfiglib.INT:
            v = draw_int(rng, item)
            if v is not None and str(v) != item.str_value:
                item.set_value(str(v))
                moved.append("%s=%d" % (item.name, v))
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "config")
        kconf.write_config(out, header="")
        return kc.normalize(open(out).read()), moved


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    seed = int(argv[1])
    text, moved = randconfig(seed)
    out = argv[2]
    # Rewritten only when it changed, so a replay rebuilds nothing.
    if not (os.path.exists(out) and open(out).read() == text):
        kc.write(out, text)
    print("randconfig seed %d: %s" % (seed, " ".join(moved) or "(Kconfig defaults)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
