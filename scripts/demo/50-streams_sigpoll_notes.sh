#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Demo part: streams_sigpoll_notes (APUE §14.5, UNP §25.2). Runs after make all.
# shellcheck source=scripts/lib/demo.bash
source "$(dirname "$0")/../lib/demo.bash"

part "streams_sigpoll_notes" "APUE §14.5.1–14.5.2, UNP §25.2"
explain "System V asked for SIGPOLL with ioctl(I_SETSIG) and a mask of S_* events on a" \
    "STREAMS device. Linux has no STREAMS: the probe shows what is left (SIGPOLL is SIGIO) and" \
    "emulates the mask with F_SETSIG(SIGPOLL), keeping only the kinds asked for. Then the trap" \
    "both books warn about: SIGIO's default action kills, so the handler must come first," \
    "and exec quietly removes it. Last, BSD's other signal: SIGURG for urgent data."
show streams_sigpoll_notes/sigpoll_probe --events hangup
show streams_sigpoll_notes/order_pitfall
show streams_sigpoll_notes/sigurg_oob -m owner
notice "stropts_h=absent and result=ENOTTY: no STREAMS here; sigpoll and sigio are one number." \
    "Only event=hangup lines were reported, yet the kernel sent every kind (the ignored lines): Linux has no per-event subscription, the program filters by si_code." \
    "wrong_order and exec_inherits were killed by SIGIO when the data came; right_order read it, and exec_fixed lived because O_ASYNC was off before the exec." \
    "SIGURG came with only F_SETOWN (o_async=no); the read stopped at the mark (atmark=1) and MSG_OOB returned the urgent '!'."
