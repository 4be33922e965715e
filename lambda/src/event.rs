//! API Gateway authorizer events in, authorizer responses out.
//!
//! The event is parsed with `aws_lambda_events`' types into an owned [`Incoming`] request,
//! which lends the core its [`Request`]. The responses are built from the core's decision.

use std::net::IpAddr;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV2Request,
};
use aws_lambda_events::http::HeaderMap;
use edge_authz::Request;
use serde_json::{json, Value};

use crate::settings::EventMode;

/// The kind of event an invocation carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// REST API `TOKEN`: only the token and the method ARN.
    Token,
    /// REST API `REQUEST`.
    Request,
    /// HTTP API payload 1.0.
    HttpV1,
    /// HTTP API payload 2.0.
    HttpV2,
}

impl EventKind {
    /// For logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Request => "request",
            Self::HttpV1 => "http-v1",
            Self::HttpV2 => "http-v2",
        }
    }
}

/// Why an event could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError(pub String);

/// An authorizer event, owned, in the core's terms.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// The event's kind.
    pub kind: Option<EventKind>,
    /// HTTP method.
    pub method: String,
    /// Request path, as API Gateway gave it (see [`parse`]).
    pub path: String,
    /// `methodArn` / `routeArn`.
    pub method_arn: Option<String>,
    /// Headers (lower-case names; multi-value headers flattened, cookies as `cookie`).
    pub headers: Vec<(String, String)>,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// `requestContext.identity.sourceIp` / `requestContext.http.sourceIp`.
    pub source_ip: Option<IpAddr>,
    /// The `TOKEN` event's `authorizationToken`.
    pub credential: Option<String>,
}

/// The header and query pairs of an [`Incoming`], borrowed as the core's [`Request`] takes them.
pub type Pairs<'a> = (Vec<(&'a str, &'a str)>, Vec<(&'a str, &'a str)>);

impl Incoming {
    /// The header and query pairs, borrowed.
    pub fn pairs(&self) -> Pairs<'_> {
        fn borrow(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
            pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect()
        }
        (borrow(&self.headers), borrow(&self.query))
    }

    /// The core's view of this request (`pairs` from [`pairs`](Self::pairs)).
    pub fn request<'a>(&'a self, pairs: &'a Pairs<'a>) -> Request<'a> {
        Request {
            method: &self.method,
            path: &self.path,
            method_arn: self.method_arn.as_deref(),
            headers: &pairs.0,
            query: &pairs.1,
            source_ip: self.source_ip,
            // execute-api endpoints are HTTPS only.
            secure_transport: Some(true),
            credential: self.credential.as_deref(),
            matching: None,
        }
    }
}

/// Detects the event's kind (or takes the configured one).
pub fn detect(event: &Value, mode: EventMode) -> Result<EventKind, EventError> {
    Ok(match mode {
        EventMode::Token => EventKind::Token,
        EventMode::Request => EventKind::Request,
        EventMode::HttpV1 => EventKind::HttpV1,
        EventMode::HttpV2 => EventKind::HttpV2,
        EventMode::Auto => {
            let field = |name: &str| event.get(name).and_then(Value::as_str);
            match (field("type"), field("version")) {
                (Some(t), _) if t.eq_ignore_ascii_case("TOKEN") => EventKind::Token,
                (_, Some("2.0")) => EventKind::HttpV2,
                (_, Some("1.0")) => EventKind::HttpV1,
                (Some(t), _) if t.eq_ignore_ascii_case("REQUEST") => EventKind::Request,
                _ => {
                    return Err(EventError(
                        "not an API Gateway authorizer event (no type TOKEN/REQUEST, no version)"
                            .into(),
                    ))
                }
            }
        }
    })
}

fn header_pairs(single: &HeaderMap, multi: &HeaderMap) -> Vec<(String, String)> {
    // Prefer the multi-value view (every value); fall back to the single-value map.
    let source = if multi.is_empty() { single } else { multi };
    // Every value, non-ASCII ones too (the event's JSON text is UTF-8): one dropped would
    // hide a second `Authorization` or `Cookie` (which the core refuses) or a header a
    // `Deny` condition names, and turn a refusal into an allow.
    source
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect()
}

