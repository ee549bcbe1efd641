#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Suite-wide checks: the conventions every lab keeps (style-guide in chapters/README.md).

load '../lib/test_helper'

setup() { helper_setup; }
teardown() { helper_teardown; }

# builds_alone CC - every lab, copied out of the tree, builds with CC and no warnings.
builds_alone() {
    local lab tmp="$BATS_TEST_TMPDIR/alone"
    require_cmd "$1"
    for lab in $(labs); do
        rm -rf "$tmp"
        cp -r "$ROOT/$lab" "$tmp"
        make -s -C "$tmp" clean >/dev/null
        run_bounded 120 make -s -j"$(nproc)" -C "$tmp" CC="$1" WERROR=1
        assert_success
        refute_output --partial warning
    done
}

@test "every lab builds alone, outside the tree, with gcc and no warnings" {
    builds_alone gcc
}

@test "every lab builds alone, outside the tree, with clang and no warnings" {
    builds_alone clang
}

@test "a build is quiet, one CC line a file and no compiler command; V=1 shows the commands" {
    local lab tmp="$BATS_TEST_TMPDIR/quiet"
    lab=$(labs | tail -n 1)
    cp -r "$ROOT/$lab" "$tmp"
    make -s -C "$tmp" clean >/dev/null
    run_bounded 120 make --no-print-directory -C "$tmp"
    assert_success
    [ "${#lines[@]}" -ge 2 ] || fail "the build printed ${#lines[@]} lines: $output"
    run grep -cvE '^  CC      quiet/[A-Za-z0-9_.]+$' <<<"$output"
    assert_output 0
    make -s -C "$tmp" clean >/dev/null
    run_bounded 120 make --no-print-directory -C "$tmp" V=1
    assert_success
    assert_line --regexp ' -c -o labutil\.o labutil\.c$'
    refute_line --regexp '^  CC  '
}

@test "the lab kit (labutil.h, labutil.c, labutil.mk) is identical in every lab" {
    local lab f
    for lab in $(labs); do
        for f in labutil.h labutil.c labutil.mk; do
            cmp "$ROOT/udp_sigio/$f" "$ROOT/$lab/$f" || fail "$lab/$f differs: run scripts/sync-labkit"
        done
    done
}

@test "sync-labkit copies a changed original over older copies, and refuses (exit 1, naming it) to overwrite a copy changed by hand" {
    local tmp=$BATS_TEST_TMPDIR/kit f
    mkdir -p "$tmp/scripts" "$tmp/udp_sigio" "$tmp/lab2"
    cp "$ROOT/scripts/sync-labkit" "$tmp/scripts/"
    for f in labutil.h labutil.c labutil.mk; do
        echo "v1 $f" >"$tmp/udp_sigio/$f"
        cp "$tmp/udp_sigio/$f" "$tmp/lab2/$f"
    done
    git -C "$tmp" init -q
    git -C "$tmp" add -A
    git -C "$tmp" -c user.name=t -c user.email=t@example.invalid commit -qm v1
    # The original changed: the copy is an earlier version of it, so it is updated.
    echo v2 >>"$tmp/udp_sigio/labutil.c"
    run "$tmp/scripts/sync-labkit"
    assert_success
    assert_output "updated lab2/labutil.c"
    cmp "$tmp/udp_sigio/labutil.c" "$tmp/lab2/labutil.c"
    # A fix made in a copy: named, refused, and nothing else copied either.
    echo fix >>"$tmp/lab2/labutil.h"
    echo v2 >>"$tmp/udp_sigio/labutil.mk"
    run "$tmp/scripts/sync-labkit"
    assert_failure 1
    assert_output --partial "lab2/labutil.h differs from udp_sigio/labutil.h"
    grep -qx fix "$tmp/lab2/labutil.h"
    ! cmp -s "$tmp/udp_sigio/labutil.mk" "$tmp/lab2/labutil.mk" || fail "labutil.mk was copied after all"
    # --force overwrites it.
    run "$tmp/scripts/sync-labkit" --force
    assert_success
    for f in labutil.h labutil.c labutil.mk; do
        cmp "$tmp/udp_sigio/$f" "$tmp/lab2/$f"
    done
}

