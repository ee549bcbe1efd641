#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
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
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "$0")/lib/cli.bash" && cli_noopts "$@"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/tcp_sigio_listen-server.sh disable=SC1091
source "$root/scripts/tcp_sigio_listen-server.sh"

# In a namespace of our own lo starts down; elsewhere it is up already and this is harmless.
ip link set lo up 2>/dev/null || true
lss_start -p 0 --siginfo -v

status=0
"$root/tcp_sigio_listen/syn_only_client" -p "$LSS_PORT" || status=$?
[ "$status" -eq 0 ] || exit "$status" # 4: no raw sockets here
lss_report 1
after_syn=$LSS_SIGNALS
echo "after_syn_signals=$after_syn"

"$root/tcp_sigio_listen/connect_burst" -p "$LSS_PORT" -k 1
lss_report 2
after_connect=$LSS_SIGNALS
echo "after_connect_signals=$after_connect"

lss_stop
tail -n 1 "$LSS_DIR/out"
[ "$LSS_STATUS" -eq 0 ] && [ "$after_syn" -eq 0 ] && [ "$after_connect" -eq 1 ]
