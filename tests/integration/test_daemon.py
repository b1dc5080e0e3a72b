# SPDX-License-Identifier: MIT
"""test_daemon: chanwired as an operator sees it: flags and their one-line
errors, listeners (IPv4, IPv6, several at once), signals (close 1001 to
every client and exit 0 within the shutdown deadline, also with a client
that never reads) and --syslog without /dev/log. Standard library only."""

import atexit
import os
import signal
import socket
import subprocess
import time

from cwtest import (Daemon as _Daemon, Skip, case, daemon_path, exec_prefix, main, root_args,
                    slow_factor)
from rawws import OP_BINARY, OP_CLOSE, Conn, close_payload, frame


_started = []


def Daemon(*args, **kw):
    """cwtest.Daemon, killed at exit if a failed case left it running."""
    d = _Daemon(*args, **kw)
    _started.append(d)
    return d


@atexit.register
def _kill_leftovers():
    for d in _started:
        d.kill()


def run(*args, timeout=10, root_ok=True):
    # No control socket unless a case asks: suites run side by side.
    if not any(a.startswith("--control") or a == "--no-control" for a in args):
        args = ("--no-control",) + args
    if root_ok:
        args = tuple(root_args(args)) + args
    p = subprocess.run(exec_prefix() + [daemon_path()] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout * slow_factor())
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def one_line(err, *words):
    lines = err.splitlines()
    assert len(lines) == 1, "want one line on stderr, got %d:\n%s" % (len(lines), err)
    for w in words:
        assert w in lines[0], "%r not in %r" % (w, lines[0])
    return lines[0]


def has_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def open_clients(d, n, port=None):
    out = []
    for _ in range(n):
        c = Conn(port or d.port)
        assert c.handshake() == 101
        c.echo("hello")
        out.append(c)
    return out


# ---- flags ----

@case
def help_prints_usage():
    rc, out, err = run("--help")
    assert rc == 0, rc
    assert out.startswith("usage: chanwired"), out[:200]
    for flag in ("--listen", "--log-level", "--syslog", "--max-conns", "--max-message",
                 "--sendq-max", "--handshake-timeout", "--ping-interval", "--pong-timeout",
                 "--close-timeout", "--shutdown-timeout", "--help", "--version"):
        assert flag in out, flag + " missing from --help"
    assert err == "", err


@case
def version_prints_version():
    rc, out, err = run("--version")
    assert rc == 0, rc
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("chanwired "), out
    assert lines[0].split()[1][0].isdigit(), out
    assert err == "", err


@case
def unknown_flag():
    for args in (["--bogus"], ["--listen", "127.0.0.1:0", "--nope=1"], ["-x"], ["stray"]):
        rc, out, err = run(*args)
        assert rc == 2, (args, rc, err)
        one_line(err, "chanwired")
        assert out == "", out
    rc, out, err = run("--bogus")
    one_line(err, "--bogus")


@case
def missing_value():
    for flag in ("--listen", "--max-conns", "--log-level", "--shutdown-timeout"):
        rc, out, err = run(flag)
        assert rc == 2, (flag, rc, err)
        one_line(err, flag)


@case
def bad_numbers():
    for flag, val in (("--max-conns", "abc"), ("--max-conns", "-1"), ("--max-message", ""),
                      ("--ping-interval", "10x"), ("--sendq-max", "99999999999999"),
                      ("--handshake-timeout", "1.5"), ("--pong-timeout", " ")):
        rc, out, err = run(flag, val)
        assert rc == 2, (flag, val, rc, err)
        one_line(err, flag)
    rc, out, err = run("--log-level", "loud")
    assert rc == 2, rc
    one_line(err, "--log-level", "loud")


@case
def port_in_use():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        rc, out, err = run("--listen", "127.0.0.1:%d" % port)
        assert rc == 1, (rc, err)
        one_line(err, "127.0.0.1:%d" % port)
        assert "in use" in err.lower(), err
    finally:
        s.close()


@case
def bad_address():
    for addr in ("nonsense", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "999.1.2.3:80",
                 "[::1:80", "[::1]80", "[zz::1]:80", "127.0.0.1:-1", "example.invalid:80"):
        rc, out, err = run("--listen", addr)
        assert rc in (1, 2), (addr, rc, err)
        one_line(err, addr)


@case
def every_flag_accepted():
    with Daemon("--max-conns", "50", "--max-message", "2000", "--sendq-max", "65536",
                "--handshake-timeout", "3000", "--ping-interval", "0", "--pong-timeout", "500",
                "--close-timeout", "500", "--shutdown-timeout", "500", "--log-level", "info") as d:
        c = Conn(d.port)
        assert c.handshake() == 101
        c.echo("x" * 2000)
        c.close()


