/* SPDX-License-Identifier: MIT */
/*
 * owner_probe - what the kernel keeps with a descriptor's owner: its kind (F_SETOWN_EX),
 * whose permission it carries, which descriptor si_fd names, and how a small group ID
 * reads back.
 *
 * Demonstrates:
 *   - F_SETOWN_EX with F_OWNER_PID and F_OWNER_PGRP (a positive group ID), read back with
 *     F_GETOWN_EX; F_SETOWN's number reads back through F_GETOWN_EX as the same two kinds
 *     (--case ex);
 *   - si_fd names the descriptor on which O_ASYNC was switched on, not the one F_SETSIG or
 *     F_SETOWN were called on, and keeps naming that number after it is closed, even when
 *     the number has been reused for another file (--case sifd);
 *   - the credentials of whoever called F_SETOWN decide whether the owner may be
 *     signalled: an unprivileged process naming a root process as owner is accepted, and
 *     every signal is then dropped without a word (--case perm, needs root);
 *   - F_GETOWN made as a raw system call cannot report a process group from 1 to 4095:
 *     -2 looks like the error ENOENT; glibc's fcntl() and F_GETOWN_EX get it right
 *     (--case small-pgrp, needs process IDs that small: a new PID namespace).
 *
 * Read with: TLPI §63.3 (F_SETOWN_EX, F_SETSIG's si_fd); APUE §14.5.2 (F_SETOWN); fcntl(2)
 * "F_SETOWN", BUGS; chapters/rtsig_setsig.md "What the kernel keeps with the owner".
 *
 * Usage: owner_probe [--case ex|sifd|perm|small-pgrp|all]
 *   --case C  one case (default all: the cases that cannot run here say why and are left out)
 *
 * Try it:
 *   ./owner_probe --case ex
 *   ./owner_probe --case sifd
 *   sudo ./owner_probe --case perm
 *   unshare --user --map-root-user --pid --fork ./owner_probe --case small-pgrp
 *
 * What to observe:
 *   - ex: "set=F_SETOWN_EX{F_OWNER_PGRP,N} getown_ex={F_OWNER_PGRP,N} getown=-N signals=1";
 *   - sifd: "step=closed async_fd=4 si_fd=4 now=closed", then "step=reused ... now=/dev/null";
 *   - perm: "setter_uid=65534 owner=parent(uid 0) signals=0", then 1 once root sets it;
 *   - small-pgrp: "pgrp=2 raw_getown=-1 raw_errno=ENOENT glibc_getown=-2
 *     getown_ex={F_OWNER_PGRP,2} signals=1": the owner works; only reading it is broken.
 *
 * Linux notes: the owner records the caller's uid and euid at F_SETOWN time (fs/fcntl.c
 * __f_setown); sigio_perm() compares them with the target's when each signal is sent: root,
 * or a uid or euid equal to the target's uid or saved uid, may signal. fcntl(2) says si_fd
 * is the descriptor given to F_SETSIG; the kernel sends the one recorded when O_ASYNC was
 * switched on (the fasync entry's fa_fd). Each case runs in a child that leads a process
 * group of its own, so a group owner never reaches the shell's jobs.
 */
#include "labutil.h"
#include "rtsig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define IDLE_MS 200     /* a process has all its signals after this long with none */
#define NOBODY 65534    /* the unprivileged user ID the perm case drops to */
#define SMALL_ID 4095   /* the largest group ID the raw F_GETOWN cannot return */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [--case ex|sifd|perm|small-pgrp|all]\n"
            "  --case C  one case (default all; a case that cannot run here says why)\n"
            "              ex          F_SETOWN_EX with F_OWNER_PID and F_OWNER_PGRP, read back\n"
            "              sifd        si_fd after dup() and close()\n"
            "              perm        an owner named by an unprivileged process (needs root)\n"
            "              small-pgrp  F_GETOWN for a group ID below 4096 (needs a PID namespace)\n"
            "  -h        this help\n"
            "example: unshare --user --map-root-user --pid --fork %s --case small-pgrp\n",
            lab_prog, lab_prog);
}

