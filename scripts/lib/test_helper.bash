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

# labs - the lab folders of this checkout (each has the lab kit's labutil.mk); progs LAB -
# that lab's programs, as its Makefile lists them.
labs() {
    local d
    for d in "$ROOT"/*/labutil.mk; do d=${d%/labutil.mk}; echo "${d##*/}"; done
}
progs() {
    make -s --no-print-directory -C "$ROOT/$1" progs
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

# hup_report N - SIGHUP the last server started and wait until its Nth report has ended.
# Every server answers SIGHUP with its counters so far on one line that starts "sighup "
# (sigio_echo_server and listen_server print their histogram, ending "signals_total=",
# just before it) and carries on.
hup_report() {
    local deadline=$((SECONDS + 10))
    kill -HUP "$SERVER_PID"
    until [ "$(grep -c '^sighup ' "$SERVER_OUT")" -ge "$1" ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "no report $1 within 10 s of SIGHUP"
        sleep 0.02
    done
}

# start_flood PORT [ADDR] - a client that floods a UDP server: one datagram every 200 µs
# whatever comes back (udp_echo_client's open loop), bounded (at most 100 000 datagrams,
# 20 s). In its own session, without fd 3; teardown kills it by PID. Sets FLOOD_PID.
start_flood() {
    setsid "$ROOT/udp_sigio/udp_echo_client" -a "${2:-127.0.0.1}" -p "$1" -n 100000 -i 200 \
        -t 20 >"$BATS_TEST_TMPDIR/flood.out" 2>&1 </dev/null 3>&- &
    FLOOD_PID=$!
    STARTED_PIDS+=("$FLOOD_PID")
}

# term_and_time [PID] - SIGTERM a server started by start_server and wait (at most 10 s)
# for it to end; STOP_MS gets the milliseconds from the signal to the moment `wait`
# returned, EXIT_STATUS its status. No polling: bash's own clock and `wait`, with a
# watchdog (its own session, killed by PID) that ends the server with SIGKILL after 10 s.
term_and_time() {
    local pid=${1:-$SERVER_PID} t0 t1 watchdog
    setsid bash -c "sleep 10; kill -KILL $pid" </dev/null >/dev/null 2>&1 3>&- &
    watchdog=$!
    t0=${EPOCHREALTIME/./}
    kill -TERM "$pid"
    EXIT_STATUS=0
    wait "$pid" 2>/dev/null || EXIT_STATUS=$?
    t1=${EPOCHREALTIME/./}
    kill -TERM "$watchdog" 2>/dev/null || true
    wait "$watchdog" 2>/dev/null || true
    STOP_MS=$(((t1 - t0) / 1000))
    [ "$EXIT_STATUS" -ne 137 ] || fail "server $pid still running 10 s after SIGTERM"
}

# STOP_BOUND_MS: the programs promise to end within 1 s of SIGTERM. What term_and_time
# measures also holds the time a loaded 2-core machine makes the server (to take the
# signal and exit) and this shell (to see it) wait for a CPU; 500 ms covers that. A server that
# finishes its queued work first (what this guards against) takes 8 s to over an hour here.
STOP_BOUND_MS=1500

# cpu_ticks PID - the CPU time PID has used, in clock ticks (user + system, /proc/PID/stat).
cpu_ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# stop_while_flooded SERVER ARGS... - start the server with ARGS (a large -w), flood it,
# wait until it is busy working (10 clock ticks of CPU: it burns CPU only in its -w work),
# SIGTERM it, and check it ends in time, with 0 and its summary as the last line.
stop_while_flooded() {
    start_server "$@" -p 0
    start_flood "$SERVER_PORT"
    local deadline=$((SECONDS + 20))
    until [ "$(cpu_ticks "$SERVER_PID")" -ge 10 ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "$(basename "$1") did not get busy within 20 s"
        sleep 0.02
    done
    term_and_time "$SERVER_PID"
    echo "# $(basename "$1") ${*:2}: ended $STOP_MS ms after SIGTERM" >&3
    [ "$STOP_MS" -le "$STOP_BOUND_MS" ] ||
        fail "$(basename "$1") ${*:2} took $STOP_MS ms to end after SIGTERM"
    assert_equal "$EXIT_STATUS" 0
    run tail -n 1 "$SERVER_OUT"
    assert_output --regexp '^received=[0-9]+ echoed=[0-9]+ '
}

# hup_keeps_serving SERVER ARGS... - the server answers SIGHUP with its counters so far and
# carries on: 100 datagrams, SIGHUP, a storm of 50 more SIGHUPs while a client runs, 100
# more datagrams, SIGHUP; every datagram echoed, the server still there, then its summary.
hup_keeps_serving() {
    start_server "$@" -p 0
    run_bounded 20 "$ROOT/udp_sigio/udp_echo_client" -p "$SERVER_PORT" -n 100 -W 8
    assert_success
    hup_report 1
    run grep '^sighup ' "$SERVER_OUT"
    assert_equal "$(kv received)" 100
    assert_equal "$(kv echoed)" 100
    # A storm: SIGHUPs while datagrams come and go. The client runs in the background, its
    # own session, bounded by -t.
    setsid "$ROOT/udp_sigio/udp_echo_client" -p "$SERVER_PORT" -n 2000 -W 8 -t 30 >"$BATS_TEST_TMPDIR/storm.out" \
        2>&1 </dev/null 3>&- &
    local storm=$! i
    STARTED_PIDS+=("$storm")
    for i in $(seq 50); do kill -HUP "$SERVER_PID"; done
    wait_pid_exit "$storm" 40 || fail "the client of the SIGHUP storm did not end"
    assert_equal "$EXIT_STATUS" 0
    kill -0 "$SERVER_PID" || fail "$(basename "$1") did not survive 50 SIGHUPs"
    run_bounded 20 "$ROOT/udp_sigio/udp_echo_client" -p "$SERVER_PORT" -n 100 -W 8
    assert_success
    assert_equal "$(kv lost)" 0
    local reports
    reports=$(grep -c '^sighup ' "$SERVER_OUT")
    hup_report $((reports + 1))
    run grep '^sighup ' "$SERVER_OUT"
    assert_equal "$(kv received)" 2200
    assert_equal "$(kv echoed)" 2200
    stop_server "$SERVER_PID"
    assert_equal "$EXIT_STATUS" 0
    run tail -n 1 "$SERVER_OUT"
    assert_equal "$(kv received)" 2200
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
# Administration tools (ip, tc) live in /usr/sbin or /sbin, which an ordinary user's PATH
# often lacks: found there, that folder joins PATH, and the test runs (and, if it cannot,
# skips with the real reason, such as the privilege it lacks).
require_cmd() {
    local dir
    command -v "$1" >/dev/null 2>&1 && return 0
    for dir in /usr/sbin /sbin; do
        if [ -x "$dir/$1" ]; then
            PATH=$PATH:$dir
            return 0
        fi
    done
    skip "$1 is not installed (scripts/install-deps)"
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

# assert_answers_hidden - $output is the grade of udp-async-error with two predictions made
# wrong (connected_recv1=EAGAIN, siginfo_si_code=POLL_IN): it fails and counts them, and
# names neither the keys nor the kernel's values (ECONNREFUSED, POLL_ERR).
assert_answers_hidden() {
    assert_line --regexp '^FAIL  udp-async-error  0/5'
    assert_line --partial 'FAIL: 2 of 8 predictions do not hold on this kernel'
    refute_output --partial ECONNREFUSED
    refute_output --partial POLL_ERR
    refute_output --partial connected_recv1
    refute_output --partial siginfo_si_code
}
