#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# plots/udp_sigio.sh DIR - the udp_sigio lab's figures (UNP Figure 25.1, measured):
#   udp_sigio-fig251.png  arrival-time error of the blocking loop and of the SIGIO handler,
#                         and the kernel stamp's own lag, for 0, 50, 200 and 1000 µs of
#                         work per datagram
#   udp_sigio-reads.png   datagrams read per SIGIO handler call, textbook and batch modes
# Data files (with a '#' header) go next to the PNGs. PLOTS_QUICK=1: short runs.
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "$0")/../lib/cli.bash" && cli_noopts "$@"
set -euo pipefail
# shellcheck source=scripts/plots/draw.bash
. "$(dirname "$0")/draw.bash"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${1:?usage: udp_sigio.sh DIR}
mkdir -p "$dir"
driver=$root/scripts/udp_sigio-fig251.sh

# header WHAT COMMAND - the lines every data file starts with.
header() {
    printf '# %s\n# made by: %s (PLOTS_QUICK=%s)\n# kernel: %s   date: %s\n' \
        "$1" "$2" "${PLOTS_QUICK:-0}" "$(uname -r)" "$(date -u '+%Y-%m-%d %H:%M UTC')"
}

data=$dir/udp_sigio-fig251.txt
{
    header "error = read time - kernel SO_TIMESTAMPNS stamp, microseconds; kernel = kernel stamp - client send time; n = datagrams the server processed; fixed-rate client, one datagram every 100 us" \
        "scripts/udp_sigio-fig251.sh timing"
    "$driver" timing
} >"$data.tmp"
mv "$data.tmp" "$data"
draw "$here/udp_sigio-fig251.gp" "$data" "$dir/udp_sigio-fig251.png"

data=$dir/udp_sigio-reads.txt
{
    header "reads = datagrams one SIGIO handler call read; columns = handler calls (signals) with that many reads; 32 datagrams in flight, 64-byte datagrams" \
        "scripts/udp_sigio-fig251.sh reads"
    "$driver" reads
} >"$data.tmp"
mv "$data.tmp" "$data"
draw "$here/udp_sigio-reads.gp" "$data" "$dir/udp_sigio-reads.png"
