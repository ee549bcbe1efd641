#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tcp_sigio_pitfalls-wakeups.sh - which kernel function raised each notification of
# tcp_events: the program's own list of signals (--mode rt --format signals: realtime
# signals are queued one per event, so none is lost) joined, one for one and in order,
# with the signals the kernel generated for it (scripts/sigtrace --path).
#
#   scripts/tcp_sigio_pitfalls-wakeups.sh
#
# Prints a tab-separated table: step condition signal si_code raised_by, where raised_by
# is the protocol function and the socket wake-up it called ("tcp_data_queue →
# sock_def_readable"). The conditions that raise nothing (a local shutdown, our FIN
# acknowledged, data acknowledged with room already free) have no row. Exit 4 (with
# sigtrace's reason) where tracefs cannot be used; 1 if the two lists do not match.
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "$0")/lib/cli.bash" && cli_noopts "$@"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
"$root/scripts/sigtrace" --path -o "$tmp/trace" -- \
    "$root/tcp_sigio_pitfalls/tcp_events" --mode rt --format signals >"$tmp/signals" || status=$?
[ "$status" -eq 0 ] || exit "$status"

awk -F'\t' '
    FNR == NR {
        if (FNR > 1) { n++; step[n] = $2; cond[n] = $3; sig[n] = $5; code[n] = $6 }
        next
    }
    / generate / { m++; gsig[m] = $6; gcode[m] = $7; next }
    /^ +path: / {
        k = split($0, f, / → /)
        # The wake-up: the frame before sock_wake_async (or send_sigurg), and its caller.
        for (i = k; i >= 1; i--) if (f[i] == "sock_wake_async" || f[i] == "send_sigurg") break
        if (i <= 1) { by[m] = "?"; next }
        w = f[i - 1]
        if (w == "sk_send_sigurg" || w ~ /^(sock_def_|sk_stream_)/ || w == "sk_error_report") {
            c = f[i - 2]; if (c == "sk_error_report") c = f[i - 3] " → " c
            by[m] = c " → " w
        } else by[m] = w
    }
    END {
        if (m != n) { printf "tcp_events took %d signals, the kernel generated %d\n", n, m > "/dev/stderr"; exit 1 }
        for (i = 1; i <= n; i++) if (gsig[i] != sig[i] || gcode[i] != code[i]) {
            printf "signal %d: tcp_events took %s %s, the kernel generated %s %s\n", i, sig[i], code[i], gsig[i], gcode[i] > "/dev/stderr"; exit 1
        }
        print "step\tcondition\tsignal\tsi_code\traised_by"
        for (i = 1; i <= n; i++) printf "%s\t%s\t%s\t%s\t%s\n", step[i], cond[i], sig[i], code[i], by[i]
    }' "$tmp/signals" FS=' +' "$tmp/trace"
