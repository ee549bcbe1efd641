/* SPDX-License-Identifier: MIT */
/*
 * connect_burst - opens K TCP connections at once, sends lines on each, checks every echo.
 *
 * Demonstrates:
 *   - a burst of connections that complete at nearly the same moment: the load under which
 *     one SIGIO on a listener stands for several connections (listen_server's histogram);
 *   - non-blocking connect(): start all K, then learn each one's fate from poll() and
 *     SO_ERROR (UNP §16.3);
 *   - checking a line service properly: every byte of every line comes back, in order.
 *
 * Read with: UNP §25.2; chapters/tcp_sigio_listen.md "Bursts".
 *
 * Usage: connect_burst [-a ADDR] [-p PORT] [-k K] [-r ROUNDS] [-n LINES] [-s BYTES] [-t SECS] [-v]
 *   -a ADDR    server address (default 127.0.0.1; ::1 works)
 *   -p PORT    server port (default 9026)
 *   -k K       connections opened at once (default 1)
 *   -r ROUNDS  bursts, one after the other: a round ends when all K are done (default 1)
 *   -n LINES   lines per connection, each sent after the previous came back (default 1)
 *   -s BYTES   line length with its newline (default 32)
 *   -t SECS    give up after SECS seconds in all (default 10)
 *   -v         one line per round
 *
 * Try it:
 *   ./listen_server -p 9026 &
 *   ./connect_burst -k 100                 # 100 connections at once
 *   ./connect_burst -k 1 -r 20             # one after another (the next right after an echo)
 *   ./connect_burst -k 1 -n 1000           # 1000 lines on one connection
 *
 * What to observe:
 *   - the last line: connections=N echoed=N failed=0 elapsed_s=X (N = K x ROUNDS);
 *   - exit status 0 only when every line of every connection came back intact;
 *   - on stderr, the first few failures, each with its round, connection and reason.
 *
 * Linux notes: a non-blocking connect() to a loopback address usually says EINPROGRESS and
 * completes a moment later; a refused one shows up as SO_ERROR = ECONNREFUSED.
 */
#include "labutil.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_K 4096       /* connections in one burst */
#define SHOW_FAILURES 5  /* failures described on stderr; the rest are only counted */

enum state { CONNECTING, SENDING, RECEIVING, FINISHED };

struct conn {
    int fd;
    enum state state;
    long line;   /* lines that came back so far */
    size_t off;  /* bytes of the current line sent (SENDING) or received (RECEIVING) */
};

struct config {
    const char *addr_text;
    int port;
    long k, rounds, lines, size, timeout_s;
    int verbose;
    struct sockaddr_storage server;
    socklen_t server_len;
};

struct tally {
    long echoed, failed;
    char *line, *reply; /* scratch: the expected line, what came back */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-a ADDR] [-p PORT] [-k K] [-r ROUNDS] [-n LINES] [-s BYTES] [-t SECS] [-v]\n"
            "  -a ADDR    server address (default 127.0.0.1; ::1 works)\n"
            "  -p PORT    server port (default 9026)\n"
            "  -k K       connections opened at once (default 1, at most %d)\n"
            "  -r ROUNDS  bursts one after the other (default 1, at most 1000000)\n"
            "  -n LINES   lines per connection, sent one after another (default 1, at most 1000000)\n"
            "  -s BYTES   line length including the newline (default 32, 2 to 1048576)\n"
            "  -t SECS    give up after SECS seconds in all (default 10, at most 3600)\n"
            "  -v         one line per round\n"
            "  -h         this help\n"
            "example: %s -p 9026 -k 100 -r 5\n",
            lab_prog, MAX_K, lab_prog);
}

/* make_line - the text of line `line` of connection `idx` in round `round`: a label, then
 * letters, then the newline. Different for every connection and line, so an echo that went
 * to the wrong client, or came back cut or shuffled, shows. */
static void make_line(char *buf, long size, long round, long idx, long line)
{
    char label[64];
    int n = snprintf(label, sizeof label, "round=%ld conn=%ld line=%ld ", round, idx, line);
    long len = size - 1;

    for (long i = 0; i < len; i++)
        buf[i] = i < n ? label[i] : (char)('a' + (round + idx + line + i) % 26);
    buf[len] = '\n';
}

