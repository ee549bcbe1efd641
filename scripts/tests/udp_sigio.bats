#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
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
    run_bounded 10 bash -c "printf 'hello from socat' | socat -t 0.5 - UDP4:127.0.0.1:$SERVER_PORT"
    assert_success
    assert_output "hello from socat"
}

@test "udp_echo_client aimed at a port with nobody exits non-zero in time: what it sent is lost, what it never sent is unsent, not lost" {
    # Take a free port from the kernel, then close it: nothing listens there.
    start_server "$LAB/loop_echo_server" -p 0
    local port=$SERVER_PORT
    stop_server
    run_bounded 15 "$CLIENT" -p "$port" -n 10 -t 5
    assert_failure 1
    assert_output --partial "ECONNREFUSED"
    assert_equal "$(kv received)" 0
    [ "$(kv sent)" -ge 1 ] || fail "nothing sent"
    assert_equal "$(kv lost)" "$(kv sent)"
    assert_equal "$(($(kv sent) + $(kv unsent)))" 10
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

# --- helpers for the SIGIO server --------------------------------------------------------

# last_histogram - the server's last histogram report: its reads= lines, then the
# signals_total= line.
last_histogram() {
    awk '/^(reads|polled)=/ { block = block $0 "\n" }
         /^signals_total=/ { last = block $0; block = "" }
         END { print last }' "$SERVER_OUT"
}

# stop_and_summary - SIGTERM the server, check it ended with 0, and put its summary line
# in $output.
stop_and_summary() {
    stop_server
    assert_equal "$EXIT_STATUS" 0
    run tail -n 1 "$SERVER_OUT"
    assert_output --regexp '^received=[0-9]+ echoed='
}

# wait_stopped PID - wait until a process we sent SIGSTOP is really stopped (state T).
wait_stopped() {
    local deadline=$((SECONDS + 10))
    until [ "$(ps -o stat= -p "$1" | cut -c1)" = T ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "process $1 did not stop"
        sleep 0.01
    done
}

# burst_while_stopped N - stop the server, let the client send N datagrams in one go (it
# gives up on their echoes after 100 ms: the server cannot answer while stopped), and let
# the server go on. While it is stopped every arrival raises SIGIO, but a standard signal
# that is already pending is not queued again: the server finds one SIGIO for all N.
burst_while_stopped() {
    kill -STOP "$SERVER_PID"
    wait_stopped "$SERVER_PID"
    run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -n "$1" -W "$1" -T 100
    assert_failure 1
    assert_equal "$(kv sent)" "$1"
    kill -CONT "$SERVER_PID"
}

# assert_histogram TEXT - SIGHUP the server; its (first) report must be exactly TEXT.
assert_histogram() {
    hup_report 1
    run last_histogram
    assert_output "$1"
}

# histogram_sums - check that the last histogram report adds up: the signals of its reads=
# lines sum to signals_total, and reads x signals (plus polled=, mitigate mode's datagrams
# read with no signal) to datagrams_total. Then $output is datagrams_total.
histogram_sums() {
    run awk -F'[= +]+' '/^reads=/ { s += $4; d += $2 * $4 }
        /^polled=/ { d += $2 }
        /^signals_total=/ { if (s == $2 && d == $4) print d
                            else print "signals " s " of " $2 ", datagrams " d " of " $4 }' \
        <<<"$(last_histogram)"
    assert_output --regexp '^[0-9]+$'
}

# --- the SIGIO server: set-up ------------------------------------------------------------

@test "[SETUP-3STEPS] handler, then owner, then enable: each step read back, and then datagrams raise SIGIO" {
    start_server "$LAB/sigio_echo_server" -p 0
    wait_for_line "$SERVER_OUT" '^setup done'
    run grep -E '^setup step=' "$SERVER_OUT"
    assert_line --index 0 --regexp '^setup step=1 name=handler call=sigaction\(SIGIO\)'
    assert_line --index 1 --regexp "^setup step=2 name=owner call=fcntl\(F_SETOWN,getpid\(\)\) F_GETOWN=$SERVER_PID pid=$SERVER_PID$"
    assert_line --index 2 --regexp '^setup step=3 name=enable .* o_async=1 o_nonblock=1$'
    run_bounded 20 "$CLIENT" -p "$SERVER_PORT" -n 100 -W 4
    assert_success
    stop_and_summary
    assert_equal "$(kv received)" 100
    assert_equal "$(kv echoed)" 100
    [ "$(kv signals)" -ge 1 ] || fail "no SIGIO was handled"
}

@test "[SETUP-3STEPS] leave one step out: no handler and SIGIO kills the process (157); no owner or no O_ASYNC and nothing comes (socket, pipe)" {
    local kind pid
    for kind in udp pipe; do
        run_bounded 10 "$LAB/setup_steps" -k "$kind"
        assert_success
        assert_line --regexp "^result kind=$kind skip=none ignore=0 pending=1 sigio_calls=1 readable=1$"
        # No handler: SIGIO's default action ends the process, after the set-up line.
        run_bounded 10 "$LAB/setup_steps" -k "$kind" --skip handler
        assert_equal "$status" 157
        assert_line --index 0 --regexp "^setup kind=$kind skip=handler handler=SIG_DFL .* o_async=1$"
        refute_line --partial result
        # No owner: F_GETOWN stays 0 and not one signal; the data waits all the same.
        run_bounded 10 "$LAB/setup_steps" -k "$kind" --skip owner
        assert_success
        assert_line --regexp "^setup kind=$kind skip=owner .* owner_set=0 owner_now=0 .* o_async=1$"
        assert_line "result kind=$kind skip=owner ignore=0 pending=0 sigio_calls=0 readable=1"
        # No O_ASYNC: an owner, but no switch, so no signal either.
        run_bounded 10 "$LAB/setup_steps" -k "$kind" --skip enable
        assert_success
        pid=$(kv pid "${lines[0]}")
        assert_line --regexp "^setup kind=$kind skip=enable .* owner_set=$pid owner_now=$pid .* o_async=0$"
        assert_line "result kind=$kind skip=enable ignore=0 pending=0 sigio_calls=0 readable=1"
    done
}

@test "[SETUP-3STEPS] SIGIO set to SIG_IGN: the notification is discarded; a handler installed afterwards gets nothing, though the data waits" {
    local kind
    for kind in udp pipe; do
        run_bounded 10 "$LAB/setup_steps" -k "$kind" --ignore
        assert_success
        assert_line --regexp "^setup kind=$kind skip=none handler=SIG_IGN .* o_async=1$"
        assert_line "result kind=$kind skip=none ignore=1 pending=0 sigio_calls=0 readable=1"
    done
}

@test "[NO-OWNER-NO-SIGNAL] a terminal names its own owner: on a pty without F_SETOWN, O_ASYNC makes F_GETOWN the caller, or minus its foreground group, and SIGIO comes" {
    run_bounded 10 "$LAB/setup_steps" -k pty --skip owner
    skip_if_unsupported
    assert_success
    local pid
    pid=$(kv pid "${lines[0]}")
    assert_line --index 0 --regexp "^setup kind=pty skip=owner .* owner_set=0 owner_now=$pid pid=$pid .* o_async=1$"
    assert_line "result kind=pty skip=owner ignore=0 pending=1 sigio_calls=1 readable=1"
    # As a controlling terminal it has a foreground process group, and that is the owner.
    run_bounded 10 "$LAB/setup_steps" -k pty --skip owner --ctty
    assert_success
    pid=$(kv pid "${lines[0]}")
    assert_line --index 0 --regexp "^setup kind=pty skip=owner .* owner_set=0 owner_now=-$pid pid=$pid pgrp=$pid o_async=1$"
    assert_line "result kind=pty skip=owner ignore=0 pending=1 sigio_calls=1 readable=1"
    # An owner set before is kept: the terminal only fills in a missing one.
    run_bounded 10 "$LAB/setup_steps" -k pty --ctty
    assert_success
    pid=$(kv pid "${lines[0]}")
    assert_line --index 0 --regexp "^setup kind=pty skip=none .* owner_set=$pid owner_now=$pid "
    # Without O_ASYNC a terminal sends nothing either.
    run_bounded 10 "$LAB/setup_steps" -k pty --skip enable
    assert_success
    assert_line "result kind=pty skip=enable ignore=0 pending=0 sigio_calls=0 readable=1"
}

@test "[ENABLE-FCNTL] F_SETFL O_ASYNC switches a socket to signal-driven I/O: F_GETFL shows it and SIGIO comes" {
    start_server "$LAB/sigio_echo_server" -p 0 --enable fcntl
    wait_for_line "$SERVER_OUT" '^setup done'
    run grep '^setup step=3' "$SERVER_OUT"
    assert_output "setup step=3 name=enable call=fcntl(F_SETFL,O_ASYNC|O_NONBLOCK) F_GETFL=O_RDWR|O_NONBLOCK|O_ASYNC o_async=1 o_nonblock=1"
    run_bounded 20 "$CLIENT" -p "$SERVER_PORT" -n 1000 -W 8
    assert_success
    stop_and_summary
    assert_equal "$(kv echoed)" 1000
    [ "$(kv signals)" -ge 1 ] || fail "no SIGIO was handled"
    # The same switch on another descriptor that supports it (a pipe), by the probe.
    run_bounded 10 "$LAB/async_enable_probe" -k pipe
    assert_success
    assert_line "kind=pipe via=fcntl result=ok o_async=1 sigio=1"
}

@test "[ENABLE-IOCTL] FIOASYNC + FIONBIO as the book does: the same flags and signals; on eventfd, timerfd, epoll FIOASYNC is ENOTTY while F_SETFL quietly does nothing" {
    start_server "$LAB/sigio_echo_server" -p 0 --enable ioctl
    wait_for_line "$SERVER_OUT" '^setup done'
    run grep '^setup step=3' "$SERVER_OUT"
    assert_output "setup step=3 name=enable call=ioctl(FIOASYNC)+ioctl(FIONBIO) F_GETFL=O_RDWR|O_NONBLOCK|O_ASYNC o_async=1 o_nonblock=1"
    run_bounded 20 "$CLIENT" -p "$SERVER_PORT" -n 1000 -W 8
    assert_success
    stop_and_summary
    assert_equal "$(kv echoed)" 1000
    [ "$(kv signals)" -ge 1 ] || fail "no SIGIO was handled"

    run_bounded 20 "$LAB/async_enable_probe"
    assert_success
    local kind
    for kind in udp pipe; do
        assert_line "kind=$kind via=fcntl result=ok o_async=1 sigio=1"
        assert_line "kind=$kind via=ioctl result=ok o_async=1 sigio=1"
    done
    for kind in eventfd timerfd epoll; do
        assert_line "kind=$kind via=fcntl result=ok o_async=0 sigio=0"
        assert_line "kind=$kind via=ioctl result=ENOTTY o_async=0 sigio=0"
    done
}

@test "[ENABLE-FCNTL] a FIFO, an inotify descriptor and a pseudoterminal: both switches work, each sends POLL_IN with band 0x41" {
    [ -c /dev/ptmx ] || skip "no pseudo-terminals here (/dev/ptmx)"
    run_bounded 20 "$LAB/async_enable_probe"
    assert_success
    local kind via
    for kind in fifo inotify pty; do
        for via in fcntl ioctl; do
            assert_line "kind=$kind via=$via result=ok o_async=1 sigio=1"
        done
    done
    run_bounded 20 "$LAB/async_enable_probe" --siginfo
    assert_success
    for kind in udp pipe fifo inotify pty; do
        for via in fcntl ioctl; do
            assert_line "kind=$kind via=$via result=ok o_async=1 notified=1 sig=SIGRTMIN si_code=POLL_IN si_band=0x41 (POLLIN|POLLRDNORM)"
        done
    done
    assert_line "kind=eventfd via=fcntl result=ok o_async=0 notified=0"
}

@test "[OPEN-ASYNC] O_ASYNC given to open(): F_GETFL says on, no signal comes, and off-then-on with F_SETFL or FIOASYNC changes nothing" {
    [ -c /dev/ptmx ] || skip "no pseudo-terminals here (/dev/ptmx)"
    run_bounded 20 "$LAB/async_enable_probe" -k fifo
    assert_success
    # The same FIFO with the flag switched on after open() signals (the control) ...
    assert_line "kind=fifo via=fcntl result=ok o_async=1 sigio=1"
    local kind via
    for kind in fifo pty; do
        run_bounded 20 "$LAB/async_enable_probe" -k "$kind"
        assert_success
        # ... with the flag given to open() it does not, whatever is tried afterwards.
        assert_line "kind=$kind via=open result=ok o_async=1 sigio=0"
        # "off" leaves the flag set (nothing was registered to remove), so "on" does nothing.
        for via in open+fcntl open+ioctl; do
            assert_line "kind=$kind via=$via result=ok o_async=1 sigio=0 o_async_after_off=1"
        done
    done
    run_bounded 20 "$LAB/async_enable_probe" -k fifo --siginfo
    assert_success
    assert_line "kind=fifo via=open result=ok o_async=1 notified=0"
}

@test "[NO-OWNER-NO-SIGNAL] O_ASYNC without F_SETOWN: the datagrams arrive, not one signal is sent" {
    start_server "$LAB/sigio_echo_server" -p 0 --no-owner
    wait_for_line "$SERVER_OUT" '^setup done'
    run grep -E '^setup step=[23]' "$SERVER_OUT"
    assert_line --index 0 --regexp '^setup step=2 name=owner call=skipped\(--no-owner\) F_GETOWN=0 '
    assert_line --index 1 --regexp ' o_async=1 o_nonblock=1$'
    run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -n 5 -W 5 -T 300
    assert_failure 1
    assert_equal "$(kv lost)" 5
    stop_and_summary
    assert_equal "$(kv signals)" 0
    assert_equal "$(kv received)" 0
    # They were there all along: the server finds them in its socket at the end.
    assert_equal "$(kv unread)" 5
}

# --- the SIGIO server: arrival, draining, the histogram ----------------------------------

@test "[UDP-ARRIVAL] one datagram at a time: each raises one SIGIO, whose handler reads exactly it" {
    local mode
    for mode in batch textbook; do
        start_server "$LAB/sigio_echo_server" -p 0 --mode "$mode"
        run_bounded 20 "$CLIENT" -p "$SERVER_PORT" -n 200 -W 1
        assert_success
        assert_histogram "reads=1 signals=200
signals_total=200 datagrams_total=200"
        stop_and_summary
        assert_equal "$(kv signals)" 200
        assert_equal "$(kv echoed)" 200
    done
}

@test "[UDP-ARRIVAL] a burst into a small receive buffer: one notification per datagram queued, none for those dropped (the kernel's drop count)" {
    run_bounded 20 "$LAB/arrival_count" -n 200 -r 8192
    skip_if_unsupported
    assert_success
    local queued dropped
    queued=$(kv queued)
    dropped=$(kv dropped)
    assert_equal "$(kv sent)" 200
    [ "$dropped" -gt 0 ] || fail "nothing was dropped: the buffer did not fill ($output)"
    assert_equal "$((queued + dropped))" 200
    assert_equal "$(kv notifications)" "$queued"
    assert_equal "$(kv fallback_sigio)" 0
    # With room for all of them: 200 queued, 200 notifications, no drop.
    run_bounded 20 "$LAB/arrival_count" -n 200 -r 1000000
    skip_if_unsupported
    assert_success
    assert_output --regexp '^sent=200 queued=200 dropped=0 notifications=200 fallback_sigio=0 '
}

@test "[UDP-DRAIN] ten datagrams while the server is stopped: one SIGIO, one handler call reads all ten until EAGAIN" {
    local mode polled
    for mode in batch textbook mitigate; do
        start_server "$LAB/sigio_echo_server" -p 0 --mode "$mode"
        burst_while_stopped 10
        # Mitigate mode's main loop polls after the handler: it finds nothing more.
        polled=""
        [ "$mode" = mitigate ] && polled=$'polled=0\n'
        assert_histogram "reads=10 signals=1
${polled}signals_total=1 datagrams_total=10"
        stop_and_summary
        assert_equal "$(kv received)" 10
        assert_equal "$(kv echoed)" 10
    done
}

# histogram_shape - from the last histogram: handler calls; calls that read exactly one
# datagram; calls that read two or more; the percentage of datagrams read by those.
histogram_shape() {
    awk -F'[= ]+' '/^reads=/ { c += $4; d += $2 * $4; if ($2 == 1) one += $4
                               if ($2 >= 2) { many += $4; md += $2 * $4 } }
        END { if (c && d) printf "calls=%d one_calls=%d many_calls=%d many_dgrams_pct=%d\n", c, one, many, 100 * md / d }' \
        <<<"$(last_histogram)"
}

@test "[UDP-DRAIN] 32 in flight, every mode: the histogram adds up; batch reads most datagrams in calls of two or more; textbook has calls of exactly one and calls of several" {
    local mode shape
    for mode in batch textbook mitigate; do
        start_server "$LAB/sigio_echo_server" -p 0 --mode "$mode"
        run_bounded 30 "$CLIENT" -p "$SERVER_PORT" -n 20000 -W 32
        assert_success
        hup_report 1
        histogram_sums
        assert_equal "$output" 20000
        shape=$(histogram_shape)
        echo "$mode: $shape" >&3
        case $mode in
        batch)
            # The main loop answers the whole ring with SIGIO blocked; the next window
            # arrives meanwhile, and one call reads it.
            [ "$(kv many_dgrams_pct "$shape")" -gt 50 ] || fail "batch: $shape"
            ;;
        textbook)
            # Each arrival while the main loop works interrupts it (one datagram per call);
            # a window that arrives while the server is not running is one call. How the
            # two mix depends on the machine's load, so only both being there is checked.
            [ "$(kv one_calls "$shape")" -gt 0 ] && [ "$(kv many_calls "$shape")" -gt 0 ] ||
                fail "textbook: $shape"
            ;;
        esac
        stop_and_summary
        assert_equal "$(kv received)" 20000
        assert_equal "$(kv signals)" "$(kv signals_total "$(last_histogram)")"
    done
}

