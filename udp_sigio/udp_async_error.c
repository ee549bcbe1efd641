/* SPDX-License-Identifier: MIT */
/*
 * udp_async_error - an ICMP error raises SIGIO on a connected UDP socket, not an unconnected one.
 *
 * The ICMP "port unreachable" reaches a connected socket as SIGIO and as the error of the
 * next receive; an unconnected socket never hears of it.
 *
 * Demonstrates:
 *   - the second cause of SIGIO on a UDP socket the book names: an asynchronous error
 *     (UNP §25.2, with §8.9 on why only a connected socket gets it);
 *   - the error is handed over once: the first recv returns ECONNREFUSED, the next EAGAIN;
 *   - plain SIGIO cannot say what happened (si_code SI_KERNEL); with F_SETSIG and
 *     SA_SIGINFO (--siginfo) the handler sees si_code POLL_ERR and band POLLERR.
 *
 * Read with: UNP §25.2 "SIGIO with UDP Sockets", §8.9; chapters/udp_sigio.md
 * "What raises SIGIO on a UDP socket".
 *
 * Usage: udp_async_error [-p PORT] [-6] [--unconnected] [--siginfo] [-t MS]
 *   -p PORT         the closed port to aim at (default: one the kernel has just handed out
 *                   and that we closed again, so nothing listens there)
 *   -6              use ::1 instead of 127.0.0.1
 *   --unconnected   send with sendto from an unconnected socket (no signal will come)
 *   --siginfo       F_SETSIG(SIGIO) so that the handler's siginfo says what happened
 *   -t MS           how long to wait for the signal (default 500)
 *
 * Try it:
 *   ./udp_async_error                  # signals=1 ... recv1=ECONNREFUSED recv2=EAGAIN
 *   ./udp_async_error --siginfo        # si_code=POLL_ERR si_band=POLLERR
 *   ./udp_async_error --unconnected    # signals=0 recv1=EAGAIN witness=ECONNREFUSED
 *
 * What to observe:
 *   - the last line: connected=1 signals=1 si_code=... recv1=ECONNREFUSED recv2=EAGAIN;
 *   - --unconnected: signals=0 recv1=EAGAIN, although a connected "witness" socket that sent
 *     to the same port at the same time got its ECONNREFUSED: the ICMP came back for both.
 *
 * Linux notes: the kernel drops the ICMP for an unconnected socket (udp.c: a hard error is
 * kept only for a connected socket) unless IP_RECVERR is set; then the error reaches an
 * unconnected socket too, and both ways at once: the next receive returns ECONNREFUSED, and
 * the details wait on the error queue (recvmsg MSG_ERRQUEUE). udp(7)'s wording suggests
 * that fatal errors reach an unconnected socket without IP_RECVERR. ICMP errors are
 * rate-limited system-wide (net.ipv4.icmp_msgs_per_sec), so a flood of such sends may see
 * fewer errors than datagrams.
 */
#include "labutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Written by the SIGIO handler, read by main after the wait (with SIGIO blocked again):
 * lone values, volatile sig_atomic_t (chapters/README.md, "Data a handler shares"), rule 1). */
static volatile sig_atomic_t sigio_count;  /* SIGIOs delivered */
static volatile sig_atomic_t sigio_code;   /* si_code of the last one */
static volatile sig_atomic_t sigio_band;   /* si_band of the last one (poll bits fit an int) */

static void on_sigio(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    sigio_count++;
    sigio_code = si->si_code;
    sigio_band = (sig_atomic_t)si->si_band;
}

/* closed_port - a port where nothing listens: bind to port 0, note what the kernel chose,
 * close. (Another program could take it in between; on a test machine nobody does.) */
static int closed_port(const char *host)
{
    struct sockaddr_storage ss;
    socklen_t len = parse_addr("-6", host, 0, &ss);
    int fd = bound_socket(SOCK_DGRAM, &ss, len);

    len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
        die("getsockname");
    close(fd);
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

/* recv_result - "EAGAIN", "ECONNREFUSED", or "data" for one non-blocking receive. */
static const char *recv_result(int fd)
{
    char buf[64];

    if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
        return "data";
    return errno_name(errno);
}

/*
 * witness - for --unconnected: a second, connected socket sends to the same port and waits
 * (poll, at most timeout_ms) until its own error shows. That proves the ICMP for this
 * port came back, so the silence of the unconnected socket is not a lost packet.
 * Returns what its recv then said (ECONNREFUSED, or EAGAIN if no ICMP came).
 */
static const char *witness(const struct sockaddr_storage *to, socklen_t len, int timeout_ms)
{
    int w = socket(to->ss_family, SOCK_DGRAM, 0);
    struct pollfd pfd;

    if (w == -1)
        die("socket(witness)");
    if (connect(w, (const struct sockaddr *)to, len) == -1)
        die("connect(witness)");
    if (send(w, "witness", 7, 0) == -1)
        die("send(witness)");
    pfd = (struct pollfd){.fd = w, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) == -1)
        die("poll(witness)");
    const char *r = recv_result(w);
    close(w);
    return r;
}

/* wait_for_sigio - let SIGIO in and sleep until one has been handled or timeout_ms passed.
 * ppoll with a signal mask is "unblock and wait" in one atomic step, like sigsuspend, but
 * with a time limit. */
