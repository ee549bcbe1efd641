/* SPDX-License-Identifier: MIT */
/*
 * listen_server - TCP line-echo server in which only the listening socket is signal-driven.
 *
 * Demonstrates:
 *   - the one TCP use of SIGIO that UNP §25.2 recommends: on a listening socket a signal
 *     means "a connection has completed", and nothing else (--siginfo checks every one);
 *   - one signal standing for several connections: on each SIGIO the server accepts until
 *     EAGAIN and counts accepts per signal (the histogram on SIGHUP, as in UNP §25.3);
 *   - accept() on Linux hands back a socket with none of the listener's O_ASYNC, O_NONBLOCK
 *     or owner, so each connection is served with ordinary blocking I/O by a child process,
 *     and the children never receive a SIGIO;
 *   - SIGIO and SIGCHLD taken in one loop: block them, then wait in sigsuspend.
 *
 * Read with: UNP §25.2 ("SIGIO with TCP Sockets", last paragraph); chapters/tcp_sigio_listen.md.
 *
 * Usage: listen_server [-p PORT] [-a ADDR | -6] [-b BACKLOG] [-c MAX] [-i SECS] [-L BYTES]
 *                      [--siginfo] [--owner pid|group] [-v]
 *   -p PORT    TCP port (default 9026; 0 = the kernel chooses, printed on the first line)
 *   -a ADDR    address to bind (default 127.0.0.1); -6 is short for -a ::1
 *   -b N       listen() backlog (default 1024; the kernel caps it at net.core.somaxconn)
 *   -c MAX     accept MAX connections, wait for their children, print the summary, exit
 *   -i SECS    a child closes a connection idle for SECS seconds (default 10)
 *   -L BYTES   longest line, newline included (default 1024); a longer one ends the connection
 *   --siginfo  F_SETSIG(SIGIO) + SA_SIGINFO: check that every signal is POLL_IN on the listener
 *   --owner W  who gets the signal: pid (default: this process) or group (this process's
 *              group, made its own first, so children that share the listener get it too)
 *   -v         one line per signal: signal=N accepted=K (and si_code, si_fd, si_band)
 *
 * Try it:
 *   ./listen_server -p 9026 --siginfo -v &
 *   ./connect_burst -p 9026 -k 1               # one connection: signal=1 accepted=1
 *   ./connect_burst -p 9026 -k 100             # fewer signals than connections
 *   kill -HUP %1; kill %1                      # the histogram, then the summary
 *
 * What to observe:
 *   - "listener_fd=3 nonblock=1 async=1 owner=PID" but "accepted_fd=4 nonblock=0 async=0
 *     owner=0": accept() carried nothing over;
 *   - "child_pid=C listener_owner=PID parent_pid=PID": the child shares the listener, but
 *     the owner, and so every SIGIO, stays with the parent;
 *   - on SIGHUP "reads=K signals=M" lines (K = connections accepted for one signal), then
 *     "signals_total=S connections_total=C"; S = C when connections come one at a time,
 *     S < C under a burst;
 *   - on SIGTERM "signals=S connections=C served=C ... child_sigio=0 unexpected=0".
 *
 * Linux notes: BSD's accept() (the book's system) gives the new socket the listener's
 * O_NONBLOCK, O_ASYNC and SIGIO owner; Linux gives it none of them (accept(2) NOTES). The
 * signal is raised when the handshake completes, never for a bare SYN. PR_SET_PDEATHSIG
 * (Linux only) ends a child whose parent was killed outright.
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * How a child tells the parent how its connection ended: its exit status. The parent adds
 * them up for the summary line.
 */
enum {
    CHILD_DONE = 0,         /* the client closed after whole lines */
    CHILD_FAILED = 1,       /* a system call failed (die() exits with 1) */
    CHILD_IDLE = 2,         /* nothing came (or nothing could be sent) for -i seconds */
    CHILD_TOO_LONG = 3,     /* a line longer than -L bytes: told the client, closed */
    CHILD_MID_LINE = 4,     /* the client closed in the middle of a line (not echoed) */
    CHILD_RESET = 5,        /* the client reset the connection */
    CHILD_GOT_SIGIO = 0x40  /* added to the above: a SIGIO was waiting for the child */
};

