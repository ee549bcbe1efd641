/* SPDX-License-Identifier: MIT */
/*
 * kernel_stamps - the kernel's receive time of a UDP datagram, every way Linux offers it.
 *
 * SO_TIMESTAMP(NS), SO_TIMESTAMPING, SIOCGSTAMP(NS), and the two traps that make it lie.
 *
 * Demonstrates:
 *   - the book's "when did it arrive" question answered by the kernel itself: SO_TIMESTAMP
 *     (µs), SO_TIMESTAMPNS (ns), SO_TIMESTAMPING, and the SIOCGSTAMP / SIOCGSTAMPNS ioctls;
 *   - that the stamp is the arrival, not the read: we read each datagram DELAY ms after
 *     sending it, and the stamp still sits microseconds after the send;
 *   - trap 1 (late-ioctl): SIOCGSTAMP asked for the first time after the datagram was read
 *     returns the time of the ioctl, not of the arrival;
 *   - trap 2 (race): timestamping is switched on by deferred kernel work; a datagram that
 *     arrives before that carries no stamp, and recvmsg fills in the time of the read.
 *
 * Read with: UNP §25.2 (end: SO_TIMESTAMP, SIOCGSTAMP); chapters/udp_sigio.md
 * "The kernel's timestamp".
 *
 * Usage: kernel_stamps [-m MODE] [-n N] [-d MS]
 *   -m MODE  ns, us, timestamping, ioctl, late-ioctl, race, or all (default all)
 *   -n N     datagrams per mode (default 3)
 *   -d MS    delay between sending a datagram and reading it (default 50)
 *
 * Try it:
 *   ./kernel_stamps -m ns            # stamp_is=arrival, resolution=ns
 *   ./kernel_stamps -m us            # resolution=us: SO_TIMESTAMP is a timeval
 *   ./kernel_stamps -m late-ioctl    # stamp_is=read-time: trap 1
 *   ./kernel_stamps -m race -n 5     # stamp_is=read-time only if no other socket stamps
 *
 * What to observe:
 *   - per datagram: stamp_after_send_us is a few µs, read_after_stamp_us is about DELAY;
 *   - per mode: "mode=M call=... datagrams=N stamped=N arrival=A read_time=R resolution=ns|us";
 *   - ioctl: first_ioctl=ENOENT (nothing received yet), then us_matches_ns=1: SIOCGSTAMP is
 *     SIOCGSTAMPNS cut to microseconds;
 *   - late-ioctl: read_time=N, every stamp is as late as the read.
 *
 * Linux notes: the stamp is CLOCK_REALTIME taken when the packet entered the stack (for
 * loopback: netif_rx). SIOCGSTAMP must come from <linux/sockios.h> nowadays. With
 * SO_TIMESTAMP(NS) set, SIOCGSTAMP no longer answers (ENOENT). The race of trap 2 shows only
 * while no socket on the whole machine has timestamping on; the lab servers wait 100 ms
 * after switching it on for that reason.
 */
#include "labutil.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

enum how { BY_NS, BY_US, BY_TIMESTAMPING, BY_IOCTL, BY_LATE_IOCTL, BY_RACE };

struct mode {
    const char *name;
    enum how how;
    const char *call;   /* what it asks the kernel */
    int fresh_socket;   /* a new receiving socket for every datagram (the traps need one) */
};

static const struct mode modes[] = {
    {"ns", BY_NS, "SO_TIMESTAMPNS", 0},
    {"us", BY_US, "SO_TIMESTAMP", 0},
    {"timestamping", BY_TIMESTAMPING, "SO_TIMESTAMPING(RX_SOFTWARE)", 0},
    {"ioctl", BY_IOCTL, "SIOCGSTAMP+SIOCGSTAMPNS", 0},
    {"late-ioctl", BY_LATE_IOCTL, "SIOCGSTAMPNS(first-call-after-recv)", 1},
    /* LAB: timestamp-race — no pause after switching stamping on, on a fresh socket each
     * time: if no socket on the machine had stamping on, the kernel's switch (a deferred
     * work item) has not flipped yet, the packet arrives unstamped and recvmsg fills in the
     * time of the read. */
    {"race", BY_RACE, "SO_TIMESTAMPNS(no-settle)", 1},
};

