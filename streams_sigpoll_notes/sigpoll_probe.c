/* SPDX-License-Identifier: MIT */
/*
 * sigpoll_probe - what this system has of System V's SIGPOLL and I_SETSIG, and the STREAMS
 * event mask emulated with what Linux has instead.
 *
 * Demonstrates:
 *   - whether <stropts.h> exists (decided when the program is built, with __has_include), and
 *     that the kernel refuses the I_SETSIG request: on Linux a socket answers ENOTTY;
 *   - SIGPOLL and SIGIO are one signal number on Linux, as under SVR4;
 *   - the nearest thing to I_SETSIG's event mask: F_SETSIG(SIGPOLL) with SA_SIGINFO, where
 *     si_code names the event. Linux sends every kind; the program keeps the kinds asked for;
 *   - which descriptor gives which kind: pipes, AF_UNIX and TCP sockets, a directory.
 *
 * Read with: APUE §14.5.1 (Figure 14.18), UNP §25.2; streams_sigpoll_notes/README.md;
 * chapters/streams_sigpoll_notes.md "The S_* mask on Linux".
 *
 * Usage: sigpoll_probe [--events LIST] [--table]
 *   --events LIST  the S_* kinds to report, comma-separated, named without S_ in lower case:
 *                  input, rdnorm, rdband, bandurg, hipri, output, wrnorm, wrband, msg, error,
 *                  hangup; or all (the default)
 *   --table        print each S_* kind with its nearest Linux notification, and exit
 *
 * Try it:
 *   ./sigpoll_probe                       # the facts, then every kind
 *   ./sigpoll_probe --events input        # only input is reported, the rest is "ignored"
 *   ./sigpoll_probe --events error,hangup
 *   ./sigpoll_probe --table
 *
 * What to observe:
 *   - "stropts_h=absent", "sigpoll=29 sigio=29 same=yes" (x86-64 numbers),
 *     "i_setsig=0x5309 on=udp_socket result=ENOTTY";
 *   - for each "step=NAME" (one action on one descriptor), an "event=KIND ..." line for every
 *     chosen kind its notification stands for, or an "ignored ..." line: Linux sent it anyway;
 *   - the last line: notifications=N reported=N ignored=N missing=0.
 *
 * Linux notes: STREAMS was never part of Linux, and glibc 2.30 removed <stropts.h>. There is
 * no per-kind subscription: O_ASYNC switches on every kind at once, and the program filters.
 * A pipe's hangup arrives as POLL_IN; POLL_HUP comes from AF_UNIX stream sockets and TCP;
 * POLL_MSG from no pipe or socket at all, only dnotify and lease breaks. SIGPOLL is a standard
 * signal: notifications sent before the first is delivered merge into it, so the counts vary
 * from run to run while the kinds do not.
 */
#include "labutil.h"
#include "sigrec.h"
#include "tcppair.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* LAB: stropts-detect — decided at build time: does this C library still have <stropts.h>? */
#if defined(__has_include)
#if __has_include(<stropts.h>)
#define HAVE_STROPTS 1
#endif
#endif
#ifndef HAVE_STROPTS
#define HAVE_STROPTS 0
#endif

#if HAVE_STROPTS
#include <stropts.h>
#else
/*
 * No <stropts.h>: glibc removed it in 2.30, and Linux never had STREAMS. These are the values
 * the last glibc <bits/stropts.h> gave (glibc 2.29 and before), so that the program can still
 * put the request to the kernel: __SID was ('S' << 8) and I_SETSIG was (__SID | 9) = 0x5309.
 * The S_* bits are the events of APUE Figure 14.18, with that header's values.
 */
#define I_SETSIG (('S' << 8) | 9)
#define S_INPUT 0x0001
#define S_HIPRI 0x0002
#define S_OUTPUT 0x0004
#define S_MSG 0x0008
#define S_ERROR 0x0010
#define S_HANGUP 0x0020
#define S_RDNORM 0x0040
#define S_WRNORM S_OUTPUT
#define S_RDBAND 0x0080
#define S_WRBAND 0x0100
#define S_BANDURG 0x0200
#endif

