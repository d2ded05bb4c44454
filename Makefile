# Conduct Portal. `make run` serves it; `make test` runs every test.
GO ?= go
BIN := bin/portal

.PHONY: build run test bench vet fmt check clean

build:
	$(GO) build -o $(BIN) ./server

run: build
	./$(BIN) serve

# Every test, the browser journeys included (needs /usr/bin/chromium; .ci/run installs it).
test:
	$(GO) vet ./...
	@test -z "$$(gofmt -l server embed.go)" || (echo "gofmt needed:"; gofmt -l server embed.go; exit 1)
	$(GO) test -race -count=1 -timeout 20m ./...

# Report benchmarks on 10,000 seeded employees (not part of test); p50/p99 per view.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 40x -timeout 30m ./server/report/...

check: build
	./$(BIN) import --check

clean:
	rm -rf bin testout
