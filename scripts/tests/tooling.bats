#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The project's own tools: the tour stops on ^C, install-deps on every kind of system (with
# stub package managers), every script's -h and bad options, the CI workflow.

load '../lib/test_helper'

setup() { helper_setup; }
teardown() {
    # A tour a failed test left running: its session, by PID.
    [ -n "${TOUR_PID:-}" ] && kill -KILL -- "-$TOUR_PID" 2>/dev/null
    if [ -n "${OWN_TRACEFS:-}" ]; then
        umount "$OWN_TRACEFS" 2>/dev/null
        rmdir "$OWN_TRACEFS" 2>/dev/null
    fi
    helper_teardown
}

# marked NAME VALUE - PIDs of live processes whose environment holds NAME=VALUE.
marked() {
    grep -lzx "$1=$2" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
    return 0
}

# tracefs_dir - where tracefs can be read: its standard mount, or, where it has none (sigtrace
# then mounts it privately), a mount of this test's own, made once (run it outside a command
# substitution), in a folder outside the test's own folder, removed by teardown. Sets
# TRACEFS_DIR; empty where tracefs cannot be mounted (without root sigtrace makes no instance).
tracefs_dir() {
    TRACEFS_DIR=$(awk '$3 == "tracefs" && ($2 == "/sys/kernel/tracing" || $2 == "/sys/kernel/debug/tracing") { print $2; exit }' /proc/mounts)
    [ -z "$TRACEFS_DIR" ] || return 0
    if [ -z "${OWN_TRACEFS:-}" ]; then
        OWN_TRACEFS=$(mktemp -d /tmp/tooling-tracefs.XXXXXX) || return 0
        if ! mount -t tracefs nodev "$OWN_TRACEFS" 2>/dev/null; then
            rmdir "$OWN_TRACEFS"
            OWN_TRACEFS=""
            return 0
        fi
    fi
    TRACEFS_DIR=$OWN_TRACEFS
}

# tracing_instances - the names of sigtrace's tracing instances now (after tracefs_dir).
tracing_instances() {
    local d
    [ -n "${TRACEFS_DIR:-}" ] || return 0
    for d in "$TRACEFS_DIR"/instances/sigtrace-*; do
        [ -d "$d" ] && echo "${d##*/}"
    done
    return 0
}

# interrupt_tour PATTERN DELAY [PART [LIMIT]] - start the tour (or only its part PART, a file
# in scripts/demo/) in a session of its own with SIGINT at its
# default (as from a terminal), wait until its output shows PATTERN, wait DELAY seconds,
# then send SIGINT to its process group, as ^C does. Checks that it ended within LIMIT
# seconds (default 1), killed by SIGINT, and left no process and no temporary file. (On
# this 2-core machine it takes 80-300 ms at a load of 3.5, about half a second at 12.)
interrupt_tour() {
    local pattern=$1 delay=$2 script="$ROOT/scripts/demo/${3:-run}" limit=${4:-1} out="$BATS_TEST_TMPDIR/tour.out" mark="$BATS_TEST_NUMBER-$$-$RANDOM"
    local tmp="$BATS_TEST_TMPDIR/tmp" deadline t0 t1 left inst before
    mkdir -p "$tmp"
    tracefs_dir
    before=$(tracing_instances)
    TMPDIR=$tmp TOUR_MARK=$mark setsid env --default-signal=INT bash "$script" \
        >"$out" 2>&1 </dev/null 3>&- &
    TOUR_PID=$!
    wait_for_line "$out" "$pattern" 60
    sleep "$delay"
    t0=$(date +%s%N)
    kill -INT -- "-$TOUR_PID"
    deadline=$((SECONDS + 10))
    while [ "$(ps -o stat= -p "$TOUR_PID" | cut -c1)" != Z ] && kill -0 "$TOUR_PID" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            ps -o pid,ppid,pgid,stat,wchan:16,args -s "$TOUR_PID" >&2
            tail -n 5 "$out" >&2
            fail "the tour still runs 10 s after ^C at '$pattern'"
        fi
        sleep 0.01
    done
    t1=$(date +%s%N)
    EXIT_STATUS=0
    wait "$TOUR_PID" || EXIT_STATUS=$?
    TOUR_PID=""
    echo "^C at '$pattern' + ${delay}s: ended after $(((t1 - t0) / 1000000)) ms" >&3
    [ $((t1 - t0)) -le $((limit * 1000000000)) ] || fail "the tour took $(((t1 - t0) / 1000000)) ms to end after ^C at '$pattern'"
    assert_equal "$EXIT_STATUS" 130
    # Servers and their children stop on SIGTERM within a second.
    deadline=$((SECONDS + 2))
    left=$(marked TOUR_MARK "$mark")
    while [ -n "$left" ] && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.05
        left=$(marked TOUR_MARK "$mark")
    done
    [ -z "$left" ] || { ps -o pid,stat,args -p "$(echo "$left" | tr ' ' ,)" >&2; fail "left running after ^C: $left"; }
    run ls -A "$tmp"
    assert_output ""
    # A tracing instance of sigtrace's that is new, and whose sigtrace has gone.
    for inst in $(tracing_instances); do
        [[ " $before " == *" $inst "* ]] && continue
        kill -0 "${inst#sigtrace-}" 2>/dev/null || fail "tracing instance $inst left behind"
    done
    run cat "$out"
    refute_output --partial "No such process"
    refute_output --partial "The tour took"
}

