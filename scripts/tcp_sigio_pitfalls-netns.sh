#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tcp_sigio_pitfalls-netns.sh - run tcp_events across two network namespaces joined by a veth
# pair with a delay, so that data arriving and the ACK that frees our output buffer are
# separate in time (on loopback the answer segment carries the ACK: one packet, both events).
# TCP_EVENTS_ARGS "--mode live --format signals" shows the handler calls of plain SIGIO.
#
#   scripts/tcp_sigio_pitfalls-netns.sh [--shaper auto|netem|tbf] [-d MS] [-- TCP_EVENTS_ARGS...]
#
#   --shaper  how to delay (default auto: netem if this kernel has it, else tbf)
#               netem: MS of delay on both ends of the veth pair (tc netem)
#               tbf:   the peer's side sends through a 24 kbit/s token bucket no bigger than
#                      one small packet, so the packets it sends back to back (ACKs, FIN, a
#                      few bytes of data) leave >= 22 ms apart; our side is not slowed
#   -d MS     netem delay each way (default 20)
#   TCP_EVENTS_ARGS  default: --mode rt --format signals
#
# Output: '#' lines saying what was set up, then tcp_events' output.
# Exit: 0 ok; 1 failure; 2 usage; 4 not possible here (no privilege for network namespaces,
# or neither netem nor tbf in this kernel), with the reason on stderr.
#
# Not root: everything runs inside a user namespace of its own (unshare -rnm), see below.
#
# Everything lives in two namespaces named tsp-PID-us and tsp-PID-peer (PID = this script's),
# with the veth pair created inside them: deleting the namespaces on exit (any exit: the
# EXIT trap, and INT/TERM/HUP) removes the devices too, and parallel runs do not collide.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prog="${0##*/}"
events="$root/tcp_sigio_pitfalls/tcp_events"
shaper=auto delay_ms=20
ns_us="tsp-$$-us" ns_peer="tsp-$$-peer"
addr_us=10.231.0.1 addr_peer=10.231.0.2
made=() child="" launching=0

usage() {
    echo "usage: $prog [--shaper auto|netem|tbf] [-d MS] [-- TCP_EVENTS_ARGS...]"
    sed -n '9,15s/^# \{0,1\}//p' "$0"
}
skip() { echo "$prog: skipped: $*" >&2; exit 4; }
die() { echo "$prog: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --shaper) [ $# -ge 2 ] || { echo "$prog: --shaper needs a value" >&2; usage >&2; exit 2; }
            shaper=$2; shift 2 ;;
        -d) [ $# -ge 2 ] || { echo "$prog: -d needs a value" >&2; usage >&2; exit 2; }
            delay_ms=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; break ;;
        *) echo "$prog: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$shaper" in auto | netem | tbf) ;; *) echo "$prog: --shaper: '$shaper' is not auto, netem or tbf" >&2; exit 2 ;; esac
if ! [[ $delay_ms =~ ^[0-9]+$ ]] || [ "$delay_ms" -lt 1 ] || [ "$delay_ms" -gt 1000 ]; then
    echo "$prog: -d: '$delay_ms' is out of range (1 to 1000)" >&2
    exit 2
fi
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--mode rt --format signals)

[ -x "$events" ] || die "$events is not built: run make"
# ip and tc live in /usr/sbin (or /sbin), which an ordinary user's PATH often lacks.
PATH=$PATH:/usr/sbin:/sbin
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v tc >/dev/null || skip "tc (iproute2) is not installed"

# ip netns add needs root: it mounts the new namespace on /run/netns/NAME. Without root,
# the same runs in a user namespace of our own (unshare -r) with its own network and mount
# namespaces (-n -m), where a fresh tmpfs stands in for /run/netns: the two namespaces, the
# veth pair and the qdisc are then ours to make, and nothing outside sees them. unshare
# execs without forking, so this script keeps its PID (a SIGTERM to it still cleans up).
if [ "$(id -u)" != 0 ] && [ -z "${TSP_IN_USERNS:-}" ]; then
    if err=$(unshare -rnm true 2>&1); then
        mnt=/run/netns
        [ -d "$mnt" ] || mnt=/run
        # shellcheck disable=SC2016 # expanded by the inner shell
        TSP_IN_USERNS=1 exec unshare -rnm bash -c 'mount -t tmpfs tmpfs "$1" || exit 1; shift; exec "$@"' \
            _ "$mnt" "$0" --shaper "$shaper" -d "$delay_ms" -- "${args[@]}"
    fi
    skip "ip netns add needs root, and no user namespace can stand in here (unshare -rnm: $err)"