/* count_signals - take every pending signal of *set until IDLE_MS pass with none. */
static long count_signals(const sigset_t *set, siginfo_t *last)
{
    siginfo_t si;
    long n = 0;

    while (take_signal(set, &si, IDLE_MS) > 0) {
        n++;
        if (last)
            *last = si;
    }
    return n;
}

static const char *owner_type(int type)
{
    return type == F_OWNER_TID ? "F_OWNER_TID" : type == F_OWNER_PID ? "F_OWNER_PID"
         : type == F_OWNER_PGRP ? "F_OWNER_PGRP" : "?";
}

/* ---- ex: F_SETOWN_EX and F_GETOWN_EX ------------------------------------------------- */

/* ex_step - the owner is set (described by `set`); read it back both ways, make one event,
 * count the signals this process takes. */
static void ex_step(const char *set_text, const struct udp_pair *p, const sigset_t *set)
{
    struct f_owner_ex ex;

    if (fcntl(p->rx, F_GETOWN_EX, &ex) == -1)
        die("fcntl(%d, F_GETOWN_EX)", p->rx);
    errno = 0;
    int getown = fcntl(p->rx, F_GETOWN);
    if (getown == -1 && errno)
        die("fcntl(%d, F_GETOWN)", p->rx);
    udp_event(p);
    printf("set=%s getown_ex={%s,%d} getown=%d signals=%ld\n", set_text, owner_type(ex.type),
           (int)ex.pid, getown, count_signals(set, NULL));
}

static int case_ex(void)
{
    struct udp_pair p;
    sigset_t set;
    char text[64];
    pid_t pid = getpid(), pgrp = getpgrp();

    block_set(sigset_of(&set, SIGRTMIN, SIGIO, 0));
    udp_pair_open(&p);
    setsig(p.rx, SIGRTMIN);
    set_fl(p.rx, O_ASYNC | O_NONBLOCK);
    printf("case=ex pid=%d pgrp=%d\n", (int)pid, (int)pgrp);

    /* LAB: owner-ex — the explicit forms: a type and a positive ID. */
    struct f_owner_ex owner = {.type = F_OWNER_PID, .pid = pid};
    if (fcntl(p.rx, F_SETOWN_EX, &owner) == -1)
        die("fcntl(%d, F_SETOWN_EX, {F_OWNER_PID, %d})", p.rx, (int)pid);
    snprintf(text, sizeof text, "F_SETOWN_EX{F_OWNER_PID,%d}", (int)pid);
    ex_step(text, &p, &set);

    owner = (struct f_owner_ex){.type = F_OWNER_PGRP, .pid = pgrp};
    if (fcntl(p.rx, F_SETOWN_EX, &owner) == -1)
        die("fcntl(%d, F_SETOWN_EX, {F_OWNER_PGRP, %d})", p.rx, (int)pgrp);
    snprintf(text, sizeof text, "F_SETOWN_EX{F_OWNER_PGRP,%d}", (int)pgrp);
    ex_step(text, &p, &set);

    /* The classic forms, read back with F_GETOWN_EX: a PID is F_OWNER_PID, minus a group
     * ID is F_OWNER_PGRP with the positive ID. */
    setown(p.rx, pid);
    snprintf(text, sizeof text, "F_SETOWN(%d)", (int)pid);
    ex_step(text, &p, &set);
    setown(p.rx, -pgrp);
    snprintf(text, sizeof text, "F_SETOWN(%d)", -(int)pgrp);
    ex_step(text, &p, &set);

    /* What the kernel refuses: a type it does not know, a process that does not exist. */
    owner = (struct f_owner_ex){.type = 99, .pid = pid};
    int bad_type = fcntl(p.rx, F_SETOWN_EX, &owner) == -1 ? errno : 0;
    owner = (struct f_owner_ex){.type = F_OWNER_PID, .pid = 0x3fffffff};
    int no_such = fcntl(p.rx, F_SETOWN_EX, &owner) == -1 ? errno : 0;
    printf("bad_type=%s no_such_pid=%s\n", bad_type ? errno_name(bad_type) : "accepted",
           no_such ? errno_name(no_such) : "accepted");
    close(p.rx);
    close(p.tx);
    return EXIT_OK;
}

