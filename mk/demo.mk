# The demo's non-interactive mode as a test: the seed walkthrough through the Worker in
# workerd, every outcome as expected (js/scripts/demo.js --ci). Prerequisites are targets
# (cli-build in the top Makefile, wasm-build and js-deps in mk/wasm.mk), so the include
# order of mk/*.mk does not matter.

.PHONY: demo-test

demo-test: cli-build wasm-build js-deps
	node js/scripts/demo.js --ci

EXTRA_TESTS += demo-test
