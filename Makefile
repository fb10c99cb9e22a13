# Every target installs what it needs into ./bin (pinned, built from Go modules) and then
# works offline. `make help` lists them.
SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)
export CHECKPOINT_DISABLE := 1

REGISTRY_VERSION := v3.1.2
TOFU_VERSION     := v1.12.6
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

test: tools vet unit acceptance ## Every test: vet, unit, integration, acceptance under both CLIs

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

# The long fault soak. `make unit` runs a short one (40 copies); this one copies
# SOAK_COPIES images through proxies that break 10% of the requests on both sides, sends
# one in ten into a fault that never clears, and prints the counts.
SOAK_COPIES ?= 1000
SOAK_SEED   ?= 1
.PHONY: soak
soak: tools ## Copy SOAK_COPIES images through 10% injected faults on both sides; print the counts
	IMAGESYNC_SOAK_COPIES=$(SOAK_COPIES) IMAGESYNC_SOAK_SEED=$(SOAK_SEED) $(GO) test -count=1 -timeout 60m -run '^TestCopiesThroughFaults$$' -v ./registryclient/
