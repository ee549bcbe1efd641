#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# udp_echo.sh: UDP echo throughput of every server design, side by side in one run.
#
# Designs: the blocking loop (the baseline), sigio_echo_server in textbook, batch and
# mitigate mode, rt_echo_server (F_SETSIG + sigwaitinfo), epoll_echo_server, and the
# ceiling: the loop with recvmmsg/sendmmsg (loop_echo_server --mmsg), the best one thread
# does here without signals. For each: 64-byte datagrams, BENCH_WINDOW in flight, BENCH_N
# per run, designs interleaved (the order turns every round), BENCH_ROUNDS rounds; server
# and client pinned to a CPU each. Ratios are taken within a round (design / loop of the
# same round): the table gives their median and their range over the rounds (min-max).
#
# Conditions (BENCH_LOAD, a list of hog counts; default "0 2"): 0 is the quiet machine; 2
# runs two CPU hogs (busy shell loops, not pinned) for the whole measurement, as on a busy
# machine. Every design is measured in every condition, and a last table puts the ratios
# side by side. The window sweep runs in the first condition only.
#
# Prints a table per condition: design, datagrams/s, ratio to the blocking loop (median and
# min-max), ratio to the ceiling, server CPU µs per datagram, server wake-ups and signals
# per datagram, client CPU µs per datagram. Writes to BENCH_OUT: udp-echo.txt (every run of
# the first condition), udp-echo-summary.txt (its medians), udp-window.txt (the sweep), and
# udp-echo-load<N>.txt / udp-echo-load<N>-summary.txt for each loaded condition, each file
# with a '#' header: command, kernel, CPU count, date, columns. It reports; it never fails
# on timing.
#
# Environment (defaults): BENCH_OUT=bench-results BENCH_N=200000 BENCH_ROUNDS=5
#   BENCH_WINDOW=32 BENCH_SWEEP="1 8 32 128" BENCH_SWEEP_N=40000 BENCH_SWEEP_ROUNDS=3
#   BENCH_SIZE=64 BENCH_LOAD="0 2"
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "$0")/../lib/cli.bash" && cli_noopts "$@"
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1

out=${BENCH_OUT:-bench-results}
n=${BENCH_N:-200000}
rounds=${BENCH_ROUNDS:-5}
window=${BENCH_WINDOW:-32}
sweep=${BENCH_SWEEP:-1 8 32 128}
sweep_n=${BENCH_SWEEP_N:-40000}
sweep_rounds=${BENCH_SWEEP_ROUNDS:-3}
size=${BENCH_SIZE:-64}
loads=${BENCH_LOAD:-0 2}
for v in "$n" "$rounds" "$window" "$sweep_n" "$sweep_rounds" "$size" $sweep $loads; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "bench: '$v' is not a whole number (BENCH_* variables)" >&2; exit 2; }
done
mkdir -p "$out"

client=udp_sigio/udp_echo_client
# name|program|options; a design whose program is not built is left out, with a note.
# The SIGIO server's ring gets 1024 slots, more than the largest window, so that what is
# measured is the design and not a full ring (with the default 64 slots and 128 in flight
# it drops, and the client waits out each loss: the udp_sigio tests show that on purpose).
all_designs=(
    "loop|udp_sigio/loop_echo_server|"
    "sigio-textbook|udp_sigio/sigio_echo_server|--mode textbook -q 1024"
    "sigio-batch|udp_sigio/sigio_echo_server|--mode batch -q 1024"
    "sigio-mitigate|udp_sigio/sigio_echo_server|--mode mitigate -q 1024"
    "rt-sigwaitinfo|rtsig_setsig/rt_echo_server|"
    "epoll|udp_sigio/epoll_echo_server|"
    "ceiling-mmsg|udp_sigio/loop_echo_server|--mmsg"
)
designs=()
for d in "${all_designs[@]}"; do
    IFS='|' read -r name prog _ <<<"$d"
    if [ -x "$prog" ]; then designs+=("$d"); else echo "bench: $name left out: $prog is not built"; fi
