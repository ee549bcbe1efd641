#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# udp_sigio-fig251.sh - UNP Figure 25.1 measured: the blocking loop against the SIGIO
# server, and how many datagrams one SIGIO stands for.
#
#   scripts/udp_sigio-fig251.sh [timing] [-D "0 50 200 1000"] [-n N] [-i USEC] [-R] [-P]
#       Both servers under the same fixed-rate client (one datagram every USEC µs, N in
#       all), with D µs of work per datagram. Prints one row per D:
#           D_us loop_n loop_p50_us loop_p99_us sigio_n sigio_p50_us sigio_p99_us
#                kernel_p50_us kernel_p99_us loop_p1_us sigio_p1_us kernel_p1_us
#       where the error is (time the program read the datagram) - (kernel receive stamp):
#       read_ns - kernel_ns for the loop, handler_ns - kernel_ns for the SIGIO server,
#       over the datagrams each server got round to (from their --stamps files). The
#       kernel's own lag is kernel_ns - sent_ns (the client's send time), from the SIGIO
#       server's run: how long after the send the stamp was taken, whatever D is.
#       -R runs both servers with --rt (SCHED_FIFO, memory locked), as a time server runs;
#       where that is not permitted the script exits 4 with the server's reason. -P pins
#       the server to CPU 1 and the client to CPU 0 (taskset, two CPUs or more), so that a
#       busy server never delays the client's sends; on a machine busy with other work a
#       pinned server waits for its CPU, so -P is for quiet machines.
#   scripts/udp_sigio-fig251.sh reads [-n N]
#       sigio_echo_server in each mode under 32 datagrams in flight, then SIGHUP. Prints:
#           reads textbook_signals batch_signals
#
# PLOTS_QUICK=1 makes the runs short (the demo). Needs the programs built (make).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lab=$root/udp_sigio
tmp=$(mktemp -d)
server_pid=""
client_pid=""

# shellcheck source=scripts/lib/onexit.bash
. "$root/scripts/lib/onexit.bash"

# cleanup: stop the server and client still running (3 s at most: they honour SIGTERM
# within one), so that nothing writes into $tmp any more, then remove it. Runs on every
# exit, ^C and SIGTERM included, to its end (onexit.bash).
cleanup() {
    # shellcheck disable=SC2046,SC2086 # one PID per word, or none
    stop_pids $server_pid $client_pid $(last_child)
    rm -rf "$tmp"
}
on_exit cleanup

usage() {
    sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "$0"
}

experiment=timing
if [ "${1:-}" = timing ] || [ "${1:-}" = reads ]; then
    experiment=$1
    shift
fi
works="0 50 200 1000"
if [ "${PLOTS_QUICK:-0}" = 1 ]; then count=1000; else count=5000; fi
interval=100
rt=()
pin=0
# Long words first: getopts would read "--help" as the option "-".
for arg; do
    case $arg in
        --help) usage; exit 0 ;;
        --) break ;;
        --*) echo "udp_sigio-fig251.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
    esac
done
while getopts ":D:n:i:RPh" opt; do
    case $opt in
        D) works=$OPTARG ;;
        n) count=$OPTARG ;;
        i) interval=$OPTARG ;;
        R) rt=(--rt) ;;
        P) pin=1 ;;
        h) usage; exit 0 ;;
        *) echo "udp_sigio-fig251.sh: bad option -$OPTARG" >&2; usage >&2; exit 2 ;;
    esac
done