struct tally {
    long stamped, arrival, read_time, ns_resolution;
    int us_matches_ns;          /* ioctl: SIOCGSTAMP == SIOCGSTAMPNS cut to µs, every time */
    const char *first_ioctl;    /* ioctl: what the switching-on call returned */
};

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void set_opt(int fd, int name, int value, const char *what)
{
    if (setsockopt(fd, SOL_SOCKET, name, &value, sizeof value) == -1)
        die("setsockopt(%s)", what);
}

/*
 * open_receiver - a UDP socket on 127.0.0.1 with timestamping asked for as the mode says.
 * settle: wait 100 ms afterwards, the recipe against trap 2 (LAB: stamp-settle in dgram.c).
 */
static int open_receiver(const struct mode *m, int settle, struct tally *t)
{
    struct sockaddr_storage ss;
    socklen_t len = parse_addr("receiver", "127.0.0.1", 0, &ss);
    int fd = bound_socket(SOCK_DGRAM, &ss, len);
    struct timespec ts;

    switch (m->how) {
    case BY_NS:
    case BY_RACE: set_opt(fd, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS"); break;
    case BY_US: set_opt(fd, SO_TIMESTAMP, 1, "SO_TIMESTAMP"); break;
    case BY_TIMESTAMPING:
        set_opt(fd, SO_TIMESTAMPING, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE,
                "SO_TIMESTAMPING");
        break;
    case BY_IOCTL:
        /* The first SIOCGSTAMPNS switches stamping on for this socket; nothing has been
         * received yet, so it answers ENOENT. */
        if (ioctl(fd, SIOCGSTAMPNS, &ts) == 0)
            t->first_ioctl = "ok";
        else
            t->first_ioctl = errno_name(errno);
        break;
    case BY_LATE_IOCTL:
        /* LAB: late-ioctl-trap — wrong on purpose: nothing asked for before the datagram.
         * The receive then records "no stamp" (0) for the socket, and the first SIOCGSTAMP
         * afterwards switches stamping on and, finding 0, answers with the current time. */
        break;
    }
    if (settle)
        sleep_ms(100);
    return fd;
}

/*
 * stamp_of - the kernel's receive time of the datagram just read, in ns (0: none), by the
 * mode's method: from the control messages, or by ioctl after the read.
 */
static int64_t stamp_of(const struct mode *m, int fd, struct msghdr *msg, struct tally *t)
{
    struct timespec ts;
    struct timeval tv;

    if (m->how == BY_IOCTL || m->how == BY_LATE_IOCTL) {
        if (ioctl(fd, SIOCGSTAMPNS, &ts) == -1)
            die("ioctl(%d, SIOCGSTAMPNS)", fd);
        if (m->how == BY_IOCTL) {
            if (ioctl(fd, SIOCGSTAMP, &tv) == -1)
                die("ioctl(%d, SIOCGSTAMP)", fd);
            if (tv.tv_sec != ts.tv_sec || tv.tv_usec != ts.tv_nsec / 1000)
                t->us_matches_ns = 0;
        }
        return timespec_ns(&ts);
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET)
            continue;
        if (c->cmsg_type == SCM_TIMESTAMPNS) {
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            return timespec_ns(&ts);
        }
        if (c->cmsg_type == SCM_TIMESTAMP) {
            memcpy(&tv, CMSG_DATA(c), sizeof tv);
            return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
        }
        if (c->cmsg_type == SCM_TIMESTAMPING) {
            struct scm_timestamping sts; /* ts[0] software, ts[2] hardware (none on lo) */
            memcpy(&sts, CMSG_DATA(c), sizeof sts);
            return (int64_t)sts.ts[0].tv_sec * 1000000000 + sts.ts[0].tv_nsec;
        }
    }
    return 0;
}

