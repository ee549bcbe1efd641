# SPDX-License-Identifier: MIT
# bench-throughput.gp: UDP echo throughput of each server design relative to the blocking
# loop measured in the same round, quiet and under load. Point: the median over the rounds;
# bar: the lowest and highest round.
# Run: gnuplot -c bench-throughput.gp QUIET-SUMMARY out.png [subtitle] [LOADED-SUMMARY] [load label]
# Data (udp-echo-summary.txt from scripts/bench/udp_echo.sh): design rate ratio ratio_min
# ratio_max ratio_to_ceiling server_us wakeups signals client_us ok
# PNG, or SVG (for slides) when the output file name ends in .svg
if (strstrt(ARG2, ".svg") > 0) { set terminal svg noenhanced size 900,520 font "sans,11" background "white" } else { set terminal pngcairo noenhanced size 900,520 font "sans,11" }
set output ARG2
set title "UDP echo throughput relative to the blocking loop (64-byte datagrams, 32 in flight)\n".ARG3."\npoint: median of the per-round ratios; bar: lowest to highest round"
set ylabel "throughput / blocking loop's (same round)"
set xlabel "server design"
set yrange [0:*]
stats ARG1 using 3 nooutput
set xrange [-0.5:STATS_records - 0.5]
set grid ytics
set key top left
set xtics rotate by -20
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#888888"
loaded = ARGC >= 4 && ARG4 ne ""
quiet_points = "using ($0 - (loaded ? 0.12 : 0)):3:4:5:xtic(1) with yerrorbars pt 7 ps 1.3 lw 2 lc rgb '#4477aa' title 'quiet'"
quiet_labels = "using ($0 - (loaded ? 0.12 : 0)):3:(sprintf('%.2f', $3)) with labels right offset -1.2,0 notitle"
if (loaded) {
    plot ARG1 @quiet_points, '' @quiet_labels, \
         ARG4 using ($0 + 0.12):3:4:5 with yerrorbars pt 5 ps 1.3 lw 2 lc rgb "#cc6677" title (ARGC >= 5 ? ARG5 : "loaded"), \
         ARG4 using ($0 + 0.12):3:(sprintf("%.2f", $3)) with labels left offset 1.2,0 tc rgb "#cc6677" notitle
} else {
    plot ARG1 @quiet_points, '' @quiet_labels
}
