/* SPDX-License-Identifier: MIT */
/*
 * first_echo - the smallest UDP echo server driven by SIGIO: read this one first.
 *
 * The right side of UNP Figure 25.1 with nothing else: a handler, an owner, O_ASYNC, a
 * handler that reads until EAGAIN, and the echo.
 *
 * Demonstrates:
 *   - the three set-up steps in the order that is safe: handler, owner, enable;
 *   - that one SIGIO means "the socket changed", not "one datagram": the handler reads
 *     until the socket says EAGAIN, and answers each datagram it found;
 *   - a main program that only sleeps: all the work happens when a signal arrives.
 *
 * Read with: UNP §25.2 (the three steps) and §25.3 (Figure 25.1, right);
 * chapters/udp_sigio.md "Start here".
 *
 * Usage: first_echo [-p PORT]
 *   -p PORT   UDP port on 127.0.0.1 (default 9025; 0 = the kernel chooses, printed first)
 *
 * Try it:
 *   ./first_echo -p 9025 &
 *   ./udp_echo_client -p 9025 -n 5
 *   kill %1        # datagrams=5 signals=N: one signal can stand for several datagrams
 *
 * What to observe:
 *   - the "setup" line: F_GETOWN is our pid, o_async=1 o_nonblock=1, handler=on_sigio;
 *   - at the end, datagrams= against signals=: under load signals is smaller.
 *
 * Linux notes: SIGIO is SIGPOLL on Linux, and its default action ends the process, hence
 * the handler first. F_SETFL O_ASYNC works on every Linux socket. Without an owner the
 * kernel sends no signal at all. sigio_echo_server is the same server, instrumented.
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sock;                                  /* set before the handler is installed */
static volatile sig_atomic_t stop, datagrams, signals;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

/* on_sigio - LAB: first-drain. Read until EAGAIN: while this signal was pending, more
 * datagrams may have come, and they raise no second SIGIO. recvfrom and sendto are
 * async-signal-safe; errno is saved because the interrupted code may be reading it. */
static void on_sigio(int sig)
{
    int saved_errno = errno;
    char buf[2048];
    struct sockaddr_storage from;

    (void)sig;
    signals++;
    for (;;) {
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(sock, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n < 0)
            break; /* EAGAIN: the socket is empty (O_NONBLOCK makes it say so) */
        datagrams++;
        sendto(sock, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
    }
    errno = saved_errno;
}

/* start_sigio - LAB: first-setup. The three steps of UNP §25.2, in this order. */
static void start_sigio(int fd)
{
    struct sigaction sa;

    /* 1. The handler, first: a SIGIO that came before it would end the process. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigio;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGIO, &sa, NULL) == -1)
        die("sigaction(SIGIO)");
    /* 2. The owner: the process the kernel signals. Without one it signals nobody. */
    if (fcntl(fd, F_SETOWN, getpid()) == -1)
        die("fcntl(F_SETOWN)");
    /* 3. Enable: O_ASYNC switches the signals on; O_NONBLOCK lets the handler see EAGAIN. */
    set_fl(fd, O_ASYNC | O_NONBLOCK);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: first_echo [-p PORT]\n");
}

int main(int argc, char **argv)
{
    int port = 9025, opt;
    struct sockaddr_storage addr;
    struct sigaction sa;
    sigset_t open_mask;
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":p:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p': port = parse_port("-p", optarg); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    socklen_t len = parse_addr("-a", "127.0.0.1", port, &addr);
    sock = bound_socket(SOCK_DGRAM, &addr, len);
    /* SIGTERM and SIGINT stay blocked except inside sigsuspend, so none is missed. */
    block_signal(SIGTERM);
    block_signal(SIGINT);
    sigprocmask(SIG_BLOCK, NULL, &open_mask);
    sigdelset(&open_mask, SIGTERM);
    sigdelset(&open_mask, SIGINT);
    on_signal(SIGTERM, on_stop, 0);
    on_signal(SIGINT, on_stop, 0);
    start_sigio(sock);

    /* What the kernel now holds, read back. */
    int fl = fcntl(sock, F_GETFL);
    if (sigaction(SIGIO, NULL, &sa) == -1 || fl == -1)
        die("reading the set-up back");
    announce_listening(sock);
    printf("setup F_GETOWN=%d pid=%d o_async=%d o_nonblock=%d handler=%s\n",
           fcntl(sock, F_GETOWN), (int)getpid(), (fl & O_ASYNC) != 0, (fl & O_NONBLOCK) != 0,
           sa.sa_handler == on_sigio ? "on_sigio" : "none");

    /* LAB: first-wait. Nothing to do but wait: sigsuspend returns after each handler. */
    while (!stop)
        sigsuspend(&open_mask);
    printf("datagrams=%d signals=%d\n", (int)datagrams, (int)signals);
    close(sock);
    return EXIT_OK;
}