#define STEP_TIMEOUT_MS 5000 /* how long a step waits for the notification it must cause */
#define URGENT_SIGNAL (-1)   /* in the table: matched by SIGURG, not by a si_code */

/*
 * LAB: s-mask-table — each S_* event of APUE Figure 14.18 with its nearest Linux notification.
 * This is an analogy, not a kernel mapping: the kernel sends F_SETSIG's signal with a si_code
 * for every event, and a notification stands for every kind that lists its si_code here.
 */
static const struct kind {
    const char *name;  /* the --events name */
    const char *sname; /* the STREAMS constant */
    int smask;         /* its bit in I_SETSIG's argument */
    int code;          /* the si_code it corresponds to, or URGENT_SIGNAL */
    const char *band;  /* the poll bit of si_band that says the same */
    const char *where; /* where Linux sends it */
} kinds[] = {
    {"input", "S_INPUT", S_INPUT, POLL_IN, "POLLIN", "data on a pipe, socket or tty; a pipe's last writer closing"},
    {"rdnorm", "S_RDNORM", S_RDNORM, POLL_IN, "POLLRDNORM", "the same notification as input: no priority bands"},
    {"rdband", "S_RDBAND", S_RDBAND, POLL_PRI, "POLLRDBAND", "TCP urgent data only, and only with F_SETSIG"},
    {"bandurg", "S_BANDURG", S_BANDURG, URGENT_SIGNAL, "-", "SIGURG for TCP urgent data; F_SETOWN is enough"},
    {"hipri", "S_HIPRI", S_HIPRI, POLL_PRI, "POLLPRI", "TCP urgent data only, and only with F_SETSIG"},
    {"output", "S_OUTPUT", S_OUTPUT, POLL_OUT, "POLLOUT", "pipes: every read; sockets: only after a full buffer"},
    {"wrnorm", "S_WRNORM", S_WRNORM, POLL_OUT, "POLLWRNORM", "the same notification as output"},
    {"wrband", "S_WRBAND", S_WRBAND, POLL_OUT, "POLLWRBAND", "no event of its own: a bit of POLL_OUT's band"},
    {"msg", "S_MSG", S_MSG, POLL_MSG, "POLLMSG", "no pipe or socket: only dnotify and lease breaks"},
    {"error", "S_ERROR", S_ERROR, POLL_ERR, "POLLERR", "socket errors: RST, refused connect, ICMP (connected UDP)"},
    {"hangup", "S_HANGUP", S_HANGUP, POLL_HUP, "POLLHUP", "AF_UNIX stream peer gone; TCP FIN after our own shutdown"},
};
#define NKINDS ((int)(sizeof kinds / sizeof kinds[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [--events LIST] [--table]\n"
            "  --events LIST  S_* kinds to report, comma-separated (default all):\n"
            "                 input rdnorm rdband bandurg hipri output wrnorm wrband msg error hangup\n"
            "  --table        print each S_* kind with its nearest Linux notification, and exit\n"
            "                 (not with --events)\n"
            "  -h, --help     this help\n"
            "example: %s --events input,hangup\n",
            lab_prog, lab_prog);
}

/* parse_events - "input,hangup" into a set of kinds (bit i = kinds[i]); usage error naming
 * an unknown name. */
static unsigned parse_events(const char *text)
{
    unsigned chosen = 0;
    const char *p = text;

    if (*text == '\0')
        usage_error("--events: the list is empty");
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = 0;

        if (len == 3 && strncmp(p, "all", 3) == 0) {
            chosen |= (1u << NKINDS) - 1;
            found = 1;
        }
        for (int i = 0; i < NKINDS && !found; i++)
            if (strlen(kinds[i].name) == len && strncmp(p, kinds[i].name, len) == 0) {
                chosen |= 1u << i;
                found = 1;
            }
        if (!found)
            usage_error("--events: unknown event '%.*s' (known: input, rdnorm, rdband, bandurg, "
                        "hipri, output, wrnorm, wrband, msg, error, hangup, all)",
                        (int)len, p);
        p += len;
        if (*p == ',' && *++p == '\0')
            usage_error("--events: the list ends with a comma");
    }
    return chosen;
}

