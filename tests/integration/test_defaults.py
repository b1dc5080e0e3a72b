# SPDX-License-Identifier: MIT
"""test_defaults: the defaults that leak less. The shipped configs (the
router boards, /etc/default/chanwired, the init scripts, the systemd unit,
the Buildroot and OpenWrt packages) serve no GET /stats on the HTTP port
(the control socket keeps the report) and run as a user of their own,
chanwire; the control socket's default path is never in a world-writable
directory; chanwire-send talks only to a socket served by root or by its own
user. Standard library only; the cases that switch users need root."""

import os
import pwd
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from cwtest import (ROOT, Daemon, Skip, case, control_request, daemon_path, exec_prefix,
                    http_request, main, slow_factor, tls_mode)

ROUTERS = ("ath79-router", "mt7621-router")
_LISTEN_RE = re.compile(r"listening on \S+ \(port (\d+)\)")


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def build_has(name):
    build = os.environ.get("CW_BUILD") or os.path.dirname(daemon_path())
    try:
        with open(os.path.join(build, "include", "cw_config.h")) as f:
            return any(l.split()[:2] == ["#define", name] for l in f)
    except OSError:
        return False


def need_control():
    if not build_has("CONFIG_CONTROL_SOCKET"):
        raise Skip("this build has no control socket")


def need_root():
    if os.geteuid() != 0:
        raise Skip("needs root to run processes as other users (CI runs the suites as root)")


def sender():
    build = os.environ.get("CW_BUILD") or os.path.dirname(daemon_path())
    return os.path.join(build, "chanwire-send")


def stranger_uid():
    """A uid that is neither root, nor nobody, nor anyone in /etc/passwd."""
    uid = 4242
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
        uid += 1


def as_user(uid):
    """subprocess arguments that run a child as uid (its own group, no others)."""
    if uid == os.geteuid():
        return {}
    return {"user": uid, "group": uid, "extra_groups": []}


def clean_env(**extra):
    """The environment without the variables that pick a control socket."""
    env = dict(os.environ)
    env.pop("CHANWIRE_SOCKET", None)
    env.pop("XDG_RUNTIME_DIR", None)
    env.update(extra)
    return env


def http_get(port, path):
    return http_request(port, b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path.encode())


def send(*args, uid=None, env=None):
    p = subprocess.run(exec_prefix() + [sender()] + list(args), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or clean_env(),
                       timeout=20 * slow_factor(), **as_user(os.geteuid() if uid is None else uid))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def start_as(uid, args, env):
    """chanwired as uid with exactly args (no --control/--no-control added):
    (the process, its output so far) once it listens or has exited."""
    argv = exec_prefix() + [daemon_path(), "--listen", "127.0.0.1:0", "--log-level", "info"] + args
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env, **as_user(uid))
    os.set_blocking(p.stdout.fileno(), False)
    out = b""
    end = time.time() + 10 * slow_factor()
    while time.time() < end and p.poll() is None and not _LISTEN_RE.search(out.decode()):
        time.sleep(0.05)
        out += p.stdout.read() or b""
    out += p.stdout.read() or b""
    return p, out.decode("utf-8", "replace")


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10 * slow_factor())
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def user_tmpdir(uid, mode=0o700):
    d = tempfile.mkdtemp(prefix="cw-defaults-")
    if os.geteuid() == 0:
        os.chown(d, uid, uid)
    os.chmod(d, mode)
    return d


# ---- /stats off on the HTTP port in the shipped configs ----

@case
def router_boards_build_no_http_stats():
    # The router profiles are the shipped ones (the OpenWrt package builds
    # mt7621-router); the host boards are developer configs and keep it.
    for b in ROUTERS:
        cfg = read("boards/%s/defconfig" % b)
        assert "# CONFIG_STATS_ENDPOINT is not set" in cfg.splitlines(), b
    m = re.search(r"^CHANWIRE_BOARD:=(\S+)$", read("dist/openwrt/chanwire/Makefile"), re.M)
    assert m and m.group(1) in ROUTERS, m


