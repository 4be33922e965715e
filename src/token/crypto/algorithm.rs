//! The JWS algorithms the core verifies, and small sets of them.

use core::fmt;

/// A JWS signature algorithm the core can verify (RFC 7518 names).
///
/// HMAC (`HS*`) and `none` are deliberately absent: a token naming them never verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, 32-byte salt).
    Ps256,
    /// RSASSA-PSS with SHA-384 (MGF1 SHA-384, 48-byte salt).
    Ps384,
    /// RSASSA-PSS with SHA-512 (MGF1 SHA-512, 64-byte salt).
    Ps512,
    /// ECDSA on P-256 with SHA-256; the signature is `r || s`, 64 bytes.
    Es256,
    /// ECDSA on P-384 with SHA-384; the signature is `r || s`, 96 bytes.
    Es384,
    /// Ed25519 (`EdDSA` with `crv: Ed25519`); the signature is 64 bytes.
    EdDsa,
}

impl Algorithm {
    /// Every supported algorithm, in a fixed order (the bit order of [`AlgorithmSet`]).
    pub const ALL: [Algorithm; 9] = [
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::EdDsa,
    ];

    /// The algorithm with this exact JWS name (`RS256` ... `EdDSA`, case-sensitive).
    ///
    /// `none`, `HS256` and every other name (in any case) give `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "RS256" => Self::Rs256,
            "RS384" => Self::Rs384,
            "RS512" => Self::Rs512,
            "PS256" => Self::Ps256,
            "PS384" => Self::Ps384,
            "PS512" => Self::Ps512,
            "ES256" => Self::Es256,
            "ES384" => Self::Es384,
            "EdDSA" => Self::EdDsa,
            _ => return None,
        })
    }

    /// The JWS name (`alg` header value).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Whether this is an RSA algorithm (`RS*` or `PS*`).
    pub const fn is_rsa(self) -> bool {
        matches!(
            self,
            Self::Rs256 | Self::Rs384 | Self::Rs512 | Self::Ps256 | Self::Ps384 | Self::Ps512
        )
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A small, `Copy` set of [`Algorithm`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AlgorithmSet(u16);

impl AlgorithmSet {
    /// No algorithm.
    pub const EMPTY: Self = Self(0);
    /// Every supported algorithm.
    pub const ALL: Self = Self((1 << Algorithm::ALL.len()) - 1);
    /// `RS256`, `RS384`, `RS512`, `PS256`, `PS384`, `PS512`.
    pub const RSA: Self = Self(
        Algorithm::Rs256.bit()
            | Algorithm::Rs384.bit()
            | Algorithm::Rs512.bit()
            | Algorithm::Ps256.bit()
            | Algorithm::Ps384.bit()
            | Algorithm::Ps512.bit(),
    );

    /// The set holding only `algorithm`.
    pub const fn single(algorithm: Algorithm) -> Self {
        Self(algorithm.bit())
    }

    /// This set plus `algorithm`.
    #[must_use]
    pub const fn with(self, algorithm: Algorithm) -> Self {
        Self(self.0 | algorithm.bit())
    }

    /// Adds `algorithm`.
    pub fn insert(&mut self, algorithm: Algorithm) {
        self.0 |= algorithm.bit();
    }

    /// Whether `algorithm` is in the set.
    pub const fn contains(self, algorithm: Algorithm) -> bool {
        self.0 & algorithm.bit() != 0
    }

    /// The algorithms in both sets.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The algorithms in either set.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every algorithm of `self` is in `other`.
    pub const fn is_subset(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many algorithms are in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The algorithms in the set, in [`Algorithm::ALL`] order.
    pub fn iter(self) -> AlgorithmSetIter {
        AlgorithmSetIter { set: self, next: 0 }
    }
}

impl From<Algorithm> for AlgorithmSet {
    fn from(algorithm: Algorithm) -> Self {
        Self::single(algorithm)
    }
}

impl FromIterator<Algorithm> for AlgorithmSet {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        for algorithm in iter {
            set.insert(algorithm);
        }
        set
    }
}

impl IntoIterator for AlgorithmSet {
    type Item = Algorithm;
    type IntoIter = AlgorithmSetIter;

    fn into_iter(self) -> AlgorithmSetIter {
        self.iter()
    }
}

impl fmt::Debug for AlgorithmSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Algorithm::name))
            .finish()
    }
}

/// Iterator over an [`AlgorithmSet`].
#[derive(Debug, Clone)]
pub struct AlgorithmSetIter {
    set: AlgorithmSet,
    next: usize,
}

impl Iterator for AlgorithmSetIter {
    type Item = Algorithm;

    fn next(&mut self) -> Option<Algorithm> {
        while let Some(&algorithm) = Algorithm::ALL.get(self.next) {
            self.next += 1;
            if self.set.contains(algorithm) {
                return Some(algorithm);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    #[test]
    fn algorithm_names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        for bad in [
            "none", "None", "NONE", "HS256", "rs256", "Ed25519", "ES256K", "", "RS256 ",
        ] {
            assert_eq!(Algorithm::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn algorithm_set_operations() {
        let set: AlgorithmSet = [Algorithm::Rs256, Algorithm::Es256].into_iter().collect();
        assert!(set.contains(Algorithm::Rs256));
        assert!(!set.contains(Algorithm::Rs384));
        assert_eq!(set.len(), 2);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Algorithm::Rs256, Algorithm::Es256]
        );
        assert_eq!(
            set.intersection(AlgorithmSet::RSA),
            AlgorithmSet::single(Algorithm::Rs256)
        );
        assert!(AlgorithmSet::EMPTY.is_empty());
        assert_eq!(AlgorithmSet::ALL.len(), 9);
        assert_eq!(AlgorithmSet::ALL.iter().collect::<Vec<_>>(), Algorithm::ALL);
        assert!(AlgorithmSet::RSA.is_subset(AlgorithmSet::ALL));
    }
}
