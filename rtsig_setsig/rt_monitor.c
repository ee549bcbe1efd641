/* SPDX-License-Identifier: MIT */
/*
 * rt_monitor - watches UDP sockets, a pipe and a pseudo-terminal at once with one realtime
 * signal (F_SETSIG) and names, for every notification, the descriptor, the event and the
 * poll band.
 *
 * Demonstrates:
 *   - F_SETSIG plus siginfo: si_fd says which descriptor, si_code what happened (POLL_IN,
 *     POLL_OUT, ...), si_band the poll bits, so one signal can serve many descriptors;
 *   - three ways to take the signals: a handler that only records into a ring (--handler),
 *     the signal blocked and taken with sigwaitinfo() (--sigwaitinfo), or read from a
 *     signalfd (--signalfd);
 *   - si_fd is the descriptor on which O_ASYNC was switched on (udp-dup), not the one
 *     F_SETSIG was called on;
 *   - --self-test: known events on every descriptor, each notification checked.
 *
 * Read with: TLPI §63.3 (F_SETSIG, siginfo_t, Table 63-7, sigwaitinfo);
 * chapters/rtsig_setsig.md "What the siginfo says" and "Three ways to take a signal".
 *
 * Usage: rt_monitor [-u N] [-s SIG] [--handler | --sigwaitinfo | --signalfd] [--self-test]
 *                   [-n COUNT] [-t SEC]
 *   -u N           UDP sockets on 127.0.0.1 (default 2, 1 to 64), plus one more through a dup
 *   -s SIG         the signal (default RTMIN+1): RTMIN to RTMAX (34 to 64), as a number or a
 *                  name (RTMIN+K, RTMAX-K), or 0 for plain SIGIO (no F_SETSIG signal)
 *   --handler      a SA_SIGINFO handler records into a ring, the main loop prints (default)
 *   --sigwaitinfo  the signal stays blocked, the main loop takes it with sigwaitinfo()
 *   --signalfd     the signal stays blocked, the main loop reads it from a signalfd
 *   --self-test    make known events on every descriptor and check each notification
 *   -n COUNT       stop after COUNT notifications (default 0: no limit)
 *   -t SEC         stop after SEC seconds (default 0: no limit)
 *
 * Try it:
 *   ./rt_monitor --self-test --signalfd
 *   ./rt_monitor &            # then, with the numbers it prints:
 *   echo hi > /dev/udp/127.0.0.1/PORT; echo hi > /proc/PID/fd/FD; echo hi > /dev/pts/N
 *   kill %1
 *
 * What to observe:
 *   - one line per notification: "kind=pipe-r sig=SIGRTMIN+1 si_code=POLL_IN si_fd=7
 *     si_band=0x41 (POLLIN|POLLRDNORM) read=3";
 *   - reading the pipe raises POLL_OUT (0x304) on its write end;
 *   - the self-test's last line: "self_test=pass how=handler ... unexpected=0".
 *
 * Linux notes: si_fd is the descriptor O_ASYNC was switched on through (fcntl(2) says the
 * one given to F_SETSIG). Only a handler needs SA_SIGINFO to see the siginfo;
 * sigwaitinfo() and signalfd get it anyway. A pipe's reader gets POLL_IN, never POLL_HUP,
 * when the last writer closes.
 */
#include "labutil.h"
#include "rtsig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

enum how { BY_HANDLER, BY_SIGWAITINFO, BY_SIGNALFD };
static const char *const how_names[] = {"handler", "sigwaitinfo", "signalfd"};

#define UDP_MAX 64
#define WATCH_MAX (UDP_MAX + 5)
#define STEP_MS 3000 /* how long the self-test waits for each notification */

/* One descriptor we watch. */
struct watched {
    int fd;                       /* what si_fd should say: O_ASYNC is switched on here */
    int via;                      /* where F_SETOWN and F_SETSIG go: fd itself, or for
                                     udp-dup the original the dup was made from */
    const char *kind;             /* udp, udp-dup, pipe-r, pipe-w, pty-master, pty-slave */
    char detail[96];              /* for people: address, path, how to make an event */
    struct sockaddr_storage addr; /* udp and udp-dup: where to send */
    socklen_t addrlen;
};

