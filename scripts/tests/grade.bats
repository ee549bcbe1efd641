#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016
# (the check scripts below are in single quotes on purpose: their own shell expands them)
# The grader (scripts/grade) and the library the exercises' checks use
# (scripts/lib/grade.bash), on small exercises made up here: the score line, grade.json,
# SKIP, what a predict exercise shows and the attempts it counts, a check that hangs, and
# programs that hang, flood, fork away or signal their group. One real predict exercise is
# graded here; all of them, at length, by make test-grading.

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
    assert_line --regexp '^  --reveal +for each predict exercise, show every key: the prediction and'
    assert_line --regexp '^  --history FILE +the attempts history'
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

# predict_exercise ID POINTS - a predict exercise of the fake lab whose scenario gives
# alpha=1 bravo=xray charlie=3 delta=4.
predict_exercise() {
    local dir="$FAKE/fake/exercises/$1"
    mkdir -p "$dir"
    printf '# %s: title of %s\nKind: predict\nPoints: %s\nDifficulty: easy\nTime: 5 min\nNeeds: none\nFiles: exercises/%s/predictions.txt\nObjective: none.\n' \
        "$1" "$1" "$2" "$1" >"$dir/exercise.md"
    printf '#!/usr/bin/env bash\n. "$ROOT/scripts/lib/grade.bash"\n%s\n' \
        'printf "alpha=1\nbravo=xray\ncharlie=3\ndelta=4\n" >"$GRADE_TMP/obs"; g_predict "$GRADE_TMP/obs"; g_done' >"$dir/check"
    chmod +x "$dir/check"
    printf '# the template\nalpha=\nbravo=\ncharlie=\ndelta=\n' >"$dir/predictions.txt"
}

@test "grade.bash: g_predict counts wrong predictions without naming them or the kernel's values; names missing keys and malformed lines" {
    predict_exercise f-predict 4
    printf '# comment\nalpha=1\nbravo = yankee \ncharlie=\nnot a key value line\nextra=9\n' >"$BATS_TEST_TMPDIR/pred"
    mkdir -p "$BATS_TEST_TMPDIR/keys/fake"
    cp "$BATS_TEST_TMPDIR/pred" "$BATS_TEST_TMPDIR/keys/fake/f-predict.predictions"
    cd "$FAKE"
    # A GRADE_REVEAL in the caller's environment reveals nothing: only --reveal does.
    GRADE_REVEAL=1 run_bounded 60 scripts/grade --predictions-from "$BATS_TEST_TMPDIR/keys" \
        --json "$BATS_TEST_TMPDIR/g.json" --history "$BATS_TEST_TMPDIR/h"
    assert_success
    assert_line --regexp '^FAIL  f-predict  0/4'
    assert_line --partial 'MISSING charlie: no prediction'
    assert_line --partial 'MISSING delta: no prediction'
    assert_line --partial "MALFORMED line 5 of the predictions file, ignored: 'not a key value line'"
    assert_line --partial 'FAIL: 3 of 4 predictions do not hold on this kernel'
    # Neither the wrong key's name nor any value the kernel gave; not even the right ones.
    refute_output --partial bravo
    refute_output --partial xray
    refute_output --partial alpha
    refute_output --partial 'gave'
    run cat "$BATS_TEST_TMPDIR/g.json"
    refute_output --partial xray
    refute_output --partial bravo
    # --reveal: every key, the prediction and what this kernel gave.
    run_bounded 60 scripts/grade --reveal --predictions-from "$BATS_TEST_TMPDIR/keys" \
        --json "$BATS_TEST_TMPDIR/g.json" --history "$BATS_TEST_TMPDIR/h"
    assert_line --regexp '^FAIL  f-predict  0/4'
    assert_line --partial 'ok    alpha: you predicted 1, this kernel gave 1'
    assert_line --partial 'WRONG bravo: you predicted yankee, this kernel gave xray'
    assert_line --partial 'MISSING charlie: you predicted nothing, this kernel gave 3'
    assert_line --partial 'MISSING delta: you predicted nothing, this kernel gave 4'
    # Without --predictions-from the student's own file in the exercise folder is judged;
    # a PASS says nothing more, and with --reveal it shows every key.
    printf 'alpha=1\nbravo=xray\ncharlie=3\ndelta=4\n' >"$FAKE/fake/exercises/f-predict/predictions.txt"
    run_bounded 60 scripts/grade --json "$BATS_TEST_TMPDIR/g.json" --history "$BATS_TEST_TMPDIR/h"
    assert_line --regexp '^PASS  f-predict  4/4'
    assert_equal "${#lines[@]}" 2
    run_bounded 60 scripts/grade --reveal --json "$BATS_TEST_TMPDIR/g.json" --history "$BATS_TEST_TMPDIR/h"
    assert_line --regexp '^PASS  f-predict  4/4'
    assert_line --partial 'ok    bravo: you predicted xray, this kernel gave xray'
    assert_line --partial 'ok: all 4 predictions hold on this kernel'
}

