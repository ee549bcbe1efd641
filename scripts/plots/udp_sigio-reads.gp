# SPDX-License-Identifier: MIT
# udp_sigio-reads.gp DATA OUT.png - how many datagrams one SIGIO handler call read, under a
# client keeping 32 datagrams in flight. DATA columns: reads textbook_signals batch_signals
# PNG, or SVG (for slides) when the output file name ends in .svg
if (strstrt(ARG2, ".svg") > 0) { set terminal svg noenhanced size 900,560 font "sans,11" background "white" } else { set terminal pngcairo noenhanced size 900,560 font ",11" }
set output ARG2
set title "Datagrams read per SIGIO: one signal stands for 0, 1 or many datagrams\n(sigio_echo_server, 32 in flight; textbook = SIGIO let in around each reply, batch = kept blocked)"
set xlabel "datagrams read by one handler call"
set ylabel "share of handler calls (%)"
set xrange [-1:*]
# The two places to look: 0 (a signal whose datagrams an earlier call had already read) and
# the window (a signal that stood for everything in flight).
set xtics add ("0\nnone left" 0, "32\nthe window" 32)
set yrange [0:*]
set grid ytics
set key top center
set style fill solid 0.6 border -1
set boxwidth 0.4
stats ARG1 using 2 name "T" nooutput
stats ARG1 using 3 name "B" nooutput
plot ARG1 using ($1 - 0.2):(100.0 * $2 / T_sum) with boxes title "textbook" lc rgb "#c0504d" , \
     ''   using ($1 + 0.2):(100.0 * $3 / B_sum) with boxes title "batch (default)" lc rgb "#4f81bd"
