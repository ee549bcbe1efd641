#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# tcp_sigio_listen lab: UNP §25.2, SIGIO on a listening TCP socket. Claims in chapters/claims.md.

load '../lib/test_helper'

setup() {
    helper_setup
    LAB="$ROOT/tcp_sigio_listen"
    SERVER="$LAB/listen_server"
    CLIENT="$LAB/connect_burst"
}
teardown() { helper_teardown; }

# child_states PID - one line per child of PID: its state letter (Z = zombie).
child_states() {
    ps -o stat= --ppid "$1" 2>/dev/null | cut -c1
}

# wait_children PID N [SECS] - wait until PID has exactly N children (bounded).
wait_children() {
    local deadline=$((SECONDS + ${3:-10})) states
    while :; do
        states=$(child_states "$1")
        [ "$(printf '%s' "$states" | grep -c .)" -eq "$2" ] && return 0
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail "server $1 has $(printf '%s' "$states" | grep -c .) children ($(printf '%s' "$states" | grep -c Z) zombies), not $2, after ${3:-10} s"
        fi
        sleep 0.05
    done
}

# fd_count PID - how many descriptors PID has open.
fd_count() {
    local fds=("/proc/$1/fd/"*)
    echo "${#fds[@]}"
}

# server_ends [SECS] - wait for a server started with -c MAX to finish on its own; its
# summary line is then in $output.
server_ends() {
    wait_pid_exit "$SERVER_PID" "${1:-20}" || fail "the server did not end after its -c connections"
    assert_equal "$EXIT_STATUS" 0
    run tail -n 1 "$SERVER_OUT"
}

# --- the first read ---------------------------------------------------------------------

@test "first_listen: a burst of 50 is echoed in full; its signal lines account for all 50 accepts" {
    local sum deadline=$((SECONDS + 10))
    start_server "$LAB/first_listen" -p 0
    run_bounded 30 "$CLIENT" -p "$SERVER_PORT" -k 50 -t 20
    assert_success
    assert_line --partial "connections=50 echoed=50 failed=0"
    # A "signal=N accepted=K" line comes when that signal's accept loop has ended.
    while :; do
        sum=$(sed -nE 's/^signal=[0-9]+ accepted=([0-9]+)$/\1/p' "$SERVER_OUT" | awk '{ s += $1 } END { print s + 0 }')
        [ "$sum" -ge 50 ] || [ "$SECONDS" -ge "$deadline" ] || { sleep 0.05; continue; }
        break
    done
    assert_equal "$sum" 50
    # never more signals than connections: each signal needs a completed handshake
    [ "$(grep -c '^signal=' "$SERVER_OUT")" -le 50 ] || fail "more signal lines than connections"
}

# --- the claim ------------------------------------------------------------------------

@test "[TCP-LISTEN-ONLY] connections one at a time: exactly one POLL_IN per connection, si_fd is the listener" {
    local n=20 i lfd
    start_server "$SERVER" -p 0 --siginfo -v
    lfd=$(sed -nE 's/^listener_fd=([0-9]+) .*/\1/p' "$SERVER_OUT")
    [ -n "$lfd" ] || fail "no listener_fd line"
    for ((i = 1; i <= n; i++)); do
        run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -k 1
        assert_success
        # The server's line for this signal comes after its accept loop has ended, so the
        # next connection cannot be accepted together with this one.
        wait_for_line "$SERVER_OUT" "^signal=$i accepted="
    done
    run grep -cE "^signal=[0-9]+ accepted=1 si_code=POLL_IN si_fd=$lfd si_band=POLLIN\|POLLRDNORM$" "$SERVER_OUT"
    assert_output "$n"
    run grep -c '^signal=' "$SERVER_OUT"
    assert_output "$n"
    hup_report 1
    run grep -E '^(reads|signals_total)=' "$SERVER_OUT"
    assert_output "reads=1 signals=$n
signals_total=$n connections_total=$n"
    stop_server
    assert_equal "$EXIT_STATUS" 0
    run tail -n 1 "$SERVER_OUT"
    assert_equal "$(kv signals)" "$n"
    assert_equal "$(kv connections)" "$n"
    assert_equal "$(kv unexpected)" 0
}

@test "[TCP-LISTEN-ONLY] a burst of 100 concurrent connections: all served, 1 <= signals <= connections" {
    start_server "$SERVER" -p 0 --siginfo -c 100
    run_bounded 30 "$CLIENT" -p "$SERVER_PORT" -k 100 -t 25
    assert_success
    assert_output --partial "connections=100 echoed=100 failed=0"
    server_ends
    assert_equal "$(kv connections)" 100
    assert_equal "$(kv served)" 100
    assert_equal "$(kv unexpected)" 0
    local signals
    signals=$(kv signals)
    [ "$signals" -ge 1 ] && [ "$signals" -le 100 ] || fail "signals=$signals, expected 1 to 100"
}

