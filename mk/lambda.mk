# The native Lambda authorizer (lambda/). Targets install what they need, idempotently:
# a Python venv under target/ with moto's DynamoDB server and cfn-lint (from PyPI), the
# aarch64 Rust target and Debian's cross linker for the release zips.

LAMBDA_VENV := target/lambda-venv
LAMBDA_PY := $(LAMBDA_VENV)/bin/python
LAMBDA_MOTO := $(LAMBDA_VENV)/bin/moto_server
LAMBDA_CFN_LINT := $(LAMBDA_VENV)/bin/cfn-lint
LAMBDA_OUT := target/lambda-zip
# Release builds for the zips: their own target dir (no churn for the CLI's release build),
# tuned for size without touching the workspace profiles.
LAMBDA_BUILD_DIR := target/lambda-build
LAMBDA_PROFILE_ENV := CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_TARGET_DIR=$(LAMBDA_BUILD_DIR)
LAMBDA_ARM_TARGET := aarch64-unknown-linux-gnu

.PHONY: lambda-tools lambda-test lambda-zip lambda-bench

$(LAMBDA_MOTO) $(LAMBDA_CFN_LINT):
	@test -x $(LAMBDA_PY) || python3 -m venv $(LAMBDA_VENV)
	$(LAMBDA_PY) -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6' 'cfn-lint>=1,<2'
	@touch $(LAMBDA_MOTO) $(LAMBDA_CFN_LINT)

lambda-tools: $(LAMBDA_MOTO) $(LAMBDA_CFN_LINT)

# Every Lambda test, including those needing moto_server (marked #[ignore] so that the
# workspace's plain `cargo test` does not need the venv), and the template's lint.
lambda-test: lambda-tools
	MOTO_SERVER=$(CURDIR)/$(LAMBDA_MOTO) $(CARGO) test -p edge-authz-lambda -- --include-ignored
	$(LAMBDA_CFN_LINT) lambda/template.yaml

# bootstrap.zip for x86_64 and aarch64 (provided.al2023): fat LTO, one codegen unit, stripped.
lambda-zip:
	@rustup target list --installed | grep -qx '$(LAMBDA_ARM_TARGET)' || rustup target add $(LAMBDA_ARM_TARGET)
	@command -v aarch64-linux-gnu-gcc >/dev/null || (apt-get update -qq && apt-get install -y -qq gcc-aarch64-linux-gnu)
	@command -v zip >/dev/null || (apt-get update -qq && apt-get install -y -qq zip)
	$(LAMBDA_PROFILE_ENV) $(CARGO) build -p edge-authz-lambda --bin bootstrap --release
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
	  $(LAMBDA_PROFILE_ENV) $(CARGO) build -p edge-authz-lambda --bin bootstrap --release --target $(LAMBDA_ARM_TARGET)
	@mkdir -p $(LAMBDA_OUT)/x86_64 $(LAMBDA_OUT)/aarch64
	cp $(LAMBDA_BUILD_DIR)/release/bootstrap $(LAMBDA_OUT)/x86_64/bootstrap
	cp $(LAMBDA_BUILD_DIR)/$(LAMBDA_ARM_TARGET)/release/bootstrap $(LAMBDA_OUT)/aarch64/bootstrap
	cd $(LAMBDA_OUT)/x86_64 && rm -f bootstrap.zip && zip -q -9 bootstrap.zip bootstrap
	cd $(LAMBDA_OUT)/aarch64 && rm -f bootstrap.zip && zip -q -9 bootstrap.zip bootstrap
	@ls -l $(LAMBDA_OUT)/*/bootstrap.zip

lambda-bench:
	@command -v openssl >/dev/null || (apt-get update -qq && apt-get install -y -qq openssl)
	$(CARGO) bench -p edge-authz-lambda --bench lambda

EXTRA_TESTS += lambda-test
EXTRA_BENCHES += lambda-bench
