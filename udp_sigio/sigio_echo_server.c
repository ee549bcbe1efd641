/* SPDX-License-Identifier: MIT */
/*
 * sigio_echo_server - UDP echo server driven by SIGIO (UNP Figure 25.1, right).
 *
 * The SIGIO handler reads and timestamps every datagram; the main loop works and replies.
 *
 * Demonstrates:
 *   - the three set-up steps in the book's order (handler, owner, enable), switched on with
 *     fcntl(F_SETFL, O_ASYNC) or with ioctl(FIOASYNC) + ioctl(FIONBIO) as UNP Figure 25.4
 *     does, each read back with F_GETOWN / F_GETFL; with --no-owner not one signal comes;
 *   - one SIGIO standing for several datagrams: the handler reads until EAGAIN and counts how
 *     many datagrams each call found; SIGHUP prints that histogram (UNP §25.3);
 *   - arrival times that stay accurate while the main loop is busy (the handler notes when it
 *     read each datagram), next to the kernel's own SO_TIMESTAMPNS stamp;
 *   - handing datagrams from a handler to the main loop through a fixed ring that the main
 *     loop touches only with SIGIO blocked; a full ring drops and counts, it never stops;
 *   - a stop that does not wait for the work queued in the ring: SIGTERM cuts the current
 *     work short, and what the ring still holds is counted as unechoed;
 *   - interrupt mitigation (--mode mitigate): take one SIGIO, then keep it blocked and poll
 *     the socket until it stays empty for a while, as the kernel's NAPI does with a network
 *     card's interrupts; under load the signals per datagram fall toward zero.
 *
 * Read with: UNP §25.2 (Figure 25.1, right) and §25.3; chapters/udp_sigio.md
 * "The SIGIO echo server".
 *
 * Usage: sigio_echo_server [-p PORT] [-a ADDR | -6] [-q SLOTS] [-w USEC]
 *                          [--mode batch|textbook|mitigate] [--poll N] [--rt]
 *                          [--enable fcntl|ioctl] [--no-owner] [--stamps FILE] [-v]
 *   -p PORT        UDP port (default 9025; 0 = the kernel chooses, printed on the first line)
 *   -a ADDR        address to bind (default 127.0.0.1); -6 is short for -a ::1
 *   -q SLOTS       datagrams the ring between handler and main loop holds (default 64)
 *   -w USEC        simulated work per datagram, microseconds of busy CPU (default 0)
 *   --mode M       batch (default): the handler drains with recvmmsg, the main loop echoes
 *                  the whole ring with sendmmsg while SIGIO stays blocked; textbook: one
 *                  recvmsg per datagram, and SIGIO let in around each reply, as the book does;
 *                  mitigate: batch, then SIGIO stays blocked while the main loop polls the
 *                  socket itself (recvmmsg, sendmmsg) until --poll polls in a row find nothing
 *   --poll N       mitigate's budget: empty polls in a row before sleeping again (default 64)
 *   --rt           SCHED_FIFO and mlockall, as a time server runs (exit 4 if not permitted)
 *   --enable HOW   fcntl (default): F_SETFL O_ASYNC|O_NONBLOCK; ioctl: FIOASYNC + FIONBIO
 *   --no-owner     skip F_SETOWN (wrong on purpose: then no signal is ever sent)
 *   --stamps FILE  one line per datagram: seq kernel_ns handler_ns processed_ns sent_ns
 *   -v             one line per datagram: sender, destination, interface, length
 *
 * Try it:
 *   ./sigio_echo_server -p 9025 &
 *   ./udp_echo_client -p 9025 -n 100000 -W 32
 *   kill -HUP %1          # reads=K signals=M ..., signals_total= ..., sighup received= ...
 *   kill %1               # received=N echoed=N dropped=N truncated=N ... signals=S
 *   ./sigio_echo_server -p 9025 --no-owner &  ./udp_echo_client -n 5; kill %1
 *
 * What to observe:
 *   - the "setup step=1/2/3" lines after "listening on": F_GETOWN is our pid, F_GETFL shows
 *     O_ASYNC and O_NONBLOCK (with --no-owner: F_GETOWN=0, and at the end signals=0 and
 *     unread=N: the datagrams were there, nobody was told);
 *   - after SIGHUP, under load, many signals read several datagrams and some read none
 *     (reads=0): SIGIO is not queued; then the counters so far ("sighup received=N ...");
 *   - stopped while busy (-w 100000 under a flood), it ends at once with unechoed=N: the
 *     datagrams it had read into the ring and not yet worked on;
 *   - with -w 1000 --stamps, handler_ns - kernel_ns stays at tens of µs, where the blocking
 *     loop's read_ns - kernel_ns grows to hundreds of ms (scripts/udp_sigio-fig251.sh).
 *
 * Linux notes: SIGIO is SIGPOLL and its default action terminates, hence handler first.
 * F_SETFL O_ASYNC, which the book found on very few systems, works on every Linux socket and
 * is the same switch as FIOASYNC. Without F_SETOWN (or with owner 0) the kernel sends
 * nothing at all. The kernel stamp comes from SO_TIMESTAMPNS (ns) rather than the book's
 * SO_TIMESTAMP / SIOCGSTAMP (µs), and IP_PKTINFO stands for IP_RECVDSTADDR + IP_RECVIF.
 */
