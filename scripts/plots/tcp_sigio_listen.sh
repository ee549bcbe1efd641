#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tcp_sigio_listen.sh DIR - the tcp_sigio_listen lab's figure: bursts of 1, 10 and 100
# connections against the SIGIO signals listen_server's listener raised for each burst and
# the connections it accepted per signal, all from one run of the server.
#
# Writes DIR/tcp_sigio_listen-burst.txt (one row per burst) and draws
# DIR/tcp_sigio_listen-burst.png with scripts/plots/tcp_sigio_listen-burst.gp.
# PLOTS_QUICK=1 makes 5 bursts of each size instead of 20 (the demo uses it).
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "$0")/../lib/cli.bash" && cli_noopts "$@"
set -euo pipefail
# shellcheck source=scripts/plots/draw.bash
. "$(dirname "$0")/draw.bash"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${1:?usage: tcp_sigio_listen.sh DIR}
lab="$root/tcp_sigio_listen"
mkdir -p "$dir"
rounds=20
[ "${PLOTS_QUICK:-0}" = 1 ] && rounds=5

# shellcheck source=scripts/tcp_sigio_listen-server.sh disable=SC1091
source "$root/scripts/tcp_sigio_listen-server.sh"
lss_start -p 0

data="$dir/tcp_sigio_listen-burst.txt"
{
    echo "# tcp_sigio_listen: one row per burst of connections to one listen_server run"
    echo "# columns: connections_per_burst burst_number signals connections (all counts)"
    echo "#   signals = SIGIO deliveries the listener caused during the burst (SIGHUP histogram totals, differenced)"
    echo "# made by: scripts/plots/tcp_sigio_listen.sh (listen_server -p 0; connect_burst -k K, $rounds bursts per K)"
    echo "# kernel: $(uname -r)  date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  cpus: $(nproc)"
    reports=0 prev_signals=0 prev_conns=0
    for k in 1 10 100; do
        for ((r = 1; r <= rounds; r++)); do
            if ! "$lab/connect_burst" -p "$LSS_PORT" -k "$k" -t 20 >"$LSS_DIR/client.out" 2>&1; then
                echo "tcp_sigio_listen.sh: connect_burst -k $k failed:" >&2
                cat "$LSS_DIR/client.out" >&2
                exit 1
            fi
            reports=$((reports + 1))
            lss_report "$reports"
            echo "$k $r $((LSS_SIGNALS - prev_signals)) $((LSS_CONNECTIONS - prev_conns))"
            prev_signals=$LSS_SIGNALS prev_conns=$LSS_CONNECTIONS
        done
    done
} >"$data"

draw "$here/tcp_sigio_listen-burst.gp" "$data" "$dir/tcp_sigio_listen-burst.png"
