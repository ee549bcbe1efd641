/* SPDX-License-Identifier: MIT */
/*
 * coalesce_demo - K events while the signal is blocked: plain SIGIO is delivered once, a
 * realtime signal chosen with F_SETSIG is delivered K times.
 *
 * Demonstrates:
 *   - SIGIO is a standard signal: while one is pending, further events add nothing;
 *   - with F_SETSIG and a realtime signal each event is queued with its own siginfo:
 *     si_code POLL_IN, si_fd the socket, si_band POLLIN|POLLRDNORM;
 *   - F_SETSIG back to 0 restores plain SIGIO, whose siginfo says only SI_KERNEL;
 *   - only a realtime signal queues: a standard one (SIGUSR1) coalesces like SIGIO;
 *   - --no-siginfo: a handler installed without SA_SIGINFO after F_SETSIG is still called
 *     once per queued event, but gets only the signal number: which descriptor, which
 *     event, which band stay in the kernel's siginfo, out of its reach.
 *
 * Read with: TLPI §63.3 (F_SETSIG, "nonqueuing" SIGIO); chapters/rtsig_setsig.md
 * "One signal or one per event".
 *
 * Usage: coalesce_demo [--signal sigio|rt|setsig0] [-k K] [-s SIG] [--no-siginfo] [-v]
 *   --signal MODE  sigio: plain SIGIO, no F_SETSIG; rt: F_SETSIG(SIG);
 *                  setsig0: F_SETSIG(SIG), then F_SETSIG(0) (default rt)
 *   -k K           datagrams sent while the signal is blocked (default 1000, 1 to 100000)
 *   -s SIG         the signal for F_SETSIG (default RTMIN): SIGUSR1, SIGUSR2 (10, 12) or
 *                  RTMIN to RTMAX (34 to 64), as a number or a name (USR1, RTMIN+K, RTMAX-K);
 *                  any other is a usage error, so are -s with --signal sigio
 *   --no-siginfo   install the handler without SA_SIGINFO (one int argument)
 *   -v             print the first 16 handler calls
 *
 * Try it:
 *   ./coalesce_demo --signal sigio         # handler_calls=1
 *   ./coalesce_demo --signal rt            # handler_calls=1000
 *   ./coalesce_demo --signal setsig0       # back to one call, SI_KERNEL
 *   ./coalesce_demo --signal rt -s 10      # SIGUSR1: full siginfo, yet coalesced
 *   ./coalesce_demo --signal rt -s 9       # refused: SIGKILL is not a signal it can use
 *   ./coalesce_demo --signal rt --no-siginfo   # 1000 calls, but si_code=unseen
 *
 * What to observe:
 *   - "mode=sigio ... events=1000 handler_calls=1 si_code=SI_KERNEL": 999 events left no
 *     trace, and the one call cannot say which descriptor it was about (si_fd=0 here is
 *     not standard input, just an empty field);
 *   - "mode=rt ... events=1000 handler_calls=1000 si_code=POLL_IN si_fd_match=1000";
 *   - "mode=setsig0 ... handler_calls=1 si_code=SI_KERNEL other_signal=SIGRTMIN other_calls=0";
 *   - with --no-siginfo: "handler=plain ... handler_calls=1000 si_code=unseen si_fd=-1".
 *
 * Linux notes: realtime signals queue only up to RLIMIT_SIGPENDING, counted per user;
 * past it the kernel sends plain SIGIO instead (other_calls in rt mode; see overflow_demo).
 * F_SETSIG with a standard signal (-s 10) fills in si_fd and si_band but still coalesces.
 * Since Linux 2.4 si_code is POLL_IN ... POLL_HUP, not the SI_SIGIO older manuals mention.
 */
#include "labutil.h"
#include "rtsig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum mode { MODE_SIGIO, MODE_RT, MODE_SETSIG0 };
static const char *const mode_names[] = {"sigio", "rt", "setsig0"};

#define SEEN_MAX 16

