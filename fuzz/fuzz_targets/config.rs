//! Configuration parsing: `Config::from_json` on arbitrary text must never panic; a
//! configuration that loads must build an authorizer that answers requests.
#![no_main]

use edge_authz::{Authorizer, Config, Need, Request, Step};
use edge_authz_fuzz::b64;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let loaded = match Config::from_json(text) {
        Ok(loaded) => loaded,
        Err(errors) => {
            assert!(!errors.0.is_empty(), "an error without a message");
            let _ = errors.code();
            let _ = errors.to_string();
            return;
        }
    };
    let config = loaded.config;
    assert!(!config.issuers.is_empty());
    for issuer in &config.issuers {
        assert!(!issuer.algorithms.is_empty());
        assert!(
            issuer.jwks_uri.starts_with("https://") || issuer.jwks_uri.starts_with("http://"),
            "jwksUri {}",
            issuer.jwks_uri
        );
    }
    let mut authorizer = Authorizer::new(config.clone());
    // A token of the first issuer: verifying it needs that issuer's keys.
    let payload = serde_json::json!({ "iss": config.issuers[0].issuer, "sub": "alice" });
    let token = format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(br#"{"alg":"RS256","kid":"k"}"#),
        b64(payload.to_string().as_bytes())
    );
    let bearer = format!("Bearer {token}");
    let headers = [
        ("authorization", bearer.as_str()),
        (config.credentials.header.as_str(), bearer.as_str()),
    ];
    let one = &headers[..1];
    for headers in [&[][..], one, &headers[..]] {
        let request = Request {
            headers,
            ..Request::new("GET", "/petstore/v1/pets")
        };
        let step = authorizer.authorize(&request, 1_767_225_600);
        match &step {
            Step::Decided(decision) => {
                assert!(!decision.is_allowed(), "allowed without a valid token");
                let _ = authorizer.render(decision);
                let _ = authorizer.api_gateway_policy(decision, &request, 1_767_225_600);
            }
            Step::Need(Need::FetchJwks { issuer, url }) => {
                assert_eq!(config.issuers[*issuer].jwks_uri, *url);
            }
            // The fetch asked for by the previous request is still in flight.
            Step::Need(Need::AwaitJwks { issuer }) => assert!(*issuer < config.issuers.len()),
            Step::Need(need) => panic!("unexpected need before any key: {need:?}"),
        }
    }
    // Round trip through the loader's view of itself is not public; the warnings must print.
    for w in &loaded.warnings {
        assert!(!w.is_empty());
    }
});