/* ---- sifd: which descriptor si_fd names ---------------------------------------------- */

/* what_is - what descriptor number fd is now: "closed", or the target of its /proc link. */
static const char *what_is(int fd, char *buf, size_t len)
{
    char path[64];

    if (fcntl(fd, F_GETFD) == -1)
        return "closed";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, buf, len - 1);
    if (n < 0)
        return "open";
    buf[n] = '\0';
    return buf;
}

static void sifd_step(const char *label, int async_fd, const struct udp_pair *p,
                      const sigset_t *set)
{
    siginfo_t si;
    char now[128];

    udp_event(p);
    long n = count_signals(set, &si);
    printf("step=%s async_fd=%d signals=%ld si_fd=%d now=%s\n", label, async_fd, n,
           n ? si.si_fd : -1, n ? what_is(si.si_fd, now, sizeof now) : "-");
}

static int case_sifd(void)
{
    struct udp_pair p;
    sigset_t set;

    block_set(sigset_of(&set, SIGRTMIN, SIGIO, 0));
    udp_pair_open(&p);
    /* LAB: sifd-which — owner and signal on the socket's first descriptor, O_ASYNC through
     * a duplicate. */
    int dup_fd = dup(p.rx);
    if (dup_fd == -1)
        die("dup(%d)", p.rx);
    setown(p.rx, getpid());
    setsig(p.rx, SIGRTMIN);
    set_fl(p.rx, O_NONBLOCK);
    set_fl(dup_fd, O_ASYNC);
    printf("case=sifd socket_fd=%d dup_fd=%d (F_SETOWN and F_SETSIG on %d, O_ASYNC on %d)\n", p.rx,
           dup_fd, p.rx, dup_fd);
    sifd_step("open", dup_fd, &p, &set);

    /* The duplicate goes; the socket stays open through p.rx, and so does its O_ASYNC. */
    close(dup_fd);
    sifd_step("closed", dup_fd, &p, &set);

    /* The number is reused for another file: si_fd now names the wrong thing. */
    int other = open("/dev/null", O_RDONLY);
    if (other == -1)
        die("open(/dev/null)");
    if (other != dup_fd) {
        if (dup2(other, dup_fd) == -1)
            die("dup2");
        close(other);
    }
    sifd_step("reused", dup_fd, &p, &set);
    close(dup_fd);

    /* LAB: sifd-rebind — the way out: switch O_ASYNC off and on through the descriptor
     * the program keeps. */
    clear_fl(p.rx, O_ASYNC);
    set_fl(p.rx, O_ASYNC);
    sifd_step("rebound", p.rx, &p, &set);
    close(p.rx);
    close(p.tx);
    return EXIT_OK;
}

/* ---- perm: the setter's credentials -------------------------------------------------- */

/* The child's side: obey one-letter commands, answer one line on `report`.
 * 'p': name the parent as owner; 's': name yourself; 'c': count your signals. */
static int perm_child(int fd, int cmd, int report, const sigset_t *set)
{
    char c, line[32];
    ssize_t r;

    while ((r = read(cmd, &c, 1)) == 1) {
        long n = 0;
        if (c == 'p')
            setown(fd, getppid());
        else if (c == 's')
            setown(fd, getpid());
        else
            n = count_signals(set, NULL);
        int len = snprintf(line, sizeof line, "%ld\n", n);
        if (write(report, line, (size_t)len) != len)
            die("write(report pipe)");
    }
    return r == 0 ? EXIT_OK : EXIT_FAIL;
}

