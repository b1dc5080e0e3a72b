# SPDX-License-Identifier: MIT
"""test_metrics: chanwired --metrics ADDR:PORT serves GET /metrics in the
Prometheus text exposition format 0.0.4 on a listener of its own, parsed
here with Prometheus's own parser (Debian's python3-prometheus-client):
the counters of /stats as chanwire_*_total, a gauge and a high-water mark
for every pool, the send queues' bytes, and histograms of handshake and
group fan-out latency whose buckets are cumulative with +Inf equal to
_count. The values move with real connections, messages and group sends.
Anything but GET /metrics gets 404 or 405; a scraper that holds its
connection without finishing holds one of CONFIG_METRICS_CONNS slots
until its deadline, the next one gets 503 at once, and the WebSocket port
goes on serving meanwhile. Without --metrics there is no such listener."""

import asyncio
import json
import re
import socket
import time

from cwtest import Daemon, case, client_ssl, config_value, main, read_to_eof, skip_suite, \
    slow_factor

try:
    import websockets
except ImportError:
    skip_suite("python3-websockets not installed (apt-get install python3-websockets)")
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    skip_suite("python3-prometheus-client not installed (apt-get install python3-prometheus-client)")

S = slow_factor()
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def start(*args):
    d = Daemon("--metrics", "127.0.0.1:0", *args)
    m = d.wait_log(r"metrics on \S+ \(port (\d+)\)")
    assert m, d.log
    d.metrics_port = int(m.group(1))
    return d


