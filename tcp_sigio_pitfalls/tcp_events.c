/* SPDX-License-Identifier: MIT */
/*
 * tcp_events - which TCP conditions raise SIGIO on Linux, one step at a time, plain and realtime.
 *
 * Demonstrates:
 *   - the seven conditions UNP §25.2 lists after TCPv2 p.439, each made to happen alone on a
 *     loopback connection, with the signals it raised: some give none, some give two;
 *   - plain SIGIO: one handler call per step, si_code SI_KERNEL, no descriptor and no band,
 *     so the handler cannot tell arriving data from acknowledged data;
 *   - F_SETSIG with a realtime signal and SA_SIGINFO: one queued signal per event, each with
 *     its si_code (POLL_IN, POLL_OUT, POLL_ERR, POLL_PRI, POLL_HUP) and si_band.
 *
 * Read with: UNP §25.2 "SIGIO with TCP Sockets" (TCPv2 p.439); TLPI §63.3 (F_SETSIG, Table 63-7);
 * chapters/tcp_sigio_pitfalls.md.
 *
 * Usage: tcp_events [--format table|tsv|signals] [--mode both|plain|rt|live] [-q MS]
 *                   [--local ADDR] [--peer ADDR] [--peer-netns PATH]
 *   defaults: --format table --mode both -q 20 --local 127.0.0.1 --peer 127.0.0.1
 *
 * Try it:
 *   ./tcp_events                              # the table
 *   ./tcp_events --format tsv                 # the same for scripts
 *   ./tcp_events --format signals --mode rt   # every signal, with its time in the step
 *   for i in 1 2 3; do ./tcp_events | md5sum; done   # the same table every run
 *   sudo ../scripts/tcp_sigio_pitfalls-netns.sh      # across two namespaces, with a delay
 *
 * What to observe:
 *   - local_shutdown and own_fin_acked: 0 signals, although the book lists "disconnect
 *     initiated" and "disconnect completed";
 *   - data_acked 0 but buffer_space_freed 1 POLL_OUT: space freed is signalled only after a
 *     write found the buffer full;
 *   - peer_half_close: POLL_IN twice; fin_after_own_shutdown: POLL_HUP then POLL_IN;
 *   - data_and_ack (the book's example: data arrives while our data is acknowledged): one
 *     plain SIGIO, but POLL_IN and POLL_OUT with F_SETSIG; on loopback both are there
 *     before the peer has read a byte ("taken before the peer read": POLL_IN=1 POLL_OUT=1);
 *   - the plain column never exceeds one SIGIO per step, and "plain si_code" says SI_KERNEL;
 *   - --mode live: plain SIGIO let in during each step, so the handler runs as each signal
 *     comes; on loopback data_and_ack still gives one call (the answer segment itself
 *     carries the ACK that frees our buffer), across delayed namespaces it can give more,
 *     and none of them says which event it was.
 *
 * Linux notes: a state change signals only where TCP calls sk_wake_async() itself, so the
 * local side of a close is silent; POLL_OUT needs a prior "no space" episode (EAGAIN, a
 * short write, or poll() finding the socket unwritable); a peer's FIN gives two POLL_IN
 * (POLL_HUP first if we had shut down our side); out-of-band data gives SIGURG plus, with
 * F_SETSIG, POLL_PRI and two POLL_IN. In plain and rt mode the signals are blocked during each
 * step and collected when it is over, so the counts are the same in every run; in live mode
 * they are not, and the counts depend on timing.
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Every wait for a state is bounded: a step that does not finish in this time is a failure. */
#define STEP_TIMEOUT_MS 5000
#define MAX_SEEN 64 /* signals one step may raise before we call it runaway */
/* The F_SETSIG signal of the rt walk. A realtime signal queues one siginfo per event; try
 * SIGIO here (an exercise) to see a standard signal keep only the first. */
#define RT_SIGNAL SIGRTMIN

enum mode { MODE_PLAIN, MODE_RT, NMODES };
static const char *const mode_names[NMODES] = {"plain", "rt"};

/* The steps, in the order the walk makes them happen. book: the condition of the list in
 * UNP §25.2 (after TCPv2 p.439) that the step is, or "not in the list". */
enum step {
    ST_LISTENER, ST_CONNECT, ST_DATA, ST_ACKED, ST_SPACE, ST_BOTH, ST_URGENT, ST_RST,
    ST_HALF, ST_SHUT, ST_FINACK, ST_FIN2, NSTEPS
};
static const struct {
    const char *name, *book;
} steps[NSTEPS] = {
    [ST_LISTENER] = {"listener_connection", "connection request completed"},
    [ST_CONNECT] = {"client_connect", "not in the list"},
    [ST_DATA] = {"data_arrived", "data arrived"},
    [ST_ACKED] = {"data_acked", "data sent (output buffer has room)"},
    [ST_SPACE] = {"buffer_space_freed", "data sent (output buffer has room)"},
    [ST_BOTH] = {"data_and_ack", "data arrived + data sent"},
    [ST_URGENT] = {"urgent_data", "not in the list (SIGURG)"},
    [ST_RST] = {"rst_error", "asynchronous error"},
    [ST_HALF] = {"peer_half_close", "half of the connection shut down"},
    [ST_SHUT] = {"local_shutdown", "disconnect initiated"},
    [ST_FINACK] = {"own_fin_acked", "disconnect completed"},
    [ST_FIN2] = {"fin_after_own_shutdown", "half shut down; disconnect completed"},
};

