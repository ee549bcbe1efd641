#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# plots/rtsig_setsig.sh DIR - the rtsig_setsig figure: notifications delivered for K events
# made while the signal was blocked, K = 1 ... 10 000, for plain SIGIO, for a realtime
# signal (F_SETSIG), and for the realtime signal under RLIMIT_SIGPENDING = L, where the
# queue overflows into one plain SIGIO. PLOTS_QUICK=1 takes fewer values of K.
# shellcheck source=scripts/lib/cli.bash
. "$(dirname "$0")/../lib/cli.bash" && cli_noopts "$@"
set -euo pipefail
# shellcheck source=scripts/plots/draw.bash
. "$(dirname "$0")/draw.bash"
dir=${1:?usage: rtsig_setsig.sh DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
lab="$root/rtsig_setsig"
limit=1000
data="$dir/rtsig_setsig-notifications.txt"

if [ "${PLOTS_QUICK:-0}" = 1 ]; then
    ks=(1 2 5 10 20 50 100 200 500 1000 2000 5000 10000)
else
    ks=(1 2 3 5 7 10 15 20 30 50 70 100 150 200 300 500 700 900 1000 1001 1100 1500 2000 3000 5000 7000 10000)
fi
# A user namespace of its own gives overflow_demo a pending-signal count of its own, so that
# other programs of this user do not take part of the limit.
own=()
count="shared with the user's other programs"
if unshare --user true 2>/dev/null; then
    own=(unshare --user)
    count="private (unshare --user)"
fi

# kv KEY LINE - the value of KEY=VALUE in LINE.
kv() {
    printf '%s\n' "$2" | grep -oE "(^| )$1=[^ ]*" | tail -n 1 | sed -E "s/^ ?$1=//"
}

{
    echo "# rtsig_setsig: notifications delivered for K events made while the signal was blocked"
    echo "# columns: K (events)  sigio (handler calls, plain SIGIO)  rt (handler calls, F_SETSIG SIGRTMIN)"
    echo "#          limited (signals taken with RLIMIT_SIGPENDING=$limit: realtime + SIGIO)  limited_rt  limited_sigio"
    echo "# sigio, rt: rtsig_setsig/coalesce_demo --signal sigio|rt -k K (K loopback UDP datagrams)"
    echo "# limited: ${own[*]}${own[*]:+ }rtsig_setsig/overflow_demo -l $limit -k K (K one-byte pipe writes); count $count"
    echo "# kernel: $(uname -r)  machine: $(uname -m)  date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    for k in "${ks[@]}"; do
        sigio=$(kv handler_calls "$("$lab/coalesce_demo" --signal sigio -k "$k")")
        rt=$(kv handler_calls "$("$lab/coalesce_demo" --signal rt -k "$k")")
        line=$("${own[@]}" "$lab/overflow_demo" -l "$limit" -k "$k")
        lrt=$(kv rt_signals "$line")
        lio=$(kv sigio_fallback "$line")
        echo "$k $sigio $rt $((lrt + lio)) $lrt $lio"
    done
} >"$data"

draw "$root/scripts/plots/rtsig_setsig-notifications.gp" "$data" \
    "$dir/rtsig_setsig-notifications.png" "$limit"
