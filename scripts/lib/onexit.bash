# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# onexit.bash - for a script that starts programs in the background: its clean-up runs on
# every way out (its last line, an error, ^C, SIGTERM, SIGHUP) and runs to its end.
#
#   . "$root/scripts/lib/onexit.bash"
#   on_exit cleanup            # cleanup runs once, whatever ends the script
#   setsid server ... & server_pid=$!
#   cleanup() { stop_pids $server_pid $(last_child); rm -rf "$tmp"; }
#
# Why the care: a script stopped by `timeout`, by the tour or by a test gets the same
# signal more than once within microseconds (to its process group, then to itself). With
# a plain `trap 'exit 143' TERM`, the second one arrives while the EXIT trap runs and ends
# the script there, before it has stopped its server: the server is left running. So INT,
# TERM and HUP are ignored from the moment the ending begins.

# on_exit FUNC - run FUNC on every exit; INT, TERM and HUP end the script with 130, 143
# and 129. FUNC must be bounded (stop_pids is).
on_exit() {
    _onexit_func=$1
    trap _onexit_run EXIT
    trap 'trap "" INT TERM HUP; exit 130' INT
    trap 'trap "" INT TERM HUP; exit 143' TERM
    trap 'trap "" INT TERM HUP; exit 129' HUP
}

# shellcheck disable=SC2317 # run by the EXIT trap
_onexit_run() {
    local status=$?
    trap '' INT TERM HUP
    "$_onexit_func"
    exit "$status"
}

# last_child - the PID of the last program this shell started in the background ($!), if
# it still runs and is this shell's child: a signal that comes between `cmd &` and the
# line that notes its PID leaves it in no variable.
last_child() {
    local pid=${!:-} stat state ppid
    [ -n "$pid" ] || return 0
    read -r stat 2>/dev/null <"/proc/$pid/stat" || return 0
    # The fields after the name: state, parent PID, ...
    read -r state ppid _ <<<"${stat##*) }"
    [ "$state" != Z ] && [ "$ppid" = "$$" ] && echo "$pid"
    return 0
}

# stop_pids [-t SECONDS] PID... - SIGTERM each (and SIGCONT, for one stopped), wait until
# all have ended, SIGKILL what still runs after SECONDS (default 3), and reap them. Safe
# under `set -e`.
stop_pids() {
    local pid wait_s=3 deadline left
    if [ "${1:-}" = -t ]; then
        wait_s=$2
        shift 2
    fi
    deadline=$((SECONDS + wait_s))
    for pid in "$@"; do
        kill -TERM "$pid" 2>/dev/null || true
        kill -CONT "$pid" 2>/dev/null || true
    done
    while :; do
        left=0
        for pid in "$@"; do
            _onexit_alive "$pid" && left=1
        done
        [ "$left" = 0 ] && break
        if [ "$SECONDS" -ge "$deadline" ]; then
            for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
            break
        fi
        sleep 0.02
    done
    for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
    return 0
}

# _onexit_alive PID - true while PID runs (a zombie, ended but not reaped, does not).
_onexit_alive() {
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}