static void wait_for_sigio(const sigset_t *open, int timeout_ms)
{
    int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)timeout_ms * 1000000;

    while (sigio_count == 0) {
        int64_t left = deadline - now_ns(CLOCK_MONOTONIC);
        if (left <= 0)
            return;
        struct timespec ts = {.tv_sec = left / 1000000000, .tv_nsec = left % 1000000000};
        if (ppoll(NULL, 0, &ts, open) == -1 && errno != EINTR)
            die("ppoll");
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-p PORT] [-6] [--unconnected] [--siginfo] [-t MS]\n"
            "  -p PORT        closed port to send to (default: a port the kernel just freed)\n"
            "  -6             use ::1 instead of 127.0.0.1\n"
            "  --unconnected  send with sendto from an unconnected socket\n"
            "  --siginfo      F_SETSIG(SIGIO): the handler's siginfo shows si_code and si_band\n"
            "  -t MS          wait at most MS ms for the signal (default 500, 1 to 60000)\n"
            "  -h             this help\n"
            "example: %s --siginfo\n",
            lab_prog, lab_prog);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"unconnected", no_argument, NULL, 'U'},
        {"siginfo", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *host = "127.0.0.1";
    int port = -1, connected = 1, want_siginfo = 0, opt;
    long timeout_ms = 500;
    char text[64], name[16], band[64];
    struct sockaddr_storage to;
    sigset_t only_sigio, open;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":p:6t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p': port = parse_port("-p", optarg); break;
        case '6': host = "::1"; break;
        case 'U': connected = 0; break;
        case 'I': want_siginfo = 1; break;
        case 't': timeout_ms = parse_long("-t", optarg, 1, 60000); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (port == 0)
        usage_error("-p: port 0 cannot be sent to");
    if (port < 0)
        port = closed_port(host);

    /* Block SIGIO first: it is let in only while we wait, so nothing is missed and the
     * handler never runs in the middle of the set-up. */
    sigemptyset(&only_sigio);
    sigaddset(&only_sigio, SIGIO);
    if (sigprocmask(SIG_BLOCK, &only_sigio, &open) == -1)
        die("sigprocmask(SIG_BLOCK, SIGIO)");
    sigdelset(&open, SIGIO);

    socklen_t len = parse_addr("-p", host, port, &to);
    int fd = socket(to.ss_family, SOCK_DGRAM, 0);
    if (fd == -1)
        die("socket(SOCK_DGRAM)");

    /* The three steps: handler, owner, enable (see sigio_echo_server for the why). */
    on_siginfo(SIGIO, on_sigio, 0);
    if (fcntl(fd, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN, %d)", fd, (int)getpid());
    if (want_siginfo && fcntl(fd, F_SETSIG, SIGIO) == -1)
        /* F_SETSIG with SIGIO itself: still the same standard signal, but now sent with a
         * full siginfo (si_code POLL_ERR, si_band) instead of the bare SI_KERNEL one. */
        die("fcntl(%d, F_SETSIG, SIGIO)", fd);
    if (fcntl(fd, F_SETFL, O_ASYNC | O_NONBLOCK) == -1)
        die("fcntl(%d, F_SETFL, O_ASYNC|O_NONBLOCK)", fd);

    /* LAB: connect-for-errors — connect() on UDP only records the peer. That is what lets
     * the kernel match an ICMP error to this socket and keep it: an unconnected socket
     * could have sent to anyone, and its owner is never told. */
    if (connected) {
        if (connect(fd, (struct sockaddr *)&to, len) == -1)
            die("connect(%s)", sockaddr_text((struct sockaddr *)&to, text, sizeof text));
        if (send(fd, "ping", 4, 0) == -1)
            die("send(%s)", sockaddr_text((struct sockaddr *)&to, text, sizeof text));
    } else if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&to, len) == -1) {
        die("sendto(%s)", sockaddr_text((struct sockaddr *)&to, text, sizeof text));
    }
    printf("sent 4 bytes to %s, where nothing listens, from a%s socket\n",
           sockaddr_text((struct sockaddr *)&to, text, sizeof text),
           connected ? " connected" : "n unconnected");

    const char *witnessed = connected ? NULL : witness(&to, len, (int)timeout_ms);

    /* LAB: async-error-signal — the ICMP came back through the loopback interface; for a
     * connected socket the kernel stored ECONNREFUSED as the socket's error and signalled. */
    wait_for_sigio(&open, (int)timeout_ms);

    /* The error is handed out once: the first receive takes it, the second finds nothing. */
    const char *recv1 = recv_result(fd);
    const char *recv2 = recv_result(fd);

    printf("connected=%d f_setsig=%s signals=%d si_code=%s si_band=%s recv1=%s recv2=%s",
           connected, want_siginfo ? "SIGIO" : "0", (int)sigio_count,
           sigio_count ? sicode_name(sigio_code, name, sizeof name) : "none",
           sigio_count && want_siginfo ? band_names(sigio_band, band, sizeof band) : "none",
           recv1, recv2);
    if (witnessed)
        printf(" witness=%s", witnessed);
    printf("\n");
    close(fd);
    return EXIT_OK;
}