/* kinds_of - the kinds a notification stands for: by SIGURG, or by its si_code. */
static unsigned kinds_of(const struct sigrec_note *nt)
{
    unsigned set = 0;

    for (int i = 0; i < NKINDS; i++) {
        if (kinds[i].code == URGENT_SIGNAL ? nt->signo == SIGURG
                                           : nt->signo == SIGPOLL && nt->code == kinds[i].code)
            set |= 1u << i;
    }
    return set;
}

/* kind_list - "output,wrnorm,wrband" for a set of kinds. */
static const char *kind_list(unsigned set, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < NKINDS; i++)
        if (set & (1u << i)) {
            int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", kinds[i].name);
            if (n < 0 || (size_t)n >= len - used)
                break;
            used += (size_t)n;
        }
    if (!used)
        snprintf(buf, len, "none");
    return buf;
}

static void print_table(void)
{
    printf("%-10s %-6s  %-9s %-11s %s\n", "STREAMS", "bit", "Linux", "si_band", "sent on Linux by");
    for (int i = 0; i < NKINDS; i++) {
        char code[16];
        const char *linux_name = kinds[i].code == URGENT_SIGNAL
                                     ? "SIGURG"
                                     : sicode_name(kinds[i].code, code, sizeof code);
        printf("%-10s 0x%04x  %-9s %-11s %s\n", kinds[i].sname, (unsigned)kinds[i].smask,
               linux_name, kinds[i].band, kinds[i].where);
    }
}

/* ---- what the system has ------------------------------------------------------------- */

/*
 * try_i_setsig - put the STREAMS request to the kernel on fd and say what it answered. The
 * recorder already handles SIGPOLL: should the request ever succeed, a SIGPOLL must not find
 * the default action (APUE §14.5.1: the handler before the ioctl).
 */
static void try_i_setsig(const char *what, int fd)
{
    if (ioctl(fd, I_SETSIG, S_INPUT) == 0) {
        printf("i_setsig=0x%x on=%s result=ok\n", (unsigned)I_SETSIG, what);
        if (ioctl(fd, I_SETSIG, 0) == -1) /* 0 unregisters */
            warn_errno("ioctl(%d, I_SETSIG, 0)", fd);
        return;
    }
    printf("i_setsig=0x%x on=%s result=%s\n", (unsigned)I_SETSIG, what, errno_name(errno));
}

#if HAVE_STROPTS
/*
 * streams_for_real - on a system with STREAMS (illumos, Solaris: pipes are streams there),
 * register for the chosen events with I_SETSIG itself, write into the pipe and wait for the
 * SIGPOLL. Never runs on Linux; kept so that the same program tells the truth everywhere.
 */
static int streams_for_real(int rd, int wr, unsigned chosen)
{
    int mask = 0;
    struct sigrec_note nt[SIGREC_MAX];

    for (int i = 0; i < NKINDS; i++)
        if (chosen & (1u << i))
            mask |= kinds[i].smask;
    if (ioctl(rd, I_SETSIG, mask) == -1)
        die("ioctl(%d, I_SETSIG, 0x%x)", rd, (unsigned)mask);
    printf("registered mask=0x%x\n", (unsigned)mask);
    if (write(wr, "s", 1) != 1)
        die("write(%d)", wr);
    int seen = sigrec_wait(SIGPOLL, SIGREC_ANY, STEP_TIMEOUT_MS);
    size_t n = sigrec_take(nt, SIGREC_MAX, NULL);
    for (size_t i = 0; i < n; i++) {
        char code[16];
        printf("streams_event n=%zu si_code=%s\n", i + 1, sicode_name(nt[i].code, code, sizeof code));
    }
    if (ioctl(rd, I_SETSIG, 0) == -1)
        warn_errno("ioctl(%d, I_SETSIG, 0)", rd);
    return seen ? EXIT_OK : EXIT_FAIL;
}
#endif

