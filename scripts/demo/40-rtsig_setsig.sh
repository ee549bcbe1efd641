#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Demo part for rtsig_setsig (TLPI §63.3): F_SETSIG with a realtime signal, one queued
# notification per event with its siginfo, the queue overflowing into plain SIGIO, and an
# echo server that takes its signals with sigwaitinfo().
# shellcheck source=scripts/lib/demo.bash
source "$(dirname "$0")/../lib/demo.bash"

part "rtsig_setsig" "TLPI §63.3"
explain "Plain SIGIO is a standard signal: events that happen while it is pending leave no" \
    "trace, and its siginfo cannot say which descriptor. F_SETSIG chooses a realtime signal" \
    "instead: one queued signal per event, each naming the descriptor (si_fd), the event" \
    "(si_code) and the poll bits (si_band), until the per-user queue is full."

show rtsig_setsig/coalesce_demo --signal sigio -k 1000
show rtsig_setsig/coalesce_demo --signal rt -k 1000
show rtsig_setsig/rt_monitor --self-test --sigwaitinfo -u 1
# A user namespace of its own gives the program a pending-signal count of its own.
own=()
unshare --user true 2>/dev/null && own=(unshare --user)
show "${own[@]}" rtsig_setsig/overflow_demo -l 16 -k 100

serve rtsig_setsig/rt_echo_server -p 0
show udp_sigio/udp_echo_client -p "$PORT" -n 20000 -W 32
unserve TERM

notice "1000 datagrams while the signal was blocked: plain SIGIO ran the handler once (si_code=SI_KERNEL, no descriptor), the realtime signal 1000 times, each with si_fd=the socket." \
    "rt_monitor watches sockets, a pipe and a terminal with one signal and tells them apart by si_fd; reading the pipe raises POLL_OUT (band 0x304) on its write end." \
    "With RLIMIT_SIGPENDING at 16, events 1 to 16 got a realtime signal and event 17 raised plain SIGIO; the rescan still handled all 100 events (lost=0)." \
    "The echo server reads once per notification, so its pending signals (sigq_max) stay near the client's 32 in flight, far from sigq_limit."
