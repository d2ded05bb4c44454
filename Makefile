# Conduct Portal. `make run` serves it; `make test` runs every test.
GO ?= go
BIN := bin/portal

.PHONY: build run test vet fmt check clean soak

build:
	$(GO) build -o $(BIN) ./server

run: build
	./$(BIN) serve

# Every test, the browser journeys included (needs /usr/bin/chromium; .ci/run installs it).
test:
	$(GO) vet ./...
	@test -z "$$(gofmt -l server embed.go)" || (echo "gofmt needed:"; gofmt -l server embed.go; exit 1)
	$(GO) test -race -count=1 -timeout 20m ./...

# Crash safety: the real binary under load, killed with SIGKILL at random
# moments, then every 2xx answer checked against the database (about 2 min).
soak: build
	$(GO) run ./server/soak -bin $(BIN) -duration 60s

check: build
	./$(BIN) import --check

clean:
	rm -rf bin testout