/* print_facts - the header, STREAMS, the signal numbers, what the kernel says to I_SETSIG.
 * Returns 1 if this system has real STREAMS pipes (then main registers for real). */
static int print_facts(int pipe_rd)
{
    int streams = 0;

    printf("stropts_h=%s\n", HAVE_STROPTS ? "present" : "absent");
#if HAVE_STROPTS
    /* A C library before glibc 2.30 has the header but only stubs: isastream() says 0. */
    streams = isastream(pipe_rd) == 1;
#else
    (void)pipe_rd;
#endif
    printf("streams=%s\n", streams ? "present" : "absent");
    /* LAB: sigpoll-is-sigio — SVR4 defined SIGIO as SIGPOLL; Linux does the same. */
    printf("sigpoll=%d sigio=%d same=%s\n", SIGPOLL, SIGIO, SIGPOLL == SIGIO ? "yes" : "no");
    if (streams)
        return 1;

    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    if (udp == -1)
        die("socket(AF_INET, SOCK_DGRAM)");
    /* LAB: i-setsig-enotty — the request STREAMS knows, put to a socket and a pipe. */
    try_i_setsig("udp_socket", udp);
    try_i_setsig("pipe", pipe_rd);
    close(udp);
    printf("No STREAMS here: the kernel does not know I_SETSIG. The nearest thing follows:\n"
           "F_SETSIG(SIGPOLL) with SA_SIGINFO, where si_code says which event it was.\n");
    return 0;
}

/* ---- the emulation ------------------------------------------------------------------- */

/* What one step opened and switched on; step_end() switches off and closes it all. */
struct step_ctx {
    int fds[4], nfds;        /* descriptors to close at the end */
    int armed[2], narmed;    /* descriptors with O_ASYNC on */
    int notify_dir;          /* a directory fd with dnotify on, or -1 */
    char dir[PATH_MAX];      /* a temporary directory to remove, or "" */
    char file[PATH_MAX + 8]; /* a file in it to remove, or "" */
};

/* keep - remember fd (a valid descriptor) to close when the step ends. */
static int keep(struct step_ctx *c, int fd)
{
    c->fds[c->nfds++] = fd;
    return fd;
}

static void close_early(struct step_ctx *c, int fd)
{
    for (int i = 0; i < c->nfds; i++)
        if (c->fds[i] == fd)
            c->fds[i] = c->fds[--c->nfds];
    if (close(fd) == -1)
        die("close(%d)", fd);
}

/*
 * arm - make fd signal-driven with SIGPOLL carrying siginfo. The recorder was installed (and
 * SIGPOLL blocked) before any step ran.
 */