/* After a line that is too long, read and drop at most this much before closing. */
#define DRAIN_MAX (1024 * 1024)

/*
 * What the handlers share with the main loop (chapters/README.md, "Data a handler shares"). Every one of
 * these signals is blocked except while the loop sleeps in sigsuspend(), so a handler never
 * runs while the loop reads or resets these, and plain types would be safe (rule 2). They
 * are lone flags and counters, so they are volatile sig_atomic_t all the same (rule 1):
 * right even if the loop came to look at them with the signals let in.
 */
static volatile sig_atomic_t sigio_pending;   /* SIGIO deliveries since the loop last looked */
static volatile sig_atomic_t chld_pending;    /* set by SIGCHLD: some child has ended */
static volatile sig_atomic_t hup_pending;     /* set by SIGHUP: print the histogram */
static volatile sig_atomic_t stop_requested;  /* set by SIGINT/SIGTERM */
/* --siginfo: what the last SIGIO carried, and how many were not "POLL_IN on the listener". */
static volatile sig_atomic_t last_code, last_fd, last_band, unexpected_pending;
/* The listener's number, written once before the handlers are installed; only read by them
 * (rule 3: a plain type). */
static int listener_for_handler = -1;

static void on_sigio(int sig)
{
    int saved = errno;

    (void)sig;
    sigio_pending++;
    errno = saved;
}

/* --siginfo: the kernel filled si_code, si_fd and si_band because F_SETSIG was set (without
 * it si_code would be SI_KERNEL and the rest meaningless). A completed connection on the
 * listener is POLL_IN with si_fd = the listener; anything else would contradict the claim. */
static void on_sigio_info(int sig, siginfo_t *si, void *ctx)
{
    int saved = errno;

    (void)sig;
    (void)ctx;
    sigio_pending++;
    last_code = si->si_code;
    last_fd = si->si_fd;
    last_band = (sig_atomic_t)si->si_band;
    if (si->si_code != POLL_IN || si->si_fd != listener_for_handler)
        unexpected_pending++;
    errno = saved;
}

static void on_sigchld(int sig)
{
    (void)sig;
    chld_pending = 1;
}

static void on_sighup(int sig)
{
    (void)sig;
    hup_pending = 1;
}

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct server {
    int lfd;                 /* the listening socket; -1 once -c MAX is reached */
    long max_conns;          /* -c; 0 = no limit */
    long idle_s;             /* -i */
    size_t line_max;         /* -L */
    int verbose, siginfo;
    int owner_group;         /* --owner group: a SIGIO to a child is expected, not a failure */
    uint64_t signals, connections, served, idle, too_long, mid_line, reset, killed, failed;
    uint64_t child_sigio, unexpected, aborted, fork_failed;
    uint64_t *hist;          /* hist[k] = signals for which k connections were accepted */
    size_t hist_len;
    pid_t *live;             /* children still running (or not yet reaped) */
    size_t nlive, live_cap;
    int shown_accepted;      /* the first accepted socket's flags have been printed */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-p PORT] [-a ADDR | -6] [-b BACKLOG] [-c MAX] [-i SECS] [-L BYTES] [--siginfo]\n"
            "          [--owner pid|group] [-v]\n"
            "  -p PORT    TCP port to listen on (default 9026; 0 = kernel chooses)\n"
            "  -a ADDR    address to bind (default 127.0.0.1); -6 = -a ::1\n"
            "  -b N       listen backlog (default 1024, 1 to 65535)\n"
            "  -c MAX     stop after MAX connections have been served (default: no limit)\n"
            "  -i SECS    close a connection idle for SECS seconds (default 10, 1 to 3600)\n"
            "  -L BYTES   longest line with its newline (default 1024, 2 to 1048576)\n"
            "  --siginfo  F_SETSIG(SIGIO) and SA_SIGINFO: check si_code and si_fd of every signal\n"
            "  --owner W  F_SETOWN to this process (pid, default) or to its own process group (group)\n"
            "  -v         print one line per signal\n"
            "  -h         this help\n"
            "SIGHUP prints the accepts-per-signal histogram and the counters so far;\n"
            "SIGINT/SIGTERM end with a summary.\n"
            "example: %s -p 0 --siginfo -v\n",
            lab_prog, lab_prog);
}

