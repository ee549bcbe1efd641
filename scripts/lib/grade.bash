# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# (G_* are set here for the check scripts that source this file.)
# grade.bash - what every exercise's check script uses to build and run the student's
# programs. A check starts with
#
#   . "$ROOT/scripts/lib/grade.bash"
#
# and ends with g_done. scripts/grade runs it with ROOT, LAB, LAB_DIR, EX_DIR, PREDICTIONS
# and GRADE_TMP set (the exercise sheet, <lab>/exercises/README.md, says how to run one),
# and GRADE_REVEAL (1 with scripts/grade --reveal, else empty: a check prints what the
# scenario gave only when it is set) and GRADE_PREDICT_REPORT (see g_predict).
#
# The student's program is treated as untrusted: it may hang, fork, flood its output or
# signal its own process group. So every program started here runs in its own session,
# with stdin /dev/null, without fd 3, with its output capped at 1 MiB per stream, and is
# killed by PID together with everything it forked. "Everything it forked" is found by a
# tag in the environment each program inherits (a child that calls setsid() keeps it), so
# a program that leaves its session is still found and killed.
#
#   g_build PROG...             build with warnings as errors; FAIL with the errors if not
#   g_run SECS CMD [ARGS...]    run to the end (or kill after SECS); G_STATUS G_OUT G_ERR
#   g_start CMD [ARGS...]       start a server, wait for "listening on"; G_PID G_PORT
#                               G_SOUT G_SERR
#   g_stop [PID]                SIGTERM, ≤ 5 s, then SIGKILL; G_STATUS
#   g_wait_line FILE REGEX [SECS]
#   g_kv KEY FILE               value of the last KEY=VALUE token in FILE
#   g_expect WHAT EXPECTED SEEN g_predict OBSERVED_FILE
#                               (counts wrong predictions; names them, with the kernel's
#                               values, only with GRADE_REVEAL=1)
#   g_done   g_skip REASON   g_fail MESSAGE

: "${ROOT:?grade.bash: ROOT is not set (run the check through scripts/grade)}"
: "${LAB_DIR:=$ROOT/${LAB:-}}"
if [ -z "${GRADE_TMP:-}" ]; then
    GRADE_TMP=$(mktemp -d)
    _g_own_tmp=1
fi

G_STATUS=0 G_OUT='' G_ERR='' G_PID='' G_PORT='' G_SOUT='' G_SERR=''
_g_failed=0
_g_seq=0
_g_tagbase="g$$x$RANDOM$RANDOM"
_g_started=()   # "pid tag" of every program g_start started and g_stop has not stopped

# 1 MiB per output stream, in ulimit -f's 1024-byte blocks. A program that writes more gets
# SIGXFSZ (or EFBIG if it ignores that signal).
_G_OUTPUT_BLOCKS=1024

# _g_tagged TAG - PIDs of the processes that carry the environment tag TAG.
_g_tagged() {
    local f
    # grep -z reads the NUL-separated environment one variable at a time.
    while IFS= read -r f; do
        f=${f#/proc/}
        echo "${f%/environ}"
    done < <(grep -lzxE -- "_G_TAG=$1" /proc/[0-9]*/environ 2>/dev/null)
}

# _g_kill_tag TAG - SIGKILL every process with TAG until none is left (a program that
# forks while being killed is caught by the next round).
_g_kill_tag() {
    local round pids
    for round in 1 2 3 4 5 6 7 8 9 10; do
        pids=$(_g_tagged "$1")
        [ -n "$pids" ] || return 0
        # shellcheck disable=SC2086 # one PID per word
        kill -STOP $pids 2>/dev/null
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null
        sleep 0.05
        : "$round"
    done
}

# _g_state PID - the process's state letter (R, S, Z, ...); empty if it is gone.
_g_state() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    printf '%s\n' "${stat%% *}"
}

# _g_alive PID - true while PID runs (a zombie has ended: it only waits to be reaped).
_g_alive() {
    local s
    s=$(_g_state "$1")
    [ -n "$s" ] && [ "$s" != Z ]
}

# _g_launch OUT ERR TAG CMD... - start CMD in the background in its own session; sets
# _g_pid. setsid runs the program itself (this shell's child is no process group leader),
# so the PID is the program's own and its session and process group have that number.
_g_launch() {
    local out=$1 err=$2 tag=$3
    shift 3
    (
        ulimit -f "$_G_OUTPUT_BLOCKS" 2>/dev/null
        export _G_TAG="$tag"
        exec setsid "$@"
    ) </dev/null >"$out" 2>"$err" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    _g_pid=$!
}

