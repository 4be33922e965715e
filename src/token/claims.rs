//! The claim rules of an issuer, and the identity they yield.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Number;

use super::crypto::AlgorithmSet;
use super::error::{Malformed, TokenError};
use super::object::{Claims, Val};

/// Which kind of Cognito token an issuer accepts (`token_use`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// Access tokens only (`token_use: "access"`, client in `client_id`).
    Access,
    /// ID tokens only (`token_use: "id"`, client in `aud`).
    Id,
    /// Either kind.
    Any,
}

/// Whether the issuer is a Cognito user pool or a generic OpenID Connect provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerKind {
    /// A Cognito user pool: `token_use` is checked, `exp` is required.
    Cognito {
        /// Which tokens are accepted.
        token_use: TokenUse,
    },
    /// A generic OIDC issuer: the client is checked against `aud`.
    Oidc,
}

/// One trusted issuer: where its keys are and what its tokens must satisfy.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// The exact `iss` value.
    pub issuer: String,
    /// Where the adapter fetches the JWKS. Never taken from a token.
    pub jwks_uri: String,
    /// Cognito or generic OIDC.
    pub kind: IssuerKind,
    /// Accepted clients (`client_id` of access tokens, `aud` otherwise); `None` disables
    /// the check, which the configuration must ask for explicitly.
    pub client_ids: Option<Vec<String>>,
    /// If not empty, the token must carry at least one of these scopes.
    pub required_scopes: Vec<String>,
    /// If not empty, the token must carry at least one of these groups.
    pub required_groups: Vec<String>,
    /// Algorithms accepted from this issuer (intersected with each key's own).
    pub algorithms: AlgorithmSet,
    /// Whether `exp` must be present (always for Cognito).
    pub require_exp: bool,
    /// The claim that lists the caller's groups (`cognito:groups` by default).
    pub groups_claim: String,
}

/// Who the caller is, as established by a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `sub`: the API Gateway `principalId`.
    pub subject: String,
    /// `username` (access tokens) or `cognito:username` (ID tokens), when present.
    pub username: Option<String>,
    /// The groups claim, in token order.
    pub groups: Vec<String>,
    /// The `scope` claim split on spaces.
    pub scopes: Vec<String>,
    /// `client_id`, or a single-valued `aud`.
    pub client_id: Option<String>,
    /// `token_use`, when present.
    pub token_use: Option<String>,
    /// `iss`.
    pub issuer: String,
    /// `exp`, when present (seconds since the epoch).
    pub expires_at: Option<u64>,
}

impl Issuer {
    /// Checks `claims` against this issuer's rules at `now` (seconds since the epoch) with
    /// a clock grace of `grace` seconds: what a verified token's claims go through.
    pub fn check(&self, claims: &Claims, now: u64, grace: u64) -> Result<Identity, TokenError> {
        check(self, claims, now, grace)
    }
}

