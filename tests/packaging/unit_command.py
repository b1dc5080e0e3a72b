#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""unit_command.py: the command line systemd would run for chanwired.service
(Environment=, then EnvironmentFile= read the way systemd reads it: KEY=VALUE
lines, quotes removed, no $VARIABLE expansion, no commands; then ExecStart=
with $NAME split at whitespace and ${NAME} kept whole). Used by check-deb.sh
(to start the installed daemon as the unit would) and test_agree.py.
Usage: unit_command.py UNIT [ENVFILE]   prints the arguments, one line."""
import re
import shlex
import sys


def env_file(text):
    """systemd.exec(5) EnvironmentFile=: a line is KEY=VALUE or a comment;
    a value in double or single quotes loses them; nothing is expanded."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            raise ValueError("not KEY=VALUE: " + line)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def unit_settings(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"(\w+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def command(unit_text, envfile_text=None):
    s = unit_settings(unit_text)
    env = {}
    for e in s.get("Environment", []):
        for word in shlex.split(e):
            k, _, v = word.partition("=")
            env[k] = v
    if envfile_text is not None:
        env.update(env_file(envfile_text))
    args = []
    for word in s["ExecStart"][0].split():
        m = re.fullmatch(r"\$(\w+)", word)
        if m:
            args += env.get(m.group(1), "").split()
        else:
            args.append(re.sub(r"\$\{(\w+)\}", lambda x: env.get(x.group(1), ""), word))
    return args


if __name__ == "__main__":
    unit = open(sys.argv[1]).read()
    envf = open(sys.argv[2]).read() if len(sys.argv) > 2 else None
    print(" ".join(command(unit, envf)))