/* One notification, however it was taken. */
struct note {
    int signo, code, fd;
    long band;
};

/* ---- the handler way ------------------------------------------------------------------
 * The handler stores each siginfo in ring[] and returns; the main loop prints
 * (chapters/README.md, "Data a handler shares"). All our signals are in every handler's sa_mask, so
 * handlers never interrupt one another, and the main loop touches the ring only while the
 * signals are blocked (they are unblocked only inside ppoll). So the ring is plain and
 * needs no locking (rule 2); ring_count, ring_lost and stop_requested are lone counters
 * and flags, volatile sig_atomic_t (rule 1). */
#define RING_SIZE 1024
static struct note ring[RING_SIZE];        /* written by the handler, read with signals blocked */
static volatile sig_atomic_t ring_count;   /* entries in ring[]; reset by main (blocked) */
static volatile sig_atomic_t ring_lost;    /* notifications that found the ring full */
static volatile sig_atomic_t stop_requested; /* SIGINT or SIGTERM arrived (handler way) */

static void on_note(int sig, siginfo_t *si, void *ctx)
{
    int saved_errno = errno;

    (void)ctx;
    if (ring_count < RING_SIZE) {
        ring[ring_count] = (struct note){sig, si->si_code, si->si_fd, si->si_band};
        ring_count++;
    } else {
        ring_lost++;
    }
    errno = saved_errno;
}

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- taking notifications, three ways ------------------------------------------------ */

struct taker {
    enum how how;
    sigset_t set;       /* the I/O signal, SIGIO (the overflow fallback), SIGINT, SIGTERM */
    sigset_t wait_mask; /* handler way: our mask with `set` removed, for ppoll */
    int sfd;            /* signalfd way */
    int ring_pos;       /* handler way: next ring entry to print */
};

/* handler_for - sigaction with all of `set` in sa_mask: no handler interrupts another. */
static void handler_for(int sig, const sigset_t *set, int siginfo)
{
    struct sigaction sa;
    char name[16];

    memset(&sa, 0, sizeof sa);
    sa.sa_mask = *set;
    if (siginfo) {
        sa.sa_sigaction = on_note;
        sa.sa_flags = SA_SIGINFO;
    } else {
        sa.sa_handler = on_stop;
    }
    if (sigaction(sig, &sa, NULL) == -1)
        die("sigaction(%s)", signal_name(sig, name, sizeof name));
}

/*
 * taker_init - get ready to take `sig`. This is step 1 of the set-up order: before any
 * descriptor has an owner, every way has either a handler in place or the signal blocked
 * (the handler way has both: blocked except while ppoll waits).
 */
