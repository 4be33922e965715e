# The native Lambda authorizer (lambda/). Targets install what they need, idempotently:
# a Python venv under target/ with moto's DynamoDB server and cfn-lint (from PyPI), the
# aarch64 Rust target and Debian's cross linker for the release zips.

LAMBDA_VENV := target/lambda-venv
LAMBDA_PY := $(LAMBDA_VENV)/bin/python
LAMBDA_MOTO := $(LAMBDA_VENV)/bin/moto_server
LAMBDA_CFN_LINT := $(LAMBDA_VENV)/bin/cfn-lint
# aws-sam-cli in a venv of its own (its pins of boto3 and cfn-lint are not moto's).
SAM_VENV := target/sam-venv
LAMBDA_SAM := $(SAM_VENV)/bin/sam
LAMBDA_OUT := target/lambda-zip
# Release builds for the zips: their own target dir (no churn for the CLI's release build),
# tuned for size without touching the workspace profiles.
LAMBDA_BUILD_DIR := target/lambda-build
LAMBDA_PROFILE_ENV := CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_TARGET_DIR=$(LAMBDA_BUILD_DIR)
LAMBDA_ARM_TARGET := aarch64-unknown-linux-gnu

.PHONY: lambda-tools lambda-test lambda-zip lambda-bench lambda-bins-x86_64 lambda-bins-aarch64 \
	build-AuthorizerFunction build-RevokerFunction lambda-sam-test

$(LAMBDA_MOTO) $(LAMBDA_CFN_LINT):
	@test -x $(LAMBDA_PY) || python3 -m venv $(LAMBDA_VENV)
	$(LAMBDA_PY) -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6' 'cfn-lint>=1,<2'
	@touch $(LAMBDA_MOTO) $(LAMBDA_CFN_LINT)

lambda-tools: $(LAMBDA_MOTO) $(LAMBDA_CFN_LINT)

$(LAMBDA_SAM):
	@test -x $(SAM_VENV)/bin/python || python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'aws-sam-cli>=1.120,<2'
	@touch $(LAMBDA_SAM)

# The Lambda tests that need moto_server (marked #[ignore] so that the workspace's plain
# `cargo test` does not need the venv), the Lambda as shipped, and the template's lint.
# `unit` (a prerequisite, so once per make run) builds and runs every other Lambda test with
# `--workspace --features cli`. The same selection here reuses that build as it is, where
# `-p edge-authz-lambda` unified features differently and rebuilt ~75 crates, the AWS SDK
# among them; `--ignored` runs just the ignored tests (`--tests`: no doctests). The shipped
# feature set (the core without `rust-crypto`, as lambda-zip builds it) is compile-checked.
lambda-test: lambda-tools unit
	MOTO_SERVER=$(CURDIR)/$(LAMBDA_MOTO) $(CARGO) test --workspace --features cli --tests -- --ignored
	$(CARGO) check -p edge-authz-lambda --lib --bins
	$(LAMBDA_CFN_LINT) -c I -- lambda/template.yaml

# provided.al2023 has glibc 2.34: a binary needing a newer glibc symbol would fail at cold start.
define lambda_glibc_check
	@for bin in $(1); do \
		newest=$$(objdump -T $$bin | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1); \
		echo "$$bin needs $$newest"; \
		test "$$(printf '%s\n' "$$newest" GLIBC_2.34 | sort -V | tail -n 1)" = GLIBC_2.34 \
			|| { echo "$$bin needs $$newest, newer than provided.al2023's GLIBC_2.34"; exit 1; }; \
	done
endef

# Both binaries for one architecture, release (fat LTO, one codegen unit, stripped), in
# $(LAMBDA_BUILD_DIR)/[TRIPLE/]release/.
lambda-bins-x86_64:
	$(LAMBDA_PROFILE_ENV) $(CARGO) build -p edge-authz-lambda --bin bootstrap --bin revoker --release
	$(call lambda_glibc_check,$(LAMBDA_BUILD_DIR)/release/bootstrap $(LAMBDA_BUILD_DIR)/release/revoker)

lambda-bins-aarch64:
	@rustup target list --installed | grep -qx '$(LAMBDA_ARM_TARGET)' || rustup target add $(LAMBDA_ARM_TARGET)
	@command -v aarch64-linux-gnu-gcc >/dev/null || (apt-get update -qq && apt-get install -y -qq gcc-aarch64-linux-gnu)
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
	  $(LAMBDA_PROFILE_ENV) $(CARGO) build -p edge-authz-lambda --bin bootstrap --bin revoker --release --target $(LAMBDA_ARM_TARGET)
	$(call lambda_glibc_check,$(LAMBDA_BUILD_DIR)/$(LAMBDA_ARM_TARGET)/release/bootstrap $(LAMBDA_BUILD_DIR)/$(LAMBDA_ARM_TARGET)/release/revoker)

