# edge-authz — every command a developer or CI needs. Targets install what they need,
# idempotently, so a fresh machine runs `make demo` and `make test` as they are.

CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown
# A bare-metal target proves the core really is no_std (no std sneaking in through a dependency).
NOSTD_TARGET := x86_64-unknown-none

.PHONY: all test demo bench bench-quick setup-rust lint unit nostd cli-build clean

all: test

# Each adapter (wasm/Worker, Lambda, ...) brings its own fragment in mk/, which appends its
# test target to EXTRA_TESTS, its benchmark to EXTRA_BENCHES and its checks to EXTRA_LINTS.
EXTRA_TESTS :=
EXTRA_BENCHES :=
EXTRA_LINTS :=
-include mk/*.mk

setup-rust:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)
	@rustup target list --installed | grep -qx '$(NOSTD_TARGET)' || rustup target add $(NOSTD_TARGET)
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt

# Rust formatting and clippy, and each fragment's checks (the JS formatting: mk/npm.mk).
lint: setup-rust $(EXTRA_LINTS)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --features cli -- -D warnings
	$(CARGO) clippy -p edge-authz --no-default-features --lib -- -D warnings

nostd: setup-rust
	$(CARGO) build -p edge-authz --no-default-features --target $(WASM_TARGET)
	$(CARGO) build -p edge-authz --no-default-features --features rust-crypto --target $(WASM_TARGET)
	$(CARGO) build -p edge-authz --no-default-features --target $(NOSTD_TARGET)

# Features are unified across the workspace: lambda/ turns on the core's `aws-lc`, so the
# core's tests (the Wycheproof suite among them) run on both signature backends here.
unit:
	$(CARGO) test --workspace --features cli

# The README's test command: formatting, lints, every test, and the no_std/wasm builds.
test: lint unit nostd $(EXTRA_TESTS)

cli-build:
	$(CARGO) build --release --features cli --bin edge-authz

# The seed article's walkthrough with the Worker in workerd, then serves until Ctrl-C.
# `make demo CI=1` (or CI set in the environment) runs the walkthrough only (js/scripts/demo.js).
# Targets, not variables, as prerequisites: wasm-build and js-deps come from mk/wasm.mk.
demo: cli-build wasm-build js-deps
	@node js/scripts/demo.js $(if $(filter 1 true yes,$(CI)),--ci)

# The performance table: every benchmark in turn, one process each (BENCH_STEPS, mk/bench.mk),
# each writing target/bench/*.json, then js/bench/table.js prints one Markdown table with the
# machine's description (also target/bench/table.md). A missed budget or a failed benchmark
# fails `make bench` at the end, after the table. `make bench-quick`: the same, in minutes.
bench:
	@node js/bench/table.js --start
	@failed=""; for step in $(BENCH_STEPS); do \
		printf '\n== make %s\n' "$$step"; \
		BENCH_DEFER_BUDGETS=1 $(MAKE) --no-print-directory $$step || failed="$$failed $$step"; \
	done; \
	node js/bench/table.js --failed "$$failed"

clean:
	$(CARGO) clean