@test "every program prints its usage for -h and exits 0" {
    local lab prog
    for lab in $(labs); do
        for prog in $(progs "$lab"); do
            run_bounded 5 "$ROOT/$lab/$prog" -h
            assert_success
            assert_line --partial "usage: $prog"
        done
    done
}

@test "every program rejects an unknown option with a one-line reason, the usage and exit 2" {
    local lab prog
    for lab in $(labs); do
        for prog in $(progs "$lab"); do
            run_bounded 5 "$ROOT/$lab/$prog" --no-such-option
            assert_equal "$status" 2
            assert_equal "${lines[0]}" "$prog: unknown option --no-such-option"
            assert_line --index 1 --partial "usage: $prog"
        done
    done
}

@test "every program opens with the header block: Demonstrates, Read with, Usage, Try it, What to observe, Linux notes" {
    local lab prog section
    for lab in $(labs); do
        for prog in $(progs "$lab"); do
            for section in Demonstrates: "Read with:" Usage: "Try it:" "What to observe:" "Linux notes"; do
                sed -n '1,/\*\//p' "$ROOT/$lab/$prog.c" | grep -q -- "$section" ||
                    fail "$lab/$prog.c: header block has no '$section'"
            done
        done
    done
}

@test "the shell scripts are shellcheck-clean" {
    require_cmd shellcheck
    cd "$ROOT"
    mapfile -t files < <(scripts/shell-files)
    [ "${#files[@]}" -ge 20 ] || fail "scripts/shell-files listed only ${#files[@]} files"
    # In batches, on every CPU (xargs exits 123 when one batch has findings).
    run xargs -0 -n 16 -P "$(nproc)" -a <(printf '%s\0' "${files[@]}") shellcheck
    assert_success
}

