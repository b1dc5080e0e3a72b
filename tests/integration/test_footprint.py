# SPDX-License-Identifier: MIT
"""test_footprint: the footprint switches of Kconfig's "Footprint" and
"Debugging" menus do what docs/configuration.md says, in whichever build
runs the suite (full builds have them on, boards/tiny off): --help is the
full text or the option names (CONFIG_HELP_TEXT), options of features the
build lacks are accepted or unknown (CONFIG_ALL_OPTIONS), and a log level
below CONFIG_LOG_MIN_LEVEL prints nothing even with --log-level debug,
while the "listening on" line stays. Standard library only."""

import subprocess
import time

from cwtest import Daemon, case, config_value, connect_raw, daemon_path, exec_prefix, main, \
    root_args, slow_factor


def has(name):
    return config_value("CONFIG_" + name, 0) != 0


def run(*args):
    args = ("--no-control",) + tuple(root_args(args)) + args
    p = subprocess.run(exec_prefix() + [daemon_path()] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10 * slow_factor())
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


@case
def help_text_or_option_names():
    rc, out, err = run("--help")
    assert rc == 0, (rc, err)
    assert out.startswith("usage: chanwired"), out[:200]
    if has("HELP_TEXT"):
        assert "  --max-conns N           connection limit" in out, out
        assert "Routes: /ws/echo/" in out, out
    else:
        # One usage line, then each option of the table, with VALUE when
        # it takes one: nothing else.
        lines = out.splitlines()
        assert all(l.startswith("  --") for l in lines[1:]), out
        assert "  --max-conns VALUE" in lines, out
        assert "  --no-control" in lines, out
        assert "  --help" in lines and "  --version" in lines, out
        assert len(out) < 1024, len(out)


@case
def options_of_absent_features():
    # Each is accepted (then --version ends the run with 0) or, in a
    # build without it and without CONFIG_ALL_OPTIONS, an unknown option.
    for args, feature in ((["--syslog"], "SYSLOG"), (["--no-stats"], "STATS_ENDPOINT"),
                          (["--max-groups", "5"], "GROUPS"),
                          (["--max-memberships", "5"], "GROUPS")):
        rc, out, err = run(*(args + ["--version"]))
        if has("ALL_OPTIONS") or has(feature):
            assert rc == 0 and out.startswith("chanwired "), (args, rc, err)
        else:
            assert rc == 2 and "unknown option '%s'" % args[0] in err, (args, rc, err)
    # --no-control: in every build (run passes it)
    rc, out, err = run("--version")
    assert rc == 0, (rc, err)


@case
def compiled_log_levels():
    # The Daemon starts with --log-level debug and finds its port in the
    # "listening on" line, which every build keeps.
    with Daemon() as d:
        s = connect_raw(d.port)
        s.sendall(b"GET /no-such-route HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        assert got.startswith(b"HTTP/1.1 404 Not Found\r\n"), got[:100]
        info = config_value("CONFIG_LOG_MIN_LEVEL", 3) >= 2
        seen = d.wait_log(r": 404 no route for the path", timeout=2.0 if info else 1.0)
        assert (seen is not None) == info, (info, d.log[-2000:])


if __name__ == "__main__":
    main()
