//! The runtime-neutral request every adapter builds.

use alloc::string::String;
use core::fmt::Write as _;
use core::net::IpAddr;

use crate::request_path::PathMatching;

/// An HTTP request as the authorizer sees it. Adapters fill what their runtime knows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// HTTP method (`GET`, ...); compared case-insensitively, upper-cased in the ARN.
    pub method: &'a str,
    /// The request path as received, percent-encoding intact, starting with `/` (a query
    /// string after `?` is ignored). The authorizer makes it canonical before anything else
    /// (see [`canonical_path`](crate::canonical_path)).
    pub path: &'a str,
    /// The full execute-api ARN when API Gateway supplies one (`methodArn` / `routeArn`);
    /// otherwise it is built from the configured API and `method`/`path`.
    pub method_arn: Option<&'a str>,
    /// Request headers, names in any case.
    pub headers: &'a [(&'a str, &'a str)],
    /// Query parameters, decoded.
    pub query: &'a [(&'a str, &'a str)],
    /// The client's address (`aws:SourceIp`).
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: Option<bool>,
    /// The credential when the runtime hands it over on its own (API Gateway `TOKEN`
    /// events' `authorizationToken`); it takes the place of the configured header.
    pub credential: Option<&'a str>,
    /// How the router in front of which the adapter stands matches paths, when the adapter
    /// knows it (Express's app settings, Fastify's router options); otherwise the
    /// configuration's `request` rules apply.
    pub matching: Option<PathMatching>,
}

impl<'a> Request<'a> {
    /// A request for `method` and `path` with nothing else known.
    pub fn new(method: &'a str, path: &'a str) -> Self {
        Self {
            method,
            path,
            ..Self::default()
        }
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// The API a request's ARN is built for when the runtime gives no ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiIdentity {
    /// AWS region (default `local`).
    pub region: String,
    /// Account id (default `000000000000`).
    pub account_id: String,
    /// API id (default `edge`).
    pub api_id: String,
    /// Stage (default `$default`).
    pub stage: String,
}

impl Default for ApiIdentity {
    fn default() -> Self {
        Self {
            region: String::from("local"),
            account_id: String::from("000000000000"),
            api_id: String::from("edge"),
            stage: String::from("$default"),
        }
    }
}

impl ApiIdentity {
    /// Writes `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}` into
    /// `out`: the path without its leading `/` (the root is `.../GET/`) and without a query.
    pub fn write_arn(&self, method: &str, path: &str, out: &mut String) {
        out.clear();
        let _ = write!(
            out,
            "arn:aws:execute-api:{}:{}:{}/{}/",
            self.region, self.account_id, self.api_id, self.stage
        );
        push_arn_tail(method, path, out);
    }
}

/// Appends `{METHOD}/{path}` as it ends an execute-api ARN: the method upper-cased, the path
/// without its leading `/` and without a query string.
pub(crate) fn push_arn_tail(method: &str, path: &str, out: &mut String) {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let path = path.strip_prefix('/').unwrap_or(path);
    if method.bytes().any(|b| b.is_ascii_lowercase()) {
        out.extend(method.chars().map(|c| c.to_ascii_uppercase()));
    } else {
        out.push_str(method);
    }
    out.push('/');
    out.push_str(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_execute_api_arns() {
        let api = ApiIdentity {
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            api_id: "abc123".into(),
            stage: "prod".into(),
        };
        let mut out = String::new();
        api.write_arn("get", "/petstore/v1/pets?limit=1", &mut out);
        assert_eq!(
            out,
            "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/petstore/v1/pets"
        );
        api.write_arn("GET", "/", &mut out);
        assert_eq!(
            out,
            "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/"
        );
        api.write_arn("GET", "/a:b/c", &mut out);
        assert!(out.ends_with("/GET/a:b/c"));
    }
}
