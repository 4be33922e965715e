# The Node native backend (node/): the core with aws-lc-rs signatures as an N-API addon
# (napi-rs), shipped as the optional platform packages js/npm/<tag>/ (@edge-authz/<tag>),
# which `edge-authz` loads when one matches, falling back to its wasm. Plain cargo builds it:
# an N-API addon is a cdylib whose napi_* symbols node provides at load, so there is nothing
# to link against and no @napi-rs/cli step.

NATIVE_PROFILE := node-release
NATIVE_LIB := libedge_authz_node.so
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
	cp target/$(NATIVE_PROFILE)/$(NATIVE_LIB) js/npm/$(NATIVE_HOST_TAG)/edge-authz.$(NATIVE_HOST_TAG).node
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
	cp target/$(NATIVE_PROFILE)/$(NATIVE_LIB) js/npm/linux-x64-gnu/edge-authz.linux-x64-gnu.node
	cp target/$(NATIVE_ARM_TARGET)/$(NATIVE_PROFILE)/$(NATIVE_LIB) js/npm/linux-arm64-gnu/edge-authz.linux-arm64-gnu.node
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
