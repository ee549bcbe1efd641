/* SPDX-License-Identifier: MIT */
/*
 * delivery_latency - how long after the kernel stamped a datagram does the first line of our
 * own code run? Five ways of being told, measured the same way.
 *
 * Demonstrates:
 *   - the cost of each notification path: a blocking receive, epoll_wait, sigwaitinfo on an
 *     F_SETSIG realtime signal, a SIGIO handler while the main loop sleeps in sigsuspend,
 *     and a SIGIO handler interrupting a main loop that is busy computing;
 *   - why the NTP server of UNP Figure 25.1 reads in the handler: a busy main loop is
 *     interrupted within microseconds, where a loop would come back only after its work;
 *   - that none of them beats the kernel's own receive stamp (SO_TIMESTAMPNS), which is the
 *     zero of every measurement here.
 *
 * Read with: UNP §25.2 (Figure 25.1); TLPI §63.3; chapters/udp_sigio.md
 * "What the measurements show".
 *
 * Usage: delivery_latency [--mode MODE] [-n N] [-i USEC]
 *   MODE: blocking, epoll, sigwaitinfo, handler-asleep, handler-busy or all (default all)
 *   -n N     datagrams per mode (default 2000)   -i USEC  one every USEC (default 1000)
 *
 * Try it:
 *   ./delivery_latency -n 1000
 *   ./delivery_latency --mode handler-busy -n 500
 *
 * What to observe:
 *   - one line per mode: mode=NAME samples=N p50_us=X p99_us=Y max_us=Z, the time from the
 *     kernel's stamp to our first instruction after being told;
 *   - the asleep paths pay for waking an idle CPU, handler-busy for interrupting a running
 *     one; which costs more depends on the machine (on a virtual machine, interrupting a
 *     busy virtual CPU is often the slower: chapters/udp_sigio.md, "How soon is the handler
 *     told?").
 *
 * Linux notes: the sender is a child process on the other CPU when there is one; on loopback
 * the packet is stamped and queued in the sender's system call, so the wake-up of this
 * process is what is measured. F_SETSIG and sigwaitinfo are Linux/POSIX, not in UNP's book.
 */
#include "dgram.h"
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

enum mode { BLOCKING, EPOLL, SIGWAITINFO, HANDLER_ASLEEP, HANDLER_BUSY, NMODES };
static const char *const mode_names[NMODES] = {
    "blocking", "epoll", "sigwaitinfo", "handler-asleep", "handler-busy",
};

/* Shared with the SIGIO handler (chapters/README.md, "Data a handler shares")): the socket it reads
 * (rule 3), the samples it writes (plain, read only after the handler is switched off:
 * rule 2), and how many, `taken`, which the main loop reads while samples come (rule 1). */
static int handler_fd = -1;
static int64_t *samples;
static long samples_max;
static volatile sig_atomic_t taken;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [--mode MODE] [-n N] [-i USEC]\n"
            "  --mode MODE  blocking, epoll, sigwaitinfo, handler-asleep, handler-busy, all\n"
            "               (default all)\n"
            "  -n N         datagrams per mode (default 2000, 10 to 1000000)\n"
            "  -i USEC      interval between datagrams (default 1000, 100 to 1000000)\n"
            "  -h           this help\n"
            "example: %s --mode handler-busy -n 500\n",
            lab_prog, lab_prog);
}

/* sender - the child: one datagram every interval_us, on an absolute schedule so that the
 * receiver's delays cannot push the sends together. Exits when done. */
