#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# tcp_sigio_pitfalls lab: UNP §25.2 "SIGIO with TCP Sockets" (TCPv2 p.439). Claims in
# chapters/claims.md; what Linux does: chapters/tcp_sigio_pitfalls.md, "Linux today".

load '../lib/test_helper'

# The walk is made once for the file (it takes about half a second) and each condition's
# test reads its row: tsv for the counts, signals for each signal's si_code, si_band, si_fd.
setup_file() {
    local events="$ROOT/tcp_sigio_pitfalls/tcp_events"
    export TSV="$BATS_FILE_TMPDIR/walk.tsv" SIGNALS="$BATS_FILE_TMPDIR/walk.signals"
    timeout -k 2 30 "$events" --format tsv >"$TSV" 2>"$TSV.err" || {
        echo "tcp_events --format tsv failed:" >&2
        cat "$TSV.err" >&2
        return 1
    }
    timeout -k 2 30 "$events" --format signals >"$SIGNALS" 2>"$SIGNALS.err" || {
        echo "tcp_events --format signals failed:" >&2
        cat "$SIGNALS.err" >&2
        return 1
    }
}

setup() {
    helper_setup
    LAB="$ROOT/tcp_sigio_pitfalls"
}
teardown() {
    # The stub folder of the unprivileged-run test (outside the test's folder, which
    # uid 65534 cannot enter).
    [ -z "${NETNS_STUB:-}" ] || rm -rf "$NETNS_STUB"
    helper_teardown
}

# col CONDITION NAME - one column of the condition's tsv row (NAME from the header line).
col() {
    awk -F'\t' -v c="$1" -v name="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) k = i; next }
        $1 == c { print $k; found = 1 }
        END { if (!k || !found) exit 1 }' "$TSV"
}

# codes CONDITION - the rt signals of the step, one per line (nothing when none).
codes() {
    col "$1" rt_codes | tr ',' '\n' | grep -v '^-$' || true
}

# count CONDITION CODE - how many of the step's rt signals were CODE.
count() {
    codes "$1" | grep -cx "$2" || true
}

# show CONDITION - the row, for the failure message.
show() {
    echo "row: $(grep -P "^$1\t" "$TSV")" >&2
}

# --- the first read ---------------------------------------------------------------------

@test "first_siginfo: F_SETSIG gives POLL_IN for data and POLL_OUT for room, naming the socket; --plain gives SI_KERNEL for both" {
    local fd
    run_bounded 20 "$LAB/first_siginfo"
    assert_success
    fd=$(kv socket_fd)
    [ -n "$fd" ] || fail "no socket_fd= line"
    assert_line "step=data signal=SIGRTMIN si_code=POLL_IN si_fd=$fd"
    assert_line "step=space signal=SIGRTMIN si_code=POLL_OUT si_fd=$fd"
    assert_equal "$(grep -c '^step=' <<<"$output")" 2
    run_bounded 20 "$LAB/first_siginfo" --plain
    assert_success
    assert_line "step=data signal=SIGIO si_code=SI_KERNEL si_fd=0"
    assert_line "step=space signal=SIGIO si_code=SI_KERNEL si_fd=0"
    assert_equal "$(grep -c '^step=' <<<"$output")" 2
}

# --- [TCP-7-CONDITIONS] one test per condition -----------------------------------------

@test "[TCP-7-CONDITIONS] listener_connection: a completed handshake gives the listener exactly one POLL_IN" {
    show listener_connection
    assert_equal "$(count listener_connection POLL_IN)" 1
    assert_equal "$(col listener_connection rt_signals)" 1
}

@test "[TCP-7-CONDITIONS] client_connect: the end of a non-blocking connect gives exactly one POLL_OUT" {
    show client_connect
    assert_equal "$(col client_connect rt_codes)" POLL_OUT
}

@test "[TCP-7-CONDITIONS] data_arrived: data gives at least one POLL_IN and nothing else" {
    show data_arrived
    [ "$(count data_arrived POLL_IN)" -ge 1 ] || fail "no POLL_IN"
    assert_equal "$(codes data_arrived | grep -cvx POLL_IN)" 0
}

