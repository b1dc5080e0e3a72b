#!/bin/sh
# SPDX-License-Identifier: MIT
# size.sh: the sizes `make size` prints. For each ELF file or archive given:
# the .text (code), .rodata, .data and .bss sections summed over its members,
# and `size`'s own text column (code + read-only data + startup code).
#   scripts/size.sh SIZE-TOOL BOARD FILE...
tool=$1 board=$2
shift 2
printf '%-14s %-16s %8s %8s %8s %10s %8s\n' board file .text .rodata .data .bss size-text
for f in "$@"; do
    "$tool" -A "$f" | awk -v board="$board" -v name="$(basename "$f")" -v berk="$("$tool" -B "$f" | awk 'NR>1 {t+=$1} END {print t}')" '
        $1 == ".text" || $1 ~ /^\.text\./ { text += $2 }
        $1 == ".rodata" || $1 ~ /^\.rodata\./ { ro += $2 }
        $1 ~ /^\.s?data(\.|$)/ { data += $2 }
        $1 ~ /^\.s?bss(\.|$)/ { bss += $2 }
        END { printf "%-14s %-16s %8d %8d %8d %10d %8d\n", board, name, text, ro, data, bss, berk }'
done
