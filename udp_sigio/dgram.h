/*
 * dgram.h - receiving one UDP datagram together with what the kernel knows about it:
 * its arrival time (SO_TIMESTAMPNS), its destination address and receiving interface
 * (IP_PKTINFO / IPV6_RECVPKTINFO). Shared by the echo servers of the udp_sigio lab.
 *
 * Read with: UNP §25.2 (the last part: timestamps, destination address, interface),
 * chapters/udp_sigio.md "Kernel timestamps" and "Where did it arrive".
 */
#ifndef DGRAM_H
#define DGRAM_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Largest datagram the servers echo. A bigger one is reported as truncated, never echoed
 * short (recvmsg sets MSG_TRUNC). */
#define DGRAM_MAX 2048

/* The client puts a sequence number and its send time at the front of every datagram. */
struct dgram_head {
    uint64_t seq;     /* 0, 1, 2, ... in the order the client sent them */
    int64_t sent_ns;  /* client's CLOCK_MONOTONIC at send time */
};

struct dgram {
    unsigned char data[DGRAM_MAX];
    size_t len;                    /* bytes received (at most DGRAM_MAX) */
    int truncated;                 /* 1 if the datagram was larger than data[] */
    struct sockaddr_storage from;  /* the sender */
    socklen_t fromlen;
    int64_t kernel_ns;             /* kernel receive stamp, CLOCK_REALTIME; 0 if none came */
    int64_t read_ns;               /* CLOCK_REALTIME just after recvmsg returned */
    int family;                    /* AF_INET or AF_INET6 of dst */
    struct in6_addr dst6;          /* destination address (IPv6) */
    struct in_addr dst4;           /* destination address (IPv4) */
    int ifindex;                   /* receiving interface; 0 if no pktinfo came */
};

/*
 * dgram_enable_info - ask the kernel for a receive timestamp and the packet info on every
 * datagram of fd. Then waits 100 ms: the kernel switches timestamping on through a
 * workqueue, and a datagram that arrives before that gets "now" instead of its arrival
 * time (chapters/udp_sigio.md, "The timestamp traps"). Call before announcing the port.
 */
void dgram_enable_info(int fd, int family);

/*
 * dgram_recv - one recvmsg() into *d with the control messages decoded.
 * Returns what recvmsg returned (-1 with errno on error, EAGAIN on an empty non-blocking
 * socket). Async-signal-safe: recvmsg and clock_gettime are on the POSIX list, and the
 * control-message walk is plain pointer arithmetic over our own buffer. The SIGIO handler
 * of sigio_echo_server calls it.
 */
ssize_t dgram_recv(int fd, struct dgram *d, int flags);

/* dgram_seq - the client's sequence number, or UINT64_MAX for a datagram too short to
 * carry one (someone else's client). */
uint64_t dgram_seq(const struct dgram *d);

/* dgram_echo - send d back to its sender; returns sendto()'s result. Async-signal-safe. */
ssize_t dgram_echo(int fd, const struct dgram *d);

/* dgram_describe - "from=127.0.0.1:4000 to=127.0.0.1 if=lo(1) len=64" into buf. */
const char *dgram_describe(const struct dgram *d, char *buf, size_t len);

#endif
