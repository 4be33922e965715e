# `make bench`'s steps (the rule itself is in the top Makefile): the criterion benches, every
# adapter's benchmark (EXTRA_BENCHES, from the other fragments), the Worker in workerd and the
# sizes. Each writes its results to target/bench/*.json; js/bench/table.js makes the table.
# BENCH_QUICK=1 (or `make bench-quick`): short criterion runs and small counts everywhere.

BENCH_DIR := target/bench
# The Lambda@Edge zip measured by the bench: the demo's configuration, its policies bundled.
BENCH_EDGE_CONFIG := demo/config.json
BENCH_EDGE_ZIP := $(BENCH_DIR)/lambda-edge.zip
BENCH_CRITERION_ARGS := --noplot $(if $(filter 1 true yes,$(BENCH_QUICK)),--warm-up-time 0.5 --measurement-time 1 --sample-size 10)
# In this order, one at a time: the native core, the adapters' benches (lambda, node, wasm
# under Node), the Worker in workerd next to its Node twin, then the sizes.
BENCH_STEPS = criterion-bench $(EXTRA_BENCHES) workerd-bench bench-sizes

.PHONY: bench-quick criterion-bench workerd-bench bench-sizes

bench-quick:
	@BENCH_QUICK=1 $(MAKE) --no-print-directory bench

# benches/authorize.rs (first-seen, first-seen overhead, repeated) and benches/policy.rs (50×20).
criterion-bench:
	$(CARGO) bench -p edge-authz --bench authorize --bench policy -- $(BENCH_CRITERION_ARGS)

# The Worker's authorization path in workerd itself (Miniflare), CPU read from /proc.
workerd-bench: wasm-build js-deps
	node js/bench/workerd.js

# The wasm's gzipped size and a Lambda@Edge zip built by `make lambda-edge-zip`.
bench-sizes: wasm-build
	$(MAKE) --no-print-directory lambda-edge-zip CONFIG=$(BENCH_EDGE_CONFIG) LAMBDA_EDGE_ZIP=$(BENCH_EDGE_ZIP)
	node js/bench/sizes.js --zip $(BENCH_EDGE_ZIP) --zip-from "make lambda-edge-zip CONFIG=$(BENCH_EDGE_CONFIG)"
