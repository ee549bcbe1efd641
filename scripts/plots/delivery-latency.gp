# SPDX-License-Identifier: MIT
# delivery-latency.gp: time from the kernel's receive stamp to the first instruction of
# our own code, for five ways of being told a datagram arrived.
# Run: gnuplot -c delivery-latency.gp delivery-latency.txt out.png [subtitle]
# Data: mode p50_us p99_us max_us
# PNG, or SVG (for slides) when the output file name ends in .svg
if (strstrt(ARG2, ".svg") > 0) { set terminal svg noenhanced size 900,520 font "sans,11" background "white" } else { set terminal pngcairo noenhanced size 900,520 font "sans,11" }
set output ARG2
set title "Delivery latency: kernel receive stamp to first user code\n".ARG3
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "microseconds"
set xlabel "how the program is told"
set yrange [0:*]
set grid ytics
set key left top
plot ARG1 using 2:xtic(1) title "median" lc rgb "#4477aa", \
     '' using 3 title "99th percentile" lc rgb "#cc6677"
