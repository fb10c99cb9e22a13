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

# The CLI that the docs and the example checks run: terraform on PATH, else the
# OpenTofu built into bin/ (which only then is a prerequisite).
CLI     := $(or $(TERRAFORM),$(BIN)/tofu)
CLI_DEP := $(if $(TERRAFORM),,$(BIN)/tofu)

.DEFAULT_GOAL := help
.PHONY: help tools build test unit acceptance demo bench fmt vet clean docs docs-check examples-check

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

tools: $(BIN)/registry $(CLI_DEP) ## Build the pinned test tools into ./bin: the registry, and OpenTofu if terraform is not on PATH

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

unit: $(BIN)/registry $(BIN)/crane ## Unit and integration tests (real registries on loopback, archives the pinned crane writes; no Terraform CLI)
	$(GO) test -count=1 ./...

# The acceptance tests drive the real CLI through terraform-plugin-testing, once under
# Terraform (from PATH) and once under OpenTofu (built into bin/).
acceptance: $(BIN)/registry $(BIN)/tofu $(BIN)/crane ## Acceptance tests under Terraform and OpenTofu
ifneq ($(TERRAFORM),)
	TF_ACC=1 TF_ACC_TERRAFORM_PATH=$(TERRAFORM) $(GO) test -count=1 -timeout $(ACC_TIMEOUT) -run '^TestAcc' ./tfprotov6server/
else
	@echo "terraform is not on PATH: the acceptance tests run under OpenTofu alone"
endif
	env -u TF_CLI_CONFIG_FILE TF_ACC=1 TF_ACC_TERRAFORM_PATH=$(BIN)/tofu TF_ACC_PROVIDER_HOST=registry.opentofu.org $(GO) test -count=1 -timeout $(ACC_TIMEOUT) -run '^TestAcc' ./tfprotov6server/

# A missing tool fails the run instead of skipping tests (see internal/testregistry).
test: export IMAGESYNC_REQUIRE_TOOLS := 1
test: vet unit race fuzz-short acceptance docs-check examples-check ## Every test: vet, unit, integration, race, fuzz, acceptance under both CLIs, docs and examples

demo: $(BIN)/registry $(CLI_DEP) build ## Mirror an image and push a docker-save archive into a local registry with terraform apply, then follow a moved tag
	$(GO) run ./internal/demo -provider-dir $(BIN) -example $(CURDIR)/examples/demo

CRANE_VERSION    := v0.22.1
REGCTL_VERSION   := v0.11.7

# The comparison runs registryclient beside crane and regctl (pinned tools, never
# imported) and skopeo (when the machine has it) in fresh processes against loopback
# registries; BENCHMARKS.md records and explains the results. The push section builds a
# docker-save archive of this machine's files into bin/bench/ once, and redraws
# BENCHMARKS-push.svg.
# The scale section plans 100 and 1,000 resources with Terraform (OpenTofu without it).
# The tags section mirrors 200 tags that share their base layers, beside a regctl loop
# and skopeo sync.
bench: tools build $(BIN)/crane $(BIN)/regctl ## Copy and push speed, CPU and memory beside crane, regctl and skopeo; plans at scale; mirroring 200 tags
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) build -o $(BIN)/benchcopy ./internal/benchcopy
	$(BIN)/benchcopy -crane $(BIN)/crane -regctl $(BIN)/regctl -archive $(BIN)/bench/docker-save.tar \
		-push-chart $(CURDIR)/BENCHMARKS-push.svg -terraform $(or $(TERRAFORM),$(BIN)/tofu) -provider-dir $(BIN) \
		-json $(BIN)/benchcopy.json

$(BIN)/crane:
	@echo "building crane $(CRANE_VERSION) into bin/ for the benchmarks (about 10 s, once)"
	cd "$${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod GOBIN=$(BIN) $(GO) install github.com/google/go-containerregistry/cmd/crane@$(CRANE_VERSION)

TFPLUGINDOCS_VERSION := v0.25.0
DEV_CLI_CONFIG       := $(BIN)/dev-overrides.tfrc
# Examples that cannot be validated offline (none today).
EXAMPLES_PENDING     :=

# dev_overrides point the CLI at bin/terraform-provider-imagesync, so nothing is
# downloaded; the user's own CLI configuration is never read.
define write-dev-cli-config
	@printf 'provider_installation {\n  dev_overrides {\n    "imagesync/imagesync" = "%s"\n  }\n  direct {}\n}\n' '$(BIN)' > $(DEV_CLI_CONFIG)
