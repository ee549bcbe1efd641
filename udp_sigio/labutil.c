/* SPDX-License-Identifier: MIT */
/*
 * labutil.c - the shared chores of a sigio-labs lab; see labutil.h for the contracts.
 * Identical in every lab folder (the copy in udp_sigio/ is the original).
 */
#include "labutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *lab_prog = "lab";
static void (*lab_usage)(FILE *out);

void lab_init(const char *argv0, void (*usage)(FILE *out))
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

    lab_prog = slash ? slash + 1 : (argv0 ? argv0 : "lab");
    lab_usage = usage;
    opterr = 0; /* bad_option() says it once, in our words */
    /* Line-buffered even into a pipe: scripts wait for lines such as "listening on". */
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, NULL, _IOLBF, 0);
}

/*
 * The names of the error numbers, from the suite's own table rather than glibc's
 * strerrorname_np (glibc 2.32 and later only): the same names on any C library. Aliases
 * (EWOULDBLOCK, EDEADLOCK, ENOTSUP) are left out, so each number has the name glibc gives
 * it. scripts/tests/tooling.bats compares the table with glibc's, number by number.
 */
#define E(name) [name] = #name
static const char *const errno_names[] = {
    E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(ENOEXEC), E(EBADF),
    E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(ENOTBLK), E(EBUSY), E(EEXIST),
    E(EXDEV), E(ENODEV), E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY),
    E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK), E(EPIPE), E(EDOM),
    E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK), E(ENOSYS), E(ENOTEMPTY), E(ELOOP),
    E(ENOMSG), E(EIDRM), E(ECHRNG), E(EL2NSYNC), E(EL3HLT), E(EL3RST), E(ELNRNG), E(EUNATCH),
    E(ENOCSI), E(EL2HLT), E(EBADE), E(EBADR), E(EXFULL), E(ENOANO), E(EBADRQC), E(EBADSLT),
    E(EBFONT), E(ENOSTR), E(ENODATA), E(ETIME), E(ENOSR), E(ENONET), E(ENOPKG), E(EREMOTE),
    E(ENOLINK), E(EADV), E(ESRMNT), E(ECOMM), E(EPROTO), E(EMULTIHOP), E(EDOTDOT), E(EBADMSG),
    E(EOVERFLOW), E(ENOTUNIQ), E(EBADFD), E(EREMCHG), E(ELIBACC), E(ELIBBAD), E(ELIBSCN),
    E(ELIBMAX), E(ELIBEXEC), E(EILSEQ), E(ERESTART), E(ESTRPIPE), E(EUSERS), E(ENOTSOCK),
    E(EDESTADDRREQ), E(EMSGSIZE), E(EPROTOTYPE), E(ENOPROTOOPT), E(EPROTONOSUPPORT),
    E(ESOCKTNOSUPPORT), E(EOPNOTSUPP), E(EPFNOSUPPORT), E(EAFNOSUPPORT), E(EADDRINUSE),
    E(EADDRNOTAVAIL), E(ENETDOWN), E(ENETUNREACH), E(ENETRESET), E(ECONNABORTED), E(ECONNRESET),
    E(ENOBUFS), E(EISCONN), E(ENOTCONN), E(ESHUTDOWN), E(ETOOMANYREFS), E(ETIMEDOUT),
    E(ECONNREFUSED), E(EHOSTDOWN), E(EHOSTUNREACH), E(EALREADY), E(EINPROGRESS), E(ESTALE),
    E(EUCLEAN), E(ENOTNAM), E(ENAVAIL), E(EISNAM), E(EREMOTEIO), E(EDQUOT), E(ENOMEDIUM),
    E(EMEDIUMTYPE), E(ECANCELED), E(ENOKEY), E(EKEYEXPIRED), E(EKEYREVOKED), E(EKEYREJECTED),
    E(EOWNERDEAD), E(ENOTRECOVERABLE), E(ERFKILL), E(EHWPOISON),
};
#undef E

const char *errno_name(int err)
{
    if (err == 0)
        return "0"; /* what glibc's strerrorname_np(0) says */
    if (err > 0 && (size_t)err < sizeof errno_names / sizeof errno_names[0] && errno_names[err])
        return errno_names[err];
    return "E?";
}

