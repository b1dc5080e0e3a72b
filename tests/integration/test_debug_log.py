# SPDX-License-Identifier: MIT
"""test_debug_log: Kconfig's promise for DEBUG_LOG=n, that every debug
message is dropped at compile time, format string included, holds in every
module that logs at CW_LOG_DEBUG (TLS and the Redis layer too). Each such
source is compiled twice with the host compiler, with DEBUG_LOG on and off
(TLS and LAYER_REDIS on): the debug format strings must be in the first
object (so the check can see them) and in none of the second.
Standard library only; needs a C compiler and mbedTLS's headers."""

import os
import re
import shlex
import shutil
import subprocess
import tempfile

from cwtest import ROOT, case, main

DEBUG_CALL = re.compile(r'cw_log\(\s*CW_LOG_DEBUG\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def c_string(literals):
    """The bytes of adjacent C string literals, NUL included, as the object
    file stores them (a format string is kept verbatim)."""
    text = "".join(LITERAL.findall(literals))
    return text.encode().decode("unicode_escape").encode("latin-1") + b"\0"


def sources_with_debug_lines():
    """{path: [each debug format string, as stored]} over the library."""
    found = {}
    for top in ("src", "port"):
        for d, _, names in os.walk(os.path.join(ROOT, top)):
            for n in names:
                if not n.endswith(".c"):
                    continue
                p = os.path.join(d, n)
                text = open(p, encoding="utf-8").read()
                keys = [c_string(m) for m in DEBUG_CALL.findall(text)]
                if keys:
                    found[p] = keys
    return found


def config_header(tmp, debug):
    cfg = os.path.join(tmp, "config-%d" % debug)
    shutil.copy(os.path.join(ROOT, "boards", "host-tls", "defconfig"), cfg)
    subprocess.check_call(["sh", os.path.join(ROOT, "scripts", "setconfig.sh"), cfg, "TLS=y",
                           "LAYER_REDIS=y", "DEBUG_LOG=" + ("y" if debug else "n")])
    inc = os.path.join(tmp, "inc-%d" % debug)
    os.makedirs(inc)
    with open(cfg) as src, open(os.path.join(inc, "cw_config.h"), "w") as out:
        subprocess.check_call(["sh", os.path.join(ROOT, "scripts", "mkconfig.sh"),
                               os.path.join(ROOT, "Kconfig")], stdin=src, stdout=out)
    return inc


def compile_object(src, inc, out):
    cc = shlex.split(os.environ.get("CW_HOST_CC", "cc"))
    argv = cc + ["-std=c11", "-O2", "-I" + os.path.join(ROOT, "include"),
                 "-I" + os.path.join(ROOT, "src"), "-I" + os.path.join(ROOT, "port"),
                 "-I" + inc, "-D_DEFAULT_SOURCE", "-D_POSIX_C_SOURCE=200809L",
                 "-c", src, "-o", out]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, "compiling %s failed:\n%s" % (src, p.stdout)
    with open(out, "rb") as f:
        return f.read()


@case
def debug_messages_leave_no_string_behind():
    found = sources_with_debug_lines()
    rel = sorted(os.path.relpath(p, ROOT) for p in found)
    # the modules the promise was broken for once must be among them
    assert "src/core/tls.c" in rel and "src/channels/layer_redis.c" in rel, rel
    tmp = tempfile.mkdtemp(prefix="cw-debuglog-")
    on, off = config_header(tmp, 1), config_header(tmp, 0)
    left = []
    for i, (src, keys) in enumerate(sorted(found.items())):
        with_debug = compile_object(src, on, os.path.join(tmp, "on%d.o" % i))
        without = compile_object(src, off, os.path.join(tmp, "off%d.o" % i))
        for k in keys:
            assert k in with_debug, "%s: %r not in the DEBUG_LOG=y object" % (src, k)
            if k in without:
                left.append("%s: %r" % (os.path.relpath(src, ROOT), k))
    shutil.rmtree(tmp, ignore_errors=True)
    assert not left, "debug strings kept with DEBUG_LOG=n:\n  " + "\n  ".join(left)


if __name__ == "__main__":
    main()