#include "dgram.h"
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define RECV_BATCH 64   /* datagrams per recvmmsg in the handler (batch mode) */
#define DROP_BATCH 16   /* datagrams per recvmmsg when the ring is full */
#define HIST_SIZE 4096  /* reads-per-signal buckets; the last one is "4095 or more" */

/* ---- what the SIGIO handler shares with the main loop --------------------------------
 *
 * LAB: ring-shared-with-handler — the handler fills the ring and the counters; the main
 * loop empties the ring and reads the counters. The main loop touches all of this only
 * while SIGIO is blocked, and a handler cannot run in the middle of code that has its
 * signal blocked, so the two never meet: plain (not volatile) types are safe here
 * (chapters/README.md, "Data a handler shares"), rule 2). The one exception is the slots the main loop
 * is echoing while SIGIO is let in (textbook mode, and during -w work): those slots still
 * count as full, so the handler never writes to them.
 */
static struct {
    struct dgram *slot;      /* size slots, allocated before the handler is installed */
    int64_t *processed_ns;   /* per slot: when the main loop finished its work on it */
    unsigned size;           /* -q */
    unsigned head;           /* oldest datagram not yet echoed (only the main loop moves it) */
    unsigned count;          /* datagrams in the ring (the handler adds, the main loop removes) */
} ring;

static struct {
    int fd;                        /* the socket (set before the handler is installed) */
    int batch;                     /* --mode batch or mitigate: recvmmsg in the handler */
    uint64_t signals;              /* handler calls */
    uint64_t received;             /* datagrams read, into the ring or dropped */
    uint64_t dropped;              /* read while the ring was full, thrown away */
    uint64_t per_call[HIST_SIZE];  /* per_call[k]: handler calls that read k datagrams */
    int recv_errno;                /* first unexpected receive error, reported by main */
} io;

/* Set by the SIGTERM/SIGINT and SIGHUP handlers, read by the main loop: flags, so volatile
 * sig_atomic_t (chapters/README.md, "Data a handler shares", rule 1). */
static volatile sig_atomic_t stop_requested, histogram_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    histogram_requested = 1; /* the main loop prints: printf is not async-signal-safe */
}

/* stop_check - for burn_us_or_stop: the -w work ends at once when a stop is requested. */
static int stop_check(void)
{
    return stop_requested;
}

static struct dgram *ring_slot(unsigned i)
{
    return &ring.slot[(ring.head + i) % ring.size];
}

/*
 * read_into_ring - one receive into the free end of the ring. Called by the handler only.
 * Returns datagrams read, or -1 with errno (EAGAIN: the socket is empty).
 */
static int read_into_ring(void)
{
    if (!io.batch) {
        /* Textbook: one recvmsg per datagram, as the book's handler does with recvfrom. */
        if (dgram_recv(io.fd, ring_slot(ring.count), 0) < 0)
            return -1;
        ring.count++;
        io.received++;
        return 1;
    }
    /* Batch: one recvmmsg fills up to RECV_BATCH free slots, each datagram with its own
     * control messages (kernel stamp, pktinfo). recvmmsg is not on POSIX's list of
     * async-signal-safe functions (it is not POSIX at all), but like recvmsg it is a bare
     * system call in glibc: no lock, no malloc. */
    struct mmsghdr mm[RECV_BATCH];
    struct iovec iov[RECV_BATCH];
    unsigned room = ring.size - ring.count, want = room < RECV_BATCH ? room : RECV_BATCH;

    for (unsigned i = 0; i < want; i++) {
        memset(&mm[i], 0, sizeof mm[i]);
        dgram_prepare(ring_slot(ring.count + i), &mm[i].msg_hdr, &iov[i]);
    }
    int n = recvmmsg(io.fd, mm, want, 0, NULL);
    if (n < 0)
        return -1;
    int64_t now = now_ns(CLOCK_REALTIME); /* one clock read for the whole batch */
    for (int i = 0; i < n; i++)
        dgram_decode(ring_slot(ring.count + (unsigned)i), &mm[i].msg_hdr, mm[i].msg_len, now);
    ring.count += (unsigned)n;
    io.received += (uint64_t)n;
    return n;
}