/* one_datagram - send one datagram to rx, wait delay_ms, read it, and report its stamp. */
static void one_datagram(const struct mode *m, int rx, int tx, long index, long delay_ms,
                         struct tally *t)
{
    struct sockaddr_storage to;
    socklen_t len = sizeof to;
    _Alignas(struct cmsghdr) unsigned char control[256];
    char buf[64];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control, .msg_controllen = sizeof control};

    if (getsockname(rx, (struct sockaddr *)&to, &len) == -1)
        die("getsockname");
    int64_t sent = now_ns(CLOCK_REALTIME);
    if (sendto(tx, "stamp me", 8, 0, (struct sockaddr *)&to, len) == -1)
        die("sendto");
    /* Read it late on purpose: a stamp taken at arrival stays close to "sent", one taken
     * at the read is delay_ms later. */
    sleep_ms(delay_ms);
    if (recvmsg(rx, &msg, 0) == -1)
        die("recvmsg");
    int64_t read = now_ns(CLOCK_REALTIME);
    int64_t stamp = stamp_of(m, rx, &msg, t);
    if (stamp == 0) {
        printf("mode=%s dgram=%ld stamp=none\n", m->name, index);
        return;
    }
    t->stamped++;
    if (stamp % 1000 != 0)
        t->ns_resolution = 1;
    /* Arrival if the stamp lies nearer the send than the read. */
    int arrival = stamp - sent < (read - sent) / 2;
    if (arrival)
        t->arrival++;
    else
        t->read_time++;
    printf("mode=%s dgram=%ld stamp_after_send_us=%.1f read_after_stamp_us=%.1f stamp_is=%s\n",
           m->name, index, (double)(stamp - sent) / 1e3, (double)(read - stamp) / 1e3,
           arrival ? "arrival" : "read-time");
}

static void run_mode(const struct mode *m, long count, long delay_ms)
{
    struct tally t = {.us_matches_ns = 1, .first_ioctl = NULL};
    int tx = socket(AF_INET, SOCK_DGRAM, 0);
    int rx = -1;

    if (tx == -1)
        die("socket(sender)");
    for (long i = 1; i <= count; i++) {
        if (rx == -1)
            rx = open_receiver(m, !m->fresh_socket, &t);
        one_datagram(m, rx, tx, i, delay_ms, &t);
        if (m->fresh_socket) {
            close(rx);
            rx = -1;
        }
    }
    if (rx != -1)
        close(rx);
    close(tx);
    printf("mode=%s call=%s datagrams=%ld stamped=%ld arrival=%ld read_time=%ld resolution=%s",
           m->name, m->call, count, t.stamped, t.arrival, t.read_time,
           t.stamped == 0 ? "none" : t.ns_resolution ? "ns" : "us");
    if (m->how == BY_IOCTL)
        printf(" first_ioctl=%s us_matches_ns=%d", t.first_ioctl, t.us_matches_ns);
    printf("\n");
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-m MODE] [-n N] [-d MS]\n"
            "  -m MODE  ns, us, timestamping, ioctl, late-ioctl, race or all (default all)\n"
            "  -n N     datagrams per mode (default 3, 1 to 1000)\n"
            "  -d MS    wait between sending a datagram and reading it (default 50, 2 to 5000)\n"
            "  -h       this help\n"
            "example: %s -m late-ioctl\n",
            lab_prog, lab_prog);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *only = "all";
    long count = 3, delay_ms = 50;
    size_t nmodes = sizeof modes / sizeof modes[0], i;
    int opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":m:n:d:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'm': only = optarg; break;
        case 'n': count = parse_long("-n", optarg, 1, 1000); break;
        case 'd': delay_ms = parse_long("-d", optarg, 2, 5000); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    for (i = 0; i < nmodes && strcmp(only, "all") != 0 && strcmp(only, modes[i].name) != 0; i++)
        ;
    if (i == nmodes)
        usage_error("-m: '%s' is not one of ns, us, timestamping, ioctl, late-ioctl, race, all", only);

    for (i = 0; i < nmodes; i++)
        if (strcmp(only, "all") == 0 || strcmp(only, modes[i].name) == 0)
            run_mode(&modes[i], count, delay_ms);
    return EXIT_OK;
}