/* conn_failed - close c, count it, and describe it if it is one of the first few. */
__attribute__((format(printf, 5, 6)))
static void conn_failed(struct tally *t, struct conn *c, long round, long idx, const char *fmt, ...)
{
    va_list ap;

    if (t->failed++ < SHOW_FAILURES) {
        fprintf(stderr, "%s: round %ld connection %ld: ", lab_prog, round, idx);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    close(c->fd);
    c->fd = -1;
    c->state = FINISHED;
}

/* printable - the start of what the server sent, for a message (stops at the newline). */
static const char *printable(const char *buf, size_t len, char *out, size_t outlen)
{
    size_t i;

    for (i = 0; i < len && i + 1 < outlen && buf[i] != '\n'; i++)
        out[i] = (buf[i] >= 32 && buf[i] < 127) ? buf[i] : '?';
    out[i] = '\0';
    return out;
}

/* start - a non-blocking socket and connect(); CONNECTING or SENDING, or failed. */
static void start(const struct config *cfg, struct tally *t, struct conn *c, long round, long idx)
{
    c->line = 0;
    c->off = 0;
    c->fd = socket(cfg->server.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd == -1)
        die("socket(SOCK_STREAM)");
    if (connect(c->fd, (const struct sockaddr *)&cfg->server, cfg->server_len) == 0) {
        c->state = SENDING;
    } else if (errno == EINPROGRESS) {
        c->state = CONNECTING; /* poll() says writable once it is settled either way */
    } else {
        int err = errno;
        conn_failed(t, c, round, idx, "connect: %s (%s)", strerror(err), errno_name(err));
    }
}

/* step - move connection c on as far as it goes without blocking (events from poll). */
static void step(const struct config *cfg, struct tally *t, struct conn *c, short events, long round, long idx)
{
    if (c->state == CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (!(events & (POLLOUT | POLLERR | POLLHUP)))
            return;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
            die("getsockopt(%d, SO_ERROR)", c->fd);
        if (err) {
            conn_failed(t, c, round, idx, "connect: %s (%s)", strerror(err), errno_name(err));
            return;
        }
        c->state = SENDING;
    }
    while (c->state == SENDING || c->state == RECEIVING) {
        make_line(t->line, cfg->size, round, idx, c->line);
        if (c->state == SENDING) {
            ssize_t n = send(c->fd, t->line + c->off, (size_t)cfg->size - c->off, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    return; /* buffer full: poll says when to go on */
                int err = errno;
                conn_failed(t, c, round, idx, "send: %s (%s)", strerror(err), errno_name(err));
                return;
            }
            c->off += (size_t)n;
            if (c->off < (size_t)cfg->size)
                continue;
            c->state = RECEIVING;
            c->off = 0;
        }
        ssize_t n = recv(c->fd, t->reply, (size_t)cfg->size - c->off, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return; /* nothing yet */
            int err = errno;
            conn_failed(t, c, round, idx, "recv: %s (%s)", strerror(err), errno_name(err));
            return;
        }
        if (n == 0) {
            conn_failed(t, c, round, idx, "the server closed the connection after %ld of %ld lines",
                        c->line, cfg->lines);
            return;
        }
        if (memcmp(t->reply, t->line + c->off, (size_t)n) != 0) {
            char text[64];
            conn_failed(t, c, round, idx, "line %ld came back different: '%s'", c->line,
                        printable(t->reply, (size_t)n, text, sizeof text));
            return;
        }
        c->off += (size_t)n;
        if (c->off < (size_t)cfg->size)
            continue;
        c->off = 0;
        if (++c->line == cfg->lines) {
            close(c->fd);
            c->fd = -1;
            c->state = FINISHED;
            t->echoed++;
            return;
        }
        c->state = SENDING;
    }
}

/*
 * run_round - open cfg->k connections at once and carry them all to the end, or until
 * deadline (CLOCK_MONOTONIC ns). Returns 0, or -1 if the deadline passed.
 */
static int run_round(const struct config *cfg, struct tally *t, struct conn *c, struct pollfd *pfd,
                     long round, int64_t deadline)
{
    long active = 0;

    for (long i = 0; i < cfg->k; i++)
        start(cfg, t, &c[i], round, i);
    for (;;) {
        active = 0;
        for (long i = 0; i < cfg->k; i++) {
            pfd[i].fd = c[i].state == FINISHED ? -1 : c[i].fd; /* poll skips negative fds */
            pfd[i].events = c[i].state == RECEIVING ? POLLIN : POLLOUT;
            pfd[i].revents = 0;
            active += c[i].state != FINISHED;
        }
        if (active == 0)
            return 0;
        int64_t left_ms = (deadline - now_ns(CLOCK_MONOTONIC)) / 1000000;
        if (left_ms <= 0)
            break;
        int n = poll(pfd, (nfds_t)cfg->k, left_ms > 1000 ? 1000 : (int)left_ms);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            die("poll(%ld descriptors)", cfg->k);
        }
        for (long i = 0; i < cfg->k && n > 0; i++)
            if (pfd[i].revents)
                step(cfg, t, &c[i], pfd[i].revents, round, i);
    }
    for (long i = 0; i < cfg->k; i++)
        if (c[i].state != FINISHED)
            conn_failed(t, &c[i], round, i, "no echo within -t %ld s (at line %ld of %ld)",
                        cfg->timeout_s, c[i].line, cfg->lines);
    return -1;
}

