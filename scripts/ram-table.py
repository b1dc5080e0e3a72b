#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ram-table.py [--build-root DIR] [BOARD ...]: RAM beside code, per board
(make ram-table; the README's board table).

  static RAM   .data + .bss of chanwired built by the board's own toolchain
               and defconfig, from `size -A`: exact for every board, the
               pools included (their pages are touched only as far as a
               pool is used, so RSS is far below it).
  RSS          VmRSS of a running chanwired (/proc/PID/status; in
               parentheses RssAnon, its private pages), after
               start-up (listening, no client) and with one WebSocket
               connection that has echoed one message. Measured on this
               machine only: for the host boards the board's own build;
               for the cross boards an x86-64 glibc build of the board's
               defconfig (so the board's pools and options, but the
               host's libc, code and 64-bit pointers), never the RSS of
               qemu-user, which is the emulator's. The figure on the board
               itself needs the board (e.g. make check-vm for qemu-armv7).

Boards whose toolchain is missing are listed as such."""

import argparse
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTEN = re.compile(rb"listening on \S+ \(port (\d+)\)")


def make(*args):
    return subprocess.run(["make", "-s", "--no-print-directory"] + list(args), cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


def static_ram(size_tool, elf):
    out = subprocess.run([size_tool, "-A", elf], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    ram = 0
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and re.match(r"^\.(s?data|s?bss|tdata|tbss)(\.|$)", f[0]):
            ram += int(f[1])
    return ram


def rss_kib(pid):
    """(VmRSS, RssAnon) in KiB: all resident pages, and the private ones
    (the pools' touched pages, stack, heap; not the shared libc text)."""
    got = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k = line.split(":")[0]
            if k in ("VmRSS", "RssAnon"):
                got[k] = int(line.split()[1])
    return got.get("VmRSS"), got.get("RssAnon")


def measure_rss(daemon):
    """(KiB after start-up, KiB with one connection), or an error string."""
    argv = [daemon, "--listen", "127.0.0.1:0", "--no-control", "--log-level", "info"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        port, seen = None, b""
        end = time.time() + 10
        while port is None and time.time() < end:
            line = p.stdout.readline()
            if not line:
                return "did not start: " + seen.decode(errors="replace")[-200:]
            seen += line
            m = LISTEN.search(line)
            if m:
                port = int(m.group(1))
        if port is None:
            return "did not start"
        time.sleep(0.3)
        idle = rss_kib(p.pid)
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /ws/echo/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  b"Sec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                return "connection refused by the daemon"
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            return "no upgrade: " + head.split(b"\r\n")[0].decode(errors="replace")
        # One masked text frame "hello" (mask 0), and its echo back.
        s.sendall(b"\x81\x85\x00\x00\x00\x00hello")
        got = head.split(b"\r\n\r\n", 1)[1]
        while len(got) < 7:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        time.sleep(0.2)
        one = rss_kib(p.pid)
        s.close()
        return idle, one
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def human(n):
    if n >= 1024 * 1024:
        return "%.1f MiB" % (n / 1048576)
    return "%.1f KiB" % (n / 1024)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-root", default="build")
    ap.add_argument("boards", nargs="*")
    a = ap.parse_args()
    boards = a.boards or sorted(os.path.basename(os.path.dirname(p))
                                for p in glob.glob(os.path.join(ROOT, "boards/*/defconfig")))
    root = os.path.abspath(a.build_root)
    print("| board | static RAM (.data+.bss) | RSS after start-up | RSS, one connection | RSS measured on |")
    print("|---|---|---|---|---|")
    for b in boards:
        cc = make("BOARD=" + b, "print-CC").stdout.strip()
        cross = make("BOARD=" + b, "print-CROSS_COMPILE").stdout.strip()
        if not shutil.which(cc.split()[0]):
            print("| `%s` | (no %s) | | | |" % (b, cc.split()[0]))
            continue
        r = make("BOARD=" + b, "BUILD_ROOT=" + os.path.join(root, "ram"), "daemon")
        elf = os.path.join(root, "ram", b, "chanwired")
        if r.returncode != 0:
            print("| `%s` | (build failed) | | | |" % b)
            sys.stderr.write(r.stdout[-2000:])
            continue
        ram = static_ram(cross + "size", elf)
        if cross:
            # The board's defconfig, built for this machine: RSS with the
            # board's pools, the host's libc and code.
            hroot = os.path.join(root, "ram-x86")
            r = make("BOARD=" + b, "BUILD_ROOT=" + hroot, "CROSS_COMPILE=", "CC=cc", "AR=ar",
                     "BOARD_CFLAGS=", "BOARD_LDFLAGS=", "OBJCOPY=objcopy", "CFLAGS=-Os", "daemon")
            where = "x86-64 build of its defconfig"
            run = os.path.join(hroot, b, "chanwired")
        else:
            where = "x86-64 (this board)"
            run = elf
        got = measure_rss(run) if r.returncode == 0 else "host build failed"
        if isinstance(got, str):
            print("| `%s` | %s | (%s) | | |" % (b, human(ram), got))
        else:
            print("| `%s` | %s | %d KiB (%d private) | %d KiB (%d private) | %s |"
                  % (b, human(ram), got[0][0], got[0][1], got[1][0], got[1][1], where))
    return 0


if __name__ == "__main__":
    sys.exit(main())