/* ---- the parent's bookkeeping --------------------------------------------------------- */

/* grow - array, reallocated if needed to hold at least `need` elements of elem bytes (the
 * capacity doubles; new elements are zero). Updates *cap. */
static void *grow(void *array, size_t *cap, size_t need, size_t elem)
{
    size_t newcap = *cap ? *cap : 16;

    while (newcap < need)
        newcap *= 2;
    if (newcap == *cap)
        return array;
    char *p = realloc(array, newcap * elem);
    if (p) {
        memset(p + *cap * elem, 0, (newcap - *cap) * elem);
        *cap = newcap;
        return p;
    }
    fail("out of memory for %zu entries", newcap);
}

static void hist_add(struct server *s, long accepted)
{
    size_t k = (size_t)accepted;

    s->hist = grow(s->hist, &s->hist_len, k + 1, sizeof *s->hist);
    s->hist[k]++;
}

static void live_add(struct server *s, pid_t pid)
{
    s->live = grow(s->live, &s->live_cap, s->nlive + 1, sizeof *s->live);
    s->live[s->nlive++] = pid;
}

static void live_remove(struct server *s, pid_t pid)
{
    for (size_t i = 0; i < s->nlive; i++) {
        if (s->live[i] == pid) {
            s->live[i] = s->live[--s->nlive];
            return;
        }
    }
}

/* print_histogram - the SIGHUP report, in the udp_sigio lab's format. */
static void print_histogram(const struct server *s)
{
    for (size_t k = 0; k < s->hist_len; k++)
        if (s->hist[k])
            printf("reads=%zu signals=%" PRIu64 "\n", k, s->hist[k]);
    printf("signals_total=%" PRIu64 " connections_total=%" PRIu64 "\n", s->signals, s->connections);
}

/* print_counters - the summary line; after the histogram on SIGHUP with "sighup " in front. */
static void print_counters(const char *prefix, const struct server *s)
{
    printf("%ssignals=%" PRIu64 " connections=%" PRIu64 " served=%" PRIu64 " idle=%" PRIu64
           " too_long=%" PRIu64 " mid_line=%" PRIu64 " reset=%" PRIu64 " killed=%" PRIu64
           " failed=%" PRIu64 " aborted=%" PRIu64 " fork_failed=%" PRIu64 " child_sigio=%" PRIu64
           " unexpected=%" PRIu64 "\n",
           prefix, s->signals, s->connections, s->served, s->idle, s->too_long, s->mid_line,
           s->reset, s->killed, s->failed, s->aborted, s->fork_failed, s->child_sigio,
           s->unexpected);
}

/* print_flags - what F_GETFL, F_GETOWN and F_GETSIG say about fd, as one key=value line. */
static void print_flags(const char *what, int fd)
{
    char name[16];
    int fl = fcntl(fd, F_GETFL);
    int owner = fcntl(fd, F_GETOWN);
    int sig = fcntl(fd, F_GETSIG);

    if (fl == -1 || sig == -1)
        die("fcntl(%d, F_GETFL/F_GETSIG)", fd);
    printf("%s_fd=%d nonblock=%d async=%d owner=%d setsig=%s\n", what, fd, !!(fl & O_NONBLOCK),
           !!(fl & O_ASYNC), owner, sig ? signal_name(sig, name, sizeof name) : "0");
}

/* ---- the child: one connection, blocking I/O ------------------------------------------ */

/* send_all - the whole of buf, however many send() calls it takes. MSG_NOSIGNAL: a client
 * that has gone gives EPIPE here instead of a SIGPIPE that would kill the child. */
static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* how_it_ended - the child's outcome for a failed recv() or send(). */
static int how_it_ended(int fd, const char *call)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return CHILD_IDLE; /* SO_RCVTIMEO / SO_SNDTIMEO ran out */
    if (errno == ECONNRESET || errno == EPIPE)
        return CHILD_RESET;
    die("%s(%d)", call, fd);
}

/*
 * echo_lines - read lines from fd and send each complete one back, until the client closes.
 * Returns the child's outcome (CHILD_*).
 *
 * LAB: line-policy — the server deals in whole lines of at most line_max bytes. A longer
 * line ends the connection with a message, so one client cannot make a child hold an
 * unbounded line. The piece after the last newline is not a line: if the client closes
 * there, it is dropped and counted, not echoed.
 */