@test "every claim of a lab that exists has a test named with its ID, and every test ID is listed" {
    local id lab
    while IFS='|' read -r _ id _ _ lab _; do
        id=$(echo "$id" | tr -d ' `')
        lab=$(echo "$lab" | tr -d ' ')
        [[ $id =~ ^[A-Z][A-Z0-9-]+$ && $id != ID ]] || continue
        # A row whose Lab column is not a lab was split wrongly (a '|' inside a cell).
        [[ " udp_sigio tcp_sigio_listen tcp_sigio_pitfalls rtsig_setsig streams_sigpoll_notes " == *" $lab "* ]] ||
            fail "claims.md row $id: Lab column '$lab' is not a lab"
        [ -d "$ROOT/$lab" ] || continue
        grep -qF "@test \"[$id]" "$ROOT"/scripts/tests/*.bats || fail "claim $id ($lab) has no test"
    done <"$ROOT/chapters/claims.md"
    grep -ohE '@test "\[[A-Z0-9-]+\]' "$ROOT"/scripts/tests/*.bats | grep -oE '[A-Z0-9-]{3,}' | sort -u |
        while read -r id; do
            grep -qE "^\| *$id *\|" "$ROOT/chapters/claims.md" || fail "test ID $id is not in chapters/claims.md"
        done
}

@test "the README's table names every lab folder, and each lab has its chapter" {
    local lab
    for lab in $(labs); do
        grep -q "\`$lab/\`" "$ROOT/README.md" || fail "README.md does not list $lab/"
        [ -f "$ROOT/chapters/$lab.md" ] || fail "no chapters/$lab.md"
    done
}

@test "make claims prints each claim of the tests it runs with its result, then the claims left uncovered" {
    run_bounded 120 "$ROOT/scripts/claims" streams_sigpoll_notes
    assert_success
    local id
    for id in STREAMS-SETSIG SIGPOLL-IS-SIGIO ORDER-HANDLER-FIRST BSD-SIGURG; do
        assert_line --regexp "^$id +streams_sigpoll_notes\.bats +pass$"
    done
    # Only that file ran, so the other labs' claims show as not covered.
    local total
    total=$(grep -E '^\| [A-Z][A-Z0-9-]+ \|' "$ROOT/chapters/claims.md" | grep -cv '^| ID |')
    assert_line --regexp "^not covered by any test yet \\($((total - 4)) of $total\\): .*UDP-ARRIVAL"
    # Each test's own line came as it finished, before the table.
    assert_line --regexp '^  pass  \[BSD-SIGURG\] '
    run_bounded 5 "$ROOT/scripts/claims" no_such_lab
    assert_failure 2
}

@test "every script in scripts/ answers -h and rejects an unknown option with exit 2, and does nothing else" {
    local f cwd="$BATS_TEST_TMPDIR/cwd" stamp="$BATS_TEST_TMPDIR/stamp"
    local -a scripts=()
    mkdir -p "$cwd"
    touch "$stamp"
    # The scripts: what shell-files lists under scripts/ with a #! line (the sourced
    # libraries have none), less the test files.
    while IFS= read -r f; do
        case $f in scripts/*.bats) continue ;; scripts/*) ;; *) continue ;; esac
        head -n 1 "$ROOT/$f" | grep -q '^#!' || continue
        [ -x "$ROOT/$f" ] || fail "$f has a #! line but cannot be run (chmod +x)"
        scripts+=("$f")
    done < <("$ROOT/scripts/shell-files")
    [ "${#scripts[@]}" -ge 30 ] || fail "only ${#scripts[@]} scripts listed: ${scripts[*]}"
    cd "$cwd"
    for f in "${scripts[@]}"; do
        run_bounded 10 "$ROOT/$f" -h
        [ "$status" -eq 0 ] || fail "$f -h: exit $status: $output"
        [ -n "$output" ] || fail "$f -h printed nothing"
        run_bounded 10 "$ROOT/$f" --no-such-option
        [ "$status" -eq 2 ] || fail "$f --no-such-option: exit $status, not 2: $output"
        [[ $output == *--no-such-option* ]] || fail "$f --no-such-option: the message does not name it: $output"
    done
    # Nothing was made, here or in the tree (the test results being written aside).
    run ls -A "$cwd"
    assert_output ""
    run find "$ROOT" \( -path "$ROOT/test-results" -o -path "$ROOT/.git" \) -prune -o -newer "$stamp" -print
    assert_output ""
}

@test "make claims fails and names the file when a test file cannot run its tests (setup_file fails)" {
    local dir="$BATS_TEST_TMPDIR/tests"
    mkdir -p "$dir"
    printf '%s\n' 'setup_file() { echo "no such thing here" >&2; false; }' \
        '@test "[UDP-ARRIVAL] never runs" { true; }' >"$dir/broken.bats"
    CLAIMS_TESTS_DIR=$dir run_bounded 60 "$ROOT/scripts/claims" broken
    assert_failure 1
    assert_output --partial "claims: test file broken.bats (setup_file failed): its claims were not checked"
    refute_output --partial "bad array subscript"
}

@test "install-deps --check finds everything the tests use" {
    run_bounded 20 "$ROOT/scripts/install-deps" --check
    assert_success
}

@test "the MIT licence is at the top, and every source and script file carries its SPDX line near its head" {
    [ -f "$ROOT/LICENSE" ] || fail "no LICENSE file"
    run grep -c '^MIT License$' "$ROOT/LICENSE"
    assert_output 1
    local f missing=()
    # Source and script files: everything git tracks (or would) except prose, data, figures,
    # hole patches and git's own settings.
    while IFS= read -r f; do
        case "$f" in
            *.md | *.txt | *.png | *.svg | *.json | *.patch | *.predictions | *.tsv | *.tap | LICENSE | .gitignore | */.gitignore | .shellcheckrc) continue ;;
        esac
        [ -f "$ROOT/$f" ] || continue
        head -n 3 "$ROOT/$f" | grep -q 'SPDX-License-Identifier: MIT' || missing+=("$f")
    done < <(git -C "$ROOT" ls-files --cached --others --exclude-standard)
    [ "${#missing[@]}" -eq 0 ] || fail "no SPDX-License-Identifier: MIT line in the first 3 lines of: ${missing[*]}"
}

