# proxyspec: HTTP/1.1 conformance and request-smuggling suite, and its reference proxy.
# Everything here needs only Go (1.26) on the PATH, or at /usr/local/go.

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
BIN := bin
REPORT_DIR := out

.PHONY: all build run test race cover bench fuzz-smoke lint vet fmt ci clean check-config

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

# Real proxies the matrix runs (Debian packages). Installing them must not start their services:
# a policy-rc.d that forbids it is put in place for the install, and removed only if we put it there.
PEERS_DEB := nginx-light haproxy apache2 varnish squid trafficserver h2o lighttpd caddy tinyproxy nghttp2-proxy
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: peers-install matrix

peers-install: ## install the real proxies of the matrix (apt-get; root or sudo)
	@set -e; guard=; \
	if [ ! -e /usr/sbin/policy-rc.d ]; then \
		printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null; \
		$(SUDO) chmod 755 /usr/sbin/policy-rc.d; guard=1; \
	fi; \
	trap 'if [ -n "$$guard" ]; then $(SUDO) rm -f /usr/sbin/policy-rc.d; fi' EXIT; \
	$(SUDO) apt-get update -qq; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PEERS_DEB) >/dev/null; \
	echo "installed: $(PEERS_DEB)"

matrix: build ## the suite against every launcher: reports/MATRIX.md, reports/matrix.html, reports/results/
	$(BIN)/proxyspec matrix --out reports --refproxy $(BIN)/refproxy

.PHONY: faults
faults: ## run the corpus once per injected fault of refproxy; rewrites reports/faults.md and conformance/faults/testdata/catches.json
	$(GO) run ./conformance/faults/cmd/faultmatrix

check-config: ## validate the example refproxy configurations
	$(GO) run ./proxy/cmd/refproxy -check proxy/examples/refproxy.yaml
	$(GO) run ./proxy/cmd/refproxy -check proxy/examples/conformance.yaml