# -P: server and client each on a CPU of its own, when there are two.
server_cpu=() client_cpu=()
if [ "$pin" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    server_cpu=(taskset -c 1) client_cpu=(taskset -c 0)
fi

# start_server CMD... - start a lab server in the background, wait for "listening on",
# set server_pid and port.
start_server() {
    local deadline=$((SECONDS + 10))
    setsid "$@" >"$tmp/server.out" 2>"$tmp/server.err" </dev/null 3>&- &
    server_pid=$!
    until grep -q '^listening on' "$tmp/server.out" 2>/dev/null; do
        if ! kill -0 "$server_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            local status=0
            wait "$server_pid" 2>/dev/null || status=$?
            server_pid=""
            # A server that cannot run here (exit 4, e.g. --rt without privilege) says why.
            if [ "$status" -eq 4 ]; then
                echo "udp_sigio-fig251.sh: skipped: $(head -n 1 "$tmp/server.err")" >&2
                exit 4
            fi
            echo "udp_sigio-fig251.sh: server did not start: $*" >&2
            cat "$tmp/server.err" >&2
            exit 1
        fi
        sleep 0.02
    done
    port=$(sed -n '1s/.*://p' "$tmp/server.out")
}

stop_server() {
    kill -TERM "$server_pid"
    wait "$server_pid" || { echo "udp_sigio-fig251.sh: server failed" >&2; exit 1; }
    server_pid=""
}

# stamp_stats FILE [LATER EARLIER] - "n p50_us p99_us p1_us" of column LATER - column
# EARLIER of a --stamps file (default 3 and 2: read or handler time minus kernel stamp),
# over the lines where both are set.
stamp_stats() {
    awk -v a="${2:-3}" -v b="${3:-2}" '!/^#/ && $a > 0 && $b > 0 { printf "%.1f\n", ($a - $b) / 1000 }' "$1" | sort -n |
        awk '{ v[NR] = $1 }
             END {
                 if (NR == 0) { print "0 0 0 0"; exit }
                 i1 = int(0.01 * NR + 0.5); if (i1 < 1) i1 = 1
                 i50 = int(0.50 * NR + 0.5); if (i50 < 1) i50 = 1
                 i99 = int(0.99 * NR + 0.5); if (i99 < 1) i99 = 1
                 print NR, v[i50], v[i99], v[i1]
             }'
}

# measure DESIGN WORK - one run; prints "n p50_us p99_us p1_us" and keeps the stamps file as
# $tmp/DESIGN.stamps. Called in this shell, not in $(...), so that cleanup knows the PIDs.
# The client sends at a fixed rate whatever the server does (open loop). The server is
# stopped shortly after the last send: what it has not processed by then does not count,
# so a run lasts N x USEC + 0.2 s.
measure() {
    local design=$1 work=$2
    start_server "${server_cpu[@]}" "$lab/${design}_echo_server" -p 0 -w "$work" --stamps "$tmp/$design.stamps" "${rt[@]}"
    setsid "${client_cpu[@]}" "$lab/udp_echo_client" -p "$port" -n "$count" -i "$interval" -T 200 -t 30 >/dev/null 2>&1 </dev/null 3>&- &
    client_pid=$!
    sleep "$(awk -v n="$count" -v i="$interval" 'BEGIN { printf "%.3f", n * i / 1e6 + 0.2 }')"
    stop_server
    kill -TERM "$client_pid" 2>/dev/null || true
    wait "$client_pid" 2>/dev/null || true
    client_pid=""
    stamp_stats "$tmp/$design.stamps"
}

if [ "$experiment" = timing ]; then
    echo "# D_us loop_n loop_p50_us loop_p99_us sigio_n sigio_p50_us sigio_p99_us kernel_p50_us kernel_p99_us loop_p1_us sigio_p1_us kernel_p1_us"
    for work in $works; do
        measure loop "$work" >"$tmp/loop.row"
        read -r ln l50 l99 l1 <"$tmp/loop.row"
        measure sigio "$work" >"$tmp/sigio.row"
        read -r sn s50 s99 s1 <"$tmp/sigio.row"
        read -r _ k50 k99 k1 <<<"$(stamp_stats "$tmp/sigio.stamps" 2 5)"
        echo "$work $ln $l50 $l99 $sn $s50 $s99 $k50 $k99 $l1 $s1 $k1"
    done
    exit 0
fi

# reads: the histogram each mode prints on SIGHUP, joined on the reads column.
for mode in textbook batch; do
    start_server "$lab/sigio_echo_server" -p 0 --mode "$mode"
    "$lab/udp_echo_client" -p "$port" -n "$((count * 20))" -W 32 -t 30 >/dev/null
    kill -HUP "$server_pid"
    deadline=$((SECONDS + 10))
    until grep -q '^signals_total=' "$tmp/server.out"; do
        [ "$SECONDS" -lt "$deadline" ] || { echo "udp_sigio-fig251.sh: no histogram" >&2; exit 1; }
        sleep 0.02
    done
    stop_server
    sed -n 's/^reads=\([0-9]*\)+* signals=\([0-9]*\)$/\1 \2/p' "$tmp/server.out" >"$tmp/$mode.hist"
done
echo "# reads textbook_signals batch_signals"
join -a1 -a2 -e 0 -o 0,1.2,2.2 <(sort -k1,1 "$tmp/textbook.hist") <(sort -k1,1 "$tmp/batch.hist") |
    sort -n
