/* SPDX-License-Identifier: MIT */
/*
 * thread_owner - which thread gets the I/O signal: F_SETOWN_EX with F_OWNER_TID sends it to
 * one chosen thread; F_SETOWN with that thread's ID does not.
 *
 * Demonstrates:
 *   - F_SETOWN_EX(F_OWNER_TID) is thread-directed: the signals wait in the chosen thread's
 *     own pending set (SigPnd), and no other thread can take them;
 *   - F_SETOWN(gettid()), even called from that thread, is process-directed: the signals
 *     wait in the process's shared set (ShdPnd) and any thread takes them; F_GETOWN then
 *     says 0;
 *   - the SIGIO sent when the realtime queue is full follows the owner: with F_OWNER_TID it
 *     too goes to the chosen thread alone (--overflow).
 *
 * Read with: TLPI §63.3 (F_SETOWN_EX, F_OWNER_TID); chapters/rtsig_setsig.md "Which thread".
 *
 * Usage: thread_owner [--owner tid|setown-tid|pid] [-k K] [--overflow L] [-w W]
 *   --owner tid         F_SETOWN_EX(F_OWNER_TID, worker1's ID) (default)
 *   --owner setown-tid  worker1 itself calls F_SETOWN(gettid())
 *   --owner pid         F_SETOWN(getpid()): the usual process owner
 *   -k K                events, one datagram each (default 5, 1 to 1000; with --overflow,
 *                       default L+3 and more than L)
 *   --overflow L        lower RLIMIT_SIGPENDING to L first, so that the queue overflows
 *   -w W                worker threads (default 2, 1 to 8); worker1 is the owner
 *
 * Try it:
 *   ./thread_owner --owner tid
 *   ./thread_owner --owner setown-tid
 *   ./thread_owner --owner tid --overflow 4
 *   ./thread_owner --owner pid --overflow 4
 *
 * What to observe:
 *   - tid: "pending=private taken_by_target=5 taken_by_others=0";
 *   - setown-tid: "getown=0 pending=shared taken_by_target=0 taken_by_others=5";
 *   - tid --overflow 4: "sigio_by_target=1 sigio_by_others=0": the fallback SIGIO went
 *     to worker1's own set, where the main thread could not see it;
 *   - --overflow with signals of other programs of your user queued (others=N): a "note:"
 *     line, and fewer realtime signals (none at all once N reaches L: pending=none);
 *     `unshare --user ./thread_owner ...` gives a count of its own.
 *
 * Linux notes: fcntl(2) says the overflow SIGIO is sent to the whole process; the kernel
 * sends it with the owner's own type, thread-directed for F_OWNER_TID. Since Linux 6.12,
 * F_GETOWN after F_SETOWN(tid of a non-main thread) returns 0. The worker1 of this program
 * stays out of the way (signal blocked, not waiting) while the others take: a
 * process-directed signal would otherwise often land on it anyway, because the kernel
 * tries the owner's own thread first.
 */
#include "labutil.h"
#include "rtsig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WORKERS_MAX 8
#define IDLE_MS 300 /* a taker gives up after this long with nothing pending */

enum owner { OWNER_TID, OWNER_SETOWN_TID, OWNER_PID };
static const char *const owner_names[] = {"tid", "setown-tid", "pid"};

/* Shared by the threads (no signal handlers in this program): set before the threads
 * start, or guarded by the barriers and by `lock`. */
static struct {
    enum owner owner;
    int fd, workers, sig;
    pid_t tid[WORKERS_MAX + 1]; /* [0] main, [1..] workers; worker1 is the target */
    sigset_t set;               /* sig and SIGIO, blocked in every thread */
    pthread_barrier_t ready, events_done, others_done;
    pthread_mutex_t lock;
    long rt_by_target, rt_by_others, sigio_by_target, sigio_by_others;
} g;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [--owner tid|setown-tid|pid] [-k K] [--overflow L] [-w W]\n"
            "  --owner tid         F_SETOWN_EX(F_OWNER_TID, worker1) (default)\n"
            "  --owner setown-tid  worker1 calls F_SETOWN(gettid()) itself\n"
            "  --owner pid         F_SETOWN(getpid())\n"
            "  -k K                events (default 5, 1 to 1000; with --overflow L: default L+3, > L)\n"
            "  --overflow L        lower RLIMIT_SIGPENDING to L first (1 to the hard limit)\n"
            "  -w W                worker threads (default 2, 1 to %d); worker1 is the owner\n"
            "  -h                  this help\n"
            "example: %s --owner tid --overflow 4\n",
            lab_prog, WORKERS_MAX, lab_prog);
}