@test "a 4-slot ring under a burst counts 16 of 20 datagrams as dropped and keeps serving" {
    start_server "$LAB/sigio_echo_server" -p 0 -q 4
    burst_while_stopped 20
    run_bounded 20 "$CLIENT" -p "$SERVER_PORT" -n 100 -W 1
    assert_success
    stop_and_summary
    assert_equal "$(kv received)" 120
    assert_equal "$(kv dropped)" 16
    assert_equal "$(kv echoed)" 104
}

@test "sigio_echo_server echoes 100 000 datagrams with 32 in flight, in batch, textbook and mitigate mode" {
    local mode
    for mode in batch textbook mitigate; do
        start_server "$LAB/sigio_echo_server" -p 0 --mode "$mode"
        run_bounded 60 "$CLIENT" -p "$SERVER_PORT" -n 100000 -W 32 -t 50
        assert_success
        assert_equal "$(kv received)" 100000
        stop_and_summary
        assert_equal "$(kv received)" 100000
        assert_equal "$(kv echoed)" 100000
        assert_equal "$(kv dropped)" 0
    done
}

@test "sigio_echo_server works on IPv6 ::1" {
    start_server "$LAB/sigio_echo_server" -6 -p 0
    assert_equal "$SERVER_ADDR" "::1"
    run_bounded 20 "$CLIENT" -a ::1 -p "$SERVER_PORT" -n 1000 -W 8
    assert_success
    assert_equal "$(kv lost)" 0
}

