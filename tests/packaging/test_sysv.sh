#!/bin/sh
# SPDX-License-Identifier: MIT
# test_sysv.sh: runs the BusyBox/SysV init script (dist/chanwired.init, as
# make install-init-sysv fills it in) against a built daemon with the
# system's start-stop-daemon (the long options are BusyBox's and dpkg's):
# start serves, reload (SIGHUP) keeps the same process, stop returns only
# once the process is gone, a second stop fails. The PID file and
# /etc/default/chanwired are moved into a scratch directory.
# Usage: test_sysv.sh BUILD_DIR (with chanwired in it)
# shellcheck disable=SC2015 # ok/bad return 0
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: test_sysv.sh BUILD_DIR}" && pwd)
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
command -v start-stop-daemon >/dev/null || { echo "test_sysv: no start-stop-daemon"; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'sh "$tmp/S50chanwired" stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
port=$((20000 + $$ % 20000))
mkdir -p "$tmp/default"
sed -e "s|@SBINDIR@|$build|g" -e "s|@SYSCONFDIR@|$tmp|g" \
	-e "s|^PIDFILE=.*|PIDFILE=\"$tmp/\$DAEMON.pid\"|" "$top/dist/chanwired.init" > "$tmp/S50chanwired"
root=
[ "$(id -u)" = 0 ] && root=--allow-root
printf 'CHANWIRED_ARGS="--listen 127.0.0.1:%s --control %s/ctl.sock %s"\n' "$port" "$tmp" "$root" \
	> "$tmp/default/chanwired"

answers() {
	python3 - "$port" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    s.sendall(b"GET /ws/echo/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    sys.exit(0 if s.recv(4096).startswith(b"HTTP/1.1 101") else 1)
except OSError:
    sys.exit(1)
PY
}

out=$(sh "$tmp/S50chanwired" start) && [ "$out" = "Starting chanwired: OK" ] &&
	ok "start: $out" || bad "start: $out"
up=0
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	answers && { up=1; break; }
	sleep 0.2
done
[ "$up" = 1 ] && ok "the daemon answers a WebSocket upgrade" || bad "no answer on port $port"
pid=$(cat "$tmp/chanwired.pid" 2>/dev/null)
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ok "PID file names the running daemon ($pid)" ||
	bad "PID file: '$pid'"
out=$(sh "$tmp/S50chanwired" reload) && [ "$out" = "Reloading chanwired: OK" ] &&
	ok "reload: $out" || bad "reload: $out"
sleep 0.5
kill -0 "$pid" 2>/dev/null && answers && ok "after reload (SIGHUP): the same process, still serving" ||
	bad "reload stopped the daemon"
out=$(sh "$tmp/S50chanwired" stop) && [ "$out" = "Stopping chanwired: OK" ] &&
	ok "stop: $out" || bad "stop: $out"
# Gone: no process, or a zombie (a container's PID 1 may not reap it).
state=$(sed 's/.*) \([A-Z]\).*/\1/' "/proc/$pid/stat" 2>/dev/null)
case $state in
	""|Z) ok "stop returned once the process was gone" ;;
	*) bad "stop returned while $pid still runs (state $state)" ;;
esac
[ ! -e "$tmp/chanwired.pid" ] && ok "PID file removed" || bad "PID file left"
out=$(sh "$tmp/S50chanwired" stop) && bad "second stop succeeded: $out" || ok "second stop fails: $out"
out=$(sh "$tmp/S50chanwired" bogus) && bad "bogus: exit 0" || ok "unknown action: $out"

[ "$fails" -eq 0 ] && echo "test_sysv: all passed" || echo "test_sysv: $fails failed"
[ "$fails" -eq 0 ]