# ---- listeners ----

@case
def ipv6_loopback():
    if not has_ipv6_loopback():
        raise Skip("no IPv6 loopback on this machine")
    with Daemon(listen=["[::1]:0"]) as d:
        assert "listening on [::1]:0" in d.log, d.log
        c = Conn(d.port, host="::1", family=socket.AF_INET6)
        assert c.handshake(host="[::1]") == 101
        c.echo("over IPv6")
        c.echo(os.urandom(100000), OP_BINARY)
        c.close()


@case
def two_listeners():
    listen = ["127.0.0.1:0", "127.0.0.1:0"]
    if has_ipv6_loopback():
        listen.append("[::1]:0")
    with Daemon(listen=listen) as d:
        assert len(d.ports) == len(listen) and len(set(d.ports)) == len(listen), d.ports
        conns = []
        for i, port in enumerate(d.ports):
            v6 = listen[i].startswith("[")
            c = Conn(port, host="::1" if v6 else "127.0.0.1",
                     family=socket.AF_INET6 if v6 else socket.AF_INET)
            assert c.handshake() == 101
            conns.append(c)
        for i, c in enumerate(conns):
            c.echo("listener %d" % i)
        for c in conns:
            c.close()


# ---- signals ----

def graceful(sig):
    d = Daemon("--shutdown-timeout", "3000")
    clients = open_clients(d, 8)
    t0 = time.time()
    d.proc.send_signal(sig)
    for c in clients:
        code = c.wait_close(5 * slow_factor())
        assert code == 1001, "client got %r instead of close 1001" % code
        c.send(OP_CLOSE, close_payload(1001))
    for c in clients:
        assert c.is_eof(5 * slow_factor()), "no EOF after the close handshake"
        c.close()
    rc = d.stop(timeout=5)
    took = time.time() - t0
    assert rc == 0, "exit %r\n%s" % (rc, d.log)
    assert took < 3.0 * slow_factor(), "took %.2fs with every client answering" % took
    assert d.wait_log(r"shutting down", 2), d.log


@case
def sigterm_closes_1001_and_exits_0():
    graceful(signal.SIGTERM)


@case
def sigint_closes_1001_and_exits_0():
    graceful(signal.SIGINT)


@case
def sigterm_with_clients_not_answering_the_close():
    # Clients that read the close frame but never answer (nor close): the
    # daemon gives up on them at the shutdown deadline and still exits 0.
    d = Daemon("--shutdown-timeout", "800", "--close-timeout", "10000")
    clients = open_clients(d, 4)
    t0 = time.time()
    d.proc.send_signal(signal.SIGTERM)
    for c in clients:
        assert c.wait_close(5 * slow_factor()) == 1001
    rc = d.stop(timeout=5)
    took = time.time() - t0
    assert rc == 0, "exit %r\n%s" % (rc, d.log)
    assert 0.6 <= took < 3.0 * slow_factor(), "exited after %.2fs, deadline 0.8s" % took
    for c in clients:
        assert c.is_eof(2), "still connected after exit"
        c.close()


@case
def sigterm_with_a_client_that_never_reads():
    d = Daemon("--shutdown-timeout", "1000", "--close-timeout", "10000")
    good = open_clients(d, 2)
    stuck = Conn(d.port)
    stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    assert stuck.handshake() == 101
    # Send echo requests without reading until the server stops taking them
    # (its replies fill our receive buffer and its send queue).
    stuck.sock.setblocking(False)
    msg = frame(OP_BINARY, os.urandom(65536))
    sent, stalled_since, end = 0, None, time.time() + 10
    pending = b""
    while time.time() < end and sent < 400:
        if not pending:
            pending = msg
        try:
            n = stuck.sock.send(pending)
            pending = pending[n:]
            if not pending:
                sent += 1
            stalled_since = None
        except BlockingIOError:
            stalled_since = stalled_since or time.time()
            if time.time() - stalled_since > 0.5:
                break
            time.sleep(0.01)
    assert stalled_since is not None, "the server kept reading %d messages from a client that never reads" % sent
    for c in good:
        c.echo("served while one client is stuck")
    t0 = time.time()
    d.proc.send_signal(signal.SIGTERM)
    for c in good:
        assert c.wait_close(5 * slow_factor()) == 1001
        c.send(OP_CLOSE, close_payload(1001))
        assert c.is_eof(5 * slow_factor())
        c.close()
    rc = d.stop(timeout=10)
    took = time.time() - t0
    assert rc == 0, "exit %r\n%s" % (rc, d.log[-3000:])
    assert 0.8 <= took < 4.0 * slow_factor(), "exited after %.2fs, deadline 1.0s" % took
    assert d.wait_log(r"deadline passed with 1 connection", 2), d.log[-2000:]
    stuck.close()


