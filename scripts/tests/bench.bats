#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Smoke tests of the benchmarks and the figures' measurement programs: every design runs,
# every datagram comes back, and what they write is well formed. Timing is never asserted:
# make bench reports ratios, it does not judge them.

load '../lib/test_helper'

setup() { helper_setup; }
teardown() { helper_teardown; }

@test "make bench, tiny, quiet and with one CPU hog: every design runs and echoes every datagram; tables and data files are well formed" {
    local out="$BATS_TEST_TMPDIR/bench"
    BENCH_OUT="$out" BENCH_N=1000 BENCH_ROUNDS=2 BENCH_SWEEP="1 32" BENCH_SWEEP_N=100 BENCH_SWEEP_ROUNDS=1 \
        BENCH_LOAD="0 1" run_bounded 240 bash "$ROOT/scripts/bench/udp_echo.sh"
    assert_success
    refute_output --partial "left out"
    local design designs="loop sigio-textbook sigio-batch sigio-mitigate rt-sigwaitinfo epoll ceiling-mmsg"
    for design in $designs; do
        # Each condition's table: the design, its rate, its ratio with min-max, its ratio to
        # the ceiling, and "ok" for every datagram echoed (so twice in all).
        assert_equal "$(grep -cE "^$design +[0-9]+ +[0-9.]+x \([0-9.]+-[0-9.]+\) +[0-9.]+x .* ok$" <<<"$output")" 2
        # The side-by-side table: one row with both conditions.
        assert_line --regexp "^$design +[0-9.]+x \([0-9.]+-[0-9.]+\) +[0-9.]+x \([0-9.]+-[0-9.]+\)$"
        # The sweep: one row per window.
        assert_equal "$(awk -v d="$design" '!/^#/ && $1 == d' "$out/udp-window.txt" | wc -l)" 2
    done
    # The loop against itself is 1.00x in every round; the ceiling against itself too.
    assert_equal "$(awk '$1 == "loop" { print $3, $4, $5 }' "$out/udp-echo-summary.txt")" "1.00 1.00 1.00"
    assert_equal "$(awk '$1 == "ceiling-mmsg" { print $6 }' "$out/udp-echo-load1-summary.txt")" "1.00"
    local f
    for f in udp-echo.txt udp-echo-summary.txt udp-window.txt udp-echo-load1.txt udp-echo-load1-summary.txt; do
        grep -q '^# command: scripts/bench/udp_echo.sh' "$out/$f" || fail "$f: no command line in its header"
        grep -qE '^# kernel: [^ ]+  cpus: [0-9]+  date: 20' "$out/$f" || fail "$f: no kernel line"
        grep -q '^# columns: design ' "$out/$f" || fail "$f: no columns line"
    done
    for f in udp-echo.txt udp-echo-load1.txt; do
        # Every run: a name, then eight numbers, all echoed (1) and the round.
        run awk '!/^#/ && !(NF == 9 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9.]+$/ && $8 == 1 && $9 ~ /^[01]$/)' "$out/$f"
        assert_output ""
        assert_equal "$(grep -vc '^#' "$out/$f")" 14
    done
    for f in udp-echo-summary.txt udp-echo-load1-summary.txt; do
        run awk '!/^#/ && !(NF == 11 && $3 >= $4 && $3 <= $5 && $11 == "ok")' "$out/$f"
        assert_output ""
        assert_equal "$(grep -vc '^#' "$out/$f")" 7
    done
    assert_equal "$(grep -vc '^#' "$out/udp-window.txt")" 14
    # Nothing left running: this run's hogs (named after its output folder) were ended.
    run pgrep -f "bench-hog:$out"
    assert_failure
}

@test "make bench: a BENCH_ variable that is not a whole number is refused (exit 2) before anything runs" {
    BENCH_OUT="$BATS_TEST_TMPDIR/b" BENCH_LOAD="two" run_bounded 10 bash "$ROOT/scripts/bench/udp_echo.sh"
    assert_failure 2
    assert_output "bench: 'two' is not a whole number (BENCH_* variables)"
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
