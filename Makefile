# Probity: build, run and test. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
PKG := github.com/probity-edu/probity/internal/version
LDFLAGS := -s -w -X $(PKG).Version=$(VERSION) -X $(PKG).Commit=$(COMMIT) -X $(PKG).Date=$(DATE)
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck
STATICCHECK_VERSION := v0.8.2
FUZZTIME ?= 30s

.PHONY: help build run test test-short setup-test lint fmt bench bench-score bench-report bench-throughput bench-snmp bench-influx bench-footprint bench-load bench-load-budget dashboards package fuzz cross clean e2e

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build probity-agent and probity-collector into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/probity-agent ./agent
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/probity-collector ./collector

run: build ## run a local collector and a loopback-only demo agent; Ctrl-C stops both
	./scripts/demo.sh

setup-test: ## install what the tests need (Debian; run as root)
	./scripts/setup-test.sh

test: setup-test package ## set up, build the packages, and run every test (unit, integration, end-to-end, packages)
	$(GO) test -count=1 -timeout 20m ./...

test-short: ## unit tests only (integration tests skip unless required)
	$(GO) test -short -count=1 ./...

e2e: ## end-to-end tests with the real binaries
	$(GO) test -count=1 -v -run 'TestIntegrationE2E' ./test/e2e/...

lint: ## gofmt, go vet, staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: run gofmt -w on these'; exit 1; }
	$(GO) vet ./...
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(STATICCHECK) ./...

dashboards: ## regenerate the Grafana dashboards in dashboards/ from dashboards/gen (commit the JSON)
	$(GO) generate ./dashboards/gen

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

bench: ## benchmarks (results go in docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -skip 'BenchmarkScore1000Schools|BenchmarkReports' -benchmem -count 3 ./collector/... ./agent/spool/... ./internal/...

bench-throughput: ## Probity vs iperf3 -P 4 on tc-shaped links of 50-1000 Mbit/s (root; rewrites docs/benchmarks.md)
	PROBITY_BENCH_THROUGHPUT=1 $(GO) test -run '^TestBenchThroughput$$' -v -count 1 -timeout 90m ./test/e2e/

bench-snmp: ## Probity's snmp probe vs prometheus-snmp-exporter on 200 simulated 48-port switches (root; needs snmpd and prometheus-snmp-exporter: apt-get install -y --no-install-recommends snmpd prometheus-snmp-exporter; rewrites docs/benchmarks.md)
	PROBITY_BENCH_SNMP=1 $(GO) test -run '^TestBenchSNMP$$' -v -count 1 -timeout 60m ./test/e2e/

bench-influx: ## the InfluxDB sink vs influxdb-client-go on its own, and /api/v2/write vs InfluxDB 1.8's (needs influxd: make setup-test)
	PROBITY_INTEGRATION=required $(GO) test -run '^$$' -bench 'BenchmarkInfluxWrite|BenchmarkSinkQueueMemory' -benchtime 3x -count 3 ./collector/influx/
	PROBITY_INTEGRATION=required $(GO) test -run '^$$' -bench 'BenchmarkInfluxV2Write' -benchtime 20x -count 3 ./collector/api/

bench-footprint: ## the agent beside Telegraf running the same school checks for 5 minutes: RSS, CPU, binary size (root; rewrites docs/benchmarks.md)
	PROBITY_BENCH_FOOTPRINT=1 $(GO) test -run TestBenchFootprint -count=1 -v -timeout 30m ./test/e2e/

bench-load: ## the most schools a collector sustains at real intervals: one on SQLite (secondaries of 1,051 points a minute, then small schools of 301), one and two on PostgreSQL, then the same held to a CPU budget per collector (about 12 min each; budgeted ones need root; rewrites docs/benchmarks.md)
	PROBITY_BENCH_LOAD=1 $(GO) test -run TestBenchLoad -v -timeout 240m ./test/e2e/

bench-load-budget: ## bench-load's scenarios with each collector held to a CPU budget by a cgroup, as on machines of its own: SQLite at 1 core, one and two on PostgreSQL at 0.5 core each (root; rewrites their sections of docs/benchmarks.md)
	PROBITY_BENCH_LOAD=1 PROBITY_BENCH_LOAD_SCENARIOS=sqlite-1core,postgres-budget,postgres-2-budget $(GO) test -run TestBenchLoad -v -timeout 90m ./test/e2e/

bench-score: ## score every requirement for 1,000 schools from a year of hourly rollups (target < 60 s)
	$(GO) test -run '^$$' -bench 'BenchmarkScore1000Schools' -benchtime 1x -timeout 2h -v ./collector/jobs/

bench-report: ## a school's year-long report (HTML and PDF; target < 1 s) and a 50-school trust pack (target < 10 s)
	$(GO) test -run '^$$' -bench 'BenchmarkReports' -benchtime 3x -timeout 30m -v ./collector/jobs/

fuzz: ## run each fuzz target for FUZZTIME
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$p 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
	  done; done

cross: ## static builds for linux/amd64, linux/arm64, linux/arm (GOARM=7) into dist/
	@mkdir -p dist
	for t in amd64 arm64 arm; do \
	  for b in agent collector; do \
	    GOARM=7 CGO_ENABLED=0 GOOS=linux GOARCH=$$t $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/probity-$$b-linux-$$t ./$$b || exit 1; \
	  done; done
	@ls -l dist

package: cross ## Debian packages of both binaries for amd64, arm64 and armhf into dist/ (deploy/README.md)
	VERSION=$(VERSION) ./scripts/package.sh

clean: ## remove build output and demo data
	rm -rf $(BIN) dist data