def http(port, req, timeout=5.0):
    """One exchange on the metrics port: (status, headers dict, body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout * S)
    try:
        s.sendall(req)
        raw = read_to_eof(s)
    finally:
        s.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    assert int(headers.get("content-length", len(body))) == len(body), raw[:300]
    return status, headers, body


def scrape(d):
    """The parsed report: {family name: Metric}, and the raw text."""
    status, headers, body = http(d.metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                                 b"Accept: text/plain\r\n\r\n")
    assert status == 200, (status, body[:200])
    assert headers["content-type"] == CONTENT_TYPE, headers
    text = body.decode("utf-8")
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    return fams, text


def value(fams, name, **labels):
    """One sample's value: name is the sample's name (with _total, _bucket...)."""
    for f in fams.values():
        for s in f.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise KeyError("%s %r" % (name, labels))


def check_histogram(fams, family):
    f = fams[family]
    assert f.type == "histogram", f.type
    buckets = [(s.labels["le"], s.value) for s in f.samples if s.name == family + "_bucket"]
    assert len(buckets) >= 10 and buckets[-1][0] == "+Inf", buckets
    les = [float(le) for le, _ in buckets]
    assert les == sorted(les), les
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "buckets must be cumulative: %r" % counts
    count = value(fams, family + "_count")
    assert counts[-1] == count, (counts[-1], count)
    total = value(fams, family + "_sum")
    assert total >= 0
    return count, total, dict(buckets)


def ws_kw(d):
    kw = dict(max_size=None, compression=None, open_timeout=10 * S, close_timeout=5 * S,
              ping_interval=None)
    if d.tls:
        kw["ssl"] = client_ssl()
    return kw


@case
def report_parses_with_every_family():
    d = start()
    try:
        fams, text = scrape(d)
        for name in ("chanwire_accepted", "chanwire_upgraded", "chanwire_msgs_in",
                     "chanwire_msgs_out", "chanwire_http_errors", "chanwire_pool_exhausted",
                     "chanwire_handshake_timeouts", "chanwire_pool_failures"):
            assert fams[name].type == "counter", name
        for name in ("chanwire_conns_open", "chanwire_conns_http", "chanwire_pool_used",
                     "chanwire_pool_limit", "chanwire_pool_high_water", "chanwire_sendq_bytes",
                     "chanwire_sendq_bytes_high_water", "chanwire_build_info"):
            assert fams[name].type == "gauge", name
        # every pool of the /stats report is there, with its high-water mark
        st = http(d.port, b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")[2].decode() \
            if not d.tls and config_value("CONFIG_STATS_ENDPOINT", 0) else ""
        # and every counter of /stats, as chanwire_NAME_total or a gauge
        for name in re.findall(r"^([a-z_]+) \d+$", st, re.M):
            assert "chanwire_" + name in fams, "/stats has %s, /metrics not" % name
        for pool in re.findall(r"^pool (\S+) ", st, re.M) or ["conn", "io", "msg", "http"]:
            for g in ("chanwire_pool_used", "chanwire_pool_limit", "chanwire_pool_high_water"):
                value(fams, g, pool=pool)
            value(fams, "chanwire_pool_failures_total", pool=pool)
        if config_value("CONFIG_GROUPS", 0):
            value(fams, "chanwire_pool_used", pool="group")
            value(fams, "chanwire_pool_used", pool="member")
        if config_value("CONFIG_TLS", 0):
            assert "chanwire_tls_arena_bytes" in fams
        check_histogram(fams, "chanwire_handshake_seconds")
        check_histogram(fams, "chanwire_group_fanout_seconds")
        # each family once, # HELP and # TYPE before its samples
        types = re.findall(r"^# TYPE (\S+) ", text, re.M)
        assert len(types) == len(set(types)), types
        assert text.endswith("\n")
    finally:
        assert d.stop() == 0, d.log[-3000:]


@case
async def values_move_with_traffic():
    d = start()
    try:
        before, _ = scrape(d)
        hs0, _, _ = check_histogram(before, "chanwire_handshake_seconds")
        fo0, _, _ = check_histogram(before, "chanwire_group_fanout_seconds")
        acc0 = value(before, "chanwire_accepted_total")
        up0 = value(before, "chanwire_upgraded_total")
        in0 = value(before, "chanwire_msgs_in_total")
        kw = ws_kw(d)
        echoes = [await websockets.connect(d.url("/ws/echo/"), **kw) for _ in range(5)]
        for i, ws in enumerate(echoes):
            await ws.send("hello %d" % i)
            assert await asyncio.wait_for(ws.recv(), 5 * S) == "hello %d" % i
        n = 5
        chats = []
        if config_value("CONFIG_GROUPS", 0) and config_value("CONFIG_JSON", 0):
            chats = [await websockets.connect(d.url("/ws/chat/metrics/"), **kw) for _ in range(3)]
            await chats[0].send(json.dumps({"message": "to the room"}))
            for ws in chats:
                got = json.loads(await asyncio.wait_for(ws.recv(), 5 * S))
                assert got["message"] == "to the room", got
            n += 3
        mid, _ = scrape(d)
        assert value(mid, "chanwire_conns_open") == n
        assert value(mid, "chanwire_accepted_total") >= acc0 + n
        assert value(mid, "chanwire_upgraded_total") == up0 + n
        assert value(mid, "chanwire_msgs_in_total") >= in0 + 5 + (1 if chats else 0)
        assert value(mid, "chanwire_pool_used", pool="conn") >= n
        assert value(mid, "chanwire_pool_high_water", pool="conn") >= n
        # each open connection has its deadline (ping) armed
        assert value(mid, "chanwire_timers_armed") >= n
        assert value(mid, "chanwire_timers_armed_high_water") >= value(mid, "chanwire_timers_armed")
        hs, hsum, _ = check_histogram(mid, "chanwire_handshake_seconds")
        assert hs == hs0 + n, (hs, hs0, n)
        assert hsum > 0
        if chats:
            fo, _, _ = check_histogram(mid, "chanwire_group_fanout_seconds")
            assert fo >= fo0 + 1, (fo, fo0)
            assert value(mid, "chanwire_pool_used", pool="member") >= 3
        for ws in echoes + chats:
            await ws.close()
        end = time.time() + 5 * S
        while True:
            after, _ = scrape(d)
            if value(after, "chanwire_conns_open") == 0 or time.time() > end:
                break
            await asyncio.sleep(0.05)
        assert value(after, "chanwire_conns_open") == 0
        assert value(after, "chanwire_pool_used", pool="conn") == 0
        # the high-water mark stays where the load took it
        assert value(after, "chanwire_pool_high_water", pool="conn") >= n
        assert value(after, "chanwire_sendq_bytes_high_water") > 0
        assert value(after, "chanwire_sendq_bytes") == 0
        assert value(after, "chanwire_metrics_scrapes_total") >= 2  # this one not yet
    finally:
        assert d.stop() == 0, d.log[-3000:]


@case
def other_paths_and_methods_refused():
    d = start()
    try:
        p = d.metrics_port
        st, h, body = http(p, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert st == 404, st
        st, h, body = http(p, b"GET /metricsx HTTP/1.1\r\n\r\n")
        assert st == 404, st
        st, h, body = http(p, b"GET /stats HTTP/1.1\r\n\r\n")
        assert st == 404, st
        st, h, body = http(p, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        assert st == 405 and h.get("allow") == "GET", (st, h)
        st, h, body = http(p, b"HEAD /metrics HTTP/1.1\r\n\r\n")
        assert st == 405, st
        st, h, body = http(p, b"nonsense\r\n\r\n")
        assert st == 400, st
        st, h, body = http(p, b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * 4000 + b"\r\n\r\n")
        assert st == 431, st
        # a query string is ignored; a bare-LF request works too
        st, h, body = http(p, b"GET /metrics?name[]=x HTTP/1.1\n\n")
        assert st == 200 and b"chanwire_accepted_total" in body, st
        # the WebSocket port does not serve /metrics
        if not d.tls:
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5 * S)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_to_eof(s).split(b" ")[1] == b"404"
            s.close()
    finally:
        assert d.stop() == 0, d.log[-3000:]


@case(timeout=60.0)
async def slow_scrapers_hold_a_bounded_number_of_slots():
    d = start()
    try:
        slots = config_value("CONFIG_METRICS_CONNS", 2)
        held = []
        # half a request, then nothing: each holds one slot
        for _ in range(slots):
            s = socket.create_connection(("127.0.0.1", d.metrics_port), timeout=5 * S)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: ")
            held.append(s)
        time.sleep(0.2)
        # the next one is answered 503 at once, before it even asks
        t0 = time.time()
        st, h, body = http(d.metrics_port, b"")
        assert st == 503, st
        assert time.time() - t0 < 2 * S
        # the loop is not blocked: the WebSocket port answers meanwhile
        async with websockets.connect(d.url("/ws/echo/"), **ws_kw(d)) as ws:
            await ws.send("still here")
            assert await asyncio.wait_for(ws.recv(), 5 * S) == "still here"
        # the deadline (5 s) frees the slots: the held ones are closed
        for s in held:
            s.settimeout(10 * S)
            assert read_to_eof(s) == b"", "a half request gets no answer"
            s.close()
        fams, _ = scrape(d)
        assert value(fams, "chanwire_metrics_refused_total") >= 1
        assert value(fams, "chanwire_metrics_timeouts_total") >= slots
        # a scraper that asks and never reads holds its slot until the
        # deadline only, and its answer does not stall anyone else
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        s.settimeout(5 * S)
        s.connect(("127.0.0.1", d.metrics_port))
        s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
        fams, _ = scrape(d)
        assert value(fams, "chanwire_accepted_total") >= 1
        s.close()
    finally:
        assert d.stop() == 0, d.log[-3000:]


@case
def redis_layer_state_and_counters():
    """With --redis (builds with the Redis layer: host-redis), the layer's
    state and counters are there; Redis need not be up (port 1: down)."""
    if not config_value("CONFIG_LAYER_REDIS", 0):
        # no layer in this build: its families must not appear either
        d = start()
        try:
            fams, _ = scrape(d)
            assert not any(n.startswith("chanwire_redis_") for n in fams), list(fams)
        finally:
            assert d.stop() == 0, d.log[-3000:]
        return
    d = start("--redis", "127.0.0.1:1")
    try:
        fams, _ = scrape(d)
        states = [s for s in fams["chanwire_redis_state"].samples]
        assert len(states) == 1 and states[0].value == 1, states
        assert states[0].labels["state"] in ("down", "connecting", "handshake"), states
        assert fams["chanwire_redis_published"].type == "counter"
        assert fams["chanwire_redis_inflight"].type == "gauge"
    finally:
        assert d.stop() == 0, d.log[-3000:]


@case
def off_unless_asked():
    d = Daemon()
    try:
        assert "metrics on" not in d.log, d.log
    finally:
        assert d.stop() == 0, d.log[-3000:]


@case
def bad_metrics_address_fails_at_start():
    d = Daemon("--metrics", "127.0.0.1:notaport", wait_ready=False)
    try:
        d.proc.wait(10 * S)
    finally:
        d.kill()
    assert d.proc.returncode == 1, d.proc.returncode
    d._reader.join(2)
    assert "metrics" in d.log, d.log


if __name__ == "__main__":
    main()
