/* SPDX-License-Identifier: MIT */
/*
 * first_setsig - start here: F_SETSIG with a realtime signal queues one notification per
 * event, and each one says which descriptor it is about and what happened.
 *
 * Demonstrates:
 *   - F_SETSIG(SIGRTMIN) instead of plain SIGIO: K events while the signal is blocked give
 *     K notifications, not one;
 *   - si_fd names the descriptor, si_code says what happened (POLL_IN: something to read,
 *     POLL_OUT: room to write), si_band carries the poll bits;
 *   - two ways to take them: sigwaitinfo() with the signal blocked (no handler at all), or
 *     a handler installed with SA_SIGINFO (-H), the only way a handler sees the siginfo.
 *
 * Read with: TLPI §63.3 (F_SETSIG, Table 63-7); chapters/rtsig_setsig.md "Start here".
 *
 * Usage: first_setsig [-k K] [-H]
 *   -k K  bytes written into the pipe, one write each (default 3, 1 to 1000)
 *   -H    take the signals with an SA_SIGINFO handler instead of sigwaitinfo()
 *
 * Try it:
 *   ./first_setsig
 *   ./first_setsig -H -k 5
 *
 * What to observe:
 *   - K lines "si_code=POLL_IN si_fd=R" (R the read end: one per write, none merged),
 *     then K lines "si_code=POLL_OUT si_fd=W" (W the write end: each read made room);
 *   - the last line "events=2K notifications=2K poll_in=K poll_out=K fd_match=2K".
 *
 * Linux notes: a pipe's writer gets POLL_OUT on every read. Realtime signals queue only up
 * to RLIMIT_SIGPENDING (overflow_demo shows what comes past it).
 */
#include "labutil.h"

#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#define MAXN 2000
/* What the handler saw (-H): plain records, read by main only with the signal blocked, and
 * a count (chapters/README.md, "Data a handler shares", rules 2 and 1). */
static struct { int code, fd; long band; } seen[MAXN];
static volatile sig_atomic_t n_seen;

static void usage(FILE *out)
{
    fprintf(out, "usage: %s [-k K] [-H]\n  -k K  bytes written into the pipe, one write each "
                 "(default 3, 1 to 1000)\n  -H    take the signals with an SA_SIGINFO handler, "
                 "not sigwaitinfo()\n  -h    this help\n", lab_prog);
}

/* LAB: siginfo-handler — with SA_SIGINFO the handler gets the siginfo the kernel queued;
 * it only records it (async-signal-safe), main prints it later. */
static void on_rt(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)ctx;
    if (n_seen < MAXN) {
        seen[n_seen].code = si->si_code, seen[n_seen].fd = si->si_fd, seen[n_seen].band = si->si_band;
        n_seen = n_seen + 1;
    }
}

/* LAB: arm-setsig — owner, signal, switch: the three calls that make fd signal-driven. */
static void arm(int fd, int sig)
{
    if (fcntl(fd, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN)", fd);
    if (fcntl(fd, F_SETSIG, sig) == -1)
        die("fcntl(%d, F_SETSIG, %d)", fd, sig);
    set_fl(fd, O_ASYNC | O_NONBLOCK);
}

/* note - one notification, printed and counted; returns 1 if si_fd is the descriptor
 * that si_code speaks of (the read end for POLL_IN, the write end for POLL_OUT). */
static int note(int code, int fd, long band, const int p[2], long *in, long *out)
{
    char cbuf[16], bbuf[96];
    printf("si_code=%s si_fd=%d si_band=%s\n", sicode_name(code, cbuf, sizeof cbuf), fd,
           band_names(band, bbuf, sizeof bbuf));
    *in += code == POLL_IN;
    *out += code == POLL_OUT;
    return (code == POLL_IN && fd == p[0]) || (code == POLL_OUT && fd == p[1]);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
    long k = 3, in = 0, out = 0, match = 0, notes = 0;
    int use_handler = 0, opt, p[2], rt = SIGRTMIN;
    sigset_t set;
    siginfo_t si;
    char byte;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":k:Hh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k': k = parse_long("-k", optarg, 1, 1000); break;
        case 'H': use_handler = 1; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    /* First a way to take the signal: blocked (for sigwaitinfo, and for -H until main is
     * ready), and with -H a handler as well. Only then can anything raise it. */
    sigemptyset(&set);
    sigaddset(&set, rt);
    block_signal(rt);
    if (use_handler)
        on_siginfo(rt, on_rt, 0);

    if (pipe(p) == -1)
        die("pipe");
    arm(p[0], rt); /* the read end: POLL_IN when bytes arrive */
    arm(p[1], rt); /* the write end: POLL_OUT when a read makes room */
    printf("pipe read_end=%d write_end=%d signal=SIGRTMIN mode=%s\n", p[0], p[1],
           use_handler ? "handler" : "sigwaitinfo");

    /* LAB: events-queue — K writes while the signal is blocked: K signals wait, each with
     * its own siginfo. A pipe write queues the signal inside write() itself. */
    for (long i = 0; i < k; i++)
        if (write(p[1], "x", 1) != 1)
            die("write(%d)", p[1]);

    if (use_handler) {
        /* Unblocking delivers every queued signal to the handler before this call returns;
         * each read below then raises POLL_OUT, delivered at once (now unblocked). */
        unblock_signal(rt);
        for (long i = 0; i < k; i++)
            if (read(p[0], &byte, 1) != 1)
                die("read(%d)", p[0]);
        block_signal(rt); /* main reads the records alone */
        for (int i = 0; i < n_seen; i++, notes++)
            match += note(seen[i].code, seen[i].fd, seen[i].band, p, &in, &out);
    } else {
        /* LAB: sigwaitinfo — take them one by one, like messages. Nothing more can come
         * once the queue is empty, so a zero timeout ends the loop. */
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&set, &si, &zero) == rt) {
            notes++;
            match += note(si.si_code, si.si_fd, si.si_band, p, &in, &out);
            if (si.si_code == POLL_IN && read(si.si_fd, &byte, 1) != 1) /* one byte each */
                die("read(%d)", si.si_fd);
        }
    }
    printf("events=%ld notifications=%ld poll_in=%ld poll_out=%ld fd_match=%ld\n", 2 * k, notes,
           in, out, match);
    return notes == 2 * k && match == notes ? EXIT_OK : EXIT_FAIL;
}
