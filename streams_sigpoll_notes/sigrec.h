/* SPDX-License-Identifier: MIT */
/*
 * sigrec.h - a signal recorder for this lab's programs: one SA_SIGINFO handler notes what
 * each "I/O possible" signal carried (signal, si_code, si_band, si_fd), and the main program
 * waits for a note it expects, with a time limit, then prints what was noted.
 *
 * The pattern is the suite's: the recorded signals stay blocked while the program works, and
 * are let in only while it waits (ppoll with a signal mask: block, then wait atomically), so
 * the handler never runs in the middle of a printf. The handler itself only stores numbers.
 */
#ifndef SIGREC_H
#define SIGREC_H

#include <signal.h>
#include <stddef.h>

#define SIGREC_MAX 64 /* notes kept between two sigrec_take() calls; more are counted lost */

/* What the handler saw in one delivery. */
struct sigrec_note {
    int signo; /* the signal delivered: SIGPOLL, SIGURG, SIGRTMIN... */
    int code;  /* si_code: POLL_IN ... POLL_HUP, or SI_KERNEL for plain SIGIO and SIGURG */
    long band; /* si_band: poll bits (meaningless with SI_KERNEL) */
    int fd;    /* si_fd (meaningless with SI_KERNEL) */
};

/*
 * sigrec_start - record the n signals of sigs: block them all, then install the recorder as
 * their SA_SIGINFO handler, with all of them in sa_mask so that one delivery never interrupts
 * another. Block first, then handle: none of them can arrive half set up.
 */
void sigrec_start(const int *sigs, int n);

/*
 * sigrec_wait - wait until a note with signal signo (and si_code code, unless code is
 * SIGREC_ANY) is in the log, at most timeout_ms milliseconds. Returns 1 if one is, 0 on
 * timeout. Called with the recorded signals blocked; they are let in only while it sleeps.
 */
#define SIGREC_ANY (-1000)
int sigrec_wait(int signo, int code, int timeout_ms);

/*
 * sigrec_window - let every pending recorded signal in now (unblock, block again). Used after
 * the last descriptor has been switched off, so that everything already sent is noted.
 */
void sigrec_window(void);

/*
 * sigrec_take - copy the notes into out (at most max), clear the log, return how many.
 * *lost (may be NULL) gets the number of deliveries that found the log full.
 */
size_t sigrec_take(struct sigrec_note *out, size_t max, int *lost);

#endif