done
[ -x "$client" ] || { echo "bench: $client is not built (make)" >&2; exit 1; }

# Server on one CPU, client on the other, when there are two: each design gets the same
# layout, and the numbers do not depend on where the scheduler happened to put them.
server_cpu=() client_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    server_cpu=(taskset -c 1) client_cpu=(taskset -c 0)
fi

tmp=$(mktemp -d)
server_pid=
hogs=()
# stop_hogs - end the CPU hogs of a loaded condition, by PID.
stop_hogs() {
    local pid
    for pid in "${hogs[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null; done
    hogs=()
}
# shellcheck source=scripts/lib/onexit.bash
. "$root/scripts/lib/onexit.bash"
# cleanup: the server, whatever was started last, the hogs, the folder; on every exit.
cleanup() {
    # shellcheck disable=SC2046,SC2086 # one PID per word, or none
    stop_pids $server_pid $(last_child)
    stop_hogs
    rm -rf "$tmp"
}
on_exit cleanup

# start_hogs N - N busy loops, each its own process in its own session, not pinned.
start_hogs() {
    local i
    for ((i = 0; i < $1; i++)); do
        # The hog's name carries the output folder, so a test can look for its own hogs.
        setsid bash -c 'while :; do :; done' "bench-hog:$out" </dev/null >/dev/null 2>&1 3>&- &
        hogs+=("$!")
    done
}

# cpu_ns PID: nanoseconds the process has run (first field of /proc/PID/schedstat).
cpu_ns() { read -r ns _ <"/proc/$1/schedstat" && echo "$ns"; }
# wakeups PID: times it went to sleep and was woken (voluntary context switches).
wakeups() { sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "/proc/$1/status"; }

