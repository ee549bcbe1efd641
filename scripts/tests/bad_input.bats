#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Bad command lines, all programs × all kinds, from one table (bad_input.table beside this
# file). A program added to a lab is covered by adding its rows there; the first test fails
# until it has them.

load '../lib/test_helper'

setup() {
    helper_setup
    TABLE="$BATS_TEST_DIRNAME/bad_input.table"
}
teardown() { helper_teardown; }

# all_progs - every program as lab/program, one a line.
all_progs() {
    local lab prog
    for lab in $(labs); do
        for prog in $(progs "$lab"); do echo "$lab/$prog"; done
    done
}

# table_rows - the table without comments and blank lines, fields trimmed, joined by tabs:
# PROGRAM KIND EXIT ARGUMENTS TEXT.
table_rows() {
    sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$TABLE" |
        awk -F'|' -v OFS='\t' '{
            for (i = 1; i <= NF; i++) { gsub(/^[ \t]+|[ \t]+$/, "", $i) }
            print $1, $2, $3, $4, $5 }'
}

# value_options LAB/PROG - the options of PROG that take a value, as its source declares
# them to getopt_long, one a line; an option with two spellings (-c and --case) is one line
# with both: "-p", "-c --case", "--stamps".
value_options() {
    local src="$ROOT/$1.c" optstring letter name val
    optstring=$(grep -oE 'getopt_long\(argc, argv, "[^"]*"' "$src" | head -n 1 | sed -E 's/.*"(.*)"/\1/')
    local -A long_of=()
    while read -r name val; do
        [ -n "$name" ] || continue
        if [[ "$val" =~ ^\'(.)\'$ ]] && [[ "$optstring" == *"${BASH_REMATCH[1]}:"* ]]; then
            long_of[${BASH_REMATCH[1]}]=$name
        else
            echo "--$name"
        fi
    done < <(grep -oE '\{"[a-z0-9-]+", required_argument, NULL, [^}]*\}' "$src" |
        sed -E 's/\{"([^"]+)", required_argument, NULL, ([^}]*)\}/\1 \2/')
    for letter in $(printf '%s\n' "$optstring" | grep -oE '[A-Za-z0-9]:' | tr -d ':'); do
        echo "-$letter${long_of[$letter]:+ --${long_of[$letter]}}"
    done
}

# check_run LAB/PROG EXIT TEXT ARGS... - run the program on ARGS (bounded, no stdin, in its
# own session) and check: exit status EXIT (never a signal or a hang), a first stderr line
# "PROG: " with TEXT in it, no sanitizer report; for exit 2 the usage on the second line
# and nothing on stdout; for exit 1 that one line alone. Prints what is wrong, if anything.
check_run() {
    local path=$1 want=$2 text=$3 prog=${1##*/} status first second
    shift 3
    local out="$BATS_TEST_TMPDIR/out" err="$BATS_TEST_TMPDIR/err"
    status=0
    timeout -k 2 10 setsid -w "$ROOT/$path" "$@" >"$out" 2>"$err" </dev/null 3>&- || status=$?
    first=$(sed -n 1p "$err")
    second=$(sed -n 2p "$err")
    local what="$path $*:"
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "$what hung (killed after 10 s)"
    elif [ "$status" -gt 128 ]; then
        echo "$what killed by signal $((status - 128))"
    elif [ "$status" -ne "$want" ]; then
        echo "$what exit $status, not $want: $first"
    elif [[ "$first" != "$prog: "* ]] || [[ "$first" != *"$text"* ]]; then
        echo "$what first line '$first' lacks '$prog: ...$text'"
    elif grep -qE 'Sanitizer|runtime error:' "$err"; then
        echo "$what sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error:' "$err")"
    elif [ "$want" -eq 2 ] && [[ "$second" != "usage: $prog"* ]]; then
        echo "$what the usage does not follow the reason: '$second'"
    elif [ "$want" -eq 2 ] && [ -s "$out" ]; then
        echo "$what printed on stdout before refusing: $(head -n 1 "$out")"
    elif [ "$want" -eq 1 ] && [ "$(wc -l <"$err")" -ne 1 ]; then
        echo "$what more than one line on stderr: $(tr '\n' '|' <"$err")"
    fi
}

# note MESSAGE - add a non-empty message to $problems, one a line.
note() {
    [ -z "$1" ] || problems+="$1"$'\n'
}

@test "bad_input.table has rows for every program of every lab and for every option that takes a value, and none for a program that is gone" {
    local rows path opt problems="" known
    rows=$(table_rows)
    known=$(all_progs)
    for path in $known; do
        if ! cut -f1 <<<"$rows" | grep -qxF "$path"; then
            problems+="no row in bad_input.table for $path: add its bad command lines"$'\n'
            continue
        fi
        while read -r opt; do
            [ -n "$opt" ] || continue
            awk -F'\t' -v p="$path" -v o="$opt" 'BEGIN { k = split(o, names, " ") }
                $1 == p { n = split($4, w, " ")
                          for (i = 1; i <= n; i++) for (j = 1; j <= k; j++) if (w[i] == names[j]) found = 1 }
                END { exit !found }' <<<"$rows" ||
                problems+="$path: option $opt takes a value and has no row"$'\n'
        done < <(value_options "$path")
    done
    while read -r path; do
        grep -qxF "$path" <<<"$known" || problems+="bad_input.table names $path, which no lab builds"$'\n'
    done < <(cut -f1 <<<"$rows" | sort -u)
    # A C file with a main() that no Makefile lists is a program nobody tests: say so loudly.
    local lab src name
    for lab in $(labs); do
        for src in "$ROOT/$lab"/*.c; do
            grep -qE '^int main\(' "$src" || continue
            name=$(basename "$src" .c)
            grep -qxF "$lab/$name" <<<"$known" ||
                echo "# WARNING: $lab/$name.c has a main() but is not in $lab's PROGS: not covered" >&3
        done
    done
    [ -z "$problems" ] || fail "$problems"
}

@test "every program × an unknown long option, an unknown short option, a stray argument: one line naming it, the usage, exit 2" {
    local path problems=""
    for path in $(all_progs); do
        note "$(check_run "$path" 2 "unknown option --no-such-option" --no-such-option)"
        note "$(check_run "$path" 2 "unknown option -Z" -Z)"
        note "$(check_run "$path" 2 "unexpected argument 'stray'" stray)"
    done
    [ -z "$problems" ] || fail "$problems"
}

@test "every row of bad_input.table: the documented exit status and a first line that names the option (conflicts name both)" {
    local path kind want args text problems="" n=0
    local -a argv
    while IFS=$'\t' read -r path kind want args text; do
        case $kind in
        missing | number | range | word | signal | conflict | runtime | unknown) ;;
        *) problems+="$path: unknown kind '$kind' in bad_input.table"$'\n'; continue ;;
        esac
        # The table is ours: its ARGUMENTS are split as the shell would, '' included.
        eval "argv=($args)"
        note "$(check_run "$path" "$want" "$text" "${argv[@]}")"
        n=$((n + 1))
    done < <(table_rows)
    echo "# $n rows checked" >&3
    [ "$n" -gt 0 ] || fail "bad_input.table has no rows"
    [ -z "$problems" ] || fail "$problems"
}
