# Load (issues 9 and 16): the Worker in workerd, and an Express app behind edge-authz on each
# backend, behind a verify-only aws-jwt-verify middleware and behind nothing, on 127.0.0.1
# under wrk for LOAD_SECONDS at a fixed concurrency, with a mix of valid, expired, forged,
# tampered, unknown-kid, garbage, missing and unauthorised credentials. Every response is
# checked against its expected status behind that authorizer; exits non-zero on any wrong
# answer, any socket error, or RSS growth past LOAD_RSS_GROWTH_PCT between 10 s and the end.
# Not part of `make test` (minutes, and a quiet machine wanted). Details: js/bench/load/README.md.
#
#   make load                       # the Worker and the four Express rows, 60 s each
#   make load-express               # the four Express rows: none, aws-jwt-verify, native, wasm
#   make load-worker LOAD_SECONDS=10
#   make load-node LOAD_CONNECTIONS=16   # edge-authz under Express on the backend `auto` picks
#
# Prerequisites are targets (wasm-build and js-deps in mk/wasm.mk, npm-build in mk/npm.mk,
# native-build in mk/native.mk), so the include order of mk/*.mk does not matter.

LOAD_SECONDS ?= 60
# Concurrency: open connections, each with one request in flight.
LOAD_CONNECTIONS ?= 8
# wrk threads: must equal LOAD_CONNECTIONS (one connection per thread is how the Lua checker
# pairs each response with its request); set it only to make that explicit.
LOAD_THREADS ?= $(LOAD_CONNECTIONS)
# Distinct tokens per signed kind of request (distinct callers).
LOAD_TOKENS ?= 250
# RSS growth allowed between 10 s and the end of the run, in percent.
LOAD_RSS_GROWTH_PCT ?= 20

LOAD_RUN = node js/bench/load/run.js --seconds $(LOAD_SECONDS) --connections $(LOAD_CONNECTIONS) \
	--threads $(LOAD_THREADS) --tokens $(LOAD_TOKENS) --rss-growth-pct $(LOAD_RSS_GROWTH_PCT)

.PHONY: load load-express load-worker load-node load-wrk

# wrk from the Debian package, once.
load-wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

# Everything in one run (one after the other, never concurrently), one table: the Worker, then
# Express alone, + aws-jwt-verify, + edge-authz native, + edge-authz wasm.
load: load-wrk wasm-build npm-build native-build js-deps
	$(LOAD_RUN) --target all

# What an app pays (issue 16): the four Express rows side by side.
load-express: load-wrk wasm-build npm-build native-build js-deps
	$(LOAD_RUN) --target express

load-worker: load-wrk wasm-build npm-build js-deps
	$(LOAD_RUN) --target worker

load-node: load-wrk wasm-build npm-build native-build js-deps
	$(LOAD_RUN) --target node
