//! The JWKS cache: a sans-IO state machine, one slot per configured issuer.
//!
//! It never fetches anything. When a token needs keys the cache does not have (none yet,
//! expired, or an unknown `kid` outside the penalty window) it answers
//! `KeyLookup::Fetch` once, marks the issuer in flight, and answers
//! `KeyLookup::InFlight` to everyone else until the adapter hands back the bytes
//! ([`KeyCache::insert`]) or reports the failure ([`KeyCache::fetch_failed`]).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::crypto::{Algorithm, PublicKey};
use super::error::TokenError;
use super::jwks::{Jwks, JwksError, KeySelection};

/// Timing rules of the key cache, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCachePolicy {
    /// How long a fetched JWKS is fresh (default 3600).
    pub ttl: u64,
    /// After a fetch, how long an unknown `kid` is answered from cache without a new fetch
    /// (default 10): a flood of made-up kids must not become a flood of fetches.
    pub penalty: u64,
    /// How long past its TTL a JWKS is still served while refreshes fail (default 3600).
    pub max_stale: u64,
    /// A fetch not completed within this long is considered lost (default 30).
    pub fetch_timeout: u64,
}

impl Default for KeyCachePolicy {
    fn default() -> Self {
        Self {
            ttl: 3600,
            penalty: 10,
            max_stale: 3600,
            fetch_timeout: 30,
        }
    }
}

/// The answer to "which key verifies this token?".
#[derive(Debug)]
pub(crate) enum KeyLookup {
    /// Use this key.
    Key(Arc<PublicKey>),
    /// Fetch the issuer's JWKS (the cache has marked the fetch as in flight).
    Fetch,
    /// Another caller is fetching the issuer's JWKS; wait for it and retry.
    InFlight,
    /// The token cannot be verified with what we have, and no fetch is due.
    Reject(TokenError),
}

#[derive(Debug, Default)]
struct Slot {
    jwks: Option<Arc<Jwks>>,
    /// When `jwks` was fetched.
    fetched_at: u64,
    /// When the last fetch attempt ended (success or failure).
    last_attempt: Option<u64>,
    /// Whether the last attempt failed.
    last_failed: bool,
    /// When the fetch in flight started.
    in_flight_since: Option<u64>,
}

/// Cached JWKS of every configured issuer (indexed like the configuration's issuers).
#[derive(Debug)]
pub struct KeyCache {
    policy: KeyCachePolicy,
    slots: Vec<Slot>,
}

impl KeyCache {
    /// An empty cache for `issuers` issuers.
    pub fn new(issuers: usize, policy: KeyCachePolicy) -> Self {
        let mut slots = Vec::with_capacity(issuers);
        slots.resize_with(issuers, Slot::default);
        Self { policy, slots }
    }

    /// Finds the key for a token of issuer `issuer` with header `kid` and `alg`.
    pub(crate) fn lookup(
        &mut self,
        issuer: usize,
        kid: Option<&str>,
        algorithm: Algorithm,
        now: u64,
    ) -> KeyLookup {
        let policy = self.policy;
        let Some(slot) = self.slots.get_mut(issuer) else {
            return KeyLookup::Reject(TokenError::WrongIssuer);
        };
        if let Some(since) = slot.in_flight_since {
            if now >= since.saturating_add(policy.fetch_timeout) {
                // The adapter never reported back: count it as a failed attempt.
                slot.in_flight_since = None;
                slot.last_attempt = Some(now);
                slot.last_failed = true;
            }
        }
        let fresh_until = slot.fetched_at.saturating_add(policy.ttl);
        let stale_until = fresh_until.saturating_add(policy.max_stale);
        let in_penalty = slot
            .last_attempt
            .is_some_and(|at| now < at.saturating_add(policy.penalty));
        let refresh_failing = slot.last_failed && in_penalty;

        let fetching = slot.in_flight_since.is_some();
        // Past its TTL a JWKS is still served, up to `max_stale`, while a refresh is
        // running or failing: a slow or broken JWKS endpoint must not stop known tokens.
        let usable = match &slot.jwks {
            Some(jwks)
                if now < fresh_until || ((refresh_failing || fetching) && now < stale_until) =>
            {
                Some(jwks.clone())
            }
            _ => None,
        };
        let Some(jwks) = usable else {
            // Nothing usable: fetch, unless a fetch is running or just failed.
            return if fetching {
                KeyLookup::InFlight
            } else if refresh_failing {
                KeyLookup::Reject(TokenError::JwksUnavailable)
            } else {
                slot.in_flight_since = Some(now);
                KeyLookup::Fetch
            };
        };
        let miss = match jwks.select(kid, algorithm) {
            KeySelection::Found(key) => return KeyLookup::Key(key.clone()),
            KeySelection::NoKeyForAlgorithm => {
                return KeyLookup::Reject(TokenError::AlgorithmNotAllowed)
            }
            KeySelection::UnknownKid => TokenError::UnknownKid,
            KeySelection::Ambiguous => TokenError::AmbiguousKey,
        };
        // The key may have rotated in: refetch, but at most once per penalty window.
        if fetching {
            KeyLookup::InFlight
        } else if in_penalty {
            KeyLookup::Reject(miss)
        } else {
            slot.in_flight_since = Some(now);
            KeyLookup::Fetch
        }
    }

