#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Demo part: tcp_sigio_listen (UNP §25.2): SIGIO on a listening TCP socket only.
# shellcheck source=scripts/lib/demo.bash disable=SC1091
source "$(dirname "$0")/../lib/demo.bash"

# wait_server REGEX [N] - wait quietly (10 s at most) until N lines (default 1) of the
# server's output match REGEX.
wait_server() {
    local deadline=$((SECONDS + 10))
    until [ "$(grep -cE -- "$1" "$DEMO_TMP/server.out")" -ge "${2:-1}" ]; do
        [ "$SECONDS" -lt "$deadline" ] || { echo "the server did not print '$1'" >&2; exit 1; }
        sleep 0.02
    done
}

part "tcp_sigio_listen" "UNP §25.2"
explain "On a listening TCP socket the only event that raises SIGIO is a completed connection, so \
this is the one use of signal-driven I/O with TCP the book recommends. listen_server makes only its \
listener signal-driven: on each signal it accepts until EAGAIN and gives every connection to a child \
that uses ordinary blocking I/O. --siginfo checks that each signal is POLL_IN on the listener."

serve tcp_sigio_listen/listen_server -p 0 --siginfo -v
# One at a time as the server sees it: the next connection only after the server has printed
# its line for the last signal, i.e. after its accept loop ended.
for i in 1 2 3; do
    show tcp_sigio_listen/connect_burst -p "$PORT" -k 1
    wait_server "^signal=$i accepted="
done
show tcp_sigio_listen/connect_burst -p "$PORT" -k 100
show kill -HUP "$SERVER_PID"
wait_server '^signals_total='
unserve TERM

notice "listener_fd has nonblock=1 async=1 and the server as owner; accepted_fd has nonblock=0 \
async=0 owner=0: on Linux accept() carries none of them over, so children serve with plain blocking I/O." \
    "child_pid ... listener_owner: the child shares the listening socket, but the owner stays the \
parent, and the summary's child_sigio=0 says no child ever had a SIGIO." \
    "signal=1 to 3, one connection at a time: one signal each, accepted=1. The burst of 100: a few \
signals, one of them with dozens of accepts, maybe one with accepted=0 (an earlier accept loop had \
already taken its connection). The SIGHUP histogram sums it up as reads=K signals=M lines." \
    "si_code=POLL_IN and si_fd equal to listener_fd on every signal, and unexpected=0 in the summary: the listener raised \
nothing but completed connections."
