#!/usr/bin/env bash
# tcp_sigio_listen-bare-syn.sh - a SYN alone raises no SIGIO on a listening socket; a
# completed handshake does. Runs listen_server, then syn_only_client (a SYN sent by hand on
# a raw socket, never followed by the handshake's final ACK), then one real connection,
# asking the server for its counts (SIGHUP) after each. It needs CAP_NET_RAW, so run it in a
# network namespace of its own, where it also brings lo up:
#
#   unshare -rn scripts/tcp_sigio_listen-bare-syn.sh
#
# Prints key=value lines: syn_ack=1 ..., after_syn_signals=0, then after_connect_signals=1
# and the server's summary. Exit 0 if that held, 1 if not, 4 if raw sockets are not
# allowed here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lab="$root/tcp_sigio_listen"
tmp=$(mktemp -d)
server_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
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
    until [ "$(grep -cE -- "$1" "$tmp/out")" -ge "$2" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "tcp_sigio_listen-bare-syn.sh: listen_server did not print '$1' (#$2) in 10 s" >&2
            exit 1
        fi
        sleep 0.02
    done
}

# signals_now N - SIGHUP the server, wait for its Nth report, print its signals_total. Any
# SIGIO raised before the SIGHUP is counted by then: the server handles both in one loop.
signals_now() {
    kill -HUP "$server_pid"
    wait_count '^signals_total=' "$1"
    grep '^signals_total=' "$tmp/out" | tail -n 1 | sed -E 's/^signals_total=([0-9]+) .*/\1/'
}

# In a namespace of our own lo starts down; elsewhere it is up already and this is harmless.
ip link set lo up 2>/dev/null || true
"$lab/listen_server" -p 0 --siginfo -v >"$tmp/out" 2>"$tmp/err" </dev/null &
server_pid=$!
wait_count '^listening on ' 1
port=$(sed -n '1s/.*://p' "$tmp/out")

status=0
"$lab/syn_only_client" -p "$port" || status=$?
[ "$status" -eq 0 ] || exit "$status" # 4: no raw sockets here
echo "after_syn_signals=$(signals_now 1)"

"$lab/connect_burst" -p "$port" -k 1
echo "after_connect_signals=$(signals_now 2)"

kill -TERM "$server_pid"
wait "$server_pid" || status=$?
server_pid=
tail -n 1 "$tmp/out"
exit "$status"
