/* SPDX-License-Identifier: MIT */
/*
 * async_enable_probe - F_SETFL O_ASYNC against ioctl(FIOASYNC) on eight kinds of descriptor.
 *
 * Sockets, pipes, FIFOs, inotify and terminals support signal-driven I/O; eventfd, timerfd
 * and epoll do not. O_ASYNC given to open() is a trap.
 *
 * Demonstrates:
 *   - the two ways to switch signal-driven I/O on (UNP §25.2 names both): on a socket, a
 *     pipe, a FIFO, an inotify descriptor or a pseudoterminal they are one and the same
 *     switch: F_GETFL shows O_ASYNC and SIGIO comes;
 *   - on an eventfd, a timerfd or an epoll descriptor (no async support in the kernel)
 *     F_SETFL accepts O_ASYNC and quietly does nothing, while FIOASYNC fails with ENOTTY;
 *   - O_ASYNC given to open() (a FIFO, a pseudoterminal): F_GETFL shows it set, and no
 *     signal ever comes; clearing and setting it again with F_SETFL or FIOASYNC changes
 *     nothing (via=open, via=open+fcntl, via=open+ioctl);
 *   - with --siginfo (F_SETSIG to SIGRTMIN, so the siginfo is filled in): which si_code and
 *     band each kind sends for "readable";
 *   - that only trying it tells you: check F_GETFL after F_SETFL, and expect a signal.
 *
 * Read with: UNP §25.2 (the three steps; Figure 25.4 uses FIOASYNC); chapters/udp_sigio.md
 * "Switching it on: fcntl or ioctl" and "Which descriptors".
 *
 * Usage: async_enable_probe [-k KIND] [-t MS] [--siginfo]
 *   -k KIND    only this descriptor: udp, pipe, fifo, inotify, pty, eventfd, timerfd or
 *              epoll (default: all)
 *   -t MS      how long to wait for a signal after making an event (default 100)
 *   --siginfo  F_SETSIG(SIGRTMIN) as well, and print the signal, si_code and si_band
 *
 * Try it:
 *   ./async_enable_probe
 *   ./async_enable_probe -k eventfd
 *   ./async_enable_probe -k fifo
 *   ./async_enable_probe --siginfo
 *
 * What to observe:
 *   - "kind=udp via=fcntl result=ok o_async=1 sigio=1", the same for via=ioctl;
 *   - "kind=eventfd via=fcntl result=ok o_async=0 sigio=0" (accepted, ignored) next to
 *     "kind=eventfd via=ioctl result=ENOTTY o_async=0 sigio=0" (refused);
 *   - "kind=fifo via=open result=ok o_async=1 sigio=0": the flag says on, nothing comes,
 *     and via=open+fcntl (off, then on again) is no better: o_async_after_off=1, the "off"
 *     did not even clear the flag;
 *   - --siginfo: "kind=inotify ... sig=SIGRTMIN si_code=POLL_IN si_band=0x41".
 *
 * Linux notes: both calls end in the file's ->fasync operation (fs/fcntl.c setfl(),
 * fs/ioctl.c ioctl_fioasync()). setfl() skips it when there is none and O_ASYNC is not one
 * of the flags F_SETFL stores itself, so the call "succeeds"; ioctl_fioasync() returns
 * ENOTTY. socket(7) calls FIOASYNC synonymous with O_ASYNC: true for sockets only. The
 * O_ASYNC bit that F_GETFL shows is kept by ->fasync itself (set when it registers the
 * file for signals, cleared when it unregisters it); both calls ask ->fasync only when the
 * bit differs from the request. open() stores the bit without registering, so every later
 * request looks like "already so" (open(2), BUGS). A terminal that gets O_ASYNC with no
 * owner yet makes the caller its owner (drivers/tty/tty_io.c); here the owner is set first.
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
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* A directory of our own for the FIFO and for the file whose creation inotify reports;
 * removed at exit, whatever the exit. */
static char tmpdir[] = "/tmp/async_enable_probe.XXXXXX";
static int made_tmpdir;
static char fifo_path[64], file_path[64];

static void remove_tmpdir(void)
{
    if (made_tmpdir) {
        unlink(fifo_path);
        unlink(file_path);
        rmdir(tmpdir);
    }
}

/* Whether to set F_SETSIG too (--siginfo), and the signal to wait for. */
static int use_siginfo;
static int io_signal = SIGIO;

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