@case
def without_the_endpoint_the_control_socket_keeps_the_report():
    # The router boards (and any build without CONFIG_STATS_ENDPOINT).
    if os.environ.get("CW_BOARD") not in ROUTERS and build_has("CONFIG_STATS_ENDPOINT"):
        raise Skip("this build serves /stats (a developer board); the router boards run this case")
    need_control()
    if tls_mode():
        raise Skip("plain HTTP requests")
    tmp = tempfile.mkdtemp(prefix="cw-defaults-")
    ctl = os.path.join(tmp, "ctl.sock")
    try:
        with Daemon("--control", ctl) as d:
            r = http_get(d.port, "/stats")
            assert r.startswith(b"HTTP/1.1 404"), r[:200]
            text = control_request(ctl, "stats\n")
            assert "pool conn " in text and text.endswith("ok\n"), text
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sh_value(script, name="CHANWIRED_ARGS"):
    """What a shell makes of the assignments in script (commands stripped)."""
    p = subprocess.run(["sh", "-c", script + '\nprintf "%s" "$' + name + '"'],
                       stdout=subprocess.PIPE, check=True, timeout=10)
    return p.stdout.decode()


def shipped_opts():
    """CHANWIRED_ARGS of /etc/default/chanwired, the SysV script's fallback
    and the systemd unit's, as each would hand them to the daemon."""
    out = {"dist/chanwired.default": sh_value(read("dist/chanwired.default"))}
    line = [l for l in read("dist/chanwired.init").splitlines() if l.startswith("CHANWIRED_ARGS=")]
    assert len(line) == 1, line
    out["dist/chanwired.init"] = sh_value(line[0])
    m = re.search(r'^Environment="CHANWIRED_ARGS=([^"]*)"$', read("dist/chanwired.service"), re.M)
    assert m, "no CHANWIRED_ARGS in the systemd unit"
    out["dist/chanwired.service"] = m.group(1)
    return out


