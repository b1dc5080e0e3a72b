# SPDX-License-Identifier: MIT
"""ctlkit: what the suites that drive a daemon through its control socket
and WebSocket clients share: chanwire-send against a Daemon's socket, its
/stats counters, waiting for a counter, and receiving with the board's
time factor (slow_factor) applied. A Daemon given to these has .ctl, the
control socket path the suite started it with."""

import asyncio
import json
import os
import subprocess
import time

from cwtest import daemon_path, exec_prefix, slow_factor


def cwsend(d, *args):
    """chanwire-send --socket d.ctl ARGS: (exit code, stdout, stderr)."""
    build = os.environ.get("CW_BUILD") or os.path.dirname(daemon_path())
    env = dict(os.environ)
    env.pop("CHANWIRE_SOCKET", None)
    p = subprocess.run(exec_prefix() + [os.path.join(build, "chanwire-send"), "--socket", d.ctl]
                       + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=20 * slow_factor())
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def stats(d):
    """The daemon's counters as {name: text}."""
    rc, out, err = cwsend(d, "--stats")
    assert rc == 0, (rc, out, err)
    return {k: v for k, v in (l.split(" ", 1) for l in out.splitlines() if " " in l)}


def wait_stat(d, key, pred, timeout=10.0):
    """Waits until counter key (as an int) satisfies pred; returns it."""
    end = time.time() + timeout * slow_factor()
    while time.time() < end:
        v = stats(d).get(key)
        if v is not None and pred(int(v)):
            return int(v)
        time.sleep(0.05)
    raise AssertionError("%s: %r\n%s" % (key, stats(d).get(key), d.log[-2000:]))


async def recv(ws, timeout=5.0):
    return await asyncio.wait_for(ws.recv(), timeout * slow_factor())


async def recv_json(ws, timeout=5.0):
    return json.loads(await recv(ws, timeout))


async def nothing_more(*wss, wait=0.3):
    """No client gets anything else (a duplicate would show here)."""
    await asyncio.sleep(wait * slow_factor())
    for ws in wss:
        try:
            m = await asyncio.wait_for(ws.recv(), 0.01)
        except asyncio.TimeoutError:
            continue
        raise AssertionError("unexpected extra message %r" % (m,))
