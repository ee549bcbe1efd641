/* SPDX-License-Identifier: MIT */
/*
 * overflow_demo - the realtime signal queue fills up: L realtime signals, then one plain
 * SIGIO, and the rescan that recovers every event anyway.
 *
 * Demonstrates:
 *   - F_SETSIG's realtime signals queue only up to RLIMIT_SIGPENDING; the event that finds
 *     the queue full raises plain SIGIO (si_code SI_KERNEL, no descriptor) instead;
 *   - the recovery every real program needs: on SIGIO, look at every descriptor (poll with a
 *     zero timeout) and drain each until EAGAIN; on a realtime signal, read once from si_fd
 *     and accept that the data may already be gone (a stale notification);
 *   - that the fallback SIGIO is taken before the realtime signals queued ahead of it.
 *
 * Read with: TLPI §63.3 (the queue limit and the SIGIO fallback); chapters/rtsig_setsig.md
 * "When the queue is full".
 *
 * Usage: overflow_demo [-l L] [-k K] [-v]
 *   -l L  RLIMIT_SIGPENDING (soft) for this process (default 16; 1 to the hard limit)
 *   -k K  events: one-byte writes into 4 pipes while the signal is blocked
 *         (default 100, 1 to 100000)
 *   -v    one line per notification taken
 *
 * Try it:
 *   ./overflow_demo -l 16 -k 100
 *   unshare --user ./overflow_demo -l 16 -k 100   # a count of your own (see below)
 *   ./overflow_demo -l 64 -k 1000 -v | head
 *   ./overflow_demo -l 200 -k 100                  # no overflow: sigio_fallback=0
 *
 * What to observe:
 *   - "limit=16 events=100 rt_signals=16 sigio_fallback=1 handled=100 lost=0 fallback_at=17"
 *     when no other signal of your user is queued (others=0; unshare --user guarantees it):
 *     events 1..16 queued a realtime signal each, event 17 found the queue full. With
 *     others=N, the queue fills N events sooner and rt_signals is 16-N;
 *   - with -v, the SIGIO line comes first: signals are taken lowest number first, and
 *     SIGIO (29) is below SIGRTMIN (34); after its rescan the realtime ones find nothing
 *     (stale=16).
 *
 * Linux notes: the limit counts every signal queued for your user ID (per user namespace),
 * not only this program's; queued_before and others say how many belonged to other
 * programs. `unshare --user` gives the program a namespace, and so a count, of its own
 * to check against the limit; each signal queued there is still charged to the user
 * outside as well (chapters/rtsig_setsig.md "When the queue is full").
 * fcntl(2) says the fallback SIGIO goes to the whole process; it follows the owner
 * (thread_owner --overflow). getrlimit(2) says the limit binds only sigqueue(3); it binds
 * F_SETSIG's signals too.
 */
#include "labutil.h"
#include "rtsig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define PIPES 4

struct counts {
    long rt_signals;     /* realtime notifications taken */
    long sigio_fallback; /* plain SIGIOs taken */
    long handled;        /* events (bytes) read */
    long stale;          /* realtime notifications whose descriptor had nothing left */
    long other;          /* anything else (there should be nothing else) */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-l L] [-k K] [-v]\n"
            "  -l L  RLIMIT_SIGPENDING for this process (default 16; 1 to the hard limit)\n"
            "  -k K  events: one-byte pipe writes while blocked (default 100, 1 to 100000)\n"
            "  -v    one line per notification taken\n"
            "  -h    this help\n"
            "example: unshare --user %s -l 16 -k 100\n",
            lab_prog, lab_prog);
}

/* LAB: fallback-rescan — what a plain SIGIO means here: the queue overflowed and some
 * events have no realtime signal. Which ones is unknown, so look at every descriptor
 * (poll with a zero timeout: never wait) and drain each readable one until EAGAIN. */