@case
def shipped_options_turn_off_http_stats():
    for f, opts in shipped_opts().items():
        assert "--no-stats" in shlex.split(opts), (f, opts)
    if tls_mode():
        raise Skip("plain HTTP requests")
    need_control()
    # The daemon with /etc/default/chanwired's options (its own address,
    # the log to us, and the user only where it exists): a build that has
    # the endpoint still answers 404 at /stats, the control socket answers.
    opts, args, i = shlex.split(shipped_opts()["dist/chanwired.default"]), [], 0
    while i < len(opts):
        if opts[i] in ("--listen", "--user"):
            if opts[i] == "--user" and os.geteuid() == 0 and _user_exists(opts[i + 1]):
                args += opts[i:i + 2]
            i += 2
            continue
        if opts[i] != "--syslog":
            args.append(opts[i])
        i += 1
    tmp = tempfile.mkdtemp(prefix="cw-defaults-")
    os.chmod(tmp, 0o755)
    ctl = os.path.join(tmp, "ctl.sock")
    try:
        with Daemon(*(args + ["--control", ctl])) as d:
            r = http_get(d.port, "/stats")
            assert r.startswith(b"HTTP/1.1 404"), (args, r[:200])
            assert "pool conn " in control_request(ctl, "stats\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


# A stand-in for OpenWrt's rc.common, UCI and procd: runs the package's
# start_service and prints the daemon's command line.
PROCD_STUBS = r'''
config_load() { :; }
config_get() { eval "v=\${UCI_$3-}"; [ -n "$v" ] || v=$4; eval "$1=\$v"; }
config_get_bool() {
	config_get "$@"; eval "v=\$$1"
	case "$v" in 1|on|true|yes|enabled) v=1 ;; *) v=0 ;; esac
	eval "$1=$v"
}
config_list_foreach() { eval "l=\${UCI_LIST_$2-}"; for v in $l; do "$3" "$v"; done; }
procd_open_instance() { :; }
procd_close_instance() { :; }
procd_set_param() { k=$1; shift; [ "$k" = command ] && CMD="$*"; return 0; }
procd_append_param() { k=$1; shift; [ "$k" = command ] && CMD="$CMD $*"; return 0; }
. ./files/chanwired.init
start_service
printf '%s' "$CMD"
'''


def openwrt_command(**uci):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for kind, name, value in re.findall(r"^\s*(option|list)\s+(\w+)\s+'([^']*)'",
                                        read("dist/openwrt/chanwire/files/chanwire.config"), re.M):
        if kind == "list":
            env["UCI_LIST_" + name] = (env.get("UCI_LIST_" + name, "") + " " + value).strip()
        else:
            env["UCI_" + name] = value
    env.update({"UCI_" + k: v for k, v in uci.items()})
    p = subprocess.run(["sh", "-c", PROCD_STUBS], cwd=os.path.join(ROOT, "dist/openwrt/chanwire"),
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert p.returncode == 0, p
    return shlex.split(p.stdout.decode())


@case
def openwrt_package_defaults():
    cmd = openwrt_command()
    assert cmd[0] == "/usr/sbin/chanwired", cmd
    assert "--no-stats" in cmd, cmd
    assert cmd[cmd.index("--user") + 1] == "chanwire", cmd
    assert cmd[cmd.index("--listen") + 1] == "0.0.0.0:8080", cmd
    # option stats '1' brings it back (in builds that have it)
    assert "--no-stats" not in openwrt_command(stats="1")


# ---- a user of its own ----

@case
def shipped_configs_run_as_chanwire():
    for f, opts in shipped_opts().items():
        words = shlex.split(opts)
        assert words[words.index("--user") + 1] == "chanwire", (f, opts)
    # Buildroot creates it (makeusers: name uid group gid password home
    # shell groups comment): automatic system ids, a group of its own, no
    # login, no home, /bin/false, no other groups.
    m = re.search(r"^CHANWIRE_USERS = (.*)$", read("dist/buildroot/package/chanwire/chanwire.mk"),
                  re.M)
    assert m, "no CHANWIRE_USERS in chanwire.mk"
    f = m.group(1).split()
    assert len(f) >= 9 and f[:8] == ["chanwire", "-1", "chanwire", "-1", "*", "-", "-", "-"], f
    # OpenWrt creates it at install (USERID, user:group)
    mk = read("dist/openwrt/chanwire/Makefile")
    assert re.search(r"^\s*USERID:=chanwire(=\d+)?:chanwire(=\d+)?\s*$", mk, re.M), mk
    assert openwrt_command()[openwrt_command().index("--user") + 1] == "chanwire"
    # systemd-sysusers creates it (make install: lib/sysusers.d/chanwire.conf)
    assert re.search(r"^u chanwire - ", read("dist/chanwire.sysusers"), re.M)
    assert "dist/chanwire.sysusers" in read("mk/install.mk")
    for f in ("dist/chanwired.default", "dist/chanwired.init", "dist/chanwired.service",
              "dist/openwrt/chanwire/files/chanwire.config",
              "dist/openwrt/chanwire/files/chanwired.init"):
        assert not re.search(r"user\W+nobody", read(f)), f


# ---- the control socket's default path ----

@case
def default_control_path_of_a_user_is_never_in_tmp():
    # Not root and no $XDG_RUNTIME_DIR: the default is /run/chanwired.sock,
    # where only root may create it, so the daemon stops with one line
    # asking for --control; before, it took /tmp/chanwired-UID.sock, a name
    # in a directory where anyone can create files.
    need_control()
    uid = 65534 if os.geteuid() == 0 else os.geteuid()
    planted = "/tmp/chanwired-%d.sock" % uid
    had = os.path.exists(planted)
    p, out = start_as(uid, [], clean_env())
    rc = stop(p)
    assert rc == 1, (rc, out)
    lines = [l for l in out.splitlines() if l.startswith("chanwired: ")]
    assert len(lines) == 1 and "/run/chanwired.sock" in lines[0] and "--control" in lines[0], out
    assert had or not os.path.exists(planted), planted


@case
def default_control_path_in_the_users_runtime_dir():
    need_control()
    uid = 65534 if os.geteuid() == 0 else os.geteuid()
    xdg = user_tmpdir(uid)
    try:
        env = clean_env(XDG_RUNTIME_DIR=xdg)
        p, out = start_as(uid, [], env)
        try:
            assert p.poll() is None, out
            ctl = os.path.join(xdg, "chanwired.sock")
            assert "control socket %s" % ctl in out, out
            # chanwire-send of the same user finds it there by default ...
            rc, sout, err = send("--stats", uid=uid, env=env)
            assert rc == 0 and "pool conn " in sout, (rc, sout, err)
            # ... and without a runtime directory (or when nothing is in
            # it) it asks the system daemon in /run, never /tmp.
            rc, sout, err = send("--stats", uid=uid, env=clean_env())
            if rc != 0:
                assert "/run/chanwired.sock" in err and "/tmp" not in err, err
            empty = user_tmpdir(uid)
            rc, sout, err = send("--stats", uid=uid, env=clean_env(XDG_RUNTIME_DIR=empty))
            os.rmdir(empty)
            if rc != 0:
                assert "/run/chanwired.sock" in err, err
            # A relative $XDG_RUNTIME_DIR is not a runtime directory (it
            # would be a name in the current directory).
            p2, out2 = start_as(uid, [], clean_env(XDG_RUNTIME_DIR="relative"))
            assert stop(p2) == 1 and "/run/chanwired.sock" in out2, out2
        finally:
            assert stop(p) == 0, out
        assert not os.path.exists(os.path.join(xdg, "chanwired.sock"))
    finally:
        shutil.rmtree(xdg, ignore_errors=True)


# ---- chanwire-send checks who it is talking to ----

FAKE = r'''
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o777)
s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    got = b""
    try:
        while not got.endswith(b"\n"):
            b = c.recv(4096)
            if not b:
                break
            got += b
    except OSError:
        pass
    print("got %r" % got, flush=True)
    try:
        c.sendall(b"conns_open 0\npool conn 0/1 (fake)\nok\n")
    except OSError:
        pass
    c.close()
'''


def line_of(p, timeout=10.0):
    """The next line p prints, or "" after timeout seconds."""
    r, _, _ = select.select([p.stdout], [], [], timeout * slow_factor())
    return p.stdout.readline() if r else b""


@case
def chanwire_send_talks_only_to_root_or_itself():
    # A socket another user put where the daemon's would be (a shared,
    # sticky directory like /tmp): chanwire-send must not send it the
    # message, nor believe its answer.
    need_root()
    need_control()
    fake_uid, nobody = stranger_uid(), 65534
    shared = user_tmpdir(0, 0o1777)
    path = os.path.join(shared, "chanwired.sock")
    fake = subprocess.Popen([sys.executable, "-c", FAKE, path], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/", bufsize=0,
                            **as_user(fake_uid))
    try:
        assert line_of(fake) == b"ready\n"
        for uid in (0, nobody):
            rc, out, err = send("--socket", path, "room", '{"secret": 1}', uid=uid)
            assert rc == 1 and out == "", (uid, rc, out, err)
            assert "served by uid %d" % fake_uid in err and "not talking to it" in err, err
            assert line_of(fake) == b"got b''\n"  # nothing was said
            rc, out, err = send("--stats", uid=uid, env=clean_env(CHANWIRE_SOCKET=path))
            assert rc == 1 and "pool conn" not in out, (rc, out, err)
            assert line_of(fake) == b"got b''\n"
        # its own user's daemon is trusted
        rc, out, err = send("--socket", path, "--stats", uid=fake_uid)
        assert rc == 0 and "(fake)" in out, (rc, out, err)
        assert line_of(fake) == b"got b'stats\\n'\n"
    finally:
        fake.kill()
        fake.wait()
        shutil.rmtree(shared, ignore_errors=True)
    # A daemon started by root counts as root after it dropped to --user:
    # the dropped-to user and root may both talk to it.
    ctl_dir = user_tmpdir(0, 0o755)
    ctl = os.path.join(ctl_dir, "ctl.sock")
    try:
        with Daemon("--user", "nobody", "--control", ctl, "--log-level", "info") as d:
            assert d.wait_log(r"running as nobody"), d.log
            for uid in (0, nobody):
                rc, out, err = send("--socket", ctl, "--stats", uid=uid)
                assert rc == 0 and "pool conn " in out, (uid, rc, out, err)
    finally:
        shutil.rmtree(ctl_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