/* One signal as it was received: by the handler (plain mode) or by sigtimedwait (rt). */
struct seen {
    int signo, code, fd;
    long band;
    int64_t t_ns; /* CLOCK_MONOTONIC when we got it */
};

/*
 * Filled by on_io() in plain and live mode and by collect_rt() in rt mode. Shared with the
 * handler (chapters/README.md, "Data a handler shares"): the handler writes them only while
 * the main program has SIGIO and SIGURG unblocked (inside ppoll() in release_plain, or for
 * a whole step in live mode, where the main program does not look at them); the main
 * program reads and resets them only with both signals blocked, so plain types would do.
 * The count and the overflow flag are volatile sig_atomic_t all the same, as lone flags
 * and counters are everywhere in the suite. The handlers block each other (sa_mask in
 * main), so one record() never interrupts another.
 */
static struct seen seen[MAX_SEEN];
static volatile sig_atomic_t nseen;
static volatile sig_atomic_t seen_overflow; /* more than MAX_SEEN in one step */

/* What each step produced, per mode, kept for the report. */
struct result {
    int n;
    struct seen sig[MAX_SEEN];
    int64_t t0_ns; /* when the step's action began */
};
static struct result results[NMODES][NSTEPS];
static int rst_errno[NMODES]; /* what recv() said after step rst_error */
/* rt walk, step data_and_ack: how many of its signals were taken before the peer read a
 * byte of ours (the first ones of results[MODE_RT][ST_BOTH]); -1 if the rt walk did not run. */
static int both_before_read = -1;

struct config {
    const char *local_text, *peer_text, *peer_netns;
    long quiet_ms;
    int modes[NMODES];
    int live; /* --mode live: the plain walk with SIGIO and SIGURG let in during each step */
};

/* The state of one walk. Observed sockets have O_ASYNC; peer sockets never do. */
struct walk {
    const struct config *cfg;
    enum mode mode;
    int rt_sig;          /* F_SETSIG value: RT_SIGNAL in rt mode, 0 (plain SIGIO) otherwise */
    sigset_t io_signals; /* SIGIO, SIGURG and the realtime signal: blocked except in ppoll */
    int home_ns, peer_ns; /* -1 when the peer lives in our own network namespace */
    struct sockaddr_storage local, peer;
    socklen_t local_len, peer_len;
    enum step current;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [--format table|tsv|signals] [--mode both|plain|rt|live] [-q MS]\n"
            "          [--local ADDR] [--peer ADDR] [--peer-netns PATH]\n"
            "  --format F        table (default): one row per step for people;\n"
            "                    tsv: condition book plain_signals rt_signals rt_codes;\n"
            "                    signals: one line per signal with its time in the step\n"
            "                    (rt: when it came; plain: when the handler ran, at the end)\n"
            "  --mode M          both (default), plain (SIGIO only) or rt (F_SETSIG only);\n"
            "                    live: plain SIGIO let in during each step, handled as it comes\n"
            "  -q MS             quiet time that ends a step's collection (default 20, 1 to 1000)\n"
            "  --local ADDR      address of our side (default 127.0.0.1)\n"
            "  --peer ADDR       address of the peer's side (default 127.0.0.1)\n"
            "  --peer-netns PATH create the peer's sockets in that network namespace\n"
            "                    (e.g. /run/netns/NAME; needs CAP_SYS_ADMIN)\n"
            "  -h                this help\n"
            "example: %s --format tsv\n",
            lab_prog, lab_prog);
}

/* ---- collecting signals ------------------------------------------------------------ */

/* record - note one signal in seen[]. Async-signal-safe: called from on_io(). */
static void record(int sig, const siginfo_t *si)
{
    if (nseen >= MAX_SEEN) {
        seen_overflow = 1;
        return;
    }
    struct seen *s = &seen[nseen];
    s->signo = sig;
    s->code = si->si_code;
    s->fd = si->si_fd;     /* meaningless for SI_KERNEL: the kernel leaves it 0 */
    s->band = si->si_band; /* likewise */
    s->t_ns = now_ns(CLOCK_MONOTONIC);
    nseen = nseen + 1;
}

/* LAB: plain-handler — the handler of plain SIGIO (and SIGURG). All it can learn is in
 * siginfo, and for plain SIGIO that is si_code SI_KERNEL and nothing else. */
static void on_io(int sig, siginfo_t *si, void *ctx)
{
    int saved_errno = errno;

    (void)ctx;
    record(sig, si);
    errno = saved_errno;
}

/*
 * release_plain - plain mode, end of a step: unblock the signals and let the handler run
 * until nothing has come for quiet_ms. ppoll() swaps the mask atomically, like sigsuspend()
 * with a time limit, so a signal that is already pending is delivered inside it and cannot
 * slip in between a test and a wait. Called with the signals blocked; returns so.
 */