/// Checks the time claims and the issuer's rules against `now` (seconds since the epoch).
pub(crate) fn check(
    issuer: &Issuer,
    claims: &Claims,
    now: u64,
    grace: u64,
) -> Result<Identity, TokenError> {
    let exp = numeric_date(claims, "exp")?;
    match exp {
        Some(exp) if now >= exp.saturating_add(grace) => return Err(TokenError::Expired),
        None if issuer.require_exp => return Err(TokenError::MissingClaim("exp")),
        _ => {}
    }
    if let Some(nbf) = numeric_date(claims, "nbf")? {
        if nbf > now.saturating_add(grace) {
            return Err(TokenError::NotYetValid);
        }
    }
    if let Some(iat) = numeric_date(claims, "iat")? {
        if iat > now.saturating_add(grace) {
            return Err(TokenError::IssuedInFuture);
        }
    }

    let token_use = optional_string(claims, "token_use")?;
    let audiences = audiences(claims)?;
    let client_id = optional_string(claims, "client_id")?;
    let client_claim: &[&str] = match &issuer.kind {
        IssuerKind::Cognito { token_use: wanted } => {
            let is_access = match (wanted, token_use) {
                (TokenUse::Access | TokenUse::Any, Some("access")) => true,
                (TokenUse::Id | TokenUse::Any, Some("id")) => false,
                (_, None) => return Err(TokenError::MissingClaim("token_use")),
                _ => return Err(TokenError::WrongTokenUse),
            };
            if is_access {
                client_id.as_slice()
            } else {
                &audiences
            }
        }
        IssuerKind::Oidc => &audiences,
    };
    if let Some(accepted) = &issuer.client_ids {
        let ok = client_claim.iter().any(|c| accepted.iter().any(|a| a == c));
        if !ok {
            return Err(TokenError::WrongClient);
        }
    }

    let subject = match claims.str("sub") {
        Ok(Some(sub)) if !sub.is_empty() => String::from(sub),
        _ => return Err(TokenError::MissingClaim("sub")),
    };
    let scopes: Vec<String> = match optional_string(claims, "scope")? {
        Some(scope) => scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        None => Vec::new(),
    };
    if !issuer.required_scopes.is_empty()
        && !scopes.iter().any(|s| issuer.required_scopes.contains(s))
    {
        return Err(TokenError::MissingScope);
    }
    let groups = groups(claims, &issuer.groups_claim)?;
    if !issuer.required_groups.is_empty()
        && !groups.iter().any(|g| issuer.required_groups.contains(g))
    {
        return Err(TokenError::MissingGroup);
    }
    let username = match optional_string(claims, "username")? {
        Some(name) => Some(String::from(name)),
        None => optional_string(claims, "cognito:username")?.map(String::from),
    };
    let client_id = client_id
        .map(String::from)
        .or_else(|| match audiences.as_slice() {
            [single] => Some(String::from(*single)),
            _ => None,
        });
    Ok(Identity {
        subject,
        username,
        groups,
        scopes,
        client_id,
        token_use: token_use.map(String::from),
        issuer: issuer.issuer.clone(),
        expires_at: exp,
    })
}

/// Reads a NumericDate (RFC 7519 §2): a JSON number of seconds, possibly fractional.
/// Fractions are truncated; negative or non-finite values are malformed.
pub(crate) fn numeric_date(claims: &Claims, name: &'static str) -> Result<Option<u64>, TokenError> {
    let malformed = TokenError::Malformed(Malformed::ClaimType);
    let text = match claims.find(name) {
        None => return Ok(None),
        Some(number @ Val::Num(_)) => claims.text_of(number).unwrap_or_default(),
        Some(_) => return Err(malformed),
    };
    // The common case, an integer of up to 18 digits, without serde_json.
    if let Some(secs) = super::object::small_integer(text) {
        return Ok(Some(secs));
    }
    let number = super::object::number(text).ok_or(malformed)?;
    numeric_date_of(&number)
}

/// A NumericDate from a serde_json number (see [`numeric_date`]).
pub(crate) fn numeric_date_of(n: &Number) -> Result<Option<u64>, TokenError> {
    if let Some(secs) = n.as_u64() {
        Ok(Some(secs))
    } else {
        match n.as_f64() {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "range checked just before; truncation is the NumericDate rule"
            )]
            Some(f) if (0.0..1.8e19).contains(&f) => Ok(Some(f as u64)),
            _ => Err(TokenError::Malformed(Malformed::ClaimType)),
        }
    }
}

fn optional_string<'c>(
    claims: &'c Claims,
    name: &'static str,
) -> Result<Option<&'c str>, TokenError> {
    claims
        .str(name)
        .map_err(|()| TokenError::MissingClaim(name))
}

/// The strings of a claim that is a string or an array of strings; `Err(())` otherwise.
fn strings<'c>(claims: &'c Claims, name: &str) -> Result<Vec<&'c str>, ()> {
    let items = match claims.find(name) {
        None => return Ok(Vec::new()),
        Some(Val::List { first, len }) => claims.items(first, len),
        Some(value) => core::slice::from_ref(claims.value_ref(value)),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Val::Str(_) => out.push(claims.text_of(*item).ok_or(())?),
            _ => return Err(()),
        }
    }
    Ok(out)
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
fn audiences(claims: &Claims) -> Result<Vec<&str>, TokenError> {
    strings(claims, "aud").map_err(|()| TokenError::MissingClaim("aud"))
}

/// The groups claim: an array of strings (Cognito), or a single string.
fn groups(claims: &Claims, claim: &str) -> Result<Vec<String>, TokenError> {
    match strings(claims, claim) {
        Ok(groups) => Ok(groups.into_iter().map(String::from).collect()),
        Err(()) => Err(TokenError::MissingClaim("groups")),
    }
}
