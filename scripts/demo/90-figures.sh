#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The tour's last part: draw every lab's figures from short fresh runs, and say where they are.
# shellcheck source=scripts/lib/demo.bash
source "$(dirname "$0")/../lib/demo.bash"

part "figures" "make plots"
# Without gnuplot (and its PNG terminal) the tour ends here, saying so in one line.
if ! gnuplot -e 'set terminal pngcairo' </dev/null >/dev/null 2>&1; then
    echo "figures skipped: gnuplot with its pngcairo terminal is not installed (scripts/install-deps --for figures)"
    exit 0
fi
explain "Each lab draws its figures from runs made just now on this machine. The tour uses" \
    "short runs; 'make plots' repeats them at full size."
SHOW_TIMEOUT=40 show scripts/plots/run --quick plots
notice "The PNG files are in plots/; the numbers behind each are in the .txt file of the same name, with the command, the kernel and the date in its header." \
    "chapters/figures/ holds the figures the notes discuss, drawn the same way on the machine named in their data files."