static void release_plain(const struct walk *w)
{
    sigset_t open_mask;
    struct timespec quiet = {w->cfg->quiet_ms / 1000, (w->cfg->quiet_ms % 1000) * 1000000L};
    int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)STEP_TIMEOUT_MS * 1000000;

    if (sigprocmask(SIG_BLOCK, NULL, &open_mask) == -1)
        die("sigprocmask(SIG_BLOCK, NULL)");
    sigdelset(&open_mask, SIGIO);
    sigdelset(&open_mask, SIGURG);
    for (;;) {
        int n = ppoll(NULL, 0, &quiet, &open_mask);
        if (n == 0)
            return; /* quiet for quiet_ms: the step is over */
        if (n == -1 && errno != EINTR)
            die("ppoll(quiet %ld ms)", w->cfg->quiet_ms);
        /* EINTR: a handler ran; wait for quiet again, but not forever */
        if (now_ns(CLOCK_MONOTONIC) > deadline)
            fail("step %s: signals kept coming for %d ms", steps[w->current].name, STEP_TIMEOUT_MS);
    }
}

/*
 * collect_rt - rt mode: take every signal that is pending, waiting at most ms for the first.
 * Returns how many it took. The signals stay blocked: sigtimedwait takes them off the queue
 * without a handler, with the full siginfo (TLPI §63.3 "sigwaitinfo").
 */
static int collect_rt(const struct walk *w, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    siginfo_t si;
    int taken = 0;

    for (;;) {
        int sig = sigtimedwait(&w->io_signals, &si, &ts);
        if (sig == -1) {
            if (errno == EAGAIN)
                return taken;
            if (errno == EINTR)
                continue;
            die("sigtimedwait");
        }
        record(sig, &si);
        taken++;
        ts.tv_sec = 0; /* after the first, only what is already there */
        ts.tv_nsec = 0;
    }
}

/* idle - wait about ms for the next look at a socket's state. In rt mode the wait takes
 * signals as they come, so that their times are right for the timeline; in plain mode they
 * stay pending (blocked) until release_plain(). */
static void idle(const struct walk *w, long ms)
{
    if (w->mode == MODE_RT) {
        collect_rt(w, ms);
        return;
    }
    struct timespec ts = {0, ms * 1000000L};
    while (nanosleep(&ts, &ts) == -1)
        if (errno != EINTR)
            die("nanosleep");
}

/* step_begin / step_end - bracket one step. Between them the step's signals accumulate;
 * step_end waits for quiet and keeps them in results[][]. */
static void step_begin(struct walk *w, enum step st)
{
    w->current = st;
    nseen = 0;
    seen_overflow = 0;
    results[w->mode][st].t0_ns = now_ns(CLOCK_MONOTONIC);
    /* LAB: live-unblocked — live mode: SIGIO and SIGURG are let in for the whole step, so
     * each signal reaches the handler when it comes, as in a real program, instead of
     * waiting, merged, until the step is over. */
    if (w->mode == MODE_PLAIN && w->cfg->live) {
        sigset_t io;
        sigemptyset(&io);
        sigaddset(&io, SIGIO);
        sigaddset(&io, SIGURG);
        if (sigprocmask(SIG_UNBLOCK, &io, NULL) == -1)
            die("sigprocmask(SIG_UNBLOCK, SIGIO SIGURG)");
    }
}

static void step_end(struct walk *w)
{
    struct result *r = &results[w->mode][w->current];

    if (w->mode == MODE_PLAIN)
        release_plain(w);
    else
        while (collect_rt(w, w->cfg->quiet_ms) > 0)
            ; /* until quiet_ms pass without a signal */
    if (sigprocmask(SIG_BLOCK, &w->io_signals, NULL) == -1) /* live mode let them in */
        die("sigprocmask(SIG_BLOCK, SIGIO SIGURG RT_SIGNAL)");
    if (seen_overflow)
        fail("step %s: more than %d signals", steps[w->current].name, MAX_SEEN);
    r->n = nseen;
    memcpy(r->sig, seen, sizeof seen[0] * (size_t)nseen);
}

/* ---- sockets ----------------------------------------------------------------------- */

/* Which side a socket belongs to: ours (observed, in our namespace) or the peer's. */
enum side { OURS, PEERS };

/* enter - switch this (single-threaded) process to the network namespace of a side; a
 * socket belongs for life to the namespace it was created in. No-op on loopback. */
static void enter(const struct walk *w, enum side side)
{
    if (w->peer_ns < 0)
        return;
    int fd = side == PEERS ? w->peer_ns : w->home_ns;
    if (setns(fd, CLONE_NEWNET) == -1)
        die("setns(%s, CLONE_NEWNET)", side == PEERS ? w->cfg->peer_netns : "/proc/self/ns/net");
}

