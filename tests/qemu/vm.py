#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vm.py: `make BOARD=qemu-armv7 check-vm`. Boots Debian's armhf kernel under
qemu-system-arm -M virt with a minimal initramfs (BusyBox and the static
daemon) and runs the host-side integration suites against the daemon on
the booted board through a port forwarded to 127.0.0.1.

  vm.py --build BUILD_DIR --cache CACHE_DIR [--port N] [--only GLOB ...]

- Debian packages (the kernel, busybox-static) are fetched with
  `apt-get download` into CACHE_DIR (needs `dpkg --add-architecture armhf`
  and `apt-get update` once); nothing of theirs goes into the repository.
- Networking is qemu's user mode with restrict=on: the guest reaches no
  network at all; only hostfwd 127.0.0.1:PORT -> guest :8080 exists.
- The guest loads softdog and the daemon (built with CONFIG_WATCHDOG, a 10 s
  timeout, kicks every 2 s) kicks /dev/watchdog from its reactor: had the
  kicks stopped, the board would reboot (and qemu, run with -no-reboot,
  stop) within the suites, and the checks after them would fail.
- The suites run with CW_REMOTE=127.0.0.1:PORT (tests/lib/cwtest.py): cases
  that need a daemon with other flags, its log or its exit are skipped.
At the end the daemon must still answer, and the console must show the
watchdog armed and no error line from the daemon.
"""

import argparse
import glob
import gzip
import io
import os
import shutil
import socket
import stat
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = ["failover", "net_failover", "virtio_mmio", "virtio_net", "softdog"]
GUEST_PORT = 8080

INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in %(modules)s; do insmod /lib/modules/$m.ko 2>/dev/null || echo "chanwire-vm: insmod $m: failed or built in"; done
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
ip route add default via 10.0.2.2
echo "chanwire-vm: $(uname -m) $(uname -r), network up, watchdog: $(ls /dev/watchdog 2>&1)"
/chanwired --listen 0.0.0.0:%(port)d --log-level info %(args)s &
pid=$!
echo "chanwire-vm: chanwired started (pid $pid)"
wait $pid
echo "chanwire-vm: chanwired exited with status $?"
poweroff -f
"""


def log(msg):
    print("check-vm: " + msg, flush=True)


def run(argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          **kw).stdout.decode("utf-8", "replace")


def fetch(cache):
    """Downloads and unpacks the kernel and BusyBox once; returns their dirs."""
    os.makedirs(cache, exist_ok=True)
    deps = run(["apt-cache", "depends", "linux-image-armmp:armhf"])
    kpkg = next((l.split()[-1] for l in deps.splitlines() if "Depends:" in l and "linux-image-" in l), None)
    if not kpkg:
        sys.exit("check-vm: apt knows no linux-image-armmp:armhf: run `dpkg --add-architecture armhf"
                 " && apt-get update` first")
    kpkg = kpkg.split(":")[0]
    for pkg in (kpkg, "busybox-static"):
        if not glob.glob(os.path.join(cache, pkg + "_*.deb")):
            log("apt-get download %s:armhf" % pkg)
            os.chmod(cache, 0o777)  # lets apt's _apt user write there
            run(["apt-get", "download", pkg + ":armhf"], cwd=cache)
    out = os.path.join(cache, "unpacked")
    if not os.path.isdir(out):
        tmp = out + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        for deb in glob.glob(os.path.join(cache, "*.deb")):
            run(["dpkg-deb", "-x", deb, tmp])
        os.rename(tmp, out)
    vmlinuz = sorted(glob.glob(os.path.join(out, "boot", "vmlinuz-*")))[-1]
    return out, vmlinuz


def cpio_newc(entries):
    """A gzip'ed newc cpio archive of (name, mode, data-or-None) entries."""
    buf = io.BytesIO()

    def put(name, mode, data=b"", ino=[0]):
        ino[0] += 1
        nb = name.encode() + b"\0"
        hdr = "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X" % (
            ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0)
        buf.write(hdr.encode() + nb)
        buf.write(b"\0" * ((4 - (110 + len(nb)) % 4) % 4))
        buf.write(data)
        buf.write(b"\0" * ((4 - len(data) % 4) % 4))

    for name, mode, data in entries:
        put(name, mode, data or b"")
    put("TRAILER!!!", 0)
    return gzip.compress(buf.getvalue(), 6)