fn parse_ip(text: Option<&str>) -> Option<IpAddr> {
    text.and_then(|t| t.trim().parse().ok())
}

/// `arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/{VERB}/{path}` → (VERB,
/// `/path`). The resource starts after the fifth `:`, and the path may hold more `:` (and
/// `/`): it is everything after the verb's `/`, as given. `None` for anything else (another
/// service, a missing slot, no `/` after the verb).
fn method_and_path_of_arn(arn: &str) -> Option<(String, String)> {
    edge_authz::split_method_arn(arn).map(|(_, method, path)| (method.to_owned(), path.to_owned()))
}

/// A serde error's message with every quoted value (`"..."`, `` `...` ``) replaced by `…`:
/// `aws_lambda_events` quotes a header value it refuses (`invalid value: string "Bearer
/// eyJ..."`), and this message is logged and returned to API Gateway. Never a token there.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' && c != '`' {
            continue;
        }
        out.push('…');
        let mut escaped = false;
        for inner in chars.by_ref() {
            if inner == c && !escaped {
                out.push(c);
                break;
            }
            escaped = c == '"' && inner == '\\' && !escaped;
        }
    }
    out
}

/// Parses `event` as `kind`.
///
/// The path is handed to the core as API Gateway gives it, for the core to make canonical
/// (or refuse): REST `path` (percent-encoding intact, without the stage), HTTP API `rawPath`
/// (payload 2.0) or `path` (1.0). HTTP APIs deliver both `rawPath` and
/// `requestContext.http.path` already percent-decoded (live captures: `/a%2Fb` arrives as
/// `/a/b`, `%3F` truncates the path, `%252F` becomes `/`), and with a named stage both start
/// with `/{stage}`; `rawPath` is preferred as the field documented as the raw one, the
/// other is the fallback. When API Gateway gives a `methodArn`/`routeArn` — always, in
/// production — the core decides on the ARN's path (made canonical), the one API Gateway
/// matches the returned policy against; the event's path only counts without one. Nothing
/// is invented: an event without a path or ARN gets an empty path, which the core refuses.
pub fn parse(mut event: Value, kind: EventKind) -> Result<Incoming, EventError> {
    let bad = |e: serde_json::Error| {
        EventError(format!(
            "malformed {} event: {}",
            kind.as_str(),
            without_quoted_values(&e.to_string())
        ))
    };
    // The method as given: `aws_lambda_events` would refuse the whole event for a method
    // that is not an HTTP token, where the core answers `invalid_method` (a Deny).
    let method = match kind {
        EventKind::Token => None,
        EventKind::Request | EventKind::HttpV1 => take_method(&mut event, "/httpMethod", false)
            .or(take_method(&mut event, "/requestContext/httpMethod", false)),
        EventKind::HttpV2 => take_method(&mut event, "/requestContext/http/method", true),
    };
    let mut incoming = Incoming {
        kind: Some(kind),
        ..Incoming::default()
    };
    match kind {
        EventKind::Token => {
            let e: ApiGatewayCustomAuthorizerRequest =
                serde_json::from_value(event).map_err(bad)?;
            let arn = e
                .method_arn
                .ok_or_else(|| EventError("TOKEN event without methodArn".into()))?;
            // An ARN that is not an execute-api method ARN is the core's to refuse (a Deny,
            // `invalid_method_arn`), not an invalid event.
            if let Some((method, path)) = method_and_path_of_arn(&arn) {
                incoming.method = method;
                incoming.path = path;
            }
            incoming.method_arn = Some(arn);
            // An absent token is "no credentials" (401), like an absent header.
            incoming.credential = Some(e.authorization_token.unwrap_or_default());
        }
        EventKind::Request | EventKind::HttpV1 => {
            let e: ApiGatewayCustomAuthorizerRequestTypeRequest =
                serde_json::from_value(event).map_err(bad)?;
            let from_arn = e.method_arn.as_deref().and_then(method_and_path_of_arn);
            incoming.method = method
                .or_else(|| from_arn.as_ref().map(|(m, _)| m.clone()))
                .unwrap_or_default();
            // Not `requestContext.path`: it starts with the stage (or the custom domain's
            // base path).
            incoming.path = e
                .path
                .clone()
                .or_else(|| from_arn.map(|(_, p)| p))
                .unwrap_or_default();
            incoming.method_arn = e.method_arn.clone();
            incoming.headers = header_pairs(&e.headers, &e.multi_value_headers);
            // Every value, as with headers: `queryStringParameters` keeps only the last of a
            // repeated parameter, which would hide the one a `Deny` condition names.
            let query = if e.multi_value_query_string_parameters.is_empty() {
                &e.query_string_parameters
            } else {
                &e.multi_value_query_string_parameters
            };
            incoming.query = query
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            incoming.source_ip = parse_ip(
                e.request_context
                    .identity
                    .as_ref()
                    .and_then(|i| i.source_ip.as_deref()),
            );
        }
        EventKind::HttpV2 => {
            let e: ApiGatewayV2CustomAuthorizerV2Request =
                serde_json::from_value(event).map_err(bad)?;
            incoming.method = method.unwrap_or_default();
            incoming.path = e
                .raw_path
                .clone()
                .or_else(|| e.request_context.http.path.clone())
                .or_else(|| {
                    e.route_arn
                        .as_deref()
                        .and_then(method_and_path_of_arn)
                        .map(|(_, p)| p)
                })
                .unwrap_or_default();
            incoming.method_arn = e.route_arn.clone();
            incoming.headers = header_pairs(&e.headers, &HeaderMap::new());
            if !e.cookies.is_empty() {
                incoming
                    .headers
                    .push(("cookie".into(), e.cookies.join("; ")));
            }
            incoming.query = e
                .query_string_parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            incoming.source_ip = parse_ip(e.request_context.http.source_ip.as_deref());
        }
    }
    Ok(incoming)
}

