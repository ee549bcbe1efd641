/* SPDX-License-Identifier: MIT */
/*
 * udp_echo_client - drives any of the suite's UDP echo servers and checks every echo.
 *
 * Demonstrates:
 *   - a closed-loop load (-W: keep W datagrams in flight) and an open-loop one (-i: one
 *     datagram every USEC, whatever the server does), the two loads UNP Figure 25.1 needs;
 *   - checking a datagram service properly: content, order, duplicates and loss;
 *   - a connected UDP socket: a port with no server answers with ICMP "port unreachable",
 *     which the next receive reports as ECONNREFUSED (UNP §8.9, §25.2).
 *
 * Read with: UNP §25.2–25.3; chapters/udp_sigio.md "Two ways to build a UDP server".
 *
 * Usage: udp_echo_client [-a ADDR] [-p PORT] [-n N] [-s BYTES] [-W W | -i USEC] [-t SEC] [-T MS]
 *   defaults: -a 127.0.0.1 -p 9025 -n 10 -s 64 -W 1 -t 10 -T 500
 *
 * Try it:
 *   ./loop_echo_server -p 9025 &
 *   ./udp_echo_client -n 100000 -W 32          # throughput, 32 in flight
 *   ./udp_echo_client -n 2000 -i 100           # fixed rate, one every 100 µs
 *   ./udp_echo_client -p 9                     # nobody there: lost, exit 1
 *
 * What to observe:
 *   - the last line: sent=N received=N lost=N (sent, never echoed) p50_us=X p99_us=Y,
 *     then bad=, dup=, reordered=, elapsed_s=, rate=, cpu_us_per_dgram= (the client's own
 *     CPU per datagram, so a benchmark can show the client was not the bottleneck), and
 *     unsent= (datagrams never sent because the run stopped early, e.g. ECONNREFUSED);
 *   - exit status 0 only when every datagram came back intact, once, in order.
 *
 * Linux notes: sendmmsg/recvmmsg (Linux 3.0/2.6.33) move up to 64 datagrams per system call,
 * which keeps the client's cost per datagram well below any server's.
 */
#include "dgram.h"
#include "labutil.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define BATCH 64             /* datagrams per sendmmsg/recvmmsg */
#define HIST_FINE 10000      /* 1 µs buckets below 10 ms ... */
#define HIST_COARSE 100000   /* ... then 100 µs buckets up to 10 s */

struct config {
    const char *addr_text;
    int port;
    long count, size, window, interval_us, timeout_s, idle_ms;
};

struct result {
    long sent, received, bad, dup, reordered, truncated;
    int refused;                 /* the kernel reported ECONNREFUSED: nobody at that port */
    uint64_t max_seq_seen;
    int seen_any;
    unsigned char *echoed;       /* one bit per sequence number */
    uint32_t *hist;              /* round-trip times, see hist_add */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-a ADDR] [-p PORT] [-n N] [-s BYTES] [-W W | -i USEC] [-t SEC] [-T MS]\n"
            "  -a ADDR   server address (default 127.0.0.1; ::1 works)\n"
            "  -p PORT   server port (default 9025)\n"
            "  -n N      datagrams to send (default 10, at most 100000000)\n"
            "  -s BYTES  datagram size (default 64, 16 to 65507)\n"
            "  -W W      closed loop: keep W datagrams in flight (default 1, at most 4096)\n"
            "  -i USEC   open loop: send one datagram every USEC microseconds\n"
            "  -t SEC    give up after SEC seconds in all (default 10)\n"
            "  -T MS     count a datagram lost after MS ms without any echo (default 500)\n"
            "  -h        this help\n"
            "example: %s -p 9025 -n 100000 -W 32\n",
            lab_prog, lab_prog);
}

/* fill - the datagram for sequence number seq: header, then a pattern that depends on seq
 * so that a corrupted or misdirected echo shows. */