@test "a client the project did not write (socat) gets its echo from sigio_echo_server" {
    require_cmd socat
    start_server "$LAB/sigio_echo_server" -p 0
    run_bounded 10 bash -c "printf 'hello from socat' | socat -t 0.5 - UDP4:127.0.0.1:$SERVER_PORT"
    assert_success
    assert_output "hello from socat"
}

# --- timestamps and where a datagram arrived ----------------------------------------------

@test "[NTP-TIMESTAMP] 1000 µs of work per datagram: the loop notes arrivals over ten times later than the SIGIO handler (medians)" {
    run_bounded 60 "$ROOT/scripts/udp_sigio-fig251.sh" timing -D 1000 -n 2000
    assert_success
    local row loop_n loop_p50 sigio_n sigio_p50
    row=$(grep -v '^#' <<<"$output")
    read -r _ loop_n loop_p50 _ sigio_n sigio_p50 _ <<<"$row"
    [ "$loop_n" -ge 20 ] && [ "$sigio_n" -ge 20 ] || fail "too few datagrams processed: $row"
    echo "# loop p50 ${loop_p50} µs, handler p50 ${sigio_p50} µs" >&3
    awk -v l="$loop_p50" -v s="$sigio_p50" 'BEGIN { exit !(l > 10 * s) }' ||
        fail "loop median $loop_p50 µs is not over ten times the handler's $sigio_p50 µs"
}