fi

# cleanup - stop tcp_events if it still runs, then delete our namespaces (and with them the
# veth pair and its qdiscs). Runs on every exit through the EXIT trap.
# shellcheck disable=SC2317  # called by the trap
cleanup() {
    # A signal between starting tcp_events and noting its PID: $! is that PID.
    [ -z "$child" ] && [ "$launching" = 1 ] && child=$!
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    local ns pids left deadline
    # Whatever still runs inside a namespace (tcp_events, or a process it started there)
    # goes before the namespace does: ip netns del would only unmount the name.
    for ns in "${made[@]}"; do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$pids" ] || continue
        # shellcheck disable=SC2086 # one PID per word
        kill -TERM $pids 2>/dev/null
        deadline=$((SECONDS + 2))
        while left=$(ip netns pids "$ns" 2>/dev/null) && [ -n "$left" ] && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 0.02
        done
        # shellcheck disable=SC2086
        [ -n "$left" ] && kill -KILL $left 2>/dev/null
    done
    for ns in "${made[@]}"; do
        ip netns del "$ns" 2>/dev/null || echo "$prog: could not delete namespace $ns" >&2
    done
    made=()
}
# On every exit, and run to its end even when more signals come (onexit.bash).
# shellcheck source=scripts/lib/onexit.bash
. "$root/scripts/lib/onexit.bash"
on_exit cleanup

# add_ns NAME - create a namespace; no privilege is "skipped", not a failure. We try the
# operation rather than look at our uid: a container may be root without CAP_SYS_ADMIN.
add_ns() {
    local err
    if ! err=$(ip netns add "$1" 2>&1); then
        case "$err" in
            *"Operation not permitted"* | *"Permission denied"*)
                skip "ip netns add needs root (CAP_SYS_ADMIN and write access to /run/netns): $err" ;;
        esac
        die "ip netns add $1: $err"
    fi
    made+=("$1")
}

# run CMD... - a set-up step that must work; its error message is the reason.
run() {
    local err
    err=$("$@" 2>&1) || die "$*: $err"
}

add_ns "$ns_us"
add_ns "$ns_peer"
run ip -n "$ns_us" link add veth-us type veth peer name veth-peer netns "$ns_peer"
run ip -n "$ns_us" addr add "$addr_us/24" dev veth-us
run ip -n "$ns_peer" addr add "$addr_peer/24" dev veth-peer
for ns in "$ns_us" "$ns_peer"; do
    run ip -n "$ns" link set lo up
done
run ip -n "$ns_us" link set veth-us up
run ip -n "$ns_peer" link set veth-peer up

# The delay. netem is the tool for it; this kernel may lack it (CONFIG_NET_SCH_NETEM).
how=""
if [ "$shaper" != tbf ]; then
    if err=$(tc -n "$ns_us" qdisc add dev veth-us root netem delay "${delay_ms}ms" 2>&1) &&
        err=$(tc -n "$ns_peer" qdisc add dev veth-peer root netem delay "${delay_ms}ms" 2>&1); then
        how="netem: ${delay_ms} ms each way"
    elif [ "$shaper" = netem ]; then
        skip "tc qdisc netem: $err (this kernel has no netem: CONFIG_NET_SCH_NETEM)"
    else
        tc -n "$ns_us" qdisc del dev veth-us root 2>/dev/null
        no_netem=$err
    fi
fi
if [ -z "$how" ]; then
    # tbf: 24 kbit/s is 3 bytes per ms. The bucket (80 bytes) holds one small packet at most,
    # so back-to-back packets from the peer leave >= 22 ms apart (66 bytes for a bare ACK),
    # and every packet the peer sends in this walk is small (the bulk data goes our way).
    if ! err=$(tc -n "$ns_peer" qdisc add dev veth-peer root tbf rate 24kbit burst 80 limit 30000 2>&1); then
        skip "no way to delay packets here: netem: ${no_netem:-not tried}; tbf: $err"
    fi
    how="tbf: the peer's packets at 24 kbit/s, one small packet per bucket (>= 22 ms apart; netem: ${no_netem:-not tried})"
fi

echo "# tcp_events across network namespaces $ns_us (us, $addr_us) and $ns_peer (peer, $addr_peer)"
echo "# delay: $how"
echo "# kernel: $(uname -r)"
launching=1
setsid ip netns exec "$ns_us" "$events" --local "$addr_us" --peer "$addr_peer" \
    --peer-netns "/run/netns/$ns_peer" "${args[@]}" </dev/null 3>&- &
child=$!
wait "$child"
status=$?
child="" launching=0
exit "$status"