static _Noreturn void sender(const struct sockaddr_storage *to, socklen_t tolen, long count,
                             long interval_us)
{
    unsigned char buf[64];
    struct timespec next;
    int fd = socket(to->ss_family, SOCK_DGRAM, 0);

    if (fd == -1)
        die("sender: socket");
    memset(buf, 0, sizeof buf);
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (long i = 0; i < count; i++) {
        next.tv_nsec += interval_us * 1000;
        while (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        memcpy(buf, &i, sizeof i);
        if (sendto(fd, buf, sizeof buf, 0, (const struct sockaddr *)to, tolen) == -1)
            die("sender: sendto");
    }
    _exit(EXIT_OK);
}

/* on_sigio - the first thing it does is read the clock: that is the moment our code got
 * control. Then it drains the socket (non-blocking) and keeps one sample per datagram.
 * Async-signal-safe: clock_gettime, recvmsg; errno saved. */
static void on_sigio(int sig)
{
    int64_t first = now_ns(CLOCK_REALTIME);
    int saved = errno;
    static struct dgram d; /* one buffer serves every call: SIGIO is blocked while we run */

    (void)sig;
    /* Every datagram carries a kernel stamp: dgram_enable_info waited for stamping to be
     * switched on before the sender started. */
    while (dgram_recv(handler_fd, &d, MSG_DONTWAIT) >= 0)
        if (taken < samples_max)
            samples[taken++] = first - d.kernel_ns;
    errno = saved;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* report - sort the samples and print the mode's line. */
static void report(enum mode m, int64_t *v, long n)
{
    if (n == 0) {
        printf("mode=%s samples=0\n", mode_names[m]);
        return;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    printf("mode=%s samples=%ld p50_us=%.1f p99_us=%.1f max_us=%.1f\n", mode_names[m], n,
           (double)v[n / 2] / 1e3, (double)v[(n * 99) / 100] / 1e3, (double)v[n - 1] / 1e3);
}

/* receive_one - the blocking, epoll and sigwaitinfo paths: wait the mode's way, read the
 * clock the moment the wait returns, then read the datagram for its kernel stamp.
 * Returns the sample in ns, or -1 when nothing came for a second (the sender is done). */
static int64_t receive_one(enum mode m, int fd, int ep, const sigset_t *rtset)
{
    static struct dgram d;
    int64_t first;

    switch (m) {
    case BLOCKING:
        /* The receive is the wait: our code runs again when recvmsg returns. */
        if (dgram_recv(fd, &d, 0) < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return -1; /* the one-second receive timeout: the sender is done */
            die("recvmsg");
        }
        first = now_ns(CLOCK_REALTIME);
        return first - d.kernel_ns;
    case EPOLL: {
        struct epoll_event ev;
        int n = epoll_wait(ep, &ev, 1, 1000);
        first = now_ns(CLOCK_REALTIME);
        if (n == -1)
            die("epoll_wait");
        if (n == 0)
            return -1;
        break;
    }
    case SIGWAITINFO: {
        siginfo_t si;
        struct timespec second = {1, 0};
        int sig = sigtimedwait(rtset, &si, &second);
        first = now_ns(CLOCK_REALTIME);
        if (sig == -1) {
            if (errno == EAGAIN)
                return -1; /* a second without a notification: the sender is done */
            die("sigtimedwait");
        }
        break;
    }
    default:
        fail("receive_one: mode %d is a handler mode", (int)m);
    }
    if (dgram_recv(fd, &d, MSG_DONTWAIT) < 0)
        die("recvmsg after wake-up");
    return first - d.kernel_ns;
}

/* run_mode - one sender, count datagrams, the samples of one mode printed as a line. */
static void run_mode(enum mode m, long count, long interval_us)
{
    struct sockaddr_storage addr, bound;
    socklen_t len = parse_addr("address", "127.0.0.1", 0, &addr), boundlen = sizeof bound;
    int fd = bound_socket(SOCK_DGRAM, &addr, len);
    int ep = -1, rtsig = SIGRTMIN;
    sigset_t rtset, iomask, old;
    long n = 0;
    int64_t *v = calloc((size_t)count, sizeof *v);

    if (!v)
        fail("out of memory for %ld samples", count);
    dgram_enable_info(fd, AF_INET);
    if (getsockname(fd, (struct sockaddr *)&bound, &boundlen) == -1)
        die("getsockname");
    sigemptyset(&rtset);
    sigaddset(&rtset, rtsig);
    sigemptyset(&iomask);
    sigaddset(&iomask, SIGIO);

    switch (m) {
    case BLOCKING: {
        /* A one-second receive timeout ends the mode once the sender has finished. */
        struct timeval second = {1, 0};
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &second, sizeof second) == -1)
            die("setsockopt(SO_RCVTIMEO)");
        break;
    }
    case EPOLL: {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep == -1 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
            die("epoll_create1/epoll_ctl");
        break;
    }
    case SIGWAITINFO:
        /* Blocked first, then owner and F_SETSIG, then O_ASYNC: nothing is ever delivered
         * to a default action, it waits in the queue for sigtimedwait. */
        if (sigprocmask(SIG_BLOCK, &rtset, NULL) == -1)
            die("sigprocmask(SIG_BLOCK, SIGRTMIN)");
        if (fcntl(fd, F_SETOWN, getpid()) == -1)
            die("fcntl(%d, F_SETOWN)", fd);
        if (fcntl(fd, F_SETSIG, rtsig) == -1)
            die("fcntl(%d, F_SETSIG, %d)", fd, rtsig);
        set_fl(fd, O_ASYNC | O_NONBLOCK);
        break;
    case HANDLER_ASLEEP:
    case HANDLER_BUSY:
        handler_fd = fd;
        samples = v;
        samples_max = count;
        taken = 0;
        /* Handler, owner, O_ASYNC: the book's order. SIGIO stays blocked until we wait. */
        if (sigprocmask(SIG_BLOCK, &iomask, &old) == -1)
            die("sigprocmask(SIG_BLOCK, SIGIO)");
        on_signal(SIGIO, on_sigio, SA_RESTART);
        if (fcntl(fd, F_SETOWN, getpid()) == -1)
            die("fcntl(%d, F_SETOWN)", fd);
        set_fl(fd, O_ASYNC | O_NONBLOCK);
        break;
    default:
        break;
    }

    pid_t child = fork();
    if (child == -1)
        die("fork");
    if (child == 0)
        sender(&bound, boundlen, count, interval_us);

    if (m == HANDLER_ASLEEP || m == HANDLER_BUSY) {
        int64_t deadline = now_ns(CLOCK_MONOTONIC) + (count * interval_us + 2000000) * 1000;
        sigset_t waitmask = old;
        sigdelset(&waitmask, SIGIO);
        while (taken < count && now_ns(CLOCK_MONOTONIC) < deadline) {
            if (m == HANDLER_ASLEEP) {
                /* Asleep: ppoll with no descriptors is sigsuspend with a time limit. It
                 * unblocks SIGIO and sleeps in one step, so a signal cannot slip in between;
                 * the 100 ms limit lets the loop notice the deadline. */
                struct timespec tick = {0, 100 * 1000 * 1000};
                if (ppoll(NULL, 0, &tick, &waitmask) == -1 && errno != EINTR)
                    die("ppoll");
            } else {
                /* Busy: the main loop computes with SIGIO unblocked, as the NTP server's
                 * does while it processes; the handler interrupts it. */
                if (sigprocmask(SIG_SETMASK, &waitmask, NULL) == -1)
                    die("sigprocmask");
                burn_us(10000);
                if (sigprocmask(SIG_BLOCK, &iomask, NULL) == -1)
                    die("sigprocmask");
            }
        }
        clear_fl(fd, O_ASYNC);
        n = taken;
        handler_fd = -1;
        samples = NULL;
        if (sigprocmask(SIG_SETMASK, &old, NULL) == -1)
            die("sigprocmask(SIG_SETMASK)");
    } else {
        for (;;) {
            int64_t s = receive_one(m, fd, ep, &rtset);
            if (s < 0)
                break;
            if (n < count)
                v[n++] = s;
            if (n == count)
                break;
        }
    }

    int wstatus;
    if (waitpid(child, &wstatus, 0) == -1)
        die("waitpid");
    if (m == SIGWAITINFO) {
        /* Signals still queued for a socket we are about to close are dropped here. */
        struct timespec zero = {0, 0};
        clear_fl(fd, O_ASYNC);
        while (sigtimedwait(&rtset, NULL, &zero) > 0)
            ;
        if (sigprocmask(SIG_UNBLOCK, &rtset, NULL) == -1)
            die("sigprocmask(SIG_UNBLOCK)");
    }
    report(m, v, n);
    free(v);
    if (ep != -1)
        close(ep);
    close(fd);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long count = 2000, interval_us = 1000;
    int first = 0, last = NMODES - 1, opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":n:i:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            if (strcmp(optarg, "all") == 0)
                break;
            for (first = 0; first < NMODES && strcmp(optarg, mode_names[first]) != 0; first++)
                ;
            if (first == NMODES)
                usage_error("--mode: unknown mode '%s'", optarg);
            last = first;
            break;
        case 'n': count = parse_long("-n", optarg, 10, 1000000); break;
        case 'i': interval_us = parse_long("-i", optarg, 100, 1000000); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    for (int m = first; m <= last; m++)
        run_mode((enum mode)m, count, interval_us);
    return EXIT_OK;
}
