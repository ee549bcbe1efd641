/* SPDX-License-Identifier: MIT */
/*
 * first_listen - the smallest signal-driven TCP server: one SIGIO, every connection it stands for.
 *
 * Demonstrates:
 *   - the listening socket as the only signal-driven socket: handler, owner, O_NONBLOCK and
 *     O_ASYNC, in that order;
 *   - on every SIGIO, accept until EAGAIN: SIGIO is not queued, so one signal can stand for
 *     several completed connections;
 *   - accepted sockets served with plain blocking I/O (they inherit none of the listener's
 *     flags, so they raise nothing): each client gets its bytes back until it closes.
 *
 * Read with: UNP §25.2 ("SIGIO with TCP Sockets", last paragraph); chapters/tcp_sigio_listen.md
 * "Start here". Then listen_server.c, the full server (children, histogram, summary).
 *
 * Usage: first_listen [-p PORT]
 *   -p PORT  TCP port on 127.0.0.1 (default 9026; 0 = the kernel chooses, printed first)
 *
 * Try it:
 *   ./first_listen -p 9026 &
 *   ./connect_burst -p 9026 -k 1       # one connection: "signal=1 accepted=1"
 *   ./connect_burst -p 9026 -k 100     # a burst: every connection echoed, fewer signals
 *   kill %1
 *
 * What to observe:
 *   - one line per signal, "signal=N accepted=K"; K > 1 when connections came together;
 *   - connect_burst's last line: echoed equals connections, failed=0.
 *
 * Linux notes: accept() hands back a socket without O_NONBLOCK, O_ASYNC or owner (BSD copies
 * them); SIGIO's default action ends the process, so the handler is installed first. SIGTERM
 * and SIGINT keep their default action: they end the program at once.
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t got_sigio; /* set by the handler, cleared by the main loop */

/* LAB: first-handler — note the signal and nothing else; the main loop does the work. */
static void on_sigio(int sig)
{
    (void)sig;
    got_sigio = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-p PORT]\n"
            "  -p PORT  TCP port on 127.0.0.1 (default 9026; 0 = the kernel chooses)\n"
            "  -h       this help\n"
            "example: %s -p 0\n",
            lab_prog, lab_prog);
}

/* serve - echo until the client closes, or is silent for 2 s; then close. Blocking I/O:
 * the accepted socket is blocking and raises no signal. */
static void serve(int cfd)
{
    struct timeval limit = {2, 0};
    char buf[4096];
    ssize_t n;

    if (setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == -1 ||
        setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) == -1)
        die("setsockopt(%d, SO_RCVTIMEO/SO_SNDTIMEO)", cfd);
    while ((n = recv(cfd, buf, sizeof buf, 0)) > 0)
        if (send(cfd, buf, (size_t)n, MSG_NOSIGNAL) != n)
            break; /* the client went away: nothing more to do for it */
    close(cfd);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct sockaddr_storage addr;
    unsigned long signals = 0;
    int port = 9026, opt;
    sigset_t io, run_mask;

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

    socklen_t len = parse_addr("-p", "127.0.0.1", port, &addr);
    int lfd = bound_socket(SOCK_STREAM, &addr, len);
    if (listen(lfd, 1024) == -1)
        die("listen(%d)", lfd);

    /* LAB: first-setup — SIGIO blocked (it comes in only inside sigsuspend), the handler,
     * this process as the owner, then the two flags. */
    sigemptyset(&io);
    sigaddset(&io, SIGIO);
    if (sigprocmask(SIG_BLOCK, &io, &run_mask) == -1)
        die("sigprocmask(SIG_BLOCK, SIGIO)");
    on_signal(SIGIO, on_sigio, 0);
    if (fcntl(lfd, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN)", lfd);
    /* LAB: first-nonblock — non-blocking, so that "accept until EAGAIN" ends at EAGAIN
     * instead of sleeping in accept(); O_ASYNC switches the signal on. */
    set_fl(lfd, O_NONBLOCK | O_ASYNC);
    announce_listening(lfd);

    for (;;) {
        while (!got_sigio)
            sigsuspend(&run_mask); /* SIGIO let in only here; returns once the handler ran */
        got_sigio = 0;
        signals++;

        long accepted = 0;
        /* LAB: first-accept-all — one SIGIO may stand for many connections (it is not
         * queued): take every one that is waiting, until the listener says EAGAIN. */
        for (;;) {
            int cfd = accept(lfd, NULL, NULL);
            if (cfd == -1) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                if (errno == ECONNABORTED || errno == EINTR)
                    continue; /* that client gave up; look for the next */
                die("accept(%d)", lfd);
            }
            accepted++;
            serve(cfd);
        }
        printf("signal=%lu accepted=%ld\n", signals, accepted);
    }
}
