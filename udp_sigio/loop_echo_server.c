/* SPDX-License-Identifier: MIT */
/*
 * loop_echo_server - UDP echo server as a plain blocking loop (UNP Figure 25.1, left).
 *
 * Receive, work, reply, receive again: the design most UDP servers use.
 *
 * Demonstrates:
 *   - the design most UDP servers use, and the baseline every other design is measured against;
 *   - why its arrival times are late under load: the time it reads a datagram is the time the
 *     loop came back for it, not the time it arrived (compare with sigio_echo_server);
 *   - the kernel's own receive timestamp (SO_TIMESTAMPNS), exact whatever the loop does.
 *
 * Read with: UNP §25.2 (Figure 25.1, left); chapters/udp_sigio.md "Two ways to build a UDP server".
 *
 * Usage: loop_echo_server [-p PORT] [-a ADDR | -6] [-w USEC] [--stamps FILE] [-v]
 *   -p PORT        UDP port (default 9025; 0 = the kernel chooses, printed on the first line)
 *   -a ADDR        address to bind (default 127.0.0.1); -6 is short for -a ::1
 *   -w USEC        simulated work per datagram, microseconds of busy CPU (default 0)
 *   --stamps FILE  one line per datagram: seq kernel_ns read_ns processed_ns sent_ns
 *   -v             one line per datagram: sender, destination, interface, length
 *
 * Try it:
 *   ./loop_echo_server -p 9025 &
 *   ./udp_echo_client -p 9025 -n 1000 -W 32
 *   ./loop_echo_server -p 9025 -w 1000 --stamps /tmp/loop.txt &   # busy server
 *   ./udp_echo_client -p 9025 -n 2000 -i 100; kill %1
 *
 * What to observe:
 *   - "listening on 127.0.0.1:PORT" first; on SIGINT/SIGTERM "received=N echoed=N ...";
 *     on SIGHUP the same counters so far, as "sighup received=N ...", and it carries on.
 *   - In the stamps file of a busy server, read_ns - kernel_ns grows with the queue: each
 *     datagram waits for all the work queued ahead of it (scripts/plots/udp_sigio.sh draws it).
 *
 * Linux notes: the kernel stamp is CLOCK_REALTIME in ns (SO_TIMESTAMPNS; the book mentions
 * SO_TIMESTAMP and SIOCGSTAMP, both µs). IP_PKTINFO stands for BSD's IP_RECVDSTADDR and
 * IP_RECVIF together.
 */
#include "dgram.h"
#include "labutil.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* Set by the SIGINT/SIGTERM and SIGHUP handlers, read by the loop. */
static volatile sig_atomic_t stop_requested, hup_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    hup_requested = 1; /* the loop prints: printf is not async-signal-safe */
}

/* stop_check - for burn_us_or_stop: a stop request ends the work at once (the datagram is
 * still echoed), so that even -w 1000000 stops within a second. */
static int stop_check(void)
{
    return stop_requested;
}

static uint64_t received, echoed, truncated, send_errors;

/* print_counters - the summary line; on SIGHUP with "sighup " in front. */
static void print_counters(const char *prefix)
{
    printf("%sreceived=%" PRIu64 " echoed=%" PRIu64 " truncated=%" PRIu64 " send_errors=%" PRIu64
           "\n", prefix, received, echoed, truncated, send_errors);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-p PORT] [-a ADDR | -6] [-w USEC] [--stamps FILE] [-v]\n"
            "  -p PORT        UDP port to bind (default 9025; 0 = kernel chooses)\n"
            "  -a ADDR        address to bind (default 127.0.0.1); -6 = -a ::1\n"
            "  -w USEC        busy work per datagram in microseconds (default 0, at most 1000000)\n"
            "  --stamps FILE  write 'seq kernel_ns read_ns processed_ns sent_ns' per datagram\n"
            "  -v             print sender, destination and interface of each datagram\n"
            "  -h             this help\n"
            "SIGHUP prints the counters so far; SIGINT/SIGTERM end with a summary.\n"
            "example: %s -p 0 -w 200 --stamps /tmp/loop.txt\n",
            lab_prog, lab_prog);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stamps", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addr_text = "127.0.0.1", *stamps_path = NULL;
    int addr_given = 0, six = 0;
    int port = 9025, verbose = 0, opt;
    long work_us = 0;
    struct sockaddr_storage addr;
    static struct dgram d; /* static: DGRAM_MAX bytes are better off the stack */
    FILE *stamps = NULL;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":p:a:6w:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p': port = parse_port("-p", optarg); break;
        case 'a': addr_text = optarg, addr_given = 1; break;
        case '6': six = 1; break;
        case 'w': work_us = parse_long("-w", optarg, 0, 1000000); break;
        case 'S': stamps_path = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (addr_given && six)
        usage_error("-a %s and -6 exclude each other (-6 is short for -a ::1)", addr_text);
    if (six)
        addr_text = "::1";

    socklen_t addrlen = parse_addr("-a", addr_text, port, &addr);
    int fd = bound_socket(SOCK_DGRAM, &addr, addrlen);
    dgram_enable_info(fd, addr.ss_family);
    if (stamps_path)
        stamps = dgram_stamps_open(stamps_path, "read_ns");

    /* No SA_RESTART: a SIGTERM (or SIGHUP) that arrives while we sleep in recvmsg makes it
     * return EINTR. One that arrives just before recvmsg would be missed until the next datagram, so the
     * socket also gets a 100 ms receive timeout and the loop looks at the flag again. (The
     * signal-driven server has no such race: it blocks signals and waits in sigsuspend.) */
    on_signal(SIGINT, on_stop, 0);
    on_signal(SIGTERM, on_stop, 0);
    on_signal(SIGHUP, on_hup, 0);
    struct timeval tick = {0, 100 * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick) == -1)
        die("setsockopt(SO_RCVTIMEO)");

    announce_listening(fd);

    /* LAB: blocking-loop — the whole server: wait, read, work, reply. While it works, new
     * datagrams wait in the socket buffer and nobody notes when they came. */
    while (!stop_requested) {
        if (hup_requested) {
            hup_requested = 0;
            print_counters("sighup ");
        }
        if (dgram_recv(fd, &d, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue; /* a signal, or the 100 ms tick: look at the flag */
            die("recvmsg");
        }
        received++;
        if (verbose)
            dgram_print(&d);
        if (d.truncated) {
            dgram_warn_truncated(truncated++);
            continue;
        }
        burn_us_or_stop(work_us, stop_check);
        int64_t processed_ns = now_ns(CLOCK_REALTIME);
        if (dgram_echo(fd, &d) < 0) {
            if (send_errors++ < 5)
                warn_errno("sendmsg");
        } else {
            echoed++;
        }
        if (stamps)
            dgram_stamp(stamps, &d, received - 1, processed_ns);
    }

    if (stamps)
        dgram_stamps_close(stamps, stamps_path);
    print_counters("");
    close(fd);
    return EXIT_OK;
}