static int tcp_socket(const struct walk *w, enum side side)
{
    const struct sockaddr_storage *a = side == OURS ? &w->local : &w->peer;
    int one = 1;

    enter(w, side);
    int fd = socket(a->ss_family, SOCK_STREAM, 0);
    if (fd == -1)
        die("socket(SOCK_STREAM)");
    enter(w, OURS);
    /* TCP_NODELAY: every send leaves at once as its own segment, so the number of POLL_IN
     * does not depend on Nagle's algorithm, which would merge small sends. */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
        die("setsockopt(%d, TCP_NODELAY)", fd);
    return fd;
}

/* listener - a listening socket on a side's address, port chosen by the kernel. */
static int listener(const struct walk *w, enum side side)
{
    const struct sockaddr_storage *a = side == OURS ? &w->local : &w->peer;
    socklen_t len = side == OURS ? w->local_len : w->peer_len;
    char text[64];
    int fd = tcp_socket(w, side);

    if (bind(fd, (const struct sockaddr *)a, len) == -1)
        die("bind(%s)", sockaddr_text((const struct sockaddr *)a, text, sizeof text));
    if (listen(fd, 8) == -1)
        die("listen(%d)", fd);
    return fd;
}

static void connect_to(int fd, int listen_fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char text[64];

    if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) == -1)
        die("getsockname(%d)", listen_fd);
    /* A non-blocking socket (ours) says EINPROGRESS; the handshake finishes in the kernel.
     * A blocking one (the peer's) says EINTR when, in live mode, our handler ran in the
     * middle: the handshake goes on all the same, and the caller waits for its end. */
    if (connect(fd, (struct sockaddr *)&ss, len) == -1 && errno != EINPROGRESS && errno != EINTR)
        die("connect(%s)", sockaddr_text((struct sockaddr *)&ss, text, sizeof text));
}

static int accept_one(int listen_fd)
{
    int fd = accept(listen_fd, NULL, NULL);
    int one = 1;

    if (fd == -1)
        die("accept(%d)", listen_fd);
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
        die("setsockopt(%d, TCP_NODELAY)", fd);
    return fd;
}

/*
 * make_async - make fd signal-driven in the walk's mode. The handler is already installed
 * (main) and the signals are blocked, so nothing can arrive before we are ready.
 */
static void make_async(const struct walk *w, int fd)
{
    /* LAB: owner-then-setsig-then-async — the owner first: O_ASYNC without an owner sends
     * nothing. F_SETSIG 0 is the default (plain SIGIO); we say it anyway. */
    if (fcntl(fd, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN, %d)", fd, (int)getpid());
    if (fcntl(fd, F_SETSIG, w->rt_sig) == -1)
        die("fcntl(%d, F_SETSIG, %d)", fd, w->rt_sig);
    /* LAB: nonblocking — every read or write we make on an observed socket must not block
     * (UNP §25.2; blocking_trap shows what happens otherwise). */
    set_fl(fd, O_ASYNC | O_NONBLOCK);
}

/* close_async - stop signals, then close. Signals already queued are not withdrawn by
 * close(): step_end() has taken them before we get here. */
static void close_async(int fd)
{
    clear_fl(fd, O_ASYNC);
    if (close(fd) == -1)
        die("close(%d)", fd);
}

static void close_peer(int fd)
{
    if (close(fd) == -1)
        die("close(%d)", fd);
}

/* ---- the socket states a step waits for -------------------------------------------- */

static int tcp_state(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;

    /* The kernel sets the new state while it processes the packet that also sends the
     * signals: when we see it, they are sent, or microseconds away if another CPU did the
     * work. step_end()'s quiet time covers those microseconds. */
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
        die("getsockopt(%d, TCP_INFO)", fd);
    return ti.tcpi_state;
}

static int queued(int fd, unsigned long request)
{
    int n;

    if (ioctl(fd, request, &n) == -1)
        die("ioctl(%d, %s)", fd, request == SIOCINQ ? "SIOCINQ" : "SIOCOUTQ");
    return n;
}

static int state_is(int fd, long state) { return tcp_state(fd) == state; }
static int state_not(int fd, long state) { return tcp_state(fd) != state; }
/* all we sent (data and FIN) acknowledged by the other side */
static int all_acked(int fd, long unused) { (void)unused; return queued(fd, SIOCOUTQ) == 0; }
static int has_bytes(int fd, long n) { return queued(fd, SIOCINQ) >= n; }
static int readable(int fd, long unused)
{
    struct pollfd p = {fd, POLLIN, 0};

    (void)unused;
    if (poll(&p, 1, 0) == -1)
        die("poll(%d)", fd);
    return (p.revents & POLLIN) != 0;
}

/* wait_for - until cond(fd, arg) holds, looking every millisecond; fails after
 * STEP_TIMEOUT_MS. what names the condition in the message. */
static void wait_for(const struct walk *w, const char *what, int (*cond)(int, long), int fd, long arg)
{
    int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)STEP_TIMEOUT_MS * 1000000;

    while (!cond(fd, arg)) {
        if (now_ns(CLOCK_MONOTONIC) > deadline)
            fail("step %s: %s did not happen within %d ms", steps[w->current].name, what,
                 STEP_TIMEOUT_MS);
        idle(w, 1);
    }
}

/* ---- moving data ------------------------------------------------------------------- */

