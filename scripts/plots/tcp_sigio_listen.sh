#!/usr/bin/env bash
# tcp_sigio_listen.sh DIR - the tcp_sigio_listen lab's figure: bursts of 1, 10 and 100
# connections against the SIGIO signals listen_server's listener raised for each burst and
# the connections it accepted per signal, all from one run of the server.
#
# Writes DIR/tcp_sigio_listen-burst.txt (one row per burst) and draws
# DIR/tcp_sigio_listen-burst.png with scripts/plots/tcp_sigio_listen-burst.gp.
# PLOTS_QUICK=1 makes 5 bursts of each size instead of 20 (the demo uses it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${1:?usage: tcp_sigio_listen.sh DIR}
lab="$root/tcp_sigio_listen"
mkdir -p "$dir"
rounds=20
[ "${PLOTS_QUICK:-0}" = 1 ] && rounds=5

tmp=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# wait_count REGEX N - wait (10 s at most) until N lines of the server's output match.
wait_count() {
    local deadline=$((SECONDS + 10))
    until [ "$(grep -cE -- "$1" "$tmp/server.out")" -ge "$2" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "tcp_sigio_listen.sh: listen_server did not print '$1' (#$2) in 10 s" >&2
            cat "$tmp/server.err" >&2
            exit 1
        fi
        sleep 0.02
    done
}

"$lab/listen_server" -p 0 >"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
server_pid=$!
wait_count '^listening on ' 1
port=$(sed -n '1s/.*://p' "$tmp/server.out")

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
            if ! "$lab/connect_burst" -p "$port" -k "$k" -t 20 >"$tmp/client.out" 2>&1; then
                echo "tcp_sigio_listen.sh: connect_burst -k $k failed:" >&2
                cat "$tmp/client.out" >&2
                exit 1
            fi
            # The histogram report's last line holds the running totals.
            kill -HUP "$server_pid"
            reports=$((reports + 1))
            wait_count '^signals_total=' "$reports"
            read -r signals conns < <(grep '^signals_total=' "$tmp/server.out" | tail -n 1 |
                sed -E 's/signals_total=([0-9]+) connections_total=([0-9]+)/\1 \2/')
            echo "$k $r $((signals - prev_signals)) $((conns - prev_conns))"
            prev_signals=$signals prev_conns=$conns
        done
    done
} >"$data"

gnuplot -c "$here/tcp_sigio_listen-burst.gp" "$data" "$dir/tcp_sigio_listen-burst.png"
