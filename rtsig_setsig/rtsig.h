/* SPDX-License-Identifier: MIT */
/*
 * rtsig.h - what the programs of the rtsig_setsig lab share beyond the lab kit: choosing the
 * "I/O possible" signal and the owner of a descriptor, waiting for a signal with a time
 * limit, the pending-signal count the kernel keeps per user (the SigQ line of
 * /proc/self/status), a loopback UDP pair that makes one event at a time, and a one-line
 * description of a notification.
 *
 * Read with: TLPI §63.3; chapters/rtsig_setsig.md.
 */
#ifndef RTSIG_H
#define RTSIG_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* ---- the signal and the owner -------------------------------------------------------- */

/* setsig - fcntl(fd, F_SETSIG, sig); 0 means plain SIGIO again. Fatal on error, with the
 * kernel's reason: "fcntl(3, F_SETSIG, 65): Invalid argument (EINVAL)". */
void setsig(int fd, int sig);

/* setown - fcntl(fd, F_SETOWN, owner): a process ID, or minus a process-group ID. */
void setown(int fd, pid_t owner);

/* setown_tid - F_SETOWN_EX with F_OWNER_TID: the signal goes to that one thread. */
void setown_tid(int fd, pid_t tid);

/* ---- sets and waiting ---------------------------------------------------------------- */

/* sigset_of - *set = the signals listed, up to a terminating 0. Returns set. */
sigset_t *sigset_of(sigset_t *set, ...);

/* block_set / unblock_set - pthread_sigmask for a whole set; fatal on error. In a program
 * without threads this is sigprocmask; with threads it is the calling thread's mask. */
void block_set(const sigset_t *set);
void unblock_set(const sigset_t *set);

/*
 * take_signal - take one pending signal of *set (which must be blocked) into *si: waits at
 * most timeout_ms milliseconds (sigtimedwait), or for ever when timeout_ms < 0
 * (sigwaitinfo). Returns the signal number, or 0 when the time ran out.
 */
int take_signal(const sigset_t *set, siginfo_t *si, long timeout_ms);

/* ---- the per-user queue -------------------------------------------------------------- */

/*
 * sigq_read - the number of signals queued for this process's real user ID, as the SigQ
 * line of /proc/self/status shows it ("queued/limit"); *limit (if not NULL) gets the
 * limit. The count is the kernel's per-user one (per user namespace), so other programs
 * of the same user take part in it.
 */
long sigq_read(long *limit);

/* parse_sigpending - the value of an option that sets RLIMIT_SIGPENDING: 1 up to the
 * current hard limit (only root may raise that), or a usage error naming the option. */
long parse_sigpending(const char *what, const char *text);

/* set_sigpending - lower the soft RLIMIT_SIGPENDING of this process to limit. */
void set_sigpending(long limit);

/*
 * pending_sets - the two pending sets of thread tid of this process, from
 * /proc/self/task/TID/status: *private = SigPnd (signals for that thread only),
 * *shared = ShdPnd (signals for the process, which any thread may take).
 */
void pending_sets(pid_t tid, uint64_t *private_set, uint64_t *shared_set);

/* mask_names - a /proc signal mask as "SIGIO,SIGRTMIN"; "none" when empty. */
const char *mask_names(uint64_t mask, char *buf, size_t len);

/* ---- a loopback UDP pair: one datagram is one event ---------------------------------- */

struct udp_pair {
    int rx;                       /* bound to 127.0.0.1, kernel-chosen port: the watched socket */
    int tx;                       /* unbound: the sender */
    struct sockaddr_storage addr; /* rx's address */
    socklen_t len;
};

/* udp_pair_open - both sockets; rx is left blocking and without O_ASYNC. */
void udp_pair_open(struct udp_pair *p);

/* udp_send - one small datagram from tx to rx. */
void udp_send(const struct udp_pair *p);

/*
 * udp_event - one datagram from tx to rx, then wait (at most 5 s) until it has arrived and
 * read it. On loopback the kernel may hand the packet on later, in its softirq thread; by
 * the time rx can read it, the notification has been sent. Reading keeps rx's buffer from
 * filling (a full buffer drops datagrams, and a dropped datagram raises no signal), and a
 * read does not take back a signal already sent.
 */
void udp_event(const struct udp_pair *p);

/* read_once - one read() on a non-blocking fd (a datagram socket gives one datagram): the
 * byte count, or -1 when there was nothing to read (EAGAIN). Other errors are fatal. */
ssize_t read_once(int fd, void *buf, size_t len);

/* ---- describing a notification ------------------------------------------------------- */

/*
 * note_text - "sig=SIGRTMIN si_code=POLL_IN si_fd=5 si_band=0x41 (POLLIN|POLLRDNORM)"; for
 * a code that is not one of POLL_IN..POLL_HUP (plain SIGIO has SI_KERNEL), the fd and band
 * fields mean nothing and are left out.
 */
const char *note_text(int signo, int code, int fd, long band, char *buf, size_t len);

/* is_poll_code - code is one of POLL_IN .. POLL_HUP, so si_fd and si_band are valid. */
int is_poll_code(int code);

/* linux_band - the si_band Linux sends with each code (TLPI Table 63-7 as the kernel has
 * it, fs/fcntl.c band_table), or -1 for a code that is not POLL_IN..POLL_HUP. */
long linux_band(int code);

/*
 * child_ask - the parent's side of a child that takes one-byte commands on one pipe and
 * answers each with a line holding a number on another (pgrp_owner and owner_probe drive
 * their children so): write c to cmd, read the answer line from report, return its number.
 * Fails if the child closed the pipe without answering.
 */
long child_ask(int cmd, int report, char c);

#endif
