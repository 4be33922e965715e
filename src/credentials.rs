//! Finding the bearer token in a request.

use crate::request::Request;

/// Where the token is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSource {
    /// The header carrying `Bearer <token>` (default `authorization`, case-insensitive).
    pub header: alloc::string::String,
    /// A cookie holding the bare token, tried when the header is absent.
    pub cookie: Option<alloc::string::String>,
    /// Whether the header value must start with the `Bearer` scheme (default true).
    pub require_bearer: bool,
}

impl Default for CredentialSource {
    fn default() -> Self {
        Self {
            header: alloc::string::String::from("authorization"),
            cookie: None,
            require_bearer: true,
        }
    }
}

/// Why no token could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialError {
    /// No header (or cookie) carries a credential: 401.
    Missing,
    /// A credential is there but not `Bearer <one token>`, or it is given twice: 401.
    Malformed,
}

impl CredentialError {
    /// The stable reason code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "no_credentials",
            Self::Malformed => "malformed_authorization",
        }
    }
}

impl CredentialSource {
    /// The token of `request`, borrowed from it.
    pub fn extract<'a>(&self, request: &Request<'a>) -> Result<&'a str, CredentialError> {
        let token = self.locate(request)?;
        if is_b64token(token) {
            Ok(token)
        } else {
            Err(CredentialError::Malformed)
        }
    }

    /// Like [`extract`](Self::extract) without the character check of the token itself,
    /// which the authorizer runs only on a cache miss: a cached token was verified, so its
    /// characters were checked when it was first seen.
    pub(crate) fn locate<'a>(&self, request: &Request<'a>) -> Result<&'a str, CredentialError> {
        if let Some(value) = request.credential {
            return self.parse_header_value(value);
        }
        let mut found = request
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(&self.header));
        match (found.next(), found.next()) {
            (Some((_, value)), None) => self.parse_header_value(value),
            (Some(_), Some(_)) => Err(CredentialError::Malformed),
            (None, _) => match &self.cookie {
                Some(cookie) => find_cookie(request, cookie),
                None => Err(CredentialError::Missing),
            },
        }
    }

    fn parse_header_value<'a>(&self, value: &'a str) -> Result<&'a str, CredentialError> {
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        if value.is_empty() {
            return Err(CredentialError::Missing);
        }
        let token = match value.split_once([' ', '\t']) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
                rest.trim_start_matches([' ', '\t'])
            }
            Some(_) => return Err(CredentialError::Malformed),
            None if self.require_bearer => return Err(CredentialError::Malformed),
            None => value,
        };
        if token.is_empty() {
            Err(CredentialError::Malformed)
        } else {
            Ok(token)
        }
    }
}

/// RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub(crate) fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    // One table lookup per byte: this runs over every unseen token (a kilobyte or more).
    !body.is_empty()
        && body
            .bytes()
            .all(|b| B64TOKEN.get(usize::from(b)).copied().unwrap_or(false))
}

/// The bytes of RFC 6750's `b64token` (without the trailing `=`s).
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range fails the build"
)]
static B64TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

fn find_cookie<'a>(request: &Request<'a>, name: &str) -> Result<&'a str, CredentialError> {
    let mut found = None;
    for (_, header) in request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
    {
        for pair in header.split(';') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            if key.trim() == name {
                if found.is_some() {
                    return Err(CredentialError::Malformed);
                }
                found = Some(value.trim().trim_matches('"'));
            }
        }
    }
    found.ok_or(CredentialError::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract<'a>(headers: &'a [(&'a str, &'a str)]) -> Result<&'a str, CredentialError> {
        let req = Request {
            headers,
            ..Request::new("GET", "/")
        };
        CredentialSource::default().extract(&req)
    }

    #[test]
    fn bearer_rules() {
        use CredentialError::*;
        type Case<'a> = (&'a [(&'a str, &'a str)], Result<&'a str, CredentialError>);
        let cases: &[Case<'_>] = &[
            (&[], Err(Missing)),
            (&[("Authorization", "Bearer a.b.c")], Ok("a.b.c")),
            (&[("AUTHORIZATION", "bearer a.b.c")], Ok("a.b.c")),
            (&[("authorization", "BeArEr   a.b.c  ")], Ok("a.b.c")),
            (&[("authorization", "")], Err(Missing)),
            (&[("authorization", "Bearer")], Err(Malformed)),
            (&[("authorization", "Bearer ")], Err(Malformed)),
            (&[("authorization", "a.b.c")], Err(Malformed)),
            (&[("authorization", "Basic dXNlcjpwYXNz")], Err(Malformed)),
            (&[("authorization", "Bearer a.b.c d.e.f")], Err(Malformed)),
            (&[("authorization", "Bearer a.b.c,d")], Err(Malformed)),
            (
                &[
                    ("authorization", "Bearer a.b.c"),
                    ("Authorization", "Bearer a.b.c"),
                ],
                Err(Malformed),
            ),
        ];
        for (headers, expected) in cases {
            assert_eq!(extract(headers), *expected, "{headers:?}");
        }
    }

    #[test]
    fn cookie_fallback() {
        let source = CredentialSource {
            cookie: Some("id_token".into()),
            ..CredentialSource::default()
        };
        let headers = [("cookie", "theme=dark; id_token=a.b.c")];
        let req = Request {
            headers: &headers,
            ..Request::new("GET", "/")
        };
        assert_eq!(source.extract(&req), Ok("a.b.c"));
        let headers = [("cookie", "id_token=a.b.c; id_token=d.e.f")];
        let req = Request {
            headers: &headers,
            ..Request::new("GET", "/")
        };
        assert_eq!(source.extract(&req), Err(CredentialError::Malformed));
    }
}
