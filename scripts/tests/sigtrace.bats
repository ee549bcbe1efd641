#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# scripts/sigtrace: the kernel's own account of signal-driven I/O (tracepoints
# signal:signal_generate and signal:signal_deliver). Claims TRACE-* in chapters/claims.md.
# Every test that traces skips, with sigtrace's reason, where tracefs cannot be used.

export BATS_TEST_TIMEOUT=40
load '../lib/test_helper'

setup() {
    helper_setup
    SIGTRACE="$ROOT/scripts/sigtrace"
    RT="$ROOT/rtsig_setsig"
    # sigtrace's temporary files, and its private tracefs mount if it makes one, go here,
    # where the state check can tell them from those of other runs.
    export TMPDIR=$BATS_TEST_TMPDIR
}
teardown() {
    local pid
    # SIGTERM first: sigtrace cleans up on it (SIGKILL would leave its instance behind).
    for pid in ${BG_PIDS:-}; do
        if kill -TERM "$pid" 2>/dev/null; then
            wait_pid_exit "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    # The test's own tracefs mount (tfs), by its path: tfs may have run only in a command
    # substitution, which left TFS unset here. A mount left in the test's folder would
    # stay mounted, and bats would then run rm -rf through it.
    if mountpoint -q "$BATS_TEST_TMPDIR/tfs"; then
        umount "$BATS_TEST_TMPDIR/tfs"
    fi
    helper_teardown
}

# trace ARGS... - run sigtrace (bounded); skip with its reason when it says "not here" (4).
trace() {
    run_bounded 30 "$SIGTRACE" "$@" 3>&-
    skip_if_unsupported
}

# tfs - a private tracefs mount of the test's own, to look at the tracing state with (made
# once per test, removed by teardown). Prints its path.
tfs() {
    TFS="$BATS_TEST_TMPDIR/tfs"
    if ! mountpoint -q "$TFS"; then
        mkdir -p "$TFS"
        mount -t tracefs nodev "$TFS" || return 1
    fi
}

# tracefs_state - what sigtrace must leave as it found it: the tracefs mounts (but the
# test's own and those of other tests) and the instances (other than those of sigtrace runs of other tests, which
# may come and go meanwhile), tracing_on, the global event enables, set_event, the trace
# options, the tracer.
tracefs_state() {
    tfs || return 1
    # The standard places, and any left under this test's directory (where sigtrace makes
    # its private mount, TMPDIR being that directory); other tests' mounts come and go.
    echo "mounts: $(awk -v mine="$BATS_TEST_TMPDIR/" -v own="$TFS" '$3 == "tracefs" && $2 != own && ($2 == "/sys/kernel/tracing" || $2 == "/sys/kernel/debug/tracing" || index($2, mine) == 1)' /proc/mounts | sort | tr '\n' ' ')"
    echo "instances: $(find "$TFS/instances" -mindepth 1 -maxdepth 1 -printf '%f\n' | grep -v '^sigtrace-' | sort | tr '\n' ' ')"
    echo "tracing_on: $(cat "$TFS/tracing_on")"
    echo "events/enable: $(cat "$TFS/events/enable")"
    echo "signal/enable: $(cat "$TFS/events/signal/enable")"
    echo "sched/enable: $(cat "$TFS/events/sched/enable")"
    echo "set_event: $(sort "$TFS/set_event" | tr '\n' ' ')"
    echo "trace_options: $(tr '\n' ' ' <"$TFS/trace_options")"
    echo "current_tracer: $(cat "$TFS/current_tracer")"
}

# instance_exists PID - whether sigtrace PID's instance is there.
instance_exists() {
    tfs || return 2
    [ -d "$TFS/instances/sigtrace-$1" ]
}

# require_tracing - skip unless sigtrace can trace here (it says why not).
require_tracing() {
    local out rc=0
    out=$("$SIGTRACE" --check 2>&1 3>&-) || rc=$?
    [ "$rc" -ne 4 ] || skip "$out"
    [ "$rc" -eq 0 ] || fail "sigtrace --check: status $rc: $out"
}