@test "[TCP-LISTEN-ONLY] 1000 lines echoed on accepted connections raise no SIGIO in the server" {
    start_server "$SERVER" -p 0 --siginfo -v -c 2
    run_bounded 30 "$CLIENT" -p "$SERVER_PORT" -k 1 -n 1000 -t 25
    assert_success
    assert_output --partial "connections=1 echoed=1 failed=0"
    # A second connection, after all that traffic: its signal must be number 2.
    run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -k 1
    assert_success
    server_ends
    assert_equal "$(kv signals)" 2
    assert_equal "$(kv connections)" 2
    run grep -c '^signal=' "$SERVER_OUT"
    assert_output 2
}

@test "[TCP-LISTEN-ONLY] accepted sockets have neither O_ASYNC, O_NONBLOCK nor an owner; children get no SIGIO" {
    start_server "$SERVER" -p 0 -c 100
    run grep '^listener_fd=' "$SERVER_OUT"
    assert_equal "$(kv nonblock)" 1
    assert_equal "$(kv async)" 1
    assert_equal "$(kv owner)" "$SERVER_PID"
    # Bursts, so that children are still serving while later connections signal the parent.
    run_bounded 30 "$CLIENT" -p "$SERVER_PORT" -k 50 -r 2 -t 25
    assert_success
    server_ends
    assert_equal "$(kv served)" 100
    assert_equal "$(kv child_sigio)" 0
    run grep '^accepted_fd=' "$SERVER_OUT"
    assert_equal "$(kv nonblock)" 0
    assert_equal "$(kv async)" 0
    assert_equal "$(kv owner)" 0
    run grep '^child_pid=' "$SERVER_OUT"
    assert_equal "$(kv listener_owner)" "$SERVER_PID"
    assert_equal "$(kv parent_pid)" "$SERVER_PID"
    [ "$(kv child_pid)" != "$SERVER_PID" ] || fail "the child line shows the parent's PID"
}

@test "[TCP-LISTEN-ONLY] a SYN alone (answered with a SYN-ACK, never completed) raises no signal; a completed connection does" {
    require_cmd unshare
    unshare -rn true 2>/dev/null || skip "no network namespace of our own here (unshare -rn failed)"
    run_bounded 30 unshare -rn "$ROOT/scripts/tcp_sigio_listen-bare-syn.sh"
    skip_if_unsupported
    assert_success
    assert_line --partial "syn_ack=1 "
    assert_line "after_syn_signals=0"
    assert_line "after_connect_signals=1"
    assert_equal "$(kv connections)" 1
    assert_equal "$(kv unexpected)" 0
}

@test "--owner group: a child serving when the next connection completes gets that SIGIO; --owner pid: no child does" {
    local owner a b line
    for owner in pid group; do
        start_server "$SERVER" -p 0 -c 2 --owner "$owner"
        exec {a}<>"/dev/tcp/127.0.0.1/$SERVER_PORT"
        printf 'one\n' >&"$a"
        read -r -t 10 -u "$a" line || fail "--owner $owner: no echo on connection 1"
        exec {b}<>"/dev/tcp/127.0.0.1/$SERVER_PORT"
        printf 'two\n' >&"$b"
        read -r -t 10 -u "$b" line || fail "--owner $owner: no echo on connection 2"
        exec {a}>&- {b}>&-
        server_ends
        assert_equal "$(kv signals)" 2
        if [ "$owner" = pid ]; then
            assert_equal "$(kv child_sigio)" 0
        else
            # child 1 was in the group when connection 2 completed; child 2 came after
            assert_equal "$(kv child_sigio)" 1
            run grep -c 'a SIGIO was sent to the child' "$SERVER_ERR"
            assert_output 1
        fi
    done
}

# --- clients, load, resources ---------------------------------------------------------

@test "[TCP-LISTEN-ONLY] shutdown() of the listener raises one POLL_ERR (band POLLERR), then accept says EINVAL; SHUT_WR raises nothing" {
    local how
    for how in rdwr rd; do
        run_bounded 10 "$LAB/listener_events" --how "$how"
        assert_success
        assert_line "step=connect notifications=1 first=POLL_IN band=0x41 (POLLIN|POLLRDNORM) wrong_fd=0"
        assert_line "step=shutdown how=$how notifications=1 first=POLL_ERR band=0x8 (POLLERR) wrong_fd=0"
        assert_line "after_shutdown accept=EINVAL waiting_client=ECONNRESET"
    done
    run_bounded 5 "$LAB/listener_events" --how both
    assert_failure 2
    assert_line --index 0 "listener_events: --how: 'both' is not rd, wr or rdwr"
    run_bounded 10 "$LAB/listener_events" --how wr -6
    assert_success
    assert_line "step=shutdown how=wr notifications=0 first=none band=0x0 (0) wrong_fd=0"
    assert_line "after_shutdown accept=ok waiting_client=open"
}

