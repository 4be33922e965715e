# The Node native backend (node/): the core with aws-lc-rs signatures as an N-API addon
# (napi-rs), shipped as the optional platform packages js/npm/<tag>/ (@edge-authz/<tag>),
# which `edge-authz` loads when one matches, falling back to its wasm. Plain cargo builds it:
# an N-API addon is a cdylib whose napi_* symbols node provides at load, so there is nothing
# to link against and no @napi-rs/cli step.

NATIVE_PROFILE := node-release
NATIVE_LIB := libedge_authz_node.so
# Where cargo puts its builds: CARGO_TARGET_DIR when set (a worktree sharing a build dir).
NATIVE_TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
NATIVE_ARM_TARGET := aarch64-unknown-linux-gnu
# This machine's platform tag (js/src/backend.js `platformTag`); empty where no package is built.
NATIVE_HOST_TAG := $(if $(filter Linux,$(shell uname -s)),$(patsubst x86_64,linux-x64-gnu,$(patsubst aarch64,linux-arm64-gnu,$(filter x86_64 aarch64,$(shell uname -m)))))
NATIVE_SOURCES := $(wildcard node/src/*.rs) node/Cargo.toml node/build.rs $(shell find src -name '*.rs') Cargo.toml Cargo.lock

.PHONY: native-build native-packages native-check

# The addon for this machine, into its platform package's folder (what the tests load).
native-build:
ifeq ($(NATIVE_HOST_TAG),)
	@echo "no native package for $$(uname -s) $$(uname -m): the npm package runs its wasm here"
else
	$(CARGO) build -p edge-authz-node --profile $(NATIVE_PROFILE)
	cp $(NATIVE_TARGET_DIR)/$(NATIVE_PROFILE)/$(NATIVE_LIB) js/npm/$(NATIVE_HOST_TAG)/edge-authz.$(NATIVE_HOST_TAG).node
	@$(MAKE) --no-print-directory native-check NATIVE_FILE=js/npm/$(NATIVE_HOST_TAG)/edge-authz.$(NATIVE_HOST_TAG).node
endif

# Both platform packages, built on an x86_64 Linux machine: the arm64 addon cross-linked with
# Debian's aarch64 gcc, as the Lambda zips are (mk/lambda.mk). Then `npm pack js/npm/<tag>`.
native-packages:
	@rustup target list --installed | grep -qx '$(NATIVE_ARM_TARGET)' || rustup target add $(NATIVE_ARM_TARGET)
	@command -v aarch64-linux-gnu-gcc >/dev/null || (apt-get update -qq && apt-get install -y -qq gcc-aarch64-linux-gnu)
	$(CARGO) build -p edge-authz-node --profile $(NATIVE_PROFILE)
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
	  $(CARGO) build -p edge-authz-node --profile $(NATIVE_PROFILE) --target $(NATIVE_ARM_TARGET)
	cp $(NATIVE_TARGET_DIR)/$(NATIVE_PROFILE)/$(NATIVE_LIB) js/npm/linux-x64-gnu/edge-authz.linux-x64-gnu.node
	cp $(NATIVE_TARGET_DIR)/$(NATIVE_ARM_TARGET)/$(NATIVE_PROFILE)/$(NATIVE_LIB) js/npm/linux-arm64-gnu/edge-authz.linux-arm64-gnu.node
	@for tag in linux-x64-gnu linux-arm64-gnu; do \
		$(MAKE) --no-print-directory native-check NATIVE_FILE=js/npm/$$tag/edge-authz.$$tag.node || exit 1; \
	done

# glibc 2.34 at most (Amazon Linux 2023, Debian 12, Ubuntu 22.04 and later): an addon needing
# a newer one would fail to load there (and `edge-authz` would fall back to its wasm).
native-check:
	@newest=$$(objdump -T $(NATIVE_FILE) | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1); \
	echo "$(NATIVE_FILE): $$(stat -c %s $(NATIVE_FILE)) bytes, needs $$newest"; \
	test "$$(printf '%s\n' "$$newest" GLIBC_2.34 | sort -V | tail -n 1)" = GLIBC_2.34 \
		|| { echo "$(NATIVE_FILE) needs $$newest, newer than GLIBC_2.34"; exit 1; }

# The arm64 package run for real on this x86_64 machine: Debian's arm64 Node.js (with its
# libraries, into target/arm64-node/) under qemu-user, loading the cross-built addon from its
# package folder, over the backend test (every JWS algorithm, native against wasm) and the
# conformance suite. Minutes (emulated RSA): not part of `make test`.
ARM64_NODE_ROOT := target/arm64-node
ARM64_NODE_PACKAGES := nodejs libnode108 libuv1 libssl3 libicu72 libc-ares2 libnghttp2-14 libbrotli1 zlib1g \
	libstdc++6 libgcc-s1 libc6 libcrypt1
ARM64_NODE_DATA := node-acorn node-cjs-module-lexer node-undici node-xtend node-busboy
ARM64_NODE := qemu-aarch64-static -L $(CURDIR)/$(ARM64_NODE_ROOT) $(CURDIR)/$(ARM64_NODE_ROOT)/usr/bin/node

.PHONY: native-arm64-test
native-arm64-test: native-packages npm-build
	@command -v qemu-aarch64-static >/dev/null || (apt-get update -qq && apt-get install -y -qq qemu-user-static)
	@test -x $(ARM64_NODE_ROOT)/usr/bin/node || { \
		dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; }; \
		mkdir -p $(ARM64_NODE_ROOT)/debs && cd $(ARM64_NODE_ROOT)/debs && \
		apt-get download $(addsuffix :arm64,$(ARM64_NODE_PACKAGES)) $(ARM64_NODE_DATA) && \
		for deb in *.deb; do dpkg -x $$deb ..; done; }
	$(ARM64_NODE) -p '`$${process.arch} node $${process.version}`'
	@# Each file run directly: the test runner would start its children without qemu.
	cd $(NPM_DIR) && for test in test/npm/backend.test.js test/npm/conformance-node.test.js; do \
		EDGE_AUTHZ_BACKEND=native $(ARM64_NODE) $$test > ../$(ARM64_NODE_ROOT)/$$(basename $$test).tap 2>&1; \
		status=$$?; grep -E '^# (pass|fail)' ../$(ARM64_NODE_ROOT)/$$(basename $$test).tap; \
		test $$status -eq 0 || { tail -40 ../$(ARM64_NODE_ROOT)/$$(basename $$test).tap; exit 1; }; \
	done

# What a release publishes: both platform packages freshly built, and `edge-authz` naming them
# as optional dependencies, as tarballs in target/npm/ (`npm publish <tarball>` each, the
# platform packages first). stage-npm.js refuses to stage with a platform missing.
.PHONY: npm-stage
npm-stage: native-packages npm-build
	node js/scripts/stage-npm.js --out target/npm
