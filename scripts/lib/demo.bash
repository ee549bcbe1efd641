# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# (PORT and SERVER_PID are set here for the demo parts.)
# demo.bash - what the parts of the guided tour (scripts/demo/NN-*.sh) share: headings,
# explanations, commands shown and run with a time limit, background servers that are
# always stopped, and the "what to notice" list.
#
#   source "$(dirname "$0")/../lib/demo.bash"
#   part "udp_sigio" "UNP §25.2–25.3"
#   explain "Two or three sentences."
#   serve udp_sigio/sigio_echo_server -p 0        # sets PORT, SERVER_PID
#   show udp_sigio/udp_echo_client -p "$PORT" -n 1000
#   unserve                                       # SIGTERM, prints its summary
#   notice "First thing." "Second thing."

# A part answers -h with its header, and stops at an unknown option, before anything runs.
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "${BASH_SOURCE[0]}")/cli.bash" && cli_noopts "$@"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
DEMO_TMP=$(mktemp -d)
DEMO_PIDS=()
SHOW_PID="" SHOW_SED=""
# Every program this part starts carries this mark in its environment. A script the tour
# shows may start programs in sessions of their own; should one be left when the part
# ends (the script itself cut short), the mark finds it, and it is stopped by PID.
DEMO_MARK="tour-$$-$RANDOM"
export SIGIO_LABS_TOUR=$DEMO_MARK

if [ -t 1 ]; then
    B=$'\e[1m' C=$'\e[36m' R=$'\e[0m'
else
    B='' C='' R=''
fi

