# SPDX-License-Identifier: MIT
"""test_logs: logs a fleet can collect. With --log-format json every line
the daemon writes on stderr is one JSON object with time (RFC 3339 UTC),
level, ident, pid and msg, and conn and peer on the lines about one
connection; hostile bytes a client sends (quotes, backslashes, invalid
UTF-8 in an Origin header) come out escaped, never breaking the line.
The flood guard: a flood of bad handshakes from one log site prints
--log-burst lines per window, then one "last message repeated N times"
summary (in text and in JSON, where "repeated" is a key too), printed
when the window ends even if nothing else is logged, and at exit;
--log-burst 0 turns it off."""

import json
import re
import socket
import time

from cwtest import Daemon, case, connect_raw, main, read_to_eof, slow_factor, tls_mode

S = slow_factor()
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
WINDOW_S = 10  # CONFIG_LOG_REPEAT_WINDOW_MS of the host boards


def exchange(d, req):
    s = connect_raw(d.port)
    try:
        s.sendall(req)
        return read_to_eof(s)
    except (ConnectionResetError, BrokenPipeError):
        return b""
    finally:
        s.close()


def json_lines(log):
    out = []
    for line in log.splitlines():
        obj = json.loads(line)  # every line, or this raises
        assert isinstance(obj, dict), line
        for k in ("time", "level", "ident", "pid", "msg"):
            assert k in obj, (k, line)
        assert TIME_RE.match(obj["time"]), line
        assert obj["level"] in ("error", "warn", "info", "debug"), line
        assert obj["ident"] == "chanwired" and isinstance(obj["pid"], int), line
        out.append(obj)
    return out


@case
def json_lines_with_connection_and_escapes():
    d = Daemon("--log-format", "json", "--log-level", "debug")
    try:
        hostile = b'http://ev"il\\.example\xff\xfe\xc3(x'
        r = exchange(d, b"GET /ws/echo/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: " + hostile +
                     b"\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 403"), r[:80]
        r = exchange(d, b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 404"), r[:80]
        assert d.wait_log(r"no route for the path"), d.log
        assert d.wait_log(r"not allowed"), d.log
    finally:
        assert d.stop() == 0, d.log[-3000:]
    objs = json_lines(d.log)
    msgs = [o["msg"] for o in objs]
    assert any(m.startswith("listening on 127.0.0.1:0 (port ") for m in msgs), msgs
    origin = [o for o in objs if "not allowed" in o["msg"]]
    assert origin, msgs
    o = origin[0]
    assert o["msg"] == "Origin 'http://ev\"il\\.example\ufffd\ufffd\ufffd(x' not allowed", o
    assert isinstance(o["conn"], int) and o["conn"] >= 0, o
    assert re.match(r"^127\.0\.0\.1:\d+$", o["peer"]), o
    nf = [o for o in objs if "no route for the path" in o["msg"]]
    assert nf and nf[0]["level"] == "info" and "peer" in nf[0] and "conn" in nf[0], nf
    assert not any("conn" in o for o in objs if o["msg"].startswith("listening")), objs
    # the raw log is ASCII-safe JSON: no control bytes inside a line
    assert not re.search(r"[\x00-\x09\x0b-\x1f]", d.log), repr(d.log[:500])


def flood(d, n):
    for _ in range(n):
        r = exchange(d, b"BAD\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 400") or r == b"", r[:80]


@case(timeout=90.0)
def flood_of_bad_handshakes_is_summarised():
    d = Daemon("--log-burst", "5", "--log-level", "info")
    try:
        flood(d, 60)
        time.sleep(0.3)
        bad = [l for l in d.log.splitlines() if ": 400 " in l]
        assert len(bad) == 5, "\n".join(bad)
        assert "repeated" not in d.log
        # the window ends with nothing else logged: the summary comes anyway
        m = d.wait_log(r"last message repeated (\d+) times: \S+: 400 ", timeout=WINDOW_S + 10)
        assert m, d.log[-2000:]
        assert int(m.group(1)) == 55, m.group(0)
        # a new window prints again
        flood(d, 3)
        assert d.wait_log(r"(?s)repeated 55 times.*: 400 .*: 400 .*: 400 "), d.log[-2000:]
    finally:
        assert d.stop() == 0, d.log[-3000:]
    lines = d.log.splitlines()
    assert len([l for l in lines if ": 400 " in l and "repeated" not in l]) == 8, lines


@case(timeout=60.0)
def json_summary_at_exit():
    d = Daemon("--log-burst", "3", "--log-format", "json", "--log-level", "info")
    try:
        flood(d, 20)
        time.sleep(0.3)
    finally:
        assert d.stop() == 0, d.log[-3000:]  # before the window ends: summarised at exit
    objs = json_lines(d.log)
    bad = [o for o in objs if " 400 " in o["msg"] and "repeated" not in o]
    assert len(bad) == 3, bad
    summ = [o for o in objs if "repeated" in o]
    assert len(summ) == 1 and summ[0]["repeated"] == 17, summ
    assert summ[0]["msg"].startswith("last message repeated 17 times: "), summ
    # printed before the daemon's last line
    assert objs[-1]["msg"] == "stopped", objs[-3:]


@case
def no_limit_with_burst_zero():
    d = Daemon("--log-burst", "0", "--log-level", "info")
    try:
        flood(d, 30)
        time.sleep(0.3)
    finally:
        assert d.stop() == 0, d.log[-3000:]
    assert len([l for l in d.log.splitlines() if ": 400 " in l]) == 30
    assert "repeated" not in d.log


@case
def bad_log_format_refused():
    d = Daemon("--log-format", "xml", wait_ready=False)
    try:
        d.proc.wait(10 * S)
    finally:
        d.kill()
    assert d.proc.returncode == 2, d.proc.returncode
    d._reader.join(2)
    assert "--log-format wants text or json, not 'xml'" in d.log, d.log


if __name__ == "__main__":
    main()
