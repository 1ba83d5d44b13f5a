# Surety developer entry points. `make test` is what CI runs; `make devnet` runs the system.
# Both install the pinned toolchain (Foundry + solc from npm, see package.json) first.

SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
CARGO ?= cargo

.PHONY: all tools chromium test test-contracts test-rust lint fmt bench bench-devnet devnet build

all: build

## tools: install the pinned Foundry (anvil, forge, cast) and solc from package-lock.json
tools: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@anvil --version | head -1 && forge --version | head -1
	@touch $@

## chromium: Debian's headless Chromium and its WebDriver, for the status page's browser test
## (bin/surety/tests/status_page.rs); installed with apt-get when missing
chromium:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    chromium chromium-driver; \
	fi

build: tools
	$(CARGO) build --workspace --all-targets

## test: everything CI checks — formatting and lints, forge tests, then the Rust workspace
## (unit, integration, end to end)
test: tools
	$(MAKE) lint
	$(MAKE) test-contracts
	$(MAKE) test-rust

test-contracts: tools
	cd contracts && forge build --sizes >/dev/null && forge test
	cd contracts && node script/export-artifacts.js --check

test-rust: tools chromium
	$(CARGO) test --workspace --all-targets --no-fail-fast
	$(CARGO) test --workspace --doc

## lint: also that the lean node (`surety` without the `devnet` feature) compiles cleanly and
## links no devnet-only crate (test kit, eigensdk, the EigenLayer deployer, the AWS SDK)
lint: tools
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p surety --no-default-features -- -D warnings
	deps=$$($(CARGO) tree -p surety --no-default-features -e normal --prefix none) && \
	  ! grep -i -E "aws|testkit|eigensdk|eigenlayer-contract" <<< "$$deps"
	cd contracts && forge fmt --check

fmt: tools
	$(CARGO) fmt --all
	cd contracts && forge fmt

## bench: criterion benchmarks and the forge gas report
bench: tools
	$(CARGO) bench --workspace
	cd contracts && forge test --gas-report

## devnet: the whole system live on local chains — L1 with EigenLayer + Surety, a busy L2, two
## aggregators and four operator nodes as processes, certificates landing (Ctrl-C stops)
devnet: tools
	$(CARGO) run --release --bin surety -- --log warn devnet $(DEVNET_ARGS)

## bench-devnet: devnet latency (L2 block → quorum, → certificate on L1; p50/p95) and gas per
## L2 block finalized at the default cadence, over 60 certified L2 blocks
bench-devnet: tools
	$(CARGO) run --release --bin surety -- --log warn devnet --blocks 60 --datadir target/bench-devnet
