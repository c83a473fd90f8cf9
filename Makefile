# MADV_PT_RECLAIM: entry points. Each target runs one harness script;
# the scripts say what they do at their top. See README.md.
#
#   make demo  [ARCH=x86_64|s390x|arm64|riscv64|..]  the feature in a booted kernel (ARCH: a harness/arch/*.conf)
#   make check                              every test, every arch
#   make matrix [MATRIX="m68k .."]          configs beyond make check (other arches, debug, no split locks, Xen PV)
#   make mutate [VARIANTS="pmd-recheck .."]  known-bad variants the tests must catch (~4 min each)
#   make soak [SOAK_ARCHES=".."] [SOAK_SECONDS=600]  the torture test for 10 min per arch (~50 min)
#   make kcsan                              the feature's tests on a KCSAN kernel (make matrix x86_64-kcsan)
#   make kcsan-base                         KCSAN's reports in base code, on the unpatched kernel
#   make fresh [FRESH_ROOT=..]              make check in a fresh bookworm root (debootstrap, ~50 min)
#   make status                             publish the last make check into results/check and README.md
#   make baseline ARCH=..                   the unpatched kernel's base mm selftest results (skip budget)
#   make run   ARCH=.. PROG=path [ARGS=..]  boot and run a static binary
#                [FILES="DEST=SRC ..."] [RUN_TIMEOUT=secs]
#   make build [ARCH=..]                    build a test kernel
#   make bench [ARCH=..] [BENCH_BOOTS=3]    benchmarks into build/bench
#   make lint                               checkpatch, kernel-doc, docs, sparse
#   make lint-record                        lint, the base's sparse findings rebuilt into harness/sparse-base (~5 min)
#   make e2e   [SCENARIOS="reporting virtio-mem"]  page tables back to the host
#   make alloc [ALLOC_RUNS=3] [ALLOC_SECONDS=3] [ALLOC_WAIT=11]  allocators x reclaim methods (x86_64)
#   make reuse [REUSE_RUNS=3] [REUSE_SECONDS=20]  a database's reservation reused (x86_64, ~8 min)
#   make series                             the patch series (and man-pages patch) into build/series/out
#   make series-check                       git am, checkpatch, build per patch: results/series (~8 min)
#   make tree / make export                 edit round trip (build/src)
#   make install / make base / make clean

ARCH ?= x86_64
H := harness

.PHONY: all demo check fresh status matrix mutate soak kcsan kcsan-base baseline run bench e2e alloc reuse build install base tree export selftests lint lint-record series series-check clean
all:
	@sed -n '/^#   make/s/^#   //p' Makefile

install:
	@$(H)/install.sh

base: install
	@$(H)/base.sh

tree: base
	@echo "edit and commit in build/src (a git tree: tag 'base' + the overlay);"
	@echo "'make build' builds it as it is; 'make export' writes it back to the overlay"

export:
	@$(H)/export.sh

build: base
	@$(H)/build.sh $(ARCH)

selftests: build
	@$(H)/selftests.sh $(ARCH)

run: build
	@test -n "$(PROG)" || { echo "usage: make run ARCH=NAME PROG=path [ARGS=..] (NAME: a harness/arch/NAME.conf)" >&2; exit 2; }
	@FILES="$(FILES)" $(H)/run.sh $(ARCH) $(PROG) $(ARGS)

demo: build
	@$(H)/demo.sh $(ARCH)

# Every arch unless ARCH is given on the command line.
bench: base
	@$(H)/bench.sh $(if $(filter command line,$(origin ARCH)),$(ARCH))

# The x86_64 test kernel in guests with virtio-balloon / virtio-mem.
e2e: base
	@$(H)/build.sh x86_64
	@$(H)/e2e.sh $(SCENARIOS)

# Allocators (glibc, jemalloc, tcmalloc, mimalloc, the Go runtime) x
# reclaim methods, on the x86_64 test kernel; the table in
# build/alloc/results.md. install.sh --go: golang-go.
alloc: base
	@$(H)/install.sh --go
	@$(H)/alloc.sh

# The database pattern (allocators/reuse.c): one reservation reused with
# MADV_DONTNEED, under stock, none, periodic MADV_PT_RECLAIM (every 1 s,
# every 0.1 s), MADV_PT_RECLAIM over each release's table spans and
# mmap()/munmap(); the table and plot in build/reuse/
reuse: base
	@$(H)/alloc.sh --reuse

lint: base
	@$(H)/lint.sh

# lint with the base's sparse findings built, written to
# harness/sparse-base/ARCH.txt (what lint reads while its key holds)
lint-record: base
	@LINT_RECORD=1 $(H)/lint.sh

series: base
	@$(H)/series.sh

# Needs the x86_64 kernel and lint's base findings (make check has both).
series-check: base
	@$(H)/series-check.sh

check: base
	@$(H)/check.sh

# The unpatched kernel's results of ARCH's base mm selftests, the
# skip budget's reference (harness/selftests/baseline/ARCH.txt).
baseline: base
	@$(H)/baseline.sh $(ARCH)

# The kernels make check leaves out to stay within 45 cold minutes; the
# table in results/matrix/results.md. install.sh --matrix: the Xen hypervisor
# (x86_64-xen).
matrix: base
	@$(H)/install.sh --matrix
	@$(H)/matrix.sh $(MATRIX)

# The mutation suite: each harness/mutate/*.patch (a known-bad variant of
# the feature) built into a scratch copy of the tree and booted with the
# feature's tests, which must catch it; the table in
# results/mutate/results.md. VARIANTS=name.. runs some.
mutate: base
	@$(H)/mutate.sh $(VARIANTS)

# The soak run: the torture test for SOAK_SECONDS per arch (default 600 s
# on x86_64, x86_64-debug, s390x and arm64); the table in
# results/soak/results.md.
SOAK_SECONDS ?= 600
soak: base
	@SOAK_SECONDS=$(SOAK_SECONDS) $(H)/soak.sh $(SOAK_ARCHES)

# The status of the last make check (build/check-status.md, or
# STATUS=path/to/check-status.md of a clean clone's run) into
# results/check/results.md and README.md's Status block.
status:
	@$(H)/status.sh $(STATUS)

# The data-race detector: the x86_64 KCSAN kernel running the feature's
# tests, the base tests of the code it patches and a 2-minute torture run
# (harness/arch/x86_64-kcsan.conf; a row of results/matrix/results.md);
# kcsan-base: the reports of the unpatched kernel with the same .config,
# against harness/selftests/kcsan-base.txt, the base races verdict.sh
# lets pass.
kcsan: base
	@$(H)/matrix.sh x86_64-kcsan
kcsan-base: base
	@$(H)/kcsan-base.sh

# make check in a fresh bookworm root (debootstrap; needs root, ~50 min)
FRESH_ROOT ?= /srv/pt-reclaim-fresh
fresh:
	@$(H)/fresh.sh $(FRESH_ROOT)

clean:
	rm -rf build