__attribute__((format(printf, 2, 0)))
static void vmessage(int err, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", lab_prog);
    vfprintf(stderr, fmt, ap);
    if (err)
        fprintf(stderr, ": %s (%s)", strerror(err), errno_name(err));
    fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    vmessage(err, fmt, ap);
    va_end(ap);
    exit(EXIT_FAIL);
}

void die_errno(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage(err, fmt, ap);
    va_end(ap);
    exit(EXIT_FAIL);
}

void fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage(0, fmt, ap);
    va_end(ap);
    exit(EXIT_FAIL);
}

void warn_errno(const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    vmessage(err, fmt, ap);
    va_end(ap);
    errno = err;
}

void usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage(0, fmt, ap);
    va_end(ap);
    if (lab_usage)
        lab_usage(stderr);
    exit(EXIT_USAGE);
}

void skip_exit(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: skipped: ", lab_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_SKIP);
}

void bad_option(int opt, char **argv)
{
    /* A missing value always belongs to the last word read, so argv[optind - 1] names it.
     * An unknown long option leaves optopt 0; an unknown short one puts it in optopt. */
    const char *word = argv[optind - 1];

    if (opt == ':') {
        if (strncmp(word, "--", 2) == 0 || !optopt)
            usage_error("option %s needs a value", word);
        usage_error("option -%c needs a value", optopt);
    }
    if (!optopt)
        usage_error("unknown option %s", word);
    usage_error("unknown option -%c", optopt);
}

void print_help(void)
{
    if (lab_usage)
        lab_usage(stdout);
    exit(EXIT_OK);
}

long parse_long(const char *what, const char *text, long min, long max)
{
    char *end;
    long value;

    errno = 0;
    value = strtol(text, &end, 10);
    if (end == text || *end != '\0')
        usage_error("%s: '%s' is not a whole number", what, text);
    if (errno == ERANGE || value < min || value > max)
        usage_error("%s: %s is out of range (%ld to %ld)", what, text, min, max);
    return value;
}

int parse_port(const char *what, const char *text)
{
    return (int)parse_long(what, text, 0, 65535);
}

/*
 * The standard signals' names without "SIG", as glibc's sigabbrev_np (2.32 and later) gives
 * them, but from the suite's own table. SIGIO is here as "IO" where glibc says "POLL": the
 * same number, and this suite is about SIGIO.
 */
#define S(name) [SIG##name] = #name
static const char *const signal_names[] = {
    S(HUP), S(INT), S(QUIT), S(ILL), S(TRAP), S(ABRT), S(BUS), S(FPE), S(KILL), S(USR1),
    S(SEGV), S(USR2), S(PIPE), S(ALRM), S(TERM), S(STKFLT), S(CHLD), S(CONT), S(STOP), S(TSTP),
    S(TTIN), S(TTOU), S(URG), S(XCPU), S(XFSZ), S(VTALRM), S(PROF), S(WINCH), S(IO), S(PWR),
    S(SYS),
};
#undef S

const char *signal_name(int sig, char *buf, size_t len)
{
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        if (sig == SIGRTMIN)
            snprintf(buf, len, "SIGRTMIN");
        else
            snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
        return buf;
    }
    if (sig > 0 && (size_t)sig < sizeof signal_names / sizeof signal_names[0] && signal_names[sig]) {
        snprintf(buf, len, "SIG%s", signal_names[sig]);
        return buf;
    }
    snprintf(buf, len, "signal %d", sig);
    return buf;
}

const char *sicode_name(int code, char *buf, size_t len)
{
    static const struct {
        int code;
        const char *name;
    } names[] = {
        {POLL_IN, "POLL_IN"},     {POLL_OUT, "POLL_OUT"}, {POLL_MSG, "POLL_MSG"},
        {POLL_ERR, "POLL_ERR"},   {POLL_PRI, "POLL_PRI"}, {POLL_HUP, "POLL_HUP"},
        {SI_KERNEL, "SI_KERNEL"}, {SI_USER, "SI_USER"},   {SI_QUEUE, "SI_QUEUE"},
        {SI_SIGIO, "SI_SIGIO"},   {SI_TKILL, "SI_TKILL"},
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code)
            return names[i].name;
    snprintf(buf, len, "%d", code);
    return buf;
}

