#!/bin/sh
# SPDX-License-Identifier: MIT
# setconfig.sh FILE NAME=VALUE...: sets options in a resolved .config in
# place, without a Kconfig tool (for Buildroot and OpenWrt recipes, which
# start from boards/<board>/defconfig). NAME may omit CONFIG_; VALUE n turns
# a bool off. Int and string options a newly enabled feature needs get their
# Kconfig defaults from scripts/mkconfig.sh. Dependencies between features
# are not resolved here: the package's own menu enforces them.
f=$1
shift
for kv in "$@"; do
    name=${kv%%=*} val=${kv#*=}
    case $name in CONFIG_*) ;; *) name=CONFIG_$name ;; esac
    if [ "$val" = n ]; then line="# $name is not set"; else line="$name=$val"; fi
    awk -v name="$name" -v line="$line" '
        $0 ~ "^" name "=" || $0 == "# " name " is not set" { print line; done = 1; next }
        { print }
        END { if (!done) print line }' "$f" > "$f.tmp" && mv "$f.tmp" "$f"
done
