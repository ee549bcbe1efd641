/* SPDX-License-Identifier: MIT */
/*
 * rt_echo_server - UDP echo server driven by a realtime signal (F_SETSIG) that it never
 * lets run a handler: the signal stays blocked and is taken with sigwaitinfo(), one
 * notification, one datagram.
 *
 * Demonstrates:
 *   - the "purely input-driven" design of TLPI §63.3: block the F_SETSIG signal, take the
 *     queued notifications synchronously with sigwaitinfo(), use si_fd and si_code;
 *   - one receive per POLL_IN notification, which keeps the queue of pending signals as
 *     short as the queue of datagrams (bounded by the client's window), where draining on
 *     every signal leaves stale signals behind and lets the queue grow to the limit;
 *   - the overflow path every such server needs: plain SIGIO means "rescan and drain".
 *
 * Read with: TLPI §63.3 (sigwaitinfo with F_SETSIG); UNP §25.3 (the SIGIO echo server it
 * redoes); chapters/rtsig_setsig.md "An echo server on a realtime signal".
 *
 * Usage: rt_echo_server [-p PORT] [-a ADDR | -6] [-w USEC] [-l L] [-v]
 *   -p PORT   UDP port (default 9025; 0 = the kernel chooses, printed on the first line)
 *   -a ADDR   address to bind (default 127.0.0.1); -6 is short for -a ::1
 *   -w USEC   simulated work per datagram, microseconds of busy CPU (default 0)
 *   -l L      lower RLIMIT_SIGPENDING to L first (default: leave it), so that a server that
 *             lets its queue grow stops at L instead of filling the user's whole queue
 *   -v        one line per notification
 *
 * Try it:
 *   ./rt_echo_server -p 9025 & server=$!
 *   ../udp_sigio/udp_echo_client -p 9025 -n 2000000 -W 32 &
 *   grep SigQ /proc/$server/status     # while the client runs: stays small
 *   wait $!; kill $server              # the summary's sigq_max: the most ever queued
 *
 * What to observe:
 *   - "listening on 127.0.0.1:PORT" first; on SIGINT/SIGTERM the summary
 *     "received=N echoed=N ... signals=N fallbacks=N stale=N sigq_max=N sigq_limit=N";
 *     on SIGHUP the same counters so far, as "sighup received=N ...", and it carries on;
 *   - sigq_max stays near the client's window (-W), far below sigq_limit;
 *   - fallbacks=0 unless the user's queue was full; then stale > 0 too;
 *   - a "warning:" on stderr once the queue holds three quarters of the limit.
 *
 * Linux notes: SigQ (in /proc/PID/status) counts every signal queued for the user, in
 * its user namespace, so other programs' signals show in sigq_max too; `unshare --user`
 * gives the server a count of its own, but every signal queued there is charged to the
 * user outside as well (the kernel counts at each level of user namespace), so a queue
 * that fills up inside takes the outer user's signals with it; -l bounds it.
 * sigq_max is sampled (every 64 notifications and
 * at each fallback), not exact. The kernel sends si_code POLL_IN, not the SI_SIGIO of
 * older manuals.
 */
#include "labutil.h"
#include "rtsig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DGRAM_MAX 2048     /* larger datagrams are reported as truncated, never echoed short */
#define SIGQ_EVERY 64      /* sample SigQ every this many notifications */

struct stats {
    uint64_t received, echoed, truncated, send_errors;
    uint64_t signals;   /* realtime notifications taken */
    uint64_t fallbacks; /* plain SIGIOs taken: the queue was full */
    uint64_t stale;     /* POLL_IN notifications that found the socket empty */
    uint64_t other;     /* other codes (POLL_OUT after a full send buffer, POLL_ERR) */
    long sigq_max, sigq_limit;
};

/* stop_pending - for burn_us_or_stop: is a SIGINT or SIGTERM waiting? Then the -w work ends
 * at once (the datagram is still echoed), so that even -w 1000000 stops within a second. */
static int stop_pending(void)
{
    sigset_t pending;

    if (sigpending(&pending) == -1)
        return 0;
    return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

/* print_counters - the summary line; on SIGHUP with "sighup " in front. */
static void print_counters(const char *prefix, const struct stats *st)
{
    printf("%sreceived=%" PRIu64 " echoed=%" PRIu64 " truncated=%" PRIu64 " send_errors=%" PRIu64
           " signals=%" PRIu64 " fallbacks=%" PRIu64 " stale=%" PRIu64 " other=%" PRIu64
           " sigq_max=%ld sigq_limit=%ld\n",
           prefix, st->received, st->echoed, st->truncated, st->send_errors, st->signals,
           st->fallbacks, st->stale, st->other, st->sigq_max, st->sigq_limit);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-p PORT] [-a ADDR | -6] [-w USEC] [-l L] [-v]\n"
            "  -p PORT   UDP port to bind (default 9025; 0 = kernel chooses)\n"
            "  -a ADDR   address to bind (default 127.0.0.1); -6 = -a ::1\n"
            "  -w USEC   busy work per datagram in microseconds (default 0, at most 1000000)\n"
            "  -l L      lower RLIMIT_SIGPENDING to L first (1 to the hard limit)\n"
            "  -v        print each notification\n"
            "  -h        this help\n"
            "SIGHUP prints the counters so far; SIGINT/SIGTERM end with a summary.\n"
            "example: %s -p 0 -w 50\n",
            lab_prog, lab_prog);
}

