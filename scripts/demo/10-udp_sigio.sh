#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Demo part 10: the udp_sigio lab (UNP §25.2–25.3, Figure 25.1), about 3 seconds.
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
# Wait (5 s at most) until the kernel has really stopped it.
deadline=$((SECONDS + 5))
until [ "$(ps -o stat= -p "$SERVER_PID" | cut -c1)" = T ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "the server did not stop within 5 s" >&2; exit 1; }
    sleep 0.01
done
show udp_sigio/udp_echo_client -p "$PORT" -n 10 -W 10 -T 100
show kill -CONT "$SERVER_PID"
show kill -HUP "$SERVER_PID"
unserve TERM

explain "An ICMP port-unreachable is the other UDP cause of SIGIO, but only a connected" \
    "socket hears of it. Then Figure 25.1 measured: 1000 µs of work per datagram, one" \
    "datagram every 100 µs, error = time the program read it - the kernel's receive stamp."
show udp_sigio/udp_async_error --siginfo
show udp_sigio/udp_async_error --unconnected
SHOW_SAVE=$DEMO_TMP/fig251.txt show scripts/udp_sigio-fig251.sh timing -D 1000 -n 1000

# The sentence about the table compares the numbers this run printed: on a busy machine the
# handler, too, waits for a core, and its error grows from tens of microseconds.
read -r _ _ loop_p50 _ _ sigio_p50 _ < <(grep -v '^#' "$DEMO_TMP/fig251.txt" | tail -n 1)
table=$(awk -v loop="${loop_p50:-0}" -v sig="${sigio_p50:-0}" 'BEGIN {
    if (loop <= 0 || sig <= 0) {
        print "The table: this run has no median to compare (see the lines above)."; exit
    }
    s = sprintf("The table: the loop'"'"'s median error (loop_p50_us) is %.1f ms, the handler'"'"'s (sigio_p50_us) %.0f µs", loop / 1000, sig)
    if (loop > sig)
        s = s sprintf(", %.0f times smaller: the loop reads a datagram only after the work for every earlier one, the handler as soon as the signal is delivered.", loop / sig)
    else
        s = s ": not smaller this time; the machine was too busy for the run to show the difference. Run the command again."
    if (sig >= 100)
        s = s " On an idle machine (chapters/figures/udp_sigio-fig251.txt) the handler'"'"'s is tens of microseconds; here other programs kept the cores busy, and the handler waited for one too."
    else
        s = s " That is tens of microseconds, as on an idle machine."
    print s " The kernel'"'"'s own stamp (kernel_p50_us) needs neither."
}')

notice "The setup lines come in the book's order; F_GETOWN is the server's own pid and F_GETFL shows O_ASYNC and O_NONBLOCK." \
    "lost=10 is intended: the server was stopped, so the client waited 100 ms (-T 100) for echoes that could not come and gave up. The server read the ten datagrams once it ran again and echoed them too late (received=110 echoed=110 in its summary)." \
    "reads=1 signals=100: in ping-pong every datagram raises its own SIGIO. reads=10 signals=1: the ten that arrived while the server was stopped made one signal, and the handler read until EAGAIN." \
    "Connected: signals=1, si_code=POLL_ERR, recv1=ECONNREFUSED and recv2=EAGAIN (the error is handed out once). Unconnected: signals=0, although the witness socket shows the ICMP did come back." \
    "$table"
