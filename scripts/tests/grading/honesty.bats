#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Every hole patch of every lab is honest: for each write exercise X,
#   (a) the reference with hole X builds warning-free (gcc and clang) and check X fails;
#   (b) with every other hole of the lab applied and X solved, check X passes;
#   (c) on the reference, check X passes.
# Also: a lab's hole patches apply together, in either order. Long: make test-grading.

load 'grading_helper'

setup() { helper_setup; }
teardown() { helper_teardown; }

# honest LAB - the three checks for every write exercise of LAB.
honest() {
    local lab=$1 x y cc dir="$BATS_TEST_TMPDIR/work"
    local -a writes
    mapfile -t writes < <(exercises "$lab" write)
    [ "${#writes[@]}" -gt 0 ] || skip "$lab has no write exercises yet"

    # The patches apply together, forwards and backwards.
    scratch "$dir" "$lab"
    for x in "${writes[@]}"; do apply_hole "$dir" "$lab" "$x"; done
    scratch "$dir" "$lab"
    for ((i = ${#writes[@]} - 1; i >= 0; i--)); do apply_hole "$dir" "$lab" "${writes[$i]}"; done

    # (c) the reference passes every check.
    scratch "$dir" "$lab"
    for x in "${writes[@]}"; do
        graded "$dir" -l "$lab" -e "$x"
        assert_line --regexp "^PASS  $x  " || fail "(c) reference: $x does not pass"
        no_survivors
    done
    for x in "${writes[@]}"; do
        # (a) the reference with hole X: builds with both compilers, no warnings; X fails.
        scratch "$dir" "$lab"
        apply_hole "$dir" "$lab" "$x"
        for cc in gcc clang; do
            command -v "$cc" >/dev/null || continue
            run_bounded 300 make -s -C "$dir/$lab" CC="$cc" WERROR=1
            assert_success
            refute_output --partial warning
            make -s -C "$dir/$lab" clean >/dev/null
        done
        grep -rqF --include="*.c" --include="*.h" "TODO($x)" "$dir/$lab" || fail "(a) $x: the starter has no TODO($x) comment"
        graded "$dir" -l "$lab" -e "$x"
        assert_line --regexp "^FAIL  $x  0/" || fail "(a) the starter of $x does not fail its check"
        no_survivors
        # (b) every other hole applied, X's reference kept: X passes.
        scratch "$dir" "$lab"
        for y in "${writes[@]}"; do
            [ "$y" = "$x" ] || apply_hole "$dir" "$lab" "$y"
        done
        graded "$dir" -l "$lab" -e "$x"
        assert_line --regexp "^PASS  $x  " || fail "(b) $x fails with the other holes open"
        no_survivors
    done
}

@test "[honesty] udp_sigio: every hole's starter builds and fails its check; the reference passes it, with the other holes open too" {
    lab_or_skip udp_sigio
    honest udp_sigio
}

@test "[honesty] tcp_sigio_listen: every hole's starter builds and fails its check; the reference passes it, with the other holes open too" {
    lab_or_skip tcp_sigio_listen
    honest tcp_sigio_listen
}

@test "[honesty] tcp_sigio_pitfalls: every hole's starter builds and fails its check; the reference passes it, with the other holes open too" {
    lab_or_skip tcp_sigio_pitfalls
    honest tcp_sigio_pitfalls
}

@test "[honesty] rtsig_setsig: every hole's starter builds and fails its check; the reference passes it, with the other holes open too" {
    lab_or_skip rtsig_setsig
    honest rtsig_setsig
}

@test "[honesty] streams_sigpoll_notes: every hole's starter builds and fails its check; the reference passes it, with the other holes open too" {
    lab_or_skip streams_sigpoll_notes
    honest streams_sigpoll_notes
}

@test "[honesty] every lab folder with exercises is one of the five labs checked above" {
    local d lab
    for d in "$ROOT"/*/exercises; do
        [ -d "$d" ] || continue
        lab=$(basename "$(dirname "$d")")
        [[ " $ALL_LABS " == *" $lab "* ]] || fail "$lab has exercises that no honesty test covers"
    done
}
