#!/bin/sh
# SPDX-License-Identifier: MIT
# size.sh: the sizes `make size` prints. For each ELF file or archive given:
# `size`'s own text column (everything read-only the image loads: code,
# read-only data, PLT, dynamic symbol tables; the figure firmware engineers
# and the peers' published numbers use), then the .text (code) and .rodata
# sections within it, and static RAM (.data + .bss), each summed over the
# members of an archive.
#   scripts/size.sh SIZE-TOOL BOARD FILE...
tool=$1 board=$2
shift 2
printf '%-14s %-16s %9s %8s %8s %8s %10s\n' board file size-text .text .rodata .data .bss
for f in "$@"; do
    "$tool" -A "$f" | awk -v board="$board" -v name="$(basename "$f")" -v berk="$("$tool" -B "$f" | awk 'NR>1 {t+=$1} END {print t}')" '
        $1 == ".text" || $1 ~ /^\.text\./ { text += $2 }
        $1 == ".rodata" || $1 ~ /^\.rodata\./ { ro += $2 }
        $1 ~ /^\.s?data(\.|$)/ { data += $2 }
        $1 ~ /^\.s?bss(\.|$)/ { bss += $2 }
        END { printf "%-14s %-16s %9d %8d %8d %8d %10d\n", board, name, berk, text, ro, data, bss }'
done