@test "[TCP-7-CONDITIONS] buffer_space_freed: exactly one POLL_OUT after EAGAIN, none when the buffer never filled" {
    show buffer_space_freed
    show data_acked
    assert_equal "$(col buffer_space_freed rt_codes)" POLL_OUT
    # data_acked: the same "output buffer has room" without a write that hit EAGAIN first
    assert_equal "$(col data_acked rt_signals)" 0
    assert_equal "$(col data_acked plain_signals)" 0
}

@test "[TCP-7-CONDITIONS] peer_half_close: the peer's FIN gives POLL_IN (twice on Linux) and no POLL_HUP" {
    show peer_half_close
    # Two: one from the FIN's place in the receive queue (data ready), one from tcp_fin().
    assert_equal "$(count peer_half_close POLL_IN)" 2
    assert_equal "$(count peer_half_close POLL_HUP)" 0
}

@test "[TCP-7-CONDITIONS] fin_after_own_shutdown: the peer's FIN after our SHUT_WR includes POLL_HUP" {
    show fin_after_own_shutdown
    [ "$(count fin_after_own_shutdown POLL_HUP)" -ge 1 ] || fail "no POLL_HUP"
    # POLL_HUP's band always has POLLERR as well (the kernel's band_table)
    run grep -P '^rt\t\d+\tfin_after_own_shutdown\t.*\tPOLL_HUP\tPOLLERR\|POLLHUP\t' "$SIGNALS"
    assert_success
}

@test "[TCP-7-CONDITIONS] local_shutdown: shutting down our side raises nothing (the book: disconnect initiated)" {
    show local_shutdown
    assert_equal "$(col local_shutdown rt_signals)" 0
    assert_equal "$(col local_shutdown plain_signals)" 0
}

@test "[TCP-7-CONDITIONS] own_fin_acked: the ACK of our FIN raises nothing (the book: disconnect completed)" {
    show own_fin_acked
    assert_equal "$(col own_fin_acked rt_signals)" 0
    assert_equal "$(col own_fin_acked plain_signals)" 0
}

@test "[TCP-7-CONDITIONS] rst_error: the peer's RST gives one POLL_ERR whose band is POLLERR alone" {
    show rst_error
    assert_equal "$(col rst_error rt_codes)" POLL_ERR
    run grep -P '^rt\t\d+\trst_error\t.*\tPOLL_ERR\tPOLLERR\t' "$SIGNALS"
    assert_success
    # the signal says "error"; which one, the next recv() says
    run_bounded 30 "$LAB/tcp_events" --mode rt
    assert_success
    assert_line "after rst_error, recv() on our socket said ECONNRESET"
}

@test "tcp_events' SIGIO and SIGURG handlers block each other while one records (sa_mask, read back)" {
    run_bounded 30 "$LAB/tcp_events" --mode plain
    assert_success
    assert_line "handler masks: SIGIO's blocks SIGURG=1, SIGURG's blocks SIGIO=1"
}

@test "[TCP-7-CONDITIONS] urgent_data: MSG_OOB gives SIGURG and, with F_SETSIG, POLL_PRI" {
    show urgent_data
    assert_equal "$(count urgent_data SIGURG)" 1
    assert_equal "$(count urgent_data POLL_PRI)" 1
    # plain mode: SIGURG comes too (it needs only the owner), beside one SIGIO
    run grep -cP '^plain\t\d+\turgent_data\t[^\t]*\tSIGURG\t' "$SIGNALS"
    assert_output 1
}

@test "[TCP-7-CONDITIONS] tcp_events prints the same table in ten consecutive runs" {
    local i first
    for i in 1 2 3 4 5 6 7 8 9 10; do
        run_bounded 30 "$LAB/tcp_events"
        assert_success
        if [ "$i" = 1 ]; then
            first=$output
            assert_line --partial "listener_connection"
        else
            [ "$output" = "$first" ] || fail "run $i differs from run 1:
$(diff <(echo "$first") <(echo "$output"))"
        fi
    done
}

# --- [TCP-INDISTINGUISHABLE] ---------------------------------------------------------------

@test "[TCP-INDISTINGUISHABLE] plain SIGIO: every signal of every step has si_code SI_KERNEL, no fd, no band" {
    # every step that signals at all is in the plain list
    run awk -F'\t' '$1 == "plain"' "$SIGNALS"
    [ "${#lines[@]}" -ge 9 ] || fail "only ${#lines[@]} plain signals: $output"
    run awk -F'\t' '$1 == "plain" && ($6 != "SI_KERNEL" || $7 != "0" || $8 != "0")' "$SIGNALS"
    assert_output ""
}