@test "[KERNEL-TIMESTAMP] SO_TIMESTAMP(NS), SO_TIMESTAMPING and SIOCGSTAMP(NS) give the arrival time; the late first SIOCGSTAMPNS gives the ioctl's time" {
    run_bounded 20 "$LAB/kernel_stamps" -n 2 -d 40 -m ns
    assert_success
    assert_line --regexp '^mode=ns call=SO_TIMESTAMPNS datagrams=2 stamped=2 arrival=2 read_time=0 resolution=ns$'
    run_bounded 20 "$LAB/kernel_stamps" -n 2 -d 40 -m us
    assert_success
    assert_line --regexp '^mode=us call=SO_TIMESTAMP datagrams=2 stamped=2 arrival=2 read_time=0 resolution=us$'
    run_bounded 20 "$LAB/kernel_stamps" -n 2 -d 40 -m timestamping
    assert_success
    assert_line --regexp '^mode=timestamping .* stamped=2 arrival=2 read_time=0 resolution=ns$'
    run_bounded 20 "$LAB/kernel_stamps" -n 2 -d 40 -m ioctl
    assert_success
    assert_line --regexp '^mode=ioctl .* stamped=2 arrival=2 read_time=0 resolution=ns first_ioctl=ENOENT us_matches_ns=1$'
    run_bounded 20 "$LAB/kernel_stamps" -n 2 -d 40 -m late-ioctl
    assert_success
    assert_line --regexp '^mode=late-ioctl .* stamped=2 arrival=0 read_time=2 '
    # The race of trap 2 depends on every other socket of the machine; only its bookkeeping
    # is checked here.
    run_bounded 20 "$LAB/kernel_stamps" -n 2 -d 40 -m race
    assert_success
    assert_line --regexp '^mode=race .* stamped=2 arrival=[0-2] read_time=[0-2] '

    # The servers' stamps: every datagram has a kernel stamp, taken after the client sent it
    # (sent_ns, column 5) and before the handler read it.
    start_server "$LAB/sigio_echo_server" -p 0 --stamps "$BATS_TEST_TMPDIR/stamps"
    run_bounded 20 "$CLIENT" -p "$SERVER_PORT" -n 500 -W 8
    assert_success
    stop_and_summary
    run awk '!/^#/ { n++; if ($2 <= 0 || $5 <= 0 || $2 < $5 || $3 < $2 || $4 < $3) bad++ } END { print n + 0, bad + 0 }' \
        "$BATS_TEST_TMPDIR/stamps"
    assert_output "500 0"
}

