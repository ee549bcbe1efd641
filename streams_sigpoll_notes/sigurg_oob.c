/* SPDX-License-Identifier: MIT */
/*
 * sigurg_oob - BSD's second asynchronous I/O signal: SIGURG for TCP out-of-band data, with
 * the mark found by SIOCATMARK and the urgent byte read with MSG_OOB.
 *
 * Demonstrates:
 *   - SIGURG comes with F_SETOWN alone: no O_ASYNC, no F_SETSIG (mode owner);
 *   - SIOCATMARK says when the read position reaches the urgent byte; an ordinary recv stops
 *     just before it, and recv(MSG_OOB) takes the byte out of band;
 *   - with O_ASYNC and F_SETSIG the socket also sends the F_SETSIG signal with si_code
 *     POLL_PRI (mode setsig); with O_ASYNC and no F_SETSIG there is no POLL_PRI, only SIGURG
 *     and plain SIGIO for the data (mode plain).
 *
 * Read with: APUE §14.5.2 (SIGIO plus SIGURG); UNP §25.2 and chapter 24 (out-of-band data);
 * chapters/streams_sigpoll_notes.md "SIGURG".
 *
 * Usage: sigurg_oob [-m MODE]
 *   -m MODE  owner (F_SETOWN only), plain (+ O_ASYNC), setsig (+ O_ASYNC and
 *            F_SETSIG(SIGRTMIN)), or all (the default: the three in turn)
 *
 * Try it:
 *   ./sigurg_oob -m owner
 *   ./sigurg_oob -m setsig
 *   ./sigurg_oob
 *
 * What to observe:
 *   - "signal=SIGURG si_code=SI_KERNEL" in every mode, with "o_async=no" in mode owner;
 *   - "read before_mark=abcxyz", "atmark=1", "read oob=!", "read after_mark=def": the byte
 *     sent last with MSG_OOB came out of band and the stream is intact around it;
 *   - in mode setsig "signal=SIGRTMIN si_code=POLL_PRI si_band=POLLPRI|POLLRDBAND";
 *   - each mode's summary line ends ok=yes; the exit status is 0 only if every mode's did.
 *
 * Linux notes: SIGURG's default action is to ignore it, so without a handler nothing shows.
 * The kernel sends SIGURG to the F_SETOWN owner whether or not O_ASYNC is on; the extra
 * POLL_PRI goes through the O_ASYNC machinery and only when F_SETSIG is not 0. Signals that
 * are pending together are delivered lowest number first (SIGURG 23, SIGIO 29, SIGRTMIN),
 * which is not necessarily the order the kernel sent them in.
 */
#include "labutil.h"
#include "sigrec.h"
#include "tcppair.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 5000 /* for a signal, or for bytes that must come */

static const struct mode {
    const char *name;
    int async;  /* O_ASYNC on */
    int setsig; /* F_SETSIG(SIGRTMIN) */
} modes[] = {
    {"owner", 0, 0},
    {"plain", 1, 0},
    {"setsig", 1, 1},
};
#define NMODES ((int)(sizeof modes / sizeof modes[0]))

/* What the receiver read, in order. */
struct oob_read {
    char before[32], after[32]; /* the ordinary bytes before and after the mark */
    int at_mark;                /* SIOCATMARK said 1 before the MSG_OOB read */
    char oob;                   /* the byte recv(MSG_OOB) returned */
};

/* What the signals said, counted over the mode's notes. */
struct counts {
    int sigurg, poll_pri, poll_in, plain_sigio, other;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-m MODE]\n"
            "  -m MODE     owner (F_SETOWN only), plain (+O_ASYNC), setsig (+O_ASYNC,\n"
            "              F_SETSIG SIGRTMIN), or all (default: the three in turn)\n"
            "  -h, --help  this help\n"
            "example: %s -m setsig\n",
            lab_prog, lab_prog);
}

