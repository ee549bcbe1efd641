# SPDX-License-Identifier: MIT
# tcp_sigio_listen-burst.gp DATA OUT.png - signals and accepts per signal against burst size.
# DATA: rows "connections_per_burst burst signals connections" (scripts/plots/tcp_sigio_listen.sh).
# PNG, or SVG (for slides) when the output file name ends in .svg
if (strstrt(ARG2, ".svg") > 0) { set terminal svg noenhanced size 1100,480 font "sans,10" background "white" } else { set terminal pngcairo noenhanced size 1100,480 font ",10" }
set output ARG2
set multiplot layout 1,2 title "SIGIO on a listening TCP socket (listen_server): bursts of 1, 10 and 100 connections"

set logscale xy
set xrange [0.7:150]
set xtics ("1" 1, "10" 10, "100" 100)
set grid
set key top left
# A little horizontal scatter, so that equal values of different bursts do not hide each other.
jit(x) = x * (1 + 0.08 * (rand(0) - 0.5))

set title "SIGIO signals per burst"
set xlabel "connections per burst (count)"
set ylabel "signals delivered per burst (count)"
set yrange [0.7:150]
plot x title "one signal per connection" dt 2 lc rgb "#888888", \
     1 title "one signal per burst" dt 3 lc rgb "#888888", \
     ARG1 using (jit($1)):3 with points pt 7 ps 0.6 lc rgb "#9fb6dd" title "each burst", \
     ARG1 using 1:3 smooth unique with linespoints pt 5 lw 2 lc rgb "#1f4e9c" title "mean of the bursts"

set title "connections accepted per signal (accept until EAGAIN)"
set ylabel "connections accepted per signal (count)"
set yrange [0.7:150]
plot x title "the whole burst for one signal" dt 2 lc rgb "#888888", \
     1 title "one accept per signal" dt 3 lc rgb "#888888", \
     ARG1 using (jit($1)):($4/$3) with points pt 7 ps 0.6 lc rgb "#e0a98f" title "each burst", \
     ARG1 using 1:($4/$3) smooth unique with linespoints pt 5 lw 2 lc rgb "#b3441b" title "mean of the bursts"

unset multiplot