@test "[TCP-INDISTINGUISHABLE] data arriving and data acknowledged: one plain SIGIO, POLL_IN and POLL_OUT with F_SETSIG" {
    show data_and_ack
    assert_equal "$(col data_and_ack plain_signals)" 1
    assert_equal "$(count data_and_ack POLL_IN)" 1
    assert_equal "$(count data_and_ack POLL_OUT)" 1
    # and the realtime signals name the socket: si_fd is the same descriptor for both
    run awk -F'\t' '$1 == "rt" && $3 == "data_and_ack" { print $8 }' "$SIGNALS"
    assert_equal "${#lines[@]}" 2
    assert_equal "${lines[0]}" "${lines[1]}"
    [ "${lines[0]}" -gt 2 ] || fail "si_fd ${lines[0]} is not a socket of ours"
}

@test "[TCP-INDISTINGUISHABLE] on loopback the answer carries the ACK: POLL_IN and POLL_OUT are both queued before the peer reads a byte of ours" {
    run_bounded 30 "$LAB/tcp_events" --mode rt
    assert_success
    # Taken just before the peer's first read (LAB: ack-rides-answer). Across the delayed
    # namespaces the same line says POLL_IN=0 POLL_OUT=0: there the room comes later.
    assert_line "data_and_ack, taken before the peer read a byte of ours: POLL_IN=1 POLL_OUT=1"
}

@test "[TCP-INDISTINGUISHABLE] SIGIO let in during each step (--mode live): data_and_ack gives one or two handler calls on loopback, each with SI_KERNEL, no fd, no band" {
    run_bounded 30 "$LAB/tcp_events" --mode live --format signals
    assert_success
    local calls
    calls=$(printf '%s\n' "$output" | awk -F'\t' '$1 == "live" && $3 == "data_and_ack"' | wc -l)
    # The answer segment carries the ACK that frees our buffer: both events come from one
    # packet, microseconds apart, and usually merge into one call (two if the handler ran
    # in between, which a loaded machine can make happen).
    [ "$calls" -ge 1 ] && [ "$calls" -le 2 ] || fail "data_and_ack: $calls handler calls"
    # Whatever the count, no call says which event it was.
    run awk -F'\t' '$1 == "live" && $5 == "SIGIO" && ($6 != "SI_KERNEL" || $7 != "0" || $8 != "0")' <<<"$output"
    assert_output ""
}

# --- [TCP-NONBLOCK] ----------------------------------------------------------------------

@test "[TCP-NONBLOCK] blocking_trap --blocking: the read after a POLL_OUT signal blocks until its timer (blocked=1)" {
    run_bounded 10 "$LAB/blocking_trap" --blocking -t 300
    assert_success
    local space
    space=$(printf '%s\n' "$output" | grep '^step=space ')
    assert_equal "$(kv signals "$space")" 1
    assert_equal "$(kv read "$space")" EINTR
    assert_equal "$(kv blocked "$space")" 1
    # ended by the 300 ms timer, not by the 1.3 s backstop
    [ "$(kv longest_ms "$space")" -ge 300 ] && [ "$(kv longest_ms "$space")" -lt 1300 ] ||
        fail "the blocked read took $(kv longest_ms "$space") ms"
    assert_equal "$(kv blocked)" 1
}

@test "[TCP-NONBLOCK] blocking_trap (non-blocking): the same read returns EAGAIN at once (blocked=0)" {
    run_bounded 10 "$LAB/blocking_trap" -t 300
    assert_success
    local space
    space=$(printf '%s\n' "$output" | grep '^step=space ')
    assert_equal "$(kv signals "$space")" 1
    assert_equal "$(kv read "$space")" EAGAIN
    assert_equal "$(kv blocked "$space")" 0
    assert_equal "$(kv blocked)" 0
}

@test "[TCP-NONBLOCK] --drain on a blocking socket blocks even after a data signal; non-blocking does not" {
    run_bounded 10 "$LAB/blocking_trap" --blocking --drain -t 200
    assert_success
    assert_equal "$(kv blocked "$(printf '%s\n' "$output" | grep '^step=data ')")" 1
    run_bounded 10 "$LAB/blocking_trap" --drain -t 200
    assert_success
    assert_equal "$(kv blocked "$(printf '%s\n' "$output" | grep '^step=data ')")" 0
    assert_equal "$(kv bytes "$(printf '%s\n' "$output" | grep '^step=data ')")" 5
    # The sentence says what happened: data read, then EAGAIN (not "the read said EAGAIN").
    assert_line "  The handler read 5 bytes; its last read said EAGAIN and the program carried on."
}