@case
def sigterm_with_no_clients_exits_at_once():
    d = Daemon()
    t0 = time.time()
    assert d.stop() == 0
    assert time.time() - t0 < 1.0 * slow_factor()


@case
def sigterm_with_a_half_sent_request():
    # A socket still in the handshake is simply closed on shutdown (in the
    # TLS pass: a TLS connection whose HTTP request is half sent).
    d = Daemon("--shutdown-timeout", "3000")
    s = Conn(d.port).sock
    s.sendall(b"GET /ws/echo/ HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.1)
    t0 = time.time()
    assert d.stop() == 0
    assert time.time() - t0 < 1.0 * slow_factor()
    s.settimeout(2)
    assert s.recv(100) == b""
    s.close()


# ---- logging ----

@case
def syslog_without_dev_log():
    if not os.path.exists("/dev/log"):
        with Daemon("--syslog") as d:
            c = Conn(d.port)
            assert c.handshake() == 101
            c.echo("logged to stderr")
            c.close()
            assert "/dev/log" in d.log, d.log
    else:
        # /dev/log is there: the log goes to syslog, so the port must be chosen here.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        d = Daemon("--syslog", listen=["127.0.0.1:%d" % port], wait_ready=False)
        end = time.time() + 5 * slow_factor()
        while True:
            try:
                c = Conn(port)
                break
            except OSError:
                if time.time() > end or not d.alive():
                    d.kill()
                    raise
                time.sleep(0.05)
        assert c.handshake() == 101
        c.echo("logged to syslog")
        c.close()
        assert d.stop() == 0


# ---- least privilege ----

def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def sender():
    build = os.environ.get("CW_BUILD") or os.path.dirname(daemon_path())
    return os.path.join(build, "chanwire-send")


def nobody_gid():
    import pwd
    return pwd.getpwnam("nobody").pw_gid


def need_root():
    # Under CW_EXEC_PREFIX (qemu-user, valgrind) the daemon runs inside the
    # wrapper's process: its setuid/setgid/chroot are the process's own, so
    # these cases hold there too (the privilege code on the board's CPU).
    if os.geteuid() != 0:
        raise Skip("needs root (the CI container runs the suites as root)")


@case
def root_needs_user_or_allow_root():
    need_root()
    rc, out, err = run("--listen", "127.0.0.1:0", root_ok=False)
    assert rc == 2, (rc, err)
    one_line(err, "refusing to run as root", "--user", "--allow-root")
    # --help and --version never start anything
    assert run("--help", root_ok=False)[0] == 0
    rc, out, err = run("--listen", "127.0.0.1:0", "--user", "no-such-user-here")
    assert rc == 2, (rc, err)
    one_line(err, "no-such-user-here")
    rc, out, err = run("--listen", "127.0.0.1:0", "--user", "root")
    assert rc == 2, (rc, err)
    one_line(err, "root")


@case
def user_drops_root_after_binding():
    need_root()
    import pwd
    import tempfile
    nobody = pwd.getpwnam("nobody")
    tmp = tempfile.mkdtemp(prefix="cw-privs-")
    os.chmod(tmp, 0o755)
    ctl = os.path.join(tmp, "ctl.sock")
    try:
        # Port 0 is fine; a port below 1024 shows binding happened as root.
        with Daemon("--user", "nobody", "--control", ctl, "--log-level", "info",
                    listen=["127.0.0.1:0"]) as d:
            assert d.wait_log(r"running as nobody"), d.log
            st = proc_status(d.proc.pid)
            assert st["Uid"] == [str(nobody.pw_uid)] * 4, st["Uid"]
            assert st["Gid"] == [str(nobody.pw_gid)] * 4, st["Gid"]
            assert st.get("Groups", []) == [], st.get("Groups")
            assert int(st["CapEff"][0], 16) == 0 and int(st["CapPrm"][0], 16) == 0, st["CapEff"]
            c = Conn(d.port)
            assert c.handshake() == 101
            c.echo("served by nobody")
            c.close()
            # The control socket belongs to the user now, still 0660, and
            # root (our uid here) may still use it.
            sb = os.stat(ctl)
            assert (sb.st_uid, sb.st_gid) == (nobody.pw_uid, nobody.pw_gid), sb
            assert sb.st_mode & 0o777 == 0o660, oct(sb.st_mode)
            p = subprocess.run(exec_prefix() + [sender(), "--socket", ctl, "--stats"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
            assert p.returncode == 0 and b"pool conn" in p.stdout, p
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


@case
def chroot_and_user():
    need_root()
    import shutil
    import tempfile
    jail = tempfile.mkdtemp(prefix="cw-jail-")
    www = tempfile.mkdtemp(prefix="cw-www-")
    try:
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("<p>outside the jail, opened before it</p>")
        os.chmod(www, 0o755)  # the files must be readable by the user, not only by root
        os.chmod(os.path.join(www, "index.html"), 0o644)
        # LeakSanitizer needs /proc, which the jail does not have.
        env = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1"} if os.environ.get(
            "CW_SANITIZE") else None
        with Daemon("--user", "nobody", "--chroot", jail, "--www", www, env=env) as d:
            assert d.wait_log(r"running as nobody, chrooted to "), d.log
            assert os.readlink("/proc/%d/root" % d.proc.pid) == os.path.realpath(jail)
            assert proc_status(d.proc.pid)["Uid"][0] != "0"
            s = Conn(d.port, timeout=5).sock  # HTTPS in the TLS pass
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            resp = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                resp += b
            s.close()
            assert resp.startswith(b"HTTP/1.1 200") and b"outside the jail" in resp, resp[:200]
            c = Conn(d.port)
            assert c.handshake() == 101
            c.echo("jailed")
            c.close()
    finally:
        shutil.rmtree(jail, ignore_errors=True)
        shutil.rmtree(www, ignore_errors=True)


@case
def user_flag_needs_root():
    if os.geteuid() != 0:
        raise Skip("needs root to start a process as another user")
    argv = exec_prefix() + [daemon_path(), "--listen", "127.0.0.1:0", "--no-control",
                            "--user", "nobody"]
    p = subprocess.run(argv, user="nobody", group=nobody_gid(), extra_groups=[],
                       stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 2, p
    one_line(p.stderr.decode(), "--user", "root")


@case
def control_socket_refuses_strangers():
    # 0660 keeps others from connecting at all; past the mode (here opened
    # up on purpose) SO_PEERCRED still refuses a peer that is not root, our
    # uid or our gid.
    need_root()
    import tempfile
    tmp = tempfile.mkdtemp(prefix="cw-ctl-")
    os.chmod(tmp, 0o755)
    ctl = os.path.join(tmp, "ctl.sock")
    try:
        with Daemon("--control", ctl) as d:
            assert d.wait_log(r"control socket"), d.log
            cmd = exec_prefix() + [sender(), "--socket", ctl, "--stats"]
            p = subprocess.run(cmd, user="nobody", group=nobody_gid(), extra_groups=[],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
            assert p.returncode == 1 and b"pool" not in p.stdout, p
            os.chmod(ctl, 0o666)
            p = subprocess.run(cmd, user="nobody", group=nobody_gid(), extra_groups=[],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
            assert p.returncode == 1 and b"permission denied" in p.stdout + p.stderr, p
            assert d.wait_log(r"control: refused uid 65534"), d.log
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
            assert p.returncode == 0 and b"pool conn" in p.stdout, p
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


# ---- /stats ----

def http_get(port, req):
    import cwtest
    return cwtest.http_request(port, req)


@case
def stats_endpoint_and_no_stats():
    from cwtest import tls_mode
    if tls_mode():
        raise Skip("plain HTTP requests; the TLS pass reaches /stats through test_badinput")
    with Daemon() as d:
        c = Conn(d.port)
        assert c.handshake() == 101
        c.echo("counted")
        r = http_get(d.port, b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body = r.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200") and b"text/plain" in head, head
        assert b"Content-Length: %d" % len(body) in head, head
        text = body.decode()
        for word in ("conns_open 1", "upgraded 1", "msgs_in 1", "pool conn 2/", "pool msg 0/",
                     "pool http 0/", "pool io ", "pool group ", "pool member "):
            assert word in text, (word, text)
        r = http_get(d.port, b"HEAD /stats HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 200") and r.endswith(b"\r\n\r\n"), r
        r = http_get(d.port, b"POST /stats HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 405"), r
        c.close()
    with Daemon("--no-stats") as d:
        r = http_get(d.port, b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 404"), r


if __name__ == "__main__":
    main()