/*
 * read_and_drop - the ring is full: read datagrams anyway and throw them away. Not reading
 * them would be worse: they would sit in the socket, and SIGIO is sent when a datagram
 * arrives, not while some are waiting, so nothing would tell us to come back for them.
 */
static int read_and_drop(void)
{
    static unsigned char scratch[DROP_BATCH]; /* one byte each: the rest is cut off */
    struct mmsghdr mm[DROP_BATCH];
    struct iovec iov[DROP_BATCH];

    for (int i = 0; i < DROP_BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = &scratch[i], .iov_len = 1};
        memset(&mm[i], 0, sizeof mm[i]);
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(io.fd, mm, DROP_BATCH, 0, NULL);
    if (n < 0)
        return -1;
    io.dropped += (uint64_t)n;
    io.received += (uint64_t)n;
    return n;
}

/*
 * on_sigio - LAB: drain-until-eagain. SIGIO says "something happened on the socket", not
 * "one datagram": while one SIGIO is pending, more arrivals add nothing (a standard signal
 * is not queued). So every call reads until the socket reports EAGAIN, and counts what it
 * found: several datagrams, one, or none (an earlier call already took them).
 * Only async-signal-safe work: recvmsg/recvmmsg, clock_gettime, our own memory.
 */
static void on_sigio(int sig)
{
    int saved_errno = errno;
    uint64_t reads = 0;

    (void)sig;
    for (;;) {
        int n = ring.count < ring.size ? read_into_ring() : read_and_drop();
        if (n < 0) {
            /* EAGAIN is the normal end. Anything else is reported by the main loop. */
            if (errno != EAGAIN && errno != EWOULDBLOCK && !io.recv_errno)
                io.recv_errno = errno;
            break;
        }
        reads += (uint64_t)n;
    }
    io.signals++;
    io.per_call[reads < HIST_SIZE ? reads : HIST_SIZE - 1]++;
    errno = saved_errno;
}

/* ---- the main loop: everything below runs with SIGIO blocked unless it says otherwise ---- */

enum mode { MODE_BATCH, MODE_TEXTBOOK, MODE_MITIGATE };
static const char *const mode_names[] = {"batch", "textbook", "mitigate"};

struct config {
    enum mode mode;
    int use_ioctl, no_owner, verbose;
    long work_us, poll_budget;
    FILE *stamps;
};

static struct {
    uint64_t echoed, truncated, send_errors, processed;
    uint64_t unechoed; /* in the ring when the stop came: read, never worked on or echoed */
    uint64_t polls, empty_polls; /* --mode mitigate: recvmmsg calls of the main loop, */
    uint64_t polled;             /* and the datagrams they read, with no signal at all */
} served;

/* The signal masks: "closed" has SIGIO, SIGHUP, SIGTERM and SIGINT blocked (the main
 * loop's normal state); "open" lets them in (while waiting and while working); "poll" lets
 * in all but SIGIO (--mode mitigate while it polls, so a stop request still gets through);
 * "work" is the one work() uses: "open", or "poll" in mitigate mode. */
static sigset_t mask_closed, mask_open, mask_poll;
static const sigset_t *mask_work = &mask_open;

static void set_mask(const sigset_t *mask)
{
    if (sigprocmask(SIG_SETMASK, mask, NULL) == -1)
        die("sigprocmask(SIG_SETMASK)");
}

/* work - the -w busy work for one datagram. SIGIO is let in meanwhile (unless we are
 * closing down), so that datagrams arriving during the work are read, and timestamped, at
 * once: that is the point of the design. */
static void work(const struct config *cfg)
{
    sigset_t before;

    if (cfg->work_us == 0)
        return;
    if (sigprocmask(SIG_SETMASK, stop_requested ? NULL : mask_work, &before) == -1)
        die("sigprocmask(SIG_SETMASK)");
    burn_us_or_stop(cfg->work_us, stop_check); /* cut short by SIGTERM: stop within 1 s */
    set_mask(&before);
}

/* wait_writable - a non-blocking send found the send buffer full (EAGAIN): wait a little
 * for room rather than lose the echo. Returns 1 if there is room now. */
static int wait_writable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};

    return poll(&pfd, 1, 100) == 1;
}

/* echo_one - send one datagram back; counts the result. */
static void echo_one(int fd, struct dgram *d)
{
    ssize_t n = dgram_echo(fd, d);

    if (n < 0 && (errno == EAGAIN || errno == ENOBUFS) && wait_writable(fd))
        n = dgram_echo(fd, d);
    if (n < 0) {
        if (served.send_errors++ < 5)
            warn_errno("sendmsg");
    } else {
        served.echoed++;
    }
}

