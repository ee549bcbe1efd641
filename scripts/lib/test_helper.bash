# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034,SC2154
# (SERVER_PORT, EXIT_STATUS and the like are set here for the tests; $status is bats'.)
# test_helper.bash - what every lab's bats tests share. Load it first in a .bats file:
#
#   load '../lib/test_helper'
#   setup()    { helper_setup; }
#   teardown() { helper_teardown; }
#
# It gives every test a time limit, finds the built programs, starts servers in the
# background and reads the port they print, stops them by PID, and fails a test whose
# server left processes behind. See scripts/tests/udp_sigio.bats for use.

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
export ROOT

# Every test has a time limit (bats kills a test that runs longer). A file may set a
# smaller one before loading this helper; run-tests may set a default for all.
: "${BATS_TEST_TIMEOUT:=60}"
export BATS_TEST_TIMEOUT

# bats-support and bats-assert, wherever the system put them (install-deps installs them).
helper_load_lib() {
    local dir
    local -a dirs
    IFS=: read -ra dirs <<<"${BATS_LIB_PATH:-}"
    for dir in "${dirs[@]}" /usr/lib/bats /usr/local/lib/bats /usr/share/bats; do
        if [ -n "$dir" ] && [ -f "$dir/$1/load.bash" ]; then
            load "$dir/$1/load.bash"
            return 0
        fi
    done
    echo "test_helper: $1 is not installed; run scripts/install-deps" >&2
    return 1
}
helper_load_lib bats-support
helper_load_lib bats-assert

# PIDs started by start_server in this test; each leads its own process group.
STARTED_PIDS=()

helper_setup() {
    STARTED_PIDS=()
}

# bin LAB PROG - path of a built program; fails the test if it has not been built.
bin() {
    local path="$ROOT/$1/$2"
    if [ ! -x "$path" ]; then
        echo "$path is not built: run make" >&2
        return 1
    fi
    printf '%s\n' "$path"
}

# run_bounded SECONDS CMD... - bats' run, but the command is killed after SECONDS
# (timeout's status 124 then tells the test it hung). The command runs in its own session
# and without bats' fd 3: a program that signals its process group (owner -getpgrp(),
# kill(0, ...)) reaches neither timeout nor bats, and nothing it leaves behind holds bats'
# pipe open.
run_bounded() {
    local secs=$1
    shift
    run timeout -k 2 "$secs" setsid "$@" 3>&-
}