# bootstrap.zip (the authorizer) and revoker.zip (the revoker, as the `bootstrap` its runtime
# runs) for x86_64 and aarch64 (provided.al2023).
lambda-zip: lambda-bins-x86_64 lambda-bins-aarch64
	@command -v zip >/dev/null || (apt-get update -qq && apt-get install -y -qq zip)
	@mkdir -p $(LAMBDA_OUT)/x86_64/revoker $(LAMBDA_OUT)/aarch64/revoker
	cp $(LAMBDA_BUILD_DIR)/release/bootstrap $(LAMBDA_OUT)/x86_64/bootstrap
	cp $(LAMBDA_BUILD_DIR)/release/revoker $(LAMBDA_OUT)/x86_64/revoker/bootstrap
	cp $(LAMBDA_BUILD_DIR)/$(LAMBDA_ARM_TARGET)/release/bootstrap $(LAMBDA_OUT)/aarch64/bootstrap
	cp $(LAMBDA_BUILD_DIR)/$(LAMBDA_ARM_TARGET)/release/revoker $(LAMBDA_OUT)/aarch64/revoker/bootstrap
	cd $(LAMBDA_OUT)/x86_64 && rm -f bootstrap.zip && zip -q -9 bootstrap.zip bootstrap
	cd $(LAMBDA_OUT)/aarch64 && rm -f bootstrap.zip && zip -q -9 bootstrap.zip bootstrap
	@# The revoker's zip holds it as `bootstrap`, the name provided.al2023 runs.
	cd $(LAMBDA_OUT)/x86_64/revoker && rm -f ../revoker.zip && zip -q -9 ../revoker.zip bootstrap
	cd $(LAMBDA_OUT)/aarch64/revoker && rm -f ../revoker.zip && zip -q -9 ../revoker.zip bootstrap
	@ls -l $(LAMBDA_OUT)/*/bootstrap.zip $(LAMBDA_OUT)/*/revoker.zip

# `sam build` (lambda/template.yaml: `BuildMethod: makefile`, `ContextPath` and
# `WorkingDirectory` the repository root) runs `make --makefile Makefile build-<LogicalId>`
# here with ARTIFACTS_DIR set: each function's binary, as the `bootstrap` provided.al2023
# runs, for the template's architecture. SAM_ARCH: `aarch64` (the template's `arm64`) or
# `x86_64`. LAMBDA_SAM_PROFILE=debug: the host's debug build instead (the tests: minutes
# less than a cold release build; not for deploying).
SAM_ARCH ?= aarch64
LAMBDA_SAM_PROFILE ?= release
ifeq ($(LAMBDA_SAM_PROFILE),debug)
LAMBDA_SAM_BINS := $(or $(CARGO_TARGET_DIR),target)/debug
# The features `unit` builds with: after it, this only links.
lambda-sam-bins:
	$(CARGO) build --workspace --features cli --bin bootstrap --bin revoker
else
LAMBDA_SAM_BINS := $(LAMBDA_BUILD_DIR)/$(if $(filter aarch64,$(SAM_ARCH)),$(LAMBDA_ARM_TARGET)/)release
lambda-sam-bins: lambda-bins-$(SAM_ARCH)
endif
.PHONY: lambda-sam-bins

build-AuthorizerFunction: lambda-sam-bins
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)"
	cp $(LAMBDA_SAM_BINS)/bootstrap "$(ARTIFACTS_DIR)/bootstrap"

build-RevokerFunction: lambda-sam-bins
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)"
	cp $(LAMBDA_SAM_BINS)/revoker "$(ARTIFACTS_DIR)/bootstrap"

# `sam build` of lambda/template.yaml as a user runs it, offline (no network namespace when
# `unshare` allows one; telemetry off), with the debug binaries (LAMBDA_SAM_PROFILE=debug;
# a cold release cross-build takes minutes, `make lambda-zip` covers it): both functions
# built by their make targets, the built template pointing at them, and each `bootstrap`
# the authorizer or the revoker (run without configuration, each names what it misses).
SAM_OUT := target/sam-build
lambda-sam-test: $(LAMBDA_SAM) unit
	rm -rf $(SAM_OUT)
	$$(unshare -rn true 2>/dev/null && echo unshare -rn) env SAM_CLI_TELEMETRY=0 LAMBDA_SAM_PROFILE=debug CARGO_NET_OFFLINE=true \
	  $(LAMBDA_SAM) build --template-file lambda/template.yaml --build-dir $(SAM_OUT)
	grep -q 'CodeUri: AuthorizerFunction' $(SAM_OUT)/template.yaml
	grep -q 'CodeUri: RevokerFunction' $(SAM_OUT)/template.yaml
	@for fn in AuthorizerFunction RevokerFunction; do \
		test -x $(SAM_OUT)/$$fn/bootstrap || { echo "$$fn: no executable bootstrap"; exit 1; }; \
		test "$$(ls $(SAM_OUT)/$$fn)" = bootstrap || { echo "$$fn: more than bootstrap: $$(ls $(SAM_OUT)/$$fn)"; exit 1; }; \
	done
	env -i PATH="$$PATH" $(SAM_OUT)/AuthorizerFunction/bootstrap 2>&1 | grep -q 'POLICY_TABLE' || { echo "AuthorizerFunction/bootstrap is not the authorizer"; exit 1; }
	env -i PATH="$$PATH" $(SAM_OUT)/RevokerFunction/bootstrap 2>&1 | grep -q 'REVOCATION_TABLE' || { echo "RevokerFunction/bootstrap is not the revoker"; exit 1; }
	@echo "sam build: both functions built by make, offline"

lambda-bench:
	@command -v openssl >/dev/null || (apt-get update -qq && apt-get install -y -qq openssl)
	$(CARGO) bench -p edge-authz-lambda --bench lambda

EXTRA_TESTS += lambda-test lambda-sam-test
EXTRA_BENCHES += lambda-bench
