# `make fuzz`: every cargo-fuzz target (fuzz/fuzz_targets/*.rs, nightly) for FUZZ_SECONDS
# each, one after another, seeded from the test suite (fuzz/seeds.py writes fuzz/corpus/).
# Not part of `make test`.
#   make fuzz FUZZ_TARGETS="token header" FUZZ_SECONDS=60   # some targets, briefly
#   make fuzz FUZZ_ARGS="-seed=1 -jobs=2"                   # extra libFuzzer flags
# Each run's log is fuzz/logs/TARGET.log; a crash leaves its input in fuzz/artifacts/TARGET/
# (replay: cd fuzz && cargo +nightly fuzz run TARGET artifacts/TARGET/crash-...; minimise:
# cargo +nightly fuzz tmin TARGET artifacts/TARGET/crash-...). The figures of every run
# (executions, exec/s, cov, ft, corpus) are tabled at the end by fuzz/stats.py.

FUZZ_TARGETS ?= token claims jwks policy config header request_path authorizer
FUZZ_SECONDS ?= 600
FUZZ_ARGS ?=

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-stats

fuzz-build:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	cd fuzz && $(CARGO) +nightly fuzz build

fuzz-seeds:
	python3 fuzz/seeds.py $(FUZZ_TARGETS)

# Every target runs even when one crashes; the rule fails at the end if any did.
fuzz: fuzz-build fuzz-seeds
	@mkdir -p fuzz/logs; failed=; \
	for t in $(FUZZ_TARGETS); do \
	  dict=; \
	  case $$t in authorizer) ;; header) dict=-dict=dicts/header.dict ;; request_path) dict=-dict=dicts/path.dict ;; *) dict=-dict=dicts/json.dict ;; esac; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  ( cd fuzz && $(CARGO) +nightly fuzz run $$t corpus/$$t -- \
	      -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -timeout=20 $$dict $(FUZZ_ARGS); \
	    echo $$? > logs/$$t.rc ) 2>&1 | tee fuzz/logs/$$t.log; \
	  [ "$$(cat fuzz/logs/$$t.rc)" = 0 ] || failed="$$failed $$t"; \
	done; \
	python3 fuzz/stats.py $(FUZZ_TARGETS); \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed (inputs in fuzz/artifacts/)"; exit 1; fi

# The table of the last runs' figures.
fuzz-stats:
	@python3 fuzz/stats.py $(FUZZ_TARGETS)