# _g_reap PID - wait for PID (already ended, or killed) and set G_STATUS.
_g_reap() {
    G_STATUS=0
    wait "$1" 2>/dev/null || G_STATUS=$?
}

g_build() {
    local log="$GRADE_TMP/build.log"
    if ! make -s -C "$LAB_DIR" WERROR=1 "$@" </dev/null >"$log" 2>&1 3>&-; then
        cat "$log"
        echo "FAIL: the build of $* failed (warnings count as errors); the compiler's messages are above"
        exit 1
    fi
    # Warnings under WERROR=1 already failed the build; print anything make said.
    cat "$log"
    return 0
}

g_run() {
    # bash reports a killed background job on stderr ("Killed ..."); the check's reader
    # needs only G_STATUS, so the body runs with stderr away.
    _g_run "$@" 2>/dev/null
}
_g_run() {
    local secs=$1 pid tag deadline
    shift
    _g_seq=$((_g_seq + 1))
    tag="${_g_tagbase}r$_g_seq"
    G_OUT="$GRADE_TMP/run$_g_seq.out"
    G_ERR="$GRADE_TMP/run$_g_seq.err"
    _g_launch "$G_OUT" "$G_ERR" "$tag" "$@"
    pid=$_g_pid
    deadline=$((SECONDS + secs))
    while _g_alive "$pid"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            _g_kill_tag "$tag"
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            G_STATUS=124
            echo "note: $1 was still running after ${secs} s and was killed" >>"$G_ERR"
            return 0
        fi
        sleep 0.02
    done
    _g_reap "$pid"
    # What it forked and left behind goes too.
    _g_kill_tag "$tag"
    return 0
}

