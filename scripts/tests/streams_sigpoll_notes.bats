#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# streams_sigpoll_notes lab: APUE §14.5.1–14.5.2, UNP §25.2. Claims in chapters/claims.md.

export BATS_TEST_TIMEOUT=60
load '../lib/test_helper'

setup() {
    helper_setup
    LAB="$ROOT/streams_sigpoll_notes"
    PROBE="$LAB/sigpoll_probe"
    ORDER="$LAB/order_pitfall"
    OOB="$LAB/sigurg_oob"
}
teardown() { helper_teardown; }

# event_kinds - the distinct KIND of every "event=KIND" line in $output, sorted, one a line.
event_kinds() {
    printf '%s\n' "$output" | sed -n 's/^event=\([a-z]*\) .*/\1/p' | sort -u
}

# --- STREAMS-SETSIG: no STREAMS; the S_* mask emulated with F_SETSIG(SIGPOLL) --------------

@test "[STREAMS-SETSIG] the probe finds no STREAMS and no <stropts.h>, and the kernel refuses I_SETSIG with ENOTTY" {
    run_bounded 30 "$PROBE" --events input
    assert_success
    assert_line "streams=absent"
    # 0x5309 is ('S' << 8) | 9, the old glibc value; a socket and a pipe both refuse it.
    assert_line "i_setsig=0x5309 on=udp_socket result=ENOTTY"
    assert_line "i_setsig=0x5309 on=pipe result=ENOTTY"
    # The header: gone since glibc 2.30. What the program found when it was built must agree
    # with what the C compiler finds now.
    if bash -c "echo '#include <stropts.h>' | ${CC:-cc} -E -x c - >/dev/null 2>&1"; then
        assert_line "stropts_h=present" # a C library before 2.30: the header, but only stubs
    else
        assert_line "stropts_h=absent"
    fi
}

@test "[STREAMS-SETSIG] --events input reports input and nothing else, though Linux sent every kind" {
    run_bounded 30 "$PROBE" --events input
    assert_success
    assert_equal "$(event_kinds)" "input"
    # A pipe write and a pipe's last writer closing: two POLL_IN, reported.
    [ "$(printf '%s\n' "$output" | grep -c '^event=input .*si_code=POLL_IN')" -ge 2 ]
    # The kernel had no mask to honour: the other kinds came and were filtered out here.
    assert_line --regexp '^ignored .*si_code=POLL_OUT kinds=output,wrnorm,wrband '
    assert_line --regexp '^ignored .*si_code=POLL_ERR kinds=error '
    assert_line --regexp '^ignored .*si_code=POLL_HUP kinds=hangup '
    assert_line --regexp '^ignored .*signal=SIGURG si_code=SI_KERNEL kinds=bandurg '
    assert_equal "$(kv missing)" 0
    [ "$(kv ignored)" -ge 5 ]
}

@test "[STREAMS-SETSIG] --events error,hangup reports exactly error and hangup, each from the right step" {
    run_bounded 30 "$PROBE" --events error,hangup
    assert_success
    assert_line "events=error,hangup mask=0x30 (what I_SETSIG would have been given)"
    assert_equal "$(event_kinds | tr '\n' ' ')" "error hangup "
    assert_line --regexp '^event=error .*si_code=POLL_ERR si_band=POLLERR .*step=tcp-refused$'
    # POLL_HUP's band always carries POLLERR as well (the kernel's band table).
    assert_line --regexp '^event=hangup .*si_code=POLL_HUP si_band=POLLERR\|POLLHUP .*step=unix-close$'
    assert_line --regexp '^event=hangup .*si_code=POLL_HUP si_band=POLLERR\|POLLHUP .*step=tcp-fin$'
    refute_line --regexp '^event=.*step=pipe-'
    # Mapped by si_code: POLL_HUP's POLLERR bit does not make a hangup an error.
    refute_line --regexp '^event=error .*step=(unix-close|tcp-fin)$'
}