static void send_all(int fd, const void *buf, size_t len, int flags)
{
    ssize_t n = send(fd, buf, len, flags);

    if (n == -1)
        die("send(%d, %zu bytes%s)", fd, len, flags & MSG_OOB ? ", MSG_OOB" : "");
    if ((size_t)n != len)
        fail("send(%d): %zd of %zu bytes", fd, n, len);
}

/* fill - write on our non-blocking socket until the kernel says EAGAIN. This is what arms
 * POLL_OUT (chapters/tcp_sigio_pitfalls.md, "Linux today"). Returns the bytes it got in. */
static long fill(int fd)
{
    static char block[16384];
    long total = 0;

    for (;;) {
        ssize_t n = send(fd, block, sizeof block, 0);
        if (n > 0) {
            total += n;
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return total; /* buffer full: exactly the state we wanted */
        die("send(%d, %zu bytes)", fd, sizeof block);
    }
}

/* drain - read what is there without blocking; returns the bytes read (0 if none). */
static long drain(int fd)
{
    static char buf[65536];
    long total = 0;

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            total += n;
            continue;
        }
        if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
            return total;
        die("recv(%d)", fd);
    }
}

/* receive - the peer reads exactly len bytes, waiting (bounded) for them to come. */
static void receive(const struct walk *w, int fd, long len)
{
    int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)STEP_TIMEOUT_MS * 1000000;
    long got = 0;

    while (got < len) {
        long n = drain(fd);
        got += n;
        if (n == 0 && got < len) {
            if (now_ns(CLOCK_MONOTONIC) > deadline)
                fail("step %s: the peer got %ld of %ld bytes", steps[w->current].name, got, len);
            idle(w, 1);
        }
    }
}

/* ---- the walk ---------------------------------------------------------------------- */

/* A fresh connection from our side to a peer listener, made signal-driven only once it is
 * established, so that its connect raises nothing we would count. */
static void connected_pair(struct walk *w, int peer_listen, int *ours, int *theirs)
{
    *ours = tcp_socket(w, OURS);
    connect_to(*ours, peer_listen);
    *theirs = accept_one(peer_listen);
    make_async(w, *ours);
}

