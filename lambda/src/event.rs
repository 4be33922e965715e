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
use edge_authz::{ContextValue, Decision, Request};
use serde_json::{json, Map, Value};

use crate::settings::{EventMode, HttpResponse};

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
    /// Request path.
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

impl Incoming {
    /// Runs `f` with the core's view of this request.
    pub fn with_request<R>(&self, f: impl FnOnce(&Request<'_>) -> R) -> R {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let query: Vec<(&str, &str)> = self
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request = Request {
            method: &self.method,
            path: &self.path,
            method_arn: self.method_arn.as_deref(),
            headers: &headers,
            query: &query,
            source_ip: self.source_ip,
            // execute-api endpoints are HTTPS only.
            secure_transport: Some(true),
            credential: self.credential.as_deref(),
        };
        f(&request)
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
    source
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_owned(), v.to_owned()))
        })
        .collect()
}

fn parse_ip(text: Option<&str>) -> Option<IpAddr> {
    text.and_then(|t| t.trim().parse().ok())
}

/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{VERB}/{path}` → (VERB, /path).
fn method_and_path_of_arn(arn: &str) -> Option<(String, String)> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let mut parts = resource.splitn(4, '/');
    let (_api, _stage, verb) = (parts.next()?, parts.next()?, parts.next()?);
    let path = parts.next().unwrap_or("");
    Some((verb.to_owned(), format!("/{path}")))
}

/// Parses `event` as `kind`.
pub fn parse(event: Value, kind: EventKind) -> Result<Incoming, EventError> {
    let bad = |e: serde_json::Error| EventError(format!("malformed {} event: {e}", kind.as_str()));
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
            let (method, path) = method_and_path_of_arn(&arn).ok_or_else(|| {
                EventError("TOKEN event: methodArn is not an execute-api ARN".into())
            })?;
            incoming.method = method;
            incoming.path = path;
            incoming.method_arn = Some(arn);
            // An absent token is "no credentials" (401), like an absent header.
            incoming.credential = Some(e.authorization_token.unwrap_or_default());
        }
        EventKind::Request | EventKind::HttpV1 => {
            let e: ApiGatewayCustomAuthorizerRequestTypeRequest =
                serde_json::from_value(event).map_err(bad)?;
            incoming.method = e
                .http_method
                .as_ref()
                .map(|m| m.as_str().to_owned())
                .or_else(|| {
                    e.request_context
                        .http_method
                        .as_ref()
                        .map(|m| m.as_str().to_owned())
                })
                .unwrap_or_default();
            incoming.path = e
                .path
                .clone()
                .or_else(|| e.request_context.path.clone())
                .unwrap_or_else(|| "/".into());
            incoming.method_arn = e.method_arn.clone();
            if incoming.method.is_empty() {
                if let Some((m, p)) = e.method_arn.as_deref().and_then(method_and_path_of_arn) {
                    incoming.method = m;
                    incoming.path = p;
                }
            }
            incoming.headers = header_pairs(&e.headers, &e.multi_value_headers);
            incoming.query = e
                .query_string_parameters
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
            incoming.method = e.request_context.http.method.as_str().to_owned();
            incoming.path = e
                .request_context
                .http
                .path
                .clone()
                .or_else(|| e.raw_path.clone())
                .unwrap_or_else(|| "/".into());
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

/// The context API Gateway passes on: only strings, numbers and booleans.
pub fn context_json(decision: &Decision) -> Map<String, Value> {
    decision
        .context()
        .iter()
        .filter_map(|(k, v)| {
            let v = match v {
                ContextValue::String(s) => Value::String(s.clone()),
                ContextValue::Number(n) => serde_json::Number::from_f64(*n).map(Value::Number)?,
                ContextValue::Bool(b) => Value::Bool(*b),
            };
            Some((k.to_string(), v))
        })
        .collect()
}

/// The authorizer's response for an allow or a deny (`policy` from
/// `Authorizer::api_gateway_policy`). `Unauthorized` is not a response but an error.
pub fn response(
    kind: EventKind,
    http_response: HttpResponse,
    decision: &Decision,
    policy: Value,
) -> Value {
    let allowed = decision.is_allowed();
    let context = if allowed {
        context_json(decision)
    } else {
        Map::new()
    };
    if kind == EventKind::HttpV2 && http_response == HttpResponse::Simple {
        return json!({ "isAuthorized": allowed, "context": context });
    }
    let principal = decision.identity().map_or_else(
        || "unauthorized".to_owned(),
        |identity| identity.subject.clone(),
    );
    let mut out = json!({ "principalId": principal, "policyDocument": policy });
    if !context.is_empty() {
        out["context"] = Value::Object(context);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
