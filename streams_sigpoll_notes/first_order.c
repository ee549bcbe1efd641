/* SPDX-License-Identifier: MIT */
/*
 * first_order - start here: install the SIGIO handler before the owner and O_ASYNC, because
 * SIGIO (System V's SIGPOLL) ends the process by default.
 *
 * Demonstrates:
 *   - the three set-up calls of a signal-driven descriptor in the order that survives an
 *     event at any moment: handler, then owner (F_SETOWN), then O_ASYNC;
 *   - an event after each step ("poke"): before the owner and O_ASYNC are both set it raises
 *     no signal at all; after the last step it raises one SIGIO, which the handler catches;
 *   - the wrong order (-w: owner, O_ASYNC, handler): the poke after O_ASYNC finds SIGIO at
 *     its default action and the process dies (the shell says "I/O possible").
 *
 * Read with: UNP §25.2 (the three steps and why SVR4's SIGPOLL makes the order matter);
 * APUE §14.5.1; chapters/streams_sigpoll_notes.md "Start here".
 *
 * Usage: first_order [-w]
 *   -w  the wrong order, on purpose: owner and O_ASYNC first, the handler last
 *
 * Try it:
 *   ./first_order
 *   ./first_order -w; echo "exit status $?"     # 157 = 128 + 29: killed by SIGIO
 *
 * What to observe:
 *   - "step=handler sigio=0", "step=owner sigio=0", "step=async sigio=1", then
 *     "order=handler,owner,async pokes=3 sigio=1 bytes=3": every poke's byte arrived, and
 *     only the one made after all three steps was signalled;
 *   - with -w, "step=owner sigio=0" and then nothing: the poke after "async" killed it.
 *
 * Linux notes: signal(7) gives SIGIO ("I/O possible") the default action Term, as SVR4 did
 * for SIGPOLL; on the BSDs it is ignored by default. An AF_UNIX socket raises SIGIO inside
 * the sender's send(), so each poke's signal, if any, has come when send() returns.
 */
#include "labutil.h"

#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t sigio_count;

static void on_sigio(int sig)
{
    (void)sig;
    sigio_count++; /* nothing else: main reads the data */
}

static void usage(FILE *out)
{
    fprintf(out, "usage: %s [-w]\n  -w  the wrong order on purpose: owner and O_ASYNC first, "
                 "the handler last (SIGIO then kills it)\n  -h  this help\n", lab_prog);
}

/* poke - an event at the worst moment: the peer sends one byte to fd's socket right after a
 * set-up step. If fd is signal-driven by then, SIGIO is raised inside this send(). */
static void poke(int peer, const char *step)
{
    if (send(peer, "p", 1, MSG_NOSIGNAL) != 1)
        die("send(%d)", peer);
    printf("step=%s sigio=%d\n", step, (int)sigio_count);
}

static void set_owner(int fd)
{
    if (fcntl(fd, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN, %d)", fd, (int)getpid());
}

/* The wrong order, on purpose (-w): the poke after "async" ends the process. */
static void setup_wrong(int fd, int peer)
{
    set_owner(fd);
    poke(peer, "owner");
    set_fl(fd, O_ASYNC);
    poke(peer, "async");
    on_signal(SIGIO, on_sigio, 0);
    poke(peer, "handler");
}

/* LAB: handler-first — the set-up of fd, with a poke from peer after every step. */
static void setup(int fd, int peer)
{
    on_signal(SIGIO, on_sigio, 0); /* 1. the handler: from now on SIGIO is caught */
    poke(peer, "handler");
    set_owner(fd);                 /* 2. the owner: who gets the signal */
    poke(peer, "owner");
    set_fl(fd, O_ASYNC);           /* 3. the switch: from now on events raise SIGIO */
    poke(peer, "async");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int wrong = 0, opt, sv[2];
    char buf[64];

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":wh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'w': wrong = 1; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    /* Started with SIGIO ignored (ignored signals stay ignored across exec), the wrong order
     * would survive: put back the default action a program that never touched it has. */
    on_signal(SIGIO, SIG_DFL, 0);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die("socketpair(AF_UNIX, SOCK_STREAM)");
    set_fl(sv[0], O_NONBLOCK);
    if (wrong)
        setup_wrong(sv[0], sv[1]);
    else
        setup(sv[0], sv[1]);

    /* Every poke's byte is waiting in sv[0], signalled or not. */
    ssize_t n = read(sv[0], buf, sizeof buf);
    if (n == -1)
        die("read(%d)", sv[0]);
    printf("order=%s pokes=3 sigio=%d bytes=%zd\n",
           wrong ? "owner,async,handler" : "handler,owner,async", (int)sigio_count, n);
    return sigio_count == 1 && n == 3 ? EXIT_OK : EXIT_FAIL;
}