@test "^C ends the tour within 1 s, wherever it is, and leaves no process or temporary file" {
    # Also between two commands, where the output filter of the next one has started and
    # the command not yet.
    interrupt_tour '^\$ kill -STOP' 0
    interrupt_tour '^\$ kill -STOP' 0.05
    interrupt_tour 'udp_echo_client .* -T 100' 0.3
    interrupt_tour 'udp_sigio-fig251.sh timing' 1
    interrupt_tour 'listen_server -p 0' 0.2
}

@test "^C ends the tracing part within 2 s and the figures within 1 s, leaving no tracing instance, process or file" {
    # sigtrace removes its tracing instance on the way out, and the kernel takes its time
    # there (200-600 ms at a load of 3.5).
    interrupt_tour 'scripts/sigtrace --path' 0.5 60-sigtrace.sh 2
    interrupt_tour 'plots/run --quick' 2 90-figures.sh
}

# ---- stopping a script that started programs: onexit.bash ------------------------------

# onexit_script - a script that starts a program it never notes, then waits; its clean-up
# logs its start and end around half a second of work. With ONEXIT_OLD=1 it uses the plain
# traps instead, to show what onexit.bash mends.
onexit_script() {
    cat >"$BATS_TEST_TMPDIR/script.sh" <<EOF
log=\$1
. "$ROOT/scripts/lib/onexit.bash"
cleanup() {
    echo start >>"\$log"
    sleep 0.5
    stop_pids \$(last_child)
    echo end >>"\$log"
}
if [ -n "\${ONEXIT_OLD:-}" ]; then
    trap cleanup EXIT
    trap 'exit 143' TERM
else
    on_exit cleanup
fi
SIGIO_LABS_TEST=\$log sleep 1000 </dev/null >/dev/null 2>&1 &
echo ready >>"\$log"
while :; do sleep 0.05; done
EOF
}

# stop_twice - start the script, wait for "ready", SIGTERM it, wait for its clean-up to
# start, SIGTERM it again. Sets EXIT_STATUS and LOG.
stop_twice() {
    LOG="$BATS_TEST_TMPDIR/log.$RANDOM"
    setsid bash "$BATS_TEST_TMPDIR/script.sh" "$LOG" </dev/null >/dev/null 2>&1 3>&- &
    local pid=$!
    STARTED_PIDS+=("$pid")
    wait_for_line "$LOG" '^ready$'
    kill -TERM "$pid"
    wait_for_line "$LOG" '^start$'
    kill -TERM "$pid"
    wait_pid_exit "$pid" 10
}