/* after_echo - what is printed or written about one datagram once it is done. */
static void after_echo(const struct config *cfg, const struct dgram *d, int64_t processed)
{
    if (cfg->verbose)
        dgram_print(d);
    if (cfg->stamps && !d->truncated)
        dgram_stamp(cfg->stamps, d, served.processed, processed);
    served.processed++;
}

/*
 * serve_one - LAB: textbook-loop. The book's main loop: take the oldest datagram, let SIGIO
 * in while replying, block it again, free the slot. Every datagram that arrives while SIGIO
 * is let in interrupts us at once, which is what makes its read time accurate, and also
 * what makes this loop slow: one interruption per arrival, one sigprocmask pair per reply.
 */
static void serve_one(int fd, const struct config *cfg)
{
    struct dgram *d = ring_slot(0);
    int64_t processed = 0;

    if (d->truncated) {
        dgram_warn_truncated(served.truncated++);
    } else {
        if (!stop_requested)
            set_mask(&mask_open);
        burn_us_or_stop(cfg->work_us, stop_check);
        processed = now_ns(CLOCK_REALTIME);
        echo_one(fd, d); /* the slot is still counted in ring.count: the handler keeps off */
        set_mask(&mask_closed);
    }
    after_echo(cfg, d, processed);
    ring.head = (ring.head + 1) % ring.size;
    ring.count--;
}

/* send_all - sendmmsg the n prepared messages, resuming after a partial send. A message
 * the kernel refuses (after one wait for room, if the buffer was full) is counted and
 * skipped. */
static void send_all(int fd, struct mmsghdr *mm, unsigned n)
{
    unsigned done = 0;
    int waited = 0;

    while (done < n) {
        int k = sendmmsg(fd, mm + done, n - done, 0);
        if (k < 0) {
            if ((errno == EAGAIN || errno == ENOBUFS) && !waited && wait_writable(fd)) {
                waited = 1;
                continue;
            }
            if (served.send_errors++ < 5)
                warn_errno("sendmmsg");
            done++; /* the error belongs to the first message: skip it */
        } else {
            served.echoed += (unsigned)k;
            done += (unsigned)k;
        }
        waited = 0;
    }
}

/*
 * serve_batch - LAB: batch-loop. Everything in the ring at this moment: work on each (with
 * SIGIO let in, see work()), then one sendmmsg for all of them while SIGIO stays blocked.
 * Why this is faster than the textbook loop (chapters/udp_sigio.md, "The SIGIO echo
 * server"): arrivals no longer interrupt the replies (an interruption costs a signal
 * delivery, and an IPI when we are running on another CPU), the mask is not switched twice
 * per datagram, and the system call cost is shared by the batch on both sides (recvmmsg in
 * the handler, sendmmsg here).
 */
static void serve_batch(int fd, const struct config *cfg, struct mmsghdr *mm, struct iovec *iov)
{
    unsigned n = ring.count, m = 0;

    /* LAB: stop-mid-ring — a stop request (or SIGHUP) ends the batch at the next datagram:
     * with -w 1000000 and 4096 slots, finishing the ring would take over an hour. Those
     * worked on so far are echoed; the rest stay in the ring, for the next batch after a
     * SIGHUP's report, or counted as unechoed after a stop. */
    for (unsigned i = 0; i < n; i++) {
        if (stop_requested || histogram_requested) {
            n = i;
            break;
        }
        struct dgram *d = ring_slot(i);
        if (d->truncated)
            continue;
        work(cfg);
        ring.processed_ns[(ring.head + i) % ring.size] = now_ns(CLOCK_REALTIME);
        dgram_reply_msg(d, &mm[m].msg_hdr, &iov[m]);
        m++;
    }
    send_all(fd, mm, m);
    for (unsigned i = 0; i < n; i++) {
        struct dgram *d = ring_slot(i);
        if (d->truncated)
            dgram_warn_truncated(served.truncated++);
        after_echo(cfg, d, ring.processed_ns[(ring.head + i) % ring.size]);
    }
    ring.head = (ring.head + n) % ring.size;
    ring.count -= n;
}