static void barrier(pthread_barrier_t *b)
{
    int err = pthread_barrier_wait(b);

    if (err && err != PTHREAD_BARRIER_SERIAL_THREAD)
        die_errno(err, "pthread_barrier_wait");
}

/* take_all - thread `me` (0 main, 1.. workers) takes what it can until IDLE_MS pass with
 * nothing, printing who took what. */
static void take_all(int me)
{
    siginfo_t si;
    char text[160];
    int sig;

    while ((sig = take_signal(&g.set, &si, IDLE_MS)) > 0) {
        int target = me == 1;
        pthread_mutex_lock(&g.lock);
        if (sig == SIGIO)
            target ? g.sigio_by_target++ : g.sigio_by_others++;
        else
            target ? g.rt_by_target++ : g.rt_by_others++;
        char who[16] = "main";
        if (me)
            snprintf(who, sizeof who, "worker%d", me);
        printf("%s taken by %s (tid %d)%s\n",
               note_text(sig, si.si_code, si.si_fd, si.si_band, text, sizeof text), who,
               (int)g.tid[me], target ? ", the owner thread" : "");
        pthread_mutex_unlock(&g.lock);
    }
}

static void *worker(void *arg)
{
    int me = (int)(long)arg;

    g.tid[me] = gettid();
    /* LAB: setown-gettid — wrong on purpose: a thread naming itself with plain F_SETOWN.
     * F_SETOWN takes its argument as a process ID; the kernel keeps the thread's pid but
     * sends process-wide, and F_GETOWN no longer finds a process by it (0). */
    if (me == 1 && g.owner == OWNER_SETOWN_TID)
        setown(g.fd, g.tid[me]);
    barrier(&g.ready);
    barrier(&g.events_done);
    if (me == 1) {
        /* The target stays out of the way until the others have had their turn. */
        barrier(&g.others_done);
        take_all(me);
    } else {
        take_all(me);
        barrier(&g.others_done);
    }
    return NULL;
}

/* where - which of the target's two pending sets hold `sig`. */
static const char *where(int sig, uint64_t private_set, uint64_t shared_set)
{
    uint64_t bit = UINT64_C(1) << (sig - 1);
    int p = (private_set & bit) != 0, s = (shared_set & bit) != 0;

    return p && s ? "both" : p ? "private" : s ? "shared" : "none";
}