static void taker_init(struct taker *t, enum how how, int sig)
{
    t->how = how;
    t->ring_pos = 0;
    t->sfd = -1;
    sigset_of(&t->set, sig, SIGIO, SIGINT, SIGTERM, 0);
    block_set(&t->set);
    if (how == BY_HANDLER) {
        /* LAB: handler-records-only — the handler's whole job is to copy the siginfo. */
        handler_for(sig, &t->set, 1);
        handler_for(SIGIO, &t->set, 1);
        handler_for(SIGINT, &t->set, 0);
        handler_for(SIGTERM, &t->set, 0);
        if (sigprocmask(SIG_BLOCK, NULL, &t->wait_mask) == -1)
            die("sigprocmask");
        sigdelset(&t->wait_mask, sig);
        sigdelset(&t->wait_mask, SIGIO);
        sigdelset(&t->wait_mask, SIGINT);
        sigdelset(&t->wait_mask, SIGTERM);
    } else if (how == BY_SIGNALFD) {
        /* LAB: signalfd — the blocked signals become readable records on a descriptor. */
        t->sfd = signalfd(-1, &t->set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (t->sfd == -1)
            die("signalfd");
    }
    /* BY_SIGWAITINFO needs nothing more: blocked is all (no handler, no SA_SIGINFO). */
}

/*
 * take - the next notification into *n, waiting at most timeout_ms (for ever if < 0).
 * Returns 1 with a notification, 0 when the time ran out, -1 when SIGINT or SIGTERM asked
 * us to stop.
 */
static int take(struct taker *t, long timeout_ms, struct note *n)
{
    struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000};

    if (t->how == BY_HANDLER) {
        for (;;) {
            if (t->ring_pos < ring_count) {
                *n = ring[t->ring_pos++];
                return 1;
            }
            t->ring_pos = 0; /* all printed: start the ring again (signals are blocked) */
            ring_count = 0;
            if (stop_requested)
                return -1;
            /* LAB: ppoll-wait — unblock and wait in one step, like sigsuspend() but with a
             * time limit: a signal that came before this call is still pending and is
             * delivered at once; testing a flag and then pausing could miss it. */
            int r = ppoll(NULL, 0, timeout_ms < 0 ? NULL : &ts, &t->wait_mask);
            if (r == 0)
                return 0;
            if (errno != EINTR)
                die("ppoll");
        }
    }
    if (t->how == BY_SIGWAITINFO) {
        siginfo_t si;
        /* LAB: sigwaitinfo — the signal stays blocked and is taken like a message. */
        int sig = take_signal(&t->set, &si, timeout_ms);
        if (sig == 0)
            return 0;
        if (sig == SIGINT || sig == SIGTERM)
            return -1;
        *n = (struct note){sig, si.si_code, si.si_fd, si.si_band};
        return 1;
    }
    for (;;) { /* BY_SIGNALFD */
        struct pollfd pfd = {.fd = t->sfd, .events = POLLIN};
        struct signalfd_siginfo ssi;
        int r = poll(&pfd, 1, timeout_ms < 0 ? -1 : (int)timeout_ms);
        if (r == 0)
            return 0;
        if (r == -1) {
            if (errno == EINTR)
                continue;
            die("poll(signalfd %d)", t->sfd);
        }
        ssize_t got = read(t->sfd, &ssi, sizeof ssi);
        if (got == -1 && errno == EAGAIN)
            continue;
        if (got != (ssize_t)sizeof ssi)
            die("read(signalfd %d)", t->sfd);
        if (ssi.ssi_signo == SIGINT || ssi.ssi_signo == SIGTERM)
            return -1;
        *n = (struct note){(int)ssi.ssi_signo, ssi.ssi_code, ssi.ssi_fd, (long)ssi.ssi_band};
        return 1;
    }
}

/* ---- the descriptors ----------------------------------------------------------------- */

struct monitor {
    struct watched w[WATCH_MAX];
    int count;
    int sig;
    int tx;        /* unbound UDP socket the self-test sends from */
    int pipe_r, pipe_w, pty_master, pty_slave; /* indexes into w[] */
    int udp_count; /* w[0 .. udp_count-1] are udp, then one udp-dup */
};

static int add_watched(struct monitor *m, int fd, const char *kind)
{
    struct watched *w = &m->w[m->count];

    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->via = fd;
    w->kind = kind;
    return m->count++;
}

static void add_udp(struct monitor *m, int dup_it)
{
    struct sockaddr_storage ss;
    socklen_t len = parse_addr("address", "127.0.0.1", 0, &ss);
    int fd = bound_socket(SOCK_DGRAM, &ss, len);
    char text[64];

    len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
        die("getsockname(%d)", fd);
    if (!dup_it) {
        int i = add_watched(m, fd, "udp");
        m->w[i].addr = ss;
        m->w[i].addrlen = len;
        snprintf(m->w[i].detail, sizeof m->w[i].detail, "%s",
                 sockaddr_text((struct sockaddr *)&ss, text, sizeof text));
        return;
    }
    /* LAB: sifd-is-the-async-fd — F_SETOWN and F_SETSIG go to fd, O_ASYNC is switched on
     * through a dup of it (arm() does both). The kernel records the number of the
     * descriptor the switch was made on, and that is what si_fd will say. */
    int copy = dup(fd);
    if (copy == -1)
        die("dup(%d)", fd);
    int i = add_watched(m, copy, "udp-dup");
    m->w[i].via = fd;
    m->w[i].addr = ss;
    m->w[i].addrlen = len;
    snprintf(m->w[i].detail, sizeof m->w[i].detail,
             "%s, a dup of fd %d: F_SETSIG went to fd %d, O_ASYNC to this one",
             sockaddr_text((struct sockaddr *)&ss, text, sizeof text), fd, fd);
}

