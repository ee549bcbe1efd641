/* SPDX-License-Identifier: MIT */
/*
 * syn_only_client - sends a TCP SYN by hand and never completes the handshake.
 *
 * Demonstrates:
 *   - the half of the claim that is about nothing happening: a SYN reaching a listening
 *     socket, answered by the server's kernel with a SYN-ACK, raises no SIGIO; only the
 *     completed handshake does (UNP §25.2; compare listen_server -v before and after);
 *   - what a handshake is on the wire: the 20 bytes of a TCP header and its checksum over
 *     the "pseudo-header" (RFC 793 §3.1), sent on a raw socket.
 *
 * Read with: UNP §25.2 and §2.6 (the three-way handshake); chapters/tcp_sigio_listen.md
 * "The claim: TCP-LISTEN-ONLY".
 *
 * Usage: syn_only_client [-a ADDR] [-p PORT] [-t MS]
 *   -a ADDR   IPv4 address of the server (default 127.0.0.1)
 *   -p PORT   the listening port (default 9026)
 *   -t MS     how long to wait for the SYN-ACK (default 2000)
 *   Needs CAP_NET_RAW: run it as root, or in a namespace of its own (unshare -rn) together
 *   with the server; without it, it exits 4 ("skipped").
 *
 * Try it:
 *   unshare -rn bash                          # a network namespace of your own: raw sockets
 *   ip link set lo up; ./listen_server -p 9026 -v &
 *   ./syn_only_client -p 9026                 # syn_ack=1, and the server prints nothing
 *   kill -HUP %1                              # signals_total=0 connections_total=0
 *
 * What to observe:
 *   - "syn_ack=1 server_port=9026 client_port=N": the server's kernel answered the SYN;
 *   - listen_server prints no "signal=" line, and its SIGHUP report says signals_total=0:
 *     a SYN is not a completed connection.
 *
 * Linux notes: our own kernel does not know the connection we started by hand, so it
 * answers the SYN-ACK with a RST and the server's kernel drops the half-open connection;
 * that raises no signal either. With TCP Fast Open the listener is woken at SYN time
 * (tcp_conn_request), but only for a SYN carrying a valid Fast Open cookie, never this one.
 */
#include "labutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_HEADER 20 /* a header without options */
#define FLAG_SYN 0x02
#define FLAG_RST 0x04
#define FLAG_ACK 0x10

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-a ADDR] [-p PORT] [-t MS]\n"
            "  -a ADDR   IPv4 address of the listening server (default 127.0.0.1)\n"
            "  -p PORT   its port (default 9026)\n"
            "  -t MS     wait at most MS milliseconds for the SYN-ACK (default 2000)\n"
            "  -h        this help\n"
            "needs CAP_NET_RAW (root, or unshare -rn with the server in the same namespace)\n"
            "example: %s -p 9026\n",
            lab_prog, lab_prog);
}

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* sum16 - the ones'-complement sum of len bytes as big-endian 16-bit words, added to sum. */
static uint32_t sum16(uint32_t sum, const unsigned char *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

/* tcp_checksum - over the pseudo-header (source, destination, protocol, length), then the
 * segment itself; addresses in network order as they sit in struct in_addr. */
static uint16_t tcp_checksum(struct in_addr src, struct in_addr dst, const unsigned char *seg, size_t len)
{
    unsigned char pseudo[12];

    memcpy(pseudo, &src.s_addr, 4);
    memcpy(pseudo + 4, &dst.s_addr, 4);
    pseudo[8] = 0;
    pseudo[9] = IPPROTO_TCP;
    put16(pseudo + 10, (uint16_t)len);
    uint32_t sum = sum16(sum16(0, pseudo, sizeof pseudo), seg, len);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/*
 * reserve_port - an ephemeral port the kernel will not hand to anyone else while we use it:
 * a TCP socket bound to it, never connected or listening. Returns the socket; *port gets
 * the number.
 */
static int reserve_port(struct in_addr src, uint16_t *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = src};
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd == -1)
        die("socket(SOCK_STREAM)");
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
        die("bind(port 0)");
    if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
        die("getsockname");
    *port = ntohs(sin.sin_port);
    return fd;
}

/* reply_to_syn - is this IPv4 packet the answer to our SYN? 1 for the SYN-ACK, -1 for a RST
 * (nobody listens on that port), 0 for anything else. */