static void walk(struct walk *w)
{
    static const char hello[] = "hello";
    static const char small[100];
    int ours, theirs;

    /* LAB: step-listener — only the listener is signal-driven. The handshake completes on
     * it before anyone calls accept(). */
    int our_listen = listener(w, OURS);
    make_async(w, our_listen);
    int client = tcp_socket(w, PEERS);
    step_begin(w, ST_LISTENER);
    connect_to(client, our_listen);
    /* The accept queue can show the connection a moment before the kernel sends the signal
     * (another CPU may be at work): the quiet time of step_end() covers that moment. */
    wait_for(w, "a connection ready to accept", readable, our_listen, 0);
    step_end(w);
    int accepted = accept_one(our_listen);
    close_async(our_listen);
    close_peer(accepted);
    close_peer(client);

    /* LAB: step-connect — our socket is signal-driven before connect(): the end of the
     * handshake is the signal. A small send buffer makes step buffer_space_freed quick. */
    int peer_listen = listener(w, PEERS);
    int s1 = tcp_socket(w, OURS);
    int sndbuf = 16384;
    if (setsockopt(s1, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) == -1)
        die("setsockopt(%d, SO_SNDBUF, %d)", s1, sndbuf);
    make_async(w, s1);
    step_begin(w, ST_CONNECT);
    connect_to(s1, peer_listen);
    wait_for(w, "ESTABLISHED", state_is, s1, TCP_ESTABLISHED);
    step_end(w);
    int p1 = accept_one(peer_listen);

    /* LAB: step-data — the peer sends one small segment. */
    step_begin(w, ST_DATA);
    send_all(p1, hello, sizeof hello - 1, 0);
    wait_for(w, "the data queued on our socket", has_bytes, s1, (long)sizeof hello - 1);
    step_end(w);
    drain(s1);

    /* LAB: step-acked — we send, the peer reads and acknowledges: the output buffer has
     * room again, but it never lacked room, so nothing is signalled. */
    step_begin(w, ST_ACKED);
    send_all(s1, small, sizeof small, 0);
    receive(w, p1, sizeof small);
    wait_for(w, "our data acknowledged", all_acked, s1, 0);
    step_end(w);

    /* LAB: step-space — write until EAGAIN, then the peer reads it all: the ACKs that free
     * the space raise one POLL_OUT. */
    step_begin(w, ST_SPACE);
    long written = fill(s1);
    receive(w, p1, written);
    wait_for(w, "our data acknowledged", all_acked, s1, 0);
    step_end(w);

    /* LAB: step-both — the book's example: we write and read at once. The peer answers
     * while our buffer is full, then reads: data arrived and data acknowledged, both. */
    step_begin(w, ST_BOTH);
    written = fill(s1);
    send_all(p1, hello, sizeof hello - 1, 0);
    /* LAB: ack-rides-answer — before the peer reads a byte of ours, take what has come.
     * On loopback the peer's answer carries its ACK of our data, so POLL_OUT is already
     * here beside POLL_IN: the room in our buffer does not wait for the peer's read. */
    if (w->mode == MODE_RT) {
        collect_rt(w, 0);
        both_before_read = nseen;
    }
    receive(w, p1, written);
    wait_for(w, "our data acknowledged", all_acked, s1, 0);
    wait_for(w, "the answer queued on our socket", has_bytes, s1, (long)sizeof hello - 1);
    step_end(w);
    drain(s1);

    /* LAB: step-urgent — one byte of out-of-band data. SIGURG goes to the owner even
     * without O_ASYNC; with F_SETSIG there is also POLL_PRI. */
    step_begin(w, ST_URGENT);
    send_all(p1, "!", 1, MSG_OOB);
    wait_for(w, "the urgent byte acknowledged", all_acked, p1, 0);
    step_end(w);
    char oob;
    if (recv(s1, &oob, 1, MSG_OOB) != 1)
        die("recv(%d, MSG_OOB)", s1);

    /* LAB: step-rst — the peer aborts (SO_LINGER with time 0 makes close() send RST). */
    struct linger abort_now = {1, 0};
    if (setsockopt(p1, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now) == -1)
        die("setsockopt(%d, SO_LINGER, 0)", p1);
    step_begin(w, ST_RST);
    close_peer(p1);
    wait_for(w, "our socket closed by the RST", state_is, s1, TCP_CLOSE);
    step_end(w);
    /* The signal only says "error"; the error itself is what the next call returns. */
    char byte;
    if (recv(s1, &byte, 1, 0) != -1)
        fail("recv(%d) after the RST did not fail", s1);
    rst_errno[w->mode] = errno;
    close_async(s1);

    /* LAB: step-half — the peer shuts down writing; we could still send. */
    connected_pair(w, peer_listen, &ours, &theirs);
    step_begin(w, ST_HALF);
    if (shutdown(theirs, SHUT_WR) == -1)
        die("shutdown(%d, SHUT_WR)", theirs);
    wait_for(w, "CLOSE_WAIT", state_is, ours, TCP_CLOSE_WAIT);
    step_end(w);
    close_async(ours);
    close_peer(theirs);

    /* LAB: step-local-shutdown — we shut down writing: the state changes, nothing is sent
     * to us. Then the peer's ACK of our FIN (FIN_WAIT1 -> FIN_WAIT2): nothing either. */
    connected_pair(w, peer_listen, &ours, &theirs);
    step_begin(w, ST_SHUT);
    if (shutdown(ours, SHUT_WR) == -1)
        die("shutdown(%d, SHUT_WR)", ours);
    wait_for(w, "our side out of ESTABLISHED", state_not, ours, TCP_ESTABLISHED);
    step_end(w);
    step_begin(w, ST_FINACK);
    wait_for(w, "FIN_WAIT2", state_is, ours, TCP_FIN_WAIT2);
    wait_for(w, "our FIN acknowledged", all_acked, ours, 0);
    step_end(w);

    /* LAB: step-fin-after-shutdown — now the peer's FIN: both directions are shut, and the
     * first signal is POLL_HUP. */
    step_begin(w, ST_FIN2);
    if (shutdown(theirs, SHUT_WR) == -1)
        die("shutdown(%d, SHUT_WR)", theirs);
    wait_for(w, "our socket closed (TIME_WAIT)", state_is, ours, TCP_CLOSE);
    step_end(w);
    close_async(ours);
    close_peer(theirs);
    close_peer(peer_listen);
}

/* ---- report ------------------------------------------------------------------------ */

/* sig_label - what to print for one signal: its si_code for the F_SETSIG signal, the
 * signal's name otherwise (SIGURG, or a plain SIGIO in rt mode: queue overflow). */
static const char *sig_label(const struct walk *w, const struct seen *s, char *buf, size_t len)
{
    if (w->rt_sig && s->signo == w->rt_sig)
        return sicode_name(s->code, buf, len);
    return signal_name(s->signo, buf, len);
}

/* codes - the labels of a step's signals in the rt walk, joined by sep; "-" when none. */
static const char *codes(const struct walk *rtw, enum step st, const char *sep, char *buf, size_t len)
{
    const struct result *r = &results[MODE_RT][st];
    size_t used = 0;
    char one[16];

    snprintf(buf, len, "-");
    for (int i = 0; i < r->n && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? sep : "",
                         sig_label(rtw, &r->sig[i], one, sizeof one));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return buf;
}

/* mode_label - the name of a walk in the output: live is the plain walk, unblocked. */
static const char *mode_label(const struct config *cfg, int m)
{
    return m == MODE_PLAIN && cfg->live ? "live" : mode_names[m];
}

static int count_of(enum mode m, int signo, enum step st)
{
    int n = 0;

    for (int i = 0; i < results[m][st].n; i++)
        if (!signo || results[m][st].sig[i].signo == signo)
            n++;
    return n;
}

