# SPDX-License-Identifier: MIT
# udp_sigio-fig251.gp DATA OUT.png - UNP Figure 25.1 measured: how late each design notes a
# datagram's arrival, against the kernel's own stamp. DATA columns:
#   D_us loop_n loop_p50_us loop_p99_us sigio_n sigio_p50_us sigio_p99_us
#   kernel_p50_us kernel_p99_us (the kernel stamp's lag behind the client's send)
set terminal pngcairo noenhanced size 960,600 font ",11"
set output ARG2
set title "Arrival-time error: blocking loop vs SIGIO handler vs kernel stamp (UNP Figure 25.1)\nloop and handler: time the program read the datagram - kernel receive stamp (SO_TIMESTAMPNS)\nkernel: kernel receive stamp - client's send time"
set xlabel "work per datagram in the main loop, D (microseconds)"
set ylabel "error (microseconds, log scale)"
set logscale y
set yrange [0.1:*]
set grid ytics
set key top left
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
plot ARG1 using 3:xtic(1) title "blocking loop, median" lc rgb "#c0504d", \
     ''   using 4 title "blocking loop, 99th percentile" lc rgb "#e6a09e", \
     ''   using 6 title "SIGIO handler, median" lc rgb "#4f81bd", \
     ''   using 7 title "SIGIO handler, 99th percentile" lc rgb "#a7c0de", \
     ''   using 8 title "kernel stamp, median" lc rgb "#6b6b6b", \
     ''   using 9 title "kernel stamp, 99th percentile" lc rgb "#bdbdbd"