/* wait_ready - poll fd for events at most until deadline_ns; 1 if ready, 0 if not. */
static int wait_ready(int fd, short events, int64_t deadline_ns)
{
    struct pollfd p = {fd, events, 0};
    int64_t left_ms = (deadline_ns - now_ns(CLOCK_MONOTONIC)) / 1000000;

    if (left_ms <= 0)
        return 0;
    int r = poll(&p, 1, (int)left_ms);
    if (r == -1 && errno != EINTR)
        die("poll(%d)", fd);
    return r > 0;
}

/* append - one non-blocking recv into buf (a string); returns what recv returned. */
static ssize_t append(int fd, char *buf, size_t size)
{
    size_t used = strlen(buf);
    ssize_t n = recv(fd, buf + used, size - 1 - used, MSG_DONTWAIT);

    if (n > 0)
        buf[used + (size_t)n] = '\0';
    else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
        die("recv(%d)", fd);
    return n;
}

/*
 * read_around_mark - read the ordinary bytes up to the mark, the urgent byte, the rest.
 * Returns 0 on success, -1 if something did not come in time.
 */
static int read_around_mark(int fd, struct oob_read *r)
{
    int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)WAIT_MS * 1000000;

    /* LAB: siocatmark — before every ordinary read, ask whether we are at the mark: a recv
     * that starts exactly at the mark would step over the urgent byte's place. */
    for (;;) {
        if (ioctl(fd, SIOCATMARK, &r->at_mark) == -1)
            die("ioctl(%d, SIOCATMARK)", fd);
        if (r->at_mark)
            break;
        if (!wait_ready(fd, POLLIN, deadline))
            return -1;
        append(fd, r->before, sizeof r->before); /* stops short of the mark by itself */
    }

    /* LAB: msg-oob — the urgent byte, out of band. EAGAIN: the pointer came, the byte not yet. */
    while (recv(fd, &r->oob, 1, MSG_OOB) != 1) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINVAL)
            die("recv(%d, MSG_OOB)", fd);
        if (!wait_ready(fd, POLLPRI, deadline))
            return -1;
    }

    /* The rest, until the sender's FIN (recv returns 0). */
    for (;;) {
        if (!wait_ready(fd, POLLIN, deadline))
            return -1;
        if (append(fd, r->after, sizeof r->after) == 0)
            return 0;
    }
}

/* print_notes - each signal the recorder saw since last time, counted into c. */
static void print_notes(struct counts *c)
{
    struct sigrec_note nt[SIGREC_MAX];
    size_t n = sigrec_take(nt, SIGREC_MAX, NULL);
    char sig[16], code[16], band[80];

    for (size_t i = 0; i < n; i++) {
        const char *codename = sicode_name(nt[i].code, code, sizeof code);

        if (nt[i].signo == SIGURG)
            c->sigurg++;
        else if (nt[i].signo == SIGIO && nt[i].code == SI_KERNEL)
            c->plain_sigio++;
        else if (nt[i].code == POLL_PRI)
            c->poll_pri++;
        else if (nt[i].code == POLL_IN)
            c->poll_in++;
        else
            c->other++;
        if (nt[i].code == SI_KERNEL) {
            printf("signal=%s si_code=%s\n",
                   nt[i].signo == SIGIO ? "SIGIO" : signal_name(nt[i].signo, sig, sizeof sig),
                   codename);
            continue;
        }
        printf("signal=%s si_code=%s si_band=%s fd=%d\n", signal_name(nt[i].signo, sig, sizeof sig),
               codename, band_names(nt[i].band, band, sizeof band), nt[i].fd);
    }
}

/* send_with_urgent - "abc", then "xyz!" with MSG_OOB (TCP makes its last byte urgent), then
 * "def", then FIN. */