static void print_tsv(const struct config *cfg, const struct walk *rtw)
{
    char buf[512];

    printf("condition\tbook\t%s_signals\trt_signals\trt_codes\n", mode_label(cfg, MODE_PLAIN));
    for (int st = 0; st < NSTEPS; st++) {
        printf("%s\t%s\t", steps[st].name, steps[st].book);
        if (cfg->modes[MODE_PLAIN])
            printf("%d\t", count_of(MODE_PLAIN, 0, st));
        else
            printf("-\t");
        if (cfg->modes[MODE_RT])
            printf("%d\t%s\n", count_of(MODE_RT, 0, st), codes(rtw, st, ",", buf, sizeof buf));
        else
            printf("-\t-\n");
    }
}

static void print_signals(const struct config *cfg)
{
    char a[16], b[16], c[128];

    printf("mode\tstep\tcondition\tt_ms\tsignal\tsi_code\tsi_band\tsi_fd\n");
    for (int m = 0; m < NMODES; m++)
        for (int st = 0; st < NSTEPS; st++)
            for (int i = 0; i < results[m][st].n; i++) {
                const struct seen *s = &results[m][st].sig[i];
                printf("%s\t%d\t%s\t%.3f\t%s\t%s\t%s\t%d\n", mode_label(cfg, m), st + 1, steps[st].name,
                       (double)(s->t_ns - results[m][st].t0_ns) / 1e6,
                       signal_name(s->signo, a, sizeof a), sicode_name(s->code, b, sizeof b),
                       band_names(s->band, c, sizeof c), s->fd);
            }
}

/* plain_column - "1", or "1 + SIGURG" when SIGURG was among the handler calls. */
static const char *plain_column(enum step st, char *buf, size_t len)
{
    int urg = count_of(MODE_PLAIN, SIGURG, st);
    int io = count_of(MODE_PLAIN, 0, st) - urg;

    if (urg)
        snprintf(buf, len, "%d + SIGURG", io);
    else
        snprintf(buf, len, "%d", io);
    return buf;
}

