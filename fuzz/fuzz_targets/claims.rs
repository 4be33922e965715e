//! The strict one-pass claims reader (`Claims`, src/token/object.rs) against serde_json:
//! the parser it replaced (serde_json with a duplicate-refusing, depth-limited visitor, kept
//! in tests/support/claims_reference.rs with the claim rules as they read its map), on
//! arbitrary bytes.
//!
//! Input: the bytes of a token payload (or header), as decoded from base64url.
//!
//! Invariants: never panics; `Claims` accepts exactly the documents the reference accepts;
//! on those, its serde_json view is the reference's map, every member reads the same
//! through `get`, `get_str` and `contains_key`, and every issuer of the reference gives the
//! same answer (identity or error) through `Issuer::check` at every clock.
#![no_main]

use edge_authz::token::Claims;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/claims_reference.rs"]
mod reference;

use reference::{issuers, old_check, old_parse, NOWS};

fuzz_target!(|data: &[u8]| {
    let old = old_parse(data);
    let new = Claims::from_slice(data);
    assert_eq!(
        old.is_some(),
        new.is_some(),
        "acceptance differs (reference {}) on {:?}",
        if old.is_some() { "accepts" } else { "refuses" },
        String::from_utf8_lossy(data)
    );
    let (Some(old), Some(new)) = (old, new) else {
        return;
    };
    assert_eq!(&old, new.map());
    assert_eq!(new.as_json().as_bytes(), data);
    for (name, value) in &old {
        assert_eq!(new.get(name), Some(value), "member {name:?}");
        assert!(new.contains_key(name), "member {name:?}");
        assert_eq!(new.get_str(name), value.as_str(), "member {name:?}");
    }
    assert_eq!(
        new.contains_key("absent claim"),
        old.contains_key("absent claim")
    );
    for issuer in issuers() {
        for (now, grace) in NOWS {
            assert_eq!(
                issuer.check(&new, now, grace),
                old_check(&issuer, &old, now, grace),
                "{:?} at {now} (grace {grace})",
                String::from_utf8_lossy(data)
            );
        }
    }
});