@test "onexit.bash: a second SIGTERM during the clean-up does not cut it short, and the program started last is stopped though no variable holds its PID" {
    onexit_script
    stop_twice
    assert_equal "$EXIT_STATUS" 143
    run cat "$LOG"
    assert_output $'ready\nstart\nend'
    assert_equal "$(marked SIGIO_LABS_TEST "$LOG")" ""
    # The plain traps, for comparison: the second SIGTERM ends the clean-up half-way.
    ONEXIT_OLD=1 stop_twice
    run cat "$LOG"
    assert_output $'ready\nstart'
    run marked SIGIO_LABS_TEST "$LOG"
    refute_output ""
    # shellcheck disable=SC2086 # one PID per word
    kill -KILL $output
}

@test "every script that starts programs in the background stops them through onexit.bash, or is one of the five with a clean-up of its own" {
    local f checked=0
    local own=" scripts/lib/demo.bash scripts/lib/grade.bash scripts/lib/test_helper.bash scripts/sigtrace scripts/grade "
    while IFS= read -r f; do
        [[ "$own" == *" ${f#"$ROOT"/} "* ]] && continue
        checked=$((checked + 1))
        grep -q 'lib/onexit.bash"' "$f" || fail "$f starts a program in the background without onexit.bash"
        if grep -qE '^[[:space:]]*trap .*(EXIT|TERM|INT)[[:space:]]*$' "$f"; then
            fail "$f sets traps of its own beside onexit.bash"
        fi
    done < <(grep -rlE '^[^#]*[^&]&[[:space:]]*$' "$ROOT/scripts" --exclude-dir=tests)
    [ "$checked" -ge 6 ] || fail "only $checked scripts found: the search is broken"
}

@test "udp_sigio-fig251.sh, stopped as timeout stops it (SIGTERM to its group, then to itself), leaves no server or client behind" {
    local prog p pid mark left deadline
    for prog in loop_echo_serv udp_echo_client sigio_echo_ser; do
        mark="fig251-$BATS_TEST_NUMBER-$$-$prog"
        SIGIO_LABS_TEST=$mark setsid "$ROOT/scripts/udp_sigio-fig251.sh" timing -D 1000 -n 2000 \
            </dev/null >/dev/null 2>&1 3>&- &
        pid=$!
        STARTED_PIDS+=("$pid")
        # Stopped while it runs the loop server, then the client, then the SIGIO server.
        deadline=$((SECONDS + 20))
        until for p in $(marked SIGIO_LABS_TEST "$mark"); do cat "/proc/$p/comm"; done 2>/dev/null | grep -q "^$prog"; do
            [ "$SECONDS" -lt "$deadline" ] || fail "fig251.sh did not start $prog within 20 s"
            sleep 0.01
        done
        kill -TERM -- "-$pid"
        kill -TERM "$pid"
        wait_pid_exit "$pid" 5 || fail "stopped at $prog: fig251.sh still runs 5 s after SIGTERM"
        assert_equal "$EXIT_STATUS" 143
        deadline=$((SECONDS + 2))
        while left=$(marked SIGIO_LABS_TEST "$mark") && [ -n "$left" ] && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 0.05
        done
        [ -z "$left" ] || { ps -o pid,stat,args -p "$(echo "$left" | paste -sd,)" >&2; fail "stopped at $prog: left running: $left"; }
    done
}

# ---- install-deps, with stub commands on PATH --------------------------------------------

# stub_system - a PATH of its own ($STUB_BIN) holding only what install-deps itself uses,
# and a library folder ($STUB_LIBS) with nothing in it. Sets STUB_LOG: each stub package
# manager writes its command line there, and "installs" what it was asked for as stubs.
stub_system() {
    STUB_BIN="$BATS_TEST_TMPDIR/bin"
    STUB_LIBS="$BATS_TEST_TMPDIR/libs"
    STUB_LOG="$BATS_TEST_TMPDIR/manager.log"
    rm -rf "$STUB_BIN" "$STUB_LIBS"
    mkdir -p "$STUB_BIN" "$STUB_LIBS"
    : >"$STUB_LOG"
    local tool
    for tool in bash sed mktemp tail rm id cat; do
        ln -s "$(command -v "$tool")" "$STUB_BIN/$tool"
    done
    # The base tools are there unless a test removes them.
    for tool in pgrep timeout setsid unshare ip ss; do stub_cmd "$tool"; done
}

