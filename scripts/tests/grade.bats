#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016
# (the check scripts below are in single quotes on purpose: their own shell expands them)
# The grader (scripts/grade) and the library the exercises' checks use
# (scripts/lib/grade.bash), on small exercises made up here: the score line, grade.json,
# SKIP, a check that hangs, and programs that hang, flood, fork away or signal their group.
# The real exercises are graded by the "make grade" test below and, at length, by
# make test-grading.

load '../lib/test_helper'

setup() {
    helper_setup
    FAKE="$BATS_TEST_TMPDIR/root"
    mkdir -p "$FAKE/scripts/lib" "$FAKE/fake/exercises"
    cp "$ROOT/scripts/grade" "$FAKE/scripts/"
    cp "$ROOT/scripts/lib/grade.bash" "$FAKE/scripts/lib/"
}
teardown() { helper_teardown; }

# exercise ID POINTS BODY - a write exercise of the fake lab whose check runs BODY.
exercise() {
    local dir="$FAKE/fake/exercises/$1"
    mkdir -p "$dir"
    printf '# %s: title of %s\nKind: write\nPoints: %s\nDifficulty: easy\nTime: 5 min\nNeeds: none\nFiles: x.c\nObjective: none.\n' \
        "$1" "$1" "$2" >"$dir/exercise.md"
    printf '#!/usr/bin/env bash\n. "$ROOT/scripts/lib/grade.bash"\n%s\n' "$3" >"$dir/check"
    chmod +x "$dir/check"
}

# graded CMD... - run CMD (the grader) with a mark in its environment that everything it
# starts inherits, even a program that leaves its session; then no_survivors finds them.
graded() {
    MARK="m$$x$RANDOM"
    GRADE_TEST_MARK=$MARK run_bounded 60 "$@"
}

