#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-doc-tests: every test the docs name exists (make check-doc-tests,
part of make check).

The docs name tests as `SUITE::CASE` (CASE may be a glob such as
`ping_deadline_*`): SUITE is a path under tests/ (`tests/unit/test_txq.c`),
a suite's short name (`badinput`, `test_channels`, `wire`,
`conformance/close`, `tls/test_tls`), and CASE must be a case that suite
defines (a Python `def`, a C function). A bare name in backticks that looks
like a test (`test_*`, `fuzz_*`, or three words or more joined by `_`) must
exist somewhere in the tree's code (tests/, scripts/, src/, examples/, ...):
a case, a fuzz target, a refused configuration, a counter, an API name.
Stale names fail with file and line."""

import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))) + [os.path.join(ROOT, "README.md")]
TICKED = re.compile(r"`([^`\n]+)`")
REF = re.compile(r"^([A-Za-z0-9_./-]+)::([A-Za-z0-9_*?]+)$")
BARE = re.compile(r"^(test_[a-z0-9_]+|fuzz_[a-z0-9_]+|[a-z0-9]+(?:_[a-z0-9]+){2,})$")
EXAMPLES = {"file::case", "SUITE::CASE"}  # the notation itself


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def suite_files(suite):
    """The files a suite's name stands for."""
    if suite.startswith("tests/"):
        return [os.path.join(ROOT, suite)]
    if suite == "wire":
        return [os.path.join(ROOT, "tests", "integration", "itest_wire.c")]
    if suite == "unit":
        return sorted(glob.glob(os.path.join(ROOT, "tests", "unit", "test_*.c")))
    head, _, name = suite.rpartition("/")
    name = name if name.startswith("test_") else "test_" + name
    pats = [os.path.join(ROOT, "tests", "*", head, name + ext) if head else
            os.path.join(ROOT, "tests", "*", name + ext) for ext in (".py", ".c", ".test.js")]
    if head:
        pats += [os.path.join(ROOT, "tests", head, name + ext) for ext in (".py", ".c")]
    return sorted({p for pat in pats for p in glob.glob(pat)})


def defined_names(path):
    text = read(path)
    names = set(re.findall(r"^(?:async\s+)?def\s+([A-Za-z0-9_]+)\s*\(", text, re.M))
    names |= set(re.findall(r"^[A-Za-z_][A-Za-z0-9_ \t\*]*?\b([A-Za-z0-9_]+)\s*\([^;]*$", text, re.M))
    names |= set(re.findall(r"""(?:name|case|test)\s*[:(,]\s*['"]([A-Za-z0-9_ ]+)['"]""", text))
    return names


def corpus_words():
    words = set()
    for top in ("tests", "scripts", "src", "port", "apps", "examples", "include", "Kconfig", "boards",
                "dist"):
        path = os.path.join(ROOT, top)
        files = [path] if os.path.isfile(path) else [
            os.path.join(d, f) for d, _, fs in os.walk(path) if "node_modules" not in d for f in fs]
        for f in files:
            if f.endswith((".py", ".c", ".h", ".js", ".sh", ".mk", "Kconfig", "defconfig")) or \
                    os.path.basename(f) == "Kconfig":
                words |= set(re.findall(r"[A-Za-z0-9_]+", read(f)))
    for f in glob.glob(os.path.join(ROOT, "tests", "fuzz", "*.c")):
        words.add(os.path.splitext(os.path.basename(f))[0])
    return words


def main():
    words = corpus_words()
    cache = {}
    bad = checked = 0
    for doc in DOCS:
        rel = os.path.relpath(doc, ROOT)
        for n, line in enumerate(read(doc).splitlines(), 1):
            for tok in TICKED.findall(line):
                tok = tok.strip()
                if tok in EXAMPLES:
                    continue
                m = REF.match(tok)
                if m:
                    suite, case = m.groups()
                    files = suite_files(suite)
                    checked += 1
                    if not files:
                        print("%s:%d: `%s`: no suite %s under tests/" % (rel, n, tok, suite))
                        bad += 1
                        continue
                    names = set()
                    for f in files:
                        if f not in cache:
                            cache[f] = defined_names(f)
                        names |= cache[f]
                    pat = re.compile("^" + re.escape(case).replace(r"\*", ".*").replace(r"\?", ".") + "$")
                    if not any(pat.match(x) for x in names):
                        print("%s:%d: `%s`: %s defines no case %s" % (
                            rel, n, tok, ", ".join(os.path.relpath(f, ROOT) for f in files), case))
                        bad += 1
                elif BARE.match(tok) and "*" not in tok:
                    checked += 1
                    if tok not in words:
                        print("%s:%d: `%s`: named nowhere in the code" % (rel, n, tok))
                        bad += 1
    print("check-doc-tests: %d test names in %d docs, %d stale" % (checked, len(DOCS), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
