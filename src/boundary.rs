//! The JavaScript boundary's vocabulary, defined once: the step codes the wasm answers with,
//! the matching flags it reads, and the reason codes and outcomes. The JavaScript constants
//! (`js/src/core-codes.js`) and the TypeScript types (`js/types/core.d.ts`) are generated
//! from here by this module's test, which fails when a checked-in copy is stale
//! (`UPDATE_GENERATED=1 cargo test -p edge-authz --lib boundary` rewrites them).
//!
//! The JavaScript backends (wasm and the Node addon) answer `authorize` with one packed
//! number (`src/binding.rs`): `code % 8` is the step kind; for a decision, `floor(code / 8) % 256` the verdict id and
//! `floor(code / 2048)` the caller id. The JavaScript layer (`js/src/authorizer.js`) turns
//! it into the typed step; nothing else sees it.

/// Step kinds, `code % 8`, with their JavaScript names.
#[cfg(test)]
const STEP_KINDS: &[(&str, u8)] = &[
    ("decided", KIND_DECIDED),
    ("fetchJwks", KIND_FETCH_JWKS),
    ("awaitJwks", KIND_AWAIT_JWKS),
    ("loadPolicies", KIND_LOAD_POLICIES),
    ("checkSignature", KIND_CHECK_SIGNATURE),
    ("decidedRewritten", KIND_DECIDED_REWRITTEN),
    ("loadRevocations", KIND_LOAD_REVOCATIONS),
];
/// A decision.
pub(crate) const KIND_DECIDED: u8 = 0;
/// `Need::FetchJwks`.
pub(crate) const KIND_FETCH_JWKS: u8 = 1;
/// `Need::AwaitJwks`.
pub(crate) const KIND_AWAIT_JWKS: u8 = 2;
/// `Need::LoadPolicies`.
pub(crate) const KIND_LOAD_POLICIES: u8 = 3;
/// `Need::CheckSignature`.
pub(crate) const KIND_CHECK_SIGNATURE: u8 = 4;
/// A decision made for a rewritten path (the canonical one is `path()`).
pub(crate) const KIND_DECIDED_REWRITTEN: u8 = 5;
/// `Need::LoadRevocations`.
pub(crate) const KIND_LOAD_REVOCATIONS: u8 = 6;

/// `Request.matching` bit flags, with their JavaScript names.
#[cfg(test)]
const MATCHING_FLAGS: &[(&str, u8)] = &[
    ("caseInsensitive", MATCH_CASE_INSENSITIVE),
    ("stripTrailingSlash", MATCH_STRIP_TRAILING_SLASH),
    ("mergeSlashes", MATCH_MERGE_SLASHES),
];
/// Paths matched case-insensitively.
pub(crate) const MATCH_CASE_INSENSITIVE: u8 = 1;
/// A trailing slash ignored.
pub(crate) const MATCH_STRIP_TRAILING_SLASH: u8 = 2;
/// Runs of slashes merged.
pub(crate) const MATCH_MERGE_SLASHES: u8 = 4;

/// The verdict id meaning "read `verdict()`, do not keep it" (the intern table is full).
pub(crate) const VERDICT_UNCACHED: u8 = 255;

