/* SPDX-License-Identifier: MIT */
/*
 * arrival_count - one notification for every datagram the socket queued, none for a
 * datagram the kernel dropped because the receive buffer was full; counted exactly.
 *
 * Demonstrates:
 *   - UNP §25.2's first UDP cause, "a datagram arrives", means "a datagram is queued": the
 *     signal is raised after the datagram is in the receive queue, and a datagram that
 *     does not fit is thrown away before that, without a signal;
 *   - how to count notifications that plain SIGIO would merge: F_SETSIG with a realtime
 *     signal, kept blocked, queues one signal per notification (sigtimedwait takes them);
 *   - the kernel's own count of the drops (SO_MEMINFO, SK_MEMINFO_DROPS).
 *
 * Read with: UNP §25.2 ("SIGIO with UDP Sockets"); TLPI §63.3 (F_SETSIG);
 * chapters/udp_sigio.md "What raises SIGIO on a UDP socket".
 *
 * Usage: arrival_count [-n N] [-r BYTES] [-s SIZE]
 *   -n N      datagrams sent in one burst (default 200, 1 to 10000)
 *   -r BYTES  the receiver's SO_RCVBUF (default 8192; the kernel doubles it)
 *   -s SIZE   bytes per datagram (default 100)
 *
 * Try it:
 *   ./arrival_count                 # some queued, the rest dropped
 *   ./arrival_count -r 1000000      # a big buffer: all queued, none dropped
 *
 * What to observe:
 *   - "sent=200 queued=Q dropped=D notifications=Q ...": Q + D = 200, and exactly one
 *     notification per queued datagram;
 *   - "fallback_sigio=0": the realtime queue had room (past RLIMIT_SIGPENDING the kernel
 *     sends plain SIGIO instead, and the count would no longer be exact: exit 4).
 *
 * Linux notes: on loopback the sender's system call delivers the datagram itself, so the
 * burst is over when the last sendto() returns. The drop happens in
 * __udp_enqueue_schedule_skb() when the queued memory would exceed the buffer; the wake-up
 * that sends the signal (sock_def_readable -> kill_fasync) is only reached after a
 * successful enqueue. The drop counter is also in /proc/net/udp (the last column).
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sock_diag.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOTE_SIG (SIGRTMIN)

/* take_all - every signal of set that is already pending; how many of each. The signals
 * stay blocked throughout: no handler, so nothing is shared with one. */
static void take_all(const sigset_t *set, long *notes, long *fallback)
{
    struct timespec zero = {0, 0};
    siginfo_t si;

    for (;;) {
        int sig = sigtimedwait(set, &si, &zero);
        if (sig == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            die("sigtimedwait");
        }
        if (sig == SIGIO)
            (*fallback)++;
        else
            (*notes)++;
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-n N] [-r BYTES] [-s SIZE]\n"
            "  -n N      datagrams sent in one burst (default 200, 1 to 10000)\n"
            "  -r BYTES  the receiver's SO_RCVBUF (default 8192, 1 to 16777216)\n"
            "  -s SIZE   bytes per datagram (default 100, 1 to 1400)\n"
            "  -h        this help\n"
            "example: %s -n 200 -r 8192\n",
            lab_prog, lab_prog);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long n = 200, rcvbuf = 8192, size = 100;
    int opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":n:r:s:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n': n = parse_long("-n", optarg, 1, 10000); break;
        case 'r': rcvbuf = parse_long("-r", optarg, 1, 16777216); break;
        case 's': size = parse_long("-s", optarg, 1, 1400); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    /* Both signals blocked before any owner exists: the realtime one we count, and SIGIO,
     * which the kernel sends instead should the realtime queue be full. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, NOTE_SIG);
    sigaddset(&set, SIGIO);
    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
        die("sigprocmask(SIG_BLOCK)");

    struct sockaddr_storage addr;
    socklen_t len = parse_addr("udp", "127.0.0.1", 0, &addr);
    int rx = bound_socket(SOCK_DGRAM, &addr, len);
    int tx = bound_socket(SOCK_DGRAM, &addr, len);
    int rb = (int)rcvbuf;
    if (setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb) == -1)
        die("setsockopt(%d, SO_RCVBUF, %d)", rx, rb);
    socklen_t optlen = sizeof rb;
    if (getsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rb, &optlen) == -1)
        die("getsockopt(%d, SO_RCVBUF)", rx);
    len = sizeof addr;
    if (getsockname(rx, (struct sockaddr *)&addr, &len) == -1)
        die("getsockname");

    /* LAB: count-notifications — owner, a queued realtime signal, the switch. */
    if (fcntl(rx, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN)", rx);
    if (fcntl(rx, F_SETSIG, NOTE_SIG) == -1)
        die("fcntl(%d, F_SETSIG)", rx);
    set_fl(rx, O_ASYNC | O_NONBLOCK);

    /* LAB: burst-into-small-buffer — nobody reads while the burst comes in: once the
     * buffer is full, the rest are dropped. */
    char *buf = calloc(1, (size_t)size);
    if (!buf)
        die("calloc(%ld)", size);
    long sent = 0;
    for (long i = 0; i < n; i++) {
        if (sendto(tx, buf, (size_t)size, 0, (struct sockaddr *)&addr, len) == -1)
            die("sendto(%d)", tx);
        sent++;
    }

    /* The notifications first (they were all raised during the sends), then the data. */
    long notes = 0, fallback = 0, queued = 0;
    take_all(&set, &notes, &fallback);
    while (recv(rx, buf, (size_t)size, 0) >= 0)
        queued++;
    if (errno != EAGAIN)
        die("recv(%d)", rx);
    take_all(&set, &notes, &fallback); /* reading raises nothing; check anyway */

    /* LAB: kernel-drop-count — the socket's own drop counter. */
    unsigned meminfo[SK_MEMINFO_VARS] = {0};
    optlen = sizeof meminfo;
    if (getsockopt(rx, SOL_SOCKET, SO_MEMINFO, meminfo, &optlen) == -1)
        die("getsockopt(%d, SO_MEMINFO)", rx);

    printf("sent=%ld queued=%ld dropped=%u notifications=%ld fallback_sigio=%ld rcvbuf=%d\n",
           sent, queued, meminfo[SK_MEMINFO_DROPS], notes, fallback, rb);
    free(buf);
    close(tx);
    close(rx);
    if (fallback) /* other processes of this user hold queued signals: not our doing */
        skip_exit("the realtime signal queue was full (RLIMIT_SIGPENDING, counted per user): "
                  "%ld plain SIGIO instead, so the count is not exact", fallback);
    return EXIT_OK;
}
