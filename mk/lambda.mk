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
	$(LAMBDA_CFN_LINT) lambda/template.yaml

# bootstrap.zip (the authorizer) and revoker.zip (the revoker, as the `bootstrap` its runtime
# runs) for x86_64 and aarch64 (provided.al2023): fat LTO, one codegen unit, stripped.
lambda-zip:
	@rustup target list --installed | grep -qx '$(LAMBDA_ARM_TARGET)' || rustup target add $(LAMBDA_ARM_TARGET)
	@command -v aarch64-linux-gnu-gcc >/dev/null || (apt-get update -qq && apt-get install -y -qq gcc-aarch64-linux-gnu)
	@command -v zip >/dev/null || (apt-get update -qq && apt-get install -y -qq zip)
	$(LAMBDA_PROFILE_ENV) $(CARGO) build -p edge-authz-lambda --bin bootstrap --bin revoker --release
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
	  $(LAMBDA_PROFILE_ENV) $(CARGO) build -p edge-authz-lambda --bin bootstrap --bin revoker --release --target $(LAMBDA_ARM_TARGET)
	@mkdir -p $(LAMBDA_OUT)/x86_64/revoker $(LAMBDA_OUT)/aarch64/revoker
	cp $(LAMBDA_BUILD_DIR)/release/bootstrap $(LAMBDA_OUT)/x86_64/bootstrap
	cp $(LAMBDA_BUILD_DIR)/release/revoker $(LAMBDA_OUT)/x86_64/revoker/bootstrap
	cp $(LAMBDA_BUILD_DIR)/$(LAMBDA_ARM_TARGET)/release/bootstrap $(LAMBDA_OUT)/aarch64/bootstrap
	cp $(LAMBDA_BUILD_DIR)/$(LAMBDA_ARM_TARGET)/release/revoker $(LAMBDA_OUT)/aarch64/revoker/bootstrap
	@# provided.al2023 has glibc 2.34: a symbol from a newer glibc would fail at cold start.
	@for bin in x86_64/bootstrap aarch64/bootstrap x86_64/revoker/bootstrap aarch64/revoker/bootstrap; do \
		newest=$$(objdump -T $(LAMBDA_OUT)/$$bin | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1); \
		echo "$$bin needs $$newest"; \
		test "$$(printf '%s\n' "$$newest" GLIBC_2.34 | sort -V | tail -n 1)" = GLIBC_2.34 \
			|| { echo "$$bin needs $$newest, newer than provided.al2023's GLIBC_2.34"; exit 1; }; \
	done
	cd $(LAMBDA_OUT)/x86_64 && rm -f bootstrap.zip && zip -q -9 bootstrap.zip bootstrap
	cd $(LAMBDA_OUT)/aarch64 && rm -f bootstrap.zip && zip -q -9 bootstrap.zip bootstrap
	@# The revoker's zip holds it as `bootstrap`, the name provided.al2023 runs.
	cd $(LAMBDA_OUT)/x86_64/revoker && rm -f ../revoker.zip && zip -q -9 ../revoker.zip bootstrap
	cd $(LAMBDA_OUT)/aarch64/revoker && rm -f ../revoker.zip && zip -q -9 ../revoker.zip bootstrap
	@ls -l $(LAMBDA_OUT)/*/bootstrap.zip $(LAMBDA_OUT)/*/revoker.zip

lambda-bench:
	@command -v openssl >/dev/null || (apt-get update -qq && apt-get install -y -qq openssl)
	$(CARGO) bench -p edge-authz-lambda --bench lambda

EXTRA_TESTS += lambda-test
EXTRA_BENCHES += lambda-bench
