# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# cli.bash - -h and unknown options for the scripts that take no options of their own
# (only operands, or nothing). Sourced first thing, before the script does anything:
#
#   . "$(dirname "$0")/lib/cli.bash" && cli_noopts "$@"
#
# -h or --help prints the script's header comment and exits 0; any other word that starts
# with '-' (before a "--") is "NAME: unknown option WORD" on stderr and exit 2.

# cli_help FILE - FILE's header comment: the comment lines after the shebang, without the
# licence and shellcheck lines.
cli_help() {
    sed -n '1{/^#!/d;}; /^#/!q; /SPDX-License-Identifier/d; /^# shellcheck/d; s/^# \{0,1\}//p' "$1"
}

# cli_noopts ARG... - see above.
cli_noopts() {
    local arg
    for arg; do
        case $arg in
            --) return 0 ;;
            -h | --help)
                cli_help "$0"
                exit 0
                ;;
            -?*)
                echo "${0##*/}: unknown option $arg (-h for help)" >&2
                exit 2
                ;;
        esac
    done
}
