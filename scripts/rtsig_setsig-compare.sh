#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rtsig_setsig-compare.sh [RUNS] - rt_echo_server against udp_sigio's loop_echo_server, side
# by side: RUNS rounds (default 5), each running udp_echo_client -n 200000 -W 32 against one
# server and then the other, and the median rate of each with their ratio. Build first
# (make all). Loopback only. Timing depends on the machine: this prints, it asserts nothing.
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "$0")/lib/cli.bash" && cli_noopts "$@"
set -euo pipefail
runs=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
client="$root/udp_sigio/udp_echo_client"
tmp=$(mktemp -d)
pid=
# shellcheck source=scripts/lib/onexit.bash
. "$root/scripts/lib/onexit.bash"
cleanup() {
    # shellcheck disable=SC2046,SC2086 # one PID per word, or none
    stop_pids $pid $(last_child)
    rm -rf "$tmp"
}
on_exit cleanup

# rate SERVER... - start the server on a kernel-chosen port, run the client, print its rate.
rate() {
    setsid "$@" -p 0 >"$tmp/server.out" 2>&1 </dev/null 3>&- &
    pid=$!
    local line deadline=$((SECONDS + 10))
    until line=$(grep -m1 '^listening on' "$tmp/server.out"); do
        [ "$SECONDS" -lt "$deadline" ] || { echo "server did not start: $*" >&2; exit 1; }
        sleep 0.02
    done
    "$client" -p "${line##*:}" -n 200000 -W 32 -t 60 | grep -oE 'rate=[0-9]+' | cut -d= -f2
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

: >"$tmp/rt"
: >"$tmp/loop"
for _ in $(seq "$runs"); do
    rate "$root/rtsig_setsig/rt_echo_server" >>"$tmp/rt"
    rate "$root/udp_sigio/loop_echo_server" >>"$tmp/loop"
done
rt=$(median <"$tmp/rt")
loop=$(median <"$tmp/loop")
echo "runs=$runs loop_rate=$loop rt_rate=$rt ratio=$(awk -v a="$rt" -v b="$loop" 'BEGIN {printf "%.2f", a / b}')"
echo "loop: $(tr '\n' ' ' <"$tmp/loop")"
echo "rt:   $(tr '\n' ' ' <"$tmp/rt")"