@test "grade: predict attempts: the history gets a line per judged file; grade.json gives attempts, first_points, revealed" {
    predict_exercise f-predict 4
    local pred="$FAKE/fake/exercises/f-predict/predictions.txt" h="$BATS_TEST_TMPDIR/h"
    cd "$FAKE"
    # The untouched template: judged (a line of the history) but no attempt.
    run_bounded 60 scripts/grade --json g.json
    assert_line --regexp '^FAIL  f-predict  0/4'
    [ -f .grade-history ] || fail "no .grade-history at the top"
    assert_equal "$(wc -l <.grade-history)" 1
    run cat g.json
    assert_output --partial '"attempts": 0, "first_points": null, "revealed": false'
    # A first complete file, one prediction wrong: 0 points, counted.
    printf 'alpha=1\nbravo=yankee\ncharlie=3\ndelta=4\n' >"$pred"
    run_bounded 60 scripts/grade --json g.json
    assert_line --regexp '^FAIL  f-predict  0/4'
    # The second file, right: full points now, but the first attempt's stay recorded.
    printf '# fixed\nalpha=1\nbravo=xray\ncharlie=3\ndelta=4\n' >"$pred"
    run_bounded 60 scripts/grade --json g.json
    assert_line --regexp '^PASS  f-predict  4/4'
    # The same predictions again, with only a comment and spaces changed: no new attempt.
    printf '# fixed, again\nalpha = 1\nbravo=xray\n\ncharlie=3\ndelta=4\n' >"$pred"
    run_bounded 60 scripts/grade --json g.json
    run cat g.json
    assert_output --partial '"status": "PASS", "points": 4, "max": 4, "attempts": 2, "first_points": 0, "revealed": false'
    assert_equal "$(wc -l <.grade-history)" 4
    run cat .grade-history
    assert_line --index 0 --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z f-predict [0-9a-f]{16} 0/4 empty graded$'
    assert_line --index 1 --regexp ' f-predict [0-9a-f]{16} 0/4 complete graded$'
    assert_line --index 2 --regexp ' f-predict [0-9a-f]{16} 4/4 complete graded$'
    [ "${lines[2]#* f-predict }" = "${lines[3]#* f-predict }" ] || fail "the same predictions hashed differently"
    # --reveal is recorded.
    run_bounded 60 scripts/grade --reveal --json g.json
    run cat g.json
    assert_output --partial '"attempts": 2, "first_points": 0, "revealed": true'
    assert_equal "$(tail -n 1 .grade-history | cut -d' ' -f5-)" "complete revealed"
    # --history puts it elsewhere; a write exercise gets no attempts.
    exercise f-write 3 'g_done'
    run_bounded 60 scripts/grade --json g.json --history "$h"
    assert_equal "$(wc -l <"$h")" 1
    run cat g.json
    assert_output --partial '"id": "f-write", "title": "title of f-write", "kind": "write", "status": "PASS", "points": 3, "max": 3, "output_tail": ""'
    assert_output --partial '"attempts": 1, "first_points": 4, "revealed": false'
}

@test "grade: a real predict exercise (udp-async-error) with two wrong predictions shows neither them nor the answers; --reveal does" {
    # A copy of the lab, so that the grader builds and writes nothing in the repository.
    local copy="$BATS_TEST_TMPDIR/copy" keys="$BATS_TEST_TMPDIR/keys"
    mkdir -p "$copy" "$keys/udp_sigio"
    cp -r "$ROOT/scripts" "$copy/"
    tar -C "$ROOT" --exclude=.buildflags -cf - udp_sigio | tar -C "$copy" -xf -
    make -s -C "$copy/udp_sigio" clean >/dev/null
    # The answer key says connected_recv1=ECONNREFUSED and siginfo_si_code=POLL_ERR.
    grep -qx 'connected_recv1=ECONNREFUSED' "$ROOT/chapters/answer-keys/udp_sigio/udp-async-error.predictions"
    grep -qx 'siginfo_si_code=POLL_ERR' "$ROOT/chapters/answer-keys/udp_sigio/udp-async-error.predictions"
    sed 's/^connected_recv1=.*/connected_recv1=EAGAIN/; s/^siginfo_si_code=.*/siginfo_si_code=POLL_IN/' \
        "$ROOT/chapters/answer-keys/udp_sigio/udp-async-error.predictions" >"$keys/udp_sigio/udp-async-error.predictions"
    cd "$copy"
    graded scripts/grade -e udp-async-error --predictions-from "$keys" --json "$BATS_TEST_TMPDIR/g.json" \
        --history "$BATS_TEST_TMPDIR/h"
    assert_success
    assert_answers_hidden
    no_survivors
    graded scripts/grade -e udp-async-error --reveal --predictions-from "$keys" --json "$BATS_TEST_TMPDIR/g.json" \
        --history "$BATS_TEST_TMPDIR/h"
    assert_line --partial 'WRONG connected_recv1: you predicted EAGAIN, this kernel gave ECONNREFUSED'
    assert_line --partial 'WRONG siginfo_si_code: you predicted POLL_IN, this kernel gave POLL_ERR'
    no_survivors
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