static void arm(struct step_ctx *c, int fd)
{
    char name[16];

    /* LAB: handler-before-owner — handler first (sigrec_start in main), then owner and the
     * signal, then O_ASYNC. */
    if (fcntl(fd, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN, %d)", fd, (int)getpid());
    /* LAB: setsig-sigpoll — F_SETSIG with SIGPOLL itself: the same signal number as plain
     * SIGIO, but now with si_code, si_band and si_fd filled in. */
    if (fcntl(fd, F_SETSIG, SIGPOLL) == -1)
        die("fcntl(%d, F_SETSIG, %s)", fd, signal_name(SIGPOLL, name, sizeof name));
    set_fl(fd, O_ASYNC);
    c->armed[c->narmed++] = fd;
}

static void make_pipe(struct step_ctx *c, int p[2])
{
    if (pipe(p) == -1)
        die("pipe");
    keep(c, p[0]);
    keep(c, p[1]);
}

/* make_tcp_pair - t[0] the connecting end, t[1] the accepted end, both kept. */
static void make_tcp_pair(struct step_ctx *c, int t[2])
{
    tcp_pair(&t[0], &t[1]);
    keep(c, t[0]);
    keep(c, t[1]);
}

static void put_byte(int fd)
{
    if (write(fd, "x", 1) != 1)
        die("write(%d, 1 byte)", fd);
}

static int step_pipe_write(struct step_ctx *c)
{
    int p[2];

    make_pipe(c, p);
    arm(c, p[0]);
    put_byte(p[1]);
    return 0;
}

static int step_pipe_read(struct step_ctx *c)
{
    int p[2];
    char b;

    make_pipe(c, p);
    put_byte(p[1]); /* before the write end is armed: the read end is not, so nothing is sent */
    arm(c, p[1]);
    if (read(p[0], &b, 1) != 1)
        die("read(%d, 1 byte)", p[0]);
    return 0;
}

static int step_pipe_close(struct step_ctx *c)
{
    int p[2];

    make_pipe(c, p);
    arm(c, p[0]);
    close_early(c, p[1]); /* the last writer goes: STREAMS would say hangup */
    return 0;
}

static int step_tcp_urgent(struct step_ctx *c)
{
    int t[2];

    make_tcp_pair(c, t);
    arm(c, t[1]);
    if (send(t[0], "!", 1, MSG_OOB) != 1)
        die("send(%d, MSG_OOB)", t[0]);
    return 0;
}

static int step_tcp_refused(struct step_ctx *c)
{
    struct sockaddr_storage addr;
    socklen_t len;
    int s;

    keep(c, tcp_bound(&addr, &len)); /* bound, not listening: its port refuses */
    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s == -1)
        die("socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK)");
    keep(c, s);
    arm(c, s);
    /* Non-blocking, so connect returns EINPROGRESS; on loopback the RST may already have
     * come back inside the call, and then it says ECONNREFUSED. Either way the error is
     * reported to the socket, and that is the notification. */
    if (connect(s, (struct sockaddr *)&addr, len) == 0 ||
        (errno != EINPROGRESS && errno != ECONNREFUSED))
        fail("connect(%d) to a port nobody listens on did not fail as it should", s);
    return 0;
}

static int step_unix_close(struct step_ctx *c)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die("socketpair(AF_UNIX, SOCK_STREAM)");
    keep(c, sv[0]);
    keep(c, sv[1]);
    arm(c, sv[0]);
    close_early(c, sv[1]);
    return 0;
}

static int step_tcp_fin(struct step_ctx *c)
{
    int t[2];

    make_tcp_pair(c, t);
    arm(c, t[0]);
    /* Our own shutdown signals nothing; the peer's FIN that follows finds both directions
     * shut, and that is POLL_HUP (a FIN on an open connection would be POLL_IN). */
    if (shutdown(t[0], SHUT_WR) == -1)
        die("shutdown(%d, SHUT_WR)", t[0]);
    close_early(c, t[1]);
    return 0;
}