static void fill(unsigned char *buf, long size, uint64_t seq, int64_t sent_ns)
{
    struct dgram_head head = {.seq = seq, .sent_ns = sent_ns};

    memcpy(buf, &head, sizeof head);
    for (long i = (long)sizeof head; i < size; i++)
        buf[i] = (unsigned char)(seq + (uint64_t)i);
}

static int pattern_ok(const unsigned char *buf, long size, uint64_t seq)
{
    for (long i = (long)sizeof(struct dgram_head); i < size; i++)
        if (buf[i] != (unsigned char)(seq + (uint64_t)i))
            return 0;
    return 1;
}

static void hist_add(uint32_t *hist, int64_t ns)
{
    int64_t us = ns < 0 ? 0 : ns / 1000;
    int64_t bucket = us < HIST_FINE ? us : HIST_FINE + (us - HIST_FINE) / 100;

    if (bucket >= HIST_FINE + HIST_COARSE)
        bucket = HIST_FINE + HIST_COARSE - 1;
    hist[bucket]++;
}

/* hist_percentile - the round-trip time (µs) below which fraction p of the samples lie. */
static long hist_percentile(const uint32_t *hist, long total, double p)
{
    long want = (long)(p * (double)total + 0.5), seen = 0;

    if (total == 0)
        return 0;
    if (want < 1)
        want = 1;
    for (long b = 0; b < HIST_FINE + HIST_COARSE; b++) {
        seen += hist[b];
        if (seen >= want)
            return b < HIST_FINE ? b : HIST_FINE + (b - HIST_FINE) * 100;
    }
    return -1;
}

/* check_echo - account for one echo of len bytes (flags from recvmmsg). */
static void check_echo(const struct config *cfg, struct result *r, const unsigned char *buf,
                       size_t len, int flags, int64_t now)
{
    struct dgram_head head;

    if ((flags & MSG_TRUNC) || (long)len != cfg->size || len < sizeof head) {
        r->bad++;
        return;
    }
    memcpy(&head, buf, sizeof head);
    if (head.seq >= (uint64_t)r->sent || !pattern_ok(buf, cfg->size, head.seq)) {
        r->bad++;
        return;
    }
    unsigned char bit = (unsigned char)(1u << (head.seq % 8));
    if (r->echoed[head.seq / 8] & bit) {
        r->dup++;
        return;
    }
    r->echoed[head.seq / 8] |= bit;
    r->received++;
    if (r->seen_any && head.seq < r->max_seq_seen)
        r->reordered++;
    if (!r->seen_any || head.seq > r->max_seq_seen)
        r->max_seq_seen = head.seq;
    r->seen_any = 1;
    hist_add(r->hist, now - head.sent_ns);
}

/* send_batch - send up to want datagrams (sequence numbers continue from r->sent).
 * Returns how many the kernel took. */
static long send_batch(int fd, const struct config *cfg, struct result *r, unsigned char *bufs,
                       long want)
{
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    int64_t now = now_ns(CLOCK_MONOTONIC);

    if (want > BATCH)
        want = BATCH;
    for (long i = 0; i < want; i++) {
        unsigned char *buf = bufs + i * cfg->size;
        fill(buf, cfg->size, (uint64_t)(r->sent + i), now);
        iov[i] = (struct iovec){.iov_base = buf, .iov_len = (size_t)cfg->size};
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = sendmmsg(fd, msgs, (unsigned)want, 0);
    if (n < 0) {
        if (errno == ECONNREFUSED) {
            r->refused = 1;
            return 0;
        }
        if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
            return 0; /* the send buffer is full for a moment: try again after a receive */
        die("sendmmsg");
    }
    r->sent += n;
    return n;
}

/* receive_all - take every echo waiting on the socket without blocking. Returns how many. */
static long receive_all(int fd, const struct config *cfg, struct result *r, unsigned char *bufs)
{
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    long total = 0;

    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            /* One byte more than expected, so a longer echo shows as a wrong length. */
            iov[i] = (struct iovec){.iov_base = bufs + i * (cfg->size + 1),
                                    .iov_len = (size_t)cfg->size + 1};
            memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return total;
            if (errno == ECONNREFUSED) { /* the ICMP error of a connected UDP socket */
                r->refused = 1;
                return total;
            }
            die("recvmmsg");
        }
        int64_t now = now_ns(CLOCK_MONOTONIC);
        for (int i = 0; i < n; i++)
            check_echo(cfg, r, iov[i].iov_base, msgs[i].msg_len, (int)msgs[i].msg_hdr.msg_flags, now);
        total += n;
        if (n < BATCH)
            return total;
    }
}

