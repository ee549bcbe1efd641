/* SPDX-License-Identifier: MIT */
/*
 * sigrec.c - the signal recorder; contracts in sigrec.h.
 */
#include "sigrec.h"
#include "labutil.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

/*
 * The log, shared with the handler (chapters/README.md, "Data a handler shares"). The handler writes it
 * with every recorded signal blocked (they are all in its sa_mask), and the main program
 * reads or clears it only while they are blocked too (everywhere but inside ppoll and
 * sigrec_window), so the two never overlap: the entries are plain (rule 2). log_used and
 * log_lost are lone counters, volatile sig_atomic_t all the same (rule 1).
 */
static volatile sig_atomic_t log_used; /* entries filled */
static volatile sig_atomic_t log_lost; /* deliveries that found the log full */
static struct {
    sig_atomic_t signo, code, fd;
    long band;
} log_entry[SIGREC_MAX];

static sigset_t recorded; /* the signals sigrec_start was given; set before any can arrive */

static void record(int sig, siginfo_t *si, void *uctx)
{
    int saved_errno = errno;
    int i = log_used;

    (void)uctx;
    if (i < SIGREC_MAX) {
        log_entry[i].signo = sig;
        log_entry[i].code = si->si_code;
        log_entry[i].band = si->si_band;
        log_entry[i].fd = si->si_fd;
        log_used = i + 1;
    } else {
        log_lost = log_lost + 1;
    }
    errno = saved_errno;
}

void sigrec_start(const int *sigs, int n)
{
    struct sigaction sa;
    char name[16];

    sigemptyset(&recorded);
    for (int i = 0; i < n; i++)
        sigaddset(&recorded, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &recorded, NULL) == -1)
        die("sigprocmask(SIG_BLOCK)");

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = record;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sa.sa_mask = recorded;
    for (int i = 0; i < n; i++)
        if (sigaction(sigs[i], &sa, NULL) == -1)
            die("sigaction(%s, SA_SIGINFO)", signal_name(sigs[i], name, sizeof name));
}

static int log_has(int signo, int code)
{
    for (int i = 0; i < log_used; i++)
        if (log_entry[i].signo == signo && (code == SIGREC_ANY || log_entry[i].code == code))
            return 1;
    return 0;
}

int sigrec_wait(int signo, int code, int timeout_ms)
{
    int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)timeout_ms * 1000000;
    sigset_t open;

    /* The mask to sleep with: the current one without the recorded signals. */
    if (sigprocmask(SIG_BLOCK, NULL, &open) == -1)
        die("sigprocmask");
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&recorded, s) == 1)
            sigdelset(&open, s);

    while (!log_has(signo, code)) {
        int64_t left = deadline - now_ns(CLOCK_MONOTONIC);
        if (left <= 0)
            return 0;
        struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
        /* Atomically: let the signals in and sleep. A signal already pending is delivered
         * at once and ppoll returns EINTR; then the loop looks at the log again. */
        if (ppoll(NULL, 0, &ts, &open) == -1 && errno != EINTR)
            die("ppoll");
    }
    return 1;
}

void sigrec_window(void)
{
    /* Pending signals are delivered on the way back from the unblocking sigprocmask. */
    if (sigprocmask(SIG_UNBLOCK, &recorded, NULL) == -1 ||
        sigprocmask(SIG_BLOCK, &recorded, NULL) == -1)
        die("sigprocmask(open a window)");
}

size_t sigrec_take(struct sigrec_note *out, size_t max, int *lost)
{
    size_t n = 0;

    for (int i = 0; i < log_used && n < max; i++, n++) {
        out[n].signo = log_entry[i].signo;
        out[n].code = log_entry[i].code;
        out[n].band = log_entry[i].band;
        out[n].fd = log_entry[i].fd;
    }
    if (lost)
        *lost = log_lost;
    log_used = 0;
    log_lost = 0;
    return n;
}
