//! Request integrity: the canonical path is a fixpoint, the decision for the forwarded path
//! is the decision made, and what API Gateway's cache can reuse never allows more than the
//! core would. Properties over generated paths, plus the configuration rules.

mod support;

use edge_authz::token::crypto::RustCryptoVerifier;
use edge_authz::{
    canonical_path, Authorizer, DotSegments, EscapedSlashes, Need, Outcome, PathMatching,
    PathRules, Request, Step,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use support::{jwks_document, sign_token, suite_keys};

const NOW: u64 = 1_767_225_600;
const POOL: &str = "us-east-1_Integrity1";
const API: &str = "arn:aws:execute-api:us-east-1:123456789012:petstore1/prod/";

/// Path pieces chosen to hit every rule: letters of both cases, escapes of letters, of
/// structural characters and of controls, dots, slashes, `;`, `\`, non-ASCII.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a", "A", "admin", "ADMIN", "v2", "pets", "petstore", "%61", "%41", "%2e", "%2E", "%2f",
        "%2F", "%5c", "%25", "%2561", "%3f", "%23", "%3b", "%00", "%0a", "%7f", "%20", "%c3%a9",
        "%ff", "%", "%6", ".", "..", "/", "//", ";", "\\", "#", " ", "é", "~", "+", "%2B", ":",
        "@", "*", "?", "x.",
    ])
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..10).prop_map(|pieces| format!("/{}", pieces.concat()))
}

fn matching() -> impl Strategy<Value = PathMatching> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(c, s, m)| PathMatching {
        case_sensitive: c,
        strip_trailing_slash: s,
        merge_slashes: m,
    })
}

