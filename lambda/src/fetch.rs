//! JWKS over HTTPS (rustls with aws-lc-rs, webpki roots) — plain HTTP only for the loopback
//! URLs the core's configuration allows (local emulators and tests).

use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A JWKS larger than this is refused without reading further.
pub const MAX_JWKS_BYTES: usize = 512 * 1024;

/// Why a fetch failed (logged with the issuer; never contains a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The URL could not be used.
    Url(String),
    /// No answer within the timeout.
    Timeout,
    /// Connection or protocol error.
    Transport(String),
    /// A status other than 200.
    Status(u16),
    /// The body was larger than [`MAX_JWKS_BYTES`].
    TooLarge,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(e) => write!(f, "bad URL: {e}"),
            Self::Timeout => f.write_str("timed out"),
            Self::Transport(e) => write!(f, "transport error: {e}"),
            Self::Status(s) => write!(f, "HTTP status {s}"),
            Self::TooLarge => write!(f, "body larger than {MAX_JWKS_BYTES} bytes"),
        }
    }
}

/// An HTTP(S) client for JWKS documents.
#[derive(Clone)]
pub struct JwksClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
}

impl std::fmt::Debug for JwksClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksClient")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl JwksClient {
    /// A client whose every fetch (connect, TLS, headers, body) is bounded by `timeout`,
    /// trusting the webpki roots (Mozilla's).
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        Self::with_roots(timeout, roots)
    }

    /// The same client trusting `roots` instead: `make lambda-bench` times the first fetch
    /// over TLS against a loopback server whose certificate only the bench trusts, through
    /// this very connector (provider, protocol versions, pool).
    pub fn with_roots(timeout: Duration, roots: rustls::RootCertStore) -> Result<Self, String> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        http.set_nodelay(true);
        let tls = rustls_config(roots)?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Ok(Self { client, timeout })
    }

    /// GETs `url`; the body on 200.
    pub async fn get(&self, url: &str) -> Result<Bytes, FetchError> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| FetchError::Url(e.to_string()))?;
        let request = hyper::Request::get(uri)
            .header("accept", "application/json")
            .header(
                "user-agent",
                concat!("edge-authz-lambda/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())
            .map_err(|e| FetchError::Url(e.to_string()))?;
        let work = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| FetchError::Transport(e.to_string()))?;
            let status = response.status().as_u16();
            if status != 200 {
                return Err(FetchError::Status(status));
            }
            let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        FetchError::TooLarge
                    } else {
                        FetchError::Transport(e.to_string())
                    }
                })?;
            Ok(body.to_bytes())
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }
}

fn rustls_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, String> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .map_err(|e| format!("TLS configuration: {e}"))
}