# --- assignment mode: first reads, exercises, answer keys --------------------------------

# Labs with graded exercises (a lab without an exercises/ folder is not checked yet).
graded_labs() {
    local lab
    for lab in $(labs); do
        [ -d "$ROOT/$lab/exercises" ] && echo "$lab"
    done
    return 0
}

# The ID prefix of each lab's exercises.
ex_prefix() {
    case $1 in
    udp_sigio) echo udp- ;;
    tcp_sigio_listen) echo listen- ;;
    tcp_sigio_pitfalls) echo tcp- ;;
    rtsig_setsig) echo rt- ;;
    streams_sigpoll_notes) echo streams- ;;
    esac
}

@test "each lab with exercises has exactly one first_*.c, of at most 150 lines, in its PROGS, and its chapter says Start here" {
    local lab first n
    for lab in $(graded_labs); do
        n=$(compgen -G "$ROOT/$lab/first_*.c" | wc -l)
        [ "$n" -eq 1 ] || fail "$lab has $n first_*.c programs, not 1"
        first=$(compgen -G "$ROOT/$lab/first_*.c")
        [ "$(wc -l <"$first")" -le 150 ] || fail "${first#"$ROOT"/} has $(wc -l <"$first") lines (at most 150)"
        first=$(basename "$first" .c)
        [[ " $(progs "$lab") " == *" $first "* ]] || fail "$first is not in $lab's PROGS"
        grep -qi 'start here' "$ROOT/chapters/$lab.md" || fail "chapters/$lab.md has no 'Start here'"
        grep -q "$first" "$ROOT/chapters/$lab.md" || fail "chapters/$lab.md does not name $first"
    done
}