/// The string at `pointer` in `event`, if any. One that is not an HTTP method token is
/// replaced, in the event, by `null` (`GET` where the field is `required`), so that the
/// typed parse goes through and the core refuses the method itself.
fn take_method(event: &mut Value, pointer: &str, required: bool) -> Option<String> {
    let slot = event.pointer_mut(pointer)?;
    let method = slot.as_str()?.to_owned();
    if aws_lambda_events::http::Method::from_bytes(method.as_bytes()).is_err() {
        *slot = if required { json!("GET") } else { Value::Null };
    }
    Some(method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_header_value_is_not_in_the_error() {
        // A control character makes `aws_lambda_events` refuse the header map, and its
        // message quotes the value: the bearer token, which must never be logged.
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2ln";
        let value = format!("Bearer {token}\u{1}\"quoted\\");
        for kind in [EventKind::Request, EventKind::HttpV1, EventKind::HttpV2] {
            let event = serde_json::json!({
                "type": "REQUEST",
                "version": "2.0",
                "methodArn": "arn:aws:execute-api:us-east-1:1:a/s/GET/x",
                "routeArn": "arn:aws:execute-api:us-east-1:1:a/s/GET/x",
                "httpMethod": "GET",
                "path": "/x",
                "rawPath": "/x",
                "headers": {"Authorization": value},
                "requestContext": {"http": {"method": "GET", "path": "/x", "sourceIp": "192.0.2.1"}},
            });
            let error = parse(event, kind).expect_err("refused");
            assert!(error.0.starts_with("malformed "), "{kind:?}: {}", error.0);
            assert!(!error.0.contains("eyJ"), "{kind:?}: {}", error.0);
        }
    }

    #[test]
    fn non_ascii_header_values_are_kept() {
        // A second credential (the core refuses two) or a header a condition names must
        // reach the core whatever its characters: dropped, it would leave an allow.
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2ln";
        let event = serde_json::json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:1:a/s/GET/x",
            "httpMethod": "GET",
            "path": "/x",
            "headers": {"Authorization": "Bearer caf\u{e9}", "X-Tenant": "caf\u{e9}"},
            "multiValueHeaders": {
                "Authorization": [format!("Bearer {token}"), "Bearer caf\u{e9}"],
                "X-Tenant": ["caf\u{e9}"],
            },
            "requestContext": {},
        });
        let incoming = parse(event, EventKind::Request).expect("parsed");
        let values = |name: &str| -> Vec<&str> {
            incoming
                .headers
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        assert_eq!(
            values("authorization"),
            [format!("Bearer {token}").as_str(), "Bearer caf\u{e9}"]
        );
        assert_eq!(values("x-tenant"), ["caf\u{e9}"]);
    }

    #[test]
    fn every_value_of_a_repeated_query_parameter_is_kept() {
        // `?role=admin&role=user`: REST's single-value map holds only the last one.
        for kind in [EventKind::Request, EventKind::HttpV1] {
            let event = serde_json::json!({
                "type": "REQUEST",
                "methodArn": "arn:aws:execute-api:us-east-1:1:a/s/GET/x",
                "httpMethod": "GET",
                "path": "/x",
                "queryStringParameters": {"role": "user"},
                "multiValueQueryStringParameters": {"role": ["admin", "user"]},
                "requestContext": {},
            });
            let incoming = parse(event, kind).expect("parsed");
            let mut query = incoming.query.clone();
            query.sort();
            assert_eq!(
                query,
                [
                    ("role".to_owned(), "admin".to_owned()),
                    ("role".to_owned(), "user".to_owned())
                ],
                "{kind:?}"
            );
        }
    }

    #[test]
    fn quoted_values_are_removed_from_messages() {
        assert_eq!(
            without_quoted_values(r#"invalid value: string "Bearer a\"b\\", expected x"#),
            r#"invalid value: string "…", expected x"#
        );
        assert_eq!(
            without_quoted_values("unknown variant `GETX`, expected `GET`"),
            "unknown variant `…`, expected `…`"
        );
        assert_eq!(without_quoted_values(r#"open "abc"#), r#"open "…"#);
        assert_eq!(without_quoted_values("no quotes"), "no quotes");
    }

    #[test]
    fn arn_to_method_and_path() {
        assert_eq!(
            method_and_path_of_arn(
                "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/petstore/v1/pets"
            ),
            Some(("GET".into(), "/petstore/v1/pets".into()))
        );
        assert_eq!(
            method_and_path_of_arn("arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/"),
            Some(("GET".into(), "/".into()))
        );
        assert_eq!(
            method_and_path_of_arn("arn:aws:execute-api:us-east-1:1:abc/prod/GET/a:b/c"),
            Some(("GET".into(), "/a:b/c".into()))
        );
        assert_eq!(method_and_path_of_arn("not-an-arn"), None);
        // `:` and `//` in the path are the path's: the resource starts after the fifth `:`.
        assert_eq!(
            method_and_path_of_arn(
                "arn:aws:execute-api:us-east-1:1:abc/prod/GET/x/2021-08-01T00:00:00Z//a:b"
            ),
            Some(("GET".into(), "/x/2021-08-01T00:00:00Z//a:b".into()))
        );
        assert_eq!(
            method_and_path_of_arn("arn:aws:execute-api:us-east-1:1:abc/$default/HEAD/%61dmin;x"),
            Some(("HEAD".into(), "/%61dmin;x".into()))
        );
        assert_eq!(
            method_and_path_of_arn("arn:aws-cn:execute-api:cn-north-1:1:abc/prod/GET/a"),
            Some(("GET".into(), "/a".into()))
        );
        for not_a_method_arn in [
            "arn:aws:execute-api:us-east-1:1:abc/prod/GET",
            "arn:aws:execute-api:us-east-1:1:abc/prod",
            "arn:aws:execute-api:us-east-1:1:abc//GET/a",
            "arn:aws:s3:::bucket/a/b/c",
            "arn:aws:lambda:us-east-1:1:function:f/prod/GET/a",
            "urn:aws:execute-api:us-east-1:1:abc/prod/GET/a",
            "arn:aws:execute-api:us-east-1:1",
        ] {
            assert_eq!(
                method_and_path_of_arn(not_a_method_arn),
                None,
                "{not_a_method_arn}"
            );
        }
    }

    #[test]
    fn paths_are_passed_as_given() {
        let arn = "arn:aws:execute-api:us-east-1:1:abc/prod/GET/petstore/v2/%61dmin";
        let rest = parse(
            json!({"type": "REQUEST", "methodArn": arn, "httpMethod": "GET",
                   "path": "/petstore/v2/%61dmin", "headers": {},
                   "requestContext": {"path": "/prod/petstore/v2/%61dmin", "httpMethod": "GET"}}),
            EventKind::Request,
        )
        .unwrap();
        assert_eq!(
            rest.path, "/petstore/v2/%61dmin",
            "REST `path`, not the stage-prefixed one"
        );
        assert_eq!(rest.method_arn.as_deref(), Some(arn));
        let v2 = parse(
            json!({"version": "2.0", "type": "REQUEST", "routeArn": arn, "rawPath": "/raw",
                   "requestContext": {"http": {"method": "GET", "path": "/decoded"}}}),
            EventKind::HttpV2,
        )
        .unwrap();
        assert_eq!(v2.path, "/raw");
        let v2 = parse(
            json!({"version": "2.0", "type": "REQUEST", "routeArn": arn,
                   "requestContext": {"http": {"method": "GET", "path": "/decoded"}}}),
            EventKind::HttpV2,
        )
        .unwrap();
        assert_eq!(v2.path, "/decoded");
        // No path field: the ARN's; nothing at all: empty (the core refuses it).
        let from_arn = parse(
            json!({"type": "REQUEST", "methodArn": arn, "requestContext": {}}),
            EventKind::Request,
        )
        .unwrap();
        assert_eq!(
            (from_arn.method.as_str(), from_arn.path.as_str()),
            ("GET", "/petstore/v2/%61dmin")
        );
        let nothing = parse(
            json!({"type": "REQUEST", "requestContext": {}}),
            EventKind::Request,
        )
        .unwrap();
        assert_eq!((nothing.method.as_str(), nothing.path.as_str()), ("", ""));
        // A TOKEN event whose ARN is not a method ARN is the core's to refuse.
        let token = parse(
            json!({"type": "TOKEN", "authorizationToken": "Bearer x", "methodArn": "arn:aws:s3:::b/k"}),
            EventKind::Token,
        )
        .unwrap();
        assert_eq!(token.method_arn.as_deref(), Some("arn:aws:s3:::b/k"));
        assert!(parse(json!({"type": "TOKEN"}), EventKind::Token).is_err());
        // A method that is not a token is the core's to refuse (`invalid_method`).
        let odd = parse(
            json!({"type": "REQUEST", "httpMethod": "GE T", "path": "/a",
                   "requestContext": {"httpMethod": "GE T"}}),
            EventKind::Request,
        )
        .unwrap();
        assert_eq!(odd.method, "GE T");
        let odd = parse(
            json!({"version": "2.0", "rawPath": "/a", "requestContext": {"http": {"method": "G\u{0}T"}}}),
            EventKind::HttpV2,
        )
        .unwrap();
        assert_eq!(odd.method, "G\u{0}T");
    }

    #[test]
    fn detects_each_kind() {
        let auto = EventMode::Auto;
        assert_eq!(
            detect(&json!({"type": "TOKEN"}), auto),
            Ok(EventKind::Token)
        );
        assert_eq!(
            detect(&json!({"type": "REQUEST", "version": "2.0"}), auto),
            Ok(EventKind::HttpV2)
        );
        assert_eq!(
            detect(&json!({"type": "REQUEST", "version": "1.0"}), auto),
            Ok(EventKind::HttpV1)
        );
        assert_eq!(
            detect(&json!({"type": "REQUEST"}), auto),
            Ok(EventKind::Request)
        );
        assert!(detect(&json!({"hello": 1}), auto).is_err());
        assert_eq!(
            detect(&json!({"hello": 1}), EventMode::Token),
            Ok(EventKind::Token)
        );
    }
}
