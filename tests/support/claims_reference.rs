//! The token claims reader that `Claims` replaced, kept as the reference both
//! `tests/claims_differential.rs` and the `claims` fuzz target hold `Claims` to: serde_json
//! with a duplicate-refusing, depth-limited visitor into a `Map<String, Value>`, and the
//! claim rules as they read that map. Included with `#[path]` by both (test code only).
#![allow(dead_code)]

use core::fmt;

use edge_authz::token::claims::{Identity, Issuer, IssuerKind, TokenUse};
use edge_authz::token::crypto::AlgorithmSet;
use edge_authz::token::error::{Malformed, TokenError};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

// ---- the old parser (src/json.rs `parse_strict` as it was used on tokens) ----

const MAX_DEPTH: usize = 64;

pub fn old_parse(bytes: &[u8]) -> Option<Map<String, Value>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { depth: 0 }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

struct StrictSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor { depth: self.depth })
    }
}

struct StrictVisitor {
    depth: usize,
}

impl StrictVisitor {
    fn child<E: de::Error>(&self) -> Result<StrictSeed, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom("JSON nested too deeply"));
        }
        Ok(StrictSeed {
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child()?)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self.child()?)?;
            if members.insert(key, value).is_some() {
                return Err(de::Error::custom("duplicate member"));
            }
        }
        Ok(Value::Object(members))
    }
}

// ---- the old claim rules (src/token/claims.rs `check` over the map) ----

pub fn old_check(
    issuer: &Issuer,
    claims: &Map<String, Value>,
    now: u64,
    grace: u64,
) -> Result<Identity, TokenError> {
    let exp = old_numeric_date(claims, "exp")?;
    match exp {
        Some(exp) if now >= exp.saturating_add(grace) => return Err(TokenError::Expired),
        None if issuer.require_exp => return Err(TokenError::MissingClaim("exp")),
        _ => {}
    }
    if let Some(nbf) = old_numeric_date(claims, "nbf")? {
        if nbf > now.saturating_add(grace) {
            return Err(TokenError::NotYetValid);
        }
    }
    if let Some(iat) = old_numeric_date(claims, "iat")? {
        if iat > now.saturating_add(grace) {
            return Err(TokenError::IssuedInFuture);
        }
    }
    let token_use = optional_string(claims, "token_use")?;
    let audiences = audiences(claims)?;
    let client_id = optional_string(claims, "client_id")?;
    let client_claim: Vec<&str> = match &issuer.kind {
        IssuerKind::Cognito { token_use: wanted } => {
            let is_access = match (wanted, token_use) {
                (TokenUse::Access | TokenUse::Any, Some("access")) => true,
                (TokenUse::Id | TokenUse::Any, Some("id")) => false,
                (_, None) => return Err(TokenError::MissingClaim("token_use")),
                _ => return Err(TokenError::WrongTokenUse),
            };
            if is_access {
                client_id.into_iter().collect()
            } else {
                audiences.clone()
            }
        }
        IssuerKind::Oidc => audiences.clone(),
    };
    if let Some(accepted) = &issuer.client_ids {
        if !client_claim.iter().any(|c| accepted.iter().any(|a| a == c)) {
            return Err(TokenError::WrongClient);
        }
    }
    let subject = match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
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
    let groups = old_groups(claims, &issuer.groups_claim)?;
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

fn old_numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<u64>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(secs) = n.as_u64() {
                Ok(Some(secs))
            } else {
                match n.as_f64() {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Some(f) if (0.0..1.8e19).contains(&f) => Ok(Some(f as u64)),
                    _ => Err(TokenError::Malformed(Malformed::ClaimType)),
                }
            }
        }
        Some(_) => Err(TokenError::Malformed(Malformed::ClaimType)),
    }
}

fn optional_string<'c>(
    claims: &'c Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'c str>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(TokenError::MissingClaim(name)),
    }
}

fn audiences(claims: &Map<String, Value>) -> Result<Vec<&str>, TokenError> {
    match claims.get("aud") {
        None => Ok(Vec::new()),
        Some(Value::String(aud)) => Ok(vec![aud.as_str()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().ok_or(TokenError::MissingClaim("aud")))
            .collect(),
        Some(_) => Err(TokenError::MissingClaim("aud")),
    }
}

fn old_groups(claims: &Map<String, Value>, claim: &str) -> Result<Vec<String>, TokenError> {
    match claims.get(claim) {
        None => Ok(Vec::new()),
        Some(Value::String(group)) => Ok(vec![group.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .ok_or(TokenError::MissingClaim("groups"))
            })
            .collect(),
        Some(_) => Err(TokenError::MissingClaim("groups")),
    }
}

// ---- what the readers are compared on ----

/// The issuers every document is checked against.
pub fn issuers() -> Vec<Issuer> {
    let base = Issuer {
        issuer: "https://issuer.example".into(),
        jwks_uri: "https://issuer.example/jwks".into(),
        kind: IssuerKind::Oidc,
        client_ids: None,
        required_scopes: vec![],
        required_groups: vec![],
        algorithms: AlgorithmSet::default(),
        require_exp: false,
        groups_claim: "cognito:groups".into(),
    };
    vec![
        base.clone(),
        Issuer {
            kind: IssuerKind::Cognito {
                token_use: TokenUse::Access,
            },
            client_ids: Some(vec!["c1".into(), "é".into()]),
            required_scopes: vec!["read".into()],
            require_exp: true,
            ..base.clone()
        },
        Issuer {
            kind: IssuerKind::Cognito {
                token_use: TokenUse::Id,
            },
            client_ids: Some(vec!["c1".into()]),
            required_groups: vec!["admin".into(), "a\"b".into()],
            require_exp: true,
            ..base.clone()
        },
        Issuer {
            kind: IssuerKind::Cognito {
                token_use: TokenUse::Any,
            },
            groups_claim: "groups".into(),
            ..base.clone()
        },
        Issuer {
            client_ids: Some(vec!["c1".into(), "c2".into()]),
            required_scopes: vec!["write".into()],
            groups_claim: "roles".into(),
            ..base
        },
    ]
}

/// The clocks (`now`, grace) every document is checked at.
pub const NOWS: [(u64, u64); 5] = [
    (0, 0),
    (1_767_225_600, 0),
    (1_767_225_600, 300),
    (4_000_000_000, 60),
    (u64::MAX, 300),
];