@test "[TCP-NONBLOCK] no POLL_IN while a thread is blocked in recv on the socket" {
    run_bounded 10 "$LAB/blocking_trap"
    assert_success
    # without a blocked reader the same 5 bytes raise one SIGIO ...
    assert_equal "$(kv signals "$(printf '%s\n' "$output" | grep '^step=data ')")" 1
    # ... with one, none, and the reader got the bytes
    local waitdata
    waitdata=$(printf '%s\n' "$output" | grep '^step=waitdata ')
    assert_equal "$(kv signals "$waitdata")" 0
    assert_equal "$(kv thread_bytes "$waitdata")" 5
}

# --- across two network namespaces with a delay -----------------------------------------

# netns_names TEXT - the namespace names the script announced in its first line.
netns_names() {
    printf '%s\n' "$1" | sed -n 's/^# tcp_events across network namespaces \([^ ]*\) .* and \([^ ]*\) .*/\1 \2/p'
}

@test "[TCP-7-CONDITIONS] across two namespaces with a delay, data arriving and the freeing ACK are >= 15 ms apart" {
    require_cmd ip
    run_bounded 60 "$ROOT/scripts/tcp_sigio_pitfalls-netns.sh"
    skip_if_unsupported
    assert_success
    local t_in t_out gap ns
    t_in=$(printf '%s\n' "$output" | awk -F'\t' '$1 == "rt" && $3 == "data_and_ack" && $6 == "POLL_IN" { print $4 }')
    t_out=$(printf '%s\n' "$output" | awk -F'\t' '$1 == "rt" && $3 == "data_and_ack" && $6 == "POLL_OUT" { print $4 }')
    [ -n "$t_in" ] && [ -n "$t_out" ] || fail "no POLL_IN or no POLL_OUT in step data_and_ack"
    gap=$(awk -v a="$t_in" -v b="$t_out" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "%d", d }')
    echo "POLL_IN at $t_in ms, POLL_OUT at $t_out ms: $gap ms apart" >&3
    [ "$gap" -ge 15 ] || fail "POLL_IN at $t_in ms and POLL_OUT at $t_out ms are only $gap ms apart"
    # and nothing is left behind
    for ns in $(netns_names "$output"); do
        ! ip netns list | grep -qw "$ns" || fail "namespace $ns left behind"
    done
}

@test "[TCP-INDISTINGUISHABLE] across two namespaces with a delay, SIGIO let in: data_and_ack is two handler calls >= 15 ms apart, both SI_KERNEL with no fd and no band" {
    require_cmd ip
    run_bounded 60 "$ROOT/scripts/tcp_sigio_pitfalls-netns.sh" -- --mode live --format signals
    skip_if_unsupported
    assert_success
    local times gap ns
    times=$(printf '%s\n' "$output" | awk -F'\t' '$1 == "live" && $3 == "data_and_ack" && $5 == "SIGIO" { print $4 }')
    echo "data_and_ack handler calls at (ms): ${times//$'\n'/ }" >&3
    [ "$(wc -w <<<"$times")" -eq 2 ] || fail "data_and_ack: handler calls at '$times' ms, expected two"
    gap=$(awk '{ t[NR] = $1 } END { d = t[2] - t[1]; if (d < 0) d = -d; printf "%d", d }' <<<"$times")
    [ "$gap" -ge 15 ] || fail "the two handler calls are only $gap ms apart"
    run awk -F'\t' '$1 == "live" && $3 == "data_and_ack" && ($6 != "SI_KERNEL" || $7 != "0" || $8 != "0")' <<<"$output"
    assert_output ""
    for ns in $(netns_names "$output"); do
        ! ip netns list | grep -qw "$ns" || fail "namespace $ns left behind"
    done
}