    /// Hands over the fetched JWKS document of `issuer`. A document that is not a JWK
    /// Set counts as a failed fetch (the previous keys stay, within `max_stale`).
    pub fn insert(
        &mut self,
        issuer: usize,
        document: &[u8],
        now: u64,
    ) -> Result<Arc<Jwks>, JwksError> {
        let parsed = Jwks::parse(document);
        let Some(slot) = self.slots.get_mut(issuer) else {
            return parsed.map(Arc::new);
        };
        slot.in_flight_since = None;
        slot.last_attempt = Some(now);
        match parsed {
            Ok(jwks) => {
                let jwks = Arc::new(jwks);
                slot.jwks = Some(jwks.clone());
                slot.fetched_at = now;
                slot.last_failed = false;
                Ok(jwks)
            }
            Err(e) => {
                slot.last_failed = true;
                Err(e)
            }
        }
    }

    /// Reports that fetching the JWKS of `issuer` failed (network error, timeout, non-2xx).
    pub fn fetch_failed(&mut self, issuer: usize, now: u64) {
        if let Some(slot) = self.slots.get_mut(issuer) {
            slot.in_flight_since = None;
            slot.last_attempt = Some(now);
            slot.last_failed = true;
        }
    }

    /// Whether a fetch for `issuer` is in flight.
    pub fn is_fetching(&self, issuer: usize) -> bool {
        self.slots
            .get(issuer)
            .is_some_and(|s| s.in_flight_since.is_some())
    }