# start_server CMD... - start a server in the background, in its own process group, and
# wait (at most START_TIMEOUT seconds, default 10) for its "listening on ADDR:PORT" line.
# Sets SERVER_PID, SERVER_ADDR, SERVER_PORT, SERVER_OUT (its stdout) and SERVER_ERR.
# stdin is /dev/null and fd 3 (bats' own) is closed, so bats never waits on the server.
start_server() {
    local n=${#STARTED_PIDS[@]}
    SERVER_OUT="$BATS_TEST_TMPDIR/server$n.out"
    SERVER_ERR="$BATS_TEST_TMPDIR/server$n.err"
    # setsid runs the program itself (this shell's child is no group leader, so setsid
    # does not fork): $! is the server's PID, and its PGID is the same number.
    setsid "$@" >"$SERVER_OUT" 2>"$SERVER_ERR" </dev/null 3>&- &
    SERVER_PID=$!
    STARTED_PIDS+=("$SERVER_PID")

    local deadline=$((SECONDS + ${START_TIMEOUT:-10})) line
    while :; do
        line=$(grep -m1 '^listening on ' "$SERVER_OUT" 2>/dev/null || true)
        [ -n "$line" ] && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server exited before listening: $*" >&2
            cat "$SERVER_ERR" >&2
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "server did not print 'listening on' within ${START_TIMEOUT:-10}s: $*" >&2
            return 1
        fi
        sleep 0.02
    done
    SERVER_PORT=${line##*:}
    SERVER_ADDR=${line#listening on }
    SERVER_ADDR=${SERVER_ADDR%:*}
    SERVER_ADDR=${SERVER_ADDR#[}
    SERVER_ADDR=${SERVER_ADDR%]}
}

# wait_for_line FILE REGEX [SECONDS] - wait until a line of FILE matches (grep -E).
wait_for_line() {
    local file=$1 regex=$2 deadline=$((SECONDS + ${3:-10}))
    until grep -qE -- "$regex" "$file" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "no line matching '$regex' in $file within ${3:-10}s" >&2
            return 1
        fi
        sleep 0.02
    done
}

# wait_pid_exit PID SECONDS - wait for a process of ours to end; sets EXIT_STATUS.
# Returns 1 if it is still running after SECONDS.
wait_pid_exit() {
    local pid=$1 deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        # A zombie (exited, not yet waited for) still answers kill -0: wait reaps it below.
        [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && break
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.02
    done
    EXIT_STATUS=0
    wait "$pid" 2>/dev/null || EXIT_STATUS=$?
    return 0
}

# stop_server [PID] [SIGNAL] - send SIGNAL (default TERM) and wait up to 10 s for the
# server to end. Sets EXIT_STATUS. Fails if it does not end.
stop_server() {
    local pid=${1:-$SERVER_PID} sig=${2:-TERM}
    kill "-$sig" "$pid" 2>/dev/null || true
    if ! wait_pid_exit "$pid" 10; then
        echo "server $pid did not exit within 10 s of SIG$sig" >&2
        kill -KILL "$pid" 2>/dev/null || true
        return 1
    fi
}

# group_members PGID - PIDs still in the process group (the server and anything it forked).
group_members() {
    pgrep -g "$1" 2>/dev/null || true
}

# helper_teardown - stop every server this test started, by PID, then make sure nothing of
# theirs is left: a server that leaves children behind fails the test.
helper_teardown() {
    local pid left leftovers=""
    for pid in "${STARTED_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait_pid_exit "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
        fi
        # Children get a moment to finish after their parent went.
        local deadline=$((SECONDS + 3))
        left=$(group_members "$pid")
        while [ -n "$left" ] && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 0.05
            left=$(group_members "$pid")
        done
        if [ -n "$left" ]; then
            leftovers+=" $(echo "$left" | tr '\n' ' ')"
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
    done
    STARTED_PIDS=()
    if [ -n "$leftovers" ]; then
        echo "processes left behind by the server(s):$leftovers" >&2
        return 1
    fi
}

# hup_report N - SIGHUP the last server started and wait until its Nth histogram report
# has ended (its "signals_total=" line). sigio_echo_server and listen_server print the same
# histogram on SIGHUP.
hup_report() {
    local deadline=$((SECONDS + 10))
    kill -HUP "$SERVER_PID"
    until [ "$(grep -c '^signals_total=' "$SERVER_OUT")" -ge "$1" ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "no histogram report $1 within 10 s of SIGHUP"
        sleep 0.02
    done
}

# kv KEY [TEXT] - the value of KEY=VALUE in TEXT (default: $output), last one if several.
kv() {
    local key=$1 text=${2-$output}
    printf '%s\n' "$text" | grep -oE "(^|[[:space:]])$key=[^[:space:]]*" | tail -n 1 |
        sed -E "s/^[[:space:]]*$key=//"
}

# skip_if_unsupported - after `run`: a program that exited 4 said "not supported here".
skip_if_unsupported() {
    if [ "$status" -eq 4 ]; then
        skip "${output:-not supported here}"
    fi
}

# require_cmd CMD - skip the test when an optional tool is missing.
require_cmd() {
    command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed (scripts/install-deps)"
}

# sanitized_build - true when the programs were built with SANITIZE=1.
sanitized_build() {
    [ "${SANITIZE:-0}" = 1 ] || grep -qs -- '-fsanitize' "$ROOT"/*/.buildflags
}

# A sanitizer's report ends the program with a status of its own, never 1 (the programs'
# "run-time failure", which many tests expect): ASan and LeakSanitizer 86, UBSan 87, and
# UBSan stops at its first report. run-tests sets the same; this covers a file run alone.
SAN_ASAN_EXIT=86
SAN_UBSAN_EXIT=87
if sanitized_build; then
    case "${ASAN_OPTIONS:-}" in *exitcode=*) ;; *) export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=0:exitcode=$SAN_ASAN_EXIT" ;; esac
    case "${UBSAN_OPTIONS:-}" in *exitcode=*) ;; *) export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:exitcode=$SAN_UBSAN_EXIT" ;; esac
fi