/* wait_readable - wait until fd is readable or until_ns (CLOCK_MONOTONIC) passes.
 * ppoll, not poll: the open-loop mode needs microsecond timeouts. */
static void wait_readable(int fd, int64_t until_ns)
{
    int64_t left = until_ns - now_ns(CLOCK_MONOTONIC);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    struct timespec ts;

    if (left <= 0)
        return;
    ts.tv_sec = left / 1000000000;
    ts.tv_nsec = left % 1000000000;
    if (ppoll(&pfd, 1, &ts, NULL) == -1 && errno != EINTR)
        die("ppoll");
}

/* run - the whole exchange. Closed loop (-W) unless an interval (-i) was given. */
static void run(int fd, const struct config *cfg, struct result *r)
{
    unsigned char *sendbufs = malloc((size_t)BATCH * (size_t)cfg->size);
    unsigned char *recvbufs = malloc((size_t)BATCH * ((size_t)cfg->size + 1));
    int64_t start = now_ns(CLOCK_MONOTONIC);
    int64_t deadline = start + (int64_t)cfg->timeout_s * 1000000000;
    int64_t idle_ns = (int64_t)cfg->idle_ms * 1000000;
    int64_t last_progress = start;
    long inflight = 0;

    if (!sendbufs || !recvbufs)
        fail("out of memory for %ld-byte buffers", cfg->size);
    while (!r->refused && now_ns(CLOCK_MONOTONIC) < deadline) {
        int64_t now = now_ns(CLOCK_MONOTONIC);
        int64_t wake = deadline;

        if (cfg->interval_us > 0) {
            /* Open loop: everything whose send time has come goes out now. */
            int64_t due = (now - start) / (cfg->interval_us * 1000) + 1;
            if (due > cfg->count)
                due = cfg->count;
            while (r->sent < due && !r->refused)
                if (send_batch(fd, cfg, r, sendbufs, due - r->sent) == 0)
                    break;
            if (r->sent < cfg->count)
                wake = start + (int64_t)r->sent * cfg->interval_us * 1000;
        } else {
            /* Closed loop: top the window up. */
            long room = cfg->window - inflight;
            while (room > 0 && r->sent < cfg->count && !r->refused) {
                long k = send_batch(fd, cfg, r, sendbufs,
                                    room < cfg->count - r->sent ? room : cfg->count - r->sent);
                if (k == 0)
                    break;
                inflight += k;
                room -= k;
            }
        }
        if (r->received + r->dup + r->bad >= cfg->count && r->sent == cfg->count)
            break;
        if (last_progress + idle_ns < wake)
            wake = last_progress + idle_ns;
        wait_readable(fd, wake);
        long got = receive_all(fd, cfg, r, recvbufs);
        now = now_ns(CLOCK_MONOTONIC);
        if (got > 0) {
            last_progress = now;
            inflight = inflight > got ? inflight - got : 0;
        } else if (now - last_progress >= idle_ns) {
            /* Nothing for a while: what is in flight is lost. Carry on with fresh ones, or
             * stop if everything has been sent. */
            if (r->sent == cfg->count)
                break;
            inflight = 0;
            last_progress = now;
        }
    }
    free(sendbufs);
    free(recvbufs);
}

