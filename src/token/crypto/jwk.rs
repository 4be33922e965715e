//! The public JWK writer: a [`PublicKey`](super::PublicKey) as the JSON that WebCrypto and
//! node:crypto import, written once at load.

use alloc::string::String;

use base64ct::{Base64UrlUnpadded, Encoding as _};

use super::algorithm::AlgorithmSet;
use super::key::KeyMaterial;
use crate::json::push_json_str;

fn push_member(out: &mut String, name: &str, value: &str) {
    if out.len() > 1 {
        out.push(',');
    }
    push_json_str(out, name);
    out.push(':');
    push_json_str(out, value);
}

fn push_b64_member(out: &mut String, name: &str, bytes: &[u8]) {
    push_member(out, name, &Base64UrlUnpadded::encode_string(bytes));
}

pub(super) fn public_jwk_json(
    kid: Option<&str>,
    material: &KeyMaterial,
    algorithms: AlgorithmSet,
) -> String {
    let mut out = String::from("{");
    let kty = match material {
        KeyMaterial::Rsa { .. } => "RSA",
        KeyMaterial::EcP256 { .. } | KeyMaterial::EcP384 { .. } => "EC",
        KeyMaterial::Ed25519 { .. } => "OKP",
    };
    push_member(&mut out, "kty", kty);
    if let Some(kid) = kid {
        push_member(&mut out, "kid", kid);
    }
    let mut algs = algorithms.iter();
    if let (Some(alg), None) = (algs.next(), algs.next()) {
        push_member(&mut out, "alg", alg.name());
    }
    push_member(&mut out, "use", "sig");
    match material {
        KeyMaterial::Rsa { n, e } => {
            push_b64_member(&mut out, "n", n);
            push_b64_member(&mut out, "e", e);
        }
        KeyMaterial::EcP256 { x, y } | KeyMaterial::EcP384 { x, y } => {
            let crv = if matches!(material, KeyMaterial::EcP256 { .. }) {
                "P-256"
            } else {
                "P-384"
            };
            push_member(&mut out, "crv", crv);
            push_b64_member(&mut out, "x", x);
            push_b64_member(&mut out, "y", y);
        }
        KeyMaterial::Ed25519 { x } => {
            push_member(&mut out, "crv", "Ed25519");
            push_b64_member(&mut out, "x", x);
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwk_json_escapes_kid() {
        let mut out = String::from("{");
        push_member(&mut out, "kid", "a\"b\\c\u{1}");
        out.push('}');
        assert_eq!(out, r#"{"kid":"a\"b\\c\u0001"}"#);
    }
}
