# SPDX-License-Identifier: MIT
# bench-throughput.gp: UDP echo throughput of each server design, with its ratio to the
# blocking loop. Run: gnuplot -c bench-throughput.gp udp-echo-summary.txt out.png [subtitle]
# Data (from scripts/bench/udp_echo.sh): design rate ratio server_us wakeups signals client_us ok
set terminal pngcairo noenhanced size 900,520 font "sans,11"
set output ARG2
set title "UDP echo throughput by server design (64-byte datagrams, 32 in flight)\n".ARG3
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.7
set ylabel "datagrams per second"
set xlabel "server design (ratio to the blocking loop above each bar)"
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set grid ytics
unset key
plot ARG1 using 2:xtic(1) lc rgb "#4477aa", \
     '' using 0:2:(sprintf("%.2fx", $3)) with labels offset 0,1 notitle
