/* SPDX-License-Identifier: MIT */
/*
 * rtsig.c - the shared parts of the rtsig_setsig lab; see rtsig.h for the contracts.
 */
#include "rtsig.h"
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void setsig(int fd, int sig)
{
    if (fcntl(fd, F_SETSIG, sig) == -1)
        die("fcntl(%d, F_SETSIG, %d)", fd, sig);
}

void setown(int fd, pid_t owner)
{
    if (fcntl(fd, F_SETOWN, owner) == -1)
        die("fcntl(%d, F_SETOWN, %d)", fd, (int)owner);
}

void setown_tid(int fd, pid_t tid)
{
    struct f_owner_ex owner = {.type = F_OWNER_TID, .pid = tid};

    if (fcntl(fd, F_SETOWN_EX, &owner) == -1)
        die("fcntl(%d, F_SETOWN_EX, {F_OWNER_TID, %d})", fd, (int)tid);
}

sigset_t *sigset_of(sigset_t *set, ...)
{
    va_list ap;
    int sig;

    sigemptyset(set);
    va_start(ap, set);
    while ((sig = va_arg(ap, int)) != 0)
        if (sigaddset(set, sig) == -1)
            die("sigaddset(%d)", sig);
    va_end(ap);
    return set;
}

static void change_set(int how, const sigset_t *set)
{
    int err = pthread_sigmask(how, set, NULL);

    if (err)
        die_errno(err, "pthread_sigmask(%s)", how == SIG_BLOCK ? "SIG_BLOCK" : "SIG_UNBLOCK");
}

void block_set(const sigset_t *set)
{
    change_set(SIG_BLOCK, set);
}

void unblock_set(const sigset_t *set)
{
    change_set(SIG_UNBLOCK, set);
}

int take_signal(const sigset_t *set, siginfo_t *si, long timeout_ms)
{
    struct timespec limit = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000};
    int sig;

    for (;;) {
        sig = timeout_ms < 0 ? sigwaitinfo(set, si) : sigtimedwait(set, si, &limit);
        if (sig > 0)
            return sig;
        if (errno == EAGAIN)
            return 0; /* the time ran out with nothing pending */
        if (errno != EINTR) /* EINTR: some other signal's handler ran; wait again */
            die(timeout_ms < 0 ? "sigwaitinfo" : "sigtimedwait");
    }
}

/* status_field - the text after "Name:" in a /proc status file, into buf; 0 if absent.
 * The file is small (about 1.5 kB), so it is read whole into text[] first. */
static int status_field(const char *path, const char *name, char *buf, size_t len)
{
    char text[8192];
    size_t used = 0, n = strlen(name);
    ssize_t got;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd == -1)
        die("open(%s)", path);
    while (used < sizeof text - 1 && (got = read(fd, text + used, sizeof text - 1 - used)) != 0) {
        if (got == -1) {
            if (errno == EINTR)
                continue;
            die("read(%s)", path);
        }
        used += (size_t)got;
    }
    close(fd);
    text[used] = '\0';
    for (const char *line = text; line; ) {
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            snprintf(buf, len, "%.*s", (int)strcspn(line + n + 1, "\n"), line + n + 1);
            return 1;
        }
        line = strchr(line, '\n');
        if (line)
            line++; /* the next line */
    }
    return 0;
}

long sigq_read(long *limit)
{
    char text[64];
    long queued, max;

    if (!status_field("/proc/self/status", "SigQ", text, sizeof text) ||
        sscanf(text, "%ld/%ld", &queued, &max) != 2)
        fail("/proc/self/status has no SigQ line: is /proc mounted?");
    if (limit)
        *limit = max;
    return queued;
}

long parse_sigpending(const char *what, const char *text)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_SIGPENDING, &rl) == -1)
        die("getrlimit(RLIMIT_SIGPENDING)");
    long hard = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > LONG_MAX ? LONG_MAX : (long)rl.rlim_max;
    return parse_long(what, text, 1, hard);
}

void set_sigpending(long limit)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_SIGPENDING, &rl) == -1)
        die("getrlimit(RLIMIT_SIGPENDING)");
    rl.rlim_cur = (rlim_t)limit; /* the soft limit: lowering it needs no privilege */
    if (setrlimit(RLIMIT_SIGPENDING, &rl) == -1)
        die("setrlimit(RLIMIT_SIGPENDING, %ld)", limit);
}

