/* SPDX-License-Identifier: MIT */
/*
 * setup_steps - leave out one of the three set-up steps, or ignore SIGIO, and see what
 * happens: on a UDP socket, a pipe, or a pseudoterminal the program opens itself.
 *
 * Demonstrates:
 *   - without the handler the first notification kills the process (SIGIO's default
 *     action; exit status 157 in the shell);
 *   - without F_SETOWN a socket or a pipe has no owner and sends nothing, with no error;
 *   - without O_ASYNC nothing is sent either, owner or not;
 *   - a terminal is different: switching O_ASYNC on makes the terminal choose the owner
 *     itself, if none was set (its foreground process group if it has one, else the
 *     caller), so SIGIO comes with no F_SETOWN at all;
 *   - SIGIO set to SIG_IGN: the notification is thrown away when it is generated; a
 *     handler installed afterwards never hears of the data waiting in the descriptor.
 *
 * Read with: UNP §25.2 (the three steps); APUE §14.5.2 (the BSD steps; an ignored SIGIO);
 * TLPI §63.3 (its example uses a terminal); chapters/udp_sigio.md "The three steps" and
 * "No owner, no signal".
 *
 * Usage: setup_steps [-k KIND] [--skip STEP] [--ignore] [--ctty] [-t MS]
 *   -k KIND      udp, pipe or pty (default udp)
 *   --skip STEP  leave out one step: handler, owner or enable (default: none)
 *   --ignore     SIGIO set to SIG_IGN while the event happens, the handler installed after
 *   --ctty       pty only: a child in a session of its own makes the pty its controlling
 *                terminal first and runs the probe, so the terminal has a foreground group
 *   -t MS        how long to wait for a SIGIO after the event (default 200)
 *
 * Try it:
 *   ./setup_steps                       # all three steps: sigio_calls=1
 *   ./setup_steps --skip handler; echo $?   # killed by SIGIO: 157
 *   ./setup_steps --skip owner          # F_GETOWN=0, sigio_calls=0
 *   ./setup_steps -k pty --skip owner   # yet the terminal names an owner: sigio_calls=1
 *   ./setup_steps -k pty --ctty         # the owner is the terminal's process group
 *   ./setup_steps -k pipe --ignore      # sigio_calls=0, readable=1
 *
 * What to observe:
 *   - the "setup" line: F_GETOWN after step 2 (owner_set=) and after step 3 (owner_now=);
 *     on a socket or a pipe they are equal; on a terminal without F_SETOWN step 3 turns
 *     0 into our pid, or with --ctty into minus our process group;
 *   - the "result" line: sigio_calls= (handler calls), readable= (data is waiting).
 *
 * Linux notes: drivers/tty/tty_io.c __tty_fasync() names an owner when O_ASYNC is switched
 * on for a terminal: its foreground process group (F_GETOWN negative) or, with none, the
 * calling process; it does not replace an owner set before (fs/fcntl.c f_modown() without
 * force). Sockets and pipes leave the owner alone, and with owner 0 nothing is sent. An ignored signal that is not blocked is discarded when it is generated
 * (kernel/signal.c sig_ignored()); a blocked one stays pending, since a handler may be
 * installed before it is unblocked.
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum kind { KIND_UDP, KIND_PIPE, KIND_PTY };
static const char *const kind_names[] = {"udp", "pipe", "pty"};
enum skip { SKIP_NONE, SKIP_HANDLER, SKIP_OWNER, SKIP_ENABLE };
static const char *const skip_names[] = {"none", "handler", "owner", "enable"};

/* Shared with the handler (chapters/README.md, "Data a handler shares"): main reads it
 * only with SIGIO blocked, but it is a lone counter, so it is a volatile sig_atomic_t
 * all the same and main may look at it any time. */
static volatile sig_atomic_t sigio_calls;

static void on_sigio(int sig)
{
    (void)sig;
    sigio_calls = sigio_calls + 1; /* the only writer; SIGIO is blocked while it runs */
}

/* The descriptor under test (fd, where O_ASYNC goes) and the one that makes its event. */
struct subject {
    int fd, feed;
};

static void check(int ret, const char *what)
{
    if (ret == -1)
        die("%s", what);
}

/* open_subject - LAB: pty-opened-here — a terminal of our own, no interactive shell
 * needed: posix_openpt gives the master, and what is written to the master is input on
 * the slave, which is what we watch (a program's stdin terminal is a slave too). With
 * ctty the slave is opened without O_NOCTTY by a session leader: it becomes that
 * session's controlling terminal, with the leader's group in the foreground. */
static struct subject open_subject(enum kind kind, int ctty)
{
    struct subject s = {-1, -1};
    int p[2];