/* serve_one - one receive and, if it got a datagram, the work and the echo. Returns 0 when
 * the socket was empty (EAGAIN), 1 otherwise. */
static int serve_one(int fd, long work_us, struct stats *st)
{
    unsigned char buf[DGRAM_MAX];
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    ssize_t n;

    do /* MSG_TRUNC: the real length even when the datagram did not fit */
        n = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
    while (n == -1 && errno == EINTR);
    if (n == -1) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        die("recvfrom(%d)", fd);
    }
    st->received++;
    if (n > DGRAM_MAX) {
        if (st->truncated++ < 5)
            fprintf(stderr, "%s: datagram of %zd bytes truncated (MSG_TRUNC): not echoed\n",
                    lab_prog, n);
        return 1;
    }
    burn_us_or_stop(work_us, stop_pending);
    /* Non-blocking send: on a full send buffer (EAGAIN) the echo is dropped, as UDP may. */
    if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fromlen) == -1) {
        if (st->send_errors++ < 5)
            warn_errno("sendto");
    } else {
        st->echoed++;
    }
    return 1;
}

static void sample_sigq(struct stats *st)
{
    static int warned;
    long queued = sigq_read(&st->sigq_limit);

    if (queued > st->sigq_max)
        st->sigq_max = queued;
    /* LAB: queue-warning — a queue this full starves every program of this user. */
    if (!warned && queued >= st->sigq_limit / 4 * 3) {
        warned = 1;
        fprintf(stderr,
                "%s: warning: %ld of %ld signals are queued for this user: every program of "
                "the user shares this queue (in a user namespace, the user outside too) and "
                "loses signals when it is full; bound it with -l\n",
                lab_prog, queued, st->sigq_limit);
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addr_text = "127.0.0.1";
    int addr_given = 0, six = 0;
    int port = 9025, verbose = 0, opt, rt = SIGRTMIN;
    long work_us = 0, limit = 0;
    struct sockaddr_storage addr;
    struct stats st;
    sigset_t set;
    siginfo_t si;
    char text[160];

    memset(&st, 0, sizeof st);
    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":p:a:6w:l:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p': port = parse_port("-p", optarg); break;
        case 'a': addr_text = optarg, addr_given = 1; break;
        case '6': six = 1; break;
        case 'w': work_us = parse_long("-w", optarg, 0, 1000000); break;
        case 'l': limit = parse_sigpending("-l", optarg); break;
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

    /* LAB: block-everything-first — the I/O signal, the overflow SIGIO, the two stop
     * signals and SIGHUP are all blocked before the socket exists, and all taken in one place by
     * sigwaitinfo(). No handler runs, so nothing interrupts a receive or a send, and a
     * SIGTERM cannot slip in between a test and a wait. */
    block_set(sigset_of(&set, rt, SIGIO, SIGINT, SIGTERM, SIGHUP, 0));

    if (limit)
        set_sigpending(limit);
    socklen_t addrlen = parse_addr("-a", addr_text, port, &addr);
    int fd = bound_socket(SOCK_DGRAM, &addr, addrlen);
    setown(fd, getpid());
    setsig(fd, rt);
    set_fl(fd, O_ASYNC | O_NONBLOCK);
    announce_listening(fd);
    sample_sigq(&st);

    /*
     * LAB: one-read-per-signal — the heart of the design. Every datagram the kernel queues
     * raises one realtime signal; every signal we take does exactly one receive. So the
     * pending signals are never more than the datagrams waiting in the socket, which the
     * client's window bounds. Draining to EAGAIN on every signal would leave behind one
     * stale signal for each extra datagram read: the queue would grow with the load until
     * it hit RLIMIT_SIGPENDING, shared with every program of this user (their sigqueue()
     * would fail with EAGAIN), and each stale signal still costs a sigwaitinfo().
     * Draining is right only for the fallback SIGIO, which stands for an unknown number
     * of datagrams.
     */
    for (;;) {
        int sig = take_signal(&set, &si, -1);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        if (sig == SIGHUP) {
            print_counters("sighup ", &st);
            continue;
        }
        if (verbose)
            printf("%s\n", note_text(sig, si.si_code, si.si_fd, si.si_band, text, sizeof text));
        if (sig == SIGIO) {
            /* LAB: fallback-drain — the queue was full and some datagrams have no signal. */
            st.fallbacks++;
            sample_sigq(&st);
            while (!stop_pending() && serve_one(fd, work_us, &st))
                ; /* under a flood the socket may never empty: a stop request ends it */
            continue;
        }
        st.signals++;
        if (st.signals % SIGQ_EVERY == 0)
            sample_sigq(&st);
        if (si.si_code != POLL_IN || si.si_fd != fd) {
            st.other++; /* POLL_OUT after a full send buffer, POLL_ERR: nothing to read */
            continue;
        }
        if (!serve_one(fd, work_us, &st))
            st.stale++; /* its datagram was read by a fallback drain */
    }

    sample_sigq(&st);
    print_counters("", &st);
    close(fd);
    return EXIT_OK;
}