static long rescan(const int *fds, int n)
{
    struct pollfd pfd[PIPES];
    char buf[4096];
    long got = 0;

    for (int i = 0; i < n; i++)
        pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    if (poll(pfd, (nfds_t)n, 0) == -1)
        die("poll(%d descriptors, 0)", n);
    for (int i = 0; i < n; i++) {
        if (!(pfd[i].revents & POLLIN))
            continue;
        ssize_t r;
        while ((r = read_once(fds[i], buf, sizeof buf)) > 0)
            got += r;
    }
    return got;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long limit = 16, events = 100, fallback_at = 0;
    int verbose = 0, opt, rt = SIGRTMIN, rd[PIPES], wr[PIPES];
    struct counts c = {0};
    sigset_t set, pending;
    siginfo_t si;
    char line[160];

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":l:k:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l': limit = parse_sigpending("-l", optarg); break;
        case 'k': events = parse_long("-k", optarg, 1, 100000); break;
        case 'v': verbose = 1; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    /* Both signals blocked before anything can raise them: this program takes its
     * notifications with sigtimedwait(), so it needs no handler at all. */
    block_set(sigset_of(&set, rt, SIGIO, 0));

    /* Pipes rather than sockets: a pipe write signals the reader inside the writer's own
     * write() call, so when write() returns the signal is queued (or has overflowed) and
     * the count below is exact. A loopback datagram may be handed on later, in the
     * kernel's softirq thread. */
    for (int i = 0; i < PIPES; i++) {
        int p[2];
        if (pipe(p) == -1)
            die("pipe");
        rd[i] = p[0];
        wr[i] = p[1];
        setown(rd[i], getpid());
        setsig(rd[i], rt);
        set_fl(rd[i], O_ASYNC | O_NONBLOCK);
        set_fl(wr[i], O_NONBLOCK); /* a full pipe is an error here, not a hang */
    }

    /* LAB: lower-sigpending — the soft limit, for this process only (no privilege needed).
     * The kernel compares the receiving process's limit with the count of signals queued
     * for its user: ours and those of every other program of the same user. */
    set_sigpending(limit);
    long queued_before = sigq_read(NULL);

    /* LAB: events-until-overflow — K one-byte writes, round robin over the pipes. After
     * each, sigpending() tells whether plain SIGIO has appeared: the event that did it is
     * the first one the realtime queue had no room for. */
    for (long i = 1; i <= events; i++) {
        if (write(wr[i % PIPES], "e", 1) != 1)
            die("write(%d, 1 byte) (event %ld)", wr[i % PIPES], i);
        if (!fallback_at) {
            if (sigpending(&pending) == -1)
                die("sigpending");
            if (sigismember(&pending, SIGIO))
                fallback_at = i;
        }
    }
    long queued_after = sigq_read(NULL);

    /* LAB: take-and-recover — one notification at a time, the way a server would. Nothing
     * more can arrive, so a zero timeout ends the loop once the queue is empty. */
    int sig;
    while ((sig = take_signal(&set, &si, 0)) > 0) {
        if (sig == SIGIO) {
            c.sigio_fallback++;
            long got = rescan(rd, PIPES);
            c.handled += got;
            if (verbose)
                printf("%s: overflow, rescan of %d pipes read %ld events\n",
                       note_text(sig, si.si_code, 0, 0, line, sizeof line), PIPES, got);
        } else if (si.si_code == POLL_IN) {
            char byte;
            c.rt_signals++;
            /* One read per notification: one event is one byte. */
            if (read_once(si.si_fd, &byte, 1) == 1)
                c.handled++;
            else
                c.stale++; /* a rescan got there first */
            if (verbose)
                printf("%s\n", note_text(sig, si.si_code, si.si_fd, si.si_band, line, sizeof line));
        } else {
            c.other++;
            printf("unexpected: %s\n", note_text(sig, si.si_code, si.si_fd, si.si_band, line, sizeof line));
        }
    }
    /* What the count held besides our own notifications: other programs of this user. */
    long others = queued_after - c.rt_signals - c.sigio_fallback;

    if (c.rt_signals && fallback_at == c.rt_signals + 1)
        printf("events 1 to %ld queued a realtime signal each; event %ld found the queue full "
               "and raised plain SIGIO instead\n", c.rt_signals, fallback_at);
    if (queued_before || others)
        printf("note: signals of other programs of this user were queued too and took part of "
               "the limit; run under 'unshare --user' to count alone\n");
    printf("limit=%ld events=%ld rt_signals=%ld sigio_fallback=%ld handled=%ld lost=%ld "
           "fallback_at=%ld stale=%ld queued_before=%ld others=%ld\n",
           limit, events, c.rt_signals, c.sigio_fallback, c.handled, events - c.handled,
           fallback_at, c.stale, queued_before, others);
    for (int i = 0; i < PIPES; i++) {
        close(rd[i]);
        close(wr[i]);
    }
    /* The program's own check: every event handled, by one route or the other. */
    return c.handled == events && c.other == 0 ? EXIT_OK : EXIT_FAIL;
}