/*
 * serve_mitigated - LAB: mitigate. A SIGIO has filled the ring; now do what a network driver
 * does after an interrupt under NAPI: leave the interrupt off (SIGIO stays blocked) and poll
 * the socket directly, echoing each batch as it comes, for as long as polls keep finding
 * datagrams. Only after --poll empty polls in a row does it go back to sleep, and it re-arms
 * in the one safe order: throw away the SIGIO that arrivals during polling left pending
 * (it is about datagrams already read), then look at the socket one last time, then sleep.
 * A datagram that arrives after that last look raises a fresh SIGIO, so none is slept
 * through. Under load one signal stands for thousands of datagrams and the system calls per
 * datagram fall below the loop's two (one recvmmsg and one sendmmsg per batch); the price
 * is the CPU spent on empty polls, and, when idle, nothing: it sleeps as plain SIGIO does.
 */
static void serve_mitigated(int fd, const struct config *cfg, struct mmsghdr *mm, struct iovec *iov)
{
    static const struct timespec no_wait = {0, 0};
    sigset_t sigio_only;
    long empty = 0;

    sigemptyset(&sigio_only);
    sigaddset(&sigio_only, SIGIO);
    for (;;) {
        serve_batch(fd, cfg, mm, iov); /* the ring is empty afterwards */
        set_mask(&mask_poll);          /* SIGTERM, SIGINT, SIGHUP may come in; SIGIO not */
        int n = 0;
        while (!stop_requested && !histogram_requested) {
            n = read_into_ring();
            served.polls++;
            if (n > 0) {
                served.polled += (uint64_t)n;
                break;
            }
            served.empty_polls++;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && !io.recv_errno)
                io.recv_errno = errno;
            if (++empty >= cfg->poll_budget)
                break;
        }
        set_mask(&mask_closed);
        if (n > 0) {
            empty = 0;
            continue;
        }
        if (stop_requested || histogram_requested)
            return; /* the main loop stops or prints; the ring is empty */
        /* Re-arm: the pending SIGIO (if any) goes, then one last look. */
        while (sigtimedwait(&sigio_only, NULL, &no_wait) == SIGIO)
            ;
        n = read_into_ring();
        served.polls++;
        if (n <= 0) {
            served.empty_polls++;
            return; /* empty: sleep in sigsuspend until the next SIGIO */
        }
        served.polled += (uint64_t)n;
        empty = 0;
    }
}

/* print_histogram - LAB: sighup-histogram. Printed here, not in the SIGHUP handler. In
 * mitigate mode a line polled=N adds what the main loop read by polling, with no signal:
 * then the datagrams of the buckets plus N make datagrams_total. */
static void print_histogram(int mitigate)
{
    for (unsigned k = 0; k < HIST_SIZE; k++) {
        if (!io.per_call[k])
            continue;
        if (k == HIST_SIZE - 1)
            printf("reads=%u+ signals=%" PRIu64 "\n", k, io.per_call[k]);
        else
            printf("reads=%u signals=%" PRIu64 "\n", k, io.per_call[k]);
    }
    if (mitigate)
        printf("polled=%" PRIu64 "\n", served.polled);
    /* datagrams_total is the handler's own count, so it is exact even if the last bucket
     * (4095 or more) was ever used. */
    printf("signals_total=%" PRIu64 " datagrams_total=%" PRIu64 "\n", io.signals, io.received);
}

/* print_counters - the counters of the summary line (without what only the end knows),
 * after the histogram on SIGHUP with "sighup " in front. */
static void print_counters(const char *prefix, const char *end)
{
    printf("%sreceived=%" PRIu64 " echoed=%" PRIu64 " dropped=%" PRIu64 " truncated=%" PRIu64
           " send_errors=%" PRIu64 " signals=%" PRIu64 "%s\n",
           prefix, io.received, served.echoed, io.dropped, served.truncated, served.send_errors,
           io.signals, end);
}

