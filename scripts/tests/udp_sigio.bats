#!/usr/bin/env bats
# udp_sigio lab: UNP §25.2–25.3, Figure 25.1. Claims in chapters/claims.md.

load '../lib/test_helper'

setup() {
    helper_setup
    LAB="$ROOT/udp_sigio"
    CLIENT="$LAB/udp_echo_client"
}
teardown() { helper_teardown; }

# --- the blocking loop and the client -------------------------------------------------

@test "loop_echo_server echoes 100 000 datagrams with 32 in flight, and its summary agrees" {
    start_server "$LAB/loop_echo_server" -p 0
    run_bounded 60 "$CLIENT" -p "$SERVER_PORT" -n 100000 -W 32 -t 50
    assert_success
    assert_equal "$(kv sent)" 100000
    assert_equal "$(kv received)" 100000
    assert_equal "$(kv lost)" 0
    stop_server
    assert_equal "$EXIT_STATUS" 0
    run cat "$SERVER_OUT"
    assert_equal "$(kv received)" 100000
    assert_equal "$(kv echoed)" 100000
}

@test "loop_echo_server works on IPv6 ::1" {
    start_server "$LAB/loop_echo_server" -6 -p 0
    assert_equal "$SERVER_ADDR" "::1"
    run_bounded 20 "$CLIENT" -a ::1 -p "$SERVER_PORT" -n 1000 -W 8
    assert_success
    assert_equal "$(kv lost)" 0
}

@test "a client the project did not write (socat) gets its echo" {
    require_cmd socat
    start_server "$LAB/loop_echo_server" -p 0
    run_bounded 10 bash -c "printf 'hello from socat' | socat -t 2 - UDP4:127.0.0.1:$SERVER_PORT"
    assert_success
    assert_output "hello from socat"
}

@test "udp_echo_client aimed at a port with nobody reports the loss and exits non-zero in time" {
    # Take a free port from the kernel, then close it: nothing listens there.
    start_server "$LAB/loop_echo_server" -p 0
    local port=$SERVER_PORT
    stop_server
    run_bounded 15 "$CLIENT" -p "$port" -n 10 -t 5
    assert_failure 1
    assert_output --partial "ECONNREFUSED"
    assert_equal "$(kv received)" 0
    assert_equal "$(kv lost)" 10
}

@test "a datagram larger than the server's buffer is reported as truncated, not echoed short" {
    start_server "$LAB/loop_echo_server" -p 0
    run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -n 1 -s 3000 -T 300
    assert_failure 1
    assert_equal "$(kv lost)" 1
    assert_equal "$(kv bad)" 0
    stop_server
    run cat "$SERVER_OUT" "$SERVER_ERR"
    assert_output --partial "truncated (MSG_TRUNC)"
    assert_equal "$(kv truncated)" 1
    assert_equal "$(kv echoed)" 0
}

@test "a port already in use is a clear one-line error and exit 1" {
    start_server "$LAB/loop_echo_server" -p 0
    run_bounded 5 "$LAB/loop_echo_server" -p "$SERVER_PORT"
    assert_failure 1
    assert_output --partial "address already in use"
}

@test "bad numbers are usage errors (exit 2) that name the option" {
    run_bounded 5 "$LAB/loop_echo_server" -p 70000
    assert_failure 2
    assert_line --index 0 "loop_echo_server: -p: 70000 is out of range (0 to 65535)"
    run_bounded 5 "$LAB/loop_echo_server" -w -5
    assert_failure 2
    assert_line --index 0 --partial "-w: -5 is out of range"
    run_bounded 5 "$CLIENT" -n many
    assert_failure 2
    assert_line --index 0 "udp_echo_client: -n: 'many' is not a whole number"
    run_bounded 5 "$CLIENT" -W 4 -i 100
    assert_failure 2
}