const char *band_names(long band, char *buf, size_t len)
{
    static const struct {
        long bit;
        const char *name;
    } bits[] = {
        {POLLIN, "POLLIN"},         {POLLPRI, "POLLPRI"},       {POLLOUT, "POLLOUT"},
        {POLLERR, "POLLERR"},       {POLLHUP, "POLLHUP"},       {POLLNVAL, "POLLNVAL"},
        {POLLRDNORM, "POLLRDNORM"}, {POLLRDBAND, "POLLRDBAND"}, {POLLWRNORM, "POLLWRNORM"},
        {POLLWRBAND, "POLLWRBAND"}, {POLLMSG, "POLLMSG"},       {POLLRDHUP, "POLLRDHUP"},
    };
    size_t used = 0;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        if (!(band & bits[i].bit))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", bits[i].name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
        band &= ~bits[i].bit;
    }
    if (band && used < len)
        snprintf(buf + used, len - used, "%s0x%lx", used ? "|" : "", band);
    else if (!used)
        snprintf(buf, len, "0");
    return buf;
}

void on_signal(int sig, void (*handler)(int), int flags)
{
    struct sigaction sa;
    char name[16];

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) == -1)
        die("sigaction(%s)", signal_name(sig, name, sizeof name));
}

void on_siginfo(int sig, void (*handler)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    char name[16];

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = flags | SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) == -1)
        die("sigaction(%s, SA_SIGINFO)", signal_name(sig, name, sizeof name));
}

static void change_mask(int how, int sig)
{
    sigset_t set;
    char name[16];

    sigemptyset(&set);
    sigaddset(&set, sig);
    if (sigprocmask(how, &set, NULL) == -1)
        die("sigprocmask(%s, %s)", how == SIG_BLOCK ? "SIG_BLOCK" : "SIG_UNBLOCK",
            signal_name(sig, name, sizeof name));
}

void block_signal(int sig)
{
    change_mask(SIG_BLOCK, sig);
}

void unblock_signal(int sig)
{
    change_mask(SIG_UNBLOCK, sig);
}

int64_t timespec_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int64_t now_ns(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return timespec_ns(&ts);
}

void burn_us(long usec)
{
    int64_t until = now_ns(CLOCK_MONOTONIC) + (int64_t)usec * 1000;

    while (usec > 0 && now_ns(CLOCK_MONOTONIC) < until)
        ; /* busy on purpose: this is the server's "work" */
}

socklen_t parse_addr(const char *what, const char *text, int port, struct sockaddr_storage *ss)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        return sizeof *sin;
    }
    if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        return sizeof *sin6;
    }
    usage_error("%s: '%s' is not a numeric IPv4 or IPv6 address", what, text);
}

const char *sockaddr_text(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
    } else {
        snprintf(buf, len, "(family %d)", sa->sa_family);
    }
    return buf;
}

/* sockaddr_port - the port of an AF_INET or AF_INET6 address, in host order. */
static unsigned sockaddr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

int bound_socket(int type, const struct sockaddr_storage *addr, socklen_t len)
{
    char text[64];
    int one = 1;
    int fd = socket(addr->ss_family, type, 0);

    if (fd == -1)
        die("socket(%s, %s)", addr->ss_family == AF_INET6 ? "AF_INET6" : "AF_INET",
            type == SOCK_STREAM ? "SOCK_STREAM" : "SOCK_DGRAM");
    if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1)
        die("setsockopt(SO_REUSEADDR)");
    if (bind(fd, (const struct sockaddr *)addr, len) == -1) {
        /* The two errors a user's -p or -a value causes name the option; a port of 0 (the
         * kernel chooses) never collides, so EADDRINUSE always comes from -p. */
        sockaddr_text((const struct sockaddr *)addr, text, sizeof text);
        if (errno == EADDRINUSE)
            fail("bind(%s): address already in use: port -p %u is taken; is another server "
                 "running on that port?", text, sockaddr_port(addr));
        if (errno == EADDRNOTAVAIL)
            die("bind(%s): -a: the address is not one of this machine's", text);
        die("bind(%s)", text);
    }
    return fd;
}

void announce_listening(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char text[64];

    if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
        die("getsockname");
    printf("listening on %s\n", sockaddr_text((struct sockaddr *)&ss, text, sizeof text));
    fflush(stdout);
}

void set_fl(int fd, int flags)
{
    int old = fcntl(fd, F_GETFL);

    if (old == -1 || fcntl(fd, F_SETFL, old | flags) == -1)
        die("fcntl(%d, F_SETFL, +0x%x)", fd, (unsigned)flags);
}