static int echo_lines(int fd, char *buf, size_t line_max)
{
    size_t used = 0;

    for (;;) {
        ssize_t n = recv(fd, buf + used, line_max - used, 0);
        if (n == 0)
            return used ? CHILD_MID_LINE : CHILD_DONE;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int outcome = how_it_ended(fd, "recv");
            if (outcome == CHILD_IDLE) {
                static const char msg[] = "error: idle too long, closing\n";
                (void)send_all(fd, msg, sizeof msg - 1); /* a courtesy; it may fail */
            }
            return outcome;
        }
        used += (size_t)n;
        char *nl = memrchr(buf, '\n', used);
        if (nl) {
            size_t len = (size_t)(nl - buf) + 1;
            if (send_all(fd, buf, len) < 0)
                return how_it_ended(fd, "send");
            memmove(buf, buf + len, used - len);
            used -= len;
        } else if (used == line_max) {
            char msg[80];
            int len = snprintf(msg, sizeof msg, "error: line longer than %zu bytes, closing\n", line_max);
            (void)send_all(fd, msg, (size_t)len);
            /* Read and drop what is still coming, until the client closes, goes quiet or
             * has sent DRAIN_MAX more: closing with unread data would answer with a RST,
             * and the RST could destroy the message before the client reads it. */
            if (shutdown(fd, SHUT_WR) == -1 && errno != ENOTCONN)
                die("shutdown(%d, SHUT_WR)", fd);
            for (size_t dropped = 0; dropped < DRAIN_MAX; dropped += (size_t)n)
                if ((n = recv(fd, buf, line_max, 0)) <= 0)
                    break;
            return CHILD_TOO_LONG;
        }
    }
}

/*
 * child_main - the child's whole life: one connection, ordinary blocking I/O, then _exit with
 * the outcome. Runs right after fork(), with SIGIO, SIGCHLD, SIGHUP, SIGINT and SIGTERM still
 * blocked (the child inherits the parent's mask and handlers).
 */
static _Noreturn void child_main(const struct server *s, int cfd, pid_t parent)
{
    sigset_t pending;
    int outcome;

    /* Nothing left running: if the parent is killed outright (SIGKILL, so it cannot stop
     * us), the kernel sends us SIGTERM. The parent may already be gone: check after. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
        die("prctl(PR_SET_PDEATHSIG, SIGTERM)");
    if (getppid() != parent)
        _exit(CHILD_FAILED);

    /* LAB: child-owner-check — the child holds the listening socket too (fork shares the
     * open file description), but the owner lives in that description and still names the
     * parent: the kernel has no reason to signal the child. */
    int owner = fcntl(s->lfd, F_GETOWN);
    if (s->connections == 1) {
        printf("child_pid=%ld listener_owner=%d parent_pid=%ld\n", (long)getpid(), owner, (long)parent);
        fflush(stdout);
    }
    close(s->lfd); /* a child serves its connection, never the listener */

    /* LAB: child-signals — the parent's handlers make no sense here. SIGTERM, SIGINT and
     * SIGHUP go back to their default (so the parent's SIGTERM ends us) before they are
     * unblocked, in that order, or one that is already pending would only set a flag.
     * SIGIO stays blocked, on purpose: any SIGIO sent to this child stays pending, and
     * sigpending() below finds it. */
    on_signal(SIGTERM, SIG_DFL, 0);
    on_signal(SIGINT, SIG_DFL, 0);
    on_signal(SIGHUP, SIG_DFL, 0);
    unblock_signal(SIGTERM);
    unblock_signal(SIGINT);
    unblock_signal(SIGHUP);

    /* Bound the child's life: a client that sends nothing, or reads nothing, is dropped
     * after -i seconds (recv/send then fail with EAGAIN). */
    struct timeval idle = {.tv_sec = s->idle_s, .tv_usec = 0};
    if (setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle) == -1 ||
        setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof idle) == -1)
        die("setsockopt(%d, SO_RCVTIMEO/SO_SNDTIMEO, %ld s)", cfd, s->idle_s);

    char *buf = malloc(s->line_max);
    if (!buf)
        fail("out of memory for a %zu-byte line", s->line_max);
    outcome = echo_lines(cfd, buf, s->line_max);
    free(buf);
    close(cfd);

    /* LAB: child-sigio-check — did the kernel send this child a SIGIO while it served? */
    if (sigpending(&pending) == -1)
        die("sigpending");
    if (sigismember(&pending, SIGIO)) {
        fprintf(stderr, "%s: child %ld: a SIGIO was sent to the child\n", lab_prog, (long)getpid());
        outcome |= CHILD_GOT_SIGIO;
    }
    _exit(outcome); /* _exit: the parent's stdio buffers and atexit work are not ours */
}