@test "[RECV-INTERFACE] IP_PKTINFO / IPV6_RECVPKTINFO: each datagram comes with its destination address and interface" {
    start_server "$LAB/sigio_echo_server" -p 0 -v
    run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -n 1
    assert_success
    wait_for_line "$SERVER_OUT" '^datagram '
    run grep '^datagram ' "$SERVER_OUT"
    assert_output --regexp '^datagram from=127\.0\.0\.1:[0-9]+ to=127\.0\.0\.1 if=lo\(1\) len=64 kernel_ns=[1-9][0-9]+$'

    start_server "$LAB/sigio_echo_server" -6 -p 0 -v
    run_bounded 10 "$CLIENT" -a ::1 -p "$SERVER_PORT" -n 1
    assert_success
    wait_for_line "$SERVER_OUT" '^datagram '
    run grep '^datagram ' "$SERVER_OUT"
    assert_output --regexp '^datagram from=\[::1\]:[0-9]+ to=::1 if=lo\(1\) len=64 kernel_ns=[1-9][0-9]+$'
}

@test "[RECV-INTERFACE] a server bound to 0.0.0.0 learns which address a client wrote to, and answers from it (private network namespace)" {
    require_cmd unshare
    require_cmd ip
    # Everything runs inside one new namespace that has nothing but its own loopback, so
    # binding the wildcard address there exposes nothing to any network. Root makes one
    # directly; anyone else makes it inside a user namespace of their own (unshare -rn).
    local ns=(unshare -n) err
    if ! unshare -n true 2>/dev/null; then
        err=$(unshare -rn true 2>&1) ||
            skip "no network namespace here: unshare -n needs root, and unshare -rn failed ($err)"
        ns=(unshare -rn)
    fi
    # shellcheck disable=SC2016 # the script's $1, $2 are its own arguments
    run_bounded 30 "${ns[@]}" bash -c '
        ip link set lo up || exit 1
        out=$(mktemp)
        "$1" -a 0.0.0.0 -p 0 -v >"$out" 2>&1 </dev/null 3>&- &
        pid=$!
        trap "kill $pid 2>/dev/null; wait $pid; rm -f $out" EXIT
        for _ in $(seq 500); do grep -q "^listening on" "$out" && break; sleep 0.02; done
        port=$(sed -n "1s/.*://p" "$out")
        for dst in 127.0.0.5 127.0.0.9; do
            "$2" -a "$dst" -p "$port" -n 1 -T 300 | sed -E "s/^(sent=[0-9]+ received=[0-9]+ lost=[0-9]+).*/client \1/"
        done
        grep "^datagram " "$out"' _ "$LAB/sigio_echo_server" "$CLIENT"
    assert_success
    assert_line --index 0 "client sent=1 received=1 lost=0"
    assert_line --index 1 "client sent=1 received=1 lost=0"
    assert_line --index 2 --regexp '^datagram from=127\.0\.0\.1:[0-9]+ to=127\.0\.0\.5 if=lo\(1\) len=64 '
    assert_line --index 3 --regexp '^datagram from=127\.0\.0\.1:[0-9]+ to=127\.0\.0\.9 if=lo\(1\) len=64 '
}

