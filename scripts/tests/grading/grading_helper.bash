# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034,SC2154
# (ALL_LABS and MARK are for the .bats files; $output is bats'.)
# grading_helper.bash - what the long grading checks share (make test-grading): scratch
# copies of the repository, the exercises of each lab, the grader run with a mark that
# finds anything it left running.

# Long by nature: a test may take many minutes (run-tests --grading sets the same).
: "${BATS_TEST_TIMEOUT:=1800}"
load '../../lib/test_helper'
# These tests sit one folder deeper than the others.
ROOT=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
export ROOT

ALL_LABS="udp_sigio tcp_sigio_listen tcp_sigio_pitfalls rtsig_setsig streams_sigpoll_notes"

# lab_or_skip LAB - skip the test when LAB has no graded exercises (yet).
lab_or_skip() {
    compgen -G "$ROOT/$1/exercises/*/exercise.md" >/dev/null || skip "$1 has no exercises/ yet"
}

# exercises LAB KIND - the IDs of LAB's exercises of KIND (write or predict).
exercises() {
    local md
    for md in "$ROOT/$1"/exercises/*/exercise.md; do
        [ -f "$md" ] || continue
        grep -qx "Kind: $2" "$md" && basename "$(dirname "$md")"
    done
    return 0
}

# files_of LAB ID - the Files: of an exercise (relative to the lab folder).
files_of() {
    sed -n 's/^Files:[[:space:]]*//p' "$ROOT/$1/exercises/$2/exercise.md"
}

# scratch DIR LAB - a copy of the repository's scripts and of LAB, clean, in DIR.
scratch() {
    rm -rf "$1"
    mkdir -p "$1"
    cp -r "$ROOT/scripts" "$1/"
    tar -C "$ROOT" --exclude=.buildflags -cf - "$2" | tar -C "$1" -xf -
    make -s -C "$1/$2" clean >/dev/null
}

# apply_hole DIR LAB ID - apply one exercise's hole patch to the copy in DIR.
apply_hole() {
    patch -s -p1 -d "$1/$2" --no-backup-if-mismatch <"$ROOT/$2/exercises/$3/hole.patch" ||
        fail "$2/exercises/$3/hole.patch does not apply"
}

# graded DIR ARGS... - run DIR's grader with ARGS (bounded), with a mark in its environment
# that every process it starts inherits; no_survivors then finds any left running.
graded() {
    local dir=$1
    shift
    MARK="m$$x$RANDOM$RANDOM"
    GRADE_TEST_MARK=$MARK run_bounded "${GRADED_BOUND:-900}" "$dir/scripts/grade" --json "$BATS_TEST_TMPDIR/grade.json" "$@"
}

# no_survivors - no process with the last graded run's mark is running (by PID, from
# /proc/PID/environ).
no_survivors() {
    local f pid left=()
    while IFS= read -r f; do
        f=${f#/proc/}
        pid=${f%/environ}
        left+=("$pid:$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)")
        kill -KILL "$pid" 2>/dev/null
    done < <(grep -lzx -- "GRADE_TEST_MARK=$MARK" /proc/[0-9]*/environ 2>/dev/null)
    [ "${#left[@]}" -eq 0 ] || fail "left running after grading: ${left[*]}"
}
