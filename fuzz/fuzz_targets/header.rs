//! The credential locator (`Authorization: Bearer <token>`, a custom header, a cookie, or
//! API Gateway's bare `authorizationToken`) with arbitrary headers.
//!
//! Input, one item a line: the first line holds flags (`c`: a cookie `id_token` is
//! configured, `b`: `requireBearer: false`, `h`: the header is `X-Auth`); every other
//! line is a header `name: value`, or `@value` for the runtime-given credential.
//!
//! Invariants: never panics; a located token is a non-empty RFC 6750 b64token taken from
//! the request; the `Authorization` header path agrees with an independent model of the
//! rules; the authorizer answers 401 exactly when the locator fails, with its reason.
#![no_main]

use std::sync::OnceLock;

use edge_authz::{Authorizer, Config, CredentialError, CredentialSource, Outcome, Request, Step};
use libfuzzer_sys::fuzz_target;

fn is_b64token(t: &str) -> bool {
    let body = t.trim_end_matches('=');
    !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c))
}

/// The header rules, written independently of src/credentials.rs.
fn model_header(value: &str, require_bearer: bool) -> Result<&str, CredentialError> {
    let parts: Vec<&str> = value.split([' ', '\t']).filter(|p| !p.is_empty()).collect();
    let candidate = match parts.as_slice() {
        [] => return Err(CredentialError::Missing),
        [scheme, token] if scheme.eq_ignore_ascii_case("bearer") => *token,
        [token] if !require_bearer => *token,
        _ => return Err(CredentialError::Malformed),
    };
    if is_b64token(candidate) {
        Ok(candidate)
    } else {
        Err(CredentialError::Malformed)
    }
}

fn configs() -> &'static Vec<Config> {
    static A: OnceLock<Vec<Config>> = OnceLock::new();
    A.get_or_init(|| {
        (0..8)
            .map(|flags: u8| {
                let credentials = serde_json::json!({
                    "header": if flags & 4 != 0 { "X-Auth" } else { "authorization" },
                    "cookie": if flags & 1 != 0 { Some("id_token") } else { None },
                    "requireBearer": flags & 2 == 0,
                });
                let config = serde_json::json!({
                    "issuers": [{"issuer": "https://issuer.example/", "audience": null,
                        "jwksUri": "https://issuer.example/jwks"}],
                    "credentials": credentials,
                    "policies": {"groups": {}},
                    "cache": {"tokens": 16, "decisions": 16},
                });
                Config::from_json(&config.to_string())
                    .expect("config")
                    .config
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let flags_line = lines.next().unwrap_or("");
    let flags = u8::from(flags_line.contains('c'))
        | (u8::from(flags_line.contains('b')) << 1)
        | (u8::from(flags_line.contains('h')) << 2);
    let mut credential = None;
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for line in lines.take(64) {
        if let Some(value) = line.strip_prefix('@') {
            credential = Some(value);
        } else {
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            headers.push((name, value.strip_prefix(' ').unwrap_or(value)));
        }
    }
    let source = CredentialSource {
        header: String::from(if flags & 4 != 0 {
            "x-auth"
        } else {
            "authorization"
        }),
        cookie: (flags & 1 != 0).then(|| String::from("id_token")),
        require_bearer: flags & 2 == 0,
    };
    let request = Request {
        headers: &headers,
        credential,
        ..Request::new("GET", "/petstore/v1/pets")
    };
    let located = source.extract(&request);
    if let Ok(token) = located {
        assert!(is_b64token(token), "not a b64token: {token:?}");
        let from_request = credential.is_some_and(|c| c.contains(token))
            || headers.iter().any(|(_, v)| v.contains(token));
        assert!(from_request, "token {token:?} is not in the request");
    }
    // The runtime-given credential replaces the headers.
    if let Some(c) = credential {
        let alone = Request {
            credential: Some(c),
            matching: None,
            ..Request::new("GET", "/")
        };
        assert_eq!(located, source.extract(&alone));
        assert_eq!(
            located,
            model_header(c, source.require_bearer),
            "credential {c:?}"
        );
    } else {
        let mut named = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(&source.header));
        match (named.next(), named.next()) {
            (Some((_, value)), None) => {
                let expected = model_header(value, source.require_bearer);
                assert_eq!(located, expected, "header value {value:?}");
            }
            (Some(_), Some(_)) => assert_eq!(located, Err(CredentialError::Malformed)),
            (None, _) if source.cookie.is_none() => {
                assert_eq!(located, Err(CredentialError::Missing))
            }
            (None, _) => {}
        }
    }

    // The authorizer with the same source: 401 exactly when the locator fails.
    let mut authorizer = Authorizer::new(configs()[usize::from(flags)].clone());
    match (authorizer.authorize(&request, 1_767_225_600), located) {
        (Step::Decided(d), Err(e)) => {
            assert_eq!(d.outcome, Outcome::Unauthorized);
            assert_eq!(d.reason, e.code());
        }
        (Step::Decided(d), Ok(_)) => {
            assert!(!d.is_allowed());
            assert_ne!(
                d.outcome,
                Outcome::Unauthorized,
                "401 ({}) for a located token",
                d.reason
            );
        }
        (Step::Need(need), Err(e)) => panic!("{need:?} for a request without a token ({e:?})"),
        (Step::Need(_), Ok(_)) => {}
    }
});