/* What the handler saw (chapters/README.md, "Data a handler shares"). The handler writes these; main
 * reads them only after blocking the signals again, so it never reads a half-written
 * record, and the records are plain (rule 2). The counters are lone counters, volatile
 * sig_atomic_t all the same (rule 1). watched and sock are set before the handler is
 * installed and never change (rule 3). */
static int watched;                       /* the signal the events should raise */
static int sock = -1;                     /* the socket: si_fd should name it */
static volatile sig_atomic_t calls;       /* handler calls for `watched` */
static volatile sig_atomic_t other_calls; /* handler calls for the other signal */
static volatile sig_atomic_t fd_match;    /* calls whose si_fd was the socket */
static volatile sig_atomic_t code_match;  /* calls whose si_code equalled the first one's */
static int seen_code[SEEN_MAX], seen_fd[SEEN_MAX];
static long seen_band[SEEN_MAX];

/* on_note - one call per delivered signal: count it and keep the first few siginfos. */
static void on_note(int sig, siginfo_t *si, void *ctx)
{
    int saved_errno = errno;

    (void)ctx;
    if (sig != watched) {
        other_calls++;
    } else {
        if (calls < SEEN_MAX) {
            seen_code[calls] = si->si_code;
            seen_fd[calls] = si->si_fd;
            seen_band[calls] = si->si_band;
        }
        if (si->si_fd == sock)
            fd_match++;
        if (calls == 0 || si->si_code == seen_code[0])
            code_match++;
        calls++;
    }
    errno = saved_errno;
}

/* The signals -s may name: SIGUSR1 and SIGUSR2 (standard: they show coalescing with a full
 * siginfo) and the realtime ones. Any other would be unusable or harmful here: SIGKILL and
 * SIGSTOP cannot be caught, SIGTERM and SIGINT must still stop the program, SIGIO is
 * --signal sigio, and a number past SIGRTMAX is no signal at all. */
#define SIG_KINDS (LAB_SIG_USR | LAB_SIG_RT)

/* on_bare - the same count, for a handler installed without SA_SIGINFO: the signal number
 * is all it gets (LAB: handler-without-siginfo). */
static void on_bare(int sig)
{
    if (sig != watched)
        other_calls++;
    else
        calls++;
}

static void usage(FILE *out)
{
    char choices[96];

    fprintf(out,
            "usage: %s [--signal sigio|rt|setsig0] [-k K] [-s SIG] [--no-siginfo] [-v]\n"
            "  --signal MODE  sigio: plain SIGIO; rt: F_SETSIG(SIG); setsig0: F_SETSIG(SIG)\n"
            "                 then F_SETSIG(0) (default rt)\n"
            "  -k K           datagrams sent while the signal is blocked (default 1000, 1 to 100000)\n"
            "  -s SIG         signal for F_SETSIG (default RTMIN), one of: %s;\n"
            "                 a number or a name (USR1, RTMIN+K, RTMAX-K); not with --signal sigio\n"
            "  --no-siginfo   a handler without SA_SIGINFO: it sees the signal number only\n"
            "  -v             print the first %d handler calls\n"
            "  -h             this help\n"
            "example: %s --signal sigio -k 1000\n",
            lab_prog, signal_choices(SIG_KINDS, choices, sizeof choices), SEEN_MAX, lab_prog);
}

