# Salesforce connector: build, test, lint and run the Lambda functions locally.
# `make help` lists the targets. CI runs .ci/run, which calls `make lint build test fuzz`.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Lambda runs the functions on arm64 (template.yaml); `make build GOARCH=amd64`
# builds for an x86-64 host instead.
GOARCH ?= arm64
GO_BUILD_FLAGS := -trimpath -tags lambda.norpc -ldflags='-s -w'

# Every functions/<name>/main.go is one Lambda function.
FUNCTIONS := $(sort $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go)))
BOOTSTRAPS := $(FUNCTIONS:%=build/%/bootstrap)

# Pinned tools. The emulator is what `sam local invoke` runs inside its
# container; staticcheck v0.8.2 is the first release built for Go 1.26.
RIE := bin/aws-lambda-rie
RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
NODE_MODULES := local/js/node_modules
ASL_FILES := $(wildcard statemachine/*.asl.json)

# Go packages that `make test` covers: make test PKGS=./local/...
PKGS ?= ./...

# make test writes the fault matrix (shared/connector TestFaultMatrix) here and
# prints it. make fuzz runs each Go fuzz target for this many inputs: a count,
# not a duration, because Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a duration runs out while a worker is busy
# (golang/go#75804, fixed in Go 1.27); on a loaded 2-core machine it did.
MATRIX := build/fault-matrix.md
FUZZTIME ?= 20000x

# make demo DEMO_FLAGS=-keep leaves the org, moto and the functions running.
DEMO_FLAGS ?=

# make invoke FN=get [EVENT=events/get.json] [ENV_VARS=events/env.json]
FN ?=
EVENT ?= events/$(FN).json
ENV_VARS ?= events/env.json

.PHONY: help build test fuzz lint deps invoke demo bench soak clean distclean tools FORCE

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[A-Za-z%_-]+:.*## / {printf "  %-20s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: $(BOOTSTRAPS) ## build/<name>/bootstrap for every functions/<name> (GOARCH=arm64; GOARCH=amd64 for an x86-64 host)
	@$(if $(FUNCTIONS),:,echo "make build: no functions/<name>/main.go yet, nothing to build")

# Always handed to go build, whose cache knows better than file times whether
# anything changed (and GOARCH may differ from the last build).
build/%/bootstrap: FORCE
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) go build $(GO_BUILD_FLAGS) -o $@ ./functions/$*

# `sam build` runs `make build-<LogicalId>` with ARTIFACTS_DIR set for every
# function whose Metadata says BuildMethod: makefile. local/js/template.test.js
# checks that each function in template.yaml has its target here.
build-CreateFunction: ; $(call sam_artifact,create)
build-GetFunction: ; $(call sam_artifact,get)
build-UpdateFunction: ; $(call sam_artifact,update)
build-DeleteFunction: ; $(call sam_artifact,delete)
build-QueryFunction: ; $(call sam_artifact,query)
build-UpsertFunction: ; $(call sam_artifact,upsert)
build-ApprovalSubmitFunction: ; $(call sam_artifact,approval-submit)
build-ApprovalListFunction: ; $(call sam_artifact,approval-list)
build-ApprovalApproveFunction: ; $(call sam_artifact,approval-approve)
build-ApprovalRejectFunction: ; $(call sam_artifact,approval-reject)
build-CustomObjectCreateFunction: ; $(call sam_artifact,custom-object-create)
build-CollectionFunction: ; $(call sam_artifact,collection)
build-CompositeFunction: ; $(call sam_artifact,composite)
build-BulkIngestStartFunction: ; $(call sam_artifact,bulk-ingest-start)
build-BulkJobStatusFunction: ; $(call sam_artifact,bulk-job-status)
build-BulkIngestFinishFunction: ; $(call sam_artifact,bulk-ingest-finish)
build-BulkQueryStartFunction: ; $(call sam_artifact,bulk-query-start)
build-BulkQueryFinishFunction: ; $(call sam_artifact,bulk-query-finish)

define sam_artifact
@test -n "$(ARTIFACTS_DIR)" || { echo "$@: ARTIFACTS_DIR is not set (this target is meant for sam build)" >&2; exit 2; }
$(MAKE) --no-print-directory build/$(1)/bootstrap GOARCH=$(GOARCH)
cp build/$(1)/bootstrap "$(ARTIFACTS_DIR)/bootstrap"
endef

tools: $(RIE) $(NODE_MODULES) ## install the pinned Runtime Interface Emulator into ./bin and the Node packages

$(RIE):
	GOBIN=$(CURDIR)/bin go install $(RIE_MODULE)

$(NODE_MODULES): local/js/package.json local/js/package-lock.json
	cd local/js && npm ci --no-audit --no-fund
	@touch $@

test: $(RIE) $(NODE_MODULES) ## go test -race -shuffle=on ./... (or PKGS=...), prints the fault matrix, then the Node tests in local/js
	@rm -f $(MATRIX)
	FAULT_MATRIX=$(CURDIR)/$(MATRIX) go test -race -shuffle=on $(PKGS)
	@if [ -f $(MATRIX) ]; then printf '\nFault matrix (shared/connector TestFaultMatrix):\n\n'; cat $(MATRIX); echo; fi
	cd local/js && npm test

# Every `func FuzzXxx` in a _test.go file is a target; make test already runs
# their seed corpora (testdata/fuzz) as ordinary tests.
fuzz: ## run each Go fuzz target for FUZZTIME inputs (default 20000x)
	@for file in $$(grep -rlE --include='*_test.go' --exclude-dir=node_modules '^func Fuzz[A-Za-z0-9_]*\(' shared local integration); do \
		for fn in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$$file"); do \
			echo "go test -run='^$$' -fuzz='^$$fn$$' -fuzztime=$(FUZZTIME) ./$$(dirname $$file)"; \
			go test -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) "./$$(dirname $$file)" || exit 1; \
		done; \
	done

lint: $(NODE_MODULES) deps ## gofmt, go vet, staticcheck, cfn-lint template.yaml, asl-validator, the dependency check
	@unformatted=$$(find . -name '*.go' -not -path './local/js/node_modules/*' -not -path './.aws-sam/*' -not -path './build/*' -print0 | xargs -0 gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l reports:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is missing (pip install cfn-lint)" >&2; exit 1; }
	cfn-lint template.yaml
	$(NODE_MODULES)/.bin/asl-validator $(addprefix --json-path ,$(ASL_FILES))

# The functions link only shared/ (beside the standard library and the
# modules of go.mod), and every package of shared/ is linked by a function:
# shared/ is exactly what is deployed.
deps: ## check that the functions link only shared/ and that shared/ holds only what they link
	@mod=$$(go list -m); \
	linked=$$(go list -deps ./functions/... | grep "^$$mod/" | grep -v "^$$mod/functions/"); \
	outside=$$(echo "$$linked" | grep -v "^$$mod/shared/" || true); \
	unlinked=$$(go list ./shared/... | grep -vxF "$$linked" || true); \
	if [ -n "$$outside" ]; then echo "the functions link packages outside shared/:"; echo "$$outside"; fi; \
	if [ -n "$$unlinked" ]; then echo "shared/ holds packages no function links (move them out of shared/):"; echo "$$unlinked"; fi; \
	test -z "$$outside$$unlinked" && echo "deps: the functions link $$(echo "$$linked" | wc -l) packages of shared/, and nothing else of this module"

invoke: $(RIE) ## run one function under the emulator: make invoke FN=get [EVENT=events/get.json] [ENV_VARS=events/env.json]
	@test -n "$(FN)" || { echo "usage: make invoke FN=<name> [EVENT=events/<file>.json] [ENV_VARS=events/env.json]; names: $(FUNCTIONS)" >&2; exit 2; }
	go run ./local/invoke -fn $(FN) -event $(EVENT) -env-vars $(ENV_VARS)

demo: $(RIE) ## the story through every function under the emulator, secret in moto, local org: make demo [DEMO_FLAGS="-keep -v"]
	go run ./local/demo $(DEMO_FLAGS)

# make bench BENCH_FLAGS=-quick for a smoke run; bench/cmd/bench -h lists the rounds.
BENCH_FLAGS ?=

bench: $(RIE) $(NODE_MODULES) ## the benchmark suite: connector vs the floor (bench/floor) and jsforce, side by side; prints the table of BENCHMARKS.md (~2 min)
	go run ./bench/cmd/bench $(BENCH_FLAGS)

# make soak SOAK_FLAGS=-quick for a smoke run; bench/cmd/soak -h lists the flags.
SOAK_FLAGS ?=

soak: $(RIE) ## the chaos soak of exactly-once writes: 10,000 invokes of the write functions under the emulator with random faults, then a reconciliation against the org (BENCHMARKS.md)
	go run ./bench/cmd/soak $(SOAK_FLAGS)

clean: ## remove build output
	rm -rf build .aws-sam

distclean: clean ## also remove the installed tools (./bin, local/js/node_modules)
	rm -rf bin $(NODE_MODULES)

FORCE:
