# Every target installs what it needs into ./bin (pinned, built from Go modules) and then
# works offline. `make help` lists them.
SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)
export CHECKPOINT_DISABLE := 1

REGISTRY_VERSION := v3.1.2
TOFU_VERSION     := v1.10.10
PROVIDER         := $(BIN)/terraform-provider-imagesync
TERRAFORM        := $(shell command -v terraform 2>/dev/null)
ACC_TIMEOUT      := 15m

.DEFAULT_GOAL := help
.PHONY: help tools build test unit acceptance demo bench fmt vet clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

tools: $(BIN)/registry $(BIN)/tofu ## Build the pinned test tools into ./bin (registry, OpenTofu)

$(BIN)/registry:
	@echo "building CNCF distribution registry $(REGISTRY_VERSION) into bin/ (about 90 s, once)"
	GOBIN=$(BIN) $(GO) install github.com/distribution/distribution/v3/cmd/registry@$(REGISTRY_VERSION)

# OpenTofu's go.mod has replace directives, so `go install pkg@version` refuses it: build
# it from a writable copy of the downloaded module instead.
$(BIN)/tofu:
	@echo "building OpenTofu $(TOFU_VERSION) into bin/ (about 4 minutes, once)"
	set -euo pipefail; work=$$(mktemp -d); trap 'chmod -R u+w "$$work"; rm -rf "$$work"' EXIT; \
	dir=$$(cd "$$work" && GOFLAGS=-mod=mod $(GO) mod download -json github.com/opentofu/opentofu@$(TOFU_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	cp -r "$$dir" "$$work/src"; chmod -R u+w "$$work/src"; \
	cd "$$work/src" && $(GO) build -o $(BIN)/tofu ./cmd/tofu

build: ## Build the provider into ./bin
	$(GO) build -o $(PROVIDER) .

vet: ## gofmt check and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

unit: ## Unit and integration tests (real registries on loopback, no Terraform CLI)
	$(GO) test -count=1 ./...

# The acceptance tests drive the real CLI through terraform-plugin-testing, once under
# Terraform (from PATH) and once under OpenTofu (built into bin/).
acceptance: tools ## Acceptance tests under Terraform and OpenTofu
ifneq ($(TERRAFORM),)
	TF_ACC=1 TF_ACC_TERRAFORM_PATH=$(TERRAFORM) $(GO) test -count=1 -timeout $(ACC_TIMEOUT) -run '^TestAcc' ./tfprotov6server/
else
	@echo "terraform is not on PATH: the acceptance tests run under OpenTofu alone"
endif
	TF_ACC=1 TF_ACC_TERRAFORM_PATH=$(BIN)/tofu TF_ACC_PROVIDER_HOST=registry.opentofu.org $(GO) test -count=1 -timeout $(ACC_TIMEOUT) -run '^TestAcc' ./tfprotov6server/

test: tools vet unit race fuzz-short acceptance ## Every test: vet, unit, integration, race, fuzz, acceptance under both CLIs

demo: tools build ## Copy a generated image between repositories of a local registry with terraform apply
	$(GO) run ./internal/demo -provider-dir $(BIN) -example $(CURDIR)/examples/demo

CRANE_VERSION    := v0.22.1

# The comparison runs registryclient and crane (a pinned tool, never imported) in fresh
# processes between two loopback registries; BENCHMARKS.md records and explains the results.
bench: tools $(BIN)/crane ## Copy speed, CPU and memory beside crane, and the parallel-transfers sweep
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) build -o $(BIN)/benchcopy ./internal/benchcopy
	$(BIN)/benchcopy -crane $(BIN)/crane -json $(BIN)/benchcopy.json

$(BIN)/crane:
	@echo "building crane $(CRANE_VERSION) into bin/ for the benchmarks (about 10 s, once)"
	cd "$${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod GOBIN=$(BIN) $(GO) install github.com/google/go-containerregistry/cmd/crane@$(CRANE_VERSION)

clean: ## Remove ./bin
	rm -rf $(BIN)

# Release files go to dist/: a zip per platform, SHA256SUMS and the registry manifest,
# byte for byte the same for anyone who builds the same commit with the same Go.
# VERSION defaults to what `git describe` finds: X.Y.Z on a clean tag vX.Y.Z, otherwise
# a -dev pre-release of the next patch (internal/release/version.go). Sign the
# SHA256SUMS afterwards (gpg --detach-sign) for the registries.
VERSION ?=
.PHONY: release
release: ## Reproducible release zips, SHA256SUMS, manifest in dist/ (VERSION=x.y.z)
	rm -rf dist
	$(GO) run ./internal/release -go $(GO) -out dist $(if $(VERSION),-version $(VERSION))

# The race detector over the packages that run concurrently for Terraform: the shared
# client, its token cache and uploads, and the server. Acceptance tests stay out (they
# need TF_ACC and run under `make acceptance`).
.PHONY: race
race: tools ## Unit and integration tests of registryclient and tfprotov6server under -race
	$(GO) test -count=1 -race -skip '^TestAcc' ./registryclient/... ./tfprotov6server/

# Fuzz targets are found, not listed: every func FuzzXxx in a _test.go file runs for
# FUZZTIME, from its seeds and the inputs kept in its package's testdata/fuzz/FuzzXxx/.
# A failing input is written there; commit it with the fix, and plain `go test` replays it.
FUZZTIME ?= 60s
.PHONY: fuzz fuzz-short
fuzz: ## Every fuzz target, FUZZTIME each (default 60s)
	@set -euo pipefail; \
	for file in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
	  for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
	    echo "fuzz $$target ($$(dirname "$$file")) for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) "$$(dirname "$$file")"; \
	  done; \
	done

fuzz-short: ## Every fuzz target for 3s (part of make test)
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s