def initramfs(unpacked, daemon, daemon_args, path):
    d = stat.S_IFDIR | 0o755
    entries = [("bin", d, None), ("lib", d, None), ("lib/modules", d, None), ("www", d, None)]
    entries.append(("bin/busybox", stat.S_IFREG | 0o755,
                    open(os.path.join(unpacked, "bin", "busybox"), "rb").read()))
    for m in MODULES:
        found = glob.glob(os.path.join(unpacked, "lib", "modules", "*", "kernel", "**", m + ".ko"),
                          recursive=True)
        if not found:
            sys.exit("check-vm: no %s.ko in the kernel package" % m)
        entries.append(("lib/modules/%s.ko" % m, stat.S_IFREG | 0o644, open(found[0], "rb").read()))
    www = os.path.join(ROOT, "examples", "www")
    for top, dirs, files in sorted(os.walk(www)):  # the pages and their folders (status/)
        dirs.sort()
        rel = os.path.relpath(top, www)
        if rel != ".":
            entries.append(("www/" + rel, d, None))
        for f in sorted(files):
            name = f if rel == "." else rel + "/" + f
            entries.append(("www/" + name, stat.S_IFREG | 0o644,
                            open(os.path.join(top, f), "rb").read()))
    entries.append(("chanwired", stat.S_IFREG | 0o755, open(daemon, "rb").read()))
    init = INIT % {"modules": " ".join(MODULES), "port": GUEST_PORT, "args": " ".join(daemon_args)}
    entries.append(("init", stat.S_IFREG | 0o755, init.encode()))
    with open(path, "wb") as f:
        f.write(cpio_newc(entries))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def answers(port):
    """True when a WebSocket handshake on /ws/echo/ gets 101."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        s.sendall(b"GET /ws/echo/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = s.recv(64)
        s.close()
        return head.startswith(b"HTTP/1.1 101")
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="build folder of the static daemon")
    ap.add_argument("--cache", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--boot-timeout", type=float, default=180)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    for tool in ("qemu-system-arm", "apt-get", "dpkg-deb"):
        if not shutil.which(tool):
            sys.exit("check-vm: %s not found (apt-get install qemu-system-arm)" % tool)
    build = os.path.abspath(args.build)
    daemon = os.path.join(build, "chanwired")
    t0 = time.time()
    unpacked, vmlinuz = fetch(os.path.abspath(args.cache))
    daemon_args = []  # the same daemon as cwtest.Daemon() starts by default
    if b"--allow-root" in open(daemon, "rb").read():
        daemon_args.append("--allow-root")  # the guest's init runs it as root
    if b"--no-control" in open(daemon, "rb").read():
        daemon_args.append("--no-control")
    rd = os.path.join(build, "vm-initramfs.cpio.gz")
    initramfs(unpacked, daemon, daemon_args, rd)
    port = args.port or free_port()
    console = os.path.join(build, "vm-console.log")
    qemu = ["qemu-system-arm", "-M", "virt,highmem=off", "-cpu", "cortex-a15", "-m", "256",
            "-kernel", vmlinuz, "-initrd", rd,
            "-append", "console=ttyAMA0 rdinit=/init panic=-1 quiet",
            "-netdev", "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:%d" % (port, GUEST_PORT),
            "-device", "virtio-net-device,netdev=n0", "-display", "none",
            "-serial", "file:" + console, "-monitor", "none", "-no-reboot"]
    log("booting %s with %s (console: %s)" % (os.path.basename(vmlinuz),
                                               os.path.relpath(rd, ROOT), os.path.relpath(console, ROOT)))
    vm = subprocess.Popen(qemu, stdin=subprocess.DEVNULL)
    rc = 1
    try:
        end = time.time() + args.boot_timeout
        while time.time() < end and vm.poll() is None and not answers(port):
            time.sleep(0.5)
        if not answers(port):
            log("the daemon on the board did not answer in %ds; console:" % args.boot_timeout)
            print(open(console, errors="replace").read()[-4000:])
            return 1
        log("board up, daemon answering on 127.0.0.1:%d after %.1fs" % (port, time.time() - t0))
        env = dict(os.environ, CW_REMOTE="127.0.0.1:%d" % port, CW_SLOW=os.environ.get("CW_SLOW", "4"))
        # This binary kicks /dev/watchdog: it must never run on the build
        # machine (its watchdog would be armed), so nothing runs it locally.
        env.pop("CW_EXEC_PREFIX", None)
        # The suites that talk to the daemon over the network: the websockets
        # library, raw sockets and the RFC 6455 conformance cases. The others
        # start daemons with flags of their own (make check runs them); the
        # Node harnesses too.
        only = args.only or ["test_websockets.py", "test_badinput.py", "conformance"]
        argv = [sys.executable, os.path.join(ROOT, "tests", "run.py"), "--build", build,
                "--board", "qemu-armv7 (booted, qemu-system-arm)"]
        for o in only:
            argv += ["--only", o]
        if args.verbose:
            argv.append("-v")
        rc = subprocess.call(argv, env=env, cwd=ROOT)
        alive = answers(port)
        text = open(console, errors="replace").read()
        bad = [l for l in text.splitlines() if "chanwired[" in l and (" error: " in l or "exited" in l)]
        bad += [l for l in text.splitlines() if "chanwire-vm: chanwired exited" in l]
        armed = "watchdog /dev/watchdog armed (timeout 10 s" in text
        print("%-4s vm          daemon still serving after the suites" % ("ok" if alive else "FAIL"))
        print("%-4s vm          watchdog armed and kicked from the reactor" % ("ok" if armed else "FAIL"))
        print("%-4s vm          no daemon error or exit on the console%s" % (
            "ok" if not bad else "FAIL", "" if not bad else ": " + bad[0]))
        if not (alive and armed and not bad):
            print(text[-3000:])
            rc = 1
        log("done in %.0fs" % (time.time() - t0))
        return rc
    finally:
        vm.terminate()
        try:
            vm.wait(10)
        except subprocess.TimeoutExpired:
            vm.kill()


if __name__ == "__main__":
    sys.exit(main())
