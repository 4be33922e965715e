//! Strict unpadded base64url decoding (RFC 4648 §5, as JWS and JWK use it).
//!
//! Strict means one encoding per byte string: no padding, no whitespace, nothing outside the
//! URL-safe alphabet, and the unused low bits of the last character must be zero. A token
//! that decodes has exactly one spelling, so its hash (the cache key) names its content.
//!
//! Token segments are public, so unlike `base64ct` this is not constant-time: a table lookup
//! per character, four at a time, several times faster on the path of every unseen token.

use alloc::vec::Vec;

/// Marks a byte outside the alphabet; any sextet with this bit set poisons its group.
const INVALID: u8 = 0x80;

/// Sextet value of each byte, or [`INVALID`].
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range fails the build"
)]
static SEXTETS: [u8; 256] = {
    let mut table = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

#[inline(always)]
fn sextet(byte: u8) -> u32 {
    // The table has 256 entries, so every `u8` is in range and the fallback is never taken.
    u32::from(SEXTETS.get(usize::from(byte)).copied().unwrap_or(INVALID))
}

/// Decodes `input`, or `None` if it is not strict unpadded base64url.
pub(crate) fn decode(input: &str) -> Option<Vec<u8>> {
    let bytes = input.as_bytes();
    let tail = match bytes.len() % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        // One leftover character carries 6 bits: not a whole byte.
        _ => return None,
    };
    let whole = bytes.len() / 4 * 3;
    // Sized once: the loop writes through fixed-size chunks, with no capacity checks.
    let mut out = alloc::vec![0u8; whole + tail];
    let (body, rest) = out.split_at_mut(whole);
    let mut groups = bytes.chunks_exact(4);
    let mut poisoned = 0u32;
    for (group, triple_out) in (&mut groups).zip(body.chunks_exact_mut(3)) {
        let (&[a, b, c, d], [x, y, z]) = (group, triple_out) else {
            return None;
        };
        let (a, b, c, d) = (sextet(a), sextet(b), sextet(c), sextet(d));
        poisoned |= a | b | c | d;
        let triple = (a << 18) | (b << 12) | (c << 6) | d;
        (*x, *y, *z) = ((triple >> 16) as u8, (triple >> 8) as u8, triple as u8);
    }
    match (groups.remainder(), rest) {
        ([], []) => {}
        (&[a, b], [x]) => {
            let (a, b) = (sextet(a), sextet(b));
            // 12 bits carry 8: the last character's low 4 bits must be zero.
            if b & 0x0f != 0 {
                return None;
            }
            poisoned |= a | b;
            *x = ((a << 2) | (b >> 4)) as u8;
        }
        (&[a, b, c], [x, y]) => {
            let (a, b, c) = (sextet(a), sextet(b), sextet(c));
            // 18 bits carry 16: the last character's low 2 bits must be zero.
            if c & 0x03 != 0 {
                return None;
            }
            poisoned |= a | b | c;
            let pair = (a << 10) | (b << 4) | (c >> 2);
            (*x, *y) = ((pair >> 8) as u8, pair as u8);
        }
        _ => return None,
    }
    (poisoned & u32::from(INVALID) == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64UrlUnpadded, Encoding};
    use proptest::prelude::*;

    #[test]
    fn decodes_rfc_4648_vectors() {
        for (encoded, decoded) in [
            ("", ""),
            ("Zg", "f"),
            ("Zm8", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg", "foob"),
            ("Zm9vYmE", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ] {
            assert_eq!(decode(encoded).as_deref(), Some(decoded.as_bytes()));
        }
        assert_eq!(decode("-_-_").unwrap(), [0xfb, 0xff, 0xbf]);
    }

    #[test]
    fn rejects_what_is_not_strict_base64url() {
        for bad in [
            "Z", "Zm9vY", "Zg==", "Zm8=", "Zm+v", "Zm/v", "Zm 9", "Zm9v\n", "Zh", "Zm9", "Zm-",
            "é", "Zm\u{0}v",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }

    proptest! {
        /// Agrees with base64ct's constant-time decoder on every input, valid or not.
        #[test]
        fn agrees_with_base64ct(input in "[A-Za-z0-9_=+/-]{0,40}") {
            prop_assert_eq!(decode(&input), Base64UrlUnpadded::decode_vec(&input).ok());
        }

        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let encoded = Base64UrlUnpadded::encode_string(&bytes);
            prop_assert_eq!(decode(&encoded), Some(bytes));
        }
    }
}
