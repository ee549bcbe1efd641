#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# udp_echo.sh: UDP echo throughput of every server design, side by side in one run.
#
# Designs: the blocking loop (the baseline), sigio_echo_server in textbook and batch mode,
# rt_echo_server (F_SETSIG + sigwaitinfo) and epoll_echo_server. For each: 64-byte
# datagrams, BENCH_WINDOW in flight, BENCH_N per run, designs interleaved (the order turns
# every round), BENCH_ROUNDS rounds, medians. Then a sweep over the window.
#
# Prints a table: design, datagrams/s, ratio to the blocking loop, server CPU µs per
# datagram, server wake-ups and signals per datagram, client CPU µs per datagram.
# Writes BENCH_OUT/udp-echo.txt (every run) and BENCH_OUT/udp-window.txt (the sweep), each
# with a '#' header: command, kernel, CPU count, date. It reports; it never fails on timing.
#
# Environment (defaults): BENCH_OUT=bench-results BENCH_N=200000 BENCH_ROUNDS=3
#   BENCH_WINDOW=32 BENCH_SWEEP="1 8 32 128" BENCH_SWEEP_N=40000 BENCH_SWEEP_ROUNDS=3
#   BENCH_SIZE=64
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1

out=${BENCH_OUT:-bench-results}
n=${BENCH_N:-200000}
rounds=${BENCH_ROUNDS:-3}
window=${BENCH_WINDOW:-32}
sweep=${BENCH_SWEEP:-1 8 32 128}
sweep_n=${BENCH_SWEEP_N:-40000}
sweep_rounds=${BENCH_SWEEP_ROUNDS:-3}
size=${BENCH_SIZE:-64}
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
    "rt-sigwaitinfo|rtsig_setsig/rt_echo_server|"
    "epoll|udp_sigio/epoll_echo_server|"
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
cleanup() {
    [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# cpu_ns PID: nanoseconds the process has run (first field of /proc/PID/schedstat).
cpu_ns() { read -r ns _ <"/proc/$1/schedstat" && echo "$ns"; }
# wakeups PID: times it went to sleep and was woken (voluntary context switches).
wakeups() { sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "/proc/$1/status"; }

# run_one NAME PROG OPTS COUNT WINDOW: one server, one client run; prints one data line:
# design window rate server_cpu_us_per_dgram wakeups_per_dgram signals_per_dgram client_cpu_us_per_dgram echoed_ok
run_one() {
    local name=$1 prog=$2 opts=$3 count=$4 win=$5 line port cpu0 wake0 cpu1 wake1 cline summary
    # shellcheck disable=SC2086 # opts holds several words on purpose
    "${server_cpu[@]}" "$prog" -p 0 $opts >"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
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
    awk -v name="$name" -v win="$win" -v n="$count" -v c0="$cpu0" -v c1="$cpu1" \
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
            printf "%s %d %.0f %.3f %.3f %.3f %.3f %d\n", name, win, rate, (c1 - c0) / 1000 / n,
                (w1 - w0) / n, sig / n, ccpu, ok
        }'
}

header() {
    printf '# %s\n' "$1"
    printf '# command: %s\n' "scripts/bench/udp_echo.sh (BENCH_N=$n BENCH_ROUNDS=$rounds BENCH_WINDOW=$window BENCH_SWEEP=\"$sweep\" BENCH_SWEEP_N=$sweep_n BENCH_SIZE=$size)"
    printf '# kernel: %s  cpus: %s  date: %s\n' "$(uname -r)" "$(nproc)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '# columns: design window datagrams_per_s server_cpu_us_per_dgram server_wakeups_per_dgram signals_per_dgram client_cpu_us_per_dgram all_echoed(1/0)\n'
}

# --- the main comparison ----------------------------------------------------------------
runs="$out/udp-echo.txt"
header "UDP echo, $size-byte datagrams, $window in flight, $n per run, $rounds rounds, designs interleaved" >"$runs"
echo "bench: ${#designs[@]} designs x $rounds rounds, $n datagrams of $size bytes, $window in flight"
count=${#designs[@]}
for ((r = 0; r < rounds; r++)); do
    for ((i = 0; i < count; i++)); do
        IFS='|' read -r name prog opts <<<"${designs[$(((i + r) % count))]}"
        run_one "$name" "$prog" "$opts" "$n" "$window" >>"$runs" || echo "$name $window 0 0 0 0 0 0" >>"$runs"
    done
done

# Medians per design, in the order of all_designs; ratio against the loop's median.
summarize() { # file window -> "design rate ratio cpu wake sig ccpu ok" per design
    awk -v win="$2" '
        function median(list,   n, a, i, j, t) {
            n = split(list, a, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        /^#/ || $2 != win { next }
        !($1 in seen) { seen[$1] = 1; order[++k] = $1 }
        { rate[$1] = rate[$1] " " $3; cpu[$1] = cpu[$1] " " $4; wk[$1] = wk[$1] " " $5
          sg[$1] = sg[$1] " " $6; cc[$1] = cc[$1] " " $7; if ($8 != 1) bad[$1] = 1 }
        END {
            base = ("loop" in seen) ? median(rate["loop"]) : 0
            for (i = 1; i <= k; i++) { d = order[i]; m = median(rate[d])
                printf "%s %.0f %.2f %.2f %.3f %.3f %.2f %s\n", d, m, base ? m / base : 0,
                    median(cpu[d]), median(wk[d]), median(sg[d]), median(cc[d]), (d in bad) ? "NOT-ALL-ECHOED" : "ok" }
        }' "$1"
}

printf '\n%-16s %12s %8s %14s %10s %10s %14s  %s\n' design datagrams/s ratio server_us/dgram wakeups/dg signals/dg client_us/dgram echoed
summarize "$runs" "$window" | while read -r d rate ratio cpu wk sg cc ok; do
    printf '%-16s %12s %7sx %14s %10s %10s %14s  %s\n' "$d" "$rate" "$ratio" "$cpu" "$wk" "$sg" "$cc" "$ok"
done
summarize "$runs" "$window" >"$out/udp-echo-summary.txt"

# --- the window sweep -------------------------------------------------------------------
sweepfile="$out/udp-window.txt"
header "UDP echo throughput against the window (datagrams in flight), $sweep_n per run, $sweep_rounds rounds, medians" >"$sweepfile"
echo
echo "bench: window sweep ($sweep), $sweep_n datagrams per run, $sweep_rounds rounds"
for w in $sweep; do
    for ((r = 0; r < sweep_rounds; r++)); do
        for ((i = 0; i < count; i++)); do
            IFS='|' read -r name prog opts <<<"${designs[$(((i + r) % count))]}"
            run_one "$name" "$prog" "$opts" "$sweep_n" "$w" >>"$tmp/sweep.txt" || echo "$name $w 0 0 0 0 0 0" >>"$tmp/sweep.txt"
        done
    done
    summarize "$tmp/sweep.txt" "$w" | awk -v w="$w" '{ print $1, w, $2, $4, $5, $6, $7, ($8 == "ok") }' >>"$tmp/sweep-medians.txt"
done
# One block per design (the figure draws each design's rows as one line).
for d in "${designs[@]}"; do
    awk -v d="${d%%|*}" '$1 == d' "$tmp/sweep-medians.txt" >>"$sweepfile"
done
printf '%-16s' window
for w in $sweep; do printf '%12s' "$w"; done
printf '   (datagrams/s; server µs/dgram in brackets)\n'
for d in "${designs[@]}"; do
    name=${d%%|*}
    printf '%-16s' "$name"
    for w in $sweep; do
        awk -v d="$name" -v w="$w" '!/^#/ && $1 == d && $2 == w { printf "%12s", sprintf("%d(%.1f)", $3, $4) }' "$sweepfile"
    done
    printf '\n'
done
echo
echo "bench: data in $out/udp-echo.txt, $out/udp-echo-summary.txt and $out/udp-window.txt"