/* make_subject - a fresh descriptor of the given kind. open_flags (0 or O_ASYNC) go to
 * open() for the kinds that are opened by name (fifo, pty). */
static struct subject make_subject(const char *kind, int open_flags)
{
    struct subject s = {-1, -1, -1};
    int p[2];

    if (strcmp(kind, "fifo") == 0) {
        unlink(fifo_path);
        check(mkfifo(fifo_path, 0600), "mkfifo");
        /* The reading end first (non-blocking, so it does not wait for a writer). */
        check(s.fd = open(fifo_path, O_RDONLY | O_NONBLOCK | open_flags), "open(FIFO, O_RDONLY)");
        check(s.extra = open(fifo_path, O_WRONLY | O_NONBLOCK), "open(FIFO, O_WRONLY)");
    } else if (strcmp(kind, "pty") == 0) {
        /* The master side, where what is written to the terminal (the slave) arrives. */
        check(s.fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | open_flags), "posix_openpt");
        if (grantpt(s.fd) != 0 || unlockpt(s.fd) != 0)
            die("grantpt/unlockpt");
        const char *name = ptsname(s.fd);
        if (!name)
            die("ptsname");
        check(s.extra = open(name, O_RDWR | O_NOCTTY), "open(pty slave)");
    } else if (strcmp(kind, "inotify") == 0) {
        check(s.fd = inotify_init1(IN_NONBLOCK), "inotify_init1");
        check(inotify_add_watch(s.fd, tmpdir, IN_CREATE), "inotify_add_watch");
    } else if (strcmp(kind, "udp") == 0) {
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
    } else if (strcmp(kind, "pipe") == 0 || strcmp(kind, "fifo") == 0) {
        check((int)write(s->extra, "x", 1), "write(pipe)");
    } else if (strcmp(kind, "pty") == 0) {
        check((int)write(s->extra, "x", 1), "write(pty slave)");
    } else if (strcmp(kind, "inotify") == 0) {
        int fd;
        unlink(file_path);
        check(fd = open(file_path, O_WRONLY | O_CREAT | O_EXCL, 0600), "open(O_CREAT)");
        close(fd);
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

/* signal_within - was the I/O signal (blocked, so it waits in the pending set) delivered
 * within ms milliseconds? sigtimedwait takes it out of the pending set, into *si. */
static int signal_within(const sigset_t *set, long ms, siginfo_t *si)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

    for (;;) {
        int sig = sigtimedwait(set, si, &ts);
        if (sig > 0)
            return 1;
        if (errno == EAGAIN)
            return 0;
        if (errno != EINTR)
            die("sigtimedwait");
    }
}

/* switch_async - O_ASYNC on (on=1) or off through F_SETFL or FIOASYNC; "ok" or the errno's
 * name. */
static const char *switch_async(int fd, int use_ioctl, int on)
{
    if (use_ioctl) {
        if (ioctl(fd, FIOASYNC, &on) == -1)
            return errno_name(errno);
    } else {
        int fl = fcntl(fd, F_GETFL);
        if (fl == -1 || fcntl(fd, F_SETFL, on ? fl | O_ASYNC : fl & ~O_ASYNC) == -1)
            return errno_name(errno);
    }
    return "ok";
}

enum via { VIA_FCNTL, VIA_IOCTL, VIA_OPEN, VIA_OPEN_FCNTL, VIA_OPEN_IOCTL };
static const char *const via_names[] = {"fcntl", "ioctl", "open", "open+fcntl", "open+ioctl"};

