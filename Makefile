# Conduct Portal. `make run` serves it; `make test` runs every test.
GO ?= go
BIN := bin/portal

.PHONY: build run demo test test-burst-postgres lint fuzz fuzz-api soak bench bench-large bench-reports bench-pages check deploy-check clean

# "portal version" prints these. The Go toolchain stamps nothing from a git worktree or with
# GOFLAGS=-buildvcs=false, so make passes them to the linker (empty outside git: "unknown").
COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
MODIFIED := $(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true)
VERSION := $(shell git describe --tags --dirty 2>/dev/null)
BUILD_DATE := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X conductportal/server/cli.version=$(VERSION) -X conductportal/server/cli.commit=$(COMMIT) \
	-X conductportal/server/cli.modified=$(MODIFIED) -X conductportal/server/cli.buildDate=$(BUILD_DATE)

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./server

run: build
	./$(BIN) serve

# A sample company to try the portal on: fills an EMPTY ./data (PORTAL_DATA), prints the logins.
demo: build
	./$(BIN) demo

# Every test, the browser journeys included (needs /usr/bin/chromium; .ci/run installs it).
# Compile every test binary in parallel first; then run two streams at once, each one package at a
# time: the browser journeys (server/web) and every other package. A test of either mostly waits on
# one core (a request under -race, the one embedded writer), so two streams fill the 2 cores where
# -p 2 would also pair the load tests (50 concurrent signatures) with a second heavy package and time
# out. Temporary folders (each test's database, Chromium's profile) go on tmpfs when there is one:
# the embedded database syncs every write, ~1,000 fsyncs per 5 portal tests, each waiting on the disk.
# The browser stream's output is shown when both are done. The folder may be entered by others (0711):
# the PostgreSQL test runs initdb as the postgres user in a folder of its own inside it.
TEST_TMP_ROOT ?= /dev/shm
TEST_FLAGS := -race -count=1 -p 1 -timeout 25m
test:
	$(GO) vet ./...
	@test -z "$$(gofmt -l server embed.go)" || (echo "gofmt needed:"; gofmt -l server embed.go; exit 1)
	$(GO) test -race -count=1 -run '^$$' ./... >/dev/null
	@tmp=$$(mktemp -d "$(TEST_TMP_ROOT)/portal-test.XXXXXX" 2>/dev/null || mktemp -d); chmod 0711 "$$tmp"; export TMPDIR="$$tmp"; \
	echo "go test $(TEST_FLAGS) ./server/web/ (its output follows the other packages'), TMPDIR=$$tmp"; \
	$(GO) test $(TEST_FLAGS) ./server/web/ >"$$tmp/web.log" 2>&1 & web=$$!; \
	$(GO) test $(TEST_FLAGS) $$($(GO) list ./... | grep -vx 'conductportal/server/web'); rest=$$?; \
	wait $$web; webrc=$$?; cat "$$tmp/web.log"; rm -rf "$$tmp"; \
	test $$rest -eq 0 && test $$webrc -eq 0

# The sign-in burst tests against FerretDB on PostgreSQL (Debian's, in a temporary folder, as the
# bench starts it) instead of the embedded database: PORTAL_TEST_MONGODB_URI names it.
test-burst-postgres:
	$(GO) run ./server/bench with-postgres -- $(GO) test -count=1 -v -run 'TestBurst' ./server/cli/

# Static checks: vet, staticcheck and gosec (pinned, from the Go module proxy). Every finding
# left is justified by a "#nosec" comment where it stands. gosec skips server/soak and
# server/bench (and server/fuzzapi, and server/pgserver, the PostgreSQL they start): load drivers for loopback that start the binary they are given (and PostgreSQL),
# with math/rand timings on purpose.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOSEC := github.com/securego/gosec/v2/cmd/gosec@v2.30.0
lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(GOSEC) -quiet -exclude-dir=server/soak -exclude-dir=server/bench -exclude-dir=server/fuzzapi -exclude-dir=server/pgserver ./...

# Fuzz the parsers and the render-and-sanitize pipeline (the seeds also run in `make test`).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) ./server/lesson
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./server/lesson
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./server/quiz
	$(GO) test -run '^$$' -fuzz '^FuzzGrade$$' -fuzztime $(FUZZTIME) ./server/quiz

# The API judged by checkers we did not write (npm packages pinned in server/fuzzapi, installed
# once under build/fuzz-api): Redocly lints the served OpenAPI document (recommended rules, no
# warning allowed), Portman makes contract and fuzz tests of every operation from it and Newman runs
# them on loopback with a token of each role. A few minutes; not part of make test (it installs).
fuzz-api: build
	@mkdir -p build/fuzz-api
	@cmp -s server/fuzzapi/package-lock.json build/fuzz-api/package-lock.json || { \
		cp server/fuzzapi/package.json server/fuzzapi/package-lock.json build/fuzz-api/ && \
		npm ci --prefix build/fuzz-api --no-audit --no-fund; }
	$(GO) run ./server/fuzzapi -bin $(BIN) -node build/fuzz-api/node_modules

# Crash safety: the real binary under load, killed with SIGKILL at random
# moments, then every 2xx answer checked against the database: on the embedded
# database (60 s of load), then on FerretDB on a fresh PostgreSQL cluster given as
# MONGODB_URI (30 s; Debian's postgresql package), with an outage of FerretDB after
# the load (503 within 5 s, recovery without a restart). About 2.5 min in all.
soak: build
	$(GO) run ./server/soak -bin $(BIN) -duration 60s
	$(GO) run ./server/soak -bin $(BIN) -duration 30s -postgres

# The real binary on a seeded database (10,000 employees; BENCH_EMPLOYEES=100000 for the large
# run), driven over loopback: req/s, p50, p99 and errors per request kind, the lesson page against a
# static file of its size, time to ready and peak RSS; on SQLite and on PostgreSQL (BENCH_BACKENDS).
# BENCH_ONLY=quiz (words of the lines' names, comma-separated) runs only those lines and what they need.
bench: build
	$(GO) run ./server/bench -bin $(BIN)

# The large run: 100,000 employees on the embedded database, with the bounds of issue 17
# (organisation view p99, peak RSS) printed beside the figures; BENCH_BACKENDS=sqlite,postgresql for both.
bench-large: build
	BENCH_EMPLOYEES=100000 BENCH_BACKENDS=$${BENCH_BACKENDS:-sqlite} BENCH_SYNC=off $(GO) run ./server/bench -bin $(BIN)

# The report functions in-process on 10,000 seeded employees; p50/p99 per view.
bench-reports:
	$(GO) test -run '^$$' -bench . -benchtime 40x -timeout 30m ./server/report/...

# The lesson page in-process (through the app; its rendering alone, in Go and as html/template
# did it), the home page's rendering, and each middleware of a learner's page: ns/op, allocs/op.
bench-pages:
	$(GO) test -run '^$$' -bench 'BenchmarkLessonPage|BenchmarkHomePage|BenchmarkMiddlewareChain' -benchmem ./server/web

check: build
	./$(BIN) import --check

# The deployment files of server/deploy, checked with what runs here (also part of make test): the
# Dockerfile's rules (pinned bases, static build, non-root, HEALTHCHECK, /data volume), its exact
# go build serving /readyz, systemd-analyze verify and security on the unit, the compose file
# parsed (replica set, majority journaled writes) and the nginx example. The first run compiles
# everything once with the Dockerfile's flags (a few minutes); later runs take seconds.
deploy-check:
	$(GO) test -count=1 -v ./server/deploy/

clean:
	rm -rf bin testout