int main(int argc, char **argv)
{
    enum { OPT_OWNER = 256, OPT_OVERFLOW };
    static const struct option longopts[] = {
        {"owner", required_argument, NULL, OPT_OWNER},
        {"overflow", required_argument, NULL, OPT_OVERFLOW},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long events = 0, limit = 0;
    int opt, err;
    pthread_t threads[WORKERS_MAX + 1];
    struct udp_pair pair;
    char names[2][128];

    g.owner = OWNER_TID;
    g.workers = 2;
    g.sig = SIGRTMIN;
    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":k:w:h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_OWNER: {
            size_t i = 0;
            while (i < 3 && strcmp(optarg, owner_names[i]) != 0)
                i++;
            if (i == 3)
                usage_error("--owner: '%s' is not tid, setown-tid or pid", optarg);
            g.owner = (enum owner)i;
            break;
        }
        case OPT_OVERFLOW: limit = parse_sigpending("--overflow", optarg); break;
        case 'k': events = parse_long("-k", optarg, 1, 1000); break;
        case 'w': g.workers = (int)parse_long("-w", optarg, 1, WORKERS_MAX); break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (limit && events && events <= limit)
        usage_error("-k: %ld events cannot overflow a limit of %ld", events, limit);
    if (!events)
        events = limit ? limit + 3 : 5;

    /* Step 1, for every thread at once: block the signals before creating the threads,
     * which inherit the mask. Nobody has a handler; each thread takes with sigtimedwait. */
    sigset_of(&g.set, g.sig, SIGIO, 0);
    block_set(&g.set);
    udp_pair_open(&pair);
    g.fd = pair.rx;
    g.tid[0] = gettid();
    pthread_mutex_init(&g.lock, NULL);
    pthread_barrier_init(&g.ready, NULL, (unsigned)g.workers + 1);
    pthread_barrier_init(&g.events_done, NULL, (unsigned)g.workers + 1);
    pthread_barrier_init(&g.others_done, NULL, (unsigned)g.workers + 1);
    for (int i = 1; i <= g.workers; i++)
        if ((err = pthread_create(&threads[i], NULL, worker, (void *)(long)i)) != 0)
            die_errno(err, "pthread_create");
    barrier(&g.ready); /* every tid known; with setown-tid, worker1 has set the owner */

    /* Step 2: the owner (unless worker1 did it) and the signal; step 3: O_ASYNC. */
    if (g.owner == OWNER_TID) {
        /* LAB: owner-tid — the right way to aim at one thread. */
        setown_tid(g.fd, g.tid[1]);
    } else if (g.owner == OWNER_PID) {
        setown(g.fd, getpid());
    }
    setsig(g.fd, g.sig);
    set_fl(g.fd, O_ASYNC | O_NONBLOCK);

    struct f_owner_ex ex;
    int getown = fcntl(g.fd, F_GETOWN);
    if (getown == -1 && errno != 0)
        die("fcntl(%d, F_GETOWN)", g.fd);
    if (fcntl(g.fd, F_GETOWN_EX, &ex) == -1)
        die("fcntl(%d, F_GETOWN_EX)", g.fd);
    printf("owner=%s: worker1 is tid %d; F_GETOWN says %d, F_GETOWN_EX says {%s, %d}\n",
           owner_names[g.owner], (int)g.tid[1], getown,
           ex.type == F_OWNER_TID ? "F_OWNER_TID" : ex.type == F_OWNER_PID ? "F_OWNER_PID" : "F_OWNER_PGRP",
           (int)ex.pid);

    /* LAB: shared-count — with --overflow the limit is compared with every signal queued
     * for this user, ours and other programs' (overflow_demo explains): note what was
     * already there, and after the events what the count held. */
    if (limit)
        set_sigpending(limit);
    long queued_before = sigq_read(NULL);
    for (long i = 0; i < events; i++)
        udp_event(&pair);
    long queued_after = sigq_read(NULL);

    /* LAB: pending-sets — where the kernel put them: the target thread's own set (SigPnd)
     * or the set the whole process shares (ShdPnd). Read before anyone takes anything. */
    uint64_t private_set, shared_set;
    pending_sets(g.tid[1], &private_set, &shared_set);
    printf("after %ld events: worker1's own pending set holds %s; the process's shared set "
           "holds %s\n", events, mask_names(private_set, names[0], sizeof names[0]),
           mask_names(shared_set, names[1], sizeof names[1]));
    const char *rt_where = where(g.sig, private_set, shared_set);
    const char *io_where = where(SIGIO, private_set, shared_set);

    barrier(&g.events_done);
    take_all(0);             /* main takes its turn with the other workers... */
    barrier(&g.others_done); /* ...then worker1 gets what is left */
    for (int i = 1; i <= g.workers; i++)
        if ((err = pthread_join(threads[i], NULL)) != 0)
            die_errno(err, "pthread_join");

    /* What the count held besides our own notifications: other programs of this user. */
    long ours = g.rt_by_target + g.rt_by_others + g.sigio_by_target + g.sigio_by_others;
    long others = queued_after - ours;
    if (limit && (queued_before || others > 0))
        printf("note: %ld signals of other programs of this user were queued too and took part of "
               "the limit of %ld%s; run under 'unshare --user' to count alone\n",
               others > queued_before ? others : queued_before, limit,
               ours - g.sigio_by_target - g.sigio_by_others == 0
                   ? " (all of it: no realtime signal fitted, so pending=none)" : "");
    printf("owner=%s target=worker1 events=%ld limit=%ld getown=%d pending=%s sigio_pending=%s "
           "taken_by_target=%ld taken_by_others=%ld sigio_by_target=%ld sigio_by_others=%ld "
           "queued_before=%ld others=%ld\n",
           owner_names[g.owner], events, limit, getown, rt_where, io_where, g.rt_by_target,
           g.rt_by_others, g.sigio_by_target, g.sigio_by_others, queued_before, others);
    close(pair.rx);
    close(pair.tx);
    return EXIT_OK;
}