@test "sigtrace -h prints its usage and exits 0; a bad option or no command gives exit 2" {
    run "$SIGTRACE" -h
    assert_success
    assert_line --partial 'usage: sigtrace'
    run "$SIGTRACE" --bogus -- true
    assert_failure 2
    assert_line --index 0 "sigtrace: unknown option '--bogus'"
    run "$SIGTRACE" -s NOSUCHSIG -- true
    assert_failure 2
    assert_line --index 0 "sigtrace: -s: unknown signal 'NOSUCHSIG'"
    run "$SIGTRACE" -b 1 -- true
    assert_failure 2
    run "$SIGTRACE" -q
    assert_failure 2
}

@test "-o naming a file that cannot be written: one line naming -o, exit 1, and the command never runs" {
    local ran="$BATS_TEST_TMPDIR/ran" file
    for file in "$BATS_TEST_TMPDIR/no/such/dir/out" ''; do
        run_bounded 10 "$SIGTRACE" -q -o "$file" -- touch "$ran"
        assert_failure 1
        assert_equal "${#lines[@]}" 1
        assert_output "sigtrace: -o '$file': cannot write the file: No such file or directory"
        [ ! -e "$ran" ] || fail "the command ran although -o '$file' cannot be written"
    done
}

@test "without privilege sigtrace exits 4 with one line saying what is missing" {
    if [ "$(id -u)" -eq 0 ]; then
        require_cmd setpriv
        run_bounded 10 setpriv --reuid=nobody --regid=nogroup --clear-groups "$SIGTRACE" -q -- true 3>&-
    else
        run_bounded 10 "$SIGTRACE" -q -- true 3>&-
    fi
    assert_failure 4
    assert_equal "${#lines[@]}" 1
    assert_output --regexp '^sigtrace: .*(root|CAP_SYS_ADMIN|tracefs|CONFIG_TRACING)'
}

@test "[TRACE-MERGE-AT-GENERATION] 7 datagrams while SIGIO is blocked: 1 delivered and 6 merged at generation, 1 handler call" {
    trace -s IO -- "$RT/coalesce_demo" --signal sigio -k 7
    assert_success
    assert_equal "$(kv handler_calls)" 1
    assert_equal "$(kv SIGIO.generated)" 7
    assert_equal "$(kv SIGIO.delivered)" 1
    assert_equal "$(kv SIGIO.merged)" 6
    assert_equal "$(kv SIGIO.handler)" 1
    assert_equal "$(kv lost_events)" 0
    # In time order: the one queued comes first, the merged ones follow, the delivery last.
    run grep -E ' (generate|deliver) ' <<<"$output"
    assert_line --index 0 --regexp ' generate +SIGIO +SI_KERNEL +delivered$'
    assert_line --index 1 --regexp ' generate +SIGIO +SI_KERNEL +merged$'
    assert_line --index 6 --regexp ' generate +SIGIO +SI_KERNEL +merged$'
    assert_line --index 7 --regexp ' deliver +SIGIO +SI_KERNEL +handler'
}

@test "[TRACE-MERGE-AT-GENERATION] 9 datagrams with F_SETSIG(SIGRTMIN): 9 delivered, none merged, 9 handler calls" {
    trace -- "$RT/coalesce_demo" --signal rt -k 9
    assert_success
    assert_equal "$(kv SIGRTMIN.generated)" 9
    assert_equal "$(kv SIGRTMIN.delivered)" 9
    assert_equal "$(kv SIGRTMIN.merged)" ""
    assert_equal "$(kv SIGRTMIN.handler)" 9
    refute_output --partial 'SIGIO.generated='
}

