#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-buildroot-package.py: the rules Buildroot's utils/check-package
applies to a package's files, for dist/buildroot (CI cannot download
Buildroot). Written from Buildroot's manual and the behaviour of its checker,
not from its code: every file (whitespace, ASCII, newline at the end), *.mk
(header, indentation, prefixed variables, ifeq not ifdef, useless defaults,
$() not ${}), Config.in (indentation, attribute order, help text width, no
'default n', no config declared twice), *.hash (three fields, known hash type
and length, two spaces) and S??name init scripts (tabs, DAEMON without a
path, PIDFILE in /var/run, file name, shellcheck). A line
'# check-package disable NAME' waives rule NAME on the next line, as in
Buildroot. Usage: check-buildroot-package.py [DIR] (default dist/buildroot;
the init script is taken from DIR/../chanwired.init, as make
install-init-sysv writes it). Exit 1 on any finding."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
findings = []


def report(path, lineno, rule, message):
    findings.append("%s:%d: [%s] %s" % (path, lineno, rule, message))


def waived(lines, i, rule):
    """Buildroot's per-line waiver: the line before names the rule."""
    return i > 0 and re.match(r"\s*# check-package .*\b%s\b" % rule, lines[i - 1]) is not None


# ---- every file ----

def check_common(path, lines):
    blank_run = 0
    for i, line in enumerate(lines, 1):
        body = line.rstrip("\n")
        if body != body.rstrip():
            report(path, i, "TrailingSpace", "trailing whitespace")
        if any(ord(c) > 127 for c in body):
            report(path, i, "Utf8Characters", "characters outside ASCII")
        blank_run = blank_run + 1 if body.strip() == "" else 0
        if blank_run == 2:
            report(path, i, "ConsecutiveEmptyLines", "two empty lines in a row")
    if lines and not lines[-1].endswith("\n"):
        report(path, len(lines), "NewlineAtEof", "no newline at the end")
    if lines and lines[-1].strip() == "":
        report(path, len(lines), "EmptyLastLine", "empty line at the end")


# ---- *.mk ----

CONDITIONALS = ("ifeq", "ifneq", "ifdef", "ifndef", "else", "endif")
USELESS = {"_INSTALL_TARGET": "YES", "_INSTALL_STAGING": "NO", "_INSTALL_IMAGES": "NO",
           "_REDISTRIBUTE": "YES", "_AUTORECONF": "NO", "_LIBTOOL_PATCH": "YES"}


def check_mk(path, lines):
    name = os.path.basename(path)[:-3]
    prefix = re.sub(r"[^A-Z0-9]", "_", name.upper())
    header = ["#" * 80, "#", "# " + name, "#", "#" * 80, ""]
    if not lines or not lines[0].startswith("include "):
        for n, want in enumerate(header, 1):
            got = lines[n - 1].rstrip("\n") if n <= len(lines) else ""
            if n == 3:
                continue  # the title line is free text
            if got != want:
                report(path, n, "PackageHeader", "header line %d should be %r" % (n, want))
    in_define = after_backslash = in_target = False
    depth = 0
    assigned = {}  # variable -> conditional depth of its first plain '='
    for i, raw in enumerate(lines):
        n, text = i + 1, raw.rstrip("\n")
        stripped = text.strip()
        word = stripped.split()[0] if stripped else ""
        # indentation: tabs inside define/endef, continuation lines and
        # rule recipes; none elsewhere (conditionals never indented)
        if re.match(r"\s*define\s", text):
            in_define = True
        elif re.match(r"\s*endef\b", text):
            in_define = False
        else:
            want_tab = (in_define or after_backslash or in_target) and \
                (after_backslash or word not in CONDITIONALS)
            if re.match(r"[^#\s][^=]*:(\s|$)", text) and not re.match(r"\S+\s*[:+?]?=", text):
                in_target = True
            elif stripped == "":
                in_target = False
            elif in_define and stripped.startswith("#"):
                pass
            elif want_tab and not text.startswith("\t"):
                report(path, n, "Indent", "expected indent with a tab")
            elif not want_tab and text.startswith("\t"):
                report(path, n, "Indent", "unexpected indent with a tab")
        ends_bs = not stripped.startswith("#") and text.endswith("\\")
        if ends_bs and re.search(r"(  |\t ?)\\$", text):
            report(path, n, "SpaceBeforeBackslash", "one space before the backslash")
        if ends_bs and (i + 1 >= len(lines) or lines[i + 1].strip() == ""):
            report(path, n, "TrailingBackslash", "backslash before an empty line")
        after_backslash = ends_bs
        if stripped.startswith("#"):
            continue
        if re.match(r"\s*(else\s+)?ifn?def\s", text):
            report(path, n, "Ifdef", "use ifeq ($(SYMBOL),y) / ifneq, not ifdef/ifndef")
        if re.search(r"[^$]\$\{\w+\}", text):
            report(path, n, "VariableWithBraces", "use $() around variables, not ${}")
        if "$(HOST_DIR)/usr" in text:
            report(path, n, "DoNotInstallToHostdirUsr", "install to $(HOST_DIR)/, not /usr")
        if word in ("ifeq", "ifneq", "ifdef", "ifndef"):
            depth += 1
        elif word == "endif":
            depth -= 1
        m = re.match(r"(define\s+)?([A-Z0-9_]+_[A-Z0-9_]+)\b", text)
        if m and not waived(lines, i, "TypoInPackageVariable") and in_define is False:
            var = m.group(2)
            if not re.match(r"(HOST_|ROOTFS_)?%s_" % prefix, var):
                report(path, n, "TypoInPackageVariable",
                        "%s is not prefixed %s_ (a typo?)" % (var, prefix))
        m = re.match(r"([A-Z0-9_]+)\s*(\+=|:=|=)\s*(.*)$", text)
        if m and in_define is False:
            var, op, value = m.groups()
            for suffix, default in USELESS.items():
                if var == prefix + suffix and value.strip() == default:
                    report(path, n, "UselessFlag", "%s = %s is the default" % (var, default))
            if var == prefix + "_SOURCE" and value.strip() == \
                    "%s-$(%s_VERSION).tar.gz" % (name, prefix):
                report(path, n, "RemoveDefaultPackageSourceVariable", "the default _SOURCE")
            if op in ("=", ":=") and not re.search(r"\$\(%s\)" % re.escape(var), value):
                if var in assigned and not waived(lines, i, "OverriddenVariable"):
                    if depth == 0:
                        report(path, n, "OverriddenVariable", "unconditional override of " + var)
                elif depth == 0:
                    assigned[var] = depth
            if op == ":=" and re.search(r"\$\(%s\)" % re.escape(var), value):
                report(path, n, "OverriddenVariable", "append with +=, not := $(%s)" % var)


