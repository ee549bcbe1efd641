/* SPDX-License-Identifier: MIT */
/*
 * dgram.c - one UDP datagram with its kernel timestamp, destination and interface.
 * See dgram.h for the contracts; chapters/udp_sigio.md for the why.
 */
#include "dgram.h"
#include "labutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <inttypes.h>
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
    /* LAB: stamp-settle — the kernel switches timestamping on system-wide through a
     * deferred work item. Until it has run, arriving packets carry no stamp and recvmsg
     * substitutes the time of the read, which would make the handler look exactly as late
     * as the loop. 100 ms is plenty. */
    nanosleep(&settle, NULL);
}

void dgram_prepare(struct dgram *d, struct msghdr *msg, struct iovec *iov)
{
    iov->iov_base = d->data;
    iov->iov_len = sizeof d->data;
    msg->msg_name = &d->from;
    msg->msg_namelen = sizeof d->from;
    msg->msg_iov = iov;
    msg->msg_iovlen = 1;
    msg->msg_control = d->control;
    msg->msg_controllen = sizeof d->control;
    msg->msg_flags = 0;
}

void dgram_decode(struct dgram *d, struct msghdr *msg, size_t n, int64_t read_ns)
{
    d->read_ns = read_ns;
    d->len = n < sizeof d->data ? n : sizeof d->data;
    d->truncated = (msg->msg_flags & MSG_TRUNC) != 0;
    d->fromlen = msg->msg_namelen;
    d->kernel_ns = 0;
    d->ifindex = 0;
    d->family = d->from.ss_family;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
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
}

ssize_t dgram_recv(int fd, struct dgram *d, int flags)
{
    struct iovec iov;
    struct msghdr msg;
    ssize_t n;

    dgram_prepare(d, &msg, &iov);
    n = recvmsg(fd, &msg, flags);
    if (n < 0)
        return n;
    dgram_decode(d, &msg, (size_t)n, now_ns(CLOCK_REALTIME));
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

/* set_control - make msg's control buffer hold one control message. */
static void set_control(struct msghdr *msg, unsigned char *buf, int level, int type,
                        const void *data, size_t len)
{
    msg->msg_control = buf;
    msg->msg_controllen = CMSG_SPACE(len);
    struct cmsghdr *c = CMSG_FIRSTHDR(msg);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    memcpy(CMSG_DATA(c), data, len);
}

void dgram_reply_msg(struct dgram *d, struct msghdr *msg, struct iovec *iov)
{
    iov->iov_base = d->data;
    iov->iov_len = d->len;
    memset(msg, 0, sizeof *msg);
    msg->msg_name = &d->from;
    msg->msg_namelen = d->fromlen;
    msg->msg_iov = iov;
    msg->msg_iovlen = 1;
    if (d->ifindex == 0)
        return; /* no pktinfo came: let routing pick the source address */
    /* LAB: reply-from-dst — answer from the address the client sent to. */
    if (d->family == AF_INET6) {
        struct in6_pktinfo pi6 = {.ipi6_addr = d->dst6, .ipi6_ifindex = 0};
        set_control(msg, d->control, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
    } else {
        struct in_pktinfo pi = {.ipi_ifindex = 0, .ipi_spec_dst = d->dst4};
        set_control(msg, d->control, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
    }
}

ssize_t dgram_echo(int fd, struct dgram *d)
{
    struct msghdr msg;
    struct iovec iov;

    dgram_reply_msg(d, &msg, &iov);
    return sendmsg(fd, &msg, 0);
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

void dgram_print(const struct dgram *d)
{
    char line[160];

    printf("datagram %s kernel_ns=%" PRId64 "\n", dgram_describe(d, line, sizeof line), d->kernel_ns);
}

void dgram_warn_truncated(uint64_t nth)
{
    /* Never echo a cut-down datagram as if it were the whole one: say so instead. */
    if (nth < 5)
        fprintf(stderr, "%s: datagram larger than %d bytes truncated (MSG_TRUNC): not echoed\n",
                lab_prog, DGRAM_MAX);
}

/* The client stamps its datagrams with CLOCK_MONOTONIC; the stamps file speaks
 * CLOCK_REALTIME, the kernel stamp's clock. Client and server read the same two clocks of
 * this machine, so one offset, taken when the file is opened, converts between them. */
static int64_t monotonic_to_realtime;

FILE *dgram_stamps_open(const char *path, const char *read_column)
{
    FILE *f = fopen(path, "w");

    if (!f || fprintf(f, "# seq kernel_ns %s processed_ns sent_ns (CLOCK_REALTIME)\n",
                      read_column) < 0)
        die("--stamps '%s': cannot write the file", path);
    monotonic_to_realtime = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
    return f;
}

void dgram_stamp(FILE *stamps, const struct dgram *d, uint64_t index, int64_t processed_ns)
{
    uint64_t seq = dgram_seq(d);
    struct dgram_head head = {0, 0};

    if (seq != UINT64_MAX)
        memcpy(&head, d->data, sizeof head);
    fprintf(stamps, "%" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
            seq == UINT64_MAX ? index : seq, d->kernel_ns, d->read_ns, processed_ns,
            seq == UINT64_MAX ? 0 : head.sent_ns + monotonic_to_realtime);
}

void dgram_stamps_close(FILE *stamps, const char *path)
{
    if (fclose(stamps) == EOF)
        die("--stamps '%s': fclose", path);
}

const char *dgram_realtime(const char *option)
{
    struct sched_param sp = {.sched_priority = DGRAM_RT_PRIORITY};

    if (sched_setscheduler(0, SCHED_FIFO, &sp) == -1) {
        if (errno == EPERM)
            skip_exit("%s: sched_setscheduler(SCHED_FIFO, %d): %s (EPERM): needs root, "
                      "CAP_SYS_NICE or RLIMIT_RTPRIO >= %d", option, DGRAM_RT_PRIORITY,
                      strerror(errno), DGRAM_RT_PRIORITY);
        die("%s: sched_setscheduler(SCHED_FIFO, %d)", option, DGRAM_RT_PRIORITY);
    }
    if (mlockall(MCL_CURRENT | MCL_FUTURE) == -1) {
        if (errno == EPERM || errno == ENOMEM)
            skip_exit("%s: mlockall(MCL_CURRENT|MCL_FUTURE): %s (%s): needs root, "
                      "CAP_IPC_LOCK or a larger RLIMIT_MEMLOCK", option, strerror(errno),
                      errno_name(errno));
        die("%s: mlockall(MCL_CURRENT|MCL_FUTURE)", option);
    }
    return "SCHED_FIFO+mlockall";
}
