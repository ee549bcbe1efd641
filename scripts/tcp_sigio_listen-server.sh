# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# (the LSS_* variables are set here for the scripts that source this file)
# tcp_sigio_listen-server.sh - what the lab's scripts share to drive a listen_server in the
# background: start it, wait for its lines, ask for its counts (SIGHUP), stop it. Sourced by
# scripts/plots/tcp_sigio_listen.sh and scripts/tcp_sigio_listen-bare-syn.sh:
#
#   source "$root/scripts/tcp_sigio_listen-server.sh"
#   lss_start -p 0 --siginfo        # sets LSS_PID, LSS_PORT; output in $LSS_DIR/out, err
#   lss_report 1                    # SIGHUP, wait for report 1: LSS_SIGNALS, LSS_CONNECTIONS
#   lss_stop                        # SIGTERM, wait; done on every exit too
#
# Every wait is bounded (10 s); a server that does not answer ends the script with exit 1.

lss_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LSS_DIR=$(mktemp -d)
LSS_PID=
LSS_PORT=
LSS_SIGNALS=
LSS_CONNECTIONS=

# shellcheck source=scripts/lib/onexit.bash
. "$lss_root/scripts/lib/onexit.bash"
# shellcheck disable=SC2317 # called on exit
lss_cleanup() {
    # shellcheck disable=SC2046,SC2086 # one PID per word, or none
    stop_pids $LSS_PID $(last_child)
    rm -rf "$LSS_DIR"
}
on_exit lss_cleanup

# lss_wait_count REGEX N - wait until N lines of the server's output match REGEX.
lss_wait_count() {
    local deadline=$((SECONDS + 10))
    until [ "$(grep -cE -- "$1" "$LSS_DIR/out")" -ge "$2" ]; do
        if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$LSS_PID" 2>/dev/null; then
            echo "${0##*/}: listen_server did not print '$1' (#$2) within 10 s" >&2
            cat "$LSS_DIR/err" >&2
            exit 1
        fi
        sleep 0.02
    done
}

# lss_start ARGS... - start listen_server ARGS in the background and wait for its port.
lss_start() {
    # Its own session (a SIGIO or SIGKILL it sends to its process group reaches nobody
    # else), without a caller's fd 3 (bats waits on that), stopped by PID.
    setsid "$lss_root/tcp_sigio_listen/listen_server" "$@" >"$LSS_DIR/out" 2>"$LSS_DIR/err" </dev/null 3>&- &
    LSS_PID=$!
    lss_wait_count '^listening on ' 1
    LSS_PORT=$(sed -n '1s/.*://p' "$LSS_DIR/out")
}

# lss_report N - SIGHUP the server, wait for its Nth histogram report, and set LSS_SIGNALS
# and LSS_CONNECTIONS to its running totals. A SIGIO raised before the SIGHUP is counted by
# then: the server takes both in one loop, SIGIO first.
lss_report() {
    local line
    kill -HUP "$LSS_PID"
    lss_wait_count '^signals_total=' "$1"
    line=$(grep '^signals_total=' "$LSS_DIR/out" | tail -n 1)
    [[ $line =~ ^signals_total=([0-9]+)\ connections_total=([0-9]+)$ ]] || {
        echo "${0##*/}: cannot read the report line '$line'" >&2
        exit 1
    }
    LSS_SIGNALS=${BASH_REMATCH[1]}
    LSS_CONNECTIONS=${BASH_REMATCH[2]}
}

# lss_stop - SIGTERM the server (if it runs) and wait for it; its status in LSS_STATUS.
lss_stop() {
    LSS_STATUS=0
    [ -n "$LSS_PID" ] || return 0
    kill -TERM "$LSS_PID" 2>/dev/null || true
    wait "$LSS_PID" 2>/dev/null || LSS_STATUS=$?
    LSS_PID=
}