int main(int argc, char **argv)
{
    struct config cfg = {
        .addr_text = "127.0.0.1", .port = 9025, .count = 10, .size = 64,
        .window = 1, .interval_us = 0, .timeout_s = 10, .idle_ms = 500,
    };
    struct result r;
    struct sockaddr_storage server;
    struct rusage ru;
    char text[64];
    int opt, window_given = 0;

    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":a:p:n:s:W:i:t:T:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a': cfg.addr_text = optarg; break;
        case 'p': cfg.port = parse_port("-p", optarg); break;
        case 'n': cfg.count = parse_long("-n", optarg, 1, 100000000); break;
        case 's': cfg.size = parse_long("-s", optarg, (long)sizeof(struct dgram_head), 65507); break;
        case 'W': cfg.window = parse_long("-W", optarg, 1, 4096); window_given = 1; break;
        case 'i': cfg.interval_us = parse_long("-i", optarg, 1, 10000000); break;
        case 't': cfg.timeout_s = parse_long("-t", optarg, 1, 3600); break;
        case 'T': cfg.idle_ms = parse_long("-T", optarg, 1, 600000); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (window_given && cfg.interval_us)
        usage_error("-W and -i exclude each other: closed loop or open loop");
    if (cfg.port == 0)
        usage_error("-p: port 0 is not a server's port");

    socklen_t len = parse_addr("-a", cfg.addr_text, cfg.port, &server);
    int fd = socket(server.ss_family, SOCK_DGRAM, 0);
    if (fd == -1)
        die("socket(SOCK_DGRAM)");
    /* Room for a window of large datagrams; the kernel caps it at net.core.rmem_max. */
    int bufsize = 4 * 1024 * 1024;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize) == -1)
        die("setsockopt(SO_RCVBUF/SO_SNDBUF)");
    /* Connected: only the server's replies reach us, and ICMP errors are reported. */
    if (connect(fd, (struct sockaddr *)&server, len) == -1)
        die("connect(%s)", sockaddr_text((struct sockaddr *)&server, text, sizeof text));

    memset(&r, 0, sizeof r);
    r.echoed = calloc((size_t)cfg.count / 8 + 1, 1);
    r.hist = calloc(HIST_FINE + HIST_COARSE, sizeof *r.hist);
    if (!r.echoed || !r.hist)
        fail("out of memory for %ld datagrams", cfg.count);

    int64_t start = now_ns(CLOCK_MONOTONIC);
    run(fd, &cfg, &r);
    double elapsed = (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9;

    if (r.refused)
        fprintf(stderr, "%s: no server at %s (ECONNREFUSED: the port answered with ICMP port unreachable)\n",
                lab_prog, sockaddr_text((struct sockaddr *)&server, text, sizeof text));
    if (getrusage(RUSAGE_SELF, &ru) == -1)
        die("getrusage");
    double cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    /* lost: sent and never echoed. unsent: never sent at all (the run was cut short, by
     * ECONNREFUSED for example); not counted as lost, but not a success either. */
    long lost = r.sent - r.received;
    long unsent = cfg.count - r.sent;
    printf("sent=%ld received=%ld lost=%ld p50_us=%ld p99_us=%ld bad=%ld dup=%ld reordered=%ld "
           "elapsed_s=%.3f rate=%.0f cpu_us_per_dgram=%.3f unsent=%ld\n",
           r.sent, r.received, lost, hist_percentile(r.hist, r.received, 0.50),
           hist_percentile(r.hist, r.received, 0.99), r.bad, r.dup, r.reordered, elapsed,
           elapsed > 0 ? (double)r.received / elapsed : 0.0,
           r.sent ? cpu_us / (double)r.sent : 0.0, unsent);
    free(r.echoed);
    free(r.hist);
    close(fd);
    return (lost == 0 && unsent == 0 && r.bad == 0 && r.dup == 0 && r.reordered == 0) ? EXIT_OK
                                                                                      : EXIT_FAIL;
}
