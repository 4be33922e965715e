//! Bounded caches keyed by a keyed hash of the token (never the token itself).
//!
//! # Why a fast keyed hash is enough here
//! A cache entry holds what was verified for *its own* token. A token that collides with an
//! entry gets that entry's identity, not the claims it carries; so a collision with one's own
//! token gains nothing, and aiming at someone else's entry means producing a second preimage
//! of a hash value that is never disclosed, of a token one does not have, under a secret seed
//! (adapters pass random bytes to [`Authorizer::with_hash_key`](crate::Authorizer::with_hash_key)).
//! A random 128-bit collision among `n` cached entries needs ~2^128/n attempts. XXH3-128 gives
//! that at a fraction of the cost of SipHash or SHA-256, which matters: hashing the token is
//! most of the work of a cached decision.

use core::hash::{BuildHasherDefault, Hash, Hasher};

use hashbrown::HashMap;
use xxhash_rust::xxh3::xxh3_128_with_seed;

/// A 128-bit keyed hash of a token: the only form in which a token is remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(u128);

impl TokenHash {
    /// The hash as 16 bytes (e.g. to hand across a language boundary).
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_le_bytes()
    }

    /// The hash from [`to_bytes`](Self::to_bytes).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(u128::from_le_bytes(bytes))
    }
}

/// Computes keyed 128-bit hashes (of tokens, and of decision-cache keys).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyedHasher {
    seed: u64,
}

impl KeyedHasher {
    pub(crate) fn new(seed: u64) -> Self {
        Self { seed }
    }

    pub(crate) fn token(&self, token: &str) -> TokenHash {
        TokenHash(xxh3_128_with_seed(token.as_bytes(), self.seed))
    }

    pub(crate) fn bytes(&self, bytes: &[u8]) -> u128 {
        xxh3_128_with_seed(bytes, self.seed)
    }
}

/// The keys of these maps are already uniformly distributed hashes: hash them no further.
#[derive(Default)]
pub(crate) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached for keys that are not plain integers: fold them in.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (w, b) in word.iter_mut().zip(chunk) {
                *w = *b;
            }
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u128(&mut self, n: u128) {
        #[expect(clippy::cast_possible_truncation, reason = "folding 128 bits into 64")]
        {
            self.0 ^= (n as u64) ^ ((n >> 64) as u64);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

type PassThrough = BuildHasherDefault<PassThroughHasher>;

/// A bounded map with two generations: inserts go to the young one; when it is full the
/// old generation is dropped and the young one becomes old. Lookups in the old generation
/// promote the entry. O(1), no per-entry bookkeeping, at most `capacity` entries; a
/// capacity of 0 keeps nothing.
#[derive(Debug)]
pub(crate) struct BoundedCache<K, V> {
    young: HashMap<K, V, PassThrough>,
    old: HashMap<K, V, PassThrough>,
    half: usize,
}

impl<K: Hash + Eq + Clone, V> BoundedCache<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            young: HashMap::default(),
            old: HashMap::default(),
            half: capacity / 2,
        }
    }

    pub(crate) fn get(&mut self, key: &K) -> Option<&V> {
        if !self.young.contains_key(key) {
            let value = self.old.remove(key)?;
            self.insert(key.clone(), value);
        }
        self.young.get(key)
    }

    pub(crate) fn insert(&mut self, key: K, value: V) {
        if self.half == 0 {
            return;
        }
        if self.young.len() >= self.half && !self.young.contains_key(&key) {
            self.old = core::mem::take(&mut self.young);
        }
        self.young.insert(key, value);
    }

    pub(crate) fn remove(&mut self, key: &K) {
        self.young.remove(key);
        self.old.remove(key);
    }

    /// Forgets every entry.
    pub(crate) fn clear(&mut self) {
        self.young.clear();
        self.old.clear();
    }

    /// Removes the entry and hands it back.
    pub(crate) fn take(&mut self, key: &K) -> Option<V> {
        self.young.remove(key).or_else(|| self.old.remove(key))
    }

    pub(crate) fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_bounded_and_keeps_recent_entries() {
        let mut cache = BoundedCache::new(100);
        for i in 0..10_000u64 {
            cache.insert(i, i);
            assert!(cache.len() <= 100);
        }
        assert_eq!(cache.get(&9_999), Some(&9_999));
        assert_eq!(cache.get(&0), None);
    }

    #[test]
    fn a_hit_in_the_old_generation_survives_the_next_rotation() {
        let mut cache = BoundedCache::new(4);
        cache.insert(1u64, 1);
        cache.insert(2, 2);
        cache.insert(3, 3); // rotates: {1,2} old
        assert_eq!(cache.get(&1), Some(&1)); // promoted
        cache.insert(4, 4); // rotates: {3,1} old
        assert_eq!(cache.get(&1), Some(&1));
        assert_eq!(cache.get(&2), None);
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut cache = BoundedCache::new(0);
        cache.insert(1u64, 1);
        assert_eq!(cache.get(&1), None);
    }

    #[test]
    fn token_hash_depends_on_seed_and_token() {
        let a = KeyedHasher::new(1);
        let b = KeyedHasher::new(2);
        assert_eq!(a.token("x.y.z"), a.token("x.y.z"));
        assert_ne!(a.token("x.y.z"), a.token("x.y.Z"));
        assert_ne!(a.token("x.y.z"), b.token("x.y.z"));
    }
}
