# SPDX-License-Identifier: MIT
# sigtrace-burst.gp DATA OUT.png N W - the kernel's account of N datagrams sent W at a time
# to the SIGIO echo server: each SIGIO generated, queued or merged, and each handler run.
# PNG, or SVG (for slides) when the output file name ends in .svg
if (strstrt(ARG2, ".svg") > 0) { set terminal svg noenhanced size 1100,560 font "sans,11" background "white" } else { set terminal pngcairo noenhanced size 1100,560 font ",11" }
set output ARG2
set multiplot layout 2,1 title sprintf("What the kernel did with the SIGIO of each of %s datagrams (%s in flight): signal:signal_generate and signal:signal_deliver", ARG3, ARG4)
set lmargin 16
set rmargin 30
# Top: the events one after another, in the order the kernel recorded them.
set xlabel "events in the order the kernel recorded them (signal_generate, signal_deliver)"
set grid xtics lc rgb "#dddddd"
set xrange [0:*]
set ytics ("merged (result 2)" 1, "queued (result 0)" 2, "handler runs" 3)
set yrange [0.5:3.5]
unset key
plot ARG1 using ($0 + 1):($2 == 1 ? 1 : 1/0) with points pt 6 ps 1.0 lc rgb "#d62728", \
     ARG1 using ($0 + 1):($2 == 2 ? 2 : 1/0) with points pt 7 ps 1.2 lc rgb "#1f77b4", \
     ARG1 using ($0 + 1):($2 == 3 ? 3 : 1/0) with points pt 9 ps 1.4 lc rgb "#2ca02c"
# Bottom: the same events on the clock.
set xlabel "time since the first event (ms)"
set xrange [*:*]
set ylabel "count so far"
set ytics auto
set yrange [0:*]
set key outside right top vertical Left reverse
plot ARG1 using 1:($2 < 3 ? 1 : 0) smooth cumulative lw 2 lc rgb "#555555" title "generated (one per datagram)", \
     ARG1 using 1:($2 == 1 ? 1 : 0) smooth cumulative lw 2 lc rgb "#d62728" title "merged (one was pending)", \
     ARG1 using 1:($2 == 2 ? 1 : 0) smooth cumulative lw 2 lc rgb "#1f77b4" title "queued", \
     ARG1 using 1:($2 == 3 ? 1 : 0) smooth cumulative lw 2 dashtype 2 lc rgb "#2ca02c" title "handler runs"
unset multiplot
