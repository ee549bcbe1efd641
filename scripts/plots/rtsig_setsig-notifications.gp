# SPDX-License-Identifier: MIT
# rtsig_setsig-notifications.gp DATA OUT.png LIMIT - events made while the signal was
# blocked against notifications delivered: plain SIGIO (always one), a realtime signal
# (one per event), and the realtime signal under RLIMIT_SIGPENDING = LIMIT.
# PNG, or SVG (for slides) when the output file name ends in .svg
if (strstrt(ARG2, ".svg") > 0) { set terminal svg noenhanced size 900,600 font "sans,11" background "white" } else { set terminal pngcairo noenhanced size 900,600 font ",11" }
set output ARG2
limit = real(ARG3)
set title sprintf("Notifications delivered for K events while the signal was blocked:\nplain SIGIO vs F_SETSIG realtime signal, and the realtime queue at RLIMIT_SIGPENDING = %d", limit)
set xlabel "events made while blocked, K (count, log scale)"
set ylabel "notifications delivered (count, log scale)"
set logscale xy
set xrange [0.8:13000]
set yrange [0.8:20000]
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key top left box opaque
set arrow from limit, 0.8 to limit, 20000 nohead dashtype 2 lc rgb "#888888"
set label sprintf("queue full: event %d\nraises plain SIGIO instead", int(limit) + 1) at limit * 1.15, 3 left tc rgb "#555555"
plot ARG1 using 1:3 with linespoints pt 7 ps 0.8 lw 2 lc rgb "#1f77b4" title "F_SETSIG realtime signal: one per event", \
     ARG1 using 1:4 with linespoints pt 5 ps 0.8 lw 2 dashtype 3 lc rgb "#d62728" title sprintf("realtime at RLIMIT_SIGPENDING = %d: all signals taken", limit), \
     ARG1 using 1:($6 > 0 ? $6 : 1/0) with points pt 6 ps 2.0 lw 2 lc rgb "#d62728" title "  of which the fallback plain SIGIO (one)", \
     ARG1 using 1:2 with linespoints pt 9 ps 1.0 lw 2 lc rgb "#2ca02c" title "plain SIGIO: one, however many events"
