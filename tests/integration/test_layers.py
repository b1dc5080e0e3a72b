# SPDX-License-Identifier: MIT
"""test_layers: scripts/check-layers.py (make check-layers) passes on this
tree and names each kind of breach in a small tree made to break it: an
include of a higher layer, a circle inside one layer, a header from
tests/ or apps/, a file outside the layer folders. Standard library only."""

import os
import subprocess
import sys
import tempfile

from cwtest import ROOT, case, main

SCRIPT = os.path.join(ROOT, "scripts", "check-layers.py")


def check(root=None):
    argv = [sys.executable, SCRIPT] + (["--root", root] if root else [])
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=60)
    return p.returncode, p.stdout


def tree(files):
    """A throwaway tree with the given {path: text} files."""
    d = tempfile.mkdtemp(prefix="cw-layers-")
    for path, text in files.items():
        full = os.path.join(d, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return d


GOOD = {
    "include/chanwire.h": "",
    "port/port.h": '#include "chanwire.h"\n',
    "src/base/pool.h": "",
    "src/base/pool.c": '#include "base/pool.h"\n#include "port.h"\n#include "cw_config.h"\n',
    "src/proto/http.h": '#include "base/pool.h"\n',
    "src/core/conn.h": '#include "proto/http.h"\n',
    "src/core/conn.c": '#include "core/conn.h"\n#include "base/pool.h"\n',
    "src/channels/groups.c": '#include "core/conn.h"\n',
    "src/server.c": '#include "channels/groups.h"\n#include "control.h"\n',
    "src/channels/groups.h": "",
    "src/control.h": "",
}


@case
def this_tree_keeps_its_layers():
    rc, out = check()
    assert rc == 0, out
    assert "no upward include, no circle" in out, out


@case
def a_well_layered_tree_passes():
    rc, out = check(tree(GOOD))
    assert rc == 0, out


@case
def an_include_of_a_higher_layer_fails():
    files = dict(GOOD)
    files["src/core/conn.c"] += '#include "channels/groups.h"\n'
    rc, out = check(tree(files))
    assert rc == 1, out
    assert 'src/core/conn.c (src/core) includes "channels/groups.h"' in out, out


@case
def the_port_may_not_include_the_library():
    files = dict(GOOD)
    files["port/posix/net.c"] = '#include "port.h"\n#include "base/pool.h"\n'
    rc, out = check(tree(files))
    assert rc == 1 and "port/posix/net.c" in out, out


@case
def a_circle_inside_one_layer_fails():
    files = dict(GOOD)
    files["src/control.c"] = '#include "control.h"\n#include "server.h"\n'
    files["src/server.h"] = ""
    rc, out = check(tree(files))
    assert rc == 1, out
    assert "circle" in out and "src/control" in out and "src/server" in out, out


@case
def headers_of_tests_or_apps_are_not_for_the_library():
    files = dict(GOOD)
    files["src/core/conn.c"] += '#include "wsclient.h"\n'
    files["tests/lib/wsclient.h"] = ""
    rc, out = check(tree(files))
    assert rc == 1, out
    assert '"wsclient.h", which is not in include/, src/ or port/' in out, out


@case
def a_file_outside_the_layer_folders_fails():
    files = dict(GOOD)
    files["src/extra/thing.c"] = ""
    rc, out = check(tree(files))
    assert rc == 1 and "src/extra/thing.c: not in a layer folder" in out, out


if __name__ == "__main__":
    main()
