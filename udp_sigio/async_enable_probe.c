/* SPDX-License-Identifier: MIT */
/*
 * async_enable_probe - F_SETFL O_ASYNC against ioctl(FIOASYNC) on five kinds of descriptor.
 *
 * Sockets and pipes support signal-driven I/O; eventfd, timerfd and epoll do not.
 *
 * Demonstrates:
 *   - the two ways to switch signal-driven I/O on (UNP §25.2 names both): on a socket or a
 *     pipe they are one and the same switch: F_GETFL shows O_ASYNC and SIGIO comes;
 *   - on an eventfd, a timerfd or an epoll descriptor (no async support in the kernel)
 *     F_SETFL accepts O_ASYNC and quietly does nothing, while FIOASYNC fails with ENOTTY;
 *   - that only trying it tells you: check F_GETFL after F_SETFL.
 *
 * Read with: UNP §25.2 (the three steps; Figure 25.4 uses FIOASYNC); chapters/udp_sigio.md
 * "Switching it on: fcntl or ioctl".
 *
 * Usage: async_enable_probe [-k KIND] [-t MS]
 *   -k KIND   only this descriptor: udp, pipe, eventfd, timerfd or epoll (default: all)
 *   -t MS     how long to wait for a SIGIO after making an event (default 100)
 *
 * Try it:
 *   ./async_enable_probe
 *   ./async_enable_probe -k eventfd
 *
 * What to observe:
 *   - "kind=udp via=fcntl result=ok o_async=1 sigio=1", the same for via=ioctl;
 *   - "kind=eventfd via=fcntl result=ok o_async=0 sigio=0" (accepted, ignored) next to
 *     "kind=eventfd via=ioctl result=ENOTTY o_async=0 sigio=0" (refused).
 *
 * Linux notes: both calls end in the file's ->fasync operation (fs/fcntl.c setfl(),
 * fs/ioctl.c ioctl_fioasync()). setfl() skips it when there is none and O_ASYNC is not one
 * of the flags F_SETFL stores itself, so the call "succeeds"; ioctl_fioasync() returns
 * ENOTTY. socket(7) calls FIOASYNC synonymous with O_ASYNC: true for sockets only.
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* One descriptor under test: fd is where O_ASYNC goes; extra holds a second descriptor
 * some kinds need to make an event (the write end of a pipe, ...), or -1. */
struct subject {
    int fd, extra, extra2;
};

static void check(int ret, const char *what)
{
    if (ret == -1)
        die("%s", what);
}

/* make_subject - a fresh descriptor of the given kind. */
static struct subject make_subject(const char *kind)
{
    struct subject s = {-1, -1, -1};
    int p[2];

    if (strcmp(kind, "udp") == 0) {
        struct sockaddr_storage ss;
        socklen_t len = parse_addr("udp", "127.0.0.1", 0, &ss);
        s.fd = bound_socket(SOCK_DGRAM, &ss, len);
    } else if (strcmp(kind, "pipe") == 0) {
        check(pipe(p), "pipe");
        s.fd = p[0];
        s.extra = p[1];
    } else if (strcmp(kind, "eventfd") == 0) {
        check(s.fd = eventfd(0, EFD_NONBLOCK), "eventfd");
    } else if (strcmp(kind, "timerfd") == 0) {
        check(s.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), "timerfd_create");
    } else { /* epoll, watching a pipe */
        struct epoll_event ev = {.events = EPOLLIN};
        check(s.fd = epoll_create1(0), "epoll_create1");
        check(pipe(p), "pipe");
        s.extra = p[0];
        s.extra2 = p[1];
        ev.data.fd = p[0];
        check(epoll_ctl(s.fd, EPOLL_CTL_ADD, p[0], &ev), "epoll_ctl(EPOLL_CTL_ADD)");
    }
    return s;
}

/* make_event - something that makes s.fd readable, so that a working O_ASYNC would
 * send SIGIO. */