# running PID - true while PID runs (a zombie, exited but not yet reaped, does not count).
running() {
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# group_running PGID... - true while a process of one of these groups runs (zombies do
# not count: an orphan's waits for init to collect it).
group_running() {
    local member list
    list=$(IFS=,; echo "$*")
    for member in $(pgrep -g "$list"); do
        running "$member" && return 0
    done
    return 1
}

# reap_status PID - collect the exit status of a child that has ended. Not from the ^C
# trap: a `wait` there, while the interrupted `wait` is still pending, can block for good
# (bash 5.2); the ended children are collected by init once the tour has exited.
reap_status() {
    [ -n "${DEMO_INTERRUPTED:-}" ] && return 0
    wait "$1" 2>/dev/null
}

# reap PID [SECONDS] - wait (3 s at most) for a child of this shell to end, SIGKILL its
# process group if it has not, and collect its exit status (returned).
reap() {
    local pid=$1 deadline=$((SECONDS + ${2:-3}))
    while running "$pid"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
            break
        fi
        sleep 0.02
    done
    reap_status "$pid"
}

# stop_session [-SIGNAL] PID... - send SIGNAL (default TERM) to the sessions these PIDs
# lead (every process the tour starts runs in its own, through setsid; its process group
# has the leader's PID as number), wait until every process of those groups has ended
# (3 s at most, then SIGKILL), and reap the leaders.
stop_session() {
    local sig=TERM pid deadline=$((SECONDS + 3))
    case $1 in -*) sig=${1#-}; shift ;; esac
    [ "$#" -gt 0 ] || return 0
    for pid in "$@"; do
        kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null
        # A stopped process (kill -STOP) takes its signal only once it runs again.
        kill -CONT -- "-$pid" 2>/dev/null
    done
    while group_running "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            for pid in "$@"; do kill -KILL -- "-$pid" 2>/dev/null; done
            break
        fi
        sleep 0.02
    done
    for pid in "$@"; do reap_status "$pid"; done
}

# marked - the PIDs of running programs that carry this part's mark.
marked() {
    # (grep and cut without the mark, or they would find themselves.)
    SIGIO_LABS_TOUR='' grep -lzx "SIGIO_LABS_TOUR=$DEMO_MARK" /proc/[0-9]*/environ 2>/dev/null |
        SIGIO_LABS_TOUR='' cut -d/ -f3
    return 0
}

# stop_marked - SIGTERM whatever still carries the mark, SIGKILL it after 2 s. (No `wait`:
# these are not this shell's children, or have been collected already.)
stop_marked() {
    local left pid deadline=$((SECONDS + 2))
    left=$(marked)
    [ -n "$left" ] || return 0
    for pid in $left; do kill -TERM "$pid" 2>/dev/null; kill -CONT "$pid" 2>/dev/null; done
    while [ -n "$left" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            for pid in $left; do kill -KILL "$pid" 2>/dev/null; done
            break
        fi
        sleep 0.02
        left=$(for pid in $left; do running "$pid" && echo "$pid"; done)
    done
    return 0
}

demo_cleanup() {
    stop_session ${SHOW_PID:+"$SHOW_PID"} "${DEMO_PIDS[@]}"
    if [ -n "$SHOW_SED" ]; then
        # After ^C nothing more is shown, and the filter may still be waiting for a writer
        # that will never open the pipe: it goes at once.
        [ -n "${DEMO_INTERRUPTED:-}" ] && kill -TERM "$SHOW_SED" 2>/dev/null
        reap "$SHOW_SED" 1
    fi
    DEMO_PIDS=()
    stop_marked
    rm -rf "$DEMO_TMP"
}
trap demo_cleanup EXIT
# ^C (or SIGTERM): stop what runs now and everything started, then end as killed by that
# signal, so that demo/run (and make) stop too instead of going on with the next part.
demo_interrupted() {
    trap - EXIT INT TERM
    DEMO_INTERRUPTED=$1
    demo_cleanup
    kill "-$1" $$
}
trap 'demo_interrupted INT' INT
trap 'demo_interrupted TERM' TERM

# part NAME SOURCE - a heading for one lab.
part() {
    printf '\n%s━━ %s  (%s) ━━%s\n' "$B" "$1" "$2" "$R"
}

# explain TEXT... - a short paragraph, wrapped.
explain() {
    printf '%s\n' "$*" | fold -s -w 92
}

# show CMD... - print the command as a student would type it, run it (SHOW_TIMEOUT
# seconds at most, default 20), and indent what it prints (SHOW_SAVE=FILE also keeps it,
# unindented, in FILE). The command runs in a session
# of its own and the shell waits for it with `wait`, which a signal interrupts: ^C then
# stops it at once (demo_interrupted), instead of after it has run its course.
show() {
    local status fifo="$DEMO_TMP/show.fifo"
    printf '%s$ %s%s\n' "$C" "$*" "$R"
    [ -p "$fifo" ] || mkfifo "$fifo"
    sed -e "w ${SHOW_SAVE:-/dev/null}" -e 's/^/    /' <"$fifo" &
    SHOW_SED=$!
    TMPDIR=$DEMO_TMP setsid timeout -k 2 "${SHOW_TIMEOUT:-20}" "$@" >"$fifo" 2>&1 </dev/null 3>&- &
    SHOW_PID=$!
    wait "$SHOW_PID"
    status=$?
    # Whatever it left in its session goes too; then sed reads to the end and stops.
    stop_session "$SHOW_PID"
    SHOW_PID=""
    reap "$SHOW_SED" 3
    SHOW_SED=""
    return "$status"
}

# serve CMD... - start a server in the background, wait for "listening on", set PORT.
serve() {
    local out="$DEMO_TMP/server.out" line deadline=$((SECONDS + 10))
    printf '%s$ %s &%s\n' "$C" "$*" "$R"
    setsid "$@" >"$out" 2>&1 </dev/null 3>&- &
    SERVER_PID=$!
    DEMO_PIDS+=("$SERVER_PID")
    until line=$(grep -m1 '^listening on' "$out"); do
        if ! running "$SERVER_PID" || [ "$SECONDS" -ge "$deadline" ]; then
            echo "the server did not start:" >&2
            cat "$out" >&2
            exit 1
        fi
        sleep 0.02
    done
    PORT=${line##*:}
    printf '    %s\n' "$line"
}

# unserve [SIGNAL] - stop the last server (SIGTERM by default) and show what it printed
# after its "listening on" line: its summary.
unserve() {
    printf '%s$ kill -%s %s%s\n' "$C" "${1:-TERM}" "$SERVER_PID" "$R"
    stop_session "-${1:-TERM}" "$SERVER_PID"
    local pid kept=()
    for pid in "${DEMO_PIDS[@]}"; do
        [ "$pid" = "$SERVER_PID" ] || kept+=("$pid")
    done
    DEMO_PIDS=("${kept[@]}")
    sed -n '2,$p' "$DEMO_TMP/server.out" | sed 's/^/    /'
}

# notice POINT... - the "what to notice" list.
notice() {
    printf '%sWhat to notice:%s\n' "$B" "$R"
    local point
    for point in "$@"; do
        printf '%s\n' "$point" | fold -s -w 88 | sed '1s/^/  • /; 2,$s/^/    /'
    done
}
