/* SPDX-License-Identifier: MIT */
/*
 * sicode_table - TLPI Table 63-7 made on the running kernel: each si_code produced by a
 * real event, with the si_band that came with it and the band the book gives.
 *
 * Demonstrates:
 *   - POLL_IN, POLL_OUT, POLL_ERR, POLL_PRI and POLL_HUP from sockets, each with its band:
 *     a datagram, a connect completing, a reset, an urgent byte, a FIN after our own;
 *   - si_code and si_band go together, one band per code, from one table in the kernel;
 *   - where Linux's band differs from the book (POLL_PRI) or surprises (POLL_HUP has
 *     POLLERR), and that POLL_MSG never comes from a socket (here: from dnotify).
 *
 * Read with: TLPI §63.3 (Table 63-7); chapters/rtsig_setsig.md "Table 63-7 on Linux".
 *
 * Usage: sicode_table [-s SIG]
 *   -s SIG  the signal for F_SETSIG (default RTMIN): RTMIN to RTMAX (34 to 64), as a number
 *           or a name (RTMIN+K, RTMAX-K); a standard signal would merge the rows' signals
 *
 * Try it:
 *   ./sicode_table
 *   ./sicode_table | grep same_as_book=no
 *
 * What to observe:
 *   - one line per code, e.g. "code=POLL_PRI si_band=0x82 band=POLLPRI|POLLRDBAND
 *     si_fd_ok=yes linux=0x82 book=0x42 same_as_book=no also=POLL_IN,POLL_IN ...";
 *   - "code=POLL_HUP si_band=0x18 band=POLLERR|POLLHUP": a hangup with POLLERR in it, and
 *     no socket error at all;
 *   - the last line, "rows=6 ok=6 skipped=0".
 *
 * Linux notes: the bands come from band_table in fs/fcntl.c. POLL_PRI is POLLPRI|POLLRDBAND
 * (the book: POLLPRI|POLLRDNORM). POLL_MSG is sent only by dnotify and by lease breaks,
 * never by a socket. An urgent byte also raises SIGURG (ignored by default) and POLL_IN.
 */
#include "labutil.h"
#include "rtsig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_MS 3000 /* for the awaited notification */
#define QUIET_MS 100 /* for whatever else the same event raises */

/* TLPI Table 63-7's si_band column, by si_code - POLL_IN (the book's values, for comparison). */
static const long book_band[] = {
    POLLIN | POLLRDNORM,               /* POLL_IN */
    POLLOUT | POLLWRNORM | POLLWRBAND, /* POLL_OUT */
    POLLIN | POLLRDNORM | POLLMSG,     /* POLL_MSG */
    POLLERR,                           /* POLL_ERR */
    POLLPRI | POLLRDNORM,              /* POLL_PRI */
    POLLHUP | POLLERR,                 /* POLL_HUP */
};

static int sig;        /* the F_SETSIG signal */
static sigset_t waited; /* sig, blocked and taken with sigtimedwait() */
static int rows, rows_ok, rows_skipped;

static void usage(FILE *out)
{
    char choices[96];

    fprintf(out,
            "usage: %s [-s SIG]\n"
            "  -s SIG  signal for F_SETSIG (default RTMIN), one of: %s\n"
            "          as a number or a name (RTMIN+K, RTMAX-K)\n"
            "  -h      this help\n"
            "example: %s -s RTMIN+3\n",
            lab_prog, signal_choices(LAB_SIG_RT, choices, sizeof choices), lab_prog);
}

/* arm - owner, signal, then O_ASYNC and O_NONBLOCK (the signal is blocked already). */
static void arm(int fd)
{
    setown(fd, getpid());
    setsig(fd, sig);
    set_fl(fd, O_ASYNC | O_NONBLOCK);
}

/*
 * row - take notifications until one with si_code `code` arrives (at most WAIT_MS), then
 * whatever else comes within QUIET_MS; print the row and check it: si_fd must be fd and
 * si_band the kernel's band for that code.
 */
static void row(int code, int fd, const char *source)
{
    char cname[16], bname[96], also[128] = "";
    siginfo_t si, found;
    int have = 0;
    size_t used = 0;

    rows++;
    for (;;) {
        if (!take_signal(&waited, &si, have ? QUIET_MS : WAIT_MS))
            break;
        if (!have && si.si_code == code) {
            found = si;
            have = 1;
            continue;
        }
        int n = snprintf(also + used, sizeof also - used, "%s%s", used ? "," : "",
                         sicode_name(si.si_code, cname, sizeof cname));
        if (n > 0 && (size_t)n < sizeof also - used)
            used += (size_t)n;
    }
    if (!have) {
        printf("code=%s MISSING: nothing with that code within %d ms (also=%s) source=\"%s\"\n",
               sicode_name(code, cname, sizeof cname), WAIT_MS, used ? also : "none", source);
        return;
    }
    long kernel = linux_band(code), book = book_band[code - POLL_IN];
    int ok = found.si_fd == fd && found.si_band == kernel;
    rows_ok += ok;
    printf("code=%s si_band=0x%lx band=%s si_fd_ok=%s linux=0x%lx book=0x%lx same_as_book=%s "
           "also=%s result=%s source=\"%s\"\n",
           sicode_name(code, cname, sizeof cname), found.si_band,
           band_names(found.si_band, bname, sizeof bname), found.si_fd == fd ? "yes" : "no",
           kernel, book, found.si_band == book ? "yes" : "no", used ? also : "none",
           ok ? "ok" : "WRONG", source);
}