# stub_cmd NAME [OUTPUT] - a command NAME that prints OUTPUT and succeeds.
stub_cmd() {
    printf '#!/bin/sh\nprintf "%%s\\n" "%s"\n' "${2:-}" >"$STUB_BIN/$1"
    chmod +x "$STUB_BIN/$1"
}

# stub_manager NAME - a package manager NAME that logs its arguments and turns each package
# it is asked to install into what install-deps looks for.
stub_manager() {
    local mkdir touch chmod
    mkdir=$(command -v mkdir) touch=$(command -v touch) chmod=$(command -v chmod)
    cat >"$STUB_BIN/$1" <<STUB
#!/bin/bash
echo "$1 \$*" >>"$STUB_LOG"
tool() { printf '#!/bin/sh\necho "%s"\n' "\$2" >"$STUB_BIN/\$1"; $chmod +x "$STUB_BIN/\$1"; }
for arg; do
    case \$arg in
        bats) tool bats "Bats 1.9.0" ;;
        bats-support | bats-assert) $mkdir -p "$STUB_LIBS/\$arg"; $touch "$STUB_LIBS/\$arg/load.bash" ;;
        gnuplot | gnuplot-nox) tool gnuplot ;;
        socat | valgrind) tool "\$arg" ;;
        procps | procps-ng) tool pgrep ;;
        iproute | iproute2) tool ip; tool ss ;;
    esac
done
exit 0
STUB
    chmod +x "$STUB_BIN/$1"
}

# deps ARGS... - run install-deps in the stub system.
deps() {
    local timeout
    timeout=$(command -v timeout)
    run "$timeout" 20 env PATH="$STUB_BIN" BATS_LIB_PATH= INSTALL_DEPS_LIBDIRS="$STUB_LIBS" \
        "$ROOT/scripts/install-deps" "$@"
}

@test "install-deps --for test installs only what the tests need, with apt-get's names, and then finds it" {
    stub_system
    stub_manager apt-get
    deps --for test
    assert_success
    assert_line "install-deps: missing: bats bats-support bats-assert socat valgrind"
    run cat "$STUB_LOG"
    assert_line "apt-get update -qq"
    assert_line "apt-get install -y -qq --no-install-recommends bats bats-support bats-assert socat valgrind"
    refute_output --partial gnuplot
    # Now everything is there: silent, exit 0, no package manager called.
    : >"$STUB_LOG"
    deps --for test
    assert_success
    assert_output ""
    [ ! -s "$STUB_LOG" ] || fail "the package manager ran although nothing was missing"
}

@test "install-deps --for figures asks only for gnuplot (gnuplot-nox with apt-get); --check installs nothing" {
    stub_system
    stub_manager apt-get
    deps --for figures --check
    assert_failure 1
    assert_output "install-deps: missing: gnuplot"
    [ ! -s "$STUB_LOG" ] || fail "--check ran the package manager"
    deps --for figures
    assert_success
    run cat "$STUB_LOG"
    assert_line "apt-get install -y -qq --no-install-recommends gnuplot-nox"
}

@test "install-deps uses Fedora's names with dnf and says where bats-support and bats-assert go" {
    stub_system
    rm "$STUB_BIN/pgrep" "$STUB_BIN/ip"
    stub_manager dnf
    deps --for all
    assert_failure 1
    run cat "$STUB_LOG"
    assert_output "dnf install -y -q procps-ng iproute bats socat valgrind gnuplot"
    deps --for all
    assert_line --partial "bats-support has no package here: put a release of the bats-core project's bats-support in /usr/local/lib/bats/bats-support"
    assert_line --partial "bats-assert has no package here"
}

@test "install-deps uses Arch's names with pacman" {
    stub_system
    rm "$STUB_BIN/pgrep" "$STUB_BIN/ip"
    stub_manager pacman
    deps
    assert_success
    run cat "$STUB_LOG"
    assert_output "pacman -S --needed --noconfirm procps-ng iproute2 bats bats-support bats-assert socat valgrind gnuplot"
}

