#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Demo part: the kernel's own account (scripts/sigtrace). The tracepoints
# signal:signal_generate and signal:signal_deliver show what became of each SIGIO: queued,
# merged into the one pending, or refused because the realtime queue was full. Needs root;
# without it the part says why and moves on.
# shellcheck source=scripts/lib/demo.bash
source "$(dirname "$0")/../lib/demo.bash"

part "the kernel's account" "scripts/sigtrace, tracefs"
explain "Every lab so far inferred what the kernel did from what a handler saw. The kernel can" \
    "say it itself: a tracepoint fires for each signal it generates, with the result, and" \
    "for each signal taken. sigtrace runs a command under a tracing instance of its own and" \
    "prints both, with the kernel path that raised the signal."

if ! reason=$(scripts/sigtrace --check 2>&1); then
    printf '    (skipped: %s)\n' "${reason#sigtrace: }"
    notice "Tracing needs root (tracefs and its instances belong to root). Run 'sudo make demo' to see this part."
    exit 0
fi

show scripts/sigtrace --path -s IO -- rtsig_setsig/coalesce_demo --signal sigio -k 5
own=()
unshare --user true 2>/dev/null && own=(unshare --user)
show scripts/sigtrace -- "${own[@]}" rtsig_setsig/overflow_demo -l 4 -k 6

notice "Five datagrams while SIGIO was blocked: the first SIGIO was queued (delivered), the other four were merged on the spot, when they were generated; one delivery followed, to the handler." \
    "Each came the same way: from udp_sendmsg through the receive side of UDP to sock_def_readable, sock_wake_async, kill_fasync and send_sigio." \
    "With the realtime queue limited to 4: four realtime signals queued, then each further event shows twice, the realtime signal refused (queue full) and a plain SIGIO instead, queued once and merged after that." \
    "overflow_demo takes its signals with sigtimedwait (the sigwaitinfo family), which the kernel does not record as a delivery: no deliver lines there."
