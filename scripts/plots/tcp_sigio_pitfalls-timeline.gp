# SPDX-License-Identifier: MIT
# tcp_sigio_pitfalls-timeline.gp DATA OUT.png [DELAY] - when each realtime signal of tcp_events' walk
# came, after its step's action began: loopback (open) against two network namespaces with a
# delayed veth pair (filled), colour by si_code. Signals of one step that came together are
# drawn one under the other (column 9). DELAY says how the namespaces were delayed.
# Data: scripts/plots/tcp_sigio_pitfalls.sh.
if (ARGC < 2) { print "usage: gnuplot -c tcp_sigio_pitfalls-timeline.gp DATA OUT.png [DELAY]"; exit }
delay = ARGC >= 3 ? ARG3 : "a delay"

# PNG, or SVG (for slides) when the output file name ends in .svg
if (strstrt(ARG2, ".svg") > 0) { set terminal svg noenhanced size 1100,820 font "sans,11" background "white" } else { set terminal pngcairo noenhanced size 1100,820 font ",11" }
set output ARG2
set datafile separator "\t"

set title "When each F_SETSIG signal arrives after its step began: loopback vs two namespaces with a delay\n(namespaces delayed by " . delay . ")"
set xlabel "time after the step's action (ms, log scale)"
set ylabel "step of tcp_events"
set logscale x
set xrange [0.005:400]
set format x "%g"
set yrange [12.7:0.3]
set grid xtics
set key outside right top box

# colour of a signal: the si_code of the F_SETSIG signal, or SIGURG (whose si_code is SI_KERNEL)
colour(code, sig) = sig eq "SIGURG" ? 0x2ca02c : \
    code eq "POLL_IN" ? 0x1f77b4 : code eq "POLL_OUT" ? 0xd62728 : code eq "POLL_ERR" ? 0x000000 : \
    code eq "POLL_PRI" ? 0x9467bd : code eq "POLL_HUP" ? 0xff7f0e : 0x7f7f7f
# loopback above the step's line, the namespaces below, the n-th signal of a step further
# out (up for loopback, down for the namespaces); never left of the axis
lo(t) = t < 0.006 ? 0.006 : t
y(step, n, below) = below ? step + 0.08 + 0.14 * n : step - 0.08 - 0.14 * n

plot ARG1 index 0 using (NaN):1:ytic(2) notitle, \
     ARG1 index 0 using (0.007):1:(($3 + $4) == 0 ? "no signal" : "") with labels left tc rgb "#777777" notitle, \
     ARG1 index 1 using (lo($4)):(y($2, $9, 0)):(colour(strcol(6), strcol(5))) \
         with points pt 6 ps 1.1 lc rgb variable notitle, \
     ARG1 index 2 using (lo($4)):(y($2, $9, 1)):(colour(strcol(6), strcol(5))) \
         with points pt 7 ps 1.1 lc rgb variable notitle, \
     NaN with points pt 6 ps 1.1 lc rgb "black" title "loopback", \
     NaN with points pt 7 ps 1.1 lc rgb "black" title "2 namespaces, delayed", \
     NaN with points pt 5 lc rgb 0x1f77b4 title "POLL_IN", \
     NaN with points pt 5 lc rgb 0xd62728 title "POLL_OUT", \
     NaN with points pt 5 lc rgb 0x9467bd title "POLL_PRI", \
     NaN with points pt 5 lc rgb 0x2ca02c title "SIGURG", \
     NaN with points pt 5 lc rgb 0xff7f0e title "POLL_HUP", \
     NaN with points pt 5 lc rgb 0x000000 title "POLL_ERR"
