/* SPDX-License-Identifier: MIT */
/*
 * dgram.h - receiving one UDP datagram together with what the kernel knows about it:
 * its arrival time (SO_TIMESTAMPNS), its destination address and receiving interface
 * (IP_PKTINFO / IPV6_RECVPKTINFO). Shared by the echo servers of the udp_sigio lab.
 *
 * Read with: UNP §25.2 (the last part: timestamps, destination address, interface),
 * chapters/udp_sigio.md "The kernel's timestamp" and "Where did it arrive".
 */
#ifndef DGRAM_H
#define DGRAM_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* Largest datagram the servers echo. A bigger one is reported as truncated, never echoed
 * short (recvmsg sets MSG_TRUNC). */
#define DGRAM_MAX 2048

/* Bytes of control data one datagram can bring: a timespec and an in6_pktinfo. */
#define DGRAM_CONTROL (CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(struct in6_pktinfo)))

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
    /* Room for the two control messages we ask for (a timespec and an in6_pktinfo). It
     * lives in the struct so that recvmmsg can fill many datagrams, each with its own. */
    _Alignas(struct cmsghdr) unsigned char control[DGRAM_CONTROL];
};

/*
 * dgram_enable_info - ask the kernel for a receive timestamp and the packet info on every
 * datagram of fd. Then waits 100 ms: the kernel switches timestamping on through a
 * workqueue, and a datagram that arrives before that gets "now" instead of its arrival
 * time (chapters/udp_sigio.md, "The kernel's timestamp", trap 2). Call it before
 * announcing the port.
 */
void dgram_enable_info(int fd, int family);

/*
 * dgram_recv - one recvmsg() into *d with the control messages decoded.
 * Returns what recvmsg returned (-1 with errno on error, EAGAIN on an empty non-blocking
 * socket). Async-signal-safe: recvmsg and clock_gettime are on the POSIX list, and the
 * control-message walk is plain pointer arithmetic over our own buffer. The SIGIO handler
 * of sigio_echo_server calls it in --mode textbook (--mode batch uses recvmmsg with
 * dgram_prepare and dgram_decode).
 */
ssize_t dgram_recv(int fd, struct dgram *d, int flags);

/*
 * dgram_prepare - point *msg (and *iov) at d's buffers, ready for recvmsg or for one entry
 * of recvmmsg's array. Async-signal-safe (plain stores).
 */
void dgram_prepare(struct dgram *d, struct msghdr *msg, struct iovec *iov);

/*
 * dgram_decode - after the receive: fill d's fields from *msg (as dgram_prepare set it up)
 * and n, the bytes received; read_ns is the time to record as the read time. Walks the
 * control messages. Async-signal-safe (pointer arithmetic over our own buffer).
 */
void dgram_decode(struct dgram *d, struct msghdr *msg, size_t n, int64_t read_ns);

/* dgram_seq - the client's sequence number, or UINT64_MAX for a datagram too short to
 * carry one (someone else's client). */
uint64_t dgram_seq(const struct dgram *d);

/*
 * dgram_reply_msg - point *msg (and *iov) at d's data and sender, ready for sendmsg or for
 * one entry of sendmmsg's array. When the datagram came with its destination address
 * (IP_PKTINFO / IPV6_PKTINFO), a control message of the same kind makes the reply leave
 * from that address: a server bound to 0.0.0.0 then answers from the address the client
 * wrote to, which a connected client insists on. It reuses d->control, whose received
 * control messages have been decoded by then.
 */
void dgram_reply_msg(struct dgram *d, struct msghdr *msg, struct iovec *iov);

/* dgram_echo - send d back to its sender (sendmsg with dgram_reply_msg); returns
 * sendmsg()'s result. */
ssize_t dgram_echo(int fd, struct dgram *d);

/* dgram_describe - "from=127.0.0.1:4000 to=127.0.0.1 if=lo(1) len=64" into buf. */
const char *dgram_describe(const struct dgram *d, char *buf, size_t len);

/* ---- what the servers print about datagrams (main loop only: these use stdio) ---- */

/* dgram_print - the -v line: "datagram from=... to=... if=lo(1) len=64 kernel_ns=...". */
void dgram_print(const struct dgram *d);

/* dgram_warn_truncated - the message for the nth (0, 1, ...) datagram cut by MSG_TRUNC;
 * only the first five are reported, the summary line counts them all. */
void dgram_warn_truncated(uint64_t nth);

/*
 * dgram_stamps_open - the --stamps file, with its header line; read_column names the third
 * column (read_ns for the loop, handler_ns for the SIGIO server). Dies if it cannot.
 */
FILE *dgram_stamps_open(const char *path, const char *read_column);

/* dgram_stamp - one line "seq kernel_ns read_ns processed_ns sent_ns", all CLOCK_REALTIME
 * nanoseconds; sent_ns is the client's send time (0 for a datagram that carries no header
 * from udp_echo_client), and index stands in for the sequence number it would carry. */
void dgram_stamp(FILE *stamps, const struct dgram *d, uint64_t index, int64_t processed_ns);

/* dgram_stamps_close - flush and close the file; dies if the data did not reach it. */
void dgram_stamps_close(FILE *stamps, const char *path);

/*
 * dgram_realtime - the --rt option of the Figure 25.1 servers: run under SCHED_FIFO at
 * priority DGRAM_RT_PRIORITY and lock all memory (mlockall), as a time server does, so that
 * neither an ordinary process nor a page fault comes between an arrival and the code that
 * notes it. Exits 4 ("not supported here") with the reason when it is not permitted: both
 * need root, CAP_SYS_NICE / CAP_IPC_LOCK, or large enough RLIMIT_RTPRIO / RLIMIT_MEMLOCK.
 * Returns a short description for the program's report line.
 */
#define DGRAM_RT_PRIORITY 10
const char *dgram_realtime(const char *option);

#endif