@test "-s chooses the signals: RTMIN counts the 3 realtime signals, IO,URG sees none of them" {
    trace -q -s RTMIN -- "$RT/coalesce_demo" --signal rt -k 3
    assert_success
    assert_equal "$(kv SIGRTMIN.generated)" 3
    assert_equal "$(kv SIGRTMIN.handler)" 3
    trace -q -s IO,URG -- "$RT/coalesce_demo" --signal rt -k 3
    assert_success
    # (pids= counts the sanitized build's leak checker too, which the kernel sees as a fork.)
    assert_line --regexp '^sigtrace: status=0 pids=[1-9][0-9]* events=0 lost_events=0$'
}

@test "[TRACE-OVERFLOW-FALLBACK] queue limit 5, 8 events: 5 realtime delivered, 3 refused, each followed by SIGIO (1 delivered, 2 merged)" {
    unshare --user true 2>/dev/null || skip "no user namespaces here: the signal count is not this test's alone"
    trace -- unshare --user "$RT/overflow_demo" -l 5 -k 8
    assert_success
    assert_equal "$(kv SIGRTMIN.generated)" 8
    assert_equal "$(kv SIGRTMIN.delivered)" 5
    assert_equal "$(kv SIGRTMIN.refused-queue-full)" 3
    assert_equal "$(kv SIGIO.generated)" 3
    assert_equal "$(kv SIGIO.delivered)" 1
    assert_equal "$(kv SIGIO.merged)" 2
    # The order: 5 queued, then refused realtime / SIGIO pairs.
    run grep -E ' generate ' <<<"$output"
    assert_line --index 4 --regexp 'SIGRTMIN +POLL_IN +delivered$'
    assert_line --index 5 --regexp 'SIGRTMIN +POLL_IN +refused-queue-full$'
    assert_line --index 6 --regexp 'SIGIO +SI_KERNEL +delivered$'
    assert_line --index 7 --regexp 'SIGRTMIN +POLL_IN +refused-queue-full$'
    assert_line --index 8 --regexp 'SIGIO +SI_KERNEL +merged$'
}

@test "[TRACE-SOCKET-PATH] --path: a datagram's SIGIO goes udp_sendmsg → … → sock_def_readable → sock_wake_async → kill_fasync → send_sigio" {
    trace --path -s IO -- "$RT/coalesce_demo" --signal sigio -k 2
    assert_success
    run grep -E '^ +path: ' <<<"$output"
    assert_equal "${#lines[@]}" 2
    assert_line --index 0 --regexp '^ +path: udp_sendmsg → .*__udp_enqueue_schedule_skb → sock_def_readable → sock_wake_async → kill_fasync → send_sigio$'
    assert_equal "${lines[0]}" "${lines[1]}"
}

@test "[TRACE-UDP-ONE-PER-DATAGRAM] 300 datagrams to the SIGIO echo server: 300 generated; delivered = handler calls = the server's signals; the rest merged" {
    require_tracing
    start_server "$SIGTRACE" -s IO -o "$BATS_TEST_TMPDIR/trace" -- "$ROOT/udp_sigio/sigio_echo_server" -p 0
    run_bounded 20 "$ROOT/udp_sigio/udp_echo_client" -p "$SERVER_PORT" -n 300 -W 16
    assert_success
    assert_equal "$(kv received)" 300
    stop_server
    assert_equal "$EXIT_STATUS" 143
    local server trace
    server=$(grep '^received=' "$SERVER_OUT")
    trace=$(tail -n 1 "$BATS_TEST_TMPDIR/trace")
    assert_equal "$(kv received "$server")" 300
    assert_equal "$(kv SIGIO.generated "$trace")" 300
    assert_equal "$(kv SIGIO.delivered "$trace")" "$(kv signals "$server")"
    assert_equal "$(kv SIGIO.handler "$trace")" "$(kv signals "$server")"
    assert_equal "$(( $(kv SIGIO.delivered "$trace") + $(kv SIGIO.merged "$trace") ))" 300
    assert_equal "$(kv lost_events "$trace")" 0
}

