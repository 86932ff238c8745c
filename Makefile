# goproxy — build, run, test. Go toolchain only.

GO         ?= go
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BUILD_DATE ?= $(shell date -u +%Y/%m/%d)
# The commit, "-dirty" when the tree differs: goproxy_build_info's revision
# (go build stamps none in a git worktree or with -buildvcs=false).
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
LDFLAGS    := -X main.version=$(VERSION) -X main.buildDate=$(BUILD_DATE) -X main.revision=$(REVISION)
FUZZTIME   ?= 30s
# Fuzzing done as part of `make test`, per target: short and bounded (22
# targets; `make fuzz` runs each for FUZZTIME). At 10s each `make test`
# took 10 minutes on 2 idle cores; at 4s it stays under 8.
TEST_FUZZTIME ?= 4s

# Packages that have Fuzz targets and packages whose tests take -update.
FUZZ_PKGS   = $(shell find . -name '*_test.go' -not -path './bin/*' -exec grep -l '^func Fuzz' {} + | xargs -r -n1 dirname | sort -u)
GOLDEN_PKGS = $(shell find . -name '*_test.go' -not -path './bin/*' -exec grep -l 'flag.Bool."update"' {} + | xargs -r -n1 dirname | sort -u)

.PHONY: all build run demo test vet unit integration fuzz lint fmt generate golden bench clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/goproxy ./cmd/goproxy

# The demo: three CMPP gateway simulators on 127.0.0.1:9315-9317 and goproxy
# in the foreground on 127.0.0.1:9999 with testdata/demo.cfg (stats socket
# in ./run/). Ctrl-C stops everything it started.
run: build
	scripts/demo.sh

test: vet unit
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

vet:
	$(GO) vet ./...

# A package whose tests hang fails after TEST_TIMEOUT with a goroutine
# dump, instead of after go test's default 10 minutes. The slowest package,
# cmd/goproxy, ran in 226 s on CI's 2 cores (-race -p 1), proxy in 31 s,
# every other one in under 25 s: TEST_TIMEOUT leaves the slowest a margin
# of twice that on a busier machine.
TEST_TIMEOUT ?= 8m

# One package at a time: the end-to-end and timing tests run real processes
# and measure intervals, and must not compete with each other for 2 cores.
unit:
	$(GO) test -race -p 1 -timeout $(TEST_TIMEOUT) ./...

integration:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./cmd/goproxy/

# Runs every Fuzz target for FUZZTIME each; nothing to do when no package
# has one yet. Go 1.26's fuzz coordinator can end a run at its deadline
# with "context deadline exceeded" and no failing input (golang/go#75804,
# fixed in Go 1.27): such a run is reported and not counted as a failure;
# a run that wrote a failing input always is.
fuzz:
	@pkgs="$(FUZZ_PKGS)"; \
	if [ -z "$$pkgs" ]; then echo "fuzz: no Fuzz targets in this tree yet, nothing to run"; exit 0; fi; \
	for p in $$pkgs; do \
		for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$p/*_test.go | sed 's/^func //'); do \
			echo "fuzz: $$p $$t for $(FUZZTIME)"; \
			out=$$($(GO) test -run='^$$' -fuzz="^$$t\$$" -fuzztime=$(FUZZTIME) $$p 2>&1); rc=$$?; \
			echo "$$out"; \
			if [ $$rc -ne 0 ]; then \
				if echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
					echo "fuzz: $$p $$t: stopped by the fuzz coordinator's deadline race (golang/go#75804), no failing input"; \
				else \
					exit 1; \
				fi; \
			fi; \
		done; \
	done

lint: vet
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './bin/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Rewrites the generated tables of stats (fieldmeta.go, infometa.go,
# prommeta.go) from stats/schema/*.tsv; stats/internal/gen's test fails
# when they are stale.
generate:
	$(GO) generate ./stats

fmt:
	gofmt -w $$(find . -name '*.go' -not -path './bin/*')

# Rewrites the golden files of every package whose tests take -update.
golden:
	@pkgs="$(GOLDEN_PKGS)"; \
	if [ -z "$$pkgs" ]; then echo "golden: no package takes -update"; exit 0; fi; \
	$(GO) test -count=1 $$pkgs -update

# Runs goproxy and HAProxy side by side on the same workloads and prints
# goproxy/haproxy ratios (BENCHFLAGS=-quick for a short run).
bench: build
	$(GO) run ./bench $(BENCHFLAGS)

clean:
	rm -rf bin run

include demo.mk
