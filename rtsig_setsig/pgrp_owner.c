/* SPDX-License-Identifier: MIT */
/*
 * pgrp_owner - the owner of a descriptor can be a process group: every process in it gets
 * the signal. A forked child of a process owner gets nothing.
 *
 * Demonstrates:
 *   - F_SETOWN with a negative number names a process group: parent and child, both in the
 *     group, each get one signal per event;
 *   - F_SETOWN with the parent's PID: the child shares the descriptor (fork copies the
 *     descriptor, not the ownership) and gets nothing;
 *   - the owner belongs to the open file description the two share: when the child makes
 *     itself the owner, the parent stops getting signals.
 *
 * Read with: APUE §14.5.2 (F_SETOWN, negative = group); TLPI §63.3;
 * chapters/rtsig_setsig.md "Owners: a process, a group, a thread".
 *
 * Usage: pgrp_owner [-k K]
 *   -k K  events (datagrams) per step (default 3, 1 to 100)
 *
 * Try it:
 *   ./pgrp_owner
 *   ./pgrp_owner -k 10
 *
 * What to observe:
 *   - "owner=group ... parent_signals=3 child_signals=3": one event, two signals;
 *   - "owner=parent ... parent_signals=3 child_signals=0";
 *   - "owner=child ... parent_signals=0 child_signals=3": the child changed the owner for
 *     both of them.
 *
 * Linux notes: F_SETOWN_EX with F_OWNER_PGRP does the same with a positive group ID. The
 * group this program signals is one it makes for itself (see main), never the shell's.
 * F_GETOWN reports a group owner as a negative number.
 */
#include "labutil.h"
#include "rtsig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define IDLE_MS 200 /* a process has counted all its signals after this long with none */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [-k K]\n"
            "  -k K  events (datagrams) per step (default 3, 1 to 100)\n"
            "  -h    this help\n"
            "example: %s -k 10\n",
            lab_prog, lab_prog);
}

/* count_signals - take every pending signal of *set until IDLE_MS pass with none. */
static long count_signals(const sigset_t *set)
{
    siginfo_t si;
    long n = 0;

    while (take_signal(set, &si, IDLE_MS) > 0)
        n++;
    return n;
}

/* The child's side: obey one-letter commands from the parent, answer on `report`.
 * 'c': count the signals you got and say how many; 'o': make yourself the owner. */
static int child_main(int fd, int cmd, int report, const sigset_t *set)
{
    char c;
    ssize_t r;

    while ((r = read(cmd, &c, 1)) == 1) {
        char line[32];
        int len;
        if (c == 'c') {
            len = snprintf(line, sizeof line, "%ld\n", count_signals(set));
        } else {
            setown(fd, getpid()); /* LAB: child-takes-ownership */
            len = snprintf(line, sizeof line, "ok\n");
        }
        if (write(report, line, (size_t)len) != len)
            die("write(report pipe)");
    }
    if (r == -1)
        die("read(command pipe)");
    return EXIT_OK; /* the parent closed the pipe: done */
}

/* step - K events, then how many signals each process took. */
static void step(const char *label, const struct udp_pair *p, long events, const sigset_t *set,
                 int cmd, int report)
{
    int getown = fcntl(p->rx, F_GETOWN);

    for (long i = 0; i < events; i++)
        udp_event(p);
    long mine = count_signals(set);
    long child = child_ask(cmd, report, 'c');
    printf("owner=%s getown=%d events=%ld parent_signals=%ld child_signals=%ld\n", label, getown,
           events, mine, child);
}

/* experiment - runs as the leader of a process group of its own, with one child in it. */
static int experiment(long events)
{
    struct udp_pair pair;
    sigset_t set;
    int cmd[2], report[2];

    /* Step 1 for both processes: block before fork, and the child inherits the mask. No
     * handlers: each takes its signals with sigtimedwait. */
    block_set(sigset_of(&set, SIGRTMIN, SIGIO, 0));
    udp_pair_open(&pair);
    if (pipe(cmd) == -1 || pipe(report) == -1)
        die("pipe");
    fflush(stdout);
    pid_t child = fork();
    if (child == -1)
        die("fork");
    if (child == 0) {
        close(cmd[1]);
        close(report[0]);
        exit(child_main(pair.rx, cmd[0], report[1], &set));
    }
    close(cmd[0]);
    close(report[1]);
    int answers = report[0];
    printf("parent %d and child %d are the process group %d\n", (int)getpid(), (int)child,
           (int)getpgrp());

    /* LAB: owner-pgrp — a negative owner is a process group: every member gets a signal. */
    setown(pair.rx, -getpgrp());
    setsig(pair.rx, SIGRTMIN);
    set_fl(pair.rx, O_ASYNC | O_NONBLOCK);
    step("group", &pair, events, &set, cmd[1], answers);

    /* The parent alone: the child holds the same descriptor and gets nothing. */
    setown(pair.rx, getpid());
    step("parent", &pair, events, &set, cmd[1], answers);

    /* The child names itself on the shared open file description: for both of them. */
    child_ask(cmd[1], answers, 'o');
    step("child", &pair, events, &set, cmd[1], answers);

    close(cmd[1]); /* the child reads end-of-file and exits */
    int status;
    if (waitpid(child, &status, 0) == -1)
        die("waitpid(%d)", (int)child);
    close(answers);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? EXIT_OK : EXIT_FAIL;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long events = 3;
    int opt;

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":k:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k': events = parse_long("-k", optarg, 1, 100); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);

    /* LAB: a-group-of-our-own — the signals go to every process of the group, and the group
     * we were started in may hold the shell's other jobs or the rest of a pipeline (whose
     * default action for a realtime signal is to die). So the experiment runs in a child
     * that first makes a new group with itself as leader. */
    fflush(stdout);
    pid_t leader = fork();
    if (leader == -1)
        die("fork");
    if (leader == 0) {
        if (setpgid(0, 0) == -1)
            die("setpgid(0, 0)");
        exit(experiment(events));
    }
    int status;
    if (waitpid(leader, &status, 0) == -1)
        die("waitpid(%d)", (int)leader);
    if (WIFSIGNALED(status))
        fail("the experiment was killed by signal %d", WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAIL;
}
