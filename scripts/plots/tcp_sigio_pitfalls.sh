#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# plots/tcp_sigio_pitfalls.sh DIR - the timeline of the tcp_sigio_pitfalls lab: when each
# realtime signal of tcp_events' walk comes after its step began, on loopback and across two
# network namespaces joined by a delayed veth pair (scripts/tcp_sigio_pitfalls-netns.sh).
#
# Writes DIR/tcp_sigio_pitfalls-timeline.txt (data, '#' header) and .png. The namespace run
# needs the privilege to create network namespaces and a qdisc that delays (netem, or tbf):
# without them it prints one line saying why, draws nothing and exits 0. The whole figure
# takes about two seconds, so PLOTS_QUICK=1 changes nothing.
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "$0")/../lib/cli.bash" && cli_noopts "$@"
set -uo pipefail
# shellcheck source=scripts/plots/draw.bash
. "$(dirname "$0")/draw.bash"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${1:?usage: tcp_sigio_pitfalls.sh DIR}
events="$root/tcp_sigio_pitfalls/tcp_events"
netns="$root/scripts/tcp_sigio_pitfalls-netns.sh"
data="$dir/tcp_sigio_pitfalls-timeline.txt"
png="$dir/tcp_sigio_pitfalls-timeline.png"
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x "$events" ] || { echo "tcp_sigio_pitfalls: $events is not built: run make" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "tcp_sigio_pitfalls: gnuplot is not installed (scripts/install-deps)" >&2; exit 1; }

# number_within_step - add a column: each signal's place (0, 1, ...) among its step's signals,
# so that the figure can draw signals that came at the same moment side by side.
number_within_step() {
    awk -F'\t' -v OFS='\t' '{ print $0, seen[$2]++ + 0 }'
}

"$netns" >"$tmp/netns" 2>"$tmp/netns.err"
status=$?
if [ "$status" -eq 4 ]; then
    echo "tcp_sigio_pitfalls: timeline not drawn: $(sed -n '1s/^[^:]*: skipped: //p' "$tmp/netns.err")"
    exit 0
fi
if [ "$status" -ne 0 ]; then
    echo "tcp_sigio_pitfalls: $netns failed (status $status):" >&2
    cat "$tmp/netns.err" >&2
    exit 1
fi
"$events" --mode rt --format signals >"$tmp/loopback" || exit 1
"$events" --mode rt --format tsv >"$tmp/steps" || exit 1

{
    echo "# tcp_sigio_pitfalls: time of each realtime (F_SETSIG) signal after its step's action began"
    echo "# made by: scripts/plots/tcp_sigio_pitfalls.sh: tcp_events --mode rt --format signals, on loopback"
    echo "#   (block 1) and through scripts/tcp_sigio_pitfalls-netns.sh (block 2)"
    sed -n 's/^# delay: /# namespaces: delay by /p' "$tmp/netns"
    echo "# kernel: $(uname -r)   date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "# block 0 columns: step (number) condition loopback_signals namespace_signals"
    echo "# blocks 1 and 2 columns (tab-separated): mode step condition t_ms (ms since the step's"
    echo "#   action began) signal si_code si_band si_fd n (0, 1, ...: order within the step)"
    # Each step with how many signals it had in each run: a row with none says so.
    awk -F'\t' -v OFS='\t' 'FILENAME == ARGV[1] { if (FNR > 1) lo[$2]++; next }
        FILENAME == ARGV[2] { if (!/^#/ && ++seen > 1) ns[$2]++; next }
        FNR > 1 { print FNR - 1, $1, lo[FNR - 1] + 0, ns[FNR - 1] + 0 }' \
        "$tmp/loopback" "$tmp/netns" "$tmp/steps"
    printf '\n\n'
    tail -n +2 "$tmp/loopback" | number_within_step
    printf '\n\n'
    grep -v '^#' "$tmp/netns" | tail -n +2 | number_within_step
} >"$data"

delay=$(sed -n 's/^# delay: \([^(]*\).*/\1/p' "$tmp/netns")
draw "$here/tcp_sigio_pitfalls-timeline.gp" "$data" "$png" "${delay% }" || exit 1
