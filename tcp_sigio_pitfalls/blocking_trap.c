/* SPDX-License-Identifier: MIT */
/*
 * blocking_trap - why a TCP socket driven by SIGIO must be non-blocking: a read after every
 * signal hangs when the signal was not about data.
 *
 * Demonstrates:
 *   - a SIGIO handler that reads after every signal, as the book's UDP server does; on TCP the
 *     same signal also means "output buffer has room", and then a blocking read has nothing
 *     to return and waits (a timer ends the wait and the program reports blocked=1);
 *   - the same handler on a non-blocking socket: the read returns EAGAIN and life goes on;
 *   - with --drain the handler reads until EAGAIN, as it must when one SIGIO can stand for
 *     several events; on a blocking socket even a data signal then ends in a blocked read;
 *   - no POLL_IN at all while a thread sleeps in a blocking recv() on the socket.
 *
 * Read with: UNP §25.2 "SIGIO with TCP Sockets" (the socket should be nonblocking);
 * chapters/tcp_sigio_pitfalls.md "The non-blocking rule".
 *
 * Usage: blocking_trap [--blocking] [--drain] [-t MS]
 *   --blocking  leave the socket blocking (wrong on purpose); default: O_NONBLOCK
 *   --drain     the handler reads until EAGAIN instead of once per signal
 *   -t MS       how long a read may block before the timer ends it (default 300)
 *
 * Try it:
 *   ./blocking_trap               # blocked=0: the read after POLL_OUT says EAGAIN
 *   ./blocking_trap --blocking    # blocked=1: the same read waits until the timer fires
 *   ./blocking_trap --blocking --drain
 *
 * What to observe:
 *   - "step=space ... read=EAGAIN blocked=0" without --blocking; "read=EINTR ... blocked=1"
 *     with it: the signal came from the ACKs that freed our output buffer, not from data;
 *   - "step=waitdata signals=0 thread_bytes=5": the data went to the sleeping reader and no
 *     signal was sent, where step data had signals=1;
 *   - the last line: mode=... blocked=0 or 1.
 *
 * Linux notes: POLL_OUT follows only a write that found the buffer full (here a send with
 * MSG_DONTWAIT that returned EAGAIN). While a thread is blocked in recv() on a TCP socket the
 * kernel drops POLL_IN instead of sending it (sk_wait_data sets SOCKWQ_ASYNC_WAITDATA);
 * UDP does not do this. Plain SIGIO carries no si_code, so the handler cannot know which
 * event it is reacting to: that is the whole trap.
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define WAIT_LIMIT_MS 5000 /* every wait for the peer or the kernel is bounded by this */

/* ---- what the SIGIO handler does and what it saw ----------------------------------- */

/* Set once by main before O_ASYNC is switched on; only read by the handler. */
static int sock_fd = -1;
static timer_t read_timer;
static struct itimerspec read_limit; /* one-shot: -t MS */
static int drain_reads;              /* --drain */

/*
 * The handler's counters for the current step (chapters/README.md, "Data a handler shares"). The
 * handler writes them; main resets and reads them only while SIGIO is blocked (outside
 * release()), so plain types would be safe (rule 2); they are lone counters and flags,
 * volatile sig_atomic_t all the same (rule 1).
 */
static volatile sig_atomic_t sig_calls;   /* SIGIO handler calls */
static volatile sig_atomic_t read_calls;  /* recv() calls made by the handler */
static volatile sig_atomic_t read_bytes;  /* bytes they returned */
static volatile sig_atomic_t read_eagain; /* ... returned EAGAIN: nothing to read, no harm */
static volatile sig_atomic_t read_eintr;  /* ... were interrupted by the timer */
static volatile sig_atomic_t read_blocked;     /* ... took the whole -t MS or longer */
static volatile sig_atomic_t read_longest_ms;  /* the slowest read, in ms */
static volatile sig_atomic_t timer_fired; /* set by on_alarm() */

/* SIGALRM from the read timer: its only job is to interrupt recv() (no SA_RESTART). */
static void on_alarm(int sig)
{
    (void)sig;
    timer_fired = 1;
}

