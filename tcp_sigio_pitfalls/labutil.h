/* SPDX-License-Identifier: MIT */
/*
 * labutil.h - the small helpers every program of a sigio-labs lab shares.
 *
 * Every lab folder carries an identical copy of labutil.h, labutil.c and labutil.mk, so that
 * the folder builds on its own (copy it anywhere and run make). The copy in udp_sigio/ is the
 * original; `make lint` and the suite test "the lab kit (labutil.h, labutil.c, labutil.mk)
 * is identical in every lab" keep the others equal to it (scripts/sync-labkit copies it
 * over, and refuses to overwrite a copy that was changed by hand).
 *
 * Nothing here is about signal-driven I/O itself: that stays in the programs, where the notes
 * point. These are the chores: messages and exit codes, number parsing, names for signal
 * codes and poll bands, clocks, and the loopback sockets the servers bind.
 */
#ifndef LABUTIL_H
#define LABUTIL_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

/* Exit statuses of every program in the suite; the tests rely on them. */
enum {
    EXIT_OK = 0,    /* did what was asked */
    EXIT_FAIL = 1,  /* a system call failed, or the check the program makes failed */
    EXIT_USAGE = 2, /* bad command line */
    EXIT_SKIP = 4   /* not supported here (no privilege, no such feature): tests skip */
};

/* ---- start-up, messages and exits ---------------------------------------------------- */

/* The program's name (basename of argv[0]) for messages. Set by lab_init(). */
extern const char *lab_prog;

/*
 * lab_init - call first in main(). Records the program name and the function that prints
 * the synopsis (used by usage_error), and makes stdout line-buffered when it is not a
 * terminal, so that scripts reading a pipe see each line as soon as it is printed.
 */
void lab_init(const char *argv0, void (*usage)(FILE *out));