/// Reads `Request.matching` flags.
pub(crate) fn matching_of(flags: u8) -> crate::PathMatching {
    crate::PathMatching {
        case_sensitive: flags & MATCH_CASE_INSENSITIVE == 0,
        strip_trailing_slash: flags & MATCH_STRIP_TRAILING_SLASH != 0,
        merge_slashes: flags & MATCH_MERGE_SLASHES != 0,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use alloc::format;
    use alloc::string::{String, ToString};
    use std::path::Path;

    use super::*;
    use crate::{Outcome, Reason};

    const HEADER: &str = "Generated from the Rust core (src/boundary.rs) by \
        `UPDATE_GENERATED=1 cargo test -p edge-authz --lib boundary`: do not edit.";

    const OUTCOMES: &[Outcome] = &[
        Outcome::Allow,
        Outcome::Unauthorized,
        Outcome::Forbidden,
        Outcome::Unavailable,
        Outcome::BadRequest,
    ];

    fn pascal(code: &str) -> String {
        code.split('_')
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect()
    }

    fn javascript() -> String {
        let mut out = format!("// {HEADER}\n\n");
        let entries = |pairs: &[(&str, u8)]| {
            pairs
                .iter()
                .map(|(name, code)| format!("{name}: {code}"))
                .collect::<std::vec::Vec<_>>()
                .join(", ")
        };
        out += "/** Step kinds of the core's `authorize` code (`code % 8`). */\n";
        out += &format!(
            "export const STEP = Object.freeze({{ {} }});\n",
            entries(STEP_KINDS)
        );
        out += "/** `Request.matching` bit flags. */\n";
        out += &format!(
            "export const MATCHING = Object.freeze({{ {} }});\n",
            entries(MATCHING_FLAGS)
        );
        out += "/** The verdict id meaning \"read `verdict()`, do not keep it\". */\n";
        out += &format!("export const VERDICT_UNCACHED = {VERDICT_UNCACHED};\n");
        out += "/** Every reason code, in the core's order (`responseFor` takes the index). */\n";
        let codes: std::vec::Vec<String> = Reason::ALL
            .iter()
            .map(|r| format!("\"{}\"", r.code()))
            .collect();
        out += &format!(
            "export const REASON_CODES = Object.freeze([{}]);\n",
            codes.join(", ")
        );
        out += "/** Every reason code, with the outcome it belongs to. */\n";
        out += "export const REASONS = Object.freeze({\n";
        for reason in Reason::ALL {
            out += &format!("  {}: \"{}\",\n", reason.code(), reason.outcome().as_str());
        }
        out += "});\n";
        let headers = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(name, value)| format!("\"{name}\": \"{value}\""))
                .collect::<std::vec::Vec<_>>()
                .join(", ")
        };
        out += "/** The headers of every denial (`Rendered.headers`), and of a 401. */\n";
        out += &format!(
            "export const DENIAL_HEADERS = Object.freeze({{ {} }});\n",
            headers(crate::decision::DENIAL_HEADERS)
        );
        out += &format!(
            "export const UNAUTHORIZED_HEADERS = Object.freeze({{ {} }});\n",
            headers(crate::decision::UNAUTHORIZED_HEADERS)
        );
        let unavailable = crate::Responses::default().unavailable.body;
        out += "/** The default `unavailable` body, for a failure before any configuration is read. */\n";
        out += &format!(
            "export const UNAVAILABLE_BODY = {};\n",
            serde_json::Value::from(unavailable)
        );
        out += "/** The largest JWK Set the core accepts (bytes): a fetcher reads no more. */\n";
        out += &format!(
            "export const MAX_JWKS_BYTES = {};\n",
            crate::token::jwks::MAX_JWKS_BYTES
        );
        out
    }

    fn typescript() -> String {
        let mut out = format!("// {HEADER}\n\n");
        out += "/** What to do with a request. */\n";
        out += "export type Outcome =\n";
        for outcome in OUTCOMES {
            out += &format!("  | \"{}\"\n", outcome.as_str());
        }
        out.pop();
        out += ";\n\n";
        out += "/** Why a request was decided as it was: a stable code for logs and metrics (never sent to the client). */\n";
        out += "export type Reason =\n";
        for reason in Reason::ALL {
            out += &format!(
                "  /** {} */\n  | \"{}\"\n",
                reason.describe(),
                reason.code()
            );
        }
        out.pop();
        out += ";\n";
        for outcome in OUTCOMES {
            out += &format!(
                "\n/** The reasons of outcome `{}`. */\nexport type {}Reason = ",
                outcome.as_str(),
                pascal(outcome.as_str())
            );
            let codes: std::vec::Vec<String> = Reason::ALL
                .iter()
                .filter(|r| r.outcome() == *outcome)
                .map(|r| format!("\"{}\"", r.code()))
                .collect();
            out += &codes.join(" | ");
            out += ";\n";
        }
        out
    }

    /// Compares `generated` with the checked-in file, or rewrites it with `UPDATE_GENERATED=1`.
    fn check(relative: &str, generated: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        if std::env::var_os("UPDATE_GENERATED").is_some() {
            std::fs::write(&path, generated).unwrap();
            return;
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == generated,
            "{relative} is stale: run `UPDATE_GENERATED=1 cargo test -p edge-authz --lib boundary`"
        );
    }

    #[test]
    fn the_generated_javascript_and_typescript_are_current() {
        check("js/src/core-codes.js", &javascript());
        check("js/types/core.d.ts", &typescript());
    }

    #[test]
    fn codes_fit_their_fields() {
        for (_, kind) in STEP_KINDS {
            assert!(*kind < 8);
        }
        for (i, (_, flag)) in MATCHING_FLAGS.iter().enumerate() {
            assert_eq!(*flag, 1 << i);
        }
        let all = MATCH_CASE_INSENSITIVE | MATCH_STRIP_TRAILING_SLASH | MATCH_MERGE_SLASHES;
        let matching = matching_of(all);
        assert!(
            !matching.case_sensitive && matching.strip_trailing_slash && matching.merge_slashes
        );
        assert!(matching_of(0).case_sensitive);
    }
}