@test "install-deps without apt-get, dnf or pacman prints exactly what is needed and exits 1" {
    stub_system
    rm "$STUB_BIN/setsid"
    deps --for test
    assert_failure 1
    assert_line "install-deps: missing: util-linux bats bats-support bats-assert socat valgrind"
    assert_line --partial "no apt-get, dnf or pacman here"
    assert_line "  bats (1.8 or later), bats-support, bats-assert, socat, valgrind: for make test"
    assert_line "install-deps: missing here: util-linux bats bats-support bats-assert socat valgrind"
}

@test "install-deps as a user without sudo prints the command to run and exits 1" {
    stub_system
    stub_manager apt-get
    rm "$STUB_BIN/id"
    stub_cmd id 1000
    deps --for figures
    assert_failure 1
    assert_line "  sudo apt-get install -y -qq --no-install-recommends gnuplot-nox"
    [ ! -s "$STUB_LOG" ] || fail "the package manager ran without root"
}

@test "install-deps stops in one line on a bats older than 1.8, and accepts 1.8 and 1.10" {
    stub_system
    stub_cmd socat
    stub_cmd valgrind
    mkdir -p "$STUB_LIBS/bats-support" "$STUB_LIBS/bats-assert"
    touch "$STUB_LIBS/bats-support/load.bash" "$STUB_LIBS/bats-assert/load.bash"
    stub_cmd bats "Bats 1.7.0"
    deps --for test
    assert_failure 1
    assert_output "install-deps: Bats 1.7.0 is too old: the tests need bats 1.8 or later (time limits, per-test folders, TAP reports); install bats-core 1.8 or later"
    # The figures do not need bats.
    stub_cmd gnuplot
    deps --for figures
    assert_success
    local v
    for v in 1.8.0 1.10.0 2.0.1; do
        stub_cmd bats "Bats $v"
        deps --for test
        assert_success
        assert_output ""
    done
}

# ---- the lab kit's names for error numbers and signals -----------------------------------

@test "the lab kit names every error number and signal as glibc does, from its own table" {
    local dir="$BATS_TEST_TMPDIR/names"
    mkdir -p "$dir"
    # The lab kit does not call glibc's name functions (glibc 2.32 and later only).
    cp "$ROOT/udp_sigio/labutil.c" "$ROOT/udp_sigio/labutil.h" "$dir/"
    run_bounded 60 cc -std=gnu11 -D_GNU_SOURCE -c -o "$dir/labutil.o" "$dir/labutil.c"
    assert_success
    run nm -u "$dir/labutil.o"
    refute_output --partial strerrorname_np
    refute_output --partial sigabbrev_np
    cat >"$dir/names.c" <<'C'
/* Every number the labs can print: error numbers 0-200, signals 1-SIGRTMAX. */
#include "labutil.h"
#include <errno.h>
#include <string.h>
int main(void)
{
    char buf[16];
    int bad = 0;
    printf("EAGAIN=%s ECONNREFUSED=%s 0=%s 200=%s SIGIO=%s SIGTERM=%s 32=%s\n", errno_name(EAGAIN),
           errno_name(ECONNREFUSED), errno_name(0), errno_name(200), signal_name(SIGIO, buf, sizeof buf),
           signal_name(SIGTERM, (char[16]){0}, 16), signal_name(32, (char[16]){0}, 16));
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    for (int e = 0; e <= 200; e++) {
        const char *glibc = strerrorname_np(e);
        if (strcmp(errno_name(e), glibc ? glibc : "E?") != 0) {
            printf("errno %d: table %s, glibc %s\n", e, errno_name(e), glibc ? glibc : "none");
            bad = 1;
        }
    }
    for (int s = 1; s < SIGRTMIN; s++) {
        const char *abbrev = sigabbrev_np(s);
        char want[16];
        if (s == SIGIO)
            snprintf(want, sizeof want, "SIGIO"); /* glibc: "POLL"; the suite says SIGIO */
        else if (abbrev)
            snprintf(want, sizeof want, "SIG%s", abbrev);
        else
            snprintf(want, sizeof want, "signal %d", s);
        if (strcmp(signal_name(s, buf, sizeof buf), want) != 0) {
            printf("signal %d: table %s, glibc %s\n", s, buf, want);
            bad = 1;
        }
    }
    printf("compared with glibc %d.%d\n", __GLIBC__, __GLIBC_MINOR__);
#else
    printf("not compared: glibc older than 2.32 or another C library\n");
#endif
    return bad;
}
C
    run_bounded 60 cc -std=gnu11 -D_GNU_SOURCE -I"$dir" -o "$dir/names" "$dir/names.c" "$dir/labutil.o"
    assert_success
    run_bounded 10 "$dir/names"
    assert_success
    assert_line "EAGAIN=EAGAIN ECONNREFUSED=ECONNREFUSED 0=0 200=E? SIGIO=SIGIO SIGTERM=SIGTERM 32=signal 32"
    if [[ $output == *"not compared"* ]]; then
        skip "glibc's own names (2.32 and later) are not here to compare the table with"
    fi
    assert_line --partial "compared with glibc"
}