@test "clients the project did not write (socat, bash /dev/tcp) get their echo" {
    require_cmd socat
    start_server "$SERVER" -p 0 -c 2
    run_bounded 10 bash -c "printf 'hello from socat\n' | socat -t 5 - TCP4:127.0.0.1:$SERVER_PORT"
    assert_success
    assert_output "hello from socat"
    # shellcheck disable=SC2016 # expanded by the inner bash
    run_bounded 10 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$1" && printf "hello from bash\n" >&5 &&
        read -r line <&5 && printf "%s\n" "$line"' _ "$SERVER_PORT"
    assert_success
    assert_output "hello from bash"
    server_ends
    assert_equal "$(kv served)" 2
}

@test "2000 connections in bursts of 50: no zombie left, the server's descriptors at the end equal those at the start" {
    local before after
    start_server "$SERVER" -p 0
    before=$(fd_count "$SERVER_PID")
    run_bounded 90 "$CLIENT" -p "$SERVER_PORT" -k 50 -r 40 -t 85
    assert_success
    assert_output --partial "connections=2000 echoed=2000 failed=0"
    wait_children "$SERVER_PID" 0 20
    after=$(fd_count "$SERVER_PID")
    assert_equal "$after" "$before"
    stop_server
    assert_equal "$EXIT_STATUS" 0
    run tail -n 1 "$SERVER_OUT"
    assert_equal "$(kv connections)" 2000
    assert_equal "$(kv served)" 2000
    assert_equal "$(kv killed)" 0
}

@test "works on IPv6 ::1" {
    start_server "$SERVER" -6 -p 0 -c 3
    assert_equal "$SERVER_ADDR" "::1"
    run_bounded 10 "$CLIENT" -a ::1 -p "$SERVER_PORT" -k 3
    assert_success
    server_ends
    assert_equal "$(kv served)" 3
}

# --- bad input and bad clients --------------------------------------------------------

@test "bad options and numbers are usage errors (exit 2) that name the option" {
    run_bounded 5 "$SERVER" -p 70000
    assert_failure 2
    assert_line --index 0 "listen_server: -p: 70000 is out of range (0 to 65535)"
    run_bounded 5 "$SERVER" -b 0
    assert_failure 2
    assert_line --index 0 --partial "-b: 0 is out of range"
    run_bounded 5 "$SERVER" -c many
    assert_failure 2
    assert_line --index 0 "listen_server: -c: 'many' is not a whole number"
    run_bounded 5 "$SERVER" -L 1
    assert_failure 2
    run_bounded 5 "$SERVER" -p
    assert_failure 2
    assert_line --index 0 "listen_server: option -p needs a value"
    run_bounded 5 "$SERVER" extra
    assert_failure 2
    assert_line --index 0 "listen_server: unexpected argument 'extra'"
    run_bounded 5 "$CLIENT" -k 0
    assert_failure 2
    assert_line --index 0 --partial "-k: 0 is out of range"
    run_bounded 5 "$CLIENT" -k 5000
    assert_failure 2
    run_bounded 5 "$CLIENT" -p 0
    assert_failure 2
    run_bounded 5 "$CLIENT" -a not-an-address
    assert_failure 2
    run_bounded 5 "$LAB/syn_only_client" -a ::1
    assert_failure 2
    assert_line --index 0 --partial "IPv4 only"
}

@test "a port already in use is a clear one-line error and exit 1" {
    start_server "$SERVER" -p 0
    run_bounded 5 "$SERVER" -p "$SERVER_PORT"
    assert_failure 1
    assert_output --partial "address already in use"
}

@test "connect_burst aimed at a port with nobody reports ECONNREFUSED and exits 1 in time" {
    start_server "$SERVER" -p 0
    local port=$SERVER_PORT
    stop_server
    run_bounded 15 "$CLIENT" -p "$port" -k 3 -t 5
    assert_failure 1
    assert_output --partial "ECONNREFUSED"
    assert_output --partial "connections=3 echoed=0 failed=3"
}

@test "a client that connects and sends nothing costs the others nothing, and is dropped after -i" {
    local fd line
    start_server "$SERVER" -p 0 -i 1 -c 6
    exec {fd}<>"/dev/tcp/127.0.0.1/$SERVER_PORT"
    run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -k 5
    assert_success
    assert_output --partial "connections=5 echoed=5 failed=0"
    read -r -t 10 line <&"$fd" || true
    exec {fd}>&-
    assert_equal "$line" "error: idle too long, closing"
    server_ends
    assert_equal "$(kv served)" 6
    assert_equal "$(kv idle)" 1
}