@test "every exercise is well-formed: exercise.md headers, an executable check, a hole patch (write) or an empty predictions template (predict), an answer key" {
    local lab md dir id kind f line
    for lab in $(graded_labs); do
        for md in "$ROOT/$lab"/exercises/*/exercise.md; do
            [ -f "$md" ] || continue
            dir=$(dirname "$md")
            id=$(basename "$dir")
            [[ $id == "$(ex_prefix "$lab")"* ]] || fail "$lab/exercises/$id: the ID does not start with $(ex_prefix "$lab")"
            [[ $(head -n 1 "$md") =~ ^#\ $id:\ .+ ]] || fail "$id: line 1 is not '# $id: <title>'"
            # The header lines follow line 1 at once, in the contract's order.
            [ "$(sed -n '2,8p' "$md" | cut -d: -f1 | paste -sd' ' -)" = "Kind Points Difficulty Time Needs Files Objective" ] ||
                fail "$id: lines 2-8 are not Kind, Points, Difficulty, Time, Needs, Files, Objective"
            kind=$(sed -n 's/^Kind: //p' "$md")
            [[ $kind =~ ^(write|predict)$ ]] || fail "$id: Kind '$kind'"
            grep -qE '^Points: [1-9][0-9]*$' "$md" || fail "$id: no 'Points: N'"
            grep -qE '^Difficulty: (easy|moderate|hard)$' "$md" || fail "$id: no valid Difficulty"
            grep -qE '^Time: [1-9][0-9]* min$' "$md" || fail "$id: no 'Time: N min'"
            grep -qE '^Needs: (none|root|tty)$' "$md" || fail "$id: no valid Needs"
            grep -qE '^Objective: .{10,}' "$md" || fail "$id: no Objective"
            grep -qx '## Task' "$md" || fail "$id: no '## Task'"
            grep -qx '## Hints' "$md" || fail "$id: no '## Hints'"
            line=$(sed -n 's/^Files: //p' "$md")
            [ -n "$line" ] || fail "$id: no Files"
            for f in $line; do
                [ -f "$ROOT/$lab/$f" ] || fail "$id: Files names $f, which $lab/ does not have"
            done
            [ -x "$dir/check" ] || fail "$id: no executable check"
            head -n 1 "$dir/check" | grep -q '^#!.*bash' || fail "$id: check has no bash shebang"
            grep -q 'scripts/lib/grade.bash' "$dir/check" || fail "$id: check does not use grade.bash"
            grep -q 'g_done' "$dir/check" || fail "$id: check does not end with g_done"
            grep -qF "$id" "$ROOT/$lab/exercises/README.md" || fail "$id is not on $lab/exercises/README.md"
            grep -qF "$id" "$ROOT/chapters/answer-keys/$lab.md" || fail "$id is not in chapters/answer-keys/$lab.md"
            if [ "$kind" = write ]; then
                [ -f "$dir/hole.patch" ] || fail "$id: no hole.patch"
                grep -qF "TODO($id)" "$dir/hole.patch" || fail "$id: hole.patch leaves no TODO($id)"
                patch --dry-run -s -p1 -d "$ROOT/$lab" <"$dir/hole.patch" >/dev/null ||
                    fail "$id: hole.patch does not apply to $lab/"
                [ ! -f "$dir/predictions.txt" ] || fail "$id: a write exercise with predictions.txt"
            else
                [ "$line" = "exercises/$id/predictions.txt" ] || fail "$id: Files should be exercises/$id/predictions.txt"
                grep -qE '^[a-z0-9_]+=$' "$dir/predictions.txt" || fail "$id: predictions.txt has no 'key=' line"
                ! grep -E '^[^#].*=.' "$dir/predictions.txt" || fail "$id: predictions.txt has a value filled in"
                [ -f "$ROOT/chapters/answer-keys/$lab/$id.predictions" ] ||
                    fail "$id: no chapters/answer-keys/$lab/$id.predictions"
                [ ! -f "$dir/hole.patch" ] || fail "$id: a predict exercise with hole.patch"
            fi
        done
    done
}

@test "each exercise has 2 to 4 hints, and its row on the sheet gives the title, kind, difficulty, time, points and needs of its exercise.md" {
    local lab md id sheet row want got hints key
    for lab in $(graded_labs); do
        sheet="$ROOT/$lab/exercises/README.md"
        grep -qx '| ID | Title | Kind | Difficulty | Time | Points | Needs |' "$sheet" ||
            fail "$lab/exercises/README.md: no table with the columns ID, Title, Kind, Difficulty, Time, Points, Needs"
        for md in "$ROOT/$lab"/exercises/*/exercise.md; do
            [ -f "$md" ] || continue
            id=$(basename "$(dirname "$md")")
            hints=$(awk '/^## Hints/ { h = 1; next } /^## / { h = 0 } h && /^(- |\* |[0-9]+\. )/ { n++ } END { print n + 0 }' "$md")
            [ "$hints" -ge 2 ] && [ "$hints" -le 4 ] || fail "$id: $hints hints (2 to 4)"
            row=$(grep -E "^\| *(\[$id\]|\`$id\`)" "$sheet") || fail "$id has no row on $lab/exercises/README.md"
            want=$(sed -n '1s/^# [^:]*: *//p' "$md")
            for key in Kind Difficulty Time Points Needs; do
                want+="|$(sed -n "s/^$key: *//p" "$md" | head -n 1)"
            done
            got=$(awk -F'|' '{ s = ""; for (i = 3; i < NF; i++) { gsub(/^ +| +$/, "", $i); s = s (i > 3 ? "|" : "") $i } print s }' <<<"$row")
            assert_equal "$got" "$want"
        done
    done
}

