# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# (PORT and SERVER_PID are set here for the demo parts.)
# demo.bash - what the parts of the guided tour (scripts/demo/NN-*.sh) share: headings,
# explanations, commands shown and run with a time limit, background servers that are
# always stopped, and the "what to notice" list.
#
#   source "$(dirname "$0")/../lib/demo.bash"
#   part "udp_sigio" "UNP §25.2–25.3"
#   explain "Two or three sentences."
#   serve udp_sigio/sigio_echo_server -p 0        # sets PORT, SERVER_PID
#   show udp_sigio/udp_echo_client -p "$PORT" -n 1000
#   unserve                                       # SIGTERM, prints its summary
#   notice "First thing." "Second thing."

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
DEMO_TMP=$(mktemp -d)
DEMO_PIDS=()

if [ -t 1 ]; then
    B=$'\e[1m' C=$'\e[36m' R=$'\e[0m'
else
    B='' C='' R=''
fi

demo_cleanup() {
    local pid
    for pid in "${DEMO_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$DEMO_TMP"
}
trap demo_cleanup EXIT

# part NAME SOURCE - a heading for one lab.
part() {
    printf '\n%s━━ %s  (%s) ━━%s\n' "$B" "$1" "$2" "$R"
}

# explain TEXT... - a short paragraph, wrapped.
explain() {
    printf '%s\n' "$*" | fold -s -w 92
}

# show CMD... - print the command as a student would type it, run it (SHOW_TIMEOUT
# seconds at most, default 20), and indent what it prints.
show() {
    printf '%s$ %s%s\n' "$C" "$*" "$R"
    timeout -k 2 "${SHOW_TIMEOUT:-20}" "$@" 2>&1 | sed 's/^/    /'
    return "${PIPESTATUS[0]}"
}

# serve CMD... - start a server in the background, wait for "listening on", set PORT.
serve() {
    local out="$DEMO_TMP/server.out" line deadline=$((SECONDS + 10))
    printf '%s$ %s &%s\n' "$C" "$*" "$R"
    setsid "$@" >"$out" 2>&1 </dev/null 3>&- &
    SERVER_PID=$!
    DEMO_PIDS+=("$SERVER_PID")
    until line=$(grep -m1 '^listening on' "$out"); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            echo "the server did not start:" >&2
            cat "$out" >&2
            exit 1
        fi
        sleep 0.02
    done
    PORT=${line##*:}
    printf '    %s\n' "$line"
}

# unserve [SIGNAL] - stop the last server (SIGTERM by default) and show what it printed
# after its "listening on" line: its summary.
unserve() {
    printf '%s$ kill -%s %s%s\n' "$C" "${1:-TERM}" "$SERVER_PID" "$R"
    kill "-${1:-TERM}" "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    sed -n '2,$p' "$DEMO_TMP/server.out" | sed 's/^/    /'
}

# notice POINT... - the "what to notice" list.
notice() {
    printf '%sWhat to notice:%s\n' "$B" "$R"
    local point
    for point in "$@"; do
        printf '%s\n' "$point" | fold -s -w 88 | sed '1s/^/  • /; 2,$s/^/    /'
    done
}
