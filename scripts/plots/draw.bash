# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# draw.bash - sourced by the figure scripts in scripts/plots/:
#
#   draw GP DATA OUT.png [ARGS...]
#
# runs gnuplot -c GP DATA OUT.png ARGS..., then again for OUT.svg: the same figure as a
# vector image for slides. Every .gp script picks its terminal from the output file's name.
draw() {
    local gp=$1 data=$2 png=$3
    shift 3
    gnuplot -c "$gp" "$data" "$png" "$@" && gnuplot -c "$gp" "$data" "${png%.png}.svg" "$@"
}