void clear_fl(int fd, int flags)
{
    int old = fcntl(fd, F_GETFL);

    if (old == -1 || fcntl(fd, F_SETFL, old & ~flags) == -1)
        die("fcntl(%d, F_SETFL, -0x%x)", fd, (unsigned)flags);
}

/* ---- signal numbers on the command line, and work a stop request cuts short ---------- */

const char *signal_choices(unsigned allowed, char *buf, size_t len)
{
    char rt[48] = "";

    if (allowed & LAB_SIG_RT)
        snprintf(rt, sizeof rt, "RTMIN to RTMAX = %d to %d", SIGRTMIN, SIGRTMAX);
    snprintf(buf, len, "%s%s%s%s%s", (allowed & LAB_SIG_ZERO) ? "0 (plain SIGIO)" : "",
             (allowed & LAB_SIG_ZERO) && (allowed & ~(unsigned)LAB_SIG_ZERO) ? ", " : "",
             (allowed & LAB_SIG_USR) ? "SIGUSR1, SIGUSR2" : "",
             (allowed & LAB_SIG_USR) && (allowed & LAB_SIG_RT) ? ", " : "", rt);
    return buf;
}

/* signal_word - the number a signal word names (USR1, RTMIN+2, SIGRTMAX...), or -1 for a
 * word that is none; RTMIN+K past SIGRTMAX (or RTMAX-K below SIGRTMIN) gives 0, no signal
 * any program here takes that way. */
static int signal_word(const char *text)
{
    const char *rest = strncmp(text, "SIG", 3) == 0 ? text + 3 : text;
    int base, sign;
    char *end;

    if (strcmp(rest, "USR1") == 0)
        return SIGUSR1;
    if (strcmp(rest, "USR2") == 0)
        return SIGUSR2;
    if (strncmp(rest, "RTMIN", 5) == 0) {
        base = SIGRTMIN;
        sign = 1;
    } else if (strncmp(rest, "RTMAX", 5) == 0) {
        base = SIGRTMAX;
        sign = -1;
    } else {
        return -1;
    }
    rest += 5;
    if (*rest == '\0')
        return base;
    if (*rest != (sign > 0 ? '+' : '-') || rest[1] < '0' || rest[1] > '9')
        return -1;
    errno = 0;
    long k = strtol(rest + 1, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return -1;
    if (k > SIGRTMAX - SIGRTMIN)
        return 0;
    return base + sign * (int)k;
}

int parse_signal(const char *what, const char *text, unsigned allowed)
{
    char choices[96], name[16];
    int sig;

    if (*text >= '0' && *text <= '9') {
        char *end;
        long n;
        errno = 0;
        n = strtol(text, &end, 10);
        if (*end != '\0' || errno == ERANGE || n > 9999)
            usage_error("%s: '%s' is not a signal: %s", what, text,
                        signal_choices(allowed, choices, sizeof choices));
        sig = (int)n;
    } else {
        sig = signal_word(text);
        if (sig < 0)
            usage_error("%s: '%s' is not a signal: %s", what, text,
                        signal_choices(allowed, choices, sizeof choices));
        if (sig == 0)
            usage_error("%s: %s is past the realtime signals: %s", what, text,
                        signal_choices(allowed, choices, sizeof choices));
    }
    if (sig == 0 && (allowed & LAB_SIG_ZERO))
        return 0;
    if ((sig == SIGUSR1 || sig == SIGUSR2) && (allowed & LAB_SIG_USR))
        return sig;
    if (sig >= SIGRTMIN && sig <= SIGRTMAX && (allowed & LAB_SIG_RT))
        return sig;
    if (sig > 0 && sig < NSIG)
        usage_error("%s: %d (%s) is not one this program can use: %s", what, sig,
                    signal_name(sig, name, sizeof name),
                    signal_choices(allowed, choices, sizeof choices));
    usage_error("%s: %d is not one this program can use: %s", what, sig,
                signal_choices(allowed, choices, sizeof choices));
}

int burn_us_or_stop(long usec, int (*stop)(void))
{
    int64_t until = now_ns(CLOCK_MONOTONIC) + (int64_t)usec * 1000;

    while (usec > 0 && now_ns(CLOCK_MONOTONIC) < until)
        if (stop())
            return 1;
    return 0;
}
