# proxyspec: HTTP/1.1 conformance and request-smuggling suite, and its reference proxy.
# Everything here needs only Go (1.26) on the PATH, or at /usr/local/go.

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
BIN := bin
REPORT_DIR := out

.PHONY: all build run test race cover bench fuzz-smoke lint vet fmt ci clean

all: build test

build: ## build proxyspec and refproxy into bin/
	$(GO) build -o $(BIN)/proxyspec ./conformance/cmd/proxyspec
	$(GO) build -o $(BIN)/refproxy ./proxy/cmd/refproxy

run: build ## the main job: the whole suite against the reference proxy, with reports in out/
	@mkdir -p $(REPORT_DIR)
	$(BIN)/proxyspec run --launch refproxy --refproxy $(BIN)/refproxy --sweeps \
		--markdown $(REPORT_DIR)/report.md --html $(REPORT_DIR)/report.html \
		--json $(REPORT_DIR)/report.json --junit $(REPORT_DIR)/report.xml
	@echo "reports: $(REPORT_DIR)/report.md $(REPORT_DIR)/report.html $(REPORT_DIR)/report.json $(REPORT_DIR)/report.xml"

test: ## every test, the whole suite against the reference proxy included
	$(GO) test ./...

race: ## tests under the race detector
	$(GO) test -race ./...

cover: ## coverage of the reference proxy
	$(GO) test -cover ./proxy/...

bench: ## benchmarks; each compares against a peer measured in the same run
	$(GO) test -run '^$$' -bench . -benchmem ./proxy/... ./conformance/...

fuzz-smoke: ## each fuzz target for a few seconds
	@set -e; for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime 5s $$pkg; \
		done; \
	done

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

lint: vet ## gofmt check and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

ci: ## what .ci/run does
	bash .ci/run

clean:
	rm -rf $(BIN) $(REPORT_DIR)
