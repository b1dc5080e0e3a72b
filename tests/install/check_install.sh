#!/bin/sh
# SPDX-License-Identifier: MIT
# check_install.sh MAKE BOARD BUILD_ROOT: `make install` into a scratch
# DESTDIR with PREFIX=/usr, then checks every file is there, the scripts
# parse, the pkg-config file works, and a program builds against the
# installed header and library. Prints "N passed, N failed".
make=$1 board=$2 root=$3
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
pass=0 fail=0
ok() { echo "ok   install: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL install: $*"; fail=$((fail + 1)); }
if $make --no-print-directory -s BOARD="$board" BUILD_ROOT="$root" install DESTDIR="$dest" PREFIX=/usr >"$dest.log" 2>&1; then
    ok "make install DESTDIR=... PREFIX=/usr"
else
    bad "make install failed:"; tail -20 "$dest.log"
fi
rm -f "$dest.log"
for f in usr/sbin/chanwired usr/bin/chanwire-send usr/include/chanwire.h usr/lib/libchanwire.a \
         usr/lib/pkgconfig/chanwire.pc usr/share/man/man8/chanwired.8 \
         usr/share/man/man1/chanwire-send.1 usr/share/chanwire/www/index.html \
         usr/share/chanwire/www/status/index.html usr/share/chanwire/www/status/status.js \
         etc/default/chanwired etc/init.d/S50chanwired usr/lib/systemd/system/chanwired.service \
         usr/lib/sysusers.d/chanwire.conf; do
    [ -f "$dest/$f" ] && ok "/$f" || bad "/$f missing"
done
[ -x "$dest/etc/init.d/S50chanwired" ] && sh -n "$dest/etc/init.d/S50chanwired" &&
    grep -q '^DAEMON="chanwired"$' "$dest/etc/init.d/S50chanwired" && grep -q -- '--exec "/usr/sbin/$DAEMON"' "$dest/etc/init.d/S50chanwired" &&
    ok "init script parses and points at /usr/sbin/chanwired" || bad "init script"
sh -n "$dest/etc/default/chanwired" && ok "sample config parses" || bad "sample config"
# The shipped options: a user of its own (which the sysusers.d file
# creates), no GET /stats on the port.
for f in etc/default/chanwired etc/init.d/S50chanwired usr/lib/systemd/system/chanwired.service; do
    grep -q 'CHANWIRED_ARGS=.*--user chanwire --no-stats' "$dest/$f" && ! grep -q -- '--user nobody' "$dest/$f" &&
        ok "/$f: --user chanwire --no-stats" || bad "/$f: not --user chanwire --no-stats"
done
grep -q '^u chanwire ' "$dest/usr/lib/sysusers.d/chanwire.conf" && ok "sysusers.d creates chanwire" ||
    bad "sysusers.d/chanwire.conf"
grep -q '^ExecStart=/usr/sbin/chanwired ' "$dest/usr/lib/systemd/system/chanwired.service" &&
    ! grep -q @ "$dest/usr/lib/systemd/system/chanwired.service" &&
    ok "systemd unit substituted" || bad "systemd unit"
if command -v pkg-config >/dev/null; then
    flags=$(PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_LIBDIR="$dest/usr/lib/pkgconfig" pkg-config --cflags --libs chanwire)
    case "$flags" in *"-I$dest/usr/include"*"-lchanwire"*) ok "pkg-config: $flags" ;; *) bad "pkg-config: $flags" ;; esac
else
    flags="-I$dest/usr/include -L$dest/usr/lib -lchanwire"
fi
cc=$($make --no-print-directory -s BOARD="$board" BUILD_ROOT="$root" print-CC)
cat > "$dest/app.c" <<'C'
#include <chanwire.h>
#include <stdio.h>
static void rx(cw_conn *c, const cw_msg *m) { cw_send_text(c, (const char *)m->data, m->len); }
static const cw_consumer echo = {.receive = rx};
static const cw_route routes[] = {{"/ws/echo/", &echo, 0}};
int main(void)
{
    cw_options o;
    cw_options_init(&o);
    o.routes = routes;
    o.nroutes = 1;
    printf("chanwire %s: %u connections\n", CW_VERSION, o.max_conns);
    return 0;
}
C
if $cc -std=c11 -o "$dest/app" "$dest/app.c" $flags 2>"$dest/cc.log"; then
    ok "a program builds against the installed header and library ($cc)"
else
    bad "building against the installed library:"; cat "$dest/cc.log"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