    /// The JWKS currently held for `issuer` (fresh or stale).
    pub fn jwks(&self, issuer: usize) -> Option<&Arc<Jwks>> {
        self.slots.get(issuer).and_then(|s| s.jwks.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    const RSA_N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    fn jwks(kids: &[&str]) -> String {
        let keys: alloc::vec::Vec<String> = kids
            .iter()
            .map(|kid| alloc::format!(r#"{{"kty":"RSA","kid":"{kid}","alg":"RS256","use":"sig","n":"{RSA_N}","e":"AQAB"}}"#))
            .collect();
        alloc::format!(r#"{{"keys":[{}]}}"#, keys.join(","))
    }

    fn policy() -> KeyCachePolicy {
        KeyCachePolicy {
            ttl: 100,
            penalty: 10,
            max_stale: 50,
            fetch_timeout: 30,
        }
    }

    fn kind(l: &KeyLookup) -> &'static str {
        match l {
            KeyLookup::Key(_) => "key",
            KeyLookup::Fetch => "fetch",
            KeyLookup::InFlight => "in_flight",
            KeyLookup::Reject(e) => e.code(),
        }
    }

    const RS256: Algorithm = Algorithm::Rs256;

    #[test]
    fn first_use_fetches_once_and_concurrent_demands_wait() {
        let mut cache = KeyCache::new(1, policy());
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 0)), "fetch");
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 0)), "in_flight");
        assert_eq!(kind(&cache.lookup(0, Some("b"), RS256, 1)), "in_flight");
        assert!(cache.is_fetching(0));
        cache.insert(0, jwks(&["a"]).as_bytes(), 1).unwrap();
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 2)), "key");
    }

    #[test]
    fn rotation_fetches_once_then_the_penalty_window_answers() {
        let mut cache = KeyCache::new(1, policy());
        let _ = cache.lookup(0, Some("a"), RS256, 0);
        cache.insert(0, jwks(&["a"]).as_bytes(), 0).unwrap();
        // Unknown kid right after a fetch: no new fetch inside the window.
        assert_eq!(kind(&cache.lookup(0, Some("b"), RS256, 5)), "unknown_kid");
        // After the window: one fetch, which brings the new key.
        assert_eq!(kind(&cache.lookup(0, Some("b"), RS256, 11)), "fetch");
        assert_eq!(kind(&cache.lookup(0, Some("b"), RS256, 11)), "in_flight");
        assert_eq!(
            kind(&cache.lookup(0, Some("a"), RS256, 11)),
            "key",
            "known kids keep working meanwhile"
        );
        cache.insert(0, jwks(&["a", "b"]).as_bytes(), 12).unwrap();
        assert_eq!(kind(&cache.lookup(0, Some("b"), RS256, 12)), "key");
        // A kid that is still missing after that fetch: answered from cache.
        assert_eq!(kind(&cache.lookup(0, Some("c"), RS256, 13)), "unknown_kid");
    }

    #[test]
    fn expiry_after_ttl_and_stale_keys_within_bound() {
        let mut cache = KeyCache::new(1, policy());
        let _ = cache.lookup(0, Some("a"), RS256, 0);
        cache.insert(0, jwks(&["a"]).as_bytes(), 0).unwrap();
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 99)), "key");
        // TTL over: refresh. While it runs, the stale key serves.
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 100)), "fetch");
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 101)), "key");
        cache.fetch_failed(0, 102);
        // Refresh failing: stale keys serve until ttl + max_stale.
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 110)), "key");
        // Past the retry window the refresh is attempted again.
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 112)), "fetch");
        cache.fetch_failed(0, 112);
        // Each retry window starts with one refresh attempt; stale keys answer meanwhile.
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 149)), "fetch");
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 149)), "key");
        cache.fetch_failed(0, 149);
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 149)), "key");
        // Past the stale bound: unavailable, without hammering the endpoint.
        assert_eq!(
            kind(&cache.lookup(0, Some("a"), RS256, 150)),
            "jwks_unavailable"
        );
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 160)), "fetch");
        cache.insert(0, jwks(&["a"]).as_bytes(), 161).unwrap();
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 161)), "key");
    }

    #[test]
    fn garbage_counts_as_a_failed_fetch_and_keeps_the_old_keys() {
        let mut cache = KeyCache::new(1, policy());
        let _ = cache.lookup(0, Some("a"), RS256, 0);
        cache.insert(0, jwks(&["a"]).as_bytes(), 0).unwrap();
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 100)), "fetch");
        assert!(cache
            .insert(0, b"<html>502 Bad Gateway</html>", 100)
            .is_err());
        assert_eq!(kind(&cache.lookup(0, Some("a"), RS256, 101)), "key");
    }

    #[test]
    fn a_lost_fetch_times_out() {
        let mut cache = KeyCache::new(1, policy());
        assert_eq!(kind(&cache.lookup(0, None, RS256, 0)), "fetch");
        assert_eq!(kind(&cache.lookup(0, None, RS256, 29)), "in_flight");
        // The adapter never answered: counted as a failure, retried after the penalty.
        assert_eq!(kind(&cache.lookup(0, None, RS256, 30)), "jwks_unavailable");
        assert_eq!(kind(&cache.lookup(0, None, RS256, 40)), "fetch");
    }

    #[test]
    fn an_unknown_issuer_index_is_rejected() {
        let mut cache = KeyCache::new(1, policy());
        assert_eq!(kind(&cache.lookup(3, None, RS256, 0)), "wrong_issuer");
    }
}