# ---- Config.in ----

TOP_LEVEL = ("config", "menuconfig", "choice", "endchoice", "if", "endif",
             "menu", "endmenu", "comment", "source", "mainmenu")
ATTR_RANK = {"bool": 1, "string": 1, "int": 1, "hex": 1, "tristate": 1, "prompt": 1,
             "default": 2, "range": 2, "depends": 3, "select": 4, "imply": 4, "help": 5}


def check_config_in(path, lines):
    in_help = first_help = False
    rank = 0
    declared = {}
    if_stack = []
    after_backslash = False
    for i, raw in enumerate(lines):
        n, text = i + 1, raw.rstrip("\n")
        stripped = text.strip()
        word = stripped.split()[0] if stripped else ""
        if in_help:
            if stripped == "":
                continue
            if text.startswith("\t  ") or (text.startswith("\t") and not text.startswith("\t\t")
                                          and word not in ATTR_RANK and word not in TOP_LEVEL):
                width_ok = re.match(r"\t  \S.{0,61}$" if first_help else r"\t  .{0,62}$", text)
                first_help = False
                if not width_ok and not re.match(r"(https?|git)://\S*$", stripped):
                    report(path, n, "HelpText", "help text is <tab><2 spaces><at most 62 chars>")
                continue
            in_help = False
        if stripped == "" or stripped.startswith("#"):
            after_backslash = False
            continue
        if after_backslash:
            if not text.startswith("\t"):
                report(path, n, "Indent", "continuation line indented with tabs")
            after_backslash = text.endswith("\\")
            continue
        after_backslash = text.endswith("\\")
        if word in TOP_LEVEL:
            rank = 0
            if text != text.lstrip():
                report(path, n, "Indent", "%s should not be indented" % word)
            m = re.match(r"(menu)?config\s+(BR2_\w+)", stripped)
            if m:
                key = (m.group(2), tuple(if_stack))
                if key in declared:
                    report(path, n, "RedefinedConfig", "%s declared again (line %d)"
                           % (m.group(2), declared[key]))
                declared.setdefault(key, n)
            if word == "if":
                if_stack.append(stripped[3:].strip())
            elif word == "endif" and if_stack:
                if_stack.pop()
            continue
        if word in ATTR_RANK:
            if not text.startswith("\t" + word):
                report(path, n, "Indent", "%s should be indented with one tab" % word)
            if ATTR_RANK[word] < rank:
                report(path, n, "AttributesOrder",
                       "attributes in the order type, default, depends on, select, help")
            rank = ATTR_RANK[word]
            if word == "help":
                in_help = first_help = True
            if stripped == "default n":
                report(path, n, "NoDefaultN", "'default n' is the default already")