/* open_all - every descriptor; nothing is signal-driven yet. */
static void open_all(struct monitor *m, int udp)
{
    int p[2];

    m->count = 0;
    for (int i = 0; i < udp; i++)
        add_udp(m, 0);
    m->udp_count = udp;
    add_udp(m, 1);

    if (pipe(p) == -1)
        die("pipe");
    m->pipe_r = add_watched(m, p[0], "pipe-r");
    m->pipe_w = add_watched(m, p[1], "pipe-w");
    snprintf(m->w[m->pipe_r].detail, sizeof m->w[m->pipe_r].detail,
             "read end; write to it with: echo hi > /proc/%d/fd/%d", (int)getpid(), p[1]);
    snprintf(m->w[m->pipe_w].detail, sizeof m->w[m->pipe_w].detail,
             "write end: POLL_OUT whenever the pipe is read");

    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master == -1) {
        if (errno == ENOENT || errno == ENODEV || errno == ENXIO) /* a container without /dev/pts */
            skip_exit("posix_openpt: no pseudo-terminals here: %s", strerror(errno));
        die("posix_openpt");
    }
    if (grantpt(master) == -1 || unlockpt(master) == -1)
        die("grantpt/unlockpt(%d)", master);
    const char *path = ptsname(master);
    if (!path)
        die("ptsname(%d)", master);
    int slave = open(path, O_RDWR | O_NOCTTY);
    if (slave == -1)
        die("open(%s)", path);
    /* Raw mode: no echo and no line editing, so one byte written is one byte to read and
     * one notification, not a line's worth later plus an echo. */
    struct termios tio;
    if (tcgetattr(slave, &tio) == -1)
        die("tcgetattr(%s)", path);
    cfmakeraw(&tio);
    if (tcsetattr(slave, TCSANOW, &tio) == -1)
        die("tcsetattr(%s)", path);
    m->pty_master = add_watched(m, master, "pty-master");
    m->pty_slave = add_watched(m, slave, "pty-slave");
    snprintf(m->w[m->pty_master].detail, sizeof m->w[m->pty_master].detail,
             "POLL_IN when the slave side is written: echo hi > %s", path);
    snprintf(m->w[m->pty_slave].detail, sizeof m->w[m->pty_slave].detail, "%s", path);

    m->tx = socket(AF_INET, SOCK_DGRAM, 0);
    if (m->tx == -1)
        die("socket(AF_INET, SOCK_DGRAM)");
}

/* arm - steps 2 and 3 for every descriptor: owner and signal, then O_ASYNC (with
 * O_NONBLOCK: a notification can be stale, and a stale read must not block). Called only
 * after taker_init(). */
static void arm(struct monitor *m)
{
    for (int i = 0; i < m->count; i++) {
        setown(m->w[i].via, getpid());
        setsig(m->w[i].via, m->sig);
        set_fl(m->w[i].fd, O_ASYNC | O_NONBLOCK);
    }
}

static struct watched *find(struct monitor *m, int fd)
{
    for (int i = 0; i < m->count; i++)
        if (m->w[i].fd == fd)
            return &m->w[i];
    return NULL;
}

/*
 * drain - read what fd has now: one datagram from a socket (one event, one datagram),
 * everything there is from a pipe or terminal. Returns bytes read, -1 if there was nothing.
 *
 * LAB: pipe-read-pollout — for a pipe or terminal, FIONREAD says how much is there and we
 * read exactly that, never once more to see EAGAIN: every read() of a pipe, even one that
 * finds it empty, raises POLL_OUT for the write end, and the self-test counts those.
 */
