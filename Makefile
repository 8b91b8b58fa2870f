# Herald's developer entry points. `make run` and `make test` are the README
# contract: on a fresh machine they need nothing else.
GO       ?= go
BIN      ?= bin/herald
EXAMPLE  ?= schedules.example.yaml
BENCHTIME ?= 1x

.PHONY: all build run test vet lint bench fuzz proto clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/herald

# Serve the example with the embedded store, in dry-run, with logs for
# people. Ctrl-C stops it gracefully.
run: build
	$(BIN) validate $(EXAMPLE)
	$(BIN) serve --config $(EXAMPLE) --db sqlite:herald.db --dry-run --log-format text

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -count=1 ./...

# gofmt must have nothing to say; go vet must pass.
lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Benchmarks behind the figures in BENCHMARKS.md.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./schedules/...

# Short fuzzing runs of the decoders (the seed corpora also run in `make test`).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=$(FUZZTIME) ./schedules/
	$(GO) test -run='^$$' -fuzz=FuzzCron -fuzztime=$(FUZZTIME) ./schedules/spec/
	$(GO) test -run='^$$' -fuzz=FuzzRRule -fuzztime=$(FUZZTIME) ./schedules/spec/

# The admin API issue adds protobuf definitions under proto/; until then
# there is nothing to generate.
proto:
	@echo "proto: no .proto files yet; nothing to generate"

clean:
	rm -rf bin
