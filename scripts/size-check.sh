#!/bin/sh
# SPDX-License-Identifier: MIT
# size-check.sh BUDGET SIZE-TOOL NAME=ELF ...: fails when `size`'s text
# column of an ELF (code, read-only data, PLT and dynamic symbol tables) is
# over its line in BUDGET ("NAME BYTES"); shows .text and .rodata beside
# it, and says so when the image is far below its budget.
budget=$1 tool=$2
shift 2
rc=0
for pair in "$@"; do
    name=${pair%%=*} elf=${pair#*=}
    limit=$(awk -v n="$name" '$1 == n { print $2 }' "$budget")
    text=$("$tool" -B "$elf" | awk 'NR > 1 { t += $1 } END { print t + 0 }')
    parts=$("$tool" -A "$elf" | awk '$1 == ".text" || $1 ~ /^\.text\./ { t += $2 }
        $1 == ".rodata" || $1 ~ /^\.rodata\./ { r += $2 } END { printf ".text %d, .rodata %d", t, r }')
    if [ -z "$limit" ]; then
        echo "size-check: no budget line for $name in $budget"; rc=1; continue
    fi
    if [ "$text" -gt "$limit" ]; then
        echo "FAIL size $name: text $text bytes ($parts) > budget $limit ($budget)"; rc=1
    else
        echo "ok   size $name: text $text bytes ($parts) <= budget $limit"
        [ $((limit - text)) -gt 512 ] && echo "     (more than 512 bytes below: lower $name in $budget to $text)"
    fi
done
exit $rc
