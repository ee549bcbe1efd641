#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# plots/bench.sh DIR: the benchmark figures from fresh runs (smaller with PLOTS_QUICK=1):
#   udp-throughput.png   each design's throughput relative to the blocking loop, quiet and
#                        loaded, with the range over the rounds
#   udp-window.png       throughput against the number of datagrams in flight
#   delivery-latency.png kernel stamp -> first user code, for five ways of being told
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "$0")/../lib/cli.bash" && cli_noopts "$@"
set -euo pipefail
# shellcheck source=scripts/plots/draw.bash
. "$(dirname "$0")/draw.bash"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$1
cd "$root"
mkdir -p "$dir"
machine="$(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%d)"

if [ "${PLOTS_QUICK:-0}" = 1 ]; then
    export BENCH_N=20000 BENCH_ROUNDS=2 BENCH_SWEEP="1 8 32 128" BENCH_SWEEP_N=3000 BENCH_SWEEP_ROUNDS=1 BENCH_LOAD=${BENCH_LOAD:-0}
    latency_n=200
else
    export BENCH_N=${BENCH_N:-200000} BENCH_ROUNDS=${BENCH_ROUNDS:-5}
    latency_n=2000
fi
export BENCH_OUT="$dir"
bash scripts/bench/udp_echo.sh >"$dir/bench.log"

designs=$(awk '!/^#/ { print $1 }' "$dir/udp-echo-summary.txt" | tr '\n' ' ')
loaded=$(find "$dir" -maxdepth 1 -name 'udp-echo-load*-summary.txt' | sort | head -n 1)
hogs=${loaded##*load}
hogs=${hogs%-summary.txt}
draw "$here/bench-throughput.gp" "$dir/udp-echo-summary.txt" "$dir/udp-throughput.png" "$machine" \
    "$loaded" "${loaded:+with $hogs CPU hogs running}"
draw "$here/bench-window.gp" "$dir/udp-window.txt" "$dir/udp-window.png" "$designs" "$machine"

{
    echo "# delivery latency: kernel receive stamp (SO_TIMESTAMPNS) to first user code"
    echo "# command: udp_sigio/delivery_latency -n $latency_n"
    echo "# kernel: $(uname -r)  cpus: $(nproc)  date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# columns: mode p50_us p99_us max_us"
    udp_sigio/delivery_latency -n "$latency_n" |
        sed -E 's/^mode=([^ ]+) samples=[0-9]+ p50_us=([^ ]+) p99_us=([^ ]+) max_us=([^ ]+)$/\1 \2 \3 \4/'
} >"$dir/delivery-latency.txt"
draw "$here/delivery-latency.gp" "$dir/delivery-latency.txt" "$dir/delivery-latency.png" "$machine"