static void send_with_urgent(int fd)
{
    if (send(fd, "abc", 3, 0) != 3)
        die("send(%d, abc)", fd);
    /* LAB: send-oob — one byte of urgent data: the last byte of this send. */
    if (send(fd, "xyz!", 4, MSG_OOB) != 4)
        die("send(%d, xyz!, MSG_OOB)", fd);
    if (send(fd, "def", 3, 0) != 3)
        die("send(%d, def)", fd);
    if (shutdown(fd, SHUT_WR) == -1)
        die("shutdown(%d, SHUT_WR)", fd);
}

/* run_mode - one connection, set up as the mode says; returns 1 if all came out right. */
static int run_mode(const struct mode *m)
{
    struct oob_read r = {.before = "", .after = "", .at_mark = 0, .oob = 0};
    struct counts c = {0, 0, 0, 0, 0};
    int client, server;
    char name[16];

    tcp_pair(&client, &server);
    /* LAB: sigurg-owner-only — the owner is all SIGURG needs. The handler (the recorder) was
     * installed before any socket existed. */
    if (fcntl(server, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN, %d)", server, (int)getpid());
    if (m->setsig && fcntl(server, F_SETSIG, SIGRTMIN) == -1)
        die("fcntl(%d, F_SETSIG, %s)", server, signal_name(SIGRTMIN, name, sizeof name));
    if (m->async)
        set_fl(server, O_ASYNC);
    printf("mode=%s f_setown=yes o_async=%s f_setsig=%s\n", m->name, m->async ? "yes" : "no",
           m->setsig ? signal_name(SIGRTMIN, name, sizeof name) : "0");

    send_with_urgent(client);
    printf("sent \"abc\", then \"xyz!\" with MSG_OOB (its last byte is the urgent one), then \"def\"\n");

    int ok = sigrec_wait(SIGURG, SIGREC_ANY, WAIT_MS);
    if (m->setsig)
        ok &= sigrec_wait(SIGRTMIN, POLL_PRI, WAIT_MS);
    print_notes(&c);

    if (read_around_mark(server, &r) == -1) {
        printf("read: the urgent byte or the rest of the data did not come within %d ms\n", WAIT_MS);
        ok = 0;
    }
    printf("read before_mark=%s\n", r.before);
    printf("atmark=%d\n", r.at_mark);
    printf("read oob=%c\n", r.oob ? r.oob : '-');
    printf("read after_mark=%s\n", r.after);

    if (m->async)
        clear_fl(server, O_ASYNC); /* nothing more from this socket; then let in the rest */
    sigrec_window();
    print_notes(&c);
    close(client);
    close(server);

    ok = ok && c.sigurg == 1 && c.poll_pri == (m->setsig ? 1 : 0) && r.at_mark == 1 &&
         r.oob == '!' && strcmp(r.before, "abcxyz") == 0 && strcmp(r.after, "def") == 0 &&
         (m->async || c.plain_sigio + c.poll_in + c.other == 0);
    printf("summary mode=%s sigurg=%d poll_pri=%d poll_in=%d plain_sigio=%d ok=%s\n", m->name,
           c.sigurg, c.poll_pri, c.poll_in, c.plain_sigio, ok ? "yes" : "no");
    return ok;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int first = 0, last = NMODES - 1, opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":m:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            if (strcmp(optarg, "all") == 0) {
                first = 0;
                last = NMODES - 1;
                break;
            }
            for (first = 0; first < NMODES && strcmp(optarg, modes[first].name) != 0; first++)
                ;
            if (first == NMODES)
                usage_error("-m: unknown mode '%s' (owner, plain, setsig, all)", optarg);
            last = first;
            break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    /* LAB: handler-before-owner — SIGURG is ignored by default, so a late handler would only
     * lose it; SIGIO and SIGRTMIN would kill. Blocked and handled before any owner is set. */
    int sigs[] = {SIGURG, SIGIO, SIGRTMIN};
    sigrec_start(sigs, 3);

    int all_ok = 1;
    for (int i = first; i <= last; i++)
        all_ok &= run_mode(&modes[i]);
    return all_ok ? EXIT_OK : EXIT_FAIL;
}
