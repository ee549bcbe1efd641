/* SPDX-License-Identifier: MIT */
/*
 * listener_events - every notification a listening TCP socket sends, one step at a time:
 * a completed connection, then shutdown() of the listener itself.
 *
 * Demonstrates:
 *   - a completed connection gives the listener one POLL_IN (band POLLIN|POLLRDNORM);
 *   - the listener raises the signal for one more thing: shutdown(SHUT_RD or SHUT_RDWR)
 *     stops it listening and gives one POLL_ERR (band POLLERR); accept() then fails with
 *     EINVAL, and a connection still waiting in the backlog is reset;
 *   - shutdown(SHUT_WR) of a listener does nothing at all: no signal, still listening.
 *
 * Read with: UNP §25.2 ("SIGIO with TCP Sockets"); chapters/tcp_sigio_listen.md "The
 * claim: TCP-LISTEN-ONLY".
 *
 * Usage: listener_events [--how rd|wr|rdwr] [-6] [-t MS]
 *   --how HOW  how the listener is shut down at the end (default rdwr)
 *   -6         IPv6 (::1) instead of 127.0.0.1
 *   -t MS      how long each step waits for notifications (default 200)
 *
 * Try it:
 *   ./listener_events
 *   ./listener_events --how wr
 *
 * What to observe:
 *   - "step=connect notifications=1 first=POLL_IN band=0x41 (POLLIN|POLLRDNORM) ...";
 *   - "step=shutdown how=rdwr notifications=1 first=POLL_ERR band=0x8 (POLLERR)", then
 *     "after_shutdown accept=EINVAL waiting_client=ECONNRESET": the listener is closed to
 *     new connections, and the one still waiting in the backlog was reset;
 *   - with --how wr: "notifications=0" and "accept=ok waiting_client=open": nothing
 *     happened.
 *
 * Linux notes: inet_shutdown() on a listening socket acts only when the receive side is shut
 * down; then tcp_disconnect() stops the listener (inet_csk_listen_stop() resets every
 * connection not yet accepted) and ends with sk_error_report(), whose default,
 * sock_def_error_report(), raises POLL_ERR. accept() then fails with EINVAL because the
 * socket no longer listens.
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NOTE_SIG (SIGRTMIN) /* F_SETSIG: queued, one per notification, with its siginfo */

static int how_shut = SHUT_RDWR;
static const char *how_name = "rdwr";

/* take_notes - with NOTE_SIG blocked: take every notification that comes within ms
 * milliseconds; print how many, and the first one's code and band. */
static void take_notes(const char *step, int listener, long ms)
{
    sigset_t set;
    siginfo_t si, first;
    int n = 0, wrong_fd = 0;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    char code[16], band[96];

    sigemptyset(&set);
    sigaddset(&set, NOTE_SIG);
    for (;;) {
        int sig = sigtimedwait(&set, &si, &ts);
        if (sig == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            die("sigtimedwait");
        }
        if (n == 0)
            first = si;
        if (si.si_fd != listener)
            wrong_fd++;
        n++;
        ts.tv_sec = 0; /* after the first, only what is already queued or comes soon */
        ts.tv_nsec = 20 * 1000000;
    }
    printf("step=%s%s%s notifications=%d first=%s band=0x%lx (%s) wrong_fd=%d\n", step,
           strcmp(step, "shutdown") == 0 ? " how=" : "",
           strcmp(step, "shutdown") == 0 ? how_name : "", n,
           n ? sicode_name(first.si_code, code, sizeof code) : "none",
           n ? (unsigned long)first.si_band : 0ul, n ? band_names(first.si_band, band, sizeof band) : "0",
           wrong_fd);
}

/* connect_to - a blocking client connection to the listener; the handshake completes in
 * the kernel, before anyone accepts. */
static int connect_to(const struct sockaddr_storage *addr, socklen_t len)
{
    int fd = socket(addr->ss_family, SOCK_STREAM, 0);

    if (fd == -1)
        die("socket");
    if (connect(fd, (const struct sockaddr *)addr, len) == -1)
        die("connect");
    return fd;
}

/* client_state - what a read on the client finds: "open" (nothing yet, EAGAIN), "eof",
 * or the error (ECONNRESET when the connection was reset). */
static const char *client_state(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

    if (n == 0)
        return "eof";
    if (n > 0)
        return "data";
    return errno == EAGAIN ? "open" : errno_name(errno);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [--how rd|wr|rdwr] [-6] [-t MS]\n"
            "  --how HOW  shut the listener down with SHUT_RD, SHUT_WR or SHUT_RDWR (default rdwr)\n"
            "  -6         use ::1 instead of 127.0.0.1\n"
            "  -t MS      wait at most MS ms for each step's notifications (default 200, 1 to 10000)\n"
            "  -h         this help\n"
            "example: %s --how wr\n",
            lab_prog, lab_prog);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"how", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addr_text = "127.0.0.1";
    long wait_ms = 200;
    int opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":6t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'w':
            if (strcmp(optarg, "rd") == 0)
                how_shut = SHUT_RD;
            else if (strcmp(optarg, "wr") == 0)
                how_shut = SHUT_WR;
            else if (strcmp(optarg, "rdwr") == 0)
                how_shut = SHUT_RDWR;
            else
                usage_error("--how: '%s' is not rd, wr or rdwr", optarg);
            how_name = optarg;
            break;
        case '6': addr_text = "::1"; break;
        case 't': wait_ms = parse_long("-t", optarg, 1, 10000); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    /* The notifications are taken with sigtimedwait, so the signal is blocked from the
     * start and no handler is needed (a blocked signal cannot kill). */
    block_signal(NOTE_SIG);

    struct sockaddr_storage addr;
    socklen_t len = parse_addr("-a", addr_text, 0, &addr);
    int listener = bound_socket(SOCK_STREAM, &addr, len);
    if (listen(listener, 16) == -1)
        die("listen");
    len = sizeof addr;
    if (getsockname(listener, (struct sockaddr *)&addr, &len) == -1)
        die("getsockname");

    /* Owner, a queued realtime signal with siginfo, then the switch. */
    if (fcntl(listener, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN)", listener);
    if (fcntl(listener, F_SETSIG, NOTE_SIG) == -1)
        die("fcntl(%d, F_SETSIG)", listener);
    set_fl(listener, O_ASYNC | O_NONBLOCK);

    /* LAB: listener-connect — the one event the book names: a completed connection. */
    int first = connect_to(&addr, len);
    take_notes("connect", listener, wait_ms);
    int accepted = accept(listener, NULL, NULL);
    if (accepted == -1)
        die("accept");

    /* A second client that nobody accepts: it waits in the backlog when the shutdown
     * comes. Its own notification is taken here so the next step starts empty. */
    int waiting = connect_to(&addr, len);
    take_notes("connect2", listener, wait_ms);

    /* LAB: listener-shutdown — the event the book does not name: shutdown() of the
     * listener itself. */
    if (shutdown(listener, how_shut) == -1)
        die("shutdown(%d, SHUT_%s)", listener, how_shut == SHUT_RD ? "RD" : how_shut == SHUT_WR ? "WR" : "RDWR");
    take_notes("shutdown", listener, wait_ms);
    /* Is it still a listener? accept() takes the client left in the backlog if so. */
    int after = accept(listener, NULL, NULL);
    const char *accept_result = after >= 0 ? "ok" : errno_name(errno);
    printf("after_shutdown accept=%s waiting_client=%s\n", accept_result, client_state(waiting));

    if (after >= 0)
        close(after);
    close(waiting);
    close(accepted);
    close(first);
    close(listener);
    return EXIT_OK;
}