static enum mode parse_mode(const char *text)
{
    for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
        if (strcmp(text, mode_names[i]) == 0)
            return (enum mode)i;
    usage_error("--signal: '%s' is not sigio, rt or setsig0", text);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"signal", required_argument, NULL, 'm'},
        {"no-siginfo", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum mode mode = MODE_RT;
    long events = 1000;
    int sig = SIGRTMIN, verbose = 0, bare = 0, opt;
    const char *sig_text = NULL;
    struct udp_pair pair;
    sigset_t both;
    char name[16], other_name[16], code_name[16], band_text[96];

    lab_init(argv[0], usage);
    while ((opt = getopt_long(argc, argv, ":k:s:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'm': mode = parse_mode(optarg); break;
        case 'k': events = parse_long("-k", optarg, 1, 100000); break;
        case 's': sig = parse_signal("-s", optarg, SIG_KINDS), sig_text = optarg; break;
        case 'v': verbose = 1; break;
        case 'n': bare = 1; break;
        case 'h': print_help();
        default: bad_option(opt, argv);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (mode == MODE_SIGIO && sig_text)
        usage_error("-s %s and --signal sigio exclude each other: plain SIGIO has no F_SETSIG",
                    sig_text);

    udp_pair_open(&pair);
    sock = pair.rx;

    /* The signal the events should raise, and the other one that must stay silent: in rt
     * mode the fallback SIGIO (should the realtime queue fill), in setsig0 mode the
     * realtime signal we switched away from. */
    watched = mode == MODE_RT ? sig : SIGIO;
    int other = mode == MODE_RT ? SIGIO : (mode == MODE_SETSIG0 ? sig : 0);

    /* LAB: block-before-events — handlers first (the default action of SIGIO and of every
     * realtime signal ends the process), then block both, so that every event of the run
     * finds the signal blocked and can only pile up or coalesce. */
    if (bare) {
        /* LAB: handler-without-siginfo — F_SETSIG is done below all the same. The kernel
         * queues a full siginfo with every realtime signal whatever the handler is; a
         * handler without SA_SIGINFO is called once for each, with the number alone. */
        on_signal(watched, on_bare, 0);
        if (other)
            on_signal(other, on_bare, 0);
    } else {
        on_siginfo(watched, on_note, 0);
        if (other)
            on_siginfo(other, on_note, 0);
    }
    block_set(sigset_of(&both, (int)watched, other, 0));

    /* Then the owner and the signal, then the switch. */
    setown(pair.rx, getpid());
    if (mode == MODE_RT) {
        setsig(pair.rx, sig);
    } else if (mode == MODE_SETSIG0) {
        setsig(pair.rx, sig);
        setsig(pair.rx, 0); /* LAB: setsig-zero — back to plain SIGIO */
    }
    set_fl(pair.rx, O_ASYNC | O_NONBLOCK);
    int getsig = fcntl(pair.rx, F_GETSIG);
    if (getsig == -1)
        die("fcntl(%d, F_GETSIG)", pair.rx);

    /* LAB: events-while-blocked — K datagrams, each read as soon as it arrives (so the
     * socket buffer never fills and drops one). A read does not take back the signal the
     * arrival raised: K events, K signals generated. */
    for (long i = 0; i < events; i++)
        udp_event(&pair);

    /* LAB: unblock-and-count — every pending signal is delivered on the way back from this
     * one sigprocmask() call: K handler calls if they queued, one if they coalesced. */
    unblock_set(&both);
    block_set(&both);

    /* Without SA_SIGINFO there is no siginfo to report: "unseen", not "none". */
    printf("mode=%s signal=%s getsig=%d events=%ld handler_calls=%d si_code=%s si_fd=%d "
           "si_fd_match=%d si_code_match=%d si_band=0x%x other_signal=%s other_calls=%d "
           "handler=%s\n",
           mode_names[mode], signal_name((int)watched, name, sizeof name), getsig, events,
           (int)calls,
           bare ? "unseen" : calls ? sicode_name(seen_code[0], code_name, sizeof code_name) : "none",
           calls && !bare ? (int)seen_fd[0] : -1, (int)fd_match, (int)code_match,
           calls && !bare ? (unsigned)seen_band[0] : 0u,
           other ? signal_name(other, other_name, sizeof other_name) : "none", (int)other_calls,
           bare ? "plain" : "siginfo");
    if (verbose && !bare)
        for (int i = 0; i < calls && i < SEEN_MAX; i++)
            printf("call %d: %s\n", i + 1,
                   note_text((int)watched, seen_code[i], seen_fd[i], seen_band[i], band_text,
                             sizeof band_text));
    close(pair.rx);
    close(pair.tx);
    return EXIT_OK;
}