/* probe - one descriptor kind, one way of switching O_ASYNC on; prints one line. */
static void probe(const char *kind, enum via via, const sigset_t *set, long wait_ms)
{
    int at_open = via >= VIA_OPEN;
    struct subject s = make_subject(kind, at_open ? O_ASYNC : 0);
    const char *result = "ok";
    siginfo_t si;
    int after_off = -1; /* O_ASYNC as F_GETFL shows it after the "off" request */

    /* Owner first, as always; F_SETOWN is generic and works on any descriptor. */
    if (fcntl(s.fd, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN) on %s", s.fd, kind);
    if (use_siginfo && fcntl(s.fd, F_SETSIG, io_signal) == -1)
        die("fcntl(%d, F_SETSIG) on %s", s.fd, kind);
    /* LAB: two-switches — the same request, two doors. */
    if (via == VIA_FCNTL || via == VIA_IOCTL) {
        result = switch_async(s.fd, via == VIA_IOCTL, 1);
    } else if (via != VIA_OPEN) {
        /* LAB: open-o-async — the flag came with open(); off and on again, the way a
         * program would try to repair it. Each request finds the bit already as asked
         * for (off: nothing was registered to remove, so the bit stays) and does nothing. */
        result = switch_async(s.fd, via == VIA_OPEN_IOCTL, 0);
        int off_fl = fcntl(s.fd, F_GETFL);
        after_off = off_fl != -1 && (off_fl & O_ASYNC) != 0;
        if (strcmp(result, "ok") == 0)
            result = switch_async(s.fd, via == VIA_OPEN_IOCTL, 1);
    }
    int fl = fcntl(s.fd, F_GETFL);
    if (fl == -1)
        die("fcntl(%d, F_GETFL) on %s", s.fd, kind);
    make_event(kind, &s);
    int got = signal_within(set, wait_ms, &si);
    if (!use_siginfo) {
        printf("kind=%s via=%s result=%s o_async=%d sigio=%d", kind, via_names[via], result,
               (fl & O_ASYNC) != 0, got);
        if (after_off != -1)
            printf(" o_async_after_off=%d", after_off);
        printf("\n");
    } else {
        char sig[16], code[16], band[96];
        printf("kind=%s via=%s result=%s o_async=%d notified=%d", kind, via_names[via], result,
               (fl & O_ASYNC) != 0, got);
        if (got)
            printf(" sig=%s si_code=%s si_band=%#lx (%s)", signal_name(si.si_signo, sig, sizeof sig),
                   sicode_name(si.si_code, code, sizeof code), (long)si.si_band,
                   band_names(si.si_band, band, sizeof band));
        printf("\n");
    }
    close_subject(&s);
    while (signal_within(set, 0, &si))
        ; /* nothing left over for the next probe */
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-k KIND] [-t MS] [--siginfo]\n"
            "  -k KIND    only this kind: udp, pipe, fifo, inotify, pty, eventfd, timerfd, epoll\n"
            "             (default: all)\n"
            "  -t MS      wait at most MS ms for the signal after each event (default 100, 1 to 10000)\n"
            "  --siginfo  F_SETSIG(SIGRTMIN) too; print the signal, si_code and si_band\n"
            "  -h         this help\n"
            "example: %s -k eventfd\n",
            lab_prog, lab_prog);
}

int main(int argc, char **argv)
{
    enum { OPT_SIGINFO = 256 };
    static const struct option longopts[] = {
        {"siginfo", no_argument, NULL, OPT_SIGINFO},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const kinds[] = {"udp",     "pipe",    "fifo",    "inotify",
                                        "pty",     "eventfd", "timerfd", "epoll"};
    const char *only = NULL;
    long wait_ms = 100;
    sigset_t set;
    int opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":k:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k': only = optarg; break;
        case 't': wait_ms = parse_long("-t", optarg, 1, 10000); break;
        case OPT_SIGINFO: use_siginfo = 1; break;
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
            usage_error("-k: '%s' is not one of udp, pipe, fifo, inotify, pty, eventfd, timerfd, "
                        "epoll", only);
    }

    if (!mkdtemp(tmpdir))
        die("mkdtemp(%s)", tmpdir);
    made_tmpdir = 1;
    atexit(remove_tmpdir);
    snprintf(fifo_path, sizeof fifo_path, "%s/fifo", tmpdir);
    snprintf(file_path, sizeof file_path, "%s/created", tmpdir);
    if (use_siginfo)
        io_signal = SIGRTMIN;

    /* Step 1 here is "block the signal" rather than "install a handler": a blocked signal
     * stays pending, harmless, until sigtimedwait collects it. SIGIO is in the set with
     * --siginfo too, so that a plain SIGIO (a full queue) would not kill the program. */
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    sigaddset(&set, io_signal);
    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
        die("sigprocmask(SIG_BLOCK)");

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (only && strcmp(only, kinds[i]) != 0)
            continue;
        probe(kinds[i], VIA_FCNTL, &set, wait_ms);
        probe(kinds[i], VIA_IOCTL, &set, wait_ms);
        if (strcmp(kinds[i], "fifo") == 0 || strcmp(kinds[i], "pty") == 0) {
            probe(kinds[i], VIA_OPEN, &set, wait_ms);
            probe(kinds[i], VIA_OPEN_FCNTL, &set, wait_ms);
            probe(kinds[i], VIA_OPEN_IOCTL, &set, wait_ms);
        }
    }
    return EXIT_OK;
}
