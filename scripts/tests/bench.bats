#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Smoke tests of the benchmarks and the figures' measurement programs: every design runs,
# every datagram comes back, and what they write is well formed. Timing is never asserted:
# make bench reports ratios, it does not judge them.

load '../lib/test_helper'

setup() { helper_setup; }
teardown() { helper_teardown; }

@test "make bench, tiny: every design runs, echoes every datagram, and the table and data files are well formed" {
    local out="$BATS_TEST_TMPDIR/bench"
    BENCH_OUT="$out" BENCH_N=3000 BENCH_ROUNDS=1 BENCH_SWEEP="1 32" BENCH_SWEEP_N=300 BENCH_SWEEP_ROUNDS=1 \
        run_bounded 120 bash "$ROOT/scripts/bench/udp_echo.sh"
    assert_success
    refute_output --partial "left out"
    local design
    for design in loop sigio-textbook sigio-batch rt-sigwaitinfo epoll; do
        # The table: the design, its rate, its ratio, and "ok" for every datagram echoed.
        assert_line --regexp "^$design +[0-9]+ +[0-9.]+x .* ok$"
        # The sweep: one row per window.
        assert_equal "$(awk -v d="$design" '!/^#/ && $1 == d' "$out/udp-window.txt" | wc -l)" 2
    done
    local f
    for f in udp-echo.txt udp-window.txt; do
        grep -q '^# command: scripts/bench/udp_echo.sh' "$out/$f"
        grep -qE '^# kernel: [^ ]+  cpus: [0-9]+  date: 20' "$out/$f"
        grep -q '^# columns: design window' "$out/$f"
        # Every data row: a name, then seven numbers, the last one 1 (all echoed).
        run awk '!/^#/ && !(NF == 8 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9.]+$/ && $8 == 1)' "$out/$f"
        assert_output ""
    done
    assert_equal "$(grep -vc '^#' "$out/udp-echo.txt")" 5
    assert_equal "$(grep -vc '^#' "$out/udp-window.txt")" 10
}

@test "delivery_latency measures all five ways of being told, one line each" {
    run_bounded 60 "$ROOT/udp_sigio/delivery_latency" -n 40 -i 300
    assert_success
    local mode
    for mode in blocking epoll sigwaitinfo handler-asleep handler-busy; do
        assert_line --regexp "^mode=$mode samples=40 p50_us=[0-9.]+ p99_us=[0-9.]+ max_us=[0-9.]+$"
    done
    assert_equal "${#lines[@]}" 5
}

@test "epoll_echo_server echoes 100 000 datagrams with 32 in flight, and its summary agrees" {
    start_server "$ROOT/udp_sigio/epoll_echo_server" -p 0
    run_bounded 60 "$ROOT/udp_sigio/udp_echo_client" -p "$SERVER_PORT" -n 100000 -W 32 -t 50
    assert_success
    assert_equal "$(kv lost)" 0
    stop_server
    assert_equal "$EXIT_STATUS" 0
    run cat "$SERVER_OUT"
    assert_equal "$(kv received)" 100000
    assert_equal "$(kv echoed)" 100000
    # Each wake-up reads at least one datagram and drains what queued meanwhile, so there
    # are at most as many wake-ups as datagrams (how many fewer depends on the load).
    [ "$(kv wakeups)" -ge 1 ] || fail "wakeups=$(kv wakeups)"
    [ "$(kv wakeups)" -le 100000 ] || fail "wakeups=$(kv wakeups) > 100000 datagrams"
}
