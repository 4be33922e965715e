# The wasm build and the Cloudflare Worker (js/). Every target installs what it needs,
# idempotently: the wasm32 target, wasm-bindgen-cli of exactly Cargo.lock's wasm-bindgen
# version, and js/node_modules (npm ci from the committed lockfile, only when stale).

JS_DIR := js
WASM_DIST := $(JS_DIR)/dist
WASM_PROFILE := wasm-release
WASM_RAW := target/$(WASM_TARGET)/$(WASM_PROFILE)/edge_authz.wasm
WASM_OUT := $(WASM_DIST)/edge_authz_bg.wasm
WASM_CARGO_FLAGS := --target $(WASM_TARGET) --no-default-features --features wasm
WASM_SOURCES := $(shell find src -name '*.rs') Cargo.toml Cargo.lock
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' Cargo.lock)
JS_STAMP := $(JS_DIR)/node_modules/.edge-authz-installed

.PHONY: wasm-bindgen-cli js-deps wasm-build wasm-unit wasm-js-test wasm-test wasm-bench worker-dev worker-seed-kv

wasm-bindgen-cli: setup-rust
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
		echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (a few minutes)"; \
		$(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --locked \
		|| $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); \
	fi

$(JS_STAMP): $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	cd $(JS_DIR) && npm ci --no-audit --no-fund
	@touch $@

js-deps: $(JS_STAMP)

# cargo rustc builds the cdylib without making every native build of the crate one.
$(WASM_OUT): $(WASM_SOURCES) $(JS_STAMP) | wasm-bindgen-cli
	$(CARGO) rustc -p edge-authz --lib --profile $(WASM_PROFILE) $(WASM_CARGO_FLAGS) --crate-type cdylib
	wasm-bindgen --target web --out-dir $(WASM_DIST) --out-name edge_authz $(WASM_RAW)
	$(JS_DIR)/node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers --strip-target-features \
		$(WASM_OUT) -o $(WASM_OUT).opt
	mv $(WASM_OUT).opt $(WASM_OUT)

wasm-build: $(WASM_OUT)

# The bindings' tests (src/wasm.rs) under Node, and clippy on the wasm-only code.
# In target/ like every other build: units of other profiles, targets or features are kept
# side by side there (nothing is invalidated), and the host build scripts and proc macros
# already built are reused.
wasm-unit: wasm-bindgen-cli
	$(CARGO) clippy -p edge-authz --lib $(WASM_CARGO_FLAGS) -- -D warnings
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
		$(CARGO) test -p edge-authz --lib $(WASM_CARGO_FLAGS)

# The glue, the size budget, and the Worker end to end in workerd (Miniflare).
wasm-js-test: wasm-build
	cd $(JS_DIR) && node --test test/*.test.js

wasm-test: wasm-unit wasm-js-test

# CPU per request of the wasm + glue + WebCrypto under Node (see js/README.md).
wasm-bench: wasm-build
	node $(JS_DIR)/bench/authorize.js

# `wrangler dev --env dev` on 127.0.0.1:8787 with the local KV seeded with the seed's policy.
# wrangler runs from the repository root, where wrangler.toml is and where its [build] command
# (`make wasm-build`) finds this Makefile; `npm run dev` in js/ does the same (`--cwd ..`).
worker-seed-kv: wasm-build
	node $(JS_DIR)/scripts/seed-kv.js

worker-dev: worker-seed-kv
	$(JS_DIR)/node_modules/.bin/wrangler dev --env dev --ip 127.0.0.1 --port 8787

EXTRA_TESTS += wasm-test
EXTRA_BENCHES += wasm-bench
