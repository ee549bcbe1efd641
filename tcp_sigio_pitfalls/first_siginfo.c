/* SPDX-License-Identifier: MIT */
/*
 * first_siginfo - F_SETSIG and SA_SIGINFO tell a TCP socket's POLL_IN from its POLL_OUT.
 *
 * Demonstrates:
 *   - a connected TCP socket with F_SETSIG (a realtime signal) and an SA_SIGINFO handler:
 *     each event's si_code says what happened (POLL_IN: data to read; POLL_OUT: room to
 *     write again), and si_fd names the socket;
 *   - with --plain (no F_SETSIG) both come as SIGIO with si_code SI_KERNEL and no fd: the
 *     handler cannot tell them apart (UNP §25.2).
 *
 * Read with: UNP §25.2 "SIGIO with TCP Sockets"; TLPI §63.3 (F_SETSIG, si_code);
 * chapters/tcp_sigio_pitfalls.md "Start here". Then tcp_events.c, every condition.
 *
 * Usage: first_siginfo [--plain]
 *   --plain  leave F_SETSIG out: plain SIGIO, as in the book
 *
 * Try it:
 *   ./first_siginfo           # data: POLL_IN; space: POLL_OUT
 *   ./first_siginfo --plain   # both: SIGIO with si_code SI_KERNEL, si_fd 0
 *
 * What to observe:
 *   - "step=data ... si_code=POLL_IN si_fd=S", "step=space ... si_code=POLL_OUT si_fd=S" (S:
 *     the first line's socket_fd); with --plain both say "signal=SIGIO si_code=SI_KERNEL".
 *
 * Linux notes: F_SETSIG is Linux's (_GNU_SOURCE). POLL_OUT only follows a write that found
 * the buffer full. SIGIO keeps its handler: it is sent when the realtime queue is full.
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define EV_SIGNAL SIGRTMIN /* the F_SETSIG signal: realtime, so every event is queued */

static struct { int signo, code, fd; } seen[8]; /* main reads with signals blocked: README rule 2 */
static volatile sig_atomic_t nseen;             /* a lone counter: rule 1 (chapters/README.md) */

/* LAB: first-siginfo-handler — everything the handler learns is in siginfo. */
static void on_event(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    if (nseen < 8) {
        seen[nseen].signo = sig, seen[nseen].code = si->si_code, seen[nseen].fd = si->si_fd;
        nseen = nseen + 1;
    }
}

static void usage(FILE *out)
{
    fprintf(out, "usage: %s [--plain]\n  --plain  no F_SETSIG: plain SIGIO, as in the book\n"
            "  -h       this help\nexample: %s --plain\n", lab_prog, lab_prog);
}

/* collect - let the signals in until one came and then 50 ms passed with no other (at most
 * 5 s for the first); print one line per signal. */
static void collect(const char *step, const sigset_t *open_mask)
{
    char name[16], code[16];
    struct timespec wait = {5, 0}, quiet = {0, 50000000};

    nseen = 0;
    while (ppoll(NULL, 0, nseen ? &quiet : &wait, open_mask) == -1)
        if (errno != EINTR)
            die("ppoll");
    if (nseen == 0)
        printf("step=%s no signal within 5 s\n", step);
    for (int i = 0; i < nseen; i++)
        printf("step=%s signal=%s si_code=%s si_fd=%d\n", step,
               signal_name(seen[i].signo, name, sizeof name),
               sicode_name(seen[i].code, code, sizeof code), seen[i].fd);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"plain", no_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    static char block[16384], sink[65536];
    struct sockaddr_storage addr;
    struct timeval limit = {5, 0};
    int plain = 0, opt, sndbuf = 16384;
    sigset_t io, open_mask;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'P': plain = 1; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    /* A loopback connection: ours (signal-driven, small send buffer) and the peer's. */
    socklen_t len = parse_addr("address", "127.0.0.1", 0, &addr);
    int lfd = bound_socket(SOCK_STREAM, &addr, len);
    if (listen(lfd, 1) == -1 || getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
        die("listen(%d)", lfd);
    int ours = socket(AF_INET, SOCK_STREAM, 0);
    if (ours == -1 || setsockopt(ours, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) == -1 ||
        connect(ours, (struct sockaddr *)&addr, len) == -1)
        die("socket/connect(127.0.0.1)");
    int peer = accept(lfd, NULL, NULL); /* its reads wait 5 s at most: */
    if (peer == -1 || setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) == -1)
        die("accept(%d)", lfd);
    close(lfd);
    printf("socket_fd=%d mode=%s\n", ours, plain ? "plain" : "F_SETSIG");

    /* LAB: first-siginfo-setup — signals blocked (ppoll lets them in), handler, owner, flags. */
    sigemptyset(&io);
    sigaddset(&io, SIGIO);
    sigaddset(&io, EV_SIGNAL);
    if (sigprocmask(SIG_BLOCK, &io, &open_mask) == -1)
        die("sigprocmask(SIG_BLOCK)");
    on_siginfo(SIGIO, on_event, 0);
    on_siginfo(EV_SIGNAL, on_event, 0);
    if (fcntl(ours, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN)", ours);
    /* LAB: first-setsig — F_SETSIG: the kernel sends EV_SIGNAL, with si_code and si_fd. */
    if (!plain && fcntl(ours, F_SETSIG, EV_SIGNAL) == -1)
        die("fcntl(%d, F_SETSIG)", ours);
    set_fl(ours, O_NONBLOCK | O_ASYNC);

    if (send(peer, "hello", 5, 0) != 5) /* step data: the peer sends; we read until EAGAIN */
        die("send(%d)", peer);
    collect("data", &open_mask);
    while (recv(ours, sink, sizeof sink, 0) > 0) /* non-blocking: ends at EAGAIN */
        ;

    /* Step space: we write until EAGAIN (that arms POLL_OUT); the peer reads it all. */
    long written = 0, got = 0;
    ssize_t n;
    while ((n = send(ours, block, sizeof block, 0)) > 0)
        written += n;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        die("send(%d)", ours);
    for (; got < written; got += n)
        if ((n = recv(peer, sink, sizeof sink, 0)) <= 0)
            die("recv(%d) on the peer", peer);
    collect("space", &open_mask);
    return EXIT_OK; /* exit closes both sockets */
}
