#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# make grade in the repository: the reference programs and the answer keys' predictions
# get full marks, and "Score: N/M" is the last line. (It runs every exercise of every lab,
# a few minutes, so it is here in make test-grading rather than in make test.)

load 'grading_helper'

setup() { helper_setup; }
teardown() { helper_teardown; }

@test "[repo] make grade: every exercise of every lab passes on the reference, Score N/N last, grade.json agrees" {
    compgen -G "$ROOT/*/exercises/*/exercise.md" >/dev/null || skip "no exercises yet"
    cd "$ROOT"
    MARK="m$$x$RANDOM"
    GRADE_TEST_MARK=$MARK run_bounded 1500 make -s grade
    assert_success
    refute_line --regexp '^FAIL'
    [[ ${lines[-1]} =~ ^Score:\ ([0-9]+)/([0-9]+)$ ]] || fail "last line: ${lines[-1]}"
    local got=${BASH_REMATCH[1]} max=${BASH_REMATCH[2]}
    assert_equal "$got" "$max"
    [ "$max" -gt 0 ] || fail "nothing was graded"
    grep -q "\"score\": $got," grade.json || fail "grade.json does not say the same score"
    no_survivors
}