/* one_read - one recv() with the timer armed; async-signal-safe (recv, timer_settime and
 * clock_gettime are on the POSIX list). Returns recv's result; errno as recv left it. */
static ssize_t one_read(void)
{
    static char buf[65536]; /* only the handler uses it, and SIGIO is blocked inside it */
    static const struct itimerspec off;
    int64_t start = now_ns(CLOCK_MONOTONIC);

    timer_settime(read_timer, 0, &read_limit, NULL);
    /* LAB: read-after-signal — the read the book's handler makes. On a blocking socket
     * with no data this is where the program sits. */
    ssize_t n = recv(sock_fd, buf, sizeof buf, 0);
    int err = errno;
    timer_settime(read_timer, 0, &off, NULL);

    int64_t ms = (now_ns(CLOCK_MONOTONIC) - start) / 1000000;
    if (ms > read_longest_ms)
        read_longest_ms = (sig_atomic_t)ms;
    read_calls = read_calls + 1;
    if (n > 0)
        read_bytes = read_bytes + (sig_atomic_t)n;
    else if (n == -1 && (err == EAGAIN || err == EWOULDBLOCK))
        read_eagain = read_eagain + 1;
    else if (n == -1 && err == EINTR)
        read_eintr = read_eintr + 1;
    /* Blocked = it did not come back before the timer. Measured, not inferred from EINTR,
     * so that SO_RCVTIMEO's EAGAIN (the backstop, see main) counts as well. */
    if (ms * 1000000 >= (int64_t)read_limit.it_value.tv_sec * 1000000000 + read_limit.it_value.tv_nsec)
        read_blocked = read_blocked + 1;
    errno = err;
    return n;
}

/* LAB: sigio-handler — reads after every signal, whatever the signal was for: with plain
 * SIGIO it cannot know: si_code is SI_KERNEL (tcp_events shows it). */
static void on_sigio(int sig)
{
    int saved_errno = errno;

    (void)sig;
    sig_calls = sig_calls + 1;
    ssize_t n = one_read();
    /* --drain: read until the socket is empty, because one SIGIO may stand for several
     * arrivals (signals merge while one is pending). The last read finds nothing. */
    while (drain_reads && n > 0)
        n = one_read();
    errno = saved_errno;
}

static void reset_counters(void)
{
    sig_calls = read_calls = read_bytes = read_eagain = read_eintr = 0;
    read_blocked = read_longest_ms = timer_fired = 0;
}

/*
 * release - let pending SIGIOs in, and any that come within quiet_ms after them. ppoll()
 * unblocks SIGIO atomically for the wait only (like sigsuspend with a time limit); the
 * handler runs inside it. Called and returns with SIGIO blocked.
 */
static void release(long quiet_ms)
{
    sigset_t open_mask;
    struct timespec quiet = {quiet_ms / 1000, (quiet_ms % 1000) * 1000000L};

    if (sigprocmask(SIG_BLOCK, NULL, &open_mask) == -1)
        die("sigprocmask(SIG_BLOCK, NULL)");
    sigdelset(&open_mask, SIGIO);
    for (int rounds = 0; rounds < 100; rounds++) {
        int n = ppoll(NULL, 0, &quiet, &open_mask);
        if (n == 0)
            return;
        if (n == -1 && errno != EINTR)
            die("ppoll(quiet %ld ms)", quiet_ms);
    }
    fail("SIGIO kept coming: more than 100 in a row");
}

/* ---- the connection ---------------------------------------------------------------- */

static int queued(int fd, unsigned long request)
{
    int n;

    if (ioctl(fd, request, &n) == -1)
        die("ioctl(%d, %s)", fd, request == SIOCINQ ? "SIOCINQ" : "SIOCOUTQ");
    return n;
}

/* sleep_ms - pause between looks at a state; SIGIO stays blocked meanwhile. */
static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};

    while (nanosleep(&ts, &ts) == -1)
        if (errno != EINTR)
            die("nanosleep");
}

