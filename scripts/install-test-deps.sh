#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install-test-deps.sh: installs what the test suites need on Debian 12,
# so that no suite skips: Debian packages with apt-get, the Node clients
# into tests/node_modules from tests/package-lock.json (npm ci).
# Idempotent and quick when everything is there: apt-get runs only for
# packages that are missing, npm only when node_modules differs from the
# lockfile.
#   scripts/install-test-deps.sh           the host suites (make test)
#   scripts/install-test-deps.sh --boards  also the cross toolchains, qemu,
#                                          multiarch libraries and Kconfig
#                                          tools of the boards (.ci/run)
#   scripts/install-test-deps.sh --packaging  also what make check-deb needs:
#                                          debhelper, lintian, the armhf
#                                          cross compiler (dpkg -a armhf)
# `make test` runs it, then every suite with CHECK_STRICT=1.
set -euo pipefail

cd "$(dirname "$0")/.."

boards=0 packaging=0
for arg in "$@"; do
    case "$arg" in
    --boards) boards=1 ;;
    --packaging) packaging=1 ;;
    *) echo "usage: $0 [--boards] [--packaging]" >&2; exit 2 ;;
    esac
done

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo)
fi
APT=(env DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600)

# The host suites: compilers, Python clients (websockets, PyJWT, simplejwt
# for the token interop cases), valgrind, Chromium for the browser suites,
# mbedTLS and openssl for the TLS pass.
pkgs=(build-essential gcc make clang python3 python3-websockets python3-jwt
      python3-djangorestframework-simplejwt valgrind chromium fonts-dejavu-core
      libmbedtls-dev openssl)
# The metrics suite parses /metrics with the Prometheus client's parser.
pkgs+=(python3-prometheus-client)
# The proxy suite (test_proxy.py) runs nginx in front of the daemon, as a
# plain process of its own (no service).
pkgs+=(nginx-light)
# The Redis channel layer's suites (board host-redis): Redis, and Django
# Channels with channels_redis and daphne for the interop project.
pkgs+=(redis-server python3-django-channels daphne python3-channels-redis)
# libFuzzer and the sanitizer runtimes for clang (make fuzz, ASan/UBSan,
# make check-tsan).
pkgs+=(libclang-rt-14-dev)
# The foreign-loop examples (examples/glib_loop.c, examples/libuv_loop.c),
# found through pkg-config.
pkgs+=(libglib2.0-dev libuv1-dev pkg-config)
# make check-packaging: the init scripts are checked with shellcheck.
pkgs+=(shellcheck)
# A machine may already carry a newer Node (with its own npm) from another
# source; Debian's packages would conflict with it, so add them only if absent.
if ! command -v node >/dev/null 2>&1; then
    pkgs+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
    pkgs+=(npm)
fi
if [ "$packaging" = 1 ]; then
    # make check-deb: dpkg-buildpackage with dh, lintian, and the cross
    # toolchain for -a armhf.
    pkgs+=(debhelper lintian dpkg-dev crossbuild-essential-armhf)
fi
if [ "$boards" = 1 ]; then
    # Boards (boards/*/board.mk): Debian's cross gcc, qemu-user to run the
    # test programs and the daemon, musl for mipsel through multiarch,
    # qemu-system-arm and armhf packages (kernel, busybox) for check-vm,
    # armhf mbedTLS for qemu-armv7-tls, kconfiglib for check-config.
    pkgs+=(gcc-arm-linux-gnueabihf gcc-arm-linux-gnueabi gcc-aarch64-linux-gnu
           gcc-mipsel-linux-gnu gcc-mips-linux-gnu
           libc6-dev-armhf-cross libc6-dev-armel-cross libc6-dev-arm64-cross
           libc6-dev-mipsel-cross libc6-dev-mips-cross musl-dev:mipsel musl-tools
           libmbedtls-dev:armhf qemu-user qemu-system-arm python3-kconfiglib)
fi

missing=()
native=$(dpkg --print-architecture)
declare -A have=()
while read -r name status; do
    if [ "$status" = installed ]; then
        have[$name]=1
    fi
done < <(dpkg-query -W -f='${Package}:${Architecture} ${db:Status-Status}\n' 2>/dev/null)
for p in "${pkgs[@]}"; do
    case "$p" in
    *:*) [ -n "${have[$p]:-}" ] || missing+=("$p") ;;
    *) [ -n "${have[$p:$native]:-}${have[$p:all]:-}" ] || missing+=("$p") ;;
    esac
done

# With a foreign architecture added (armhf, mipsel), one stale security
# index has been seen to make `apt-get update` exit 100 while every package
# still installs, and a mirror in the middle of a sync fails it for a
# minute: try three times, then judge by the install, not by this status.
apt_update() {
    local try rc=0
    for try in 1 2 3; do
        "${APT[@]}" update && return 0
        rc=$?
        echo "apt-get update exited $rc (try $try of 3)"
        if [ "$try" -lt 3 ]; then
            sleep 15
        fi
    done
    return "$rc"
}

if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-test-deps: installing ${missing[*]}"
    if [ "$packaging" = 1 ] && [ "$boards" = 0 ]; then
        dpkg --print-foreign-architectures | grep -qx armhf || "${SUDO[@]}" dpkg --add-architecture armhf
    fi
    if [ "$boards" = 1 ]; then
        for arch in armhf mipsel; do
            dpkg --print-foreign-architectures | grep -qx "$arch" || "${SUDO[@]}" dpkg --add-architecture "$arch"
        done
    fi
    apt_update || echo "apt-get update exited $? three times (checking the install instead)"
    "${APT[@]}" install -y --no-install-recommends "${missing[@]}"
else
    echo "install-test-deps: all ${#pkgs[@]} Debian packages are installed"
fi

# The Node clients (ws, playwright-core) at the lockfile's versions.
if (cd tests && npm ls --depth=0 >/dev/null 2>&1) &&
   [ tests/node_modules/.package-lock.json -nt tests/package-lock.json ]; then
    echo "install-test-deps: tests/node_modules matches tests/package-lock.json"
else
    (cd tests && npm ci --no-audit --no-fund)
fi

echo "install-test-deps: node $(node --version), npm $(npm --version)," \
     "$(/usr/bin/python3 --version), websockets" \
     "$(/usr/bin/python3 -c 'import websockets; print(websockets.__version__)')"
