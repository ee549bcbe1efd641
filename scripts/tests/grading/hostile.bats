#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# A hostile student program cannot hang or kill the grader, and leaves nothing running:
# in place of first_echo.c (exercise udp-setup) we put a program that loops forever, one
# that sends SIGIO and SIGKILL to its own process group, one that forks a child which
# calls setsid() and sleeps while the parent ignores SIGTERM, and one that floods stdout.
# Each gets FAIL within the bound, the grader prints its Score line, and no process of the
# run is left (found by a mark in the environment, by PID). Long: make test-grading.

load 'grading_helper'

setup() {
    helper_setup
    compgen -G "$ROOT/udp_sigio/exercises/udp-setup/exercise.md" >/dev/null ||
        skip "udp_sigio has no exercise udp-setup"
    WORK="$BATS_TEST_TMPDIR/work"
    scratch "$WORK" udp_sigio
}
teardown() { helper_teardown; }

# hostile C-BODY [VAR=VALUE...] - first_echo.c becomes a main() with C-BODY; grade
# udp-setup with the grader's bound of 60 s, and VAR=VALUE in its environment.
hostile() {
    {
        echo '/* SPDX-License-Identifier: MIT */'
        echo '#include <signal.h>'
        echo '#include <stdio.h>'
        echo '#include <unistd.h>'
        echo 'int main(void)'
        echo '{'
        printf '%s\n' "$1"
        echo '    return 0;'
        echo '}'
    } >"$WORK/udp_sigio/first_echo.c"
    shift
    local start=$SECONDS
    MARK="m$$x$RANDOM"
    GRADE_TEST_MARK=$MARK run env "$@" GRADE_TIMEOUT=60 timeout -k 5 120 "$WORK/scripts/grade" \
        -l udp_sigio -e udp-setup --json "$BATS_TEST_TMPDIR/grade.json"
    ELAPSED=$((SECONDS - start))
    assert_success
    assert_line --regexp '^FAIL  udp-setup  0/10  '
    assert_equal "${lines[-1]}" "Score: 0/10"
    [ "$ELAPSED" -le 75 ] || fail "grading took $ELAPSED s (bound 60 s)"
    no_survivors
}

@test "[hostile] a program that loops forever and never listens: FAIL in bounded time, nothing left" {
    hostile '    for (;;) { }'
}

@test "[hostile] a program that sends SIGIO and SIGKILL to its own process group: FAIL, the grader goes on" {
    hostile '    printf("listening on 127.0.0.1:9\n");
    fflush(stdout);
    kill(0, SIGIO);
    kill(0, SIGKILL);'
}

# The body of a program whose child escapes into a session of its own and which ignores
# SIGTERM: graded twice, with and without the PID namespace.
SETSID_CHILD='    signal(SIGTERM, SIG_IGN);
    if (fork() == 0) {
        setsid();
        for (;;)
            sleep(1);
    }
    printf("listening on 127.0.0.1:9\n");
    fflush(stdout);
    for (;;)
        pause();'

@test "[hostile] a program whose child calls setsid() and sleeps, and which ignores SIGTERM: FAIL, both killed" {
    hostile "$SETSID_CHILD"
}

@test "[hostile] a program that floods stdout: capped at 1 MiB, FAIL, nothing left" {
    hostile '    signal(SIGXFSZ, SIG_IGN);
    printf("listening on 127.0.0.1:9\n");
    for (;;)
        fputs("flooding the grader with output that nobody asked for\n", stdout);'
    local size
    size=$(du -k "$BATS_TEST_TMPDIR/grade.json" | cut -f1)
    [ "$size" -lt 64 ] || fail "grade.json is ${size} KiB"
}

@test "[hostile] without a PID namespace (the environment tag alone) the setsid() child is killed too" {
    hostile "$SETSID_CHILD" GRADE_NO_PIDNS=1
}
