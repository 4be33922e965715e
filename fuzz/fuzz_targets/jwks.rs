//! JWKS parsing: `Jwks::parse` on arbitrary bytes must never panic, and a set that parses
//! must answer key selection for any `kid`/algorithm consistently with its keys.
#![no_main]

use edge_authz::token::jwks::{parse_jwk, KeySelection};
use edge_authz::{Algorithm, Jwks};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A single JWK must never panic either (the CLI and the bindings import single keys).
    let _ = parse_jwk(data);
    let jwks = match Jwks::parse(data) {
        Ok(jwks) => jwks,
        Err(e) => {
            let _ = e.code();
            let _ = format!("{e}");
            return;
        }
    };
    assert_eq!(jwks.len(), jwks.keys().len());
    assert_eq!(jwks.is_empty(), jwks.keys().is_empty());
    for skipped in jwks.skipped() {
        let _ = skipped.reason.code();
    }
    let mut kids: Vec<Option<&str>> = vec![None, Some(""), Some("suite-rsa-1")];
    for key in jwks.keys() {
        // A loaded key is usable: algorithms fit its material, the JWK it publishes for
        // host crypto parses back to the same key.
        assert!(!key.algorithms().is_empty());
        assert!(key
            .algorithms()
            .is_subset(key.material().compatible_algorithms()));
        if let Some(bits) = key.rsa_modulus_bits() {
            assert!((2048..=4096).contains(&bits), "RSA modulus of {bits} bits");
        }
        let again = parse_jwk(key.jwk_json().as_bytes())
            .unwrap_or_else(|e| panic!("jwk_json does not parse back: {e:?}: {}", key.jwk_json()));
        assert_eq!(again.material(), key.material());
        assert_eq!(again.algorithms(), key.algorithms());
        assert_eq!(again.kid(), key.kid());
        kids.push(key.kid());
    }
    for kid in kids {
        if let Some(kid) = kid {
            assert_eq!(
                jwks.contains_kid(kid),
                jwks.keys().iter().any(|k| k.kid() == Some(kid))
            );
        }
        for alg in Algorithm::ALL {
            match jwks.select(kid, alg) {
                KeySelection::Found(key) => {
                    assert!(
                        key.allows(alg),
                        "selected a key that does not allow {alg:?}"
                    );
                    if let Some(kid) = kid {
                        assert_eq!(key.kid(), Some(kid), "selected a key with another kid");
                    }
                }
                KeySelection::UnknownKid => {
                    assert!(kid.is_some_and(|kid| !jwks.contains_kid(kid)))
                }
                KeySelection::Ambiguous | KeySelection::NoKeyForAlgorithm => {}
            }
        }
    }
});