/* enough_descriptors - K connections need K descriptors: raise the soft limit if needed. */
static void enough_descriptors(long k)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)k + 16;

    if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("getrlimit(RLIMIT_NOFILE)");
    if (rl.rlim_cur >= need)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
        fail("-k %ld needs %ld descriptors, but the hard limit is %ld (ulimit -Hn)", k, (long)need,
             (long)rl.rlim_max);
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
        die("setrlimit(RLIMIT_NOFILE, %ld)", (long)need);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct config cfg = {
        .addr_text = "127.0.0.1", .port = 9026, .k = 1, .rounds = 1, .lines = 1, .size = 32,
        .timeout_s = 10,
    };
    struct tally t = {0};
    int opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":a:p:k:r:n:s:t:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a': cfg.addr_text = optarg; break;
        case 'p': cfg.port = parse_port("-p", optarg); break;
        case 'k': cfg.k = parse_long("-k", optarg, 1, MAX_K); break;
        case 'r': cfg.rounds = parse_long("-r", optarg, 1, 1000000); break;
        case 'n': cfg.lines = parse_long("-n", optarg, 1, 1000000); break;
        case 's': cfg.size = parse_long("-s", optarg, 2, 1048576); break;
        case 't': cfg.timeout_s = parse_long("-t", optarg, 1, 3600); break;
        case 'v': cfg.verbose = 1; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (cfg.port == 0)
        usage_error("-p: port 0 is not a server's port");
    cfg.server_len = parse_addr("-a", cfg.addr_text, cfg.port, &cfg.server);
    enough_descriptors(cfg.k);

    struct conn *c = calloc((size_t)cfg.k, sizeof *c);
    struct pollfd *pfd = calloc((size_t)cfg.k, sizeof *pfd);
    t.line = malloc((size_t)cfg.size);
    t.reply = malloc((size_t)cfg.size);
    if (!c || !pfd || !t.line || !t.reply)
        fail("out of memory for %ld connections", cfg.k);

    int64_t start_ns = now_ns(CLOCK_MONOTONIC);
    int64_t deadline = start_ns + (int64_t)cfg.timeout_s * 1000000000;
    long rounds_run = 0;
    for (long r = 0; r < cfg.rounds; r++) {
        long echoed_before = t.echoed, failed_before = t.failed;
        int64_t round_start = now_ns(CLOCK_MONOTONIC);
        int timed_out = run_round(&cfg, &t, c, pfd, r, deadline) < 0;
        rounds_run++;
        if (cfg.verbose)
            printf("round=%ld connections=%ld echoed=%ld failed=%ld elapsed_ms=%.3f\n", r, cfg.k,
                   t.echoed - echoed_before, t.failed - failed_before,
                   (double)(now_ns(CLOCK_MONOTONIC) - round_start) / 1e6);
        if (timed_out)
            break;
    }
    double elapsed = (double)(now_ns(CLOCK_MONOTONIC) - start_ns) / 1e9;
    long total = cfg.k * cfg.rounds;
    if (rounds_run < cfg.rounds)
        fprintf(stderr, "%s: -t %ld s ran out after %ld of %ld rounds\n", lab_prog, cfg.timeout_s,
                rounds_run, cfg.rounds);

    printf("connections=%ld echoed=%ld failed=%ld elapsed_s=%.3f\n", total, t.echoed,
           total - t.echoed, elapsed);
    free(c);
    free(pfd);
    free(t.line);
    free(t.reply);
    return t.echoed == total ? EXIT_OK : EXIT_FAIL;
}