@test "[TRACE-LISTEN-HANDSHAKE] --path: the listener's SIGIO is raised by the handshake's last ACK (tcp_child_process); a bare SYN raises none" {
    trace --path -s IO -- unshare -rn "$ROOT/scripts/tcp_sigio_listen-bare-syn.sh"
    [ "$status" -ne 4 ] || skip "raw sockets not allowed here: $output"
    assert_success
    assert_equal "$(kv after_syn_signals)" 0
    assert_equal "$(kv SIGIO.generated)" 1
    assert_equal "$(kv SIGIO.delivered)" 1
    assert_equal "$(kv SIGIO.handler)" 1
    assert_output --regexp 'path: .*tcp_v4_rcv → tcp_child_process → sock_def_readable → sock_wake_async → kill_fasync → send_sigio'
}

@test "[TRACE-TCP-WAKEUPS] each TCP notification comes from its wake-up: data, room, RST, FIN, urgent data; the silent steps raise nothing" {
    require_tracing
    run_bounded 30 "$ROOT/scripts/tcp_sigio_pitfalls-wakeups.sh" 3>&-
    skip_if_unsupported
    assert_success
    assert_line --regexp $'^[0-9]+\tlistener_connection\tSIGRTMIN\tPOLL_IN\ttcp_child_process → sock_def_readable$'
    assert_line --regexp $'^[0-9]+\tdata_arrived\tSIGRTMIN\tPOLL_IN\ttcp_data_queue → sock_def_readable$'
    assert_line --regexp $'^[0-9]+\tbuffer_space_freed\tSIGRTMIN\tPOLL_OUT\ttcp_check_space → sk_stream_write_space$'
    assert_line --regexp $'^[0-9]+\trst_error\tSIGRTMIN\tPOLL_ERR\t.*sock_def_error_report$'
    assert_line --regexp $'^[0-9]+\tpeer_half_close\tSIGRTMIN\tPOLL_IN\ttcp_fin$'
    assert_line --regexp $'^[0-9]+\turgent_data\tSIGURG\tSI_KERNEL\ttcp_urg → sk_send_sigurg$'
    # The steps that raise nothing have no row. tcp_events runs its steps in order, so the
    # row of its last step (12) shows that they ran: 4 data_acked, 10 local_shutdown and
    # 11 own_fin_acked.
    assert_line --regexp $'^12\tfin_after_own_shutdown\tSIGRTMIN\tPOLL_HUP\ttcp_fin$'
    refute_output --regexp $'\t(data_acked|local_shutdown|own_fin_acked)\t'
}

@test "[TRACE-DEFAULT-KILLS] SIGIO before the handler: delivered at generation, and the process ends (the kernel records SIGKILL)" {
    trace -- "$ROOT/streams_sigpoll_notes/order_pitfall" -c wrong_order
    assert_success
    assert_line 'case=wrong_order outcome=killed signal=SIGIO'
    assert_equal "$(kv SIGIO.generated)" 1
    assert_equal "$(kv SIGIO.delivered)" 1
    assert_equal "$(kv SIGIO.handler)" ""
    # The SIGKILL the kernel gave the process was never generated as a signal of its own.
    assert_equal "$(kv SIGKILL.generated)" ""
    assert_equal "$(kv SIGKILL.default)" 1
    assert_line --regexp ' deliver +SIGKILL .*the process ends: the default action of a fatal signal \(group exit\)$'
}

# stop_trace_midway SIGNAL STATUS - sigtrace on a listen_server, in a session of its own;
# once it traces (its instance exists), SIGNAL to sigtrace. Checks that sigtrace ends with
# STATUS, the server with it, and that its tracing instance is gone. Its output stays in
# $MIDWAY_OUT.
stop_trace_midway() {
    local sig=$1 status=$2 pid server
    MIDWAY_OUT="$BATS_TEST_TMPDIR/midway.out"
    setsid "$SIGTRACE" -s IO -- "$ROOT/tcp_sigio_listen/listen_server" -p 0 >"$MIDWAY_OUT" 2>&1 </dev/null 3>&- &
    pid=$!
    BG_PIDS="$pid"
    wait_for_line "$MIDWAY_OUT" '^listening on ' 10
    instance_exists "$pid" || fail "no instance sigtrace-$pid while tracing"
    server=$(pgrep -P "$pid" listen_server) || fail "no listen_server under sigtrace"
    kill "-$sig" "$pid"
    wait_pid_exit "$pid" 10 || fail "sigtrace did not end within 10 s of SIG$sig"
    assert_equal "$EXIT_STATUS" "$status"
    ! kill -0 "$server" 2>/dev/null || fail "listen_server $server still runs"
    run instance_exists "$pid"
    assert_failure 1
}