/* die - "prog: <what>: <strerror> (<ENAME>)" on stderr, exit 1. Uses errno as it was. */
_Noreturn void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* die_errno - like die() but with an explicit error number (pthread calls return theirs). */
_Noreturn void die_errno(int err, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* fail - "prog: <message>" on stderr, exit 1. For failures that are not a system call's. */
_Noreturn void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* warn_errno - like die() but returns: for errors the program reports and survives. */
void warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* usage_error - "prog: <reason>" then the synopsis on stderr, exit 2. */
_Noreturn void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* skip_exit - "prog: skipped: <reason>" on stderr, exit 4 (tests turn 4 into skip). */
_Noreturn void skip_exit(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/*
 * bad_option - the usage error for what getopt_long() rejected: opt is the ':' or '?' it
 * returned. Every program parses with getopt_long (plain getopt would read "--name" as the
 * short options '-', 'n', ...), and its option string starts with ':' so that a missing
 * value is told apart from an unknown option. lab_init() has switched getopt's own
 * messages off.
 */
_Noreturn void bad_option(int opt, char **argv);

/* print_help - the synopsis on stdout, exit 0 (for -h). */
_Noreturn void print_help(void);

/* errno_name - "EAGAIN" for EAGAIN, "0" for 0, "E?" for a number it does not know. From the
 * suite's own table: the names glibc 2.32's strerrorname_np gives, on any C library. */
const char *errno_name(int err);

/* ---- numbers on the command line ----------------------------------------------------- */

/*
 * parse_long - the whole of text as a decimal number in [min, max], or a usage error that
 * names the option: "prog: -q: 0 is out of range (1 to 65536)". what is the option's name.
 */
long parse_long(const char *what, const char *text, long min, long max);

/* parse_port - a TCP/UDP port, 0 to 65535 (0 lets the kernel choose). */
int parse_port(const char *what, const char *text);

/* ---- signals: names, handlers, masks ------------------------------------------------- */

/* signal_name - "SIGIO" (never glibc's "SIGPOLL" for the same number), "SIGRTMIN+2",
 * "signal 32" for a number with no name; from the suite's own table (glibc's sigabbrev_np
 * names, without needing glibc 2.32). buf must hold 16 bytes. */
const char *signal_name(int sig, char *buf, size_t len);

/*
 * sicode_name - the si_code of an "I/O possible" signal by name: POLL_IN ... POLL_HUP,
 * SI_KERNEL (plain SIGIO carries this), SI_USER, SI_QUEUE, SI_SIGIO, SI_TKILL; otherwise
 * the number. buf must hold 16 bytes.
 */
const char *sicode_name(int code, char *buf, size_t len);

/* band_names - si_band (poll bits) as "POLLIN|POLLRDNORM"; "0" when empty. */
const char *band_names(long band, char *buf, size_t len);

/* on_signal - sigaction() with a plain handler, sa_mask empty; dies on failure. */
void on_signal(int sig, void (*handler)(int), int flags);

/* on_siginfo - sigaction() with SA_SIGINFO; dies on failure. */
void on_siginfo(int sig, void (*handler)(int, siginfo_t *, void *), int flags);

/* block_signal / unblock_signal - sigprocmask() for one signal; die on failure. */
void block_signal(int sig);
void unblock_signal(int sig);

/* ---- clocks and simulated work ------------------------------------------------------- */

int64_t timespec_ns(const struct timespec *ts);
int64_t now_ns(clockid_t clock); /* async-signal-safe: clock_gettime is on the POSIX list */

/*
 * burn_us - spin for usec microseconds of wall time (CLOCK_MONOTONIC), standing for the
 * work a real server does per request. Spinning, not sleeping: the process stays busy,
 * which is the situation UNP Figure 25.1 is about.
 */
void burn_us(long usec);

/* ---- loopback sockets ---------------------------------------------------------------- */

/*
 * parse_addr - a numeric IPv4 or IPv6 address and a port into *ss; usage error if the
 * text is not one. Returns the length to pass to bind/connect/sendto.
 */
socklen_t parse_addr(const char *what, const char *text, int port, struct sockaddr_storage *ss);

/* sockaddr_text - "127.0.0.1:5000" or "[::1]:5000" into buf (64 bytes is enough). */
const char *sockaddr_text(const struct sockaddr *sa, char *buf, size_t len);

/*
 * bound_socket - socket(family of *addr, type) bound to *addr, with SO_REUSEADDR for TCP
 * so that a restarted server does not wait out TIME_WAIT. A port already in use is a run
 * time failure with a clear message (exit 1), as the suite's conventions ask.
 */
int bound_socket(int type, const struct sockaddr_storage *addr, socklen_t len);

/*
 * announce_listening - print "listening on ADDR:PORT" for fd's bound address as the first
 * line of stdout and flush it, so a script can start the server with -p 0 and read the
 * port the kernel chose.
 */
void announce_listening(int fd);

/* set_fl / clear_fl - add or remove file status flags (O_NONBLOCK, O_ASYNC) with F_SETFL. */
void set_fl(int fd, int flags);
void clear_fl(int fd, int flags);

/* ---- signal numbers on the command line, and work a stop request cuts short ---------- */

/*
 * The kinds of signal an option such as -s may name, or'ed together: each program accepts
 * only those it can use. LAB_SIG_ZERO: 0 (no F_SETSIG: plain SIGIO); LAB_SIG_USR: SIGUSR1
 * and SIGUSR2, the two standard signals left to applications; LAB_SIG_RT: SIGRTMIN to
 * SIGRTMAX, as the C library counts them (it keeps the first kernel realtime signals for
 * its threads).
 */
enum { LAB_SIG_ZERO = 1, LAB_SIG_USR = 2, LAB_SIG_RT = 4 };

/*
 * parse_signal - text as a signal of the kinds in allowed: a number, USR1, USR2, RTMIN,
 * RTMIN+K, RTMAX or RTMAX-K (each name with or without SIG). Anything else, a signal of
 * another kind included (SIGKILL, SIGSTOP, SIGTERM...), is a usage error naming the option
 * and the signals it takes: "prog: -s: 9 (SIGKILL) is not one this program can use
 * (SIGUSR1, SIGUSR2, RTMIN to RTMAX = 34 to 64)".
 */
int parse_signal(const char *what, const char *text, unsigned allowed);

/* signal_choices - the signals of the kinds in allowed, in the words parse_signal's error
 * uses, for the program's -h: "0, or RTMIN to RTMAX = 34 to 64". */
const char *signal_choices(unsigned allowed, char *buf, size_t len);

/*
 * burn_us_or_stop - burn_us() that ends early once stop() returns non-zero (checked on
 * every turn of the spin). Returns 1 if it was cut short, 0 if it ran its whole time. Lets
 * a server with long simulated work still honour SIGTERM within a second: stop() reads the
 * flag a handler sets, or asks sigpending() where the signal is taken synchronously.
 */
int burn_us_or_stop(long usec, int (*stop)(void));

#endif
