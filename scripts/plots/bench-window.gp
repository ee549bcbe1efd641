# SPDX-License-Identifier: MIT
# bench-window.gp: throughput of each design against the number of datagrams in flight.
# Run: gnuplot -c bench-window.gp udp-window.txt out.png "design1 design2 ..." [subtitle]
# Data: design window datagrams_per_s server_us_per_dgram ... Points only: the windows
# measured, nothing drawn between them.
# PNG, or SVG (for slides) when the output file name ends in .svg
if (strstrt(ARG2, ".svg") > 0) { set terminal svg noenhanced size 900,520 font "sans,11" background "white" } else { set terminal pngcairo noenhanced size 900,520 font "sans,11" }
set output ARG2
set title "UDP echo throughput against load (datagrams in flight)\n".ARG4
set logscale x 2
set xlabel "datagrams in flight (client window)"
set ylabel "datagrams per second"
set yrange [0:*]
set grid
set key left top
plot for [d in ARG3] ARG1 using 2:(strcol(1) eq d ? $3 : NaN) with points ps 1.3 pt 7 title d
