/*
 * dgram.c - one UDP datagram with its kernel timestamp, destination and interface.
 * See dgram.h for the contracts; chapters/udp_sigio.md for the why.
 */
#include "dgram.h"
#include "labutil.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void dgram_enable_info(int fd, int family)
{
    int one = 1;
    const struct timespec settle = {0, 100 * 1000 * 1000};

    /* LAB: kernel-timestamp — nanoseconds, CLOCK_REALTIME, taken when the packet reached
     * the stack (for loopback: netif_rx), long before any code of ours runs. */
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == -1)
        die("setsockopt(SO_TIMESTAMPNS)");
    /* LAB: recv-interface — Linux's answer to BSD's IP_RECVDSTADDR + IP_RECVIF. */
    if (family == AF_INET6) {
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) == -1)
            die("setsockopt(IPV6_RECVPKTINFO)");
    } else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == -1) {
        die("setsockopt(IP_PKTINFO)");
    }
    /* Trap: timestamping is switched on system-wide by a deferred work item. Until it has
     * run, arriving packets carry no stamp and recvmsg substitutes the time of the read,
     * which would make the handler look exactly as late as the loop. 100 ms is plenty. */
    nanosleep(&settle, NULL);
}

ssize_t dgram_recv(int fd, struct dgram *d, int flags)
{
    /* Room for a timespec and an in6_pktinfo, the two control messages we asked for. */
    union {
        struct cmsghdr align;
        unsigned char buf[CMSG_SPACE(sizeof(struct timespec)) +
                          CMSG_SPACE(sizeof(struct in6_pktinfo))];
    } control;
    struct iovec iov = {.iov_base = d->data, .iov_len = sizeof d->data};
    struct msghdr msg = {
        .msg_name = &d->from,
        .msg_namelen = sizeof d->from,
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof control.buf,
    };
    ssize_t n = recvmsg(fd, &msg, flags);

    if (n < 0)
        return n;
    d->read_ns = now_ns(CLOCK_REALTIME);
    d->len = (size_t)n;
    d->truncated = (msg.msg_flags & MSG_TRUNC) != 0;
    d->fromlen = msg.msg_namelen;
    d->kernel_ns = 0;
    d->ifindex = 0;
    d->family = d->from.ss_family;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof ts);
            d->kernel_ns = timespec_ns(&ts);
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            d->dst4 = pi.ipi_addr; /* the header's destination; ipi_spec_dst is routing's */
            d->ifindex = pi.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi6;
            memcpy(&pi6, CMSG_DATA(c), sizeof pi6);
            d->dst6 = pi6.ipi6_addr;
            d->ifindex = (int)pi6.ipi6_ifindex;
        }
    }
    return n;
}

uint64_t dgram_seq(const struct dgram *d)
{
    struct dgram_head head;

    if (d->len < sizeof head)
        return UINT64_MAX;
    memcpy(&head, d->data, sizeof head);
    return head.seq;
}

ssize_t dgram_echo(int fd, const struct dgram *d)
{
    return sendto(fd, d->data, d->len, 0, (const struct sockaddr *)&d->from, d->fromlen);
}

const char *dgram_describe(const struct dgram *d, char *buf, size_t len)
{
    char from[64], to[INET6_ADDRSTRLEN] = "?", ifname[IF_NAMESIZE] = "?";

    if (d->family == AF_INET6)
        inet_ntop(AF_INET6, &d->dst6, to, sizeof to);
    else
        inet_ntop(AF_INET, &d->dst4, to, sizeof to);
    if (d->ifindex > 0 && !if_indextoname((unsigned)d->ifindex, ifname))
        snprintf(ifname, sizeof ifname, "?");
    snprintf(buf, len, "from=%s to=%s if=%s(%d) len=%zu",
             sockaddr_text((const struct sockaddr *)&d->from, from, sizeof from), to, ifname,
             d->ifindex, d->len);
    return buf;
}
