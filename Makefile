# Herald's developer entry points. `make run` and `make test` are the README
# contract: on a fresh machine they need nothing else.
GO       ?= go
BIN      ?= bin/herald
EXAMPLE  ?= schedules.example.yaml
BENCHTIME ?= 1x

.PHONY: all build run run-fake cluster proto-check test vet lint bench bench-engine bench-pgbench bench-cluster fuzz proto clean soak chaos

all: build

build:
	$(GO) build -o $(BIN) ./cmd/herald

# Serve the example with the embedded store, in dry-run, with logs for
# people. Ctrl-C stops it gracefully.
run: build
	$(BIN) validate $(EXAMPLE)
	$(BIN) serve --config $(EXAMPLE) --db sqlite:herald.db --dry-run --log-format text

# Serve examples/fake-x.yaml publishing to a local fake X server: posts
# appear at http://127.0.0.1:8081/. Ctrl-C stops both.
FAKEX_ADDR ?= 127.0.0.1:8081
run-fake: build
	$(BIN) validate examples/fake-x.yaml
	@$(BIN) fake-x --listen $(FAKEX_ADDR) --log-format text & fake=$$!; \
	trap 'kill $$fake 2>/dev/null' EXIT INT TERM; \
	DEMO_X_TOKEN=demo-access-token $(BIN) serve --config examples/fake-x.yaml \
		--db sqlite:herald-fake.db --x-api-url http://$(FAKEX_ADDR) --log-format text