@test "[STREAMS-SETSIG] with every kind chosen each S_* kind appears, mapped by si_code" {
    run_bounded 30 "$PROBE"
    assert_success
    local expected="bandurg error hangup hipri input msg output rdband rdnorm wrband wrnorm"
    if printf '%s\n' "$output" | grep -q '^step=dir-notify unavailable=yes'; then
        expected=${expected/msg /} # a kernel without dnotify has no POLL_MSG source at all
    fi
    assert_equal "$(event_kinds | tr '\n' ' ')" "$expected "
    assert_line --regexp '^event=output .*si_code=POLL_OUT si_band=POLLOUT\|POLLWRNORM\|POLLWRBAND .*step=pipe-read$'
    assert_line --regexp '^event=hipri .*signal=SIGPOLL si_code=POLL_PRI si_band=POLLPRI\|POLLRDBAND .*step=tcp-urgent$'
    assert_line --regexp '^event=bandurg .*signal=SIGURG si_code=SI_KERNEL .*step=tcp-urgent$'
    # A pipe's hangup is not POLL_HUP: the last writer closing is POLL_IN.
    assert_line --regexp '^event=input .*si_code=POLL_IN .*step=pipe-close$'
    refute_line --regexp '^event=hangup .*step=pipe-'
    assert_equal "$(kv ignored)" 0
    assert_equal "$(kv missing)" 0
}

@test "[STREAMS-SETSIG] --table lists the eleven S_* events of APUE Figure 14.18 with a Linux counterpart or none" {
    run_bounded 10 "$PROBE" --table
    assert_success
    assert_equal "$(printf '%s\n' "$output" | grep -c '^S_')" 11
    assert_line --regexp '^S_INPUT +0x0001 +POLL_IN '
    assert_line --regexp '^S_BANDURG +0x0200 +SIGURG '
    assert_line --regexp '^S_WRNORM +0x0004 +POLL_OUT '
    assert_line --regexp '^S_MSG +0x0008 +POLL_MSG .*no pipe or socket'
}

# --- SIGPOLL-IS-SIGIO ---------------------------------------------------------------------

@test "[SIGPOLL-IS-SIGIO] SIGPOLL and SIGIO are one signal number, to the program and to the C headers" {
    run_bounded 30 "$PROBE" --events input
    assert_success
    assert_line --regexp '^sigpoll=[0-9]+ sigio=[0-9]+ same=yes$'
    # F_SETSIG(SIGPOLL) notifications carry full siginfo: a si_code, not SI_KERNEL.
    assert_line --regexp '^event=input n=[0-9]+ signal=SIGPOLL si_code=POLL_IN si_band=POLLIN\|POLLRDNORM fd=[0-9]+ '
    local n
    n=$(kv sigio)
    assert_equal "$(kv sigpoll)" "$n"
    # The C library's header, read by the compiler on its own, says the same.
    run bash -c "printf '#include <signal.h>\\nSIGPOLL SIGIO\\n' | ${CC:-cc} -E -P -x c - | tail -n 1"
    assert_output "$n $n"
}

# --- the first read ---------------------------------------------------------------------

@test "first_order: handler, owner, O_ASYNC: of three pokes only the last is signalled, caught, and all three bytes arrive" {
    run_bounded 20 "$LAB/first_order"
    assert_success
    assert_equal "$(printf '%s\n' "$output" | grep '^step=' | paste -sd' ' -)" \
        "step=handler sigio=0 step=owner sigio=0 step=async sigio=1"
    assert_line "order=handler,owner,async pokes=3 sigio=1 bytes=3"
}

@test "first_order -w: owner and O_ASYNC before the handler: the poke after O_ASYNC kills it with SIGIO" {
    run_bounded 20 "$LAB/first_order" -w
    assert_equal "$status" $((128 + $(kill -l IO)))
    assert_equal "$output" "step=owner sigio=0"
}

# --- ORDER-HANDLER-FIRST --------------------------------------------------------------------

@test "[ORDER-HANDLER-FIRST] wrong order and exec are killed by SIGIO; right order and O_ASYNC off before exec survive" {
    run_bounded 40 "$ORDER"
    assert_success
    assert_line "case=wrong_order outcome=killed signal=SIGIO"
    assert_line "case=right_order outcome=survived"
    assert_line "case=exec_inherits outcome=killed signal=SIGIO"
    assert_line "case=exec_fixed outcome=survived"
    assert_line "cases=4 as_expected=4"
    # The survivors really had the data: read by the handler's owner, waiting in the exec'd one.
    assert_line "  child: caught SIGIO, read 5 bytes: hello"
    assert_line "  exec'd program: 5 bytes arrived and no signal came"
    # And the exec'd program had lost the handler but kept O_ASYNC.
    assert_line --partial "SIGIO's action is the default (the handler did not survive exec); the inherited socket has O_ASYNC on"
    assert_line --partial "the inherited socket has O_ASYNC off"
}