# --- asynchronous errors -------------------------------------------------------------------

@test "[UDP-ASYNC-ERROR] connected: the ICMP error raises SIGIO and the next recv returns ECONNREFUSED once; unconnected: nothing" {
    run_bounded 10 "$LAB/udp_async_error"
    assert_success
    assert_line "connected=1 f_setsig=0 signals=1 si_code=SI_KERNEL si_band=none recv1=ECONNREFUSED recv2=EAGAIN"
    run_bounded 10 "$LAB/udp_async_error" --siginfo
    assert_success
    assert_line "connected=1 f_setsig=SIGIO signals=1 si_code=POLL_ERR si_band=POLLERR recv1=ECONNREFUSED recv2=EAGAIN"
    # The witness, a connected socket sending to the same port, shows the ICMP did come back.
    run_bounded 10 "$LAB/udp_async_error" --unconnected -t 300
    assert_success
    assert_line "connected=0 f_setsig=0 signals=0 si_code=none si_band=none recv1=EAGAIN recv2=EAGAIN witness=ECONNREFUSED"
    # IPv6 behaves the same.
    run_bounded 10 "$LAB/udp_async_error" -6 --siginfo
    assert_success
    assert_line "connected=1 f_setsig=SIGIO signals=1 si_code=POLL_ERR si_band=POLLERR recv1=ECONNREFUSED recv2=EAGAIN"
}

# --- interrupt mitigation and the ceiling loop ---------------------------------------------

@test "mitigate mode, one datagram: one SIGIO, then --poll empty polls and one last look before it sleeps again" {
    start_server "$LAB/sigio_echo_server" -p 0 --mode mitigate --poll 5
    run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -n 1
    assert_success
    # The echo came back, so the polling has at least begun; the histogram report comes
    # from the main loop, after the polling and the re-arm.
    assert_histogram "reads=1 signals=1
polled=0
signals_total=1 datagrams_total=1"
    stop_and_summary
    assert_equal "$(kv signals)" 1
    assert_equal "$(kv echoed)" 1
    assert_equal "$(kv polls)" 6
    assert_equal "$(kv empty_polls)" 6
}

@test "mitigate mode, ten datagrams while stopped, then one at a time: every datagram is counted once, by the handler or by a poll" {
    start_server "$LAB/sigio_echo_server" -p 0 --mode mitigate --poll 3
    burst_while_stopped 10
    run_bounded 20 "$CLIENT" -p "$SERVER_PORT" -n 100 -W 1
    assert_success
    hup_report 1
    histogram_sums
    assert_equal "$output" 110
    stop_and_summary
    assert_equal "$(kv received)" 110
    assert_equal "$(kv echoed)" 110
    # Every poll that found nothing ended a burst of at most --poll polls, or was the last look.
    [ "$(kv polls)" -ge "$(kv empty_polls)" ]
}

@test "loop_echo_server --mmsg (the ceiling of make bench) echoes 100 000 datagrams with 32 in flight, and truncates as the plain loop does" {
    start_server "$LAB/loop_echo_server" -p 0 --mmsg
    run_bounded 60 "$CLIENT" -p "$SERVER_PORT" -n 100000 -W 32 -t 50
    assert_success
    assert_equal "$(kv lost)" 0
    run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -n 1 -s 3000 -T 300
    assert_failure 1
    stop_server
    assert_equal "$EXIT_STATUS" 0
    run tail -n 1 "$SERVER_OUT"
    assert_equal "$(kv received)" 100001
    assert_equal "$(kv echoed)" 100000
    assert_equal "$(kv truncated)" 1
}