/* ---- the parent: accept, fork, reap ---------------------------------------------------- */

/* record_child - count how a child's connection ended (its exit status). */
static void record_child(struct server *s, pid_t pid, int status)
{
    live_remove(s, pid);
    if (WIFSIGNALED(status)) {
        s->killed++;
        return;
    }
    int code = WEXITSTATUS(status);
    if (code & CHILD_GOT_SIGIO)
        s->child_sigio++;
    switch (code & ~CHILD_GOT_SIGIO) {
    case CHILD_DONE: s->served++; break;
    case CHILD_IDLE: s->served++; s->idle++; break;
    case CHILD_TOO_LONG: s->served++; s->too_long++; break;
    case CHILD_MID_LINE: s->served++; s->mid_line++; break;
    case CHILD_RESET: s->served++; s->reset++; break;
    default: s->failed++; break;
    }
}

/*
 * reap - collect every child that has ended. Called with SIGCHLD blocked. SIGCHLD is a
 * standard signal, so one delivery may stand for several children, exactly like SIGIO for
 * several connections: keep calling waitpid until it says nobody else has ended. With block
 * set, wait until every child is gone.
 *
 * LAB: reap-all
 */
static void reap(struct server *s, int block)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, block ? 0 : WNOHANG);
        if (pid == 0)
            return; /* children remain, none has ended */
        if (pid == -1) {
            if (errno == ECHILD)
                return; /* no children at all */
            if (errno == EINTR)
                continue;
            die("waitpid");
        }
        record_child(s, pid, status);
    }
}

/*
 * start_child - fork a child to serve cfd, and close the parent's copy of it.
 *
 * LAB: child-per-connection — the accepted socket is blocking and has no owner, so a child
 * can serve it with plain recv/send while the parent goes back to waiting for signals.
 */
static void start_child(struct server *s, int cfd)
{
    pid_t parent = getpid();

    fflush(stdout); /* or the child would inherit unwritten output and print it again */
    pid_t pid = fork();
    if (pid == -1) {
        warn_errno("fork (connection %" PRIu64 " closed unserved)", s->connections);
        s->fork_failed++;
        close(cfd);
        return;
    }
    if (pid == 0)
        child_main(s, cfd, parent);
    live_add(s, pid);
    /* The parent's copy must go, or every connection leaks a descriptor and, worse, the
     * client never sees the connection close when the child is done with it. */
    close(cfd);
}

/*
 * accept_all - accept every connection waiting on the listener, starting a child for each.
 * Returns how many it accepted. Called with all the signals blocked.
 *
 * LAB: accept-until-eagain — one SIGIO may stand for many completed connections (SIGIO is
 * not queued), and a connection may also be gone by the time we look (accept(2) NOTES).
 * So: accept until the non-blocking listener says EAGAIN. Stopping earlier would leave
 * connections in the queue with no signal to come for them until yet another one arrives.
 */