# no_survivors - no process with the last graded run's mark is left (found by PID in
# /proc/PID/environ; a PID a program reports from inside a PID namespace is not ours).
no_survivors() {
    local f pid left=()
    while IFS= read -r f; do
        f=${f#/proc/}
        pid=${f%/environ}
        left+=("$pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)")
        kill -KILL "$pid" 2>/dev/null
    done < <(grep -lzx -- "GRADE_TEST_MARK=$MARK" /proc/[0-9]*/environ 2>/dev/null)
    [ "${#left[@]}" -eq 0 ] || fail "left running: ${left[*]}"
}

@test "grade: -h prints the usage; a bad option, a missing value or an unknown lab exits 2" {
    run_bounded 10 "$FAKE/scripts/grade" -h
    assert_success
    assert_line --partial "Usage: scripts/grade [-l LAB]"
    run_bounded 10 "$FAKE/scripts/grade" --bogus
    assert_failure 2
    assert_line --index 0 "grade: unknown option '--bogus'"
    run_bounded 10 "$FAKE/scripts/grade" -l
    assert_failure 2
    run_bounded 10 "$FAKE/scripts/grade" -l no_such_lab
    assert_failure 2
}

@test "grade: PASS, FAIL and SKIP lines with points, Score: N/M last, SKIP counted in neither, grade.json" {
    exercise f-pass 10 'g_run 5 echo hello; g_expect "exit status" 0 "$G_STATUS"; g_expect output hello "$(cat "$G_OUT")"; g_done'
    exercise f-fail 5 'g_run 5 sh -c "exit 3"; g_expect "exit status" 0 "$G_STATUS"; g_done'
    exercise f-skip 7 'g_skip "needs root"'
    cd "$FAKE"
    run_bounded 60 scripts/grade --json "$BATS_TEST_TMPDIR/g.json"
    assert_success
    assert_line --regexp '^PASS  f-pass  10/10  title of f-pass$'
    assert_line --regexp '^FAIL  f-fail  0/5  title of f-fail$'
    assert_line --partial 'FAIL: exit status: expected 0, saw 3'
    assert_line --regexp '^SKIP  f-skip  0/7  title of f-skip$'
    assert_equal "${lines[-1]}" "Score: 10/15"
    run cat "$BATS_TEST_TMPDIR/g.json"
    assert_line --partial '"score": 10,'
    assert_line --partial '"max": 15,'
    assert_line --partial '"id": "f-fail", "title": "title of f-fail", "kind": "write", "status": "FAIL", "points": 0, "max": 5, "output_tail": "FAIL: exit status: expected 0, saw 3"'
    # -e grades one exercise only.
    run_bounded 60 scripts/grade -e f-pass --json "$BATS_TEST_TMPDIR/one.json"
    assert_equal "${#lines[@]}" 2
    assert_equal "${lines[-1]}" "Score: 10/10"
}

@test "grade.bash: g_predict judges each observed key; an empty or missing prediction is wrong" {
    printf '# comment\na=1\nb = x \nc=\nextra=9\n' >"$BATS_TEST_TMPDIR/pred"
    exercise f-predict 4 'printf "a=1\nb=x\nc=3\nd=4\n" >"$GRADE_TMP/obs"; g_predict "$GRADE_TMP/obs"; g_done'
    cd "$FAKE"
    mkdir -p "$BATS_TEST_TMPDIR/keys/fake"
    cp "$BATS_TEST_TMPDIR/pred" "$BATS_TEST_TMPDIR/keys/fake/f-predict.predictions"
    run_bounded 60 scripts/grade --predictions-from "$BATS_TEST_TMPDIR/keys" --json "$BATS_TEST_TMPDIR/g.json"
    assert_line --regexp '^FAIL  f-predict  0/4'
    assert_line --partial 'ok a=1'
    assert_line --partial 'ok b=x'
    assert_line --partial 'WRONG c: you predicted (nothing), this kernel gave 3'
    assert_line --partial 'WRONG d: you predicted (nothing), this kernel gave 4'
    # Without --predictions-from the student's own file in the exercise folder is judged.
    printf 'a=1\nb=x\nc=3\nd=4\n' >"$FAKE/fake/exercises/f-predict/predictions.txt"
    run_bounded 60 scripts/grade --json "$BATS_TEST_TMPDIR/g.json"
    assert_line --regexp '^PASS  f-predict  4/4'
}

@test "grade: a check that hangs is killed at the bound and fails; nothing it started survives" {
    exercise f-hang 5 'sleep 300 & (setsid sleep 300 &); sleep 300'
    cd "$FAKE"
    local start=$SECONDS
    GRADE_TIMEOUT=3 graded scripts/grade --json "$BATS_TEST_TMPDIR/g.json"
    assert_success
    assert_line --regexp '^FAIL  f-hang  0/5'
    assert_line --partial 'did not finish within 3 s'
    assert_equal "${lines[-1]}" "Score: 0/5"
    [ $((SECONDS - start)) -lt 20 ] || fail "took $((SECONDS - start)) s"
    no_survivors
}

@test "grade.bash: programs that hang, signal their own group, fork and setsid away, or flood get a status and leave nothing" {
    exercise f-hostile 5 '
g_run 2 bash -c "while :; do :; done"
echo "loop status=$G_STATUS"
g_run 10 bash -c "sleep 300 & kill -KILL 0"
echo "killgroup status=$G_STATUS"
g_run 10 bash -c "sleep 300 & kill -IO 0; wait"
echo "siogroup status=$G_STATUS"
g_run 3 bash -c "setsid sleep 300 & sleep 300"
echo "escape status=$G_STATUS"
g_run 10 yes
echo "flood status=$G_STATUS bytes=$(wc -c <"$G_OUT")"
g_start bash -c "echo listening on 127.0.0.1:4242; setsid sleep 300 & exec sleep 300"
echo "server port=$G_PORT"
g_stop
echo "stop status=$G_STATUS"
g_start bash -c "echo listening on 127.0.0.1:4343; exec sleep 300"
echo "left running for the exit trap"
g_fail "shown"'
    cd "$FAKE"
    graded scripts/grade --json "$BATS_TEST_TMPDIR/g.json"
    assert_line --regexp '^FAIL  f-hostile  0/5'
    assert_line --partial 'loop status=124'
    assert_line --partial 'killgroup status=137'
    assert_line --partial 'siogroup status=157'
    assert_line --partial 'escape status=124'
    # ulimit -f: the writer gets SIGXFSZ (128 + 25) at 1 MiB.
    assert_line --partial 'flood status=153 bytes=1048576'
    assert_line --partial 'server port=4242'
    assert_line --partial 'stop status=143'
    assert_equal "${lines[-1]}" "Score: 0/5"
    no_survivors
    # The same without a PID namespace: the environment tag alone finds them.
    GRADE_NO_PIDNS=1 graded scripts/grade --json "$BATS_TEST_TMPDIR/g.json"
    assert_line --partial 'escape status=124'
    assert_line --partial 'stop status=143'
    no_survivors
}
