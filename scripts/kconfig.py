#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""kconfig.py: the Kconfig chores of the Makefile, with kconfiglib (Debian's
python3-kconfiglib, for /usr/bin/python3) or else kconfig-frontends'
kconfig-conf. A plain build needs neither: boards store their configuration
fully resolved and scripts/mkconfig.sh turns it into a header with awk.

  kconfig.py resolve IN OUT [NAME=VALUE ...]  IN (full or minimal) resolved
                                             against Kconfig, with the given
                                             overrides, into OUT
  kconfig.py savedefconfig IN OUT            minimal config (only non-defaults)
  kconfig.py check BOARD_DIR ...             exit 1 when a stored config is stale
  kconfig.py refresh BOARD_DIR ...           rewrite stored configs resolved
  kconfig.py tool                            print which backend is used

Stored configs keep only the CONFIG_ lines (and "# CONFIG_X is not set")
under a fixed header, so kconfiglib and kconfig-frontends write the same
file and `check` compares like with like.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KCONFIG = os.path.join(ROOT, "Kconfig")
HEADER = ("# chanwire board configuration, fully resolved against Kconfig so that a\n"
          "# plain build needs no Kconfig tool. Edit with `make BOARD=<board> menuconfig`\n"
          "# then `make BOARD=<board> store-config`; after a Kconfig change run\n"
          "# `make refresh-configs`. `make check-config` fails when this file is stale.\n")
LINE = re.compile(r"^(CONFIG_[A-Za-z0-9_]+=.*|# CONFIG_[A-Za-z0-9_]+ is not set)$")


def normalize(text):
    return HEADER + "".join(l + "\n" for l in text.splitlines() if LINE.match(l))


def backend():
    try:
        import kconfiglib  # noqa: F401
        return "kconfiglib"
    except ImportError:
        pass
    if shutil.which("kconfig-conf"):
        return "kconfig-frontends"
    return None


def need_backend():
    b = backend()
    if not b:
        sys.stderr.write("kconfig: no Kconfig tool: apt-get install python3-kconfiglib "
                         "(run with /usr/bin/python3) or kconfig-frontends-nox\n")
        sys.exit(3)
    return b


def resolve_text(in_path, overrides=()):
    """The normalized, fully resolved config for in_path plus overrides."""
    if need_backend() == "kconfiglib":
        import kconfiglib
        kconf = kconfiglib.Kconfig(KCONFIG, warn_to_stderr=False)
        kconf.load_config(in_path)
        for ov in overrides:
            name, _, val = ov.partition("=")
            sym = kconf.syms.get(name[len("CONFIG_"):] if name.startswith("CONFIG_") else name)
            if sym is None:
                sys.stderr.write("kconfig: no symbol %s in Kconfig\n" % name)
                sys.exit(2)
            sym.set_value(val.strip('"'))
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "config")
            kconf.write_config(out, header="")
            return normalize(open(out).read())
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, ".config")
        with open(cfg, "w") as f:
            f.write(open(in_path).read())
            for ov in overrides:
                name, _, val = ov.partition("=")
                if not name.startswith("CONFIG_"):
                    name = "CONFIG_" + name
                f.write("# %s is not set\n" % name if val == "n" else "%s=%s\n" % (name, val))
        env = dict(os.environ, KCONFIG_CONFIG=cfg)
        # --silentoldconfig wants include/config/ in the working directory.
        os.makedirs(os.path.join(d, "include", "config"), exist_ok=True)
        subprocess.run(["kconfig-conf", "--olddefconfig", KCONFIG], cwd=d, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        return normalize(open(cfg).read())


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def savedefconfig(in_path, out_path):
    if need_backend() == "kconfiglib":
        import kconfiglib
        kconf = kconfiglib.Kconfig(KCONFIG, warn_to_stderr=False)
        kconf.load_config(in_path)
        kconf.write_min_config(out_path)
        return
    env = dict(os.environ, KCONFIG_CONFIG=in_path)
    subprocess.run(["kconfig-conf", "--savedefconfig=" + os.path.abspath(out_path), KCONFIG],
                   env=env, check=True, stdout=subprocess.DEVNULL)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "tool":
        print(backend() or "none")
        return 0
    if cmd == "resolve":
        write(args[1], resolve_text(args[0], args[2:]))
        return 0
    if cmd == "savedefconfig":
        savedefconfig(args[0], args[1])
        return 0
    if cmd in ("check", "refresh"):
        stale = []
        for bdir in args:
            path = os.path.join(bdir, "defconfig")
            want = resolve_text(path)
            have = open(path).read()
            if want == have:
                continue
            if cmd == "refresh":
                write(path, want)
                print("  REFRESH %s" % path)
            else:
                stale.append(path)
                import difflib
                sys.stdout.writelines(difflib.unified_diff(
                    have.splitlines(True), want.splitlines(True), path, path + " (resolved)"))
        if stale:
            print("stale against Kconfig: %s\n(run `make refresh-configs`, review, commit)"
                  % " ".join(stale))
            return 1
        if cmd == "check":
            print("%d board config(s) match Kconfig (%s)" % (len(args), backend()))
        return 0
    sys.stderr.write("kconfig: unknown command %s\n" % cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