static long drain(const struct watched *w)
{
    char buf[4096];
    long total = -1;
    int avail;

    if (strncmp(w->kind, "udp", 3) == 0)
        return read_once(w->fd, buf, sizeof buf);
    for (;;) {
        if (ioctl(w->fd, FIONREAD, &avail) == -1)
            die("ioctl(%d, FIONREAD)", w->fd);
        if (avail <= 0)
            return total;
        ssize_t r = read_once(w->fd, buf, (size_t)avail < sizeof buf ? (size_t)avail : sizeof buf);
        if (r < 0)
            return total;
        total = (total < 0 ? 0 : total) + r;
    }
}

/* react - what the main loop does with a notification: print it, then read the data it
 * announces (reading is also what lets the next event be told apart from this one).
 * A plain SIGIO carries no descriptor: the realtime queue overflowed, so rescan all. */
static void react(struct monitor *m, const struct note *n, const char *prefix)
{
    char text[160];

    if (!is_poll_code(n->code)) {
        /* With -s 0 every notification is plain SIGIO by choice; otherwise a plain SIGIO
         * means the realtime queue overflowed. */
        printf("%s%s: no descriptor named (%s): rescanning all\n", prefix,
               note_text(n->signo, n->code, 0, 0, text, sizeof text),
               m->sig == 0 ? "plain SIGIO, -s 0" : "realtime queue overflow?");
        struct pollfd pfd[WATCH_MAX];
        for (int i = 0; i < m->count; i++)
            pfd[i] = (struct pollfd){.fd = m->w[i].fd, .events = POLLIN};
        if (poll(pfd, (nfds_t)m->count, 0) == -1)
            die("poll(%d descriptors, 0)", m->count);
        for (int i = 0; i < m->count; i++)
            if (pfd[i].revents & POLLIN)
                while (drain(&m->w[i]) >= 0)
                    ;
        return;
    }
    struct watched *w = find(m, n->fd);
    const char *kind = w ? w->kind : "unknown";
    printf("%skind=%s %s", prefix, kind, note_text(n->signo, n->code, n->fd, n->band, text, sizeof text));
    if (w && (n->code == POLL_IN || n->code == POLL_HUP))
        printf(" read=%ld", drain(w));
    putchar('\n');
}

/* ---- the self-test ------------------------------------------------------------------- */

enum act { ACT_SEND_UDP, ACT_WRITE_PIPE, ACT_NOTHING, ACT_WRITE_MASTER, ACT_WRITE_SLAVE };

struct step {
    enum act act;
    int target;  /* ACT_SEND_UDP: which w[] to send to */
    int expect;  /* the w[] index the notification must name */
    int code;    /* and the si_code it must carry */
    const char *what;
};

static void act(const struct monitor *m, const struct step *s)
{
    const struct watched *t = &m->w[s->target];
    int fd = -1;

    switch (s->act) {
    case ACT_SEND_UDP:
        if (sendto(m->tx, "x", 1, 0, (const struct sockaddr *)&t->addr, t->addrlen) != 1)
            die("sendto(%d)", m->tx);
        return;
    case ACT_WRITE_PIPE: fd = m->w[m->pipe_w].fd; break;
    case ACT_WRITE_MASTER: fd = m->w[m->pty_master].fd; break;
    case ACT_WRITE_SLAVE: fd = m->w[m->pty_slave].fd; break;
    case ACT_NOTHING: return;
    }
    if (write(fd, "x", 1) != 1)
        die("write(%d, 1 byte)", fd);
}

/*
 * self_test - one event at a time, each followed by the notification it must raise (the
 * right descriptor, code and band), then a quiet spell in which nothing more may come.
 * The main loop's own reaction is part of the script: reading the pipe is what raises
 * POLL_OUT on its write end. Returns 1 if everything matched.
 */