    if (kind == KIND_UDP) {
        struct sockaddr_storage ss;
        socklen_t len = parse_addr("udp", "127.0.0.1", 0, &ss);
        s.fd = bound_socket(SOCK_DGRAM, &ss, len);
        s.feed = s.fd; /* it sends to itself */
    } else if (kind == KIND_PIPE) {
        check(pipe(p), "pipe");
        s.fd = p[0];
        s.feed = p[1];
    } else {
        int master = posix_openpt(O_RDWR | O_NOCTTY);
        const char *name;
        if (master == -1) {
            if (errno == ENOENT || errno == ENODEV)
                skip_exit("posix_openpt: no pseudoterminals here (%s)", errno_name(errno));
            die("posix_openpt");
        }
        check(grantpt(master), "grantpt");
        check(unlockpt(master), "unlockpt");
        name = ptsname(master);
        if (!name)
            die("ptsname");
        s.fd = open(name, O_RDWR | (ctty ? 0 : O_NOCTTY));
        if (s.fd == -1)
            die("open(%s)", name);
        s.feed = master;
    }
    return s;
}

/* make_event - input for s.fd: a datagram to itself, a byte into the pipe, a line typed
 * into the terminal (written to its master). */
static void make_event(enum kind kind, const struct subject *s)
{
    if (kind == KIND_UDP) {
        struct sockaddr_storage self;
        socklen_t len = sizeof self;
        check(getsockname(s->fd, (struct sockaddr *)&self, &len), "getsockname");
        check((int)sendto(s->fd, "x", 1, 0, (struct sockaddr *)&self, len), "sendto(self)");
    } else {
        check((int)write(s->feed, "x\n", 2), kind == KIND_PIPE ? "write(pipe)" : "write(pty master)");
    }
}

/* readable_within - does poll() find s.fd readable within ms milliseconds? */
static int readable_within(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int n;

    while ((n = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
        ;
    check(n, "poll");
    return n == 1 && (pfd.revents & POLLIN);
}

/* wait_for_sigio - with SIGIO blocked: let it in and sleep, at most ms milliseconds,
 * until the handler has run (LAB: block-then-wait in sigio_echo_server.c, with a time
 * limit). */
static void wait_for_sigio(long ms)
{
    int64_t until = now_ns(CLOCK_MONOTONIC) + (int64_t)ms * 1000000;
    sigset_t open_mask;

    check(sigprocmask(SIG_SETMASK, NULL, &open_mask), "sigprocmask");
    sigdelset(&open_mask, SIGIO);
    while (sigio_calls == 0) {
        int64_t left = until - now_ns(CLOCK_MONOTONIC);
        if (left <= 0)
            break;
        struct timespec ts = {.tv_sec = left / 1000000000, .tv_nsec = left % 1000000000};
        if (ppoll(NULL, 0, &ts, &open_mask) == -1 && errno != EINTR)
            die("ppoll");
    }
}

static int probe(enum kind kind, enum skip skip, int ignore, int ctty, long wait_ms)
{
    struct subject s = open_subject(kind, ctty);
    int owner_set, owner_now, fl;
    sigset_t pending;

    /* Nothing may arrive half-way: SIGIO stays blocked until the wait (LAB: block-first). */
    block_signal(SIGIO);

    /* LAB: step-handler — step 1, or its absence: the default action, or SIG_IGN. */
    if (ignore)
        on_signal(SIGIO, SIG_IGN, 0);
    else if (skip == SKIP_HANDLER)
        on_signal(SIGIO, SIG_DFL, 0);
    else
        on_signal(SIGIO, on_sigio, SA_RESTART);

    /* LAB: step-owner — step 2: F_SETOWN, or nothing. */
    if (skip != SKIP_OWNER)
        check(fcntl(s.fd, F_SETOWN, getpid()), "fcntl(F_SETOWN)");
    check(owner_set = fcntl(s.fd, F_GETOWN), "fcntl(F_GETOWN)");

    /* LAB: step-enable — step 3: O_ASYNC, or nothing. Read the owner back: a terminal
     * chooses one itself at this moment. */
    if (skip != SKIP_ENABLE)
        set_fl(s.fd, O_ASYNC | O_NONBLOCK);
    else
        set_fl(s.fd, O_NONBLOCK);
    check(owner_now = fcntl(s.fd, F_GETOWN), "fcntl(F_GETOWN)");
    check(fl = fcntl(s.fd, F_GETFL), "fcntl(F_GETFL)");
    printf("setup kind=%s skip=%s handler=%s owner_set=%d owner_now=%d pid=%d pgrp=%d o_async=%d\n",
           kind_names[kind], skip_names[skip],
           ignore ? "SIG_IGN" : (skip == SKIP_HANDLER ? "SIG_DFL" : "on_sigio"), owner_set,
           owner_now, (int)getpid(), (int)getpgrp(), (fl & O_ASYNC) != 0);
    fflush(stdout); /* the next lines may be the last this process runs */

    if (ignore) {
        /* LAB: ignored-is-discarded — an ignored signal is thrown away when generated,
         * but only if it is not blocked (a blocked one waits, in case a handler comes).
         * So let SIGIO in, make the event, wait until the data is there, and only then
         * install the handler: there is nothing left for it. */
        unblock_signal(SIGIO);
        make_event(kind, &s);
        if (!readable_within(s.fd, (int)wait_ms))
            fail("the event did not make fd %d readable within %ld ms", s.fd, wait_ms);
        block_signal(SIGIO);
        on_signal(SIGIO, on_sigio, SA_RESTART);
    } else {
        make_event(kind, &s);
        if (!readable_within(s.fd, (int)wait_ms))
            fail("the event did not make fd %d readable within %ld ms", s.fd, wait_ms);
    }
    check(sigpending(&pending), "sigpending");
    int was_pending = sigismember(&pending, SIGIO);
    /* Without a handler, this is where the process dies, if a SIGIO is pending. */
    wait_for_sigio(wait_ms);
    printf("result kind=%s skip=%s ignore=%d pending=%d sigio_calls=%d readable=%d\n",
           kind_names[kind], skip_names[skip], ignore, was_pending, (int)sigio_calls,
           readable_within(s.fd, 0));
    close(s.fd);
    if (s.feed != s.fd)
        close(s.feed);
    return EXIT_OK;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-k KIND] [--skip STEP] [--ignore] [--ctty] [-t MS]\n"
            "  -k KIND      udp, pipe or pty (default udp)\n"
            "  --skip STEP  leave out one step: handler, owner or enable (default: none)\n"
            "  --ignore     SIGIO is SIG_IGN when the event comes; the handler comes after\n"
            "  --ctty       pty only: the pty becomes a controlling terminal first (in a child)\n"
            "  -t MS        wait at most MS ms for SIGIO (default 200, 1 to 10000)\n"
            "  -h           this help\n"
            "example: %s -k pty --skip owner\n",
            lab_prog, lab_prog);
}

/* word_index - text's place in words[0..n-1], or a usage error naming the option and the
 * choices (listed in `choices`). */
static int word_index(const char *what, const char *text, const char *const *words, size_t n,
                      const char *choices)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(text, words[i]) == 0)
            return (int)i;
    usage_error("%s: '%s' is not one of %s", what, text, choices);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"skip", required_argument, NULL, 's'},
        {"ignore", no_argument, NULL, 'i'},
        {"ctty", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum kind kind = KIND_UDP;
    enum skip skip = SKIP_NONE;
    int ignore = 0, ctty = 0, opt;
    long wait_ms = 200;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":k:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k': kind = (enum kind)word_index("-k", optarg, kind_names, 3, "udp, pipe, pty"); break;
        case 's': skip = (enum skip)(1 + word_index("--skip", optarg, skip_names + 1, 3, "handler, owner, enable")); break;
        case 'i': ignore = 1; break;
        case 'c': ctty = 1; break;
        case 't': wait_ms = parse_long("-t", optarg, 1, 10000); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (ctty && kind != KIND_PTY)
        usage_error("--ctty: only with -k pty");
    if (ignore && skip == SKIP_HANDLER)
        usage_error("--ignore: replaces the handler already; not with --skip handler");

    if (!ctty)
        return probe(kind, skip, ignore, 0, wait_ms);

    /* LAB: pty-ctty — a session leader without a controlling terminal that opens a
     * terminal without O_NOCTTY acquires it. We are usually a group leader already, and
     * setsid() refuses a group leader, so a child does it. */
    fflush(stdout);
    pid_t child = fork();
    check(child, "fork");
    if (child == 0) {
        check(setsid(), "setsid");
        /* Closing the master at the end hangs the terminal up, and the kernel sends
         * SIGHUP to the session it controls: this child. That is not what we study. */
        on_signal(SIGHUP, SIG_IGN, 0);
        exit(probe(kind, skip, ignore, 1, wait_ms));
    }
    int status;
    while (waitpid(child, &status, 0) == -1)
        if (errno != EINTR)
            die("waitpid(%d)", (int)child);
    if (WIFSIGNALED(status)) {
        char name[16];
        printf("child killed_by=%s\n", signal_name(WTERMSIG(status), name, sizeof name));
        return EXIT_FAIL;
    }
    return WEXITSTATUS(status);
}
