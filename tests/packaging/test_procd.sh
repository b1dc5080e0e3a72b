#!/bin/sh
# shellcheck disable=SC2034,SC2154,SC2317 # stubs called by the sourced script
# SPDX-License-Identifier: MIT
# test_procd.sh: sources OpenWrt's procd script (dist/openwrt/chanwire/files/
# chanwired.init) with procd's and UCI's functions stubbed, reading a UCI
# file with a small parser, and checks the command line and parameters it
# hands to procd: for the shipped /etc/config/chanwire and for a full one.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
script=$top/dist/openwrt/chanwire/files/chanwired.init
fails=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# UCI: "config TYPE 'NAME'", "option K 'V'", "list K 'V'" -> shell variables.
uci_to_sh() {
	awk '
	function unq(s) { gsub(/^'\''|'\''$/, "", s); gsub(/^"|"$/, "", s); return s }
	/^[ \t]*#/ || NF == 0 { next }
	$1 == "config" { sec = unq($3); print "SECTIONS=\"$SECTIONS " sec "\""; next }
	$1 == "option" { v = $0; sub(/^[ \t]*option[ \t]+[^ \t]+[ \t]+/, "", v)
		printf "U_%s_%s='\''%s'\''\n", sec, $2, unq(v); next }
	$1 == "list" { v = $0; sub(/^[ \t]*list[ \t]+[^ \t]+[ \t]+/, "", v)
		printf "U_%s_%s=\"${U_%s_%s:-}${U_%s_%s:+ }%s\"\n", sec, $2, sec, $2, sec, $2, unq(v); next }
	' "$1"
}

run_procd() { # uci-file -> procd calls on stdout
	uci_to_sh "$1" > "$tmp/uci.sh"
	(
		SECTIONS=
		# shellcheck source=/dev/null
		. "$tmp/uci.sh"
		config_load() { [ "$1" = chanwire ] || echo "config_load $1"; }
		config_get() { eval "v=\${U_$2_$3:-\${4:-}}"; eval "$1=\$v"; }
		config_get_bool() {
			config_get "$@"
			eval "case \$$1 in 1|on|true|yes|enabled) $1=1;; *) $1=0;; esac"
		}
		config_list_foreach() { eval "l=\${U_$1_$2:-}"; for i in $l; do "$3" "$i"; done; }
		procd_open_instance() { echo "open"; }
		procd_close_instance() { echo "close"; }
		procd_set_param() { k=$1; shift; echo "set $k $*"; }
		procd_append_param() { k=$1; shift; echo "append $k $*"; }
		# shellcheck source=/dev/null
		. "$script"
		start_service
		service_triggers
	) 2>&1
}
procd_add_reload_trigger() { :; }

# The command line a procd run builds: set command + append command lines.
cmdline() {
	awk '$1 == "set" && $2 == "command" { $1 = $2 = ""; c = $0 }
	     $1 == "append" && $2 == "command" { $1 = $2 = ""; c = c $0 }
	     END { gsub(/  +/, " ", c); sub(/^ /, "", c); print c }'
}

check() { # name got want
	if [ "$2" = "$3" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1"
		echo "     got:  $2"
		echo "     want: $3"
		fails=$((fails + 1))
	fi
}


out=$(procd_add_reload_trigger() { echo "trigger $*"; }; run_procd "$top/dist/openwrt/chanwire/files/chanwire.config")
check "shipped config: command line" "$(echo "$out" | cmdline)" \
	"/usr/sbin/chanwired --syslog --log-level info --user chanwire --listen 0.0.0.0:8080 --no-stats"
check "shipped config: respawn" "$(echo "$out" | grep '^set respawn')" "set respawn 3600 5 5"
check "shipped config: reload on /etc/config/chanwire" "$(echo "$out" | grep '^set file')" \
	"set file /etc/config/chanwire"
check "shipped config: one instance" "$(echo "$out" | grep -c '^open')" "1"

cat > "$tmp/full" <<'EOF2'
config chanwire 'main'
	option enabled '1'
	list listen '0.0.0.0:8080'
	list listen '[::]:8080'
	option log_level 'debug'
	option user 'web'
	option stats '1'
	option www '/www/chanwire'
	option max_conns '32'
	option max_message '4096'
config tls 'tls'
	list listen '0.0.0.0:8443'
	option cert '/etc/chanwire/cert.pem'
	option key '/etc/chanwire/key.pem'
config jwt 'jwt'
	option secret_file '/etc/chanwire/jwt.secret'
config redis 'redis'
	option server '127.0.0.1:6379'
	option prefix 'dev1'
EOF2
out=$(run_procd "$tmp/full")
check "full config: command line" "$(echo "$out" | cmdline)" \
	"/usr/sbin/chanwired --syslog --log-level debug --user web --listen 0.0.0.0:8080 --listen [::]:8080 --listen-tls 0.0.0.0:8443 --tls-cert /etc/chanwire/cert.pem --tls-key /etc/chanwire/key.pem --www /www/chanwire --max-conns 32 --max-message 4096 --jwt-secret-file /etc/chanwire/jwt.secret --redis 127.0.0.1:6379 --redis-prefix dev1"
check "full config: TLS files watched" "$(echo "$out" | grep '^append file')" \
	"append file /etc/chanwire/cert.pem /etc/chanwire/key.pem"

printf 'config chanwire main\n\toption enabled 0\n' > "$tmp/off"
out=$(run_procd "$tmp/off")
check "disabled: no instance" "$(echo "$out" | grep -c '^open')" "0"

# A TLS listener without a certificate is left out (the daemon would refuse).
printf "config chanwire 'main'\n\tlist listen '0.0.0.0:80'\nconfig tls 'tls'\n\tlist listen '0.0.0.0:443'\n" > "$tmp/notls"
check "TLS listener without cert: left out" "$(run_procd "$tmp/notls" | cmdline)" \
	"/usr/sbin/chanwired --syslog --log-level info --user chanwire --listen 0.0.0.0:80 --no-stats"

out=$(procd_add_reload_trigger() { echo "trigger $*"; }; run_procd "$top/dist/openwrt/chanwire/files/chanwire.config")
check "reload trigger on config chanwire" "$(echo "$out" | grep '^trigger')" "trigger chanwire"

[ "$fails" -eq 0 ] && echo "test_procd: all passed" || echo "test_procd: $fails failed"
[ "$fails" -eq 0 ]