static int self_test(struct monitor *m, struct taker *t)
{
    struct step steps[UDP_MAX + 8];
    int n = 0, matched = 0, wrong = 0, missing = 0, unexpected = 0;
    char line[160];

    for (int i = 0; i <= m->udp_count; i++) /* the udp sockets and the udp-dup */
        steps[n++] = (struct step){ACT_SEND_UDP, i, i, POLL_IN, "send a datagram"};
    steps[n++] = (struct step){ACT_WRITE_PIPE, 0, m->pipe_r, POLL_IN, "write 1 byte into the pipe"};
    steps[n++] = (struct step){ACT_NOTHING, 0, m->pipe_w, POLL_OUT, "(our read of the pipe)"};
    steps[n++] = (struct step){ACT_WRITE_MASTER, 0, m->pty_slave, POLL_IN, "write 1 byte to the pty master"};
    steps[n++] = (struct step){ACT_WRITE_SLAVE, 0, m->pty_master, POLL_IN, "write 1 byte to the pty slave"};

    for (int i = 0; i < n; i++) {
        struct note got;
        const struct watched *want = &m->w[steps[i].expect];

        act(m, &steps[i]);
        snprintf(line, sizeof line, "step %d (%s): ", i + 1, steps[i].what);
        int r = take(t, STEP_MS, &got);
        if (r < 0)
            fail("stopped by a signal during the self-test");
        if (r == 0) {
            printf("%snothing within %d ms: expected %s on fd %d (%s) MISSING\n", line, STEP_MS,
                   steps[i].code == POLL_IN ? "POLL_IN" : "POLL_OUT", want->fd, want->kind);
            missing++;
            continue;
        }
        int ok = got.signo == m->sig && m->sig && got.fd == want->fd && got.code == steps[i].code &&
                 got.band == linux_band(steps[i].code);
        ok ? matched++ : wrong++;
        react(m, &got, line);
        if (!ok)
            printf("  WRONG: expected %s\n", note_text(m->sig ? m->sig : SIGIO, steps[i].code, want->fd,
                                                     linux_band(steps[i].code), line, sizeof line));
    }
    /* Nothing may follow: a notification now would be one no event of ours explains. */
    struct note extra;
    while (take(t, 200, &extra) == 1) {
        unexpected++;
        react(m, &extra, "after the last step: UNEXPECTED ");
    }
    int pass = matched == n && !wrong && !missing && !unexpected && !ring_lost;
    printf("self_test=%s how=%s steps=%d matched=%d wrong=%d missing=%d unexpected=%d\n",
           pass ? "pass" : "fail", how_names[t->how], n, matched, wrong, missing, unexpected);
    return pass;
}

/* ---- main ---------------------------------------------------------------------------- */

/* The signals -s may name: the realtime ones, and 0 (plain SIGIO: the self-test then fails,
 * and shows why). A standard signal would coalesce and fail the self-test for another
 * reason; SIGKILL or SIGSTOP would end or stop the monitor itself. */
#define SIG_KINDS (LAB_SIG_ZERO | LAB_SIG_RT)

static void usage(FILE *out)
{
    char choices[96];

    fprintf(out,
            "usage: %s [-u N] [-s SIG] [--handler | --sigwaitinfo | --signalfd] [--self-test]\n"
            "                  [-n COUNT] [-t SEC]\n"
            "  -u N           UDP sockets on 127.0.0.1 (default 2, 1 to %d), plus one through a dup\n"
            "  -s SIG         the signal (default RTMIN+1), one of: %s\n"
            "  --handler      a handler records into a ring, the main loop prints (default)\n"
            "  --sigwaitinfo  the signal stays blocked; taken with sigwaitinfo()\n"
            "  --signalfd     the signal stays blocked; read from a signalfd\n"
            "  --self-test    make known events on every descriptor and check each notification\n"
            "  -n COUNT       stop after COUNT notifications (default 0: no limit)\n"
            "  -t SEC         stop after SEC seconds (default 0: no limit)\n"
            "  -h             this help\n"
            "  (one of --handler, --sigwaitinfo, --signalfd; -n and -t not with --self-test)\n"
            "example: %s --self-test --sigwaitinfo\n",
            lab_prog, UDP_MAX, signal_choices(SIG_KINDS, choices, sizeof choices), lab_prog);
}

