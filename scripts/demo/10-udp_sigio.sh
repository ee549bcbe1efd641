#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Demo part 10: the udp_sigio lab (UNP §25.2–25.3, Figure 25.1), about 4 seconds.
# shellcheck source=scripts/lib/demo.bash
source "$(dirname "$0")/../lib/demo.bash"

part "udp_sigio" "UNP §25.2–25.3, Figure 25.1"
explain "A UDP echo server driven by SIGIO: the handler reads every datagram the moment it" \
    "arrives and notes the time, the main loop does the work and replies. It takes three" \
    "set-up steps (handler, owner, O_ASYNC), and one SIGIO can stand for many datagrams."

serve udp_sigio/sigio_echo_server -p 0
# One datagram at a time: one signal each.
show udp_sigio/udp_echo_client -p "$PORT" -n 100 -W 1
# Ten datagrams while the server cannot run: SIGIO is not queued, so they make one signal.
show kill -STOP "$SERVER_PID"
until [ "$(ps -o stat= -p "$SERVER_PID" | cut -c1)" = T ]; do sleep 0.01; done
show udp_sigio/udp_echo_client -p "$PORT" -n 10 -W 10 -T 100
show kill -CONT "$SERVER_PID"
show kill -HUP "$SERVER_PID"
unserve TERM

explain "An ICMP port-unreachable is the other UDP cause of SIGIO, but only a connected" \
    "socket hears of it. Then Figure 25.1 measured: 1000 µs of work per datagram, one" \
    "datagram every 100 µs, error = time the program read it - the kernel's receive stamp."
show udp_sigio/udp_async_error --siginfo
show udp_sigio/udp_async_error --unconnected
show scripts/udp_sigio-fig251.sh timing -D 1000 -n 1000

notice "The setup lines come in the book's order; F_GETOWN is the server's own pid and F_GETFL shows O_ASYNC and O_NONBLOCK." \
    "reads=1 signals=100: in ping-pong every datagram raises its own SIGIO. reads=10 signals=1: the ten that arrived while the server was stopped made one signal, and the handler read until EAGAIN." \
    "Connected: signals=1, si_code=POLL_ERR, recv1=ECONNREFUSED and recv2=EAGAIN (the error is handed out once). Unconnected: signals=0, although the witness socket shows the ICMP did come back." \
    "The table: the loop's median error (loop_p50_us) is hundreds of milliseconds, the handler's (sigio_p50_us) tens of microseconds. The kernel's own stamp needs neither."