g_start() {
    local pid tag line deadline
    _g_seq=$((_g_seq + 1))
    tag="${_g_tagbase}s$_g_seq"
    G_SOUT="$GRADE_TMP/server$_g_seq.out"
    G_SERR="$GRADE_TMP/server$_g_seq.err"
    _g_launch "$G_SOUT" "$G_SERR" "$tag" "$@"
    pid=$_g_pid
    _g_started+=("$pid $tag")
    deadline=$((SECONDS + 10))
    while :; do
        line=$(grep -m1 '^listening on ' "$G_SOUT" 2>/dev/null)
        [ -n "$line" ] && break
        if ! _g_alive "$pid"; then
            _g_reap "$pid"
            echo "FAIL: $1 exited (status $G_STATUS) before it printed 'listening on'; its stderr:"
            tail -n 20 "$G_SERR"
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "FAIL: $1 did not print 'listening on ADDR:PORT' within 10 s; its stderr:"
            tail -n 20 "$G_SERR"
            exit 1
        fi
        sleep 0.02
    done
    G_PID=$pid
    G_PORT=${line##*:}
    return 0
}

# shellcheck disable=SC2120 # PID is optional: the last server started
g_stop() {
    _g_stop "$@" 2>/dev/null
}
_g_stop() {
    local pid=${1:-$G_PID} tag="" entry deadline i
    for i in "${!_g_started[@]}"; do
        entry=${_g_started[$i]}
        if [ "${entry%% *}" = "$pid" ]; then
            tag=${entry#* }
            unset "_g_started[$i]"
        fi
    done
    kill -TERM "$pid" 2>/dev/null
    deadline=$((SECONDS + 5))
    while _g_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.02
    done
    if _g_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        echo "note: $pid did not end within 5 s of SIGTERM and was killed"
    fi
    _g_reap "$pid"
    [ -n "$tag" ] && _g_kill_tag "$tag"
    return 0
}

g_wait_line() {
    local file=$1 regex=$2 deadline=$((SECONDS + ${3:-10}))
    until grep -qE -- "$regex" "$file" 2>/dev/null; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.02
    done
    return 0
}

g_kv() {
    grep -oE "(^|[[:space:]])$1=[^[:space:]]*" "$2" 2>/dev/null | tail -n 1 |
        sed -E "s/^[[:space:]]*$1=//"
}

g_expect() {
    if [ "$2" = "$3" ]; then
        echo "ok: $1"
    else
        echo "FAIL: $1: expected $2, saw ${3:-(nothing)}"
        _g_failed=1
    fi
}

# _g_value KEY FILE - the value of the last "KEY=VALUE" line of FILE, spaces trimmed;
# comment lines (#) do not count. Status 1 if there is no such line.
_g_value() {
    local line found=1 value=""
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        case $line in '#'* | '') continue ;; esac
        local k=${line%%=*}
        k=${k//[[:space:]]/}
        [ "$line" != "$k" ] || continue
        if [ "$k" = "$1" ] && [[ $line == *=* ]]; then
            value=${line#*=}
            value=${value#"${value%%[![:space:]]*}"}
            value=${value%"${value##*[![:space:]]}"}
            found=0
        fi
    done <"$2"
    printf '%s\n' "$value"
    return "$found"
}

# g_predict OBSERVED_FILE - judge $PREDICTIONS against what this kernel gave.
# A prediction that is missing or empty is named ("MISSING key"), and so is a line of the
# predictions file that is no "key=value" line (it is ignored): neither gives anything away. A prediction
# that does not hold is only counted ("2 of 5 predictions do not hold on this kernel"):
# naming it, or showing the kernel's value, would hand the answer to the next attempt.
# With GRADE_REVEAL=1 (scripts/grade --reveal) every key is shown with the prediction and
# what this kernel gave. When scripts/grade sets GRADE_PREDICT_REPORT, the counts go there
# as one line "keys=M filled=F missing=K wrong=N" (for the attempts it keeps).
g_predict() {
    local observed=$1 line key seen predicted n=0 wrong=0 missing=0 filled=0 lineno=0
    if [ ! -r "${PREDICTIONS:-}" ]; then
        echo "FAIL: no predictions file (${PREDICTIONS:-PREDICTIONS is not set})"
        _g_failed=1
        return 0
    fi
    # Lines of the predictions file that are neither comments nor "key=value".
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        line=${line%$'\r'}
        case $line in '#'* | '') continue ;; esac
        [[ $line =~ ^[[:space:]]*([A-Za-z0-9_]+[[:space:]]*=|#|$) ]] && continue
        echo "MALFORMED line $lineno of the predictions file, ignored: '$line' (not key=value)"
    done <"$PREDICTIONS"
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in '#'* | '') continue ;; esac
        [[ $line == *=* ]] || continue
        key=${line%%=*}
        seen=${line#*=}
        n=$((n + 1))
        predicted=$(_g_value "$key" "$PREDICTIONS")
        if [ -z "$predicted" ]; then
            missing=$((missing + 1))
            _g_failed=1
            if [ -n "${GRADE_REVEAL:-}" ]; then
                echo "MISSING $key: you predicted nothing, this kernel gave $seen"
            else
                echo "MISSING $key: no prediction"
            fi
            continue
        fi
        filled=$((filled + 1))
        if [ "$predicted" = "$seen" ]; then
            [ -n "${GRADE_REVEAL:-}" ] && echo "ok    $key: you predicted $predicted, this kernel gave $seen"
        else
            wrong=$((wrong + 1))
            _g_failed=1
            [ -n "${GRADE_REVEAL:-}" ] && echo "WRONG $key: you predicted $predicted, this kernel gave $seen"
        fi
    done <"$observed"
    if [ -n "${GRADE_PREDICT_REPORT:-}" ]; then
        echo "keys=$n filled=$filled missing=$missing wrong=$wrong" >>"$GRADE_PREDICT_REPORT"
    fi
    if [ "$wrong" -eq 0 ] && [ "$missing" -eq 0 ]; then
        echo "ok: all $n predictions hold on this kernel"
    elif [ -n "${GRADE_REVEAL:-}" ]; then
        echo "FAIL: $((wrong + missing)) of $n predictions do not hold on this kernel"
    else
        echo "FAIL: $((wrong + missing)) of $n predictions do not hold on this kernel ($missing without a value, named above; $wrong wrong, not named: the first complete attempt is what counts)"
    fi
    return 0
}

g_done() {
    exit "$_g_failed"
}

g_skip() {
    echo "$*"
    exit 4
}

g_fail() {
    echo "FAIL: $*"
    exit 1
}

# On the way out: everything g_run and g_start started and nobody stopped.
_g_cleanup() {
    local status=$? entry
    # bash reports each program killed here ("... Killed ...") on stderr; after the check's
    # own last words that would be the line a student reads, so it goes.
    exec 2>/dev/null
    for entry in "${_g_started[@]}"; do
        kill -KILL "${entry%% *}" 2>/dev/null
        _g_kill_tag "${entry#* }"
    done
    _g_started=()
    # Any program of this check, even one that a g_run timeout missed.
    _g_kill_tag "$_g_tagbase.*"
    [ -n "${_g_own_tmp:-}" ] && rm -rf "$GRADE_TMP"
    exit "$status"
}
trap _g_cleanup EXIT