static int reply_to_syn(const unsigned char *pkt, size_t len, uint16_t server_port, uint16_t our_port,
                        uint32_t our_seq)
{
    if (len < 20 || (pkt[0] >> 4) != 4)
        return 0;
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    if (len < ihl + TCP_HEADER || pkt[9] != IPPROTO_TCP)
        return 0;
    const unsigned char *tcp = pkt + ihl;
    if (get16(tcp) != server_port || get16(tcp + 2) != our_port || get32(tcp + 8) != our_seq + 1)
        return 0;
    if (tcp[13] & FLAG_RST)
        return -1;
    return (tcp[13] & (FLAG_SYN | FLAG_ACK)) == (FLAG_SYN | FLAG_ACK);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addr_text = "127.0.0.1";
    int port = 9026, opt;
    long wait_ms = 2000;
    struct in_addr dst, src;
    unsigned char seg[TCP_HEADER], pkt[2048];

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":a:p:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a': addr_text = optarg; break;
        case 'p': port = parse_port("-p", optarg); break;
        case 't': wait_ms = parse_long("-t", optarg, 1, 60000); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (port == 0)
        usage_error("-p: port 0 is not a server's port");
    if (inet_pton(AF_INET, addr_text, &dst) != 1)
        usage_error("-a: '%s' is not a numeric IPv4 address (this client speaks IPv4 only)", addr_text);

    /* A raw TCP socket: we write the TCP header, the kernel adds the IP header, and we read
     * a copy of every TCP packet that arrives (IP header included). */
    int raw = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
    if (raw == -1) {
        if (errno == EPERM || errno == EACCES)
            skip_exit("socket(SOCK_RAW) needs CAP_NET_RAW: run as root or under unshare -rn");
        die("socket(AF_INET, SOCK_RAW, IPPROTO_TCP)");
    }

    /* Our source address: the one the kernel would use to reach dst. */
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = dst};
    struct sockaddr_in me;
    socklen_t melen = sizeof me;
    int probe = socket(AF_INET, SOCK_DGRAM, 0);
    if (probe == -1 || connect(probe, (struct sockaddr *)&to, sizeof to) == -1 ||
        getsockname(probe, (struct sockaddr *)&me, &melen) == -1)
        die("finding the source address for %s", addr_text);
    close(probe);
    src = me.sin_addr;

    uint16_t our_port;
    int holder = reserve_port(src, &our_port);
    uint32_t seq = (uint32_t)now_ns(CLOCK_REALTIME) ^ ((uint32_t)getpid() << 16);

    /* LAB: syn-by-hand — source port, destination port, sequence number, acknowledgement 0,
     * header length 5 words, flags SYN, window, checksum, urgent pointer 0. */
    memset(seg, 0, sizeof seg);
    put16(seg, our_port);
    put16(seg + 2, (uint16_t)port);
    put32(seg + 4, seq);
    seg[12] = (TCP_HEADER / 4) << 4;
    seg[13] = FLAG_SYN;
    put16(seg + 14, 65535);
    put16(seg + 16, tcp_checksum(src, dst, seg, sizeof seg));
    if (sendto(raw, seg, sizeof seg, 0, (struct sockaddr *)&to, sizeof to) == -1)
        die("sendto(raw SYN to %s:%d)", addr_text, port);

    /* Wait for the SYN-ACK among whatever TCP traffic the raw socket sees. */
    int64_t deadline = now_ns(CLOCK_MONOTONIC) + wait_ms * 1000000;
    int answered = 0;
    while (answered == 0) {
        int64_t left = (deadline - now_ns(CLOCK_MONOTONIC)) / 1000000;
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = raw, .events = POLLIN};
        int n = poll(&pfd, 1, (int)left);
        if (n == -1 && errno != EINTR)
            die("poll");
        if (n <= 0)
            continue;
        ssize_t got = recv(raw, pkt, sizeof pkt, 0);
        if (got == -1) {
            if (errno == EINTR)
                continue;
            die("recv(raw)");
        }
        answered = reply_to_syn(pkt, (size_t)got, (uint16_t)port, our_port, seq);
    }
    printf("syn_ack=%d server_port=%d client_port=%u\n", answered == 1, port, (unsigned)our_port);
    if (answered == -1)
        fprintf(stderr, "%s: %s:%d answered with a RST: nobody listens there\n", lab_prog, addr_text, port);
    else if (answered == 0)
        fprintf(stderr, "%s: no answer from %s:%d within %ld ms\n", lab_prog, addr_text, port, wait_ms);
    close(holder);
    close(raw);
    return answered == 1 ? EXIT_OK : EXIT_FAIL;
}
