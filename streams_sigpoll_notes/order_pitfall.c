/* SPDX-License-Identifier: MIT */
/*
 * order_pitfall - the handler must come before the owner: what happens to a process whose
 * descriptor signals before it handles SIGIO, and to a program it execs.
 *
 * Demonstrates:
 *   - SIGIO's default action terminates, as SIGPOLL's does on SVR4 (they are one signal on
 *     Linux): owner and O_ASYNC set before the handler, data arriving in between, kills;
 *   - the right order (handler, owner, O_ASYNC) survives the same data and reads it;
 *   - exec keeps the owner and O_ASYNC but drops the handler: the new program is killed by
 *     the first event; switching O_ASYNC off before exec saves it.
 *
 * Read with: UNP §25.2 (the order of the set-up calls), APUE §14.5.1 (SIGPOLL's default);
 * chapters/streams_sigpoll_notes.md "Handler first".
 *
 * Usage: order_pitfall [-c CASE]...
 *   -c, --case CASE  wrong_order, right_order, exec_inherits or exec_fixed; may be repeated
 *                    (default: all four, in that order)
 *   (--exec-target is what the exec cases run; it is not for use by hand)
 *
 * Try it:
 *   ./order_pitfall
 *   ./order_pitfall -c wrong_order; echo "exit $?"
 *   ./order_pitfall -c exec_inherits -c exec_fixed
 *
 * What to observe:
 *   - "case=wrong_order outcome=killed signal=SIGIO" and "case=exec_inherits outcome=killed
 *     signal=SIGIO": the data killed them, though no one sent a signal by hand;
 *   - "case=right_order outcome=survived" after the child's line saying it read the data,
 *     and "case=exec_fixed outcome=survived" after the exec'd program saw the data arrive;
 *   - the last line, cases=N as_expected=N; the exit status is 0 only if every case ended as
 *     Linux should make it end.
 *
 * Linux notes: SIGIO == SIGPOLL (29 on x86-64) and its default action is "terminate" — not
 * "ignore" as on BSD, where UNP says the wrong order merely loses a signal. Each case runs in
 * a child, and the data is sent only after the child said it is ready, so the outcome does
 * not depend on timing. The data travels over an AF_UNIX socket pair, where the kernel sends
 * the signal inside the sender's own send() call.
 */
#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MESSAGE "hello"
#define CHILD_LIMIT_S 10 /* a child still alive then is killed by its own alarm */
#define WAIT_LIMIT_S 15  /* the parent's bound on each child, after which it kills it */

enum outcome { KILLED, SURVIVED };

static const struct order_case {
    const char *name;
    const char *what;  /* one sentence for people */
    enum outcome expect;
    int exec;          /* the child execs the target program */
} cases[] = {
    {"wrong_order", "owner and O_ASYNC first, the data arrives, then the handler (wrong on purpose)", KILLED, 0},
    {"right_order", "handler first, then owner and O_ASYNC, then the data", SURVIVED, 0},
    {"exec_inherits", "handler, owner, O_ASYNC, then exec a program that knows nothing of SIGIO", KILLED, 1},
    {"exec_fixed", "the same, but O_ASYNC switched off before the exec", SURVIVED, 1},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* What a child's SIGIO handler saw; the child reads it only with SIGIO blocked. A lone
 * flag: volatile sig_atomic_t (chapters/README.md, "Data a handler shares"), rule 1). */
static volatile sig_atomic_t sigio_seen;

static void on_sigio(int sig)
{
    (void)sig;
    sigio_seen = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-c CASE]...\n"
            "  -c, --case CASE  wrong_order, right_order, exec_inherits or exec_fixed; may be\n"
            "                   repeated (default: all four)\n"
            "  -h, --help       this help\n"
            "example: %s -c wrong_order -c right_order\n",
            lab_prog, lab_prog);
}

/* io_name - SIGIO by the name the books use: glibc calls signal 29 "POLL" (it is both). */
static const char *io_name(int sig, char *buf, size_t len)
{
    return sig == SIGIO ? "SIGIO" : signal_name(sig, buf, len);
}

/* ---- the child's side ---------------------------------------------------------------- */

/* The descriptors a child gets: its end of the data socket pair, and the two pipes. */
struct child_fds {
    int sock;  /* data arrives here; the child makes it signal-driven */
    int ready; /* the child writes one byte here when set up (write end) */
    int go;    /* EOF here means the parent has sent the data (read end) */
};

static void tell_ready(int fd)
{
    if (write(fd, "r", 1) != 1)
        die("write(%d, ready)", fd);
    close(fd);
}

/*
 * wait_for_go - block until the parent closes its end of the go pipe, which it does only
 * after its send() returned. On AF_UNIX the signal is generated inside that send(), so by
 * the time this read can return, a SIGIO is already pending here.
 */
static void wait_for_go(int fd)
{
    char b;
    ssize_t n;

    while ((n = read(fd, &b, 1)) == -1 && errno == EINTR)
        ; /* a handled SIGIO interrupted the read: keep waiting for the EOF */
    if (n == -1)
        die("read(%d, go)", fd);
}