/* tcp_listener - a listening TCP socket on 127.0.0.1, port chosen by the kernel. */
static int tcp_listener(struct sockaddr_storage *ss, socklen_t *len)
{
    *len = parse_addr("address", "127.0.0.1", 0, ss);
    int fd = bound_socket(SOCK_STREAM, ss, *len);
    if (listen(fd, 8) == -1)
        die("listen(%d)", fd);
    *len = sizeof *ss;
    if (getsockname(fd, (struct sockaddr *)ss, len) == -1)
        die("getsockname(%d)", fd);
    return fd;
}

static int accept_one(int lfd)
{
    int fd = accept(lfd, NULL, NULL);
    int one = 1;

    if (fd == -1)
        die("accept(%d)", lfd);
    /* No Nagle on the peer: its one-byte segments go out at once. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
        die("setsockopt(TCP_NODELAY)");
    return fd;
}

/* LAB: poll-msg-dnotify — the only POLL_MSG on an ordinary system: a directory watched
 * with F_NOTIFY reports a new entry with the F_SETSIG signal. dnotify needs no O_ASYNC;
 * F_NOTIFY makes the caller the owner itself. */
static void row_dnotify(void)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096], file[4200];

    snprintf(dir, sizeof dir, "%s/sicode_table.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp(%s)", dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd == -1)
        die("open(%s)", dir);
    setsig(dfd, sig);
    if (fcntl(dfd, F_NOTIFY, DN_CREATE) == -1) {
        if (errno != EINVAL)
            die("fcntl(%d, F_NOTIFY, DN_CREATE)", dfd);
        rows++; /* a kernel built without dnotify: say so, do not fail */
        rows_skipped++;
        printf("code=POLL_MSG skipped: F_NOTIFY gave EINVAL (kernel without dnotify)\n");
    } else {
        snprintf(file, sizeof file, "%s/new", dir);
        int fd = open(file, O_CREAT | O_WRONLY | O_EXCL, 0600);
        if (fd == -1)
            die("open(%s, O_CREAT)", file);
        close(fd);
        row(POLL_MSG, dfd, "a file created in a directory watched with F_NOTIFY (dnotify)");
        if (unlink(file) == -1)
            die("unlink(%s)", file);
    }
    close(dfd);
    if (rmdir(dir) == -1)
        die("rmdir(%s)", dir);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sockaddr_storage ss;
    socklen_t len;
    struct udp_pair pair;
    int opt;

    sig = SIGRTMIN;
    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":s:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': sig = parse_signal("-s", optarg, LAB_SIG_RT); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    /* Step 1 for every descriptor below: the signal is blocked before any owner exists
     * (taken with sigtimedwait, no handler). SIGIO too, in case a queue overflow sends it. */
    block_set(sigset_of(&waited, sig, 0));
    sigset_t fallback;
    block_set(sigset_of(&fallback, SIGIO, 0));
    printf("TLPI Table 63-7 on this kernel, signal %d; si_band as sent, against the kernel's "
           "table (linux) and the book's (book):\n", sig);

    /* POLL_IN: a datagram arrives. */
    udp_pair_open(&pair);
    arm(pair.rx);
    udp_send(&pair);
    row(POLL_IN, pair.rx, "a UDP datagram arrives");

    /* POLL_OUT: a non-blocking connect completes (the socket is armed before connect). */
    int lfd = tcp_listener(&ss, &len);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c == -1)
        die("socket(AF_INET, SOCK_STREAM)");
    arm(c);
    if (connect(c, (struct sockaddr *)&ss, len) == -1 && errno != EINPROGRESS)
        die("connect(%d)", c);
    row(POLL_OUT, c, "a non-blocking TCP connect completes");
    int peer = accept_one(lfd);

    row_dnotify();

    /* POLL_ERR: a second connection whose peer resets it (SO_LINGER 0, then close). It is
     * armed only after connect, so that its own POLL_OUT does not get in the way. */
    int c2 = socket(AF_INET, SOCK_STREAM, 0);
    if (c2 == -1)
        die("socket(AF_INET, SOCK_STREAM)");
    if (connect(c2, (struct sockaddr *)&ss, len) == -1)
        die("connect(%d)", c2);
    int peer2 = accept_one(lfd);
    arm(c2);
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    if (setsockopt(peer2, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == -1)
        die("setsockopt(SO_LINGER, 0)");
    close(peer2);
    row(POLL_ERR, c2, "the peer resets a TCP connection (RST)");

    /* POLL_PRI: the peer sends one urgent byte. */
    if (send(peer, "!", 1, MSG_OOB) != 1)
        die("send(%d, MSG_OOB)", peer);
    row(POLL_PRI, c, "the peer sends an urgent byte (send MSG_OOB)");

    /* POLL_HUP: we shut our sending side, then the peer closes: its FIN finds the
     * connection shut both ways. (Without our shutdown a FIN gives POLL_IN only.) */
    if (shutdown(c, SHUT_WR) == -1)
        die("shutdown(%d, SHUT_WR)", c);
    close(peer);
    row(POLL_HUP, c, "the peer's FIN after our own shutdown(SHUT_WR)");

    printf("rows=%d ok=%d skipped=%d\n", rows, rows_ok, rows_skipped);
    close(c);
    close(c2);
    close(lfd);
    close(pair.rx);
    close(pair.tx);
    return rows_ok + rows_skipped == rows ? EXIT_OK : EXIT_FAIL;
}