static int case_perm(void)
{
    if (geteuid() != 0)
        skip_exit("case perm: needs root, to start a child that drops to another user ID "
                  "(uid %d); an ordinary user has no second user ID to show the check with",
                  NOBODY);
    struct udp_pair p;
    sigset_t set;
    int cmd[2], report[2], ready[2];

    block_set(sigset_of(&set, SIGRTMIN, SIGIO, 0));
    udp_pair_open(&p);
    setsig(p.rx, SIGRTMIN);
    set_fl(p.rx, O_ASYNC | O_NONBLOCK);
    if (pipe(cmd) == -1 || pipe(report) == -1 || pipe(ready) == -1)
        die("pipe");
    fflush(stdout);
    pid_t child = fork();
    if (child == -1)
        die("fork");
    if (child == 0) {
        close(cmd[1]);
        close(report[0]);
        close(ready[0]);
        /* LAB: drop-privilege — the child becomes an unprivileged user for good. */
        gid_t gid = NOBODY;
        char why[160] = "";
        if (setgroups(1, &gid) == -1 || setgid(NOBODY) == -1 || setuid(NOBODY) == -1)
            snprintf(why, sizeof why, "cannot become uid %d here (%s): in a user namespace "
                     "only the mapped IDs exist", NOBODY, errno_name(errno));
        size_t len = strlen(why) + 1;
        if (write(ready[1], why, len) != (ssize_t)len)
            die("write(ready pipe)");
        close(ready[1]);
        if (why[0])
            exit(EXIT_SKIP);
        exit(perm_child(p.rx, cmd[0], report[1], &set));
    }
    close(cmd[0]);
    close(report[1]);
    close(ready[1]);
    char why[160] = "";
    ssize_t got = read(ready[0], why, sizeof why - 1);
    close(ready[0]);
    if (got <= 0)
        fail("the child died before it dropped its privileges");
    why[got] = '\0';
    if (why[0]) {
        waitpid(child, NULL, 0);
        skip_exit("case perm: %s", why);
    }
    printf("case=perm parent=%d (uid %d) child=%d (uid %d)\n", (int)getpid(), (int)getuid(),
           (int)child, NOBODY);

    /* LAB: perm-dropped — uid 65534 names the root parent: accepted, then nothing comes. */
    child_ask(cmd[1], report[0], 'p');
    udp_event(&p);
    printf("setter_uid=%d owner=parent(uid %d) getown=%d parent_signals=%ld\n", NOBODY,
           (int)getuid(), fcntl(p.rx, F_GETOWN), count_signals(&set, NULL));
    /* The same owner, named by root itself: the signal comes. */
    setown(p.rx, getpid());
    udp_event(&p);
    printf("setter_uid=%d owner=parent(uid %d) getown=%d parent_signals=%ld\n", (int)getuid(),
           (int)getuid(), fcntl(p.rx, F_GETOWN), count_signals(&set, NULL));
    /* Root may signal anyone: root names the unprivileged child. */
    setown(p.rx, child);
    udp_event(&p);
    printf("setter_uid=%d owner=child(uid %d) getown=%d child_signals=%ld\n", (int)getuid(),
           NOBODY, fcntl(p.rx, F_GETOWN), child_ask(cmd[1], report[0], 'c'));
    /* And the unprivileged child may name itself. */
    child_ask(cmd[1], report[0], 's');
    udp_event(&p);
    printf("setter_uid=%d owner=child(uid %d) getown=%d child_signals=%ld\n", NOBODY, NOBODY,
           fcntl(p.rx, F_GETOWN), child_ask(cmd[1], report[0], 'c'));

    close(cmd[1]);
    int status;
    if (waitpid(child, &status, 0) == -1)
        die("waitpid(%d)", (int)child);
    close(report[0]);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* ---- small-pgrp: F_GETOWN's blind spot ----------------------------------------------- */

static int case_small_pgrp(void)
{
    pid_t pgrp = getpgrp(); /* run() made us the leader: our PID */

    if (pgrp > SMALL_ID)
        skip_exit("case small-pgrp: needs a process group ID of %d or less, and here this "
                  "process got %d; run it in a new PID namespace: unshare --user "
                  "--map-root-user --pid --fork %s --case small-pgrp",
                  SMALL_ID, (int)pgrp, lab_prog);
    struct udp_pair p;
    sigset_t set;
    struct f_owner_ex ex;

    block_set(sigset_of(&set, SIGRTMIN, SIGIO, 0));
    udp_pair_open(&p);
    setown(p.rx, -pgrp);
    setsig(p.rx, SIGRTMIN);
    set_fl(p.rx, O_ASYNC | O_NONBLOCK);

    /* LAB: raw-getown — the system call returns -pgrp, which the C library's syscall()
     * (like every system call wrapper) takes for -errno: -1 and errno = pgrp. */
    errno = 0;
    long raw = syscall(SYS_fcntl, p.rx, F_GETOWN);
    int raw_errno = errno;
    /* glibc's fcntl(F_GETOWN) asks F_GETOWN_EX itself and turns the answer into -pgrp. */
    errno = 0;
    int libc = fcntl(p.rx, F_GETOWN);
    if (fcntl(p.rx, F_GETOWN_EX, &ex) == -1)
        die("fcntl(%d, F_GETOWN_EX)", p.rx);
    udp_event(&p);
    printf("case=small-pgrp pid=%d\n", (int)getpid());
    printf("pgrp=%d raw_getown=%ld raw_errno=%s glibc_getown=%d getown_ex={%s,%d} signals=%ld\n",
           (int)pgrp, raw, raw == -1 ? errno_name(raw_errno) : "none", libc, owner_type(ex.type),
           (int)ex.pid, count_signals(&set, NULL));
    close(p.rx);
    close(p.tx);
    return EXIT_OK;
}

/* ---- running the cases --------------------------------------------------------------- */

/* run - one case in a child that leads a process group of its own (LAB: a-group-of-our-own
 * in pgrp_owner.c says why). Returns the child's exit status. */
static int run(int (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1)
        die("fork");
    if (pid == 0) {
        if (setpgid(0, 0) == -1)
            die("setpgid(0, 0)");
        exit(fn());
    }
    int status;
    if (waitpid(pid, &status, 0) == -1)
        die("waitpid(%d)", (int)pid);
    if (WIFSIGNALED(status))
        fail("a case was killed by signal %d", WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAIL;
}

int main(int argc, char **argv)
{
    enum { OPT_CASE = 256 };
    static const struct option longopts[] = {
        {"case", required_argument, NULL, OPT_CASE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const struct {
        const char *name;
        int (*fn)(void);
    } cases[] = {
        {"ex", case_ex}, {"sifd", case_sifd}, {"perm", case_perm}, {"small-pgrp", case_small_pgrp},
    };
    const size_t ncases = sizeof cases / sizeof cases[0];
    const char *only = NULL;
    int opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_CASE: only = optarg; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (only && strcmp(only, "all") == 0)
        only = NULL;
    if (only) {
        size_t i = 0;
        while (i < ncases && strcmp(only, cases[i].name) != 0)
            i++;
        if (i == ncases)
            usage_error("--case: '%s' is not one of ex, sifd, perm, small-pgrp, all", only);
        return run(cases[i].fn); /* 4 when the case cannot run here */
    }
    int worst = EXIT_OK;
    for (size_t i = 0; i < ncases; i++) {
        int st = run(cases[i].fn);
        if (st != EXIT_OK && st != EXIT_SKIP)
            worst = EXIT_FAIL;
    }
    return worst;
}