@test "the namespace script removes its namespaces when stopped with SIGTERM in the middle" {
    require_cmd ip
    local out="$BATS_TEST_TMPDIR/netns.out" pid ns deadline=$((SECONDS + 20))
    # -q 300: a longer walk (several seconds), so that SIGTERM finds tcp_events running
    setsid "$ROOT/scripts/tcp_sigio_pitfalls-netns.sh" -- --mode rt -q 300 >"$out" 2>&1 </dev/null 3>&- &
    pid=$!
    until grep -q '^# delay' "$out" 2>/dev/null; do
        if wait_pid_exit "$pid" 0; then
            [ "$EXIT_STATUS" -eq 4 ] && skip "$(cat "$out")"
            fail "the script ended (status $EXIT_STATUS) before it set anything up: $(cat "$out")"
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "no '# delay' line within 20 s"
        sleep 0.02
    done
    output=$(cat "$out")
    kill -TERM "$pid"
    wait_pid_exit "$pid" 10 || fail "the script did not end within 10 s of SIGTERM"
    assert_equal "$EXIT_STATUS" 143
    for ns in $(netns_names "$output"); do
        ! ip netns list | grep -qw "$ns" || fail "namespace $ns left behind"
        ! pgrep -f "/run/netns/$ns" >/dev/null || fail "tcp_events in $ns still running"
    done
}

@test "as an ordinary user whose PATH lacks /usr/sbin, the namespace script runs in a user namespace, or skips saying that ip netns add needs root; never that ip or tc is missing" {
    [ "$(id -u)" -eq 0 ] || skip "needs root: only root can run the script as another user (uid 65534) here"
    command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
    local -a as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    "${as_nobody[@]}" test -x "$ROOT/scripts/tcp_sigio_pitfalls-netns.sh" ||
        skip "uid 65534 cannot reach this checkout ($ROOT)"
    # Where user namespaces can be made: the whole walk runs in one of its own.
    run_bounded 60 "${as_nobody[@]}" env PATH=/usr/bin:/bin "$ROOT/scripts/tcp_sigio_pitfalls-netns.sh"
    refute_output --partial "is not installed"
    if [ "$status" -eq 4 ]; then
        assert_output --partial "ip netns add needs root"
    else
        assert_success
        assert_line --regexp $'^rt\t1\tlistener_connection\t'
    fi
    # Where they cannot (an unshare that is refused, as on a system that forbids them): the
    # reason is the privilege, not a tool.
    NETNS_STUB=$(mktemp -d /tmp/netns-stub.XXXXXX)
    chmod 755 "$NETNS_STUB"
    printf '%s\n' '#!/bin/sh' 'echo "unshare: unshare failed: Operation not permitted" >&2' 'exit 1' >"$NETNS_STUB/unshare"
    chmod 755 "$NETNS_STUB/unshare"
    run_bounded 30 "${as_nobody[@]}" env PATH="$NETNS_STUB:/usr/bin:/bin" "$ROOT/scripts/tcp_sigio_pitfalls-netns.sh"
    assert_failure 4
    assert_output --partial "skipped: ip netns add needs root, and no user namespace can stand in here"
    refute_output --partial "is not installed"
}

# --- command line -------------------------------------------------------------------------

@test "bad options are usage errors (exit 2) that name the option" {
    run_bounded 5 "$LAB/tcp_events" -q 0
    assert_failure 2
    assert_line --index 0 "tcp_events: -q: 0 is out of range (1 to 1000)"
    run_bounded 5 "$LAB/tcp_events" --format xml
    assert_failure 2
    assert_line --index 0 --partial "--format: 'xml'"
    run_bounded 5 "$LAB/tcp_events" --peer-netns /nonexistent
    assert_failure 1
    assert_output --partial "open(/nonexistent)"
    run_bounded 5 "$LAB/blocking_trap" -t 5
    assert_failure 2
    assert_line --index 0 "blocking_trap: -t: 5 is out of range (10 to 10000)"
    run_bounded 5 "$ROOT/scripts/tcp_sigio_pitfalls-netns.sh" --shaper none
    assert_failure 2
}

@test "tcp_events and blocking_trap run clean under valgrind" {
    sanitized_build && skip "sanitized build: valgrind cannot run it"
    require_cmd valgrind
    run_bounded 60 valgrind -q --error-exitcode=99 --leak-check=full "$LAB/tcp_events" --format tsv
    assert_success
    run_bounded 60 valgrind -q --error-exitcode=99 --leak-check=full "$LAB/blocking_trap" -t 100
    assert_success
}