static void make_event(const char *kind, const struct subject *s)
{
    if (strcmp(kind, "udp") == 0) {
        struct sockaddr_storage self;
        socklen_t len = sizeof self;
        check(getsockname(s->fd, (struct sockaddr *)&self, &len), "getsockname");
        check((int)sendto(s->fd, "x", 1, 0, (struct sockaddr *)&self, len), "sendto(self)");
    } else if (strcmp(kind, "pipe") == 0) {
        check((int)write(s->extra, "x", 1), "write(pipe)");
    } else if (strcmp(kind, "eventfd") == 0) {
        uint64_t one = 1;
        check((int)write(s->fd, &one, sizeof one), "write(eventfd)");
    } else if (strcmp(kind, "timerfd") == 0) {
        struct itimerspec its = {.it_value = {0, 1000000}}; /* fires after 1 ms */
        check(timerfd_settime(s->fd, 0, &its, NULL), "timerfd_settime");
    } else {
        check((int)write(s->extra2, "x", 1), "write(pipe watched by epoll)");
    }
}

static void close_subject(const struct subject *s)
{
    close(s->fd);
    if (s->extra != -1)
        close(s->extra);
    if (s->extra2 != -1)
        close(s->extra2);
}

/* sigio_within - was a SIGIO (blocked, so it waits in the pending set) delivered within
 * ms milliseconds? sigtimedwait takes it out of the pending set. */
static int sigio_within(const sigset_t *set, long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

    for (;;) {
        if (sigtimedwait(set, NULL, &ts) == SIGIO)
            return 1;
        if (errno == EAGAIN)
            return 0;
        if (errno != EINTR)
            die("sigtimedwait(SIGIO)");
    }
}

/* probe - one descriptor kind, one way of switching O_ASYNC on; prints one line. */
static void probe(const char *kind, int use_ioctl, const sigset_t *set, long wait_ms)
{
    struct subject s = make_subject(kind);
    const char *result = "ok";
    int on = 1;

    /* Owner first, as always; F_SETOWN is generic and works on any descriptor. */
    if (fcntl(s.fd, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN) on %s", s.fd, kind);
    /* LAB: two-switches — the same request, two doors. */
    if (use_ioctl) {
        if (ioctl(s.fd, FIOASYNC, &on) == -1)
            result = errno_name(errno);
    } else {
        int fl = fcntl(s.fd, F_GETFL);
        if (fl == -1 || fcntl(s.fd, F_SETFL, fl | O_ASYNC) == -1)
            result = errno_name(errno);
    }
    int fl = fcntl(s.fd, F_GETFL);
    if (fl == -1)
        die("fcntl(%d, F_GETFL) on %s", s.fd, kind);
    make_event(kind, &s);
    int got = sigio_within(set, wait_ms);
    printf("kind=%s via=%s result=%s o_async=%d sigio=%d\n", kind, use_ioctl ? "ioctl" : "fcntl",
           result, (fl & O_ASYNC) != 0, got);
    close_subject(&s);
    while (sigio_within(set, 0))
        ; /* nothing left over for the next probe */
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-k KIND] [-t MS]\n"
            "  -k KIND  only this kind: udp, pipe, eventfd, timerfd, epoll (default: all)\n"
            "  -t MS    wait at most MS ms for SIGIO after each event (default 100, 1 to 10000)\n"
            "  -h       this help\n"
            "example: %s -k eventfd\n",
            lab_prog, lab_prog);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const kinds[] = {"udp", "pipe", "eventfd", "timerfd", "epoll"};
    const char *only = NULL;
    long wait_ms = 100;
    sigset_t set;
    int opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":k:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k': only = optarg; break;
        case 't': wait_ms = parse_long("-t", optarg, 1, 10000); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (only) {
        size_t i = 0;
        while (i < sizeof kinds / sizeof kinds[0] && strcmp(only, kinds[i]) != 0)
            i++;
        if (i == sizeof kinds / sizeof kinds[0])
            usage_error("-k: '%s' is not one of udp, pipe, eventfd, timerfd, epoll", only);
    }

    /* Step 1 here is "block the signal" rather than "install a handler": a blocked SIGIO
     * stays pending, harmless, until sigtimedwait collects it. */
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
        die("sigprocmask(SIG_BLOCK, SIGIO)");

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (only && strcmp(only, kinds[i]) != 0)
            continue;
        probe(kinds[i], 0, &set, wait_ms);
        probe(kinds[i], 1, &set, wait_ms);
    }
    return EXIT_OK;
}
