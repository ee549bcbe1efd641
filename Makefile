# SPDX-License-Identifier: MIT
# sigio-labs: signal-driven I/O on Linux, one lab per folder.
#
#   make demo      the guided tour: every lab's key scenario, live, then the figures
#   make test      build everything and run the tests of the labs, the grader and the
#                  benchmarks (bats), then "N passed, N failed, N skipped"
#   make           build every lab          make list    what is in each lab
#   make plots     draw the figures (PLOTDIR=plots; PLOTDIR=chapters/figures refreshes
#                  the committed ones)
#   make bench     the benchmarks           make claims  each book claim: test, pass/fail
#   make lint      shellcheck, both compilers, lab kit copies
#   make grade     grade the exercises (LAB=<lab>, EX=<id> for fewer) on the reference
#                  programs and the answer keys' predictions: full marks, "Score: N/M" last;
#                  REVEAL=1 shows each prediction and what this kernel gave
#   make handout LAB=<lab>   the student's tarball for one lab (its path is printed last)
#   make test-project        the project's own checks: shellcheck, every lab built alone
#                            with both compilers, headers, bad command lines, the tour's ^C
#   make test-grading        the long checks of the graders and the handouts
#   make clean
#
# Options passed down to every lab: CC=clang, WERROR=1 (warnings are errors; CI),
# SANITIZE=1 (AddressSanitizer + UndefinedBehaviorSanitizer), CFLAGS=..., V=1 (show the
# compiler commands; by default one short line a file).
# Each lab also builds alone: make -C udp_sigio
# Without -j, each lab still compiles on every core (JOBS=1 for one at a time).

LABS := udp_sigio tcp_sigio_listen tcp_sigio_pitfalls rtsig_setsig streams_sigpoll_notes
# Labs whose folder exists (a lab not written yet is simply absent).
PRESENT := $(foreach lab,$(LABS),$(if $(wildcard $(lab)/Makefile),$(lab)))

PLOTDIR ?= plots
# What each lab's make gets from ours. CC only when it was chosen, so each lab's own default
# (cc) stays the default.
LABVARS := $(if $(filter-out default,$(origin CC)),CC='$(CC)') \
           $(if $(WERROR),WERROR=$(WERROR)) $(if $(SANITIZE),SANITIZE=$(SANITIZE)) \
           $(if $(filter-out default undefined,$(origin CFLAGS)),CFLAGS='$(CFLAGS)') \
           $(if $(V),V=$(V))
# -j given to us: the labs share its job slots. Otherwise each lab gets -j of its own.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
# The tests and scripts need to know how the programs were built (valgrind and sanitizers
# do not mix, for example).
export SANITIZE WERROR

.PHONY: all test demo plots bench lint clean list claims deps deps-figures grade handout test-project test-grading $(PRESENT)

all: $(PRESENT)

$(PRESENT):
	@case " $$MAKEFLAGS " in *" -j"* | *jobserver*) jobs= ;; *) jobs=-j$(JOBS) ;; esac; \
	$(MAKE) --no-print-directory $$jobs -C $@ $(LABVARS)

# install-deps checks first and installs only what is missing: the tests need bats, its two
# libraries, socat and valgrind; the figures need gnuplot. The tour goes on without its
# figures when gnuplot cannot be had (it says so in one line).
deps:
	@scripts/install-deps --for test

deps-figures:
	@scripts/install-deps --for figures

test: deps all
	@scripts/run-tests

demo: all
	@scripts/install-deps --for figures || echo "make demo: the tour goes on; its figures need what is missing above" >&2
	@scripts/demo/run

plots: deps-figures all
	@scripts/plots/run "$(PLOTDIR)"

bench: deps all
	@scripts/bench/run

claims: deps all
	@scripts/claims

lint: all
	@scripts/lint

# Each check builds what it needs (warnings as errors) and runs it bounded; the
# predictions judged are the answer keys'.
grade:
	@scripts/grade $(if $(LAB),-l '$(LAB)') $(if $(EX),-e '$(EX)') --json grade.json \
	    $(if $(filter-out 0,$(REVEAL)),--reveal) --predictions-from chapters/answer-keys

# The student's tarball for one lab: the lab with its holes applied, its tests, the grader,
# its chapter; no answer key. The last line printed is the tarball's path.
handout:
	@scripts/handout '$(LAB)'

# The project's own checks (scripts/tests/{suite,tooling,bad_input}.bats); their TAP goes
# to test-results/plain-project/ (sanitize-project/ with SANITIZE=1).
test-project: deps all
	@scripts/run-tests --project

# The long checks: every hole patch is honest, every lab's handout grades alone, hostile
# programs cannot hang the grader. Their TAP goes to test-results/grading/.
test-grading: all
	@scripts/run-tests --grading

list:
	@scripts/list-labs $(PRESENT)

clean:
	@for lab in $(PRESENT); do $(MAKE) --no-print-directory -C $$lab clean; done
	@rm -rf plots test-results grade.json .grade-history handouts
