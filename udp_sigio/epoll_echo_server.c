/* SPDX-License-Identifier: MIT */
/*
 * epoll_echo_server - UDP echo server on level-triggered epoll: the design a programmer
 * would choose today, as the modern reference point beside UNP Figure 25.1's two designs.
 *
 * Demonstrates:
 *   - readiness notification without signals: epoll_wait tells which descriptor is ready,
 *     and nothing is lost when several datagrams arrive at once (the socket stays ready
 *     until it is drained);
 *   - draining to EAGAIN on each wakeup, so one wakeup serves a whole burst;
 *   - the race-free stop: SIGTERM is blocked except inside epoll_pwait and the -w work, and
 *     the loop looks for it between datagrams, so a socket that never empties cannot keep
 *     the server from stopping.
 *
 * Read with: UNP §25.2 (Figure 25.1) and §6 (I/O models); chapters/udp_sigio.md
 * "What the measurements show".
 *
 * Usage: epoll_echo_server [-p PORT] [-a ADDR | -6] [-w USEC] [--stamps FILE] [-v]
 *   same options and summary line as loop_echo_server and sigio_echo_server;
 *   defaults: -p 9025 -a 127.0.0.1 -w 0
 *
 * Try it:
 *   ./epoll_echo_server -p 9025 &
 *   ./udp_echo_client -p 9025 -n 200000 -W 32
 *   kill %1
 *
 * What to observe:
 *   - "listening on 127.0.0.1:PORT" first; on SIGTERM
 *     "received=N echoed=N truncated=0 send_errors=0 wakeups=W": with 32 in flight W is
 *     far below N, because each wakeup drains what has queued meanwhile; on SIGHUP the
 *     same counters so far, as "sighup received=N ...", and it carries on.
 *   - make bench puts its throughput beside the blocking loop and the signal-driven servers.
 *
 * Linux notes: epoll is Linux's own interface (since 2.6); a portable program would use
 * poll(). Level-triggered mode is the forgiving one: a descriptor left half-drained is
 * reported again.
 */
#include "dgram.h"
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

/* The most datagrams one wakeup reads before the loop goes back to epoll_pwait, where a
 * pending SIGTERM or SIGHUP is let in: under a flood the socket never reaches EAGAIN. */
#define DRAIN_MAX 256

/* Set by the SIGINT/SIGTERM and SIGHUP handlers; they run only inside epoll_pwait or
 * during the -w work, and the loop looks at the flags right after either. Flags:
 * volatile sig_atomic_t (chapters/README.md, "Data a handler shares", rule 1). */
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

static uint64_t received, echoed, truncated, send_errors, wakeups;

/* print_counters - the summary line; on SIGHUP with "sighup " in front. */
static void print_counters(const char *prefix)
{
    printf("%sreceived=%" PRIu64 " echoed=%" PRIu64 " truncated=%" PRIu64 " send_errors=%" PRIu64
           " wakeups=%" PRIu64 "\n", prefix, received, echoed, truncated, send_errors, wakeups);
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
            "example: %s -p 0\n",
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
    static struct dgram d;
    FILE *stamps = NULL;
    sigset_t blocked, waitmask;

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
    set_fl(fd, O_NONBLOCK); /* drained to EAGAIN: the last read must not block */
    if (stamps_path)
        stamps = dgram_stamps_open(stamps_path, "read_ns");

    /* LAB: epoll-register — level-triggered EPOLLIN: "tell me while there is something". */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep == -1)
        die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
        die("epoll_ctl(EPOLL_CTL_ADD, %d)", fd);

    /* Block, then wait: SIGINT/SIGTERM/SIGHUP stay blocked while we read and reply, and are
     * let in only inside epoll_pwait (atomically) and during the -w work, each time with the
     * flags looked at right after, so a request can never slip in unseen. */
    on_signal(SIGINT, on_stop, 0);
    on_signal(SIGTERM, on_stop, 0);
    on_signal(SIGHUP, on_hup, 0);
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &blocked, &waitmask) == -1)
        die("sigprocmask(SIG_BLOCK)");

    announce_listening(fd);

    while (!stop_requested) {
        struct epoll_event ready;
        if (hup_requested) {
            hup_requested = 0;
            print_counters("sighup ");
        }
        int n = epoll_pwait(ep, &ready, 1, -1, &waitmask);
        if (n == -1) {
            if (errno == EINTR)
                continue; /* SIGTERM, SIGINT or SIGHUP: the loop looks at the flags */
            die("epoll_pwait");
        }
        wakeups++;
        /* LAB: epoll-drain — read until EAGAIN, or DRAIN_MAX datagrams, or until a signal
         * came during the work. (Level-triggered tells us again at once if we stopped early:
         * the cap costs one epoll_pwait per DRAIN_MAX datagrams, and lets a pending signal
         * in there.) */
        for (int got = 0; got < DRAIN_MAX && !stop_requested && !hup_requested; got++) {
            if (dgram_recv(fd, &d, 0) < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                if (errno == EINTR)
                    continue;
                die("recvmsg");
            }
            received++;
            if (verbose)
                dgram_print(&d);
            if (d.truncated) {
                dgram_warn_truncated(truncated++);
                continue;
            }
            if (work_us) {
                /* LAB: epoll-stop-during-work — the signals are let in while we work, and a
                 * stop request cuts the work short; the datagram is still echoed. */
                if (sigprocmask(SIG_SETMASK, &waitmask, NULL) == -1)
                    die("sigprocmask(SIG_SETMASK)");
                burn_us_or_stop(work_us, stop_check);
                if (sigprocmask(SIG_BLOCK, &blocked, NULL) == -1)
                    die("sigprocmask(SIG_BLOCK)");
            }
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
    }

    if (stamps)
        dgram_stamps_close(stamps, stamps_path);
    print_counters("");
    close(ep);
    close(fd);
    return EXIT_OK;
}
