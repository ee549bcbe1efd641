#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# plots/sigtrace.sh DIR - the kernel's account of a burst, on a time line: the SIGIO echo
# server (udp_sigio/sigio_echo_server) under a client that keeps 8 datagrams in flight, traced
# by scripts/sigtrace. Each datagram generates a SIGIO: queued (result "delivered") when none
# was pending, merged when one was; each handler run is a delivery. Needs root for the
# trace; without it the figure is skipped with sigtrace's reason (the committed one stays).
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "$0")/../lib/cli.bash" && cli_noopts "$@"
set -euo pipefail
# shellcheck source=scripts/plots/draw.bash
. "$(dirname "$0")/draw.bash"
dir=${1:?usage: sigtrace.sh DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
data="$dir/sigtrace-burst.txt"
n=48
window=8

reason=$("$root/scripts/sigtrace" --check 2>&1) || {
    echo "plots: sigtrace-burst skipped: ${reason#sigtrace: }" >&2
    exit 0
}

tmp=$(mktemp -d)
tracer=""
# shellcheck source=scripts/lib/onexit.bash
. "$root/scripts/lib/onexit.bash"
# sigtrace ends its command and removes its tracing instance when it gets SIGTERM.
cleanup() {
    # shellcheck disable=SC2046,SC2086 # one PID per word, or none
    stop_pids -t 10 $tracer $(last_child)
    rm -rf "$tmp"
}
on_exit cleanup

# The traced server, in a session of its own; sigtrace ends it when sigtrace gets SIGTERM.
setsid "$root/scripts/sigtrace" -s IO -o "$tmp/trace" -- \
    "$root/udp_sigio/sigio_echo_server" -p 0 -w 50 >"$tmp/server" 2>&1 </dev/null &
tracer=$!
deadline=$((SECONDS + 20))
until grep -q '^listening on ' "$tmp/server"; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "plots: sigtrace-burst: the server did not start" >&2; exit 1; }
    sleep 0.05
done
port=$(sed -n 's/^listening on .*://p' "$tmp/server")
"$root/udp_sigio/udp_echo_client" -p "$port" -n "$n" -W "$window" >"$tmp/client"
kill -TERM "$tracer"
wait "$tracer" || true
tracer=""
grep -q '^sigtrace: ' "$tmp/trace" || { echo "plots: sigtrace-burst: no trace" >&2; exit 1; }

{
    echo "# sigtrace-burst: the kernel's account of a burst of datagrams to a SIGIO server"
    echo "# command: scripts/sigtrace -s IO -- udp_sigio/sigio_echo_server -p 0 -w 50, under udp_sigio/udp_echo_client -n $n -W $window"
    echo "# kernel: $(uname -r)  machine: $(uname -m)  date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# client: $(cat "$tmp/client")"
    echo "# $(tail -n 1 "$tmp/trace")"
    echo "# columns: t_ms (since the first event)  row (1 merged, 2 queued, 3 handler run)  event"
    awk '$4 == "generate" || $4 == "deliver" {
        if (t0 == "") t0 = $1
        row = ($4 == "deliver") ? 3 : ($7 == "merged" ? 1 : 2)
        name = ($4 == "deliver") ? "handler" : $7
        printf "%.3f %d %s\n", ($1 - t0) * 1000, row, name
    }' "$tmp/trace"
} >"$data"

draw "$root/scripts/plots/sigtrace-burst.gp" "$data" "$dir/sigtrace-burst.png" "$n" "$window"