@test "a line longer than -L ends that connection with a message; a line of exactly -L is echoed; others are served" {
    require_cmd socat
    start_server "$SERVER" -p 0 -L 64 -c 3
    run_bounded 10 bash -c "{ head -c 5000 /dev/zero | tr '\0' x; echo; } | socat -t 5 - TCP4:127.0.0.1:$SERVER_PORT"
    assert_success
    assert_output "error: line longer than 64 bytes, closing"
    run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -k 2 -s 64
    assert_success
    assert_output --partial "connections=2 echoed=2 failed=0"
    server_ends
    assert_equal "$(kv served)" 3
    assert_equal "$(kv too_long)" 1
}

@test "a client that disconnects mid-line gets nothing back, is counted, and others are served" {
    require_cmd socat
    start_server "$SERVER" -p 0 -c 3
    run_bounded 10 bash -c "printf 'whole line\nhalf a li' | socat -t 5 - TCP4:127.0.0.1:$SERVER_PORT"
    assert_success
    assert_output "whole line"
    run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -k 2
    assert_success
    server_ends
    assert_equal "$(kv served)" 3
    assert_equal "$(kv mid_line)" 1
}

@test "SIGTERM ends the server and its children: exit 0, summary, nothing left running" {
    local a b c
    start_server "$SERVER" -p 0
    exec {a}<>"/dev/tcp/127.0.0.1/$SERVER_PORT"
    exec {b}<>"/dev/tcp/127.0.0.1/$SERVER_PORT"
    exec {c}<>"/dev/tcp/127.0.0.1/$SERVER_PORT"
    wait_children "$SERVER_PID" 3
    stop_server
    exec {a}>&- {b}>&- {c}>&-
    assert_equal "$EXIT_STATUS" 0
    run tail -n 1 "$SERVER_OUT"
    assert_equal "$(kv connections)" 3
    assert_equal "$(kv killed)" 3
    # helper_teardown fails the test if anything of the server's process group is left.
}

@test "SIGHUP prints the histogram and the counters so far, and the server carries on through a storm of 50" {
    start_server "$SERVER" -p 0
    run_bounded 20 "$CLIENT" -p "$SERVER_PORT" -k 5
    assert_success
    hup_report 1
    run grep -B1 '^sighup ' "$SERVER_OUT"
    assert_line --index 0 --regexp '^signals_total=[0-9]+ connections_total=5$'
    assert_equal "$(kv connections)" 5
    local i reports
    for i in $(seq 50); do kill -HUP "$SERVER_PID"; done
    run_bounded 20 "$CLIENT" -p "$SERVER_PORT" -k 5 -r 2
    assert_success
    kill -0 "$SERVER_PID" || fail "listen_server did not survive 50 SIGHUPs"
    reports=$(grep -c '^sighup ' "$SERVER_OUT")
    hup_report $((reports + 1))
    run grep '^sighup ' "$SERVER_OUT"
    assert_equal "$(kv connections)" 15
    stop_server
    assert_equal "$EXIT_STATUS" 0
    run tail -n 1 "$SERVER_OUT"
    assert_output --regexp '^signals=[0-9]+ connections=15 '
}

@test "SIGTERM ends the server within a second while clients keep connecting" {
    start_server "$SERVER" -p 0 -v
    # A flood of connections, bounded by -r and -t, in its own session.
    setsid "$CLIENT" -p "$SERVER_PORT" -k 20 -r 100000 -t 20 >"$BATS_TEST_TMPDIR/flood.out" \
        2>&1 </dev/null 3>&- &
    STARTED_PIDS+=("$!")
    wait_for_line "$SERVER_OUT" '^signal=[0-9]+ accepted=' 20
    term_and_time
    echo "# listen_server: ended $STOP_MS ms after SIGTERM" >&3
    [ "$STOP_MS" -le "$STOP_BOUND_MS" ] || fail "listen_server took $STOP_MS ms to end after SIGTERM"
    assert_equal "$EXIT_STATUS" 0
    run tail -n 1 "$SERVER_OUT"
    assert_output --regexp '^signals=[0-9]+ connections=[1-9][0-9]* '
}

@test "valgrind finds no errors or leaks in the server, its children or the client" {
    require_cmd valgrind
    sanitized_build && skip "valgrind cannot run a sanitized build"
    local vg=(valgrind -q --error-exitcode=99 --leak-check=full "--errors-for-leak-kinds=definite,indirect")
    START_TIMEOUT=30 start_server "${vg[@]}" "$SERVER" -p 0 --siginfo -c 20
    run_bounded 60 "${vg[@]}" "$CLIENT" -p "$SERVER_PORT" -k 10 -r 2 -t 50
    assert_success
    assert_output --partial "connections=20 echoed=20 failed=0"
    server_ends 40
    assert_equal "$(kv served)" 20
    assert_equal "$(kv failed)" 0
    run cat "$SERVER_ERR"
    assert_output ""
}