fn rules() -> impl Strategy<Value = PathRules> {
    (matching(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(m, d, e, s)| PathRules {
        matching: m,
        dot_segments: if d {
            DotSegments::Resolve
        } else {
            DotSegments::Reject
        },
        escaped_slashes: if e {
            EscapedSlashes::Keep
        } else {
            EscapedSlashes::Reject
        },
        keep_semicolons: s,
        max_path_bytes: 8192,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// What is forwarded is canonical: made canonical again it stays as it is, and it is
    /// matched as the original was.
    #[test]
    fn the_forwarded_path_is_a_fixpoint(path in path(), rules in rules()) {
        if let Ok(first) = canonical_path(&path, &rules, rules.matching) {
            let forwarded = first.forward.clone().unwrap_or_else(|| path.split('?').next().unwrap_or("").to_owned());
            let again = canonical_path(&forwarded, &rules, rules.matching)
                .unwrap_or_else(|e| panic!("{path:?} forwarded as {forwarded:?} is refused: {e}"));
            prop_assert_eq!(&again.matched, &first.matched, "{:?} -> {:?}", path, forwarded);
            prop_assert_eq!(again.forward, None, "{:?} -> {:?} is not a fixpoint", path, forwarded);
            // What reaches the origin is plain ASCII with only the escapes kept.
            prop_assert!(forwarded.bytes().all(|b| b.is_ascii_graphic()), "{:?}", forwarded);
        }
    }

    /// The matched path never holds what the rules refuse.
    #[test]
    fn refused_forms_never_reach_the_matcher(path in path(), rules in rules()) {
        if let Ok(c) = canonical_path(&path, &rules, rules.matching) {
            let m = &c.matched;
            prop_assert!(m.starts_with('/'));
            prop_assert!(!m.contains('#') && !m.contains('\\') && !m.contains('?'));
            prop_assert!(!m.chars().any(char::is_control));
            // Merged or refused: never an empty segment.
            prop_assert!(!m.contains("//"), "{:?} -> {:?}", path, m);
            prop_assert!(!m.split('/').any(|s| s == "." || s == ".."), "{:?} -> {:?}", path, m);
            if !rules.keep_semicolons {
                prop_assert!(!m.contains(';') && !m.to_ascii_lowercase().contains("%3b"));
            }
            if rules.escaped_slashes == EscapedSlashes::Reject {
                let lower = m.to_ascii_lowercase();
                prop_assert!(!lower.contains("%2f") && !lower.contains("%5c"));
            }
            if !rules.matching.case_sensitive {
                prop_assert_eq!(m.to_lowercase(), m.clone());
            }
        }
    }
}

/// A policy with an Allow of the whole API and Denies of one route, for GET only.
fn config(request: Value, cache: Option<Value>) -> Value {
    let mut config = json!({
        "issuers": [{"userPoolId": POOL, "tokenUse": "access", "clientId": ["c"], "jwksUri": "http://127.0.0.1:9/jwks.json"}],
        "api": {"region": "us-east-1", "accountId": "123456789012", "apiId": "petstore1", "stage": "prod"},
        "request": request,
        "policies": {"groups": {"staff": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": format!("{API}*/petstore/*")},
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": [
                format!("{API}GET/petstore/v2/admin"), format!("{API}GET/petstore/v2/admin/*")]}
        ]}}}
    });
    if let Some(cache) = cache {
        config["apiGatewayCache"] = cache;
    }
    config
}

fn token() -> String {
    let claims = json!({"sub": "u-1", "iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}"),
        "token_use": "access", "client_id": "c", "iat": NOW - 10, "exp": NOW + 3600,
        "cognito:groups": ["staff"], "username": "u"});
    sign_token(&suite_keys(), "suite-rsa-1", None, &claims, false)
}

/// The core's decision for one request, fetching the suite's JWKS when asked.
fn decide(authorizer: &mut Authorizer, request: &Request<'_>) -> edge_authz::Decision {
    let jwks = jwks_document(&suite_keys(), &["suite-rsa-1".into()]);
    for _ in 0..8 {
        match authorizer.authorize(request, NOW) {
            Step::Decided(decision) => return decision,
            Step::Need(Need::FetchJwks { issuer, .. }) => {
                authorizer.jwks_fetched(issuer, &jwks, NOW).expect("jwks");
            }
            Step::Need(other) => panic!("unexpected need {other:?}"),
        }
    }
    panic!("no decision");
}

fn authorizer(config: &Value) -> Authorizer {
    let (authorizer, _) = Authorizer::from_json(&config.to_string()).expect("config");
    authorizer.with_verifier(std::sync::Arc::new(RustCryptoVerifier))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Deciding the forwarded path gives the decision made for the original.
    #[test]
    fn the_forwarded_path_is_decided_as_the_original(
        path in path(),
        head in any::<bool>(),
        request_rules in (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    ) {
        let (ci, strip, merge, resolve) = request_rules;
        let config = config(json!({"caseSensitive": !ci, "trailingSlash": if strip {"strip"} else {"keep"},
            "mergeSlashes": merge, "dotSegments": if resolve {"resolve"} else {"reject"}}), None);
        let mut authorizer = authorizer(&config);
        let bearer = format!("Bearer {}", token());
        let headers = [("authorization", bearer.as_str())];
        let method = if head { "HEAD" } else { "GET" };
        let first = decide(&mut authorizer, &Request { headers: &headers, ..Request::new(method, &path) });
        if first.outcome == Outcome::BadRequest {
            return Ok(());
        }
        let forwarded = first.forward_path().unwrap_or(&path).to_owned();
        let second = decide(&mut authorizer, &Request { headers: &headers, ..Request::new(method, &forwarded) });
        prop_assert_eq!(first.outcome, second.outcome, "{} {:?} -> {:?}", method, path, forwarded);
        prop_assert_eq!(first.reason, second.reason);
        prop_assert_eq!(second.forward_path(), None);
    }
}

#[test]
fn every_admin_variant_is_denied_or_refused() {
    let variants = [
        "/petstore/v2/admin",
        "/petstore/v2/admin/",
        "/petstore/v2/admin/x",
        "/petstore/v2/%61dmin",
        "/petstore/v2/adm%69n",
        "/petstore/v2/%61%64%6d%69%6e",
        "/petstore/v2/%61%64%6D%69%6E/",
        "/petstore/v2/admin#x",
        "/petstore/v2/admin;x",
        "/petstore/v2/admin.",
        "/petstore/v2/admin%2e",
        "/petstore/v2/admin%20",
        "/petstore/v2//admin",
        "/petstore//v2/admin",
        "/petstore/v2/./admin",
        "/petstore/v1/../v2/admin",
        "/petstore/v1/%2e%2e/v2/admin",
        "/petstore/v2%2fadmin",
        "/petstore/v2\\admin",
        "/petstore/v2/%2561dmin",
        "/petstore/v2/admin%00",
        "/petstore/v2/admin?x",
    ];
    for lenient in [false, true] {
        let request = if lenient {
            json!({"caseSensitive": false, "trailingSlash": "strip", "mergeSlashes": true, "dotSegments": "resolve"})
        } else {
            json!({})
        };
        let mut authorizer = authorizer(&config(request, None));
        let bearer = format!("Bearer {}", token());
        let headers = [("authorization", bearer.as_str())];
        for method in ["GET", "HEAD", "get"] {
            for path in variants
                .iter()
                .map(|p| p.to_string())
                .chain(lenient.then(|| "/PetStore/V2/ADMIN".to_owned()))
            {
                let d = decide(
                    &mut authorizer,
                    &Request {
                        headers: &headers,
                        ..Request::new(method, &path)
                    },
                );
                assert!(
                    matches!(d.outcome, Outcome::Forbidden | Outcome::BadRequest),
                    "{method} {path:?} (lenient {lenient}): {}",
                    d.explain()
                );
            }
        }
    }
}

#[test]
fn conditions_outside_the_cache_key_are_refused_with_the_fix() {
    let policy = |condition: Value| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": format!("{API}GET/*"), "Condition": condition}]})
    };
    let cases = [
        (
            json!({"StringEquals": {"request:header/x-env": "prod"}}),
            "request:header/x-env",
            "method.request.header.x-env",
        ),
        (
            json!({"StringEquals": {"request:query/tenant": "t1"}}),
            "request:query/tenant",
            "method.request.querystring.tenant",
        ),
        (
            json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
            "aws:SourceIp",
            "context.identity.sourceIp",
        ),
        (
            json!({"StringLike": {"aws:UserAgent": "curl/*"}}),
            "aws:UserAgent",
            "method.request.header.user-agent",
        ),
        (
            json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
            "aws:CurrentTime",
            "TTL",
        ),
    ];
    for (condition, key, fix) in cases {
        let mut config = config(json!({}), None);
        config["policies"]["groups"]["staff"] = policy(condition.clone());
        config["apiGatewayCache"] =
            json!({"ttlSeconds": 300, "identitySources": ["method.request.header.Authorization"]});
        let error = Authorizer::from_json(&config.to_string())
            .err()
            .unwrap_or_else(|| panic!("{condition} was accepted under a 300 s cache"))
            .to_string();
        assert!(
            error.contains("policies.groups.staff.Statement[0].Condition")
                && error.contains(key)
                && error.contains(fix),
            "{error}"
        );
        // Cached keyed on the value (or not cached at all), the same policy is fine.
        if fix != "TTL" {
            config["apiGatewayCache"]["identitySources"] =
                json!(["method.request.header.Authorization", fix]);
            Authorizer::from_json(&config.to_string())
                .unwrap_or_else(|e| panic!("{condition} keyed by {fix}: {e}"));
        }
        config["apiGatewayCache"] = json!({"ttlSeconds": 0, "identitySources": []});
        Authorizer::from_json(&config.to_string())
            .unwrap_or_else(|e| panic!("{condition} without caching: {e}"));
    }
}

#[test]
fn a_loaded_policy_outside_the_cache_key_is_kept_invalid() {
    let mut config = config(json!({}), None);
    config["policies"] = json!({"ttlSeconds": 60});
    config["apiGatewayCache"] =
        json!({"ttlSeconds": 300, "identitySources": ["method.request.header.Authorization"]});
    let mut authorizer = authorizer(&config);
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "execute-api:Invoke",
        "Resource": format!("{API}GET/*"), "Condition": {"StringEquals": {"request:header/x-env": "prod"}}}]});
    let errors = authorizer
        .policy_loaded("staff", &*policy.to_string(), NOW)
        .expect_err("refused");
    assert!(
        errors.to_string().contains("request:header/x-env"),
        "{errors}"
    );
    let bearer = format!("Bearer {}", token());
    let headers = [("authorization", bearer.as_str())];
    let d = decide(
        &mut authorizer,
        &Request {
            headers: &headers,
            ..Request::new("GET", "/petstore/v1/pets")
        },
    );
    assert_eq!(d.reason, "invalid_policy");
}

#[test]
fn the_cache_key_must_hold_the_credential_and_simple_responses_the_route() {
    let mut c = config(
        json!({}),
        Some(json!({"ttlSeconds": 300, "identitySources": ["method.request.header.X-Other"]})),
    );
    let error = Authorizer::from_json(&c.to_string())
        .expect_err("refused")
        .to_string();
    assert!(
        error.contains("apiGatewayCache.identitySources") && error.contains("authorization"),
        "{error}"
    );
    c["apiGatewayCache"] = json!({"ttlSeconds": 300, "identitySources": ["$request.header.Authorization"], "simpleResponses": true});
    let error = Authorizer::from_json(&c.to_string())
        .expect_err("refused")
        .to_string();
    assert!(error.contains("$context.path"), "{error}");
    c["apiGatewayCache"]["identitySources"] = json!([
        "$request.header.Authorization",
        "$context.httpMethod",
        "$context.path"
    ]);
    Authorizer::from_json(&c.to_string()).expect("route in the key");
    // `ANY /{proxy+}` is one route key for every method: not a method in the key.
    c["apiGatewayCache"]["identitySources"] = json!([
        "$request.header.Authorization",
        "$context.routeKey",
        "$context.path"
    ]);
    let error = Authorizer::from_json(&c.to_string())
        .expect_err("refused")
        .to_string();
    assert!(error.contains("$context.httpMethod"), "{error}");
    c["apiGatewayCache"]["identitySources"] =
        json!(["$request.header.Authorization", "$request.nonsense"]);
    let error = Authorizer::from_json(&c.to_string())
        .expect_err("refused")
        .to_string();
    assert!(error.contains("identitySources[1]"), "{error}");
}

/// API Gateway's matching of a cached policy: Deny wins, `*` and `?` over the whole ARN,
/// case-sensitive; conditions are not re-evaluated (the rules above keep them out).
fn gateway_allows(policy: &Value, arn: &str) -> bool {
    fn glob(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
            (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let list = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => vec![],
        }
    };
    let mut allowed = false;
    for st in policy["Statement"].as_array().expect("statements") {
        let hits = if let Some(r) = st.get("Resource") {
            list(r).iter().any(|p| glob(p.as_bytes(), arn.as_bytes()))
        } else {
            !list(&st["NotResource"])
                .iter()
                .any(|p| glob(p.as_bytes(), arn.as_bytes()))
        };
        if !hits || st.get("NotAction").is_some() {
            continue;
        }
        match st["Effect"].as_str() {
            Some("Deny") => return false,
            _ => allowed = true,
        }
    }
    allowed
}

#[test]
fn a_cached_policy_never_allows_what_the_core_denies() {
    let paths = [
        "/petstore/v1/pets",
        "/petstore/v2/admin",
        "/petstore/v2/admin/",
        "/petstore/v2/ADMIN",
        "/petstore/v2/Admin/",
        "/petstore/v2/%61dmin",
        "/petstore/v2/adm%69n",
        "/petstore/v2//admin",
        "/petstore/v2/./admin",
        "/petstore/v1/../v2/admin",
        "/petstore/v2/admin;x",
        "/petstore/v2/admin.",
        "/petstore/v2/admin%20",
        "/petstore/v2/admin\\",
        "/petstore/v2%2fadmin",
        "/petstore/caf%C3%A9",
        "/petstore/v2/admin/x",
        "/petstore/v2/admin/x/",
        "/petstore/v1/pets/",
        "/",
    ];
    for rules in [
        json!({}),
        json!({"caseSensitive": false, "trailingSlash": "strip", "mergeSlashes": true, "dotSegments": "resolve", "escapedSlashes": "keep", "semicolons": "keep"}),
    ] {
        let cache =
            json!({"ttlSeconds": 300, "identitySources": ["method.request.header.Authorization"]});
        let config = config(rules.clone(), Some(cache));
        let bearer = format!("Bearer {}", token());
        let headers = [("authorization", bearer.as_str())];
        let arn = |method: &str, path: &str| format!("{API}{method}{path}");
        for (first_method, first_path) in
            [("GET", "/petstore/v1/pets"), ("POST", "/petstore/v1/pets")]
        {
            let mut core = authorizer(&config);
            let first_arn = arn(first_method, first_path);
            let request = Request {
                headers: &headers,
                method_arn: Some(&first_arn),
                ..Request::new(first_method, first_path)
            };
            let decision = decide(&mut core, &request);
            assert!(decision.is_allowed(), "{}", decision.explain());
            let cached = core.api_gateway_policy(&decision, &request, NOW);
            assert!(gateway_allows(&cached, &first_arn), "{cached}");
            for method in ["GET", "HEAD", "POST", "DELETE"] {
                for path in paths {
                    let later_arn = arn(method, path);
                    let mut fresh = authorizer(&config);
                    let later = Request {
                        headers: &headers,
                        method_arn: Some(&later_arn),
                        ..Request::new(method, path)
                    };
                    let fresh_decision = decide(&mut fresh, &later);
                    if gateway_allows(&cached, &later_arn) {
                        assert!(
                            fresh_decision.is_allowed(),
                            "API Gateway's cached policy (rules {rules}) allows {later_arn}, the core says {}",
                            fresh_decision.explain()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn the_gateway_policy_reads_the_request_headers() {
    let mut config = config(json!({}), None);
    config["policies"]["groups"]["staff"]["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(json!({"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": format!("{API}*/petstore/v1/*"),
            "Condition": {"StringEquals": {"request:header/x-env": "prod"}}}));
    let mut core = authorizer(&config);
    let bearer = format!("Bearer {}", token());
    let headers = [("authorization", bearer.as_str()), ("X-Env", "prod")];
    let request = Request {
        headers: &headers,
        ..Request::new("GET", "/petstore/v2/pets")
    };
    let decision = decide(&mut core, &request);
    assert!(decision.is_allowed(), "{}", decision.explain());
    let policy = core.api_gateway_policy(&decision, &request, NOW);
    let denies_v1 = policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .any(|s| s["Effect"] == "Deny" && s.to_string().contains("petstore/v1/*"));
    assert!(denies_v1, "the header's Deny was dropped: {policy}");
}

/// An authorizer whose one group has `statements`, besides an Allow of everything.
fn with_statements(statements: Value) -> Authorizer {
    let mut config = config(json!({}), None);
    let mut all = vec![
        json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": format!("{API}*")}),
    ];
    all.extend(statements.as_array().expect("statements").iter().cloned());
    config["policies"]["groups"]["staff"] = json!({"Version": "2012-10-17", "Statement": all});
    authorizer(&config)
}

fn outcome(authorizer: &mut Authorizer, method: &str, path: &str, ci: bool) -> Outcome {
    let bearer = format!("Bearer {}", token());
    let headers = [("authorization", bearer.as_str())];
    let matching = PathMatching {
        case_sensitive: !ci,
        ..PathMatching::default()
    };
    let request = Request {
        headers: &headers,
        matching: Some(matching),
        ..Request::new(method, path)
    };
    decide(authorizer, &request).outcome
}

#[test]
fn case_insensitive_matching_folds_the_policies_too() {
    let mut a = with_statements(json!([
        {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": format!("{API}GET/api/Admin")},
        {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": format!("{API}GET/users/${{jwt:username}}/keys")},
    ]));
    // The token's username is `u`; written `U` in a path it is the same user to a
    // case-insensitive router.
    for (path, ci, denied) in [
        ("/api/Admin", false, true),
        ("/api/admin", false, false),
        ("/api/Admin", true, true),
        ("/api/admin", true, true),
        ("/API/ADMIN", true, true),
        ("/api/admin/", true, true),
        ("/users/u/keys", false, true),
        ("/users/U/keys", false, false),
        ("/users/U/keys", true, true),
    ] {
        let got = outcome(&mut a, "GET", path, ci);
        assert_eq!(
            got == Outcome::Forbidden,
            denied,
            "{path} (case-insensitive {ci}): {got:?}"
        );
    }
    // The same ARN decided both ways by one authorizer (Express passes its router's
    // matching per request): neither answer is served from the other's cache.
    let mut a = with_statements(json!([
        {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": format!("{API}GET/api/Admin")},
    ]));
    assert_eq!(outcome(&mut a, "GET", "/api/admin", false), Outcome::Allow);
    assert_eq!(
        outcome(&mut a, "GET", "/api/admin", true),
        Outcome::Forbidden
    );
    assert_eq!(outcome(&mut a, "GET", "/api/admin", false), Outcome::Allow);
}

#[test]
fn patterns_written_encoded_match_the_requests_they_name() {
    let deny = |resources: &[&str]| {
        let resources: Vec<String> = resources.iter().map(|r| format!("{API}GET{r}")).collect();
        with_statements(
            json!([{"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": resources}]),
        )
    };
    let mut a = deny(&[
        "/caf%C3%A9",
        "/a%20b",
        "/a%2Bb",
        "/C#",
        "/100%",
        "/q%3fx",
        "/%61dmin",
    ]);
    for path in [
        "/caf%C3%A9",
        "/café",
        "/a%20b",
        "/a+b",
        "/a%2bb",
        "/C%23",
        "/100%25",
        "/q%3Fx",
        "/q%3fx",
        "/admin",
    ] {
        assert_eq!(
            outcome(&mut a, "GET", path, false),
            Outcome::Forbidden,
            "{path}"
        );
    }
    assert_eq!(outcome(&mut a, "GET", "/cafe", false), Outcome::Allow);
    // A `*` written encoded is a literal `*`, not a wildcard.
    let mut a = deny(&["/a%2Ab"]);
    assert_eq!(outcome(&mut a, "GET", "/a*b", false), Outcome::Forbidden);
    assert_eq!(outcome(&mut a, "GET", "/axyzb", false), Outcome::Allow);
}

#[test]
fn an_allows_exclusions_cover_the_twins_too() {
    let mut config = config(json!({}), None);
    config["policies"]["groups"]["staff"] = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke", "NotResource": format!("{API}GET/petstore/v2/admin")}]});
    let mut a = authorizer(&config);
    for (method, path) in [
        ("GET", "/petstore/v2/admin"),
        ("HEAD", "/petstore/v2/admin"),
        ("GET", "/petstore/v2/admin/"),
    ] {
        assert_eq!(
            outcome(&mut a, method, path, false),
            Outcome::Forbidden,
            "{method} {path}"
        );
    }
    assert_eq!(
        outcome(&mut a, "GET", "/petstore/v2/pets", false),
        Outcome::Allow
    );
}
