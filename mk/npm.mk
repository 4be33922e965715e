# The npm package (js/, `edge-authz`): Node.js API, Express, Fastify, Lambda@Edge, and the
# Worker. Builds on mk/wasm.mk (js/dist from the wasm, js/node_modules from the lockfile).

# mk/*.mk are included in name order, before wasm.mk: its variables are not set yet here.
NPM_DIR := js
NPM_CJS := $(NPM_DIR)/cjs/index.cjs
NPM_SOURCES := $(wildcard $(NPM_DIR)/src/*.js) $(wildcard $(NPM_DIR)/types/*.d.ts) $(NPM_DIR)/scripts/build-cjs.js
LAMBDA_EDGE_ZIP ?= target/lambda-edge.zip

.PHONY: npm-build npm-test npm-format-check npm-format node-bench lambda-edge-zip

# The CommonJS entry points (esbuild, a dev dependency) and the .d.cts types.
$(NPM_CJS): $(NPM_SOURCES) $(NPM_DIR)/dist/edge_authz_bg.wasm $(NPM_DIR)/node_modules/.edge-authz-installed
	cd $(NPM_DIR) && node scripts/build-cjs.js

npm-build: $(NPM_CJS)

# Express and Fastify on loopback, JWKS rotation, Lambda@Edge events, the conformance suite
# through the Node API and the Lambda@Edge handler, errors, types, `npm pack` + offline install.
# A matrix over the core's two Node backends (EDGE_AUTHZ_BACKEND, js/src/backend.js): every
# test on the wasm, then every test that runs the core again on the native addon (mk/native.mk;
# packaging and types do not depend on the backend). No native run where none is built.
NPM_TESTS := $(wildcard $(NPM_DIR)/test/npm/*.test.js)
NPM_BACKEND_NEUTRAL_TESTS := $(addprefix $(NPM_DIR)/test/npm/,pack.test.js types.test.js native-install.test.js)
npm-test: npm-build native-build
	cd $(NPM_DIR) && EDGE_AUTHZ_BACKEND=wasm node --test test/npm/*.test.js
ifneq ($(NATIVE_HOST_TAG),)
	cd $(NPM_DIR) && EDGE_AUTHZ_BACKEND=native node --test \
		$(patsubst $(NPM_DIR)/%,%,$(filter-out $(NPM_BACKEND_NEUTRAL_TESTS),$(NPM_TESTS)))
endif

# The JS formatting (prettier, a dev dependency: js/node_modules from the lockfile, as above;
# js/.prettierrc, js/.prettierignore): checked by `make lint`, applied by `make npm-format`.
NPM_FORMATTED := src test bench scripts

npm-format-check: $(NPM_DIR)/node_modules/.edge-authz-installed
	cd $(NPM_DIR) && node_modules/.bin/prettier --check $(NPM_FORMATTED)

npm-format: $(NPM_DIR)/node_modules/.edge-authz-installed
	cd $(NPM_DIR) && node_modules/.bin/prettier --write $(NPM_FORMATTED)

# First-seen and repeated-token decisions vs aws-jwt-verify and jose (a Markdown table).
node-bench: npm-build native-build
	node $(NPM_DIR)/bench/node.js

# make lambda-edge-zip CONFIG=config.json [POLICIES=policies.json|URL] [JWKS=jwks.json] [OPTIONS=options.json] [LAMBDA_EDGE_ZIP=out.zip]
lambda-edge-zip: npm-build
	@test -n "$(CONFIG)" || { echo "usage: make lambda-edge-zip CONFIG=config.json [POLICIES=...] [JWKS=...] [OPTIONS=...]"; exit 2; }
	node $(NPM_DIR)/scripts/lambda-edge-zip.js --config $(CONFIG) --out $(LAMBDA_EDGE_ZIP) \
		$(if $(POLICIES),--policies $(POLICIES)) $(if $(JWKS),--jwks $(JWKS)) $(if $(OPTIONS),--options $(OPTIONS))

EXTRA_TESTS += npm-test
EXTRA_LINTS += npm-format-check
EXTRA_BENCHES += node-bench