@test "--rt (SCHED_FIFO + mlockall): as root both Figure 25.1 servers run with it; without the privilege they exit 4 naming --rt and the reason" {
    if [ "$(id -u)" -eq 0 ]; then
        start_server "$LAB/sigio_echo_server" -p 0 --rt
        run grep -c '^setup done .* rt=SCHED_FIFO+mlockall$' "$SERVER_OUT"
        assert_output 1
        assert_equal "$(awk '{ print $41 }' "/proc/$SERVER_PID/stat")" 1 # policy 1 = SCHED_FIFO
        run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -n 100 -W 8
        assert_success
        start_server "$LAB/loop_echo_server" -p 0 --rt
        assert_equal "$(awk '{ print $41 }' "/proc/$SERVER_PID/stat")" 1
        run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -n 100 -W 8
        assert_success
        command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed: the unprivileged half is not checked"
        local prog
        for prog in sigio_echo_server loop_echo_server; do
            run_bounded 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
                "$LAB/$prog" -p 0 --rt
            assert_failure 4
            assert_output --regexp "^$prog: skipped: --rt: sched_setscheduler\(SCHED_FIFO, [0-9]+\): .*EPERM"
        done
    else
        run_bounded 10 "$LAB/sigio_echo_server" -p 0 --rt
        [ "$status" -eq 4 ] || [ "$status" -eq 0 ] || fail "exit $status"
        [ "$status" -eq 0 ] || assert_output --partial "sigio_echo_server: skipped: --rt:"
    fi
}

# --- bad input -----------------------------------------------------------------------------

@test "sigio_echo_server: bad numbers and words are usage errors (exit 2) that name the option" {
    local S="$LAB/sigio_echo_server"
    run_bounded 5 "$S" -p 70000
    assert_failure 2
    assert_line --index 0 "sigio_echo_server: -p: 70000 is out of range (0 to 65535)"
    assert_line --index 1 --partial "usage: sigio_echo_server"
    run_bounded 5 "$S" -q 0
    assert_failure 2
    assert_line --index 0 "sigio_echo_server: -q: 0 is out of range (1 to 4096)"
    run_bounded 5 "$S" -w -5
    assert_failure 2
    assert_line --index 0 "sigio_echo_server: -w: -5 is out of range (0 to 1000000)"
    run_bounded 5 "$S" -w lots
    assert_failure 2
    assert_line --index 0 "sigio_echo_server: -w: 'lots' is not a whole number"
    run_bounded 5 "$S" --mode fast
    assert_failure 2
    assert_line --index 0 "sigio_echo_server: --mode: 'fast' is not batch, textbook or mitigate"
    run_bounded 5 "$S" --poll 0 --mode mitigate
    assert_failure 2
    assert_line --index 0 "sigio_echo_server: --poll: 0 is out of range (1 to 1000000)"
    run_bounded 5 "$S" --poll 10
    assert_failure 2
    assert_line --index 0 "sigio_echo_server: --poll: only with --mode mitigate (the other modes do not poll)"
    run_bounded 5 "$S" --enable magic
    assert_failure 2
    assert_line --index 0 "sigio_echo_server: --enable: 'magic' is neither fcntl nor ioctl"
    run_bounded 5 "$S" -q
    assert_failure 2
    assert_line --index 0 "sigio_echo_server: option -q needs a value"
    run_bounded 5 "$S" extra
    assert_failure 2
    assert_line --index 0 "sigio_echo_server: unexpected argument 'extra'"
}

@test "the other programs: bad numbers and words are usage errors (exit 2) that name the option" {
    run_bounded 5 "$LAB/udp_async_error" -t 0
    assert_failure 2
    assert_line --index 0 "udp_async_error: -t: 0 is out of range (1 to 60000)"
    run_bounded 5 "$LAB/udp_async_error" -p 70000
    assert_failure 2
    assert_line --index 0 "udp_async_error: -p: 70000 is out of range (0 to 65535)"
    run_bounded 5 "$LAB/kernel_stamps" -m sometimes
    assert_failure 2
    assert_line --index 0 "kernel_stamps: -m: 'sometimes' is not one of ns, us, timestamping, ioctl, late-ioctl, race, all"
    run_bounded 5 "$LAB/kernel_stamps" -n 0
    assert_failure 2
    assert_line --index 0 "kernel_stamps: -n: 0 is out of range (1 to 1000)"
    run_bounded 5 "$LAB/async_enable_probe" -k socketpair
    assert_failure 2
    assert_line --index 0 "async_enable_probe: -k: 'socketpair' is not one of udp, pipe, fifo, inotify, pty, eventfd, timerfd, epoll"
    run_bounded 5 "$LAB/async_enable_probe" -t -1
    assert_failure 2
    assert_line --index 0 "async_enable_probe: -t: -1 is out of range (1 to 10000)"
    run_bounded 5 "$LAB/loop_echo_server" -q 1
    assert_failure 2
    assert_line --index 0 "loop_echo_server: unknown option -q"
    run_bounded 5 "$LAB/setup_steps" -k tty
    assert_failure 2
    assert_line --index 0 "setup_steps: -k: 'tty' is not one of udp, pipe, pty"
    run_bounded 5 "$LAB/setup_steps" --skip signal
    assert_failure 2
    assert_line --index 0 "setup_steps: --skip: 'signal' is not one of handler, owner, enable"
    run_bounded 5 "$LAB/setup_steps" --ctty
    assert_failure 2
    assert_line --index 0 "setup_steps: --ctty: only with -k pty"
    run_bounded 5 "$LAB/arrival_count" -n 0
    assert_failure 2
    assert_line --index 0 "arrival_count: -n: 0 is out of range (1 to 10000)"
    run_bounded 5 "$LAB/arrival_count" -r big
    assert_failure 2
    assert_line --index 0 --partial "arrival_count: -r: "
}

