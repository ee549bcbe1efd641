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
 *   - the kernel's own receive timestamp (SO_TIMESTAMPNS), exact whatever the loop does;
 *   - with --mmsg, the fastest one thread does here without signals: a blocking recvmmsg
 *     that returns whatever has queued (MSG_WAITFORONE), and one sendmmsg for the batch
 *     (the benchmark's ceiling).
 *
 * Read with: UNP §25.2 (Figure 25.1, left); chapters/udp_sigio.md "Two ways to build a UDP server".
 *
 * Usage: loop_echo_server [-p PORT] [-a ADDR | -6] [-w USEC] [--mmsg] [--rt] [--stamps FILE] [-v]
 *   -p PORT        UDP port (default 9025; 0 = the kernel chooses, printed on the first line)
 *   -a ADDR        address to bind (default 127.0.0.1); -6 is short for -a ::1
 *   -w USEC        simulated work per datagram, microseconds of busy CPU (default 0)
 *   --mmsg         receive and reply in batches of up to 64 (recvmmsg, sendmmsg)
 *   --rt           SCHED_FIFO and mlockall, as a time server runs (exit 4 if not permitted)
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

#define MMSG_BATCH 64 /* --mmsg: datagrams per recvmmsg / sendmmsg */

/* Set by the SIGINT/SIGTERM and SIGHUP handlers, read by the loop: flags, volatile
 * sig_atomic_t (chapters/README.md, "Data a handler shares", rule 1). */
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

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-p PORT] [-a ADDR | -6] [-w USEC] [--mmsg] [--rt] [--stamps FILE] [-v]\n"
            "  -p PORT        UDP port to bind (default 9025; 0 = kernel chooses)\n"
            "  -a ADDR        address to bind (default 127.0.0.1); -6 = -a ::1\n"
            "  -w USEC        busy work per datagram in microseconds (default 0, at most 1000000)\n"
            "  --mmsg         batches of up to %d: blocking recvmmsg (MSG_WAITFORONE), one sendmmsg\n"
            "  --rt           run SCHED_FIFO with memory locked (exit 4 if not permitted)\n"
            "  --stamps FILE  write 'seq kernel_ns read_ns processed_ns sent_ns' per datagram\n"
            "  -v             print sender, destination and interface of each datagram\n"
            "  -h             this help\n"
            "SIGHUP prints the counters so far; SIGINT/SIGTERM end with a summary.\n"
            "example: %s -p 0 -w 200 --stamps /tmp/loop.txt\n",
            lab_prog, MMSG_BATCH, lab_prog);
}

/* What the loop counts; printed at the end. */
static struct {
    uint64_t received, echoed, truncated, send_errors;
} count;

/* print_counters - the summary line; on SIGHUP with "sighup " in front. */
static void print_counters(const char *prefix)
{
    printf("%sreceived=%" PRIu64 " echoed=%" PRIu64 " truncated=%" PRIu64 " send_errors=%" PRIu64
           "\n", prefix, count.received, count.echoed, count.truncated, count.send_errors);
}

/* finish - what the loop does for one datagram it has read, in either form of the loop:
 * count it, work on it, note when the work ended (the stamps file's processed_ns). Returns
 * 1 if it is to be echoed (a truncated datagram is not). */
static int finish(struct dgram *d, int verbose, long work_us, FILE *stamps)
{
    count.received++;
    if (verbose)
        dgram_print(d);
    if (d->truncated) {
        dgram_warn_truncated(count.truncated++);
        return 0;
    }
    burn_us_or_stop(work_us, stop_check);
    if (stamps)
        dgram_stamp(stamps, d, count.received - 1, now_ns(CLOCK_REALTIME));
    return 1;
}

/*
 * serve_mmsg - LAB: mmsg-loop. The loop with the system calls shared by a batch: one
 * recvmmsg that sleeps until at least one datagram is there and then takes what else has
 * queued (MSG_WAITFORONE), one sendmmsg for all the replies. No signal is involved: this is
 * the ceiling the signal-driven designs are measured against in make bench. Returns 0 when
 * the receive was interrupted or timed out (the caller looks at its stop flag), 1 otherwise.
 */
static int serve_mmsg(int fd, int verbose, long work_us, FILE *stamps)
{
    static struct dgram batch[MMSG_BATCH];
    struct mmsghdr in[MMSG_BATCH], out[MMSG_BATCH];
    struct iovec in_iov[MMSG_BATCH], out_iov[MMSG_BATCH];
    unsigned m = 0;

    for (unsigned i = 0; i < MMSG_BATCH; i++) {
        memset(&in[i], 0, sizeof in[i]);
        dgram_prepare(&batch[i], &in[i].msg_hdr, &in_iov[i]);
    }
    int n = recvmmsg(fd, in, MMSG_BATCH, MSG_WAITFORONE, NULL);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        die("recvmmsg");
    }
    int64_t now = now_ns(CLOCK_REALTIME);
    for (int i = 0; i < n; i++) {
        dgram_decode(&batch[i], &in[i].msg_hdr, in[i].msg_len, now);
        if (finish(&batch[i], verbose, work_us, stamps)) {
            memset(&out[m], 0, sizeof out[m]);
            dgram_reply_msg(&batch[i], &out[m].msg_hdr, &out_iov[m]);
            m++;
        }
    }
    for (unsigned done = 0; done < m;) {
        int k = sendmmsg(fd, out + done, m - done, 0);
        if (k < 0) {
            if (count.send_errors++ < 5)
                warn_errno("sendmmsg");
            done++; /* the error belongs to the first message left: skip it */
        } else {
            count.echoed += (unsigned)k;
            done += (unsigned)k;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stamps", required_argument, NULL, 'S'},
        {"mmsg", no_argument, NULL, 'B'},
        {"rt", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addr_text = "127.0.0.1", *stamps_path = NULL;
    int addr_given = 0, six = 0;
    int port = 9025, verbose = 0, opt, mmsg = 0, realtime = 0;
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
        case 'B': mmsg = 1; break;
        case 'R': realtime = 1; break;
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
    if (realtime)
        dgram_realtime("--rt");

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
        if (mmsg) {
            serve_mmsg(fd, verbose, work_us, stamps);
            continue;
        }
        if (dgram_recv(fd, &d, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue; /* a signal, or the 100 ms tick: look at the flag */
            die("recvmsg");
        }
        if (!finish(&d, verbose, work_us, stamps))
            continue; /* truncated: counted and reported, never echoed short */
        if (dgram_echo(fd, &d) < 0) {
            if (count.send_errors++ < 5)
                warn_errno("sendmsg");
        } else {
            count.echoed++;
        }
    }

    if (stamps)
        dgram_stamps_close(stamps, stamps_path);
    print_counters("");
    close(fd);
    return EXIT_OK;
}