endef

# The schema as `providers schema -json` prints it, keyed by the provider's short name,
# which is how tfplugindocs looks it up (the CLIs key it by registry address).
define write-providers-schema
	$(write-dev-cli-config)
	@set -euo pipefail; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	printf 'terraform {\n  required_providers {\n    imagesync = { source = "imagesync/imagesync" }\n  }\n}\n' > "$$dir/main.tf"; \
	cd "$$dir" && { TF_CLI_CONFIG_FILE=$(DEV_CLI_CONFIG) $(CLI) providers schema -json 2> err.log || { cat err.log >&2; exit 1; }; } \
	| sed 's#"registry\.[a-z.]*/imagesync/imagesync"#"imagesync"#' > $(BIN)/providers-schema.json
endef

docs: build $(BIN)/tfplugindocs $(CLI_DEP) ## Regenerate docs/ from the schemas, templates/ and examples/
	$(write-providers-schema)
	$(BIN)/tfplugindocs generate --provider-name imagesync --providers-schema $(BIN)/providers-schema.json

docs-check: build $(BIN)/tfplugindocs $(CLI_DEP) ## Fail when docs/ is not what `make docs` would write
	$(write-providers-schema)
	@set -euo pipefail; work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	cp -r templates examples "$$work"; \
	(cd "$$work" && $(BIN)/tfplugindocs generate --provider-name imagesync --providers-schema $(BIN)/providers-schema.json >/dev/null); \
	diff -ru docs "$$work/docs" || { echo "docs/ is stale: run \`make docs\` and commit the result"; exit 1; }; \
	echo "docs/ is up to date"

# Each example folder is validated on its own, in a copy, by the provider in bin/ (so
# its own checks run too); one that declares no required_providers gets
# imagesync/imagesync declared for it. There is no `init`: with dev_overrides it is not
# needed, and it would still ask registry.terraform.io about the provider, offline.
examples-check: build $(CLI_DEP) ## Validate every example against the provider in bin/, offline
	$(write-dev-cli-config)
	@set -euo pipefail; export TF_CLI_CONFIG_FILE=$(DEV_CLI_CONFIG) TF_IN_AUTOMATION=1; \
	for dir in $$(find examples -name '*.tf' -exec dirname {} \; | sort -u); do \
	  case " $(EXAMPLES_PENDING) " in *" $$dir "*) echo "skipped $$dir: it waits for features not merged yet"; continue;; esac; \
	  work=$$(mktemp -d); cp "$$dir"/*.tf "$$work"; \
	  grep -q required_providers "$$work"/*.tf || \
	    printf 'terraform {\n  required_providers {\n    imagesync = { source = "imagesync/imagesync" }\n  }\n}\n' > "$$work/providers.tf"; \
	  if (cd "$$work" && $(CLI) validate -no-color > validate.log 2>&1); then \
	    echo "valid   $$dir"; rm -rf "$$work"; \
	  else \
	    echo "INVALID $$dir:"; cat "$$work"/*.log; rm -rf "$$work"; exit 1; \
	  fi; \
	done

$(BIN)/tfplugindocs:
	@echo "building tfplugindocs $(TFPLUGINDOCS_VERSION) into bin/ for the docs (about 30 s, once)"
	cd "$${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod GOBIN=$(BIN) $(GO) install github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs@$(TFPLUGINDOCS_VERSION)

$(BIN)/regctl:
	@echo "building regctl $(REGCTL_VERSION) into bin/ for the benchmarks (about 15 s, once)"
	cd "$${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod GOBIN=$(BIN) $(GO) install github.com/regclient/regclient/cmd/regctl@$(REGCTL_VERSION)

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

# The long fault soak. `make unit` runs a short one (40 copies); this one copies
# SOAK_COPIES images through proxies that break 10% of the requests on both sides, sends
# one in ten into a fault that never clears, and prints the counts.
SOAK_COPIES ?= 1000
SOAK_SEED   ?= 1
.PHONY: soak
soak: tools ## Copy SOAK_COPIES images through 10% injected faults on both sides; print the counts
	IMAGESYNC_SOAK_COPIES=$(SOAK_COPIES) IMAGESYNC_SOAK_SEED=$(SOAK_SEED) $(GO) test -count=1 -timeout 60m -run '^TestCopiesThroughFaults$$' -v ./registryclient/