static void take_owner(int fd)
{
    if (fcntl(fd, F_SETOWN, getpid()) == -1)
        die("fcntl(%d, F_SETOWN, %d)", fd, (int)getpid());
}

/* wrong_order - the classic mistake, on purpose: the descriptor can signal before anything
 * handles SIGIO. */
static _Noreturn void child_wrong_order(const struct child_fds *f)
{
    /* LAB: wrong-order — WRONG ON PURPOSE: owner and O_ASYNC before the handler. */
    take_owner(f->sock);
    set_fl(f->sock, O_ASYNC | O_NONBLOCK);
    tell_ready(f->ready);
    wait_for_go(f->go); /* the data arrives while SIGIO still has its default action */
    on_signal(SIGIO, on_sigio, 0); /* too late: never reached */
    printf("  child: still alive after the data: SIGIO did not terminate\n");
    _exit(EXIT_OK);
}

/* right_order - the order the books ask for; the child then reads what arrived. */
static _Noreturn void child_right_order(const struct child_fds *f)
{
    sigset_t none;
    char buf[64];

    /* LAB: handler-before-owner — handler first (and SIGIO blocked until the child waits
     * for it), then the owner, then O_ASYNC. */
    on_signal(SIGIO, on_sigio, 0);
    block_signal(SIGIO);
    take_owner(f->sock);
    set_fl(f->sock, O_ASYNC | O_NONBLOCK);
    tell_ready(f->ready);
    wait_for_go(f->go);

    /* Block, then wait: sigsuspend lets SIGIO in and sleeps in one step. */
    sigemptyset(&none);
    while (!sigio_seen)
        sigsuspend(&none);
    ssize_t n = recv(f->sock, buf, sizeof buf - 1, 0);
    if (n < 0)
        die("recv(%d)", f->sock);
    buf[n > 0 ? n : 0] = '\0';
    printf("  child: caught SIGIO, read %zd bytes: %s\n", n, buf);
    _exit(strcmp(buf, MESSAGE) == 0 ? EXIT_OK : EXIT_FAIL);
}

/*
 * child_exec - handler, owner, O_ASYNC: all correct for this program. Then it execs the
 * target, which handles nothing. For exec_fixed, O_ASYNC goes off first.
 */
static _Noreturn void child_exec(const struct child_fds *f, int fixed, const char *self)
{
    char ready[16], go[16], sock[16];

    on_signal(SIGIO, on_sigio, 0);
    take_owner(f->sock);
    set_fl(f->sock, O_ASYNC | O_NONBLOCK);
    if (fixed) {
        /* LAB: async-off-before-exec — the owner stays with the open file and so does
         * O_ASYNC, across exec, while the handler does not. Switch O_ASYNC off (FD_CLOEXEC
         * would also do, but only when no other process shares the open file: see the
         * notes). */
        clear_fl(f->sock, O_ASYNC);
    }
    /* LAB: exec-drops-handler — after execv SIGIO is back to its default action. */
    snprintf(ready, sizeof ready, "%d", f->ready);
    snprintf(go, sizeof go, "%d", f->go);
    snprintf(sock, sizeof sock, "%d", f->sock);
    fflush(stdout);
    execl(self, "order_pitfall", "--exec-target", ready, go, sock, (char *)NULL);
    warn_errno("execl(%s)", self);
    _exit(127);
}

/*
 * exec_target - the program the exec cases run: it installs no handler for SIGIO, says so,
 * tells the parent it is ready, and waits. Data arriving on the inherited socket kills it
 * unless O_ASYNC was switched off before the exec.
 */
static int exec_target(char **argv)
{
    struct child_fds f;
    struct sigaction now;
    int waiting = 0;

    f.ready = (int)parse_long("--exec-target READY", argv[0], 0, INT_MAX);
    f.go = (int)parse_long("--exec-target GO", argv[1], 0, INT_MAX);
    f.sock = (int)parse_long("--exec-target SOCK", argv[2], 0, INT_MAX);
    if (sigaction(SIGIO, NULL, &now) == -1)
        die("sigaction(SIGIO, NULL)");
    int flags = fcntl(f.sock, F_GETFL);
    if (flags == -1 && errno != EBADF)
        die("fcntl(%d, F_GETFL)", f.sock);
    printf("  exec'd program: SIGIO's action is %s; the inherited socket %s\n",
           now.sa_handler == SIG_DFL ? "the default (the handler did not survive exec)"
           : now.sa_handler == SIG_IGN ? "ignore" : "a handler",
           flags == -1 ? "was closed by the exec (FD_CLOEXEC)"
           : (flags & O_ASYNC) ? "has O_ASYNC on" : "has O_ASYNC off");
    fflush(stdout);
    tell_ready(f.ready);
    wait_for_go(f.go);
    if (flags == -1)
        return EXIT_OK;
    if (ioctl(f.sock, FIONREAD, &waiting) == -1)
        die("ioctl(%d, FIONREAD)", f.sock);
    printf("  exec'd program: %d bytes arrived and no signal came\n", waiting);
    return EXIT_OK;
}

/* ---- the parent's side --------------------------------------------------------------- */