@test "the tour's figures part without a working gnuplot: one line saying so and what installs it, exit 0, nothing drawn" {
    local stub="$BATS_TEST_TMPDIR/stub" stamp="$BATS_TEST_TMPDIR/stamp"
    mkdir -p "$stub"
    # A gnuplot that cannot draw, first on PATH (as a missing one, or one without pngcairo).
    printf '%s\n' '#!/bin/sh' 'exit 1' >"$stub/gnuplot"
    chmod +x "$stub/gnuplot"
    touch "$stamp"
    cd "$ROOT"
    PATH="$stub:$PATH" run_bounded 20 bash scripts/demo/90-figures.sh
    assert_success
    assert_line "figures skipped: gnuplot with its pngcairo terminal is not installed (scripts/install-deps --for figures)"
    refute_output --partial "plots/run"
    run find "$ROOT" \( -path "$ROOT/test-results" -o -path "$ROOT/.git" \) -prune -o -newer "$stamp" -print
    assert_output ""
}

@test "the tour's tracing part without root: one line saying what is missing, the way to see it, exit 0, nothing traced" {
    [ "$(id -u)" -eq 0 ] || skip "needs root: only root can run the part as another user (uid 65534) here"
    command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
    local -a as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    "${as_nobody[@]}" test -x "$ROOT/scripts/sigtrace" || skip "uid 65534 cannot reach this checkout ($ROOT)"
    cd "$ROOT"
    run_bounded 20 "${as_nobody[@]}" env TMPDIR=/tmp bash scripts/demo/60-sigtrace.sh
    assert_success
    assert_line --regexp '^    \(skipped: .*(root|CAP_SYS_ADMIN)'
    assert_output --partial "Run 'sudo make demo' to"
    refute_output --partial '$ scripts/sigtrace'
}

# ---- the CI workflow ---------------------------------------------------------------------

@test "the CI workflow parses as YAML and runs .ci/run on a current Ubuntu runner, as root" {
    local wf="$ROOT/.github/workflows/ci.yml"
    [ -f "$wf" ] || fail "no $wf"
    python3 -c 'import yaml' 2>/dev/null || skip "python3 with PyYAML is not here to parse the workflow"
    run_bounded 20 python3 - "$wf" <<'PY'
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
on = wf.get("on", wf.get(True))  # YAML 1.1 reads the key "on" as true
assert "push" in on and "pull_request" in on, on
job = wf["jobs"]["test"]
print("runs-on", job["runs-on"])
for step in job["steps"]:
    if "run" in step:
        print("run", " ".join(step["run"].split()))
PY
    assert_success
    assert_line --regexp '^runs-on ubuntu-(2[4-9]|[3-9][0-9])\.04$'
    assert_line --regexp '^run .*scripts/install-deps --for all'
    assert_line --regexp '^run sudo .*bash \.ci/run$'
}