void pending_sets(pid_t tid, uint64_t *private_set, uint64_t *shared_set)
{
    char path[64], text[64];

    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    if (!status_field(path, "SigPnd", text, sizeof text) ||
        sscanf(text, "%" SCNx64, private_set) != 1 ||
        !status_field(path, "ShdPnd", text, sizeof text) ||
        sscanf(text, "%" SCNx64, shared_set) != 1)
        fail("%s has no SigPnd/ShdPnd lines", path);
}

const char *mask_names(uint64_t mask, char *buf, size_t len)
{
    size_t used = 0;
    char name[16];

    buf[0] = '\0';
    for (int sig = 1; sig <= 64 && used < len; sig++) {
        if (!(mask & (UINT64_C(1) << (sig - 1))))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
                         signal_name(sig, name, sizeof name));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (!used)
        snprintf(buf, len, "none");
    return buf;
}

void udp_pair_open(struct udp_pair *p)
{
    p->len = parse_addr("address", "127.0.0.1", 0, &p->addr);
    p->rx = bound_socket(SOCK_DGRAM, &p->addr, p->len);
    if (getsockname(p->rx, (struct sockaddr *)&p->addr, &p->len) == -1)
        die("getsockname(%d)", p->rx);
    p->tx = socket(AF_INET, SOCK_DGRAM, 0);
    if (p->tx == -1)
        die("socket(AF_INET, SOCK_DGRAM)");
}

void udp_send(const struct udp_pair *p)
{
    if (sendto(p->tx, "event", 5, 0, (const struct sockaddr *)&p->addr, p->len) != 5)
        die("sendto(%d)", p->tx);
}

void udp_event(const struct udp_pair *p)
{
    struct pollfd pfd = {.fd = p->rx, .events = POLLIN};

    udp_send(p);
    for (;;) {
        int n = poll(&pfd, 1, 5000);
        if (n == 1)
            break;
        if (n == 0)
            fail("a loopback datagram did not arrive within 5 s");
        if (errno != EINTR)
            die("poll(%d)", p->rx);
    }
    char buf[64];
    if (recv(p->rx, buf, sizeof buf, MSG_DONTWAIT) == -1)
        die("recv(%d)", p->rx);
}

ssize_t read_once(int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -1; /* nothing there (any more): a notification can be stale */
        if (errno != EINTR)
            die("read(%d)", fd);
    }
}

int is_poll_code(int code)
{
    return code >= POLL_IN && code <= POLL_HUP;
}

long linux_band(int code)
{
    /* The kernel's band_table (fs/fcntl.c), indexed by si_code - POLL_IN. */
    static const long table[] = {
        POLLIN | POLLRDNORM,               /* POLL_IN */
        POLLOUT | POLLWRNORM | POLLWRBAND, /* POLL_OUT */
        POLLIN | POLLRDNORM | POLLMSG,     /* POLL_MSG */
        POLLERR,                           /* POLL_ERR */
        POLLPRI | POLLRDBAND,              /* POLL_PRI: TLPI Table 63-7 says POLLRDNORM */
        POLLHUP | POLLERR,                 /* POLL_HUP */
    };

    return is_poll_code(code) ? table[code - POLL_IN] : -1;
}

const char *note_text(int signo, int code, int fd, long band, char *buf, size_t len)
{
    char sname[16], cname[16], bname[96];

    if (!is_poll_code(code)) {
        snprintf(buf, len, "sig=%s si_code=%s", signal_name(signo, sname, sizeof sname),
                 sicode_name(code, cname, sizeof cname));
        return buf;
    }
    snprintf(buf, len, "sig=%s si_code=%s si_fd=%d si_band=0x%lx (%s)",
             signal_name(signo, sname, sizeof sname), sicode_name(code, cname, sizeof cname), fd,
             band, band_names(band, bname, sizeof bname));
    return buf;
}

long child_ask(int cmd, int report, char c)
{
    char line[32];
    size_t used = 0;

    if (write(cmd, &c, 1) != 1)
        die("write(command pipe)");
    while (used < sizeof line - 1) {
        ssize_t r = read(report, line + used, 1);
        if (r == 0)
            fail("the child did not answer (did it die?)");
        if (r == -1) {
            if (errno == EINTR)
                continue;
            die("read(report pipe)");
        }
        if (line[used++] == '\n')
            break;
    }
    line[used] = '\0';
    return atol(line);
}