@test "the tracing state is as before after a trace, and after SIGINT in the middle (exit 130, command ended, instance gone)" {
    require_tracing
    local before after
    before=$(tracefs_state)
    trace --path -- "$RT/coalesce_demo" --signal sigio -k 3
    assert_success
    after=$(tracefs_state)
    assert_equal "$after" "$before"

    stop_trace_midway INT 130
    grep -q '^sigtrace: status=' "$MIDWAY_OUT" || fail "no summary line after SIGINT: $(cat "$MIDWAY_OUT")"
    after=$(tracefs_state)
    assert_equal "$after" "$before"
}

@test "the tracing state is as before also after SIGTERM in the middle (exit 143) and after a command that cannot be run (exit 126)" {
    require_tracing
    local before after
    before=$(tracefs_state)
    # A file that is not executable: env says so and exits 126. (Not a missing command:
    # bats 1.8's run, with fd 3 closed, ends the whole test file on a status of 127.)
    touch "$BATS_TEST_TMPDIR/not-executable"
    trace -q -- "$BATS_TEST_TMPDIR/not-executable"
    assert_failure 126
    assert_line --regexp '^sigtrace: status=126 '
    after=$(tracefs_state)
    assert_equal "$after" "$before"

    stop_trace_midway TERM 143
    after=$(tracefs_state)
    assert_equal "$after" "$before"
}

@test "two traces at once: each counts only its own command's signals" {
    require_tracing
    local go="$BATS_TEST_TMPDIR/go" a b out_a="$BATS_TEST_TMPDIR/a" out_b="$BATS_TEST_TMPDIR/b"
    # Both commands wait for the same file, so both traces are running when they start.
    # shellcheck disable=SC2016 # expanded by the inner shell
    local wait_go='deadline=$((SECONDS + 20)); until [ -e "$0" ]; do [ "$SECONDS" -lt "$deadline" ] || exit 9; sleep 0.01; done; shift; exec "$@"'
    setsid "$SIGTRACE" -q -s IO -- bash -c "$wait_go" "$go" x "$RT/coalesce_demo" --signal sigio -k 4 >"$out_a" 2>&1 </dev/null 3>&- &
    a=$!
    setsid "$SIGTRACE" -q -s IO -- bash -c "$wait_go" "$go" x "$RT/coalesce_demo" --signal sigio -k 11 >"$out_b" 2>&1 </dev/null 3>&- &
    b=$!
    BG_PIDS="$a $b"
    local deadline=$((SECONDS + 10))
    until instance_exists "$a" && instance_exists "$b"; do
        [ "$SECONDS" -lt "$deadline" ] || fail "the two instances did not both appear"
        sleep 0.05
    done
    touch "$go"
    wait_pid_exit "$a" 20 || fail "trace a did not end"
    assert_equal "$EXIT_STATUS" 0
    wait_pid_exit "$b" 20 || fail "trace b did not end"
    assert_equal "$EXIT_STATUS" 0
    local sa sb
    sa=$(grep '^sigtrace: ' "$out_a")
    sb=$(grep '^sigtrace: ' "$out_b")
    assert_equal "$(kv SIGIO.generated "$sa") $(kv SIGIO.delivered "$sa") $(kv SIGIO.merged "$sa")" "4 1 3"
    assert_equal "$(kv SIGIO.generated "$sb") $(kv SIGIO.delivered "$sb") $(kv SIGIO.merged "$sb")" "11 1 10"
}