static long accept_all(struct server *s)
{
    long accepted = 0;

    while (s->lfd >= 0) {
        int cfd = accept(s->lfd, NULL, NULL);
        if (cfd == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break; /* drained */
            if (errno == ECONNABORTED) {
                s->aborted++; /* the client gave up before we got to it */
                continue;
            }
            /* Linux passes some network errors of the new connection to accept(); accept(2)
             * says to treat them like EAGAIN and try again. */
            if (errno == ENETDOWN || errno == EPROTO || errno == ENOPROTOOPT ||
                errno == EHOSTDOWN || errno == ENONET || errno == EHOSTUNREACH ||
                errno == EOPNOTSUPP || errno == ENETUNREACH)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors or memory: what is queued stays queued, and only the
                 * next connection's signal brings us back. */
                warn_errno("accept(%d)", s->lfd);
                break;
            }
            die("accept(%d)", s->lfd);
        }
        accepted++;
        s->connections++;
        /* LAB: accepted-inherits-nothing — on Linux the new socket has no O_ASYNC, no
         * O_NONBLOCK and no owner, whatever the listener has (BSD would copy them). */
        if (!s->shown_accepted) {
            print_flags("accepted", cfd);
            s->shown_accepted = 1;
        }
        start_child(s, cfd);
        if (s->max_conns && s->connections >= (uint64_t)s->max_conns) {
            /* -c MAX: no more. Later clients are refused instead of left waiting. */
            close(s->lfd);
            s->lfd = -1;
            printf("accepted %ld connections (-c): not listening any more\n", s->max_conns);
        }
    }
    return accepted;
}

/* handle_sigio - the loop's answer to `got` SIGIO deliveries since it last looked. */
static void handle_sigio(struct server *s, int got)
{
    char code[16], band[64];

    for (int i = 0; i < got; i++) {
        /* Several deliveries in one wake are rare; the accepts go to the last of them. */
        long accepted = i == got - 1 ? accept_all(s) : 0;
        s->signals++;
        hist_add(s, accepted);
        if (!s->verbose)
            continue;
        if (s->siginfo)
            printf("signal=%" PRIu64 " accepted=%ld si_code=%s si_fd=%d si_band=%s\n", s->signals,
                   accepted, sicode_name(last_code, code, sizeof code), (int)last_fd,
                   band_names(last_band, band, sizeof band));
        else
            printf("signal=%" PRIu64 " accepted=%ld\n", s->signals, accepted);
    }
}