int main(int argc, char **argv)
{
    enum { OPT_HANDLER = 256, OPT_SIGWAITINFO, OPT_SIGNALFD, OPT_SELF_TEST };
    static const struct option longopts[] = {
        {"handler", no_argument, NULL, OPT_HANDLER},
        {"sigwaitinfo", no_argument, NULL, OPT_SIGWAITINFO},
        {"signalfd", no_argument, NULL, OPT_SIGNALFD},
        {"self-test", no_argument, NULL, OPT_SELF_TEST},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct monitor m; /* static: 69 sockaddr_storage are better off the stack */
    struct taker t;
    enum how how = BY_HANDLER;
    int udp = 2, testing = 0, opt;
    long max_notes = 0, seconds = 0;
    const char *how_option = NULL, *limit_option = NULL;
    char name[16];

    m.sig = SIGRTMIN + 1;
    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":u:s:n:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u': udp = (int)parse_long("-u", optarg, 1, UDP_MAX); break;
        case 's': m.sig = parse_signal("-s", optarg, SIG_KINDS); break;
        case 'n': max_notes = parse_long("-n", optarg, 0, 1000000000), limit_option = "-n"; break;
        case 't': seconds = parse_long("-t", optarg, 0, 86400), limit_option = "-t"; break;
        case OPT_HANDLER:
        case OPT_SIGWAITINFO:
        case OPT_SIGNALFD:
            /* One way to take the signal: two different ones are a contradiction. */
            if (how_option && how != (enum how)(opt - OPT_HANDLER))
                usage_error("%s and --%s exclude each other: one way to take the signal",
                            how_option, how_names[opt - OPT_HANDLER]);
            how = (enum how)(opt - OPT_HANDLER);
            how_option = argv[optind - 1];
            break;
        case OPT_SELF_TEST: testing = 1; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (testing && limit_option)
        usage_error("%s and --self-test exclude each other: the self-test ends by itself",
                    limit_option);

    /* -s 0 is taken: plain SIGIO, no siginfo (the self-test then fails, and says why). */
    open_all(&m, udp);
    int sig = m.sig ? m.sig : SIGIO;

    /* LAB: set-up-order — 1. a way to take the signal (handler or blocked), 2. owner and
     * signal, 3. O_ASYNC. Any other order can kill the process: the default action of
     * SIGIO and of every realtime signal is to terminate. */
    taker_init(&t, how, sig);
    arm(&m);

    printf("watching %d descriptors with %s (F_SETSIG %d), taken by %s:\n", m.count,
           signal_name(sig, name, sizeof name), m.sig, how_names[how]);
    for (int i = 0; i < m.count; i++)
        printf("  fd=%d kind=%s %s\n", m.w[i].fd, m.w[i].kind, m.w[i].detail);
    fflush(stdout);

    int status = EXIT_OK;
    long notes = 0, by_code[8] = {0};
    if (testing) {
        status = self_test(&m, &t) ? EXIT_OK : EXIT_FAIL;
    } else {
        int64_t deadline = seconds ? now_ns(CLOCK_MONOTONIC) + seconds * 1000000000LL : 0;
        struct note n;
        for (;;) {
            long wait_ms = -1;
            if (deadline) {
                wait_ms = (long)((deadline - now_ns(CLOCK_MONOTONIC)) / 1000000);
                if (wait_ms <= 0)
                    break;
            }
            int r = take(&t, wait_ms, &n);
            if (r <= 0)
                break; /* time is up, or SIGINT/SIGTERM */
            notes++;
            by_code[is_poll_code(n.code) ? n.code : 0]++;
            react(&m, &n, "");
            if (max_notes && notes >= max_notes)
                break;
        }
        printf("notifications=%ld poll_in=%ld poll_out=%ld poll_err=%ld poll_hup=%ld "
               "poll_pri=%ld sigio=%ld ring_lost=%d\n",
               notes, by_code[POLL_IN], by_code[POLL_OUT], by_code[POLL_ERR], by_code[POLL_HUP],
               by_code[POLL_PRI], by_code[0], (int)ring_lost);
    }
    for (int i = 0; i < m.count; i++) {
        if (m.w[i].via != m.w[i].fd)
            close(m.w[i].via);
        close(m.w[i].fd);
    }
    close(m.tx);
    if (t.sfd >= 0)
        close(t.sfd);
    return status;
}