/*
 * wait_bounded - wait for child pid at most limit_s seconds; SIGCHLD is blocked, so it is
 * taken with sigtimedwait. Returns 1 and *status when it ended, 0 if it had to be killed.
 */
static int wait_bounded(pid_t pid, int limit_s, int *status)
{
    int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)limit_s * 1000000000;
    sigset_t chld;

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 1;
        if (r == -1)
            die("waitpid(%d)", (int)pid);
        int64_t left = deadline - now_ns(CLOCK_MONOTONIC);
        if (left <= 0)
            break;
        struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
        if (sigtimedwait(&chld, NULL, &ts) == -1 && errno != EAGAIN && errno != EINTR)
            die("sigtimedwait(SIGCHLD)");
    }
    kill(pid, SIGKILL);
    if (waitpid(pid, status, 0) == -1)
        die("waitpid(%d)", (int)pid);
    return 0;
}

/* run_case - one case in a child; prints its line and returns 1 if it ended as expected. */
static int run_case(const struct order_case *oc, const char *self)
{
    int sv[2], ready[2], go[2], status;
    char b, sig[16];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
        die("socketpair(AF_UNIX, SOCK_STREAM)");
    if (pipe(ready) == -1 || pipe(go) == -1)
        die("pipe");
    printf("%s: %s\n", oc->name, oc->what);
    fflush(stdout); /* or the child's copy of the buffer is printed twice */

    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        struct child_fds f = {sv[0], ready[1], go[0]};
        sigset_t none;

        close(sv[1]);
        close(ready[0]);
        close(go[1]);
        sigemptyset(&none);
        if (sigprocmask(SIG_SETMASK, &none, NULL) == -1) /* the parent blocks SIGCHLD */
            die("sigprocmask(SIG_SETMASK)");
        alarm(CHILD_LIMIT_S); /* kept across exec: no child outlives its case */
        if (oc->exec)
            child_exec(&f, oc->expect == SURVIVED, self);
        if (oc->expect == KILLED)
            child_wrong_order(&f);
        child_right_order(&f);
    }

    close(sv[0]); /* from now on the child's end belongs to the child alone */
    close(ready[1]);
    close(go[0]);
    /* 1 byte: the child (or the exec'd program) is set up. 0: it ended before that. */
    if (read(ready[0], &b, 1) == -1)
        die("read(%d, ready)", ready[0]);
    close(ready[0]);
    /* MSG_NOSIGNAL: a child that is already gone must not cost us a SIGPIPE. */
    if (send(sv[1], MESSAGE, strlen(MESSAGE), MSG_NOSIGNAL) == -1 && errno != EPIPE)
        die("send(%d)", sv[1]);
    close(go[1]); /* "the data has been sent" */

    int ended = wait_bounded(pid, WAIT_LIMIT_S, &status);
    close(sv[1]);

    if (!ended) {
        printf("case=%s outcome=timeout\n", oc->name);
        return 0;
    }
    if (WIFSIGNALED(status)) {
        printf("case=%s outcome=killed signal=%s\n", oc->name,
               io_name(WTERMSIG(status), sig, sizeof sig));
        return oc->expect == KILLED && WTERMSIG(status) == SIGIO;
    }
    if (WEXITSTATUS(status) != EXIT_OK) {
        printf("case=%s outcome=failed status=%d\n", oc->name, WEXITSTATUS(status));
        return 0;
    }
    printf("case=%s outcome=survived\n", oc->name);
    return oc->expect == SURVIVED;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"case", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int chosen[NCASES * 4], nchosen = 0, opt;
    char self[PATH_MAX];

    lab_init(argv[0], usage);
    if (argc == 5 && strcmp(argv[1], "--exec-target") == 0)
        return exec_target(argv + 2);
    while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': {
            int i = 0;
            while (i < NCASES && strcmp(optarg, cases[i].name) != 0)
                i++;
            if (i == NCASES)
                usage_error("-c: unknown case '%s' (wrong_order, right_order, exec_inherits, exec_fixed)", optarg);
            if (nchosen == (int)(sizeof chosen / sizeof chosen[0]))
                usage_error("-c: at most %d cases", nchosen);
            chosen[nchosen++] = i;
            break;
        }
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (nchosen == 0)
        for (int i = 0; i < NCASES; i++)
            chosen[nchosen++] = i;

    /* The exec cases run this same program again, by the path of the running executable. */
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        die("readlink(/proc/self/exe)");
    self[len > 0 ? len : 0] = '\0';

    /* Started with SIGIO ignored (an ignored signal stays ignored across exec), every case
     * would survive: put the default action back, as a program that never touched it has. */
    on_signal(SIGIO, SIG_DFL, 0);
    block_signal(SIGCHLD); /* the children's ends are taken with sigtimedwait */

    int as_expected = 0;
    for (int i = 0; i < nchosen; i++)
        as_expected += run_case(&cases[chosen[i]], self);
    printf("cases=%d as_expected=%d\n", nchosen, as_expected);
    return as_expected == nchosen ? EXIT_OK : EXIT_FAIL;
}