static void print_table(const struct config *cfg, const struct walk *rtw)
{
    char plain[32], list[512], a[16], b[128];

    printf("What SIGIO tells you on a TCP socket, one condition at a time (UNP §25.2, TCPv2 p.439)\n");
    printf("%s = handler calls with plain SIGIO%s; realtime = signals queued with F_SETSIG %s\n\n",
           mode_label(cfg, MODE_PLAIN), cfg->live ? ", let in during the step" : "",
           signal_name(RT_SIGNAL, a, sizeof a));
    printf("%-23s %-37s %-11s %s\n", "condition", "TCPv2 p.439 says SIGIO for",
           mode_label(cfg, MODE_PLAIN), "realtime (si_code of each)");
    for (int st = 0; st < NSTEPS; st++)
        printf("%-23s %-37s %-11s %s\n", steps[st].name, steps[st].book,
               cfg->modes[MODE_PLAIN] ? plain_column(st, plain, sizeof plain) : "-",
               cfg->modes[MODE_RT] ? codes(rtw, st, " ", list, sizeof list) : "-");

    if (cfg->modes[MODE_RT]) {
        /* si_band of each si_code seen (the kernel's band_table makes them one to one). */
        printf("\nsi_band of each si_code seen:\n");
        int shown[16] = {0};
        for (int st = 0; st < NSTEPS; st++)
            for (int i = 0; i < results[MODE_RT][st].n; i++) {
                const struct seen *s = &results[MODE_RT][st].sig[i];
                if (s->signo != rtw->rt_sig || s->code < 0 || s->code >= 16 || shown[s->code])
                    continue;
                shown[s->code] = 1;
                printf("  %-9s %s\n", sicode_name(s->code, a, sizeof a), band_names(s->band, b, sizeof b));
            }
        /* Counted, not listed: which of the two comes first is a matter of timing. */
        int in = 0, out = 0;
        for (int i = 0; i < both_before_read && i < results[MODE_RT][ST_BOTH].n; i++) {
            const struct seen *s = &results[MODE_RT][ST_BOTH].sig[i];
            in += s->signo == rtw->rt_sig && s->code == POLL_IN;
            out += s->signo == rtw->rt_sig && s->code == POLL_OUT;
        }
        printf("data_and_ack, taken before the peer read a byte of ours: POLL_IN=%d POLL_OUT=%d\n",
               in, out);
    }
    if (cfg->modes[MODE_PLAIN]) {
        /* What a plain handler had to go on: the distinct si_code values it saw. */
        int kernel = 0, other = 0;
        for (int st = 0; st < NSTEPS; st++)
            for (int i = 0; i < results[MODE_PLAIN][st].n; i++) {
                const struct seen *s = &results[MODE_PLAIN][st].sig[i];
                if (s->code == SI_KERNEL && s->fd == 0 && s->band == 0)
                    kernel++;
                else
                    other++;
            }
        printf("%s si_code: %d of %d handler calls had SI_KERNEL with si_fd 0 and si_band 0\n",
               mode_label(cfg, MODE_PLAIN), kernel, kernel + other);
    }
    int m = cfg->modes[MODE_PLAIN] ? MODE_PLAIN : MODE_RT;
    printf("after rst_error, recv() on our socket said %s\n", errno_name(rst_errno[m]));
    /* The handlers' masks, read back from the kernel (LAB: handlers-mask-each-other). */
    struct sigaction io, urg;
    if (sigaction(SIGIO, NULL, &io) == -1 || sigaction(SIGURG, NULL, &urg) == -1)
        die("sigaction(read back)");
    printf("handler masks: SIGIO's blocks SIGURG=%d, SIGURG's blocks SIGIO=%d\n",
           sigismember(&io.sa_mask, SIGURG), sigismember(&urg.sa_mask, SIGIO));
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"mode", required_argument, NULL, 'm'},
        {"local", required_argument, NULL, 'L'},
        {"peer", required_argument, NULL, 'P'},
        {"peer-netns", required_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct config cfg = {"127.0.0.1", "127.0.0.1", NULL, 20, {1, 1}, 0};
    const char *format = "table";
    int opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":q:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (strcmp(optarg, "table") && strcmp(optarg, "tsv") && strcmp(optarg, "signals"))
                usage_error("--format: '%s' is not table, tsv or signals", optarg);
            format = optarg;
            break;
        case 'm':
            if (!strcmp(optarg, "both"))
                cfg.modes[MODE_PLAIN] = cfg.modes[MODE_RT] = 1;
            else if (!strcmp(optarg, "plain"))
                cfg.modes[MODE_PLAIN] = 1, cfg.modes[MODE_RT] = 0;
            else if (!strcmp(optarg, "rt"))
                cfg.modes[MODE_PLAIN] = 0, cfg.modes[MODE_RT] = 1;
            else if (!strcmp(optarg, "live"))
                cfg.modes[MODE_PLAIN] = 1, cfg.modes[MODE_RT] = 0, cfg.live = 1;
            else
                usage_error("--mode: '%s' is not both, plain, rt or live", optarg);
            break;
        case 'q': cfg.quiet_ms = parse_long("-q", optarg, 1, 1000); break;
        case 'L': cfg.local_text = optarg; break;
        case 'P': cfg.peer_text = optarg; break;
        case 'N': cfg.peer_netns = optarg; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    struct walk w;
    memset(&w, 0, sizeof w);
    w.cfg = &cfg;
    w.local_len = parse_addr("--local", cfg.local_text, 0, &w.local);
    w.peer_len = parse_addr("--peer", cfg.peer_text, 0, &w.peer);
    if (w.local.ss_family != w.peer.ss_family)
        usage_error("--local %s and --peer %s: both IPv4 or both IPv6, please", cfg.local_text,
                    cfg.peer_text);
    w.home_ns = w.peer_ns = -1;
    if (cfg.peer_netns) {
        w.home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (w.home_ns == -1)
            die("open(/proc/self/ns/net)");
        w.peer_ns = open(cfg.peer_netns, O_RDONLY | O_CLOEXEC);
        if (w.peer_ns == -1)
            die("--peer-netns: open(%s)", cfg.peer_netns);
        /* Try it once now: without CAP_SYS_ADMIN this is where we learn it. */
        if (setns(w.peer_ns, CLONE_NEWNET) == -1) {
            if (errno == EPERM)
                skip_exit("setns(%s): no privilege to enter another network namespace",
                          cfg.peer_netns);
            die("--peer-netns: setns(%s, CLONE_NEWNET)", cfg.peer_netns);
        }
        enter(&w, OURS);
    }

    /* LAB: handler-before-owner — handlers first, and every I/O signal blocked, before any
     * socket gets an owner: SIGIO's default action would end the process. */
    sigemptyset(&w.io_signals);
    sigaddset(&w.io_signals, SIGIO);
    sigaddset(&w.io_signals, SIGURG);
    sigaddset(&w.io_signals, RT_SIGNAL);
    if (sigprocmask(SIG_BLOCK, &w.io_signals, NULL) == -1)
        die("sigprocmask(SIG_BLOCK, SIGIO SIGURG RT_SIGNAL)");
    /* LAB: handlers-mask-each-other — both signals run on_io(), which appends to seen[];
     * while one runs, the other is blocked (sa_mask), so a SIGURG cannot interrupt a
     * SIGIO half-way through its record, or the other way round. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_io;
    sa.sa_flags = SA_SIGINFO | SA_RESTART; /* live mode: the peer's blocking calls go on */
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGIO);
    sigaddset(&sa.sa_mask, SIGURG);
    if (sigaction(SIGIO, &sa, NULL) == -1)
        die("sigaction(SIGIO)");
    if (sigaction(SIGURG, &sa, NULL) == -1)
        die("sigaction(SIGURG)");

    for (int m = 0; m < NMODES; m++) {
        if (!cfg.modes[m])
            continue;
        w.mode = (enum mode)m;
        w.rt_sig = m == MODE_RT ? RT_SIGNAL : 0;
        walk(&w);
    }

    struct walk rtw = w;
    rtw.rt_sig = RT_SIGNAL;
    if (!strcmp(format, "tsv"))
        print_tsv(&cfg, &rtw);
    else if (!strcmp(format, "signals"))
        print_signals(&cfg);
    else
        print_table(&cfg, &rtw);
    return EXIT_OK;
}