# Three nodes of a cluster on the local Postgres (database test, or
# HERALD_DB) and Redis, serving examples/cluster.yaml to a local fake X:
# node N's dashboard is http://127.0.0.1:809N/, posts appear at
# http://127.0.0.1:8081/, logs go to bin/cluster/. Ctrl-C stops them all.
CLUSTER_DB     ?= $(or $(HERALD_DB),postgres://postgres@127.0.0.1:5432/test?sslmode=disable)
CLUSTER_REDIS  ?= redis://127.0.0.1:6379/0
CLUSTER_PREFIX ?= herald-cluster:
CLUSTER_LOGS   ?= bin/cluster
cluster: build
	$(BIN) validate examples/cluster.yaml
	@mkdir -p $(CLUSTER_LOGS); \
	$(BIN) fake-x --listen $(FAKEX_ADDR) --log-format text 2>$(CLUSTER_LOGS)/fake-x.log >/dev/null & pids=$$!; \
	trap 'trap - EXIT INT TERM; echo; echo "stopping $$pids"; kill $$pids 2>/dev/null; wait; echo "cluster stopped"' EXIT INT TERM; \
	for i in 1 2 3; do \
		DEMO_X_TOKEN=demo-access-token $(BIN) serve --config examples/cluster.yaml \
			--db "$(CLUSTER_DB)" --redis "$(CLUSTER_REDIS)" --redis-prefix "$(CLUSTER_PREFIX)" \
			--node-id node$$i --listen 127.0.0.1:809$$i --x-api-url http://$(FAKEX_ADDR) \
			--log-format text 2>$(CLUSTER_LOGS)/node$$i.log & pids="$$pids $$!"; \
		for t in $$(seq 60); do curl -sf -o /dev/null http://127.0.0.1:809$$i/readyz && break; sleep 0.5; done; \
		echo "node$$i (pid $$!): dashboard http://127.0.0.1:809$$i/  log $(CLUSTER_LOGS)/node$$i.log"; \
	done; \
	echo "fake X: posts at http://$(FAKEX_ADDR)/  log $(CLUSTER_LOGS)/fake-x.log"; \
	echo "Ctrl-C stops the cluster"; \
	wait

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -count=1 ./...

# gofmt must have nothing to say; go vet must pass.
lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The exactly-once proof at length (TestExactlyOnce in cmd/herald, which
# `make test` runs for about 35 seconds): herald serve publishing to herald
# fake-x under random faults, with kills and edits, for HERALD_SOAK_DURATION.
# A new seed each run unless HERALD_SOAK_SEED is set; a failure prints the
# seed to replay it. HERALD_SOAK_DIR keeps the database and logs.
soak:
	HERALD_SOAK_SEED=$${HERALD_SOAK_SEED:-$$(date +%s)} \
	HERALD_SOAK_DURATION=$${HERALD_SOAK_DURATION:-10m} \
	HERALD_SOAK_SCHEDULES=$${HERALD_SOAK_SCHEDULES:-100} \
	HERALD_SOAK_KILLS=$${HERALD_SOAK_KILLS:-20} \
	$(GO) test -race -count=1 -v -run '^TestExactlyOnce$$' -timeout 90m ./cmd/herald/

# The cluster's proof at length (TestClusterChaos in cmd/herald, which
# `make test` runs for about a minute): three herald serve on one Postgres
# schema and Redis prefix, each through fault proxies, killed, cut from
# Postgres and Redis and deprived of Redis in rounds of a minute, for
# HERALD_CHAOS_DURATION. A new seed each run unless HERALD_CHAOS_SEED is
# set; a failure prints the seed. HERALD_CHAOS_DIR keeps the logs.
chaos:
	HERALD_CHAOS_SEED=$${HERALD_CHAOS_SEED:-$$(date +%s)} \
	HERALD_CHAOS_DURATION=$${HERALD_CHAOS_DURATION:-10m} \
	HERALD_CHAOS_SCHEDULES=$${HERALD_CHAOS_SCHEDULES:-40} \
	$(GO) test -race -count=1 -v -run '^TestClusterChaos$$' -timeout 90m ./cmd/herald/

# Benchmarks behind the figures in BENCHMARKS.md. The engine benchmarks
# run for minutes with the real clock, so they have their own target.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./schedules/... ./platform/x/ratelimit/
	$(GO) test -run='^$$' -bench=Publish -benchtime=5000x -count=3 ./platform/x/

bench-engine:
	HERALD_BENCH_ENGINE=1 $(GO) test -run='^$$' -bench=. -benchtime=1x -timeout=60m ./actors/

# 10,000 schedules firing at once on 1 node, then on 3 (Postgres and
# Redis), publishing to a fake X: lateness, missing and duplicated posts.
bench-cluster:
	HERALD_BENCH_CLUSTER=1 $(GO) test -count=1 -v -run '^TestClusterBench' -timeout 60m ./cmd/herald/

# The unbatched baseline for the publish throughput: one job's statements
# per pgbench transaction, in a schema of its own.
PGURL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
PGBENCH_SECONDS ?= 20
bench-pgbench:
	psql "$(PGURL)" -q -c 'DROP SCHEMA IF EXISTS herald_pgbench CASCADE' -c 'CREATE SCHEMA herald_pgbench'
	PGOPTIONS='-c search_path=herald_pgbench' psql "$(PGURL)" -q -f store/postgres/migrations/0001_init.sql
	PGOPTIONS='-c search_path=herald_pgbench' pgbench -n -f store/postgres/testdata/pgbench-lifecycle.sql -c 8 -j 2 -T $(PGBENCH_SECONDS) "$(PGURL)"
	psql "$(PGURL)" -q -c 'DROP SCHEMA herald_pgbench CASCADE' 

# Short fuzzing runs of the decoders (the seed corpora also run in `make test`).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=$(FUZZTIME) ./schedules/
	$(GO) test -run='^$$' -fuzz=FuzzMatchesYAMLv3 -fuzztime=$(FUZZTIME) ./schedules/internal/yamlfast/
	$(GO) test -run='^$$' -fuzz=FuzzCron -fuzztime=$(FUZZTIME) ./schedules/spec/
	$(GO) test -run='^$$' -fuzz=FuzzRRule -fuzztime=$(FUZZTIME) ./schedules/spec/

# Protobuf and Connect code generation with pinned tools, installed into
# bin/tools on first use (about two minutes). proto/gen.sum records the
# hash of the .proto sources the committed code was generated from; a test
# in `make test` fails when they differ (the code is stale).
TOOLS ?= $(CURDIR)/bin/tools
BUF_VERSION ?= v1.75.0
PROTOC_GEN_GO_VERSION ?= v1.36.12
PROTOC_GEN_CONNECT_GO_VERSION ?= v1.21.1
$(TOOLS)/buf:
	GOBIN=$(TOOLS) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
$(TOOLS)/protoc-gen-connect-go:
	GOBIN=$(TOOLS) $(GO) install connectrpc.com/connect/cmd/protoc-gen-connect-go@$(PROTOC_GEN_CONNECT_GO_VERSION)
proto: $(TOOLS)/buf $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-connect-go
	PATH="$(TOOLS):$$PATH" buf lint
	PATH="$(TOOLS):$$PATH" buf generate
	cd proto && find . -name '*.proto' | LC_ALL=C sort | xargs sha256sum > gen.sum

# Regenerate and fail if the committed code differs.
proto-check: proto
	git diff --exit-code -- proto/

clean:
	rm -rf bin