/* flags_text - F_GETFL's value as "O_RDWR|O_NONBLOCK|O_ASYNC". */
static const char *flags_text(int fl, char *buf, size_t len)
{
    const char *mode = (fl & O_ACCMODE) == O_RDWR ? "O_RDWR" :
                       (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : "O_RDONLY";

    snprintf(buf, len, "%s%s%s", mode, (fl & O_NONBLOCK) ? "|O_NONBLOCK" : "",
             (fl & O_ASYNC) ? "|O_ASYNC" : "");
    return buf;
}

/*
 * setup_sigio - the three steps, in the book's order, each read back and reported. SIGIO
 * is already blocked (see main), so no signal can reach us half-way through; the report
 * lines are returned in report[] and printed after "listening on".
 */
static void setup_sigio(int fd, const struct config *cfg, char report[3][200])
{
    char flags[64];
    int on = 1;

    /* LAB: setup-handler — step 1, first: SIGIO (= SIGPOLL on Linux) terminates a process
     * that has no handler for it, so a datagram arriving between the later steps and a
     * late sigaction would kill us. SA_RESTART: a system call of the main loop that SIGIO
     * interrupts is resumed rather than failing with EINTR. */
    on_signal(SIGIO, on_sigio, SA_RESTART);
    snprintf(report[0], 200, "setup step=1 name=handler call=sigaction(SIGIO) handler=on_sigio");

    /* LAB: setup-owner — step 2: tell the kernel which process gets the signal. Without it
     * the kernel has nobody to send to and sends nothing, silently (--no-owner shows it). */
    if (!cfg->no_owner) {
        if (fcntl(fd, F_SETOWN, getpid()) == -1)
            die("fcntl(%d, F_SETOWN, %d)", fd, (int)getpid());
    }
    int owner = fcntl(fd, F_GETOWN);
    if (owner == -1)
        die("fcntl(%d, F_GETOWN)", fd);
    snprintf(report[1], 200, "setup step=2 name=owner call=%s F_GETOWN=%d pid=%d",
             cfg->no_owner ? "skipped(--no-owner)" : "fcntl(F_SETOWN,getpid())", owner,
             (int)getpid());

    /* LAB: setup-enable — step 3: switch signal-driven I/O on, and make the socket
     * non-blocking so that the handler's "read until EAGAIN" ends instead of sleeping. */
    if (cfg->use_ioctl) {
        /* The book's way (UNP Figure 25.4): FIOASYNC, then FIONBIO. On Linux FIOASYNC calls
         * the same ->fasync hook as F_SETFL O_ASYNC. The book's order leaves a moment when
         * O_ASYNC is on and O_NONBLOCK is not; harmless here because SIGIO is blocked. */
        if (ioctl(fd, FIOASYNC, &on) == -1)
            die("ioctl(%d, FIOASYNC, 1)", fd);
        if (ioctl(fd, FIONBIO, &on) == -1)
            die("ioctl(%d, FIONBIO, 1)", fd);
    } else {
        /* POSIX's way, which the book found on very few systems; every Linux socket has it. */
        int fl = fcntl(fd, F_GETFL);
        if (fl == -1)
            die("fcntl(%d, F_GETFL)", fd);
        if (fcntl(fd, F_SETFL, fl | O_NONBLOCK | O_ASYNC) == -1)
            die("fcntl(%d, F_SETFL, O_NONBLOCK|O_ASYNC)", fd);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl == -1)
        die("fcntl(%d, F_GETFL)", fd);
    snprintf(report[2], 200, "setup step=3 name=enable call=%s F_GETFL=%s o_async=%d o_nonblock=%d",
             cfg->use_ioctl ? "ioctl(FIOASYNC)+ioctl(FIONBIO)" : "fcntl(F_SETFL,O_ASYNC|O_NONBLOCK)",
             flags_text(fl, flags, sizeof flags), (fl & O_ASYNC) != 0, (fl & O_NONBLOCK) != 0);
}

/* count_unread - at the end, with SIGIO blocked: datagrams still in the socket that no
 * handler read (with --no-owner, all of them). Bounded, in case a flood is still going. */
static uint64_t count_unread(int fd)
{
    unsigned char byte;
    uint64_t n = 0;

    while (n < 1000000 && recv(fd, &byte, 1, MSG_DONTWAIT) >= 0)
        n++;
    return n;
}

/*
 * touch_pages - LAB: touch-ring — one store into every page of [p, p + len), through a
 * volatile pointer. Memory from calloc may be pages the kernel has not mapped yet (it maps
 * a page at its first write), and a compiler may drop a memset of memory it knows calloc
 * zeroed: gcc -O2 did, so the ring's pages were first touched under load. A store through
 * a volatile pointer is one the compiler must make.
 */
static void touch_pages(void *p, size_t len)
{
    volatile unsigned char *byte = p;
    long page = sysconf(_SC_PAGESIZE);

    if (page <= 0)
        page = 4096;
    for (size_t off = 0; off < len; off += (size_t)page)
        byte[off] = 0;
    if (len)
        byte[len - 1] = 0; /* the last page, when p is not at the start of a page */
}

/* one_of - 0 if text is word0, 1 if it is word1, otherwise a usage error naming option. */
static int one_of(const char *option, const char *text, const char *word0, const char *word1)
{
    if (strcmp(text, word0) == 0)
        return 0;
    if (strcmp(text, word1) != 0)
        usage_error("%s: '%s' is neither %s nor %s", option, text, word0, word1);
    return 1;
}

/* parse_mode - the --mode word, or a usage error naming the three. */
static enum mode parse_mode(const char *text)
{
    for (unsigned m = 0; m < sizeof mode_names / sizeof mode_names[0]; m++)
        if (strcmp(text, mode_names[m]) == 0)
            return (enum mode)m;
    usage_error("--mode: '%s' is not batch, textbook or mitigate", text);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-p PORT] [-a ADDR | -6] [-q SLOTS] [-w USEC]\n"
            "       [--mode batch|textbook|mitigate] [--poll N] [--rt]\n"
            "       [--enable fcntl|ioctl] [--no-owner] [--stamps FILE] [-v]\n"
            "  -p PORT        UDP port to bind (default 9025; 0 = kernel chooses)\n"
            "  -a ADDR        address to bind (default 127.0.0.1); -6 = -a ::1\n"
            "  -q SLOTS       ring slots between the handler and the main loop (default 64, 1 to 4096)\n"
            "  -w USEC        busy work per datagram in microseconds (default 0, at most 1000000)\n"
            "  --mode M       batch (default: recvmmsg in the handler, sendmmsg with SIGIO blocked)\n"
            "                 or textbook (one recvmsg per datagram; SIGIO let in around each reply)\n"
            "                 or mitigate (batch, then poll with SIGIO blocked until the socket\n"
            "                 stays empty: one signal for many datagrams under load)\n"
            "  --poll N       mitigate: empty polls in a row before sleeping (default 64, 1 to 1000000)\n"
            "  --rt           run SCHED_FIFO with memory locked (exit 4 if not permitted)\n"
            "  --enable HOW   fcntl (default: F_SETFL O_ASYNC|O_NONBLOCK) or ioctl (FIOASYNC + FIONBIO)\n"
            "  --no-owner     do not set the owner (F_SETOWN): no signal will come\n"
            "  --stamps FILE  write 'seq kernel_ns handler_ns processed_ns sent_ns' per datagram\n"
            "  -v             print sender, destination and interface of each datagram\n"
            "  -h             this help\n"
            "SIGHUP prints the reads-per-signal histogram and the counters so far;\n"
            "SIGINT/SIGTERM end with a summary (at once: what the ring holds is counted unechoed).\n"
            "example: %s -p 0 -w 200 --stamps /tmp/sigio.txt\n",
            lab_prog, lab_prog);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, 'M'},
        {"poll", required_argument, NULL, 'P'},
        {"rt", no_argument, NULL, 'R'},
        {"enable", required_argument, NULL, 'E'},
        {"no-owner", no_argument, NULL, 'N'},
        {"stamps", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addr_text = "127.0.0.1", *stamps_path = NULL;
    int addr_given = 0, six = 0;
    struct config cfg = {0};
    struct sockaddr_storage addr;
    char report[3][200];
    int port = 9025, opt, realtime = 0, poll_given = 0;
    long slots = 64;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":p:a:6q:w:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'p': port = parse_port("-p", optarg); break;
        case 'a': addr_text = optarg, addr_given = 1; break;
        case '6': six = 1; break;
        case 'q': slots = parse_long("-q", optarg, 1, 4096); break;
        case 'w': cfg.work_us = parse_long("-w", optarg, 0, 1000000); break;
        case 'M': cfg.mode = parse_mode(optarg); break;
        case 'P': cfg.poll_budget = parse_long("--poll", optarg, 1, 1000000); poll_given = 1; break;
        case 'R': realtime = 1; break;
        case 'E': cfg.use_ioctl = one_of("--enable", optarg, "fcntl", "ioctl"); break;
        case 'N': cfg.no_owner = 1; break;
        case 'S': stamps_path = optarg; break;
        case 'v': cfg.verbose = 1; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (addr_given && six)
        usage_error("-a %s and -6 exclude each other (-6 is short for -a ::1)", addr_text);
    if (six)
        addr_text = "::1";
    if (poll_given && cfg.mode != MODE_MITIGATE)
        usage_error("--poll: only with --mode mitigate (the other modes do not poll)");
    if (!poll_given)
        cfg.poll_budget = 64;

    /* LAB: block-first — before anything can raise them, block the four signals this
     * program catches. From here on they are let in only where the main loop chooses
     * (sigsuspend, and the work/reply windows), so a datagram that arrives during set-up
     * leaves SIGIO pending and the first sigsuspend delivers it. */
    sigemptyset(&mask_closed);
    sigaddset(&mask_closed, SIGIO);
    sigaddset(&mask_closed, SIGHUP);
    sigaddset(&mask_closed, SIGTERM);
    sigaddset(&mask_closed, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask_closed, &mask_open) == -1)
        die("sigprocmask(SIG_BLOCK, SIGIO|SIGHUP|SIGTERM|SIGINT)");
    sigdelset(&mask_open, SIGIO);
    sigdelset(&mask_open, SIGHUP);
    sigdelset(&mask_open, SIGTERM);
    sigdelset(&mask_open, SIGINT);
    if (sigprocmask(SIG_BLOCK, NULL, &mask_closed) == -1)
        die("sigprocmask");
    mask_poll = mask_open;
    sigaddset(&mask_poll, SIGIO);
    if (cfg.mode == MODE_MITIGATE)
        mask_work = &mask_poll;

    /* The ring, allocated and touched once now (touch_pages): nothing is allocated later,
     * so memory stays flat however many datagrams pass (a test checks VmRSS from before the
     * first datagram to the end). */
    ring.size = (unsigned)slots;
    ring.slot = calloc(ring.size, sizeof *ring.slot);
    ring.processed_ns = calloc(ring.size, sizeof *ring.processed_ns);
    struct mmsghdr *send_mm = calloc(ring.size, sizeof *send_mm);
    struct iovec *send_iov = calloc(ring.size, sizeof *send_iov);
    if (!ring.slot || !ring.processed_ns || !send_mm || !send_iov)
        fail("out of memory for a ring of %u slots", ring.size);
    touch_pages(ring.slot, ring.size * sizeof *ring.slot);
    touch_pages(ring.processed_ns, ring.size * sizeof *ring.processed_ns);
    touch_pages(send_mm, ring.size * sizeof *send_mm);
    touch_pages(send_iov, ring.size * sizeof *send_iov);
    touch_pages(io.per_call, sizeof io.per_call);

    socklen_t addrlen = parse_addr("-a", addr_text, port, &addr);
    int fd = bound_socket(SOCK_DGRAM, &addr, addrlen);
    dgram_enable_info(fd, addr.ss_family);
    if (stamps_path)
        cfg.stamps = dgram_stamps_open(stamps_path, "handler_ns");
    io.fd = fd;
    io.batch = cfg.mode != MODE_TEXTBOOK;
    const char *rt_text = realtime ? dgram_realtime("--rt") : "no";

    on_signal(SIGHUP, on_hup, 0);
    on_signal(SIGTERM, on_stop, 0);
    on_signal(SIGINT, on_stop, 0);
    setup_sigio(fd, &cfg, report);

    announce_listening(fd);
    for (int i = 0; i < 3; i++)
        printf("%s\n", report[i]);
    printf("setup done mode=%s ring=%u work_us=%ld rt=%s\n", mode_names[cfg.mode], ring.size,
           cfg.work_us, rt_text);

    int reported_recv_error = 0;
    while (!stop_requested) {
        /* LAB: block-then-wait — the ring is looked at with SIGIO blocked, and sigsuspend
         * lets the signals in and sleeps in one atomic step. With a flag test and pause()
         * instead, a SIGIO landing between the test and pause() would be slept through. */
        while (ring.count == 0 && !stop_requested && !histogram_requested)
            sigsuspend(&mask_open); /* returns -1/EINTR once a handler has run */
        if (histogram_requested) {
            histogram_requested = 0;
            print_histogram(cfg.mode == MODE_MITIGATE);
            print_counters("sighup ", "");
        }
        if (io.recv_errno && !reported_recv_error) {
            errno = io.recv_errno;
            warn_errno("recvmsg in the SIGIO handler");
            reported_recv_error = 1;
        }
        if (ring.count == 0)
            continue;
        if (cfg.mode == MODE_TEXTBOOK)
            serve_one(fd, &cfg);
        else if (cfg.mode == MODE_MITIGATE)
            serve_mitigated(fd, &cfg, send_mm, send_iov);
        else
            serve_batch(fd, &cfg, send_mm, send_iov);
    }
    /* What the handler read and nobody worked on yet is not echoed now (SIGIO stays
     * blocked, the ring no longer changes): it is counted, so that received = echoed +
     * dropped + truncated + send_errors + unechoed. */
    served.unechoed = ring.count;
    ring.count = 0;
    if (histogram_requested) {
        print_histogram(cfg.mode == MODE_MITIGATE);
        print_counters("sighup ", "");
    }

    uint64_t unread = count_unread(fd);
    if (cfg.stamps)
        dgram_stamps_close(cfg.stamps, stamps_path);
    char end[160];
    int used = snprintf(end, sizeof end, " unechoed=%" PRIu64 " unread=%" PRIu64,
                        served.unechoed, unread);
    if (cfg.mode == MODE_MITIGATE && used > 0 && (size_t)used < sizeof end) /* the polling's cost */
        snprintf(end + used, sizeof end - (size_t)used, " polls=%" PRIu64 " empty_polls=%" PRIu64,
                 served.polls, served.empty_polls);
    print_counters("", end);
    close(fd);
    free(ring.slot);
    free(ring.processed_ns);
    free(send_mm);
    free(send_iov);
    return EXIT_OK;
}