# ---- *.hash ----

HASH_LEN = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}


def check_hash(path, lines):
    for n, raw in enumerate(lines, 1):
        text = raw.rstrip("\n")
        if text.strip() == "" or text.lstrip().startswith("#"):
            continue
        fields = text.split()
        if len(fields) != 3:
            report(path, n, "HashNumberOfFields", "expected: type, hash, file name")
            continue
        kind, digest, _ = fields
        if kind not in HASH_LEN:
            report(path, n, "HashType", "unknown hash type " + kind)
        elif not re.fullmatch(r"[0-9a-fA-F]{%d}" % HASH_LEN[kind], digest):
            report(path, n, "HashType", "%s wants %d hex digits" % (kind, HASH_LEN[kind]))
        if text != "  ".join(fields):
            report(path, n, "HashSpaces", "fields separated by exactly two spaces")


# ---- S??name init scripts ----

def check_sysv(path, lines):
    base = os.path.basename(path)
    daemon = None
    for i, raw in enumerate(lines):
        n, text = i + 1, raw.rstrip("\n")
        if re.match(r"\t* ", text):
            report(path, n, "Indent", "indent with tabs")
        m = re.match(r"""DAEMON=["']?([^"']*)["']?""", text)
        if m:
            if daemon is not None:
                report(path, n, "Variables", "DAEMON set twice")
            daemon = m.group(1)
            if "/" in daemon:
                report(path, n, "Variables", "DAEMON is a name, not a path")
        m = re.match(r"""PIDFILE=["']?([^"']*)["']?""", text)
        if m and not re.fullmatch(r"/var/run/(\$DAEMON|\$\{DAEMON\})\.pid", m.group(1)):
            report(path, n, "Variables", 'PIDFILE should be "/var/run/$DAEMON.pid"')
    if daemon is None:
        report(path, 0, "Variables", "no DAEMON=")
    elif not re.fullmatch(r"S\d\d" + re.escape(daemon), base):
        report(path, 0, "Variables", "file name should be S<2 digits>%s" % daemon)
    if shutil.which("shellcheck") is None:
        report(path, 0, "Shellcheck", "shellcheck is not installed "
               "(apt-get install shellcheck; scripts/install-test-deps.sh)")
        return
    p = subprocess.run(["shellcheck", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if p.returncode != 0:
        report(path, 0, "Shellcheck", "\n" + p.stdout)


def check_file(path, shown):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.readlines()
    base = os.path.basename(path)
    before = len(findings)
    if base == "external.mk" and os.path.exists(path[:-2] + "desc"):
        return False  # the external tree's own makefile, not a package's
    if base.endswith(".mk"):
        check_mk(shown, lines)
    elif base.startswith("Config.in"):
        check_config_in(shown, lines)
    elif base.endswith(".hash"):
        check_hash(shown, lines)
    elif re.match(r"S\d\d", base):
        check_sysv(path, lines)
    else:
        return False
    check_common(shown, lines)
    # Buildroot's waiver: '# check-package disable RULE' on the line before.
    kept = []
    for x in findings[before:]:
        m = re.match(r".*?:(\d+): \[(\w+)\]", x)
        if not (m and waived(lines, int(m.group(1)) - 1, m.group(2))):
            kept.append(x)
    findings[before:] = kept
    return True


def main():
    tree = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "dist", "buildroot")
    checked = 0
    for root, _, files in sorted(os.walk(tree)):
        for f in sorted(files):
            path = os.path.join(root, f)
            if os.path.isfile(path):
                checked += check_file(path, os.path.relpath(path, TOP))
    # The init script as installed (S50chanwired, paths filled in); another
    # tree given as DIR (a Buildroot package, to compare) may have none.
    src = os.path.join(tree, os.pardir, "chanwired.init")
    if os.path.isfile(src) or len(sys.argv) == 1:
        with tempfile.TemporaryDirectory() as tmp:
            dst = os.path.join(tmp, "S50chanwired")
            with open(src) as f, open(dst, "w") as g:
                g.write(f.read().replace("@SBINDIR@", "/usr/sbin").replace("@SYSCONFDIR@", "/etc"))
            before = len(findings)
            checked += check_file(dst, "dist/chanwired.init")
            findings[before:] = [x.replace(dst, "dist/chanwired.init") for x in findings[before:]]
    for x in findings:
        print(x)
    print("check-buildroot-package: %d files, %d findings" % (checked, len(findings)))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
