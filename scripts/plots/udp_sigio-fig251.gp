# SPDX-License-Identifier: MIT
# udp_sigio-fig251.gp DATA OUT.png - UNP Figure 25.1 measured: how late each design notes a
# datagram's arrival, against the kernel's own stamp. DATA columns:
#   D_us loop_n loop_p50_us loop_p99_us sigio_n sigio_p50_us sigio_p99_us
#   kernel_p50_us kernel_p99_us loop_p1_us sigio_p1_us kernel_p1_us
# (the kernel columns: the kernel stamp's lag behind the client's send). Each design is a
# point at its median with a bar from its 1st to its 99th percentile, on a log axis; under
# each D, how many datagrams each server processed in the run.
# PNG, or SVG (for slides) when the output file name ends in .svg
if (strstrt(ARG2, ".svg") > 0) { set terminal svg noenhanced size 960,600 font "sans,11" background "white" } else { set terminal pngcairo noenhanced size 960,600 font ",11" }
set output ARG2
set title "Arrival-time error: blocking loop vs SIGIO handler vs kernel stamp (UNP Figure 25.1)\nloop and handler: time the program read the datagram - kernel receive stamp (SO_TIMESTAMPNS)\nkernel: kernel receive stamp - client's send time.  Point: median; bar: 1st to 99th percentile"
set xlabel "work per datagram in the main loop, D (microseconds); n = datagrams each server processed"
set ylabel "error (microseconds, log scale)"
stats ARG1 using 1 nooutput  # before the log axis, which would drop D = 0
set logscale y
set yrange [0.1:*]
set xrange [-0.5:STATS_records - 0.5]
set bmargin 8
set xlabel offset 0,-2
set grid ytics
set key top left
clip(v) = v < 0.1 ? 0.1 : v
tic(d, ln, sn) = sprintf("D = %d\nloop n=%d\nSIGIO n=%d", d, ln, sn)
plot ARG1 using ($0 - 0.2):(clip($3)):(clip($10)):(clip($4)):xtic(tic($1, $2, $5)) with yerrorbars pt 7 ps 1.2 lw 2 lc rgb "#c0504d" title "blocking loop", \
     ''   using ($0):(clip($6)):(clip($11)):(clip($7)) with yerrorbars pt 7 ps 1.2 lw 2 lc rgb "#4f81bd" title "SIGIO handler", \
     ''   using ($0 + 0.2):(clip($8)):(clip($12)):(clip($9)) with yerrorbars pt 7 ps 1.2 lw 2 lc rgb "#6b6b6b" title "kernel stamp (behind the send)"
