#!/bin/sh
# shellcheck disable=SC2015,SC2046 # ok/bad return 0; $CHANWIRED_ARGS is split as systemd does
# SPDX-License-Identifier: MIT
# check-deb.sh: builds the Debian packages (debian/) for the host (with the
# source package) and for armhf (binary, cross); runs lintian on both; installs
# the host packages (dpkg -i, as root), starts chanwired the way its systemd
# unit does (EnvironmentFile=/etc/default/chanwired, ExecStart), checks that
# it answers a WebSocket upgrade and that chanwire-send reaches it at the
# default control socket, stops it with SIGTERM, and removes the packages.
# The build runs in a copy of the tree under a temporary directory
# (dpkg-buildpackage writes to ..). Needs: scripts/install-test-deps.sh
# --packaging. Usage: scripts/check-deb.sh [--no-install] [--no-cross]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
install=1 cross=1
for a in "$@"; do
	case $a in
		--no-install) install=0 ;;
		--no-cross) cross=0 ;;
		*) echo "usage: $0 [--no-install] [--no-cross]" >&2; exit 2 ;;
	esac
done
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null || { echo "check-deb: $t missing (scripts/install-test-deps.sh --packaging)"; exit 1; }
done

tmp=$(mktemp -d /tmp/chanwire-deb.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
version=$(sed -n 's/^#define CW_VERSION "\(.*\)"/\1/p' "$top/include/chanwire.h")

build() { # arch-args... ; the tree is copied afresh for each build
	rm -rf "$tmp/src" && mkdir -p "$tmp/src/chanwire-$version"
	(cd "$top" && tar -c --exclude=./build --exclude=./.git --exclude=node_modules \
		--exclude=./tests/browser/node_modules -f - .) | tar -x -C "$tmp/src/chanwire-$version"
	(cd "$tmp/src/chanwire-$version" && dpkg-buildpackage -us -uc "$@") > "$tmp/build.log" 2>&1
}

lint() { # changes-file; clean = no tag at all (as root lintian says so first)
	rc=0
	lintian --fail-on error,warning "$1" > "$tmp/lintian.log" 2>&1 || rc=$?
	out=$(grep -v '^running with root privileges is not recommended!$' "$tmp/lintian.log" || true)
	if [ "$rc" = 0 ] && [ -z "$out" ]; then
		ok "lintian $(basename "$1"): clean"
	else
		bad "lintian $(basename "$1")"; echo "$out"
	fi
}

host=$(dpkg --print-architecture)
if build; then
	ok "dpkg-buildpackage ($host, with the source package)"
	mkdir -p "$tmp/out" && mv "$tmp/src/"*.deb "$tmp/src/"*.changes "$tmp/src/"*.buildinfo \
		"$tmp/src/"*.dsc "$tmp/src/"*.tar.* "$tmp/out/"
	lint "$tmp/out/chanwire_${version}_$host.changes"
else
	bad "dpkg-buildpackage ($host)"; tail -40 "$tmp/build.log"
fi

if [ "$cross" = 1 ]; then
	if ! command -v arm-linux-gnueabihf-gcc >/dev/null; then
		bad "no arm-linux-gnueabihf-gcc (scripts/install-test-deps.sh --packaging)"
	elif build -b -a armhf; then
		ok "dpkg-buildpackage -b -a armhf"
		mv "$tmp/src/"*.deb "$tmp/src/"*.changes "$tmp/src/"*.buildinfo "$tmp/out/"
		deb=$tmp/out/chanwired_${version}_armhf.deb
		dpkg-deb --fsys-tarfile "$deb" | tar -x -O ./usr/sbin/chanwired > "$tmp/chanwired.armhf"
		case $(file -b "$tmp/chanwired.armhf") in
			*ARM*) ok "armhf chanwired is an ARM binary" ;;
			*) bad "armhf chanwired: $(file -b "$tmp/chanwired.armhf")" ;;
		esac
		lint "$tmp/out/chanwire_${version}_armhf.changes"
	else
		bad "dpkg-buildpackage -b -a armhf"; tail -40 "$tmp/build.log"
	fi
fi

if [ "$install" = 1 ] && [ -f "$tmp/out/chanwired_${version}_$host.deb" ]; then
	if [ "$(id -u)" != 0 ]; then
		bad "installing needs root (or run with --no-install)"
	elif dpkg -i "$tmp/out/chanwired_${version}_$host.deb" "$tmp/out/libchanwire-dev_${version}_$host.deb" \
		> "$tmp/dpkg.log" 2>&1; then
		ok "dpkg -i chanwired libchanwire-dev"
		id chanwire >/dev/null 2>&1 && ok "postinst created the user chanwire" || bad "no user chanwire"
		pkg-config --exists chanwire && ok "pkg-config finds chanwire $(pkg-config --modversion chanwire)" ||
			bad "pkg-config chanwire"
		# The unit's command: its Environment= default, then the
		# EnvironmentFile (KEY="value", no expansion), then ExecStart.
		unit=/usr/lib/systemd/system/chanwired.service
		args=$(python3 "$top/tests/packaging/unit_command.py" "$unit" /etc/default/chanwired)
		port=18080
		# shellcheck disable=SC2086 # the unit splits $CHANWIRED_ARGS at whitespace
		set -- $(echo "$args" | sed "s/0\.0\.0\.0:8080/127.0.0.1:$port/")
		"$@" > "$tmp/daemon.log" 2>&1 &
		pid=$!
		up=0
		for _ in $(seq 50); do
			if python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(b"GET /ws/echo/ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          b"Sec-WebSocket-Version: 13\r\n\r\n")
r = s.recv(4096)
sys.exit(0 if r.startswith(b"HTTP/1.1 101") and b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in r else 1)
PY
			then up=1; break; fi
			sleep 0.2
		done
		[ "$up" = 1 ] && ok "chanwired ($*) answers a WebSocket upgrade" ||
			{ bad "no WebSocket upgrade"; cat "$tmp/daemon.log"; }
		chanwire-send --stats > "$tmp/stats.log" 2>&1 &&
			ok "chanwire-send reaches the default control socket" ||
			{ bad "chanwire-send --stats"; cat "$tmp/stats.log"; }
		kill -TERM "$pid"
		wait "$pid" && ok "SIGTERM: chanwired exits 0" || bad "chanwired exit status $?"
		pid=
		dpkg --purge chanwired libchanwire-dev > "$tmp/dpkg.log" 2>&1 &&
			[ ! -e /usr/sbin/chanwired ] && ok "dpkg --purge" || { bad "dpkg --purge"; cat "$tmp/dpkg.log"; }
		deluser --system chanwire >/dev/null 2>&1 || true
	else
		bad "dpkg -i"; cat "$tmp/dpkg.log"
	fi
fi

[ "$fails" -eq 0 ] && echo "check-deb: all passed" || echo "check-deb: $fails failed"
[ "$fails" -eq 0 ]