/* stop_children - SIGTERM to every child still running, then wait for all of them. */
static void stop_children(struct server *s)
{
    for (size_t i = 0; i < s->nlive; i++)
        if (kill(s->live[i], SIGTERM) == -1 && errno != ESRCH)
            die("kill(%ld, SIGTERM)", (long)s->live[i]);
    reap(s, 1);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"siginfo", no_argument, NULL, 'S'},
        {"owner", required_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const int handled[] = {SIGIO, SIGCHLD, SIGHUP, SIGINT, SIGTERM};
    const char *addr_text = "127.0.0.1";
    int addr_given = 0, six = 0;
    int port = 9026, opt;
    long backlog = 1024;
    struct server s = {.lfd = -1, .idle_s = 10, .line_max = 1024};
    struct sockaddr_storage addr;
    sigset_t block, run_mask;
    char name[16];

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":p:a:6b:c:i:L:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p': port = parse_port("-p", optarg); break;
        case 'a': addr_text = optarg, addr_given = 1; break;
        case '6': six = 1; break;
        case 'b': backlog = parse_long("-b", optarg, 1, 65535); break;
        case 'c': s.max_conns = parse_long("-c", optarg, 1, 100000000); break;
        case 'i': s.idle_s = parse_long("-i", optarg, 1, 3600); break;
        case 'L': s.line_max = (size_t)parse_long("-L", optarg, 2, 1048576); break;
        case 'S': s.siginfo = 1; break;
        case 'O':
            if (strcmp(optarg, "pid") && strcmp(optarg, "group"))
                usage_error("--owner: '%s' is not pid or group", optarg);
            s.owner_group = !strcmp(optarg, "group");
            break;
        case 'v': s.verbose = 1; break;
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
    s.lfd = bound_socket(SOCK_STREAM, &addr, addrlen);
    if (listen(s.lfd, (int)backlog) == -1)
        die("listen(%d, %ld)", s.lfd, backlog);

    /* LAB: block-first — block every signal the loop handles before anything can raise one:
     * they are let through only inside sigsuspend(), so no handler ever runs in the middle
     * of the loop's work, and none can arrive between "nothing to do" and "sleep". */
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigaddset(&block, handled[i]);
    if (sigprocmask(SIG_BLOCK, &block, &run_mask) == -1)
        die("sigprocmask(SIG_BLOCK)");
    /* The mask to sleep with: the one we started with, so the five can come in. */
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
        sigdelset(&run_mask, handled[i]);

    /* LAB: handler-before-owner — SIGIO's default action ends the process, so its handler
     * is in place before any owner is named. */
    listener_for_handler = s.lfd;
    if (s.siginfo)
        on_siginfo(SIGIO, on_sigio_info, 0);
    else
        on_signal(SIGIO, on_sigio, 0);
    on_signal(SIGCHLD, on_sigchld, SA_NOCLDSTOP);
    on_signal(SIGHUP, on_sighup, 0);
    on_signal(SIGINT, on_stop, 0);
    on_signal(SIGTERM, on_stop, 0);

    /* LAB: owner-is-the-parent — this process, by PID (not its process group): the
     * children forked later share the listener but receive nothing. */
    pid_t owner = getpid();
    if (s.owner_group) {
        /* LAB: owner-group — --owner group: a negative owner names a process group, and
         * every member gets the signal. The group is made this process's own first: a
         * group shared with the shell that started us would get SIGIO too, and its
         * default action ends a process. */
        if (getpgrp() != getpid() && setpgid(0, 0) == -1)
            die("setpgid(0, 0)");
        owner = -getpgrp();
    }
    if (fcntl(s.lfd, F_SETOWN, owner) == -1)
        die("fcntl(%d, F_SETOWN, %ld)", s.lfd, (long)owner);
    /* LAB: setsig-for-siginfo — F_SETSIG even to SIGIO itself makes the kernel fill si_code,
     * si_fd and si_band. SIGIO stays a standard signal: still not queued. */
    if (s.siginfo && fcntl(s.lfd, F_SETSIG, SIGIO) == -1)
        die("fcntl(%d, F_SETSIG, %s)", s.lfd, signal_name(SIGIO, name, sizeof name));

    /* LAB: nonblock-then-async — non-blocking because every signal is answered with "accept
     * until EAGAIN", which must not end up sleeping in accept(); O_ASYNC last, when handler
     * and owner are ready. */
    set_fl(s.lfd, O_NONBLOCK | O_ASYNC);

    announce_listening(s.lfd);
    print_flags("listener", s.lfd);

    /* A connection completed before O_ASYNC was on raised no signal and never will: take
     * whatever is already queued before the first sleep. (With -p 0 nobody knew the port
     * yet, so this finds nothing; on a fixed port an eager client may be there.) */
    long early = accept_all(&s);
    if (early)
        printf("accepted %ld connection(s) that came before O_ASYNC was on\n", early);

    /* LAB: wait-in-sigsuspend — the whole server: sleep with the signals let in, then do
     * what the handlers noted, with the signals blocked again. */
    for (;;) {
        if (stop_requested)
            break;
        if (s.max_conns && s.lfd < 0 && s.nlive == 0)
            break; /* -c MAX reached and every child is done */
        sigsuspend(&run_mask); /* returns -1 EINTR once a handler has run */

        int got = sigio_pending, bad = unexpected_pending;
        sigio_pending = 0;
        unexpected_pending = 0;
        if (bad) {
            char code[16];
            s.unexpected += (uint64_t)bad;
            fprintf(stderr, "%s: unexpected signal: si_code=%s si_fd=%d (listener is %d)\n", lab_prog,
                    sicode_name(last_code, code, sizeof code), (int)last_fd, (int)listener_for_handler);
        }
        if (got)
            handle_sigio(&s, got);
        if (chld_pending) {
            chld_pending = 0;
            reap(&s, 0);
        }
        if (hup_pending) {
            hup_pending = 0;
            print_histogram(&s);
            print_counters("sighup ", &s);
        }
    }

    /* LAB: stop-children — nothing left running: end the children, then wait for them. */
    if (s.lfd >= 0)
        close(s.lfd);
    stop_children(&s);

    print_counters("", &s);
    free(s.hist);
    free(s.live);
    if (s.owner_group)
        s.child_sigio = 0; /* expected with a group as owner: reported above, not a failure */
    if (s.unexpected || s.child_sigio) {
        fprintf(stderr, "%s: check failed: %" PRIu64 " signal(s) that were not a completed connection, "
                "%" PRIu64 " child(ren) sent a SIGIO\n", lab_prog, s.unexpected, s.child_sigio);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
