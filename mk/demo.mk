# The demo's non-interactive mode as a test: the seed walkthrough through the Worker in
# workerd, every outcome as expected (js/scripts/demo.js --ci). Prerequisites are targets
# (wasm-build and js-deps in mk/wasm.mk), so the include order of mk/*.mk does not matter.

.PHONY: demo-test

# The debug CLI from the same build selection as `make unit` (nothing recompiles), not the
# release build `make demo` makes: the walkthrough is the test, not the CLI's speed.
demo-test: wasm-build js-deps
	$(CARGO) build --workspace --features cli --bins
	EDGE_AUTHZ_BIN=$(CURDIR)/target/debug/edge-authz node js/scripts/demo.js --ci

EXTRA_TESTS += demo-test