@test "[ORDER-HANDLER-FIRST] the killed cases died of SIGIO itself, not of a timeout or the safety alarm" {
    run_bounded 40 "$ORDER" -c wrong_order -c exec_inherits -c wrong_order
    assert_success
    assert_equal "$(printf '%s\n' "$output" | grep -c 'outcome=killed signal=SIGIO$')" 3
    refute_output --partial "outcome=timeout"
    refute_output --partial "still alive after the data"
}

# --- BSD-SIGURG -----------------------------------------------------------------------------

@test "[BSD-SIGURG] urgent data raises SIGURG with only F_SETOWN, and nothing else without O_ASYNC" {
    run_bounded 30 "$OOB" -m owner
    assert_success
    assert_line "mode=owner f_setown=yes o_async=no f_setsig=0"
    assert_line "signal=SIGURG si_code=SI_KERNEL"
    assert_line "summary mode=owner sigurg=1 poll_pri=0 poll_in=0 plain_sigio=0 ok=yes"
}

@test "[BSD-SIGURG] SIOCATMARK finds the mark and the urgent byte comes back intact out of band" {
    run_bounded 30 "$OOB" -m owner
    assert_success
    assert_line "read before_mark=abcxyz"
    assert_line "atmark=1"
    assert_line "read oob=!"
    assert_line "read after_mark=def"
}

@test "[BSD-SIGURG] with O_ASYNC and F_SETSIG a POLL_PRI notification comes as well; with F_SETSIG 0 it does not" {
    run_bounded 30 "$OOB" -m setsig
    assert_success
    assert_line "signal=SIGURG si_code=SI_KERNEL"
    assert_line --regexp '^signal=SIGRTMIN si_code=POLL_PRI si_band=POLLPRI\|POLLRDBAND fd=[0-9]+$'
    assert_line --regexp '^summary mode=setsig sigurg=1 poll_pri=1 poll_in=[1-9][0-9]* plain_sigio=0 ok=yes$'
    run_bounded 30 "$OOB" -m plain
    assert_success
    assert_line --regexp '^summary mode=plain sigurg=1 poll_pri=0 poll_in=0 plain_sigio=[1-9][0-9]* ok=yes$'
}

# --- bad input, and clean runs under valgrind -------------------------------------------

@test "an unknown --events name is a usage error (exit 2) that names it" {
    run_bounded 5 "$PROBE" --events input,urgent
    assert_failure 2
    assert_line --index 0 --partial "sigpoll_probe: --events: unknown event 'urgent'"
    assert_line --index 1 --partial "usage: sigpoll_probe"
    run_bounded 5 "$PROBE" --events ""
    assert_failure 2
    assert_line --index 0 "sigpoll_probe: --events: the list is empty"
    run_bounded 5 "$PROBE" --events input,
    assert_failure 2
    run_bounded 5 "$PROBE" --events
    assert_failure 2
    assert_line --index 0 "sigpoll_probe: option --events needs a value"
}

@test "unknown cases and modes, and extra arguments, are usage errors (exit 2)" {
    run_bounded 5 "$ORDER" -c late_handler
    assert_failure 2
    assert_line --index 0 --partial "order_pitfall: -c: unknown case 'late_handler'"
    run_bounded 5 "$OOB" -m inline
    assert_failure 2
    assert_line --index 0 --partial "sigurg_oob: -m: unknown mode 'inline'"
    local prog
    for prog in "$PROBE" "$ORDER" "$OOB"; do
        run_bounded 5 "$prog" extra
        assert_failure 2
        assert_line --index 0 --partial "unexpected argument 'extra'"
    done
}

@test "the three programs run clean under valgrind (no errors, no leaks)" {
    require_cmd valgrind
    sanitized_build && skip "valgrind cannot run a sanitized build"
    local prog
    for prog in "$PROBE" "$ORDER" "$OOB"; do
        # shellcheck disable=SC2086 # $prog holds a command and its arguments
        run_bounded 60 valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=all $prog
        assert_success
    done
}