@test "each lab with exercises has at least 4, with a sheet and an answer key; 20 or more in all once all five labs have theirs" {
    local lab n total=0 graded=0
    for lab in $(graded_labs); do
        n=$(compgen -G "$ROOT/$lab/exercises/*/exercise.md" | wc -l)
        [ "$n" -ge 4 ] || fail "$lab has $n exercises (at least 4)"
        [ -f "$ROOT/$lab/exercises/README.md" ] || fail "$lab/exercises has no README.md"
        [ -f "$ROOT/chapters/answer-keys/$lab.md" ] || fail "no chapters/answer-keys/$lab.md"
        total=$((total + n)) graded=$((graded + 1))
    done
    [ "$graded" -gt 0 ] || skip "no lab has exercises yet"
    if [ "$graded" -eq 5 ]; then
        [ "$total" -ge 20 ] || fail "$total exercises in all (at least 20)"
    else
        echo "# $graded of 5 labs have exercises ($total); the total of 20 is checked once all have" >&3
    fi
}

@test "no answer key inside a lab folder: answer keys live in chapters/answer-keys only" {
    local lab found
    for lab in $(labs); do
        found=$(find "$ROOT/$lab" \( -name '*.predictions' -o -name 'answer-keys' -o -iname '*answer*key*' \) -print)
        [ -z "$found" ] || fail "answer material inside $lab/: $found"
    done
}

@test "a sanitizer's report ends a program with its own status (ASan 86, UBSan 87), never the programs' 1" {
    local cc=${CC:-cc} dir=$BATS_TEST_TMPDIR
    command -v "$cc" >/dev/null || skip "no C compiler ($cc)"
    printf '%s\n' '#include <stdlib.h>' \
        'int main(int argc, char **argv) { char *p = malloc(4); (void)argv; p[argc + 3] = 1; free(p); return 1; }' >"$dir/asan.c"
    printf '%s\n' '#include <limits.h>' '#include <stdio.h>' \
        'int main(int argc, char **argv) { int x = INT_MAX - 1 + argc; (void)argv; printf("%d", x + argc); return 1; }' >"$dir/ubsan.c"
    "$cc" -fsanitize=address,undefined -fno-sanitize-recover=undefined -o "$dir/asan" "$dir/asan.c" 2>/dev/null ||
        skip "$cc cannot build with -fsanitize=address,undefined here"
    "$cc" -fsanitize=address,undefined -fno-sanitize-recover=undefined -o "$dir/ubsan" "$dir/ubsan.c"
    # The options run-tests gives a sanitized run.
    local asan ubsan
    asan=$(sed -nE 's/.*ASAN_OPTIONS=\$\{ASAN_OPTIONS:-([^}]*)\}.*/\1/p' "$ROOT/scripts/run-tests")
    ubsan=$(sed -nE 's/.*UBSAN_OPTIONS=\$\{UBSAN_OPTIONS:-([^}]*)\}.*/\1/p' "$ROOT/scripts/run-tests")
    [ -n "$asan" ] && [ -n "$ubsan" ] || fail "run-tests sets no ASAN_OPTIONS or UBSAN_OPTIONS default"
    ASAN_OPTIONS=$asan UBSAN_OPTIONS=$ubsan run_bounded 30 "$dir/asan"
    assert_equal "$status" "$SAN_ASAN_EXIT"
    assert_output --partial "heap-buffer-overflow"
    ASAN_OPTIONS=$asan UBSAN_OPTIONS=$ubsan run_bounded 30 "$dir/ubsan"
    assert_equal "$status" "$SAN_UBSAN_EXIT"
    assert_output --partial "signed integer overflow"
}