@test "sigio_echo_server: a port already in use is a clear one-line error and exit 1" {
    start_server "$LAB/loop_echo_server" -p 0
    run_bounded 5 "$LAB/sigio_echo_server" -p "$SERVER_PORT"
    assert_failure 1
    assert_output --partial "address already in use"
    assert_equal "${#lines[@]}" 1
}

@test "sigio_echo_server: a datagram larger than its buffer is reported as truncated, not echoed short, in every mode" {
    local mode
    for mode in batch textbook mitigate; do
        start_server "$LAB/sigio_echo_server" -p 0 --mode "$mode"
        run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -n 1 -s 3000 -T 300
        assert_failure 1
        assert_equal "$(kv lost)" 1
        assert_equal "$(kv bad)" 0
        run_bounded 10 "$CLIENT" -p "$SERVER_PORT" -n 10
        assert_success
        stop_server
        run cat "$SERVER_OUT" "$SERVER_ERR"
        assert_output --partial "truncated (MSG_TRUNC)"
        assert_equal "$(kv received)" 11
        assert_equal "$(kv truncated)" 1
        assert_equal "$(kv echoed)" 10
    done
}

# --- stopping while busy, and SIGHUP ------------------------------------------------------

@test "loop and epoll servers end within a second of SIGTERM while a client floods them and each datagram takes -w 1000000" {
    stop_while_flooded "$LAB/loop_echo_server" -w 1000000
    stop_while_flooded "$LAB/epoll_echo_server" -w 1000000
    stop_while_flooded "$LAB/epoll_echo_server" -w 100000
}

@test "sigio_echo_server ends within a second of SIGTERM with a full ring and -w 1000000, in both modes; what the ring held is counted as unechoed" {
    local mode
    for mode in batch textbook; do
        stop_while_flooded "$LAB/sigio_echo_server" --mode "$mode" -w 1000000
        # The ring filled during the first datagram's second of work: the stop left most
        # of it unechoed, and every datagram read is accounted for.
        [ "$(kv unechoed)" -gt 0 ] || fail "$mode: unechoed=$(kv unechoed): nothing was left in the ring?"
        assert_equal "$(kv received)" \
            "$(($(kv echoed) + $(kv dropped) + $(kv truncated) + $(kv send_errors) + $(kv unechoed)))"
    done
}

@test "SIGHUP: the loop, epoll and SIGIO servers print their counters (the SIGIO server its histogram first) and carry on, through a storm of 50" {
    hup_keeps_serving "$LAB/loop_echo_server"
    hup_keeps_serving "$LAB/epoll_echo_server"
    hup_keeps_serving "$LAB/sigio_echo_server"
    # The SIGIO server's report: the histogram, its totals, then the counters.
    run grep -B1 '^sighup ' "$SERVER_OUT"
    assert_line --index 0 --regexp '^signals_total=[0-9]+ datagrams_total=100$'
}

# --- memory --------------------------------------------------------------------------------

@test "sigio_echo_server's memory stays flat over 1 000 000 datagrams (VmRSS's own part, RssAnon, from before the first datagram to the end)" {
    sanitized_build && skip "the sanitizers' own allocations make VmRSS meaningless"
    start_server "$LAB/sigio_echo_server" -p 0
    # The ring is touched before "setup done": measured from there, VmRSS holds everything
    # the server will ever use. (A ring left untouched grows VmRSS by about 150 kB as the
    # first datagrams fill its slots.) The part of VmRSS that is the program's own memory,
    # RssAnon, is what must not grow (64 kB allow for the stack the first signal frames and
    # system calls reach); the rest is the C library's code pages, mapped as first used.
    wait_for_line "$SERVER_OUT" '^setup done '
    local before after vm_before vm_after
    vm_before=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
    before=$(awk '/^RssAnon:/ { print $2 }' "/proc/$SERVER_PID/status")
    run_bounded 90 "$CLIENT" -p "$SERVER_PORT" -n 1000000 -W 32 -t 80
    assert_success
    vm_after=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
    after=$(awk '/^RssAnon:/ { print $2 }' "/proc/$SERVER_PID/status")
    echo "# VmRSS $vm_before kB before the first datagram, $vm_after kB after 1 000 000 (RssAnon $before, $after)" >&3
    [ "$after" -le $((before + 64)) ] || fail "RssAnon grew from $before kB to $after kB"
    stop_and_summary
    assert_equal "$(kv received)" 1000000
}

@test "valgrind: sigio_echo_server in every mode, with SIGHUP and --stamps, has no errors and no leaks" {
    sanitized_build && skip "valgrind cannot run sanitized programs"
    require_cmd valgrind
    local mode
    for mode in batch textbook mitigate; do
        START_TIMEOUT=60 start_server valgrind -q --error-exitcode=99 --leak-check=full \
            --show-leak-kinds=all --errors-for-leak-kinds=all \
            "$LAB/sigio_echo_server" -p 0 --mode "$mode" -w 5 --stamps "$BATS_TEST_TMPDIR/stamps"
        run_bounded 60 "$CLIENT" -p "$SERVER_PORT" -n 2000 -W 16 -t 50
        assert_success
        hup_report 1
        stop_server
        run cat "$SERVER_ERR"
        assert_output ""
        assert_equal "$EXIT_STATUS" 0
    done
}