# run_one NAME PROG OPTS COUNT WINDOW ROUND: one server, one client run; prints one data line:
# design window rate server_cpu_us_per_dgram wakeups_per_dgram signals_per_dgram client_cpu_us_per_dgram echoed_ok round
run_one() {
    local name=$1 prog=$2 opts=$3 count=$4 win=$5 round=$6 line port cpu0 wake0 cpu1 wake1 cline summary
    # shellcheck disable=SC2086 # opts holds several words on purpose
    setsid "${server_cpu[@]}" "$prog" -p 0 $opts >"$tmp/server.out" 2>"$tmp/server.err" </dev/null 3>&- &
    server_pid=$!
    for _ in $(seq 500); do
        line=$(grep -m1 '^listening on' "$tmp/server.out") && break
        sleep 0.01
    done
    if [ -z "${line:-}" ]; then
        echo "bench: $name did not start: $(head -c 300 "$tmp/server.err")" >&2
        kill -KILL "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=
        return 1
    fi
    port=${line##*:}
    cpu0=$(cpu_ns "$server_pid") wake0=$(wakeups "$server_pid")
    cline=$("${client_cpu[@]}" "$client" -p "$port" -n "$count" -s "$size" -W "$win" -t 120 | tail -n 1)
    cpu1=$(cpu_ns "$server_pid") wake1=$(wakeups "$server_pid")
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null
    server_pid=
    summary=$(tail -n 1 "$tmp/server.out")
    awk -v name="$name" -v win="$win" -v n="$count" -v c0="$cpu0" -v c1="$cpu1" -v round="$round" \
        -v w0="$wake0" -v w1="$wake1" -v cl="$cline" -v sm="$summary" '
        function kv(text, key,   i, f, parts) {
            f = split(text, parts, " ")
            for (i = 1; i <= f; i++) if (index(parts[i], key "=") == 1) return substr(parts[i], length(key) + 2)
            return ""
        }
        BEGIN {
            recv = kv(cl, "received"); rate = kv(cl, "rate"); ccpu = kv(cl, "cpu_us_per_dgram")
            sig = kv(sm, "signals"); if (sig == "") sig = 0
            ok = (recv == n && kv(cl, "lost") == "0") ? 1 : 0
            printf "%s %d %.0f %.3f %.3f %.3f %.3f %d %d\n", name, win, rate, (c1 - c0) / 1000 / n,
                (w1 - w0) / n, sig / n, ccpu, ok, round
        }'
}

header() {
    printf '# %s\n' "$1"
    printf '# command: %s\n' "scripts/bench/udp_echo.sh (BENCH_N=$n BENCH_ROUNDS=$rounds BENCH_WINDOW=$window BENCH_SWEEP=\"$sweep\" BENCH_SWEEP_N=$sweep_n BENCH_SIZE=$size BENCH_LOAD=\"$loads\")"
    printf '# kernel: %s  cpus: %s  date: %s\n' "$(uname -r)" "$(nproc)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '# columns: %s\n' "$2"
}
run_columns="design window datagrams_per_s server_cpu_us_per_dgram server_wakeups_per_dgram signals_per_dgram client_cpu_us_per_dgram all_echoed(1/0) round"
summary_columns="design datagrams_per_s ratio_to_loop ratio_min ratio_max ratio_to_ceiling server_cpu_us_per_dgram server_wakeups_per_dgram signals_per_dgram client_cpu_us_per_dgram echoed"

count=${#designs[@]}
# measure FILE COUNT WINDOW ROUNDS - every design ROUNDS times, interleaved, into FILE.
measure() {
    local file=$1 cnt=$2 win=$3 nrounds=$4 r i name prog opts
    for ((r = 0; r < nrounds; r++)); do
        for ((i = 0; i < count; i++)); do
            IFS='|' read -r name prog opts <<<"${designs[$(((i + r) % count))]}"
            run_one "$name" "$prog" "$opts" "$cnt" "$win" "$r" >>"$file" ||
                echo "$name $win 0 0 0 0 0 0 $r" >>"$file"
        done
    done
}

# summarize FILE WINDOW - one line per design (in the order of all_designs), the columns of
# $summary_columns: medians over the rounds; ratio_to_loop is the median of the per-round
# ratios design/loop, with their min and max; ratio_to_ceiling the same against the ceiling.
summarize() {
    awk -v win="$2" '
        function median(list,   n, a, i, j, t) {
            n = split(list, a, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function lo(list,   n, a, i, m) { n = split(list, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
        function hi(list,   n, a, i, m) { n = split(list, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
        /^#/ || $2 != win { next }
        !($1 in seen) { seen[$1] = 1; order[++k] = $1 }
        { rate[$1] = rate[$1] " " $3; cpu[$1] = cpu[$1] " " $4; wk[$1] = wk[$1] " " $5
          sg[$1] = sg[$1] " " $6; cc[$1] = cc[$1] " " $7; if ($8 != 1) bad[$1] = 1
          r[$1, $9] = $3; rounds[$9] = 1 }
        END {
            for (i = 1; i <= k; i++) { d = order[i]; ratios = ""; ceil = ""
                for (q in rounds) {
                    if (("loop", q) in r && r["loop", q] > 0 && (d, q) in r) ratios = ratios " " r[d, q] / r["loop", q]
                    if (("ceiling-mmsg", q) in r && r["ceiling-mmsg", q] > 0 && (d, q) in r) ceil = ceil " " r[d, q] / r["ceiling-mmsg", q]
                }
                if (ratios == "") ratios = "0"
                if (ceil == "") ceil = "0"
                printf "%s %.0f %.2f %.2f %.2f %.2f %.2f %.3f %.3f %.2f %s\n", d, median(rate[d]),
                    median(ratios), lo(ratios), hi(ratios), median(ceil), median(cpu[d]), median(wk[d]),
                    median(sg[d]), median(cc[d]), (d in bad) ? "NOT-ALL-ECHOED" : "ok" }
        }' "$1"
}

# table SUMMARY - the summary printed for a person.
table() {
    printf '%-16s %12s %18s %9s %10s %11s %10s %10s  %s\n' design datagrams/s "vs loop (min-max)" vs_ceil server_us wakeups/dg signals/dg client_us echoed
    awk '!/^#/ { printf "%-16s %12s %7sx (%s-%s) %8sx %10s %11s %10s %10s  %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }' "$1"
}

# --- the main comparison, in each condition ----------------------------------------------
first=1
summaries=()
for load in $loads; do
    if [ "$load" -eq 0 ]; then
        suffix="" label="quiet"
    else
        suffix="-load$load" label="loaded: $load CPU hogs"
    fi
    runs="$out/udp-echo$suffix.txt"
    summary="$out/udp-echo$suffix-summary.txt"
    header "UDP echo, $size-byte datagrams, $window in flight, $n per run, $rounds rounds, designs interleaved; $label" "$run_columns" >"$runs"
    echo "bench: $label: ${#designs[@]} designs x $rounds rounds, $n datagrams of $size bytes, $window in flight"
    start_hogs "$load"
    measure "$runs" "$n" "$window" "$rounds"
    stop_hogs
    {
        header "UDP echo medians over $rounds rounds, $window in flight; $label (from ${runs##*/})" "$summary_columns"
        summarize "$runs" "$window"
    } >"$summary"
    echo
    table "$summary"
    echo
    summaries+=("$load|$summary")

    # --- the window sweep, in the first condition only -----------------------------------
    if [ "$first" = 1 ] && [ -n "$sweep" ]; then
        first=0
        sweepfile="$out/udp-window.txt"
        header "UDP echo throughput against the window (datagrams in flight), $sweep_n per run, $sweep_rounds rounds, medians; $label" \
            "design window datagrams_per_s server_cpu_us_per_dgram server_wakeups_per_dgram signals_per_dgram client_cpu_us_per_dgram all_echoed(1/0) ratio_to_loop ratio_min ratio_max" >"$sweepfile"
        echo "bench: window sweep ($sweep), $sweep_n datagrams per run, $sweep_rounds rounds; $label"
        start_hogs "$load"
        for w in $sweep; do
            measure "$tmp/sweep.txt" "$sweep_n" "$w" "$sweep_rounds"
            summarize "$tmp/sweep.txt" "$w" |
                awk -v w="$w" '{ print $1, w, $2, $7, $8, $9, $10, ($11 == "ok"), $3, $4, $5 }' >>"$tmp/sweep-medians.txt"
        done
        stop_hogs
        # One block per design (the figure draws each design's rows as one set of points).
        for d in "${designs[@]}"; do
            awk -v d="${d%%|*}" '$1 == d' "$tmp/sweep-medians.txt" >>"$sweepfile"
        done
        printf '%-16s' window
        for w in $sweep; do printf '%16s' "$w"; done
        printf '   (ratio to the loop; signals per datagram in brackets)\n'
        for d in "${designs[@]}"; do
            name=${d%%|*}
            printf '%-16s' "$name"
            for w in $sweep; do
                awk -v d="$name" -v w="$w" '!/^#/ && $1 == d && $2 == w { printf "%16s", sprintf("%.2fx(%.3f)", $9, $6) }' "$sweepfile"
            done
            printf '\n'
        done
        echo
    fi
done

# --- the conditions side by side ---------------------------------------------------------
if [ "${#summaries[@]}" -gt 1 ]; then
    printf '%-16s' "vs loop"
    for entry in "${summaries[@]}"; do
        load=${entry%%|*}
        if [ "$load" -eq 0 ]; then printf '%22s' quiet; else printf '%22s' "$load hogs"; fi
    done
    printf '\n'
    for d in "${designs[@]}"; do
        name=${d%%|*}
        printf '%-16s' "$name"
        for entry in "${summaries[@]}"; do
            awk -v d="$name" '!/^#/ && $1 == d { printf "%22s", sprintf("%sx (%s-%s)", $3, $4, $5) }' "${entry#*|}"
        done
        printf '\n'
    done
    echo
fi
written=()
for f in "$out"/udp-echo*.txt "$out"/udp-window.txt; do [ -e "$f" ] && written+=("${f##*/}"); done
echo "bench: data in $out/: ${written[*]}"
