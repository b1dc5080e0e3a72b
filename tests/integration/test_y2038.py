#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The daemon's wall clock past 2038-01-19T03:14:07Z (and past 2106, where
an unsigned 32-bit count of seconds ends): its log timestamps and its
token-expiry checks must still tell the right date.

The daemon under test is $(B)/tests/chanwired-clock (tests/clock.mk): the
real daemon linked with tests/lib/clock_shift.c wrapped around
clock_gettime, so CW_CLOCK_SHIFT=<seconds> moves its CLOCK_REALTIME alone
(no root, no time namespace; the wrap is link-time, so the static and
cross builds run under qemu-user are moved too). On a 32-bit board this is
the test of CONFIG_TIME64: with a 32-bit time_t the moved clock does not
fit (clock_gettime fails with EOVERFLOW, as glibc's does on such a date),
and both cases fail: make check-combos builds qemu-armv7 with TIME64=n and
expects exactly that. Standard library only.
"""

import calendar
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from cwtest import Daemon, case, daemon_path, main  # noqa: E402
from rawws import Conn, request  # noqa: E402

BUILD = os.environ.get("CW_BUILD") or os.path.dirname(daemon_path())
# The suite runs the clock-moved daemon whatever CW_DAEMON says (the fault
# pass sets it to chanwired-faults, whose clock is the real one).
os.environ["CW_DAEMON"] = os.path.join(BUILD, "tests", "chanwired-clock")

# Dates to move the clock to: past the signed 32-bit end (2038-01-19) and
# past the unsigned one (2106-02-07).
DATES = [(2040, 1, 1), (2110, 1, 1)]

TMP = tempfile.mkdtemp(prefix="cw-y2038-")
SECRET = "chanwire-y2038-secret-0123456789abcdef"
SECRET_FILE = os.path.join(TMP, "jwt.secret")
with open(SECRET_FILE, "w") as _f:
    _f.write(SECRET + "\n")

LOG_TS = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.\d{3}Z ", re.M)


def has_config(name):
    try:
        with open(os.path.join(BUILD, "include", "cw_config.h")) as f:
            return any(l.split()[:2] == ["#define", name] for l in f)
    except OSError:
        return False


def shift_to(y, m, d):
    """CW_CLOCK_SHIFT putting the daemon's clock at y-m-d 00:00:00Z now."""
    target = calendar.timegm((y, m, d, 0, 0, 0))
    return target, target - int(time.time())


def clock_daemon(shift, *args):
    return Daemon(*args, env={"CW_CLOCK_SHIFT": str(shift)})


@case
def log_timestamps_past_2038():
    """Every line the daemon logs carries the moved date, to the minute."""
    for y, m, d in DATES:
        target, shift = shift_to(y, m, d)
        with clock_daemon(shift) as dmn:
            c = Conn(dmn.port)
            assert c.handshake("/ws/echo/") == 101
            c.close()
        log = dmn.log  # stopped: the shutdown lines too
        stamps = LOG_TS.findall(log)
        assert stamps, "no timestamped log line at %d-%02d-%02d:\n%s" % (y, m, d, log[-2000:])
        for st in stamps:
            t = calendar.timegm(tuple(int(x) for x in st))
            # Startup under qemu-user takes seconds, not minutes.
            assert 0 <= t - target < 300, "log line stamped %s-%s-%sT%s:%s:%s, clock at %d-%02d-%02d" % (
                st + (y, m, d))
        # The timestamps are on every line: none fell back to another format.
        lines = [l for l in log.splitlines() if " chanwired[" in l]
        assert len(lines) == len(stamps), log[-2000:]


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def mint(claims):
    h = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    p = b64u(json.dumps(claims).encode())
    sig = hmac.new(SECRET.encode(), ("%s.%s" % (h, p)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (h, p, b64u(sig))


def upgrade_status(port, token):
    c = Conn(port)
    try:
        c.sock.sendall(request("/ws/users/", extra="Authorization: Bearer %s\r\n" % token))
        return c.read_head()
    finally:
        c.close()


def tokens_judged_past_2038():
    """Token expiry judged by a clock past 2038 (and past 2106): a token
    valid then is accepted; one that expired then (or expired in 2038, or
    is valid only today) is refused as expired; one not valid yet is
    refused as such."""
    for y, m, d in DATES:
        target, shift = shift_to(y, m, d)
        with clock_daemon(shift, "--jwt-secret-file", SECRET_FILE) as dmn:
            now = target  # the daemon's clock, give or take its start-up
            want = [
                ("valid for another hour", {"exp": now + 3600}, 101, None),
                ("valid until next year", {"exp": now + 366 * 86400}, 101, None),
                ("expired an hour ago", {"exp": now - 3600}, 401, "token expired"),
                ("expired just after 2038-01-19", {"exp": 2 ** 31 + 60}, 401, "token expired"),
                ("valid only by today's clock", {"exp": int(time.time()) + 600}, 401,
                 "token expired"),
                ("not valid for another hour", {"exp": now + 7200, "nbf": now + 3600}, 401,
                 "token not valid yet"),
            ]
            for what, extra, status, reason in want:
                claims = {"user_id": 7, "username": "y2038"}
                claims.update(extra)
                st = upgrade_status(dmn.port, mint(claims))
                assert st == status, "%d-%02d-%02d, %s (exp %d): %r, want %d\n%s" % (
                    y, m, d, what, extra["exp"], st, status, dmn.log[-2000:])
            for reason in ("token expired", "token not valid yet"):
                assert dmn.wait_log(r"token refused: " + reason), dmn.log[-2000:]
            assert "wall clock not set" not in dmn.log, dmn.log[-2000:]


# Tokens are read by the users consumer (/ws/users/): builds with JWT and
# the chat and presence consumers (GROUPS and JSON; not tiny) have the case.
if has_config("CONFIG_JWT") and has_config("CONFIG_GROUPS") and has_config("CONFIG_JSON"):
    case(tokens_judged_past_2038)

if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