static int step_dir_notify(struct step_ctx *c)
{
    const char *tmp = getenv("TMPDIR");
    char name[16];
    int fd;

    if (!tmp || !*tmp)
        tmp = "/tmp";
    if (strlen(tmp) + 32 > sizeof c->dir)
        fail("TMPDIR is too long: %s", tmp);
    snprintf(c->dir, sizeof c->dir, "%s/sigpoll_probe.XXXXXX", tmp);
    if (!mkdtemp(c->dir))
        die("mkdtemp(%s)", c->dir);
    fd = open(c->dir, O_RDONLY | O_DIRECTORY);
    if (fd == -1)
        die("open(%s, O_DIRECTORY)", c->dir);
    keep(c, fd);
    /* dnotify has no O_ASYNC: F_NOTIFY itself makes us the owner. F_SETSIG first, so the
     * first notification already carries siginfo. */
    if (fcntl(fd, F_SETSIG, SIGPOLL) == -1)
        die("fcntl(%d, F_SETSIG, %s)", fd, signal_name(SIGPOLL, name, sizeof name));
    if (fcntl(fd, F_NOTIFY, DN_CREATE) == -1) {
        if (errno == EINVAL)
            return -1; /* a kernel built without dnotify */
        die("fcntl(%d, F_NOTIFY, DN_CREATE)", fd);
    }
    c->notify_dir = fd;
    snprintf(c->file, sizeof c->file, "%s/f", c->dir);
    int f = open(c->file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (f == -1)
        die("open(%s, O_CREAT)", c->file);
    close(f);
    return 0;
}

/*
 * step_end - switch every descriptor of the step off, then let in what is still pending,
 * then close. Switching off first matters: once F_SETFL has removed O_ASYNC nothing more can
 * be sent for that descriptor, so nothing of this step can fall into the next one.
 */
static void step_end(struct step_ctx *c)
{
    for (int i = 0; i < c->narmed; i++)
        clear_fl(c->armed[i], O_ASYNC);
    if (c->notify_dir != -1 && fcntl(c->notify_dir, F_NOTIFY, 0) == -1)
        die("fcntl(%d, F_NOTIFY, 0)", c->notify_dir);
    sigrec_window();
    for (int i = 0; i < c->nfds; i++)
        if (close(c->fds[i]) == -1)
            die("close(%d)", c->fds[i]);
    if (c->file[0] && unlink(c->file) == -1)
        die("unlink(%s)", c->file);
    if (c->dir[0] && rmdir(c->dir) == -1)
        die("rmdir(%s)", c->dir);
}

static const struct step {
    const char *name;
    const char *what;                  /* one sentence for people */
    int (*run)(struct step_ctx *c);    /* set up, arm, act; -1: not available on this kernel */
    int code;                          /* the si_code the step must cause */
    int urgent;                        /* and a SIGURG too */
} steps[] = {
    {"pipe-write", "write a byte into a pipe whose read end is signal-driven", step_pipe_write, POLL_IN, 0},
    {"pipe-read", "read a byte from a pipe whose write end is signal-driven", step_pipe_read, POLL_OUT, 0},
    {"pipe-close", "close the only write end of a pipe whose read end is signal-driven", step_pipe_close, POLL_IN, 0},
    {"tcp-urgent", "send one byte of TCP urgent data (MSG_OOB) to a signal-driven socket", step_tcp_urgent, POLL_PRI, 1},
    {"tcp-refused", "connect a signal-driven TCP socket to a port nobody listens on", step_tcp_refused, POLL_ERR, 0},
    {"unix-close", "close the peer of a signal-driven AF_UNIX stream socket", step_unix_close, POLL_HUP, 0},
    {"tcp-fin", "shut down our sending side, then the TCP peer closes", step_tcp_fin, POLL_HUP, 0},
    {"dir-notify", "create a file in a directory watched with dnotify (F_NOTIFY)", step_dir_notify, POLL_MSG, 0},
};

struct tally {
    int notifications, reported, ignored, missing, unavailable;
};

/* report - one line per chosen kind the notification stands for, or one "ignored" line. */
static void report(const struct sigrec_note *nt, const char *step, unsigned chosen, struct tally *t)
{
    char sig[16], codebuf[16], bits[80], band[112], list[96];
    unsigned means = kinds_of(nt);
    const char *signame = nt->signo == SIGURG ? "SIGURG" : nt->signo == SIGPOLL ? "SIGPOLL"
                                                         : signal_name(nt->signo, sig, sizeof sig);
    int n = ++t->notifications;

    const char *code = sicode_name(nt->code, codebuf, sizeof codebuf);
    /* SIGURG (and plain SIGIO) come with SI_KERNEL: no band, no descriptor. */
    if (nt->code == SI_KERNEL)
        snprintf(band, sizeof band, "si_band=- fd=-");
    else
        snprintf(band, sizeof band, "si_band=%s fd=%d", band_names(nt->band, bits, sizeof bits),
                 nt->fd);

    if (!(means & chosen)) {
        printf("ignored n=%d signal=%s si_code=%s kinds=%s step=%s\n", n, signame, code,
               kind_list(means, list, sizeof list), step);
        t->ignored++;
        return;
    }
    for (int i = 0; i < NKINDS; i++)
        if (means & chosen & (1u << i))
            printf("event=%s n=%d signal=%s si_code=%s %s step=%s\n", kinds[i].name, n,
                   signame, code, band, step);
    t->reported++;
}

/* run_step - one step: act, wait for what it must cause, switch off, report everything. */
static void run_step(const struct step *st, unsigned chosen, struct tally *t)
{
    struct step_ctx c = {.nfds = 0, .narmed = 0, .notify_dir = -1, .dir = "", .file = ""};
    struct sigrec_note nt[SIGREC_MAX];
    char codebuf[16];
    const char *code = sicode_name(st->code, codebuf, sizeof codebuf);
    int lost;

    printf("step=%s expect=%s%s\n  (%s)\n", st->name, code, st->urgent ? "+SIGURG" : "",
           st->what);
    if (st->run(&c) == -1) {
        int err = errno;
        printf("step=%s unavailable=yes errno=%s\n", st->name, errno_name(err));
        t->unavailable++;
        step_end(&c);
        return;
    }
    int ok = sigrec_wait(SIGPOLL, st->code, STEP_TIMEOUT_MS);
    if (st->urgent)
        ok &= sigrec_wait(SIGURG, SIGREC_ANY, STEP_TIMEOUT_MS);
    step_end(&c);

    size_t n = sigrec_take(nt, SIGREC_MAX, &lost);
    for (size_t i = 0; i < n; i++)
        report(&nt[i], st->name, chosen, t);
    if (lost)
        printf("step=%s lost=%d (more than %d notifications)\n", st->name, lost, SIGREC_MAX);
    if (!ok) {
        printf("step=%s missing=%s\n", st->name, code);
        t->missing++;
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"events", required_argument, NULL, 'e'},
        {"table", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned chosen = (1u << NKINDS) - 1;
    int opt, table = 0;
    const char *events_text = NULL;
    char list[160];

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'e': chosen = parse_events(optarg), events_text = optarg; break;
        case 't': table = 1; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (table && events_text)
        usage_error("--events %s and --table exclude each other: --table shows every kind",
                    events_text);
    if (table) {
        print_table();
        return EXIT_OK;
    }

    /* LAB: handler-before-owner — SIGPOLL and SIGURG are blocked and handled before any
     * descriptor names us as its owner, and before the I_SETSIG attempt below. */
    int sigs[] = {SIGPOLL, SIGURG};
    sigrec_start(sigs, 2);

    int p[2];
    if (pipe(p) == -1)
        die("pipe");
    if (print_facts(p[0])) {
#if HAVE_STROPTS
        return streams_for_real(p[0], p[1], chosen);
#endif
    }
    close(p[0]);
    close(p[1]);

    int mask = 0;
    for (int i = 0; i < NKINDS; i++)
        if (chosen & (1u << i))
            mask |= kinds[i].smask;
    printf("events=%s mask=0x%x (what I_SETSIG would have been given)\n",
           kind_list(chosen, list, sizeof list), (unsigned)mask);

    struct tally t = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        run_step(&steps[i], chosen, &t);

    printf("notifications=%d reported=%d ignored=%d missing=%d unavailable=%d\n", t.notifications,
           t.reported, t.ignored, t.missing, t.unavailable);
    if (t.missing)
        fail("%d step(s) did not cause the notification they should have", t.missing);
    return EXIT_OK;
}
