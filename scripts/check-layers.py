#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-layers: the library's include graph keeps the shape of
docs/architecture.md, so the layering cannot rot (make check-layers).

Layers, bottom to top: port/, src/base/, src/proto/, src/core/,
src/channels/, then src/*.{c,h} (server, control socket, privileges,
stats). A file may include headers of its own layer and the layers below
it, the public include/ and the generated cw_config.h; nothing from apps/,
examples/ or tests/. Inside one layer the modules (a .c with its .h) must
not include each other in a circle. Exits 1 and names every breach.
"""
import os
import re
import sys

LAYERS = ["port", "src/base", "src/proto", "src/core", "src/channels", "src"]
PUBLIC = {"chanwire.h", "cw_config.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(path):
    """The rank of a library file (by its folder), or None."""
    d = os.path.dirname(path)
    if d == "port" or d.startswith("port/"):
        return 0
    if d in LAYERS:
        return LAYERS.index(d)
    return None


def resolve(inc, including):
    """The repository path an #include "inc" names, as the build's -I
    options (include, src, port) find it; None for the public headers."""
    if inc in PUBLIC:
        return None
    for root in ("src", "port"):
        p = os.path.normpath(os.path.join(root, inc))
        if os.path.isfile(p):
            return p
    if os.path.isfile(os.path.join("include", inc)):
        return None
    local = os.path.join(os.path.dirname(including), inc)
    return os.path.normpath(local) if os.path.isfile(local) else "?" + inc


def library_files():
    out = []
    for top in ("src", "port"):
        for d, _, names in os.walk(top):
            out += [os.path.join(d, n) for n in names if n.endswith((".c", ".h"))]
    return sorted(out)


def module(path):
    return os.path.splitext(path)[0]


def find_cycle(edges):
    """A list of modules forming a circle in edges (module -> set), or []."""
    state, stack = {}, []

    for start in sorted(edges):
        if state.get(start):
            continue
        # iterative depth-first search: (node, iterator over its edges)
        todo = [(start, iter(sorted(edges.get(start, ()))))]
        state[start] = 1
        stack.append(start)
        while todo:
            node, it = todo[-1]
            nxt = next(it, None)
            if nxt is None:
                todo.pop()
                stack.pop()
                state[node] = 2
            elif state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append(nxt)
                todo.append((nxt, iter(sorted(edges.get(nxt, ())))))
    return []


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    if len(sys.argv) == 3 and sys.argv[1] == "--root":
        root = sys.argv[2]  # another tree (tests/integration/test_layers.py)
    os.chdir(root)
    bad = []
    edges = {}
    files = library_files()
    for f in files:
        rank = layer_of(f)
        if rank is None:
            bad.append("%s: not in a layer folder (%s)" % (f, ", ".join(LAYERS)))
            continue
        text = open(f, encoding="utf-8").read()
        for inc in INCLUDE.findall(text):
            target = resolve(inc, f)
            if target is None:
                continue
            if target.startswith("?"):
                bad.append('%s: includes "%s", which is not in include/, src/ or port/' % (f, inc))
                continue
            trank = layer_of(target)
            if trank is None or trank > rank:
                bad.append('%s (%s) includes "%s" of the higher layer %s' %
                           (f, LAYERS[rank], inc, LAYERS[trank] if trank is not None else "?"))
            elif trank == rank and module(target) != module(f):
                edges.setdefault(module(f), set()).add(module(target))
    cycle = find_cycle(edges)
    if cycle:
        bad.append("modules include each other in a circle: " + " -> ".join(cycle))
    for b in bad:
        print("check-layers: " + b)
    if bad:
        print("check-layers: %d breach(es); see docs/architecture.md" % len(bad))
        return 1
    print("check-layers: %d files in %d layers, no upward include, no circle" %
          (len(files), len(LAYERS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
