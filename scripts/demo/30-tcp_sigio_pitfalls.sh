#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Demo part 30: tcp_sigio_pitfalls (UNP §25.2 "SIGIO with TCP Sockets", TCPv2 p.439).
# shellcheck source=scripts/lib/demo.bash
source "$(dirname "$0")/../lib/demo.bash"

part "tcp_sigio_pitfalls" "UNP §25.2, TCPv2 p.439"
explain "The book lists seven TCP conditions that raise SIGIO and calls the signal next to useless" \
    "on a connected socket: it comes too often and does not say why. tcp_events makes each" \
    "condition happen alone on a loopback connection and counts the signals, once with plain" \
    "SIGIO and once with F_SETSIG and a realtime signal, which carries the reason in si_code."
show tcp_sigio_pitfalls/tcp_events
explain "Why the socket must be non-blocking: a handler that reads after every SIGIO, here on a" \
    "blocking socket. The signal that follows a full output buffer is about room to write, not" \
    "about data, so the read waits until a 300 ms timer cuts it off."
show tcp_sigio_pitfalls/blocking_trap --blocking -t 300
notice "local_shutdown and own_fin_acked: 0. Linux signals neither a disconnect we start nor the ACK of our FIN, two of the book's seven conditions." \
    "data_acked 0 but buffer_space_freed 1 POLL_OUT: room in the output buffer is signalled only after a write found it full." \
    "A peer's FIN gives POLL_IN twice, or POLL_HUP then POLL_IN once we had shut down our side." \
    "Plain SIGIO: at most one handler call per step, every one with si_code SI_KERNEL. data_and_ack is one plain SIGIO for two events that F_SETSIG tells apart." \
    "blocking_trap: step=space read=EINTR blocked=1; without --blocking the same read says EAGAIN. step=waitdata signals=0: no POLL_IN while a thread sleeps in recv()."