/* wait_outq_empty - until everything we sent has been acknowledged (bounded). */
static void wait_outq_empty(int fd)
{
    for (int ms = 0; queued(fd, SIOCOUTQ) > 0; ms++) {
        if (ms > WAIT_LIMIT_MS)
            fail("our data was not acknowledged within %d ms", WAIT_LIMIT_MS);
        sleep_ms(1);
    }
}

/* peer_read - the peer reads exactly len bytes, waiting at most WAIT_LIMIT_MS for each. */
static void peer_read(int fd, long len)
{
    static char buf[65536];

    for (long got = 0; got < len;) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, WAIT_LIMIT_MS);
        if (r == -1 && errno == EINTR)
            continue;
        if (r == -1)
            die("poll(%d)", fd);
        if (r == 0)
            fail("the peer got %ld of %ld bytes within %d ms", got, len, WAIT_LIMIT_MS);
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == -1 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            die("recv(%d) on the peer", fd);
        got += n;
    }
}

static void peer_send(int fd, const char *text)
{
    size_t len = strlen(text);

    if (send(fd, text, len, 0) != (ssize_t)len)
        die("send(%d, %zu bytes)", fd, len);
}

/* connect_pair - a loopback connection: *ours (to become signal-driven) and *theirs. */
static void connect_pair(int *ours, int *theirs)
{
    struct sockaddr_storage addr;
    socklen_t len = parse_addr("address", "127.0.0.1", 0, &addr);
    int one = 1, sndbuf = 16384;
    int lfd = bound_socket(SOCK_STREAM, &addr, len);

    if (listen(lfd, 1) == -1)
        die("listen(%d)", lfd);
    len = sizeof addr;
    if (getsockname(lfd, (struct sockaddr *)&addr, &len) == -1)
        die("getsockname(%d)", lfd);
    *ours = socket(AF_INET, SOCK_STREAM, 0);
    if (*ours == -1)
        die("socket(AF_INET, SOCK_STREAM)");
    /* A small send buffer so that step space fills it quickly. */
    if (setsockopt(*ours, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) == -1)
        die("setsockopt(%d, SO_SNDBUF, %d)", *ours, sndbuf);
    if (connect(*ours, (struct sockaddr *)&addr, len) == -1)
        die("connect(127.0.0.1)");
    *theirs = accept(lfd, NULL, NULL);
    if (*theirs == -1)
        die("accept(%d)", lfd);
    /* TCP_NODELAY: each peer send is one segment, one POLL_IN. */
    if (setsockopt(*theirs, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
        die("setsockopt(%d, TCP_NODELAY)", *theirs);
    if (close(lfd) == -1)
        die("close(%d)", lfd);
}

/* ---- the blocked reader thread (step waitdata) ------------------------------------- */

static _Atomic int reader_tid;           /* set by the thread before it calls recvfrom */
static ssize_t reader_got;               /* written by the thread, read after the join */

static void *blocked_reader(void *arg)
{
    char buf[64];

    (void)arg;
    reader_tid = (int)gettid();
    /* LAB: blocked-reader — sleeps in the kernel's sk_wait_data() until data comes. While it
     * sleeps, TCP drops the POLL_IN signals of this socket instead of sending them. */
    reader_got = recvfrom(sock_fd, buf, sizeof buf, 0, NULL, NULL);
    return NULL;
}

/* first_line - the first line of a (proc) file into buf; -1 if it cannot be read. */
static int first_line(const char *path, char *buf, int len)
{
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return -1;
    char *got = fgets(buf, len, f);
    fclose(f);
    return got ? 0 : -1;
}

/* in_recv - is thread tid asleep inside recvfrom()? stat's third field is its state (S =
 * sleeping); /proc/self/task/TID/syscall names the system call a sleeping thread is in. */
static int in_recv(pid_t tid)
{
    char path[64], text[256];
    long nr = -1;

    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    if (first_line(path, text, sizeof text) == -1)
        die("read %s", path);
    const char *paren = strrchr(text, ')'); /* the thread's name may hold spaces */
    if (!paren || paren[1] != ' ' || paren[2] != 'S')
        return 0;
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    if (first_line(path, text, sizeof text) == -1)
        return 1; /* no syscall file on this kernel: asleep is the best we can know */
    if (sscanf(text, "%ld", &nr) != 1)
        return 0;
    return nr == SYS_recvfrom || nr == SYS_recvmsg;
}

/* ---- steps ------------------------------------------------------------------------- */

/* report - what the step did (sentence), what the handler's reads came to (a sentence for
 * people), then the key=value line for scripts. */
static void report(const char *step, const char *sentence)
{
    const char *what = read_calls == 0 ? "none"
                       : read_blocked ? (read_eintr ? "EINTR" : "EAGAIN-after-timeout")
                       : read_eagain ? "EAGAIN"
                                     : "data";

    printf("%s\n  ", sentence);
    if (sig_calls == 0)
        printf("No SIGIO, so no read.\n");
    else if (read_blocked)
        printf("A read after the signal blocked for %d ms, until the timer cut it off.\n",
               (int)read_longest_ms);
    else if (read_eagain && read_bytes > 0)
        printf("The handler read %d bytes; its last read said EAGAIN and the program carried on.\n",
               (int)read_bytes);
    else if (read_eagain)
        printf("The read after the signal said EAGAIN and the program carried on.\n");
    else
        printf("The handler read %d bytes.\n", (int)read_bytes);
    printf("step=%s signals=%d reads=%d bytes=%d read=%s longest_ms=%d blocked=%d\n", step,
           (int)sig_calls, (int)read_calls, (int)read_bytes, what, (int)read_longest_ms,
           read_blocked ? 1 : 0);
}

/* fill - write on our socket until the kernel says EAGAIN. MSG_DONTWAIT makes this one call
 * non-blocking even on a blocking socket; the EAGAIN is what arms POLL_OUT. Returns bytes. */
static long fill(int fd)
{
    static char block[16384];
    long written = 0;

    for (;;) {
        ssize_t n = send(fd, block, sizeof block, MSG_DONTWAIT);
        if (n > 0) {
            written += n;
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return written;
        die("send(%d, MSG_DONTWAIT)", fd);
    }
}

/* Each step runs with SIGIO blocked, lets the handler in with release(), reports, and
 * returns whether a read blocked. */

/* step_data - the ordinary case: the peer sends, the signal means data. */
static int step_data(int theirs)
{
    reset_counters();
    peer_send(theirs, "hello");
    release(50);
    report("data", "data: the peer sent 5 bytes.");
    return read_blocked != 0;
}

/* step_space - fill our output buffer, let the peer read everything and wait for the ACKs:
 * their SIGIO is about room to write, and there is nothing to read. */
static int step_space(int ours, int theirs)
{
    reset_counters();
    long written = fill(ours);
    peer_read(theirs, written);
    wait_outq_empty(ours);
    release(50);
    report("space", "space: our write hit EAGAIN; the peer read it all; its ACKs freed our buffer.");
    return read_blocked != 0;
}

/* step_waitdata - a thread asleep in a blocking recv() on the socket when the data comes. */
static int step_waitdata(int ours, int theirs, int blocking)
{
    sigset_t all, old;
    pthread_t reader;
    int err;

    reset_counters();
    if (!blocking)
        clear_fl(ours, O_NONBLOCK); /* only a blocking recv sleeps in sk_wait_data */
    /* The thread starts with every signal blocked: SIGIO must go to the main thread. */
    sigfillset(&all);
    if ((err = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
        die_errno(err, "pthread_sigmask(SIG_SETMASK, all)");
    if ((err = pthread_create(&reader, NULL, blocked_reader, NULL)) != 0)
        die_errno(err, "pthread_create");
    if ((err = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
        die_errno(err, "pthread_sigmask(SIG_SETMASK, old)");
    for (int ms = 0; reader_tid == 0 || !in_recv((pid_t)reader_tid); ms++) {
        if (ms > WAIT_LIMIT_MS)
            fail("the reader thread was not asleep in recv within %d ms", WAIT_LIMIT_MS);
        sleep_ms(1);
    }
    peer_send(theirs, "hello");
    if ((err = pthread_join(reader, NULL)) != 0)
        die_errno(err, "pthread_join");
    if (!blocking)
        set_fl(ours, O_NONBLOCK);
    release(50);
    printf("waitdata: a thread was asleep in recv() when the peer sent 5 bytes.\n  It got %zd"
           " bytes, and %s.\n", reader_got, sig_calls ? "a SIGIO came as well" : "no SIGIO came");
    printf("step=waitdata signals=%d thread_bytes=%zd\n", (int)sig_calls, reader_got);
    return read_blocked != 0;
}

/* setup_read_timer - the timer one_read() arms: SIGALRM after limit_ms, no SA_RESTART, so
 * that a blocked recv() returns EINTR. Plus SO_RCVTIMEO on fd as a backstop. */
static void setup_read_timer(int fd, long limit_ms)
{
    struct sigevent sev;

    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGALRM;
    if (timer_create(CLOCK_MONOTONIC, &sev, &read_timer) == -1)
        die("timer_create(CLOCK_MONOTONIC, SIGALRM)");
    read_limit.it_value.tv_sec = limit_ms / 1000;
    read_limit.it_value.tv_nsec = (limit_ms % 1000) * 1000000L;
    on_signal(SIGALRM, on_alarm, 0);
    /* Backstop: should the timer's signal land just before recv() starts to sleep, recv()
     * still returns (EAGAIN) a second later. Nothing in this program waits forever. */
    struct timeval backstop = {(limit_ms + 1000) / 1000, ((limit_ms + 1000) % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &backstop, sizeof backstop) == -1)
        die("setsockopt(%d, SO_RCVTIMEO)", fd);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [--blocking] [--drain] [-t MS]\n"
            "  --blocking  leave the socket blocking (wrong on purpose; default O_NONBLOCK)\n"
            "  --drain     the handler reads until EAGAIN, not once per signal\n"
            "  -t MS       a read blocked this long is ended by a timer (default 300, 10 to 10000)\n"
            "  -h          this help\n"
            "example: %s --blocking -t 200\n",
            lab_prog, lab_prog);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"blocking", no_argument, NULL, 'B'},
        {"drain", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int blocking = 0, opt, ours, theirs;
    long limit_ms = 300;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'B': blocking = 1; break;
        case 'D': drain_reads = 1; break;
        case 't': limit_ms = parse_long("-t", optarg, 10, 10000); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    connect_pair(&ours, &theirs);
    sock_fd = ours;
    setup_read_timer(ours, limit_ms);

    /* LAB: handler-before-owner — handler, SIGIO blocked, owner, then O_ASYNC. */
    on_signal(SIGIO, on_sigio, 0);
    block_signal(SIGIO);
    if (fcntl(ours, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN, %d)", ours, (int)getpid());
    /* LAB: nonblocking-or-not — the one line the book insists on. --blocking leaves it out,
     * wrong on purpose. */
    set_fl(ours, blocking ? O_ASYNC : O_ASYNC | O_NONBLOCK);
    printf("socket: %s; handler: %s after every SIGIO; a read is cut off after %ld ms\n",
           blocking ? "BLOCKING (wrong on purpose)" : "non-blocking",
           drain_reads ? "reads until EAGAIN" : "one read", limit_ms);

    int blocked = step_data(theirs);
    blocked |= step_space(ours, theirs);
    blocked |= step_waitdata(ours, theirs, blocking);
    printf("mode=%s drain=%d timer_ms=%ld blocked=%d\n", blocking ? "blocking" : "nonblocking",
           drain_reads, limit_ms, blocked);

    clear_fl(ours, O_ASYNC);
    if (close(ours) == -1 || close(theirs) == -1)
        die("close");
    if (timer_delete(read_timer) == -1)
        die("timer_delete");
    return EXIT_OK;
}
