#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Each lab's handout, built by `make handout`, unpacked in an empty folder: it holds no
# solution and no answer key; it builds and grades alone; the starter fails every write
# exercise and scores below the maximum; with the reference files copied in and the answer
# key's predictions it gets full marks; make handin packs the student's files, grade.json
# and the history of attempts. A wrong prediction is counted, not shown, unless REVEAL=1.
# Long: make test-grading.

load 'grading_helper'

setup() { helper_setup; }
teardown() { helper_teardown; }

# handout_roundtrip LAB
handout_roundtrip() {
    local lab=$1 dir="$BATS_TEST_TMPDIR/unpacked" tarball top x f
    run_bounded 120 make -s -C "$ROOT" handout LAB="$lab"
    assert_success
    tarball=${lines[-1]}
    [ -f "$tarball" ] || fail "the last line '$tarball' is not the tarball"
    mkdir -p "$dir"
    tar -C "$dir" -xzf "$tarball"
    rm -f "$tarball"
    top="$dir/sigio-labs-$lab"
    [ -d "$top/$lab" ] || fail "no $lab/ in the handout"

    # Nothing that gives the answers away.
    run find "$dir" \( -name '*.predictions' -o -name 'hole.patch' -o -name 'answer-keys' -o -name '*.orig' \)
    assert_output ""
    for x in $(exercises "$lab" write); do
        grep -rqF --include='*.c' --include='*.h' "TODO($x)" "$top/$lab" || fail "no TODO($x) in the handout"
    done
    for f in scripts/grade scripts/lib/grade.bash scripts/lib/test_helper.bash scripts/run-tests \
        scripts/tap-summary "scripts/tests/$lab.bats" "chapters/$lab.md" "$lab/exercises/README.md" \
        Makefile README.md LICENSE; do
        [ -f "$top/$f" ] || fail "the handout has no $f"
    done

    # It builds with make alone, warnings as errors.
    run_bounded 300 make -s -C "$top"
    assert_success
    refute_output --partial warning

    # The starter: every write exercise fails, the predictions are empty, the score is short.
    cd "$top" || fail "cannot enter $top"
    MARK="m$$x$RANDOM"
    GRADE_TEST_MARK=$MARK run_bounded 900 make -s grade
    assert_success
    assert_regex "${lines[-1]}" '^Score: [0-9]+/[0-9]+$'
    for x in $(exercises "$lab" write) $(exercises "$lab" predict); do
        assert_line --regexp "^(FAIL|SKIP)  $x  0/"
    done
    local score=${lines[-1]#Score: }
    [ "${score%/*}" -lt "${score#*/}" ] || fail "the starter scored $score"
    no_survivors
    [ -f grade.json ] || fail "make grade wrote no grade.json"
    # The empty templates were judged, but they are no attempt.
    for x in $(exercises "$lab" predict); do
        grep -F "\"id\": \"$x\"" grade.json | grep -qF '"attempts": 0, "first_points": null' ||
            fail "$x: grade.json does not say 0 attempts for the empty template"
    done

    # The reference files and the answer key's predictions: full marks.
    for x in $(exercises "$lab" write); do
        for f in $(files_of "$lab" "$x"); do cp "$ROOT/$lab/$f" "$top/$lab/$f"; done
    done
    for x in $(exercises "$lab" predict); do
        cp "$ROOT/chapters/answer-keys/$lab/$x.predictions" "$top/$lab/exercises/$x/predictions.txt"
    done
    MARK="m$$x$RANDOM"
    GRADE_TEST_MARK=$MARK run_bounded 900 make -s handin
    assert_success
    assert_equal "${lines[-1]}" "handin-$lab.tar.gz"
    refute_line --regexp '^FAIL'
    local full
    full=$(printf '%s\n' "${lines[@]}" | sed -n 's/^Score: //p')
    [[ $full =~ ^([0-9]+)/([0-9]+)$ ]] || fail "no Score line: $full"
    [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || fail "the reference scored $full"
    no_survivors
    # Each predict exercise judged: one attempt, its points recorded as the first.
    local x_line
    for x in $(exercises "$lab" predict); do
        x_line=$(grep -F "\"id\": \"$x\"" grade.json)
        [[ $x_line == *'"status": "SKIP"'* ]] && continue
        [[ $x_line =~ \"max\":\ ([0-9]+),\ \"attempts\":\ 1,\ \"first_points\":\ ([0-9]+), ]] ||
            fail "$x: grade.json has no 1 attempt with first_points: $x_line"
        [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || fail "$x: first_points ${BASH_REMATCH[2]} of ${BASH_REMATCH[1]}"
    done
    run tar -tzf "handin-$lab.tar.gz"
    assert_line grade.json
    assert_line .grade-history
    for x in $(exercises "$lab" write) $(exercises "$lab" predict); do
        for f in $(files_of "$lab" "$x"); do assert_line "$lab/$f"; done
    done
}

@test "[handout] udp_sigio: unpacked alone, no answers inside; starter fails, reference full marks; handin" {
    lab_or_skip udp_sigio
    handout_roundtrip udp_sigio
}

@test "[handout] tcp_sigio_listen: unpacked alone, no answers inside; starter fails, reference full marks; handin" {
    lab_or_skip tcp_sigio_listen
    handout_roundtrip tcp_sigio_listen
}

@test "[handout] tcp_sigio_pitfalls: unpacked alone, no answers inside; starter fails, reference full marks; handin" {
    lab_or_skip tcp_sigio_pitfalls
    handout_roundtrip tcp_sigio_pitfalls
}

@test "[handout] rtsig_setsig: unpacked alone, no answers inside; starter fails, reference full marks; handin" {
    lab_or_skip rtsig_setsig
    handout_roundtrip rtsig_setsig
}

@test "[handout] streams_sigpoll_notes: unpacked alone, no answers inside; starter fails, reference full marks; handin" {
    lab_or_skip streams_sigpoll_notes
    handout_roundtrip streams_sigpoll_notes
}

@test "[handout] udp_sigio: make grade counts two wrong predictions and shows neither them nor the answers; REVEAL=1 shows them" {
    lab_or_skip udp_sigio
    local dir="$BATS_TEST_TMPDIR/unpacked" tarball top key
    run_bounded 120 make -s -C "$ROOT" handout LAB=udp_sigio
    assert_success
    tarball=${lines[-1]}
    mkdir -p "$dir"
    tar -C "$dir" -xzf "$tarball"
    rm -f "$tarball"
    top="$dir/sigio-labs-udp_sigio"
    key="$ROOT/chapters/answer-keys/udp_sigio/udp-async-error.predictions"
    # The answer key's values, two of them changed.
    grep -qx 'connected_recv1=ECONNREFUSED' "$key" || fail "the answer key changed: connected_recv1"
    grep -qx 'siginfo_si_code=POLL_ERR' "$key" || fail "the answer key changed: siginfo_si_code"
    sed 's/^connected_recv1=.*/connected_recv1=EAGAIN/; s/^siginfo_si_code=.*/siginfo_si_code=POLL_IN/' "$key" \
        >"$top/udp_sigio/exercises/udp-async-error/predictions.txt"
    cd "$top" || fail "cannot enter $top"
    MARK="m$$x$RANDOM"
    GRADE_TEST_MARK=$MARK run_bounded 300 make -s grade EX=udp-async-error
    assert_success
    assert_answers_hidden
    no_survivors
    MARK="m$$x$RANDOM"
    GRADE_TEST_MARK=$MARK run_bounded 300 make -s grade EX=udp-async-error REVEAL=1
    assert_line --partial 'WRONG connected_recv1: you predicted EAGAIN, this kernel gave ECONNREFUSED'
    assert_line --partial 'WRONG siginfo_si_code: you predicted POLL_IN, this kernel gave POLL_ERR'
    no_survivors
    run cat .grade-history
    assert_equal "${#lines[@]}" 2
    assert_line --index 0 --regexp ' udp-async-error [0-9a-f]{16} 0/5 complete graded$'
    assert_line --index 1 --regexp ' udp-async-error [0-9a-f]{16} 0/5 complete revealed$'
    run grep -F '"id": "udp-async-error"' grade.json
    assert_output --partial '"attempts": 1, "first_points": 0, "revealed": true'
}

@test "[handout] make handout with no lab or a folder that is not a lab: exit 2" {
    run_bounded 20 "$ROOT/scripts/handout"
    assert_failure 2
    run_bounded 20 "$ROOT/scripts/handout" chapters
    assert_failure 2
}
