//! Revocation: a signed-out, disabled or removed user loses access within a bounded time.
//!
//! A JWT stays valid until its `exp` whatever happens to its user. Revocation records,
//! kept in a store the adapter reads (Workers KV, DynamoDB, a URL, a function) or handed to
//! the authorizer directly ([`Authorizer::revoke`](crate::Authorizer::revoke)), refuse
//! tokens after verification and before policies (reason `revoked`). Three kinds, each
//! under its own store key:
//!
//! | kind | key | refuses |
//! | --- | --- | --- |
//! | user cutoff | `user#{iss}#{sub}` | the user's tokens issued at or before `before` (`iat` ≤ `before`; a token without `iat`) |
//! | session | `session#{iss}#{origin_jti}` | every token of one sign-in (Cognito's `origin_jti`, what `RevokeToken` revokes) |
//! | token | `token#{iss}#{jti}` | one token |
//!
//! A record is a JSON object: `{"before": T}` for a user cutoff (seconds since the epoch),
//! `{}` for the others; each may say `"expiresAt": T`, after which it is ignored (stores
//! use it to drop records once the tokens they cover have expired). A record the core
//! cannot read is taken as revoking: its key says someone meant to.
//!
//! Records, and their absence, are cached for `freshnessSeconds` (default 30): a record
//! written to the store takes effect within that time, whatever any cache holds. When the
//! store cannot be read the caller is refused (503, `revocations_unavailable`), or with
//! `whenUnavailable: "stale"` the last answer read is used for at most `maxStaleSeconds`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::cache::{BoundedCache, KeyedHasher};
use crate::driver::PolicyInput;
use crate::token::Claims;

/// How long a record must be kept after its cutoff (or, for a session or a token, after it
/// is written) to cover every token it refuses: Cognito's tokens live at most a day, and a
/// token is accepted up to `graceSeconds` (at most 300) past its `exp`. Stores may drop a
/// record then (`expiresAt`).
pub const RECORD_LIFETIME: u64 = 24 * 3600 + crate::token::verifier::MAX_GRACE_SECONDS;

/// After a failed read, how long a key is answered from what is cached (or refused) before
/// the authorizer asks for it again (seconds), so that a failing store is not hammered.
const RETRY_AFTER_FAILURE: u64 = 5;

/// What the authorizer does when the revocation store cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnavailable {
    /// Refuse the caller (503, `revocations_unavailable`): no revocation can be missed.
    Deny,
    /// Keep using the records last read (and their absence) for at most `max_stale_seconds`
    /// past their freshness, then refuse.
    Stale,
}

/// Where revocation records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationSource {
    /// The adapter's store, read on [`Need::LoadRevocations`](crate::Need::LoadRevocations).
    External,
    /// Only records handed to [`Authorizer::revoke`](crate::Authorizer::revoke) (one process).
    Local,
}

/// The `revocation` configuration section. Absent: revocation is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationConfig {
    /// A record written to the store takes effect within this many seconds (default 30).
    pub freshness_seconds: u64,
    /// What a failed read means.
    pub when_unavailable: WhenUnavailable,
    /// With [`WhenUnavailable::Stale`]: how long past freshness old answers are used
    /// (default 300).
    pub max_stale_seconds: u64,
    /// Where records come from.
    pub source: RevocationSource,
    /// Records (and absences) kept, at most (default 100 000).
    pub cache_entries: usize,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        Self {
            freshness_seconds: 30,
            when_unavailable: WhenUnavailable::Deny,
            max_stale_seconds: 300,
            source: RevocationSource::External,
            cache_entries: 100_000,
        }
    }
}

/// What a revocation record covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// Every token of user `subject` issued at or before `before`.
    User {
        /// The issuer (`iss`).
        issuer: String,
        /// The user (`sub`).
        subject: String,
        /// The cutoff, seconds since the epoch.
        before: u64,
    },
    /// Every token of one sign-in.
    Session {
        /// The issuer (`iss`).
        issuer: String,
        /// The sign-in's `origin_jti`.
        origin_jti: String,
    },
    /// One token.
    Token {
        /// The issuer (`iss`).
        issuer: String,
        /// The token's `jti`.
        jti: String,
    },
}

impl Revocation {
    /// The issuer whose tokens the record covers.
    pub fn issuer(&self) -> &str {
        match self {
            Self::User { issuer, .. }
            | Self::Session { issuer, .. }
            | Self::Token { issuer, .. } => issuer,
        }
    }

    /// The store key of this record.
    pub fn key(&self) -> String {
        match self {
            Self::User {
                issuer, subject, ..
            } => key("user", issuer, subject),
            Self::Session { issuer, origin_jti } => key("session", issuer, origin_jti),
            Self::Token { issuer, jti } => key("token", issuer, jti),
        }
    }

    /// The record as stored under [`key`](Self::key): `{"before": T}` or `{}`, with
    /// `expiresAt` when given (a store may drop the record then).
    pub fn record_json(&self, expires_at: Option<u64>) -> Value {
        let mut out = Map::new();
        if let Self::User { before, .. } = self {
            out.insert("before".into(), Value::from(*before));
        }
        if let Some(at) = expires_at {
            out.insert("expiresAt".into(), Value::from(at));
        }
        Value::Object(out)
    }
}

fn key(kind: &str, issuer: &str, value: &str) -> String {
    let mut key = String::with_capacity(kind.len() + issuer.len() + value.len() + 2);
    for part in [kind, "#", issuer, "#", value] {
        key.push_str(part);
    }
    key
}

/// Why a stored record could not be read (it is taken as revoking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// The record's key.
    pub key: String,
    /// What is wrong.
    pub message: &'static str,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "revocation record `{}`: {} (taken as revoking)",
            self.key, self.message
        )
    }
}

/// A record as the core keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    /// No record: nothing is revoked under this key.
    Absent,
    /// Tokens issued at or before `before` are revoked (sessions and tokens: `u64::MAX`).
    Before { before: u64, expires_at: u64 },
}

impl Record {
    fn revokes(self, issued_at: Option<u64>, now: u64) -> bool {
        match self {
            Self::Absent => false,
            Self::Before { .. } if self.expired(now) => false,
            // A token without `iat` cannot show it was issued after the cutoff.
            Self::Before { before, .. } => issued_at.is_none_or(|iat| iat <= before),
        }
    }

    fn expired(self, now: u64) -> bool {
        matches!(self, Self::Before { expires_at, .. } if expires_at <= now)
    }
}

/// Reads the record stored under `key`; an unreadable one revokes everything it could.
fn parse_record(key: &str, stored: PolicyInput<'_>) -> (Record, Option<RecordError>) {
    let unreadable = |message: &'static str| {
        (
            Record::Before {
                before: u64::MAX,
                expires_at: u64::MAX,
            },
            Some(RecordError {
                key: String::from(key),
                message,
            }),
        )
    };
    let parsed;
    let value = match stored {
        PolicyInput::Absent => return (Record::Absent, None),
        PolicyInput::Json(value) => value,
        PolicyInput::Invalid(_) => return unreadable("not JSON text or a JSON value"),
        PolicyInput::Text(text) => match crate::json::parse_strict(text.as_bytes()) {
            Ok(value) => {
                parsed = value;
                &parsed
            }
            Err(_) => return unreadable("not JSON (or a member given twice)"),
        },
    };
    let Value::Object(members) = value else {
        return unreadable("not a JSON object");
    };
    let user = key.starts_with("user#");
    let mut before = u64::MAX;
    let mut expires_at = u64::MAX;
    for (name, value) in members {
        let slot = match name.as_str() {
            "before" if user => &mut before,
            "expiresAt" => &mut expires_at,
            _ => return unreadable("a member other than `before` (user cutoffs) and `expiresAt`"),
        };
        let Some(number) = value.as_u64() else {
            return unreadable("`before` and `expiresAt` must be whole seconds since the epoch");
        };
        *slot = number;
    }
    if user && !members.contains_key("before") {
        return unreadable("a user cutoff needs `before`");
    }
    (Record::Before { before, expires_at }, None)
}

/// What the store last answered for one key.
#[derive(Debug, Clone, Copy)]
struct Entry {
    record: Record,
    /// When the store last answered for this key (never: only failures so far).
    loaded_at: Option<u64>,
    failed_at: Option<u64>,
}

/// A record handed to `revoke` in this process.
#[derive(Debug, Clone, Copy)]
struct Local {
    before: u64,
    expires_at: u64,
}

/// What the revocation check found for a caller.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Not revoked; the answer holds until this time (then it is checked again).
    Clear(u64),
    /// Revoked.
    Revoked,
    /// These keys must be read first.
    Missing(Vec<String>),
    /// The store cannot be read and nothing usable is cached.
    Unavailable,
}

/// Why [`Authorizer::revoke`](crate::Authorizer::revoke) could not keep a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeError {
    /// No `revocation` section: nothing would ever check the record.
    Off,
    /// The record names an issuer that is not configured: it could never match a token.
    UnknownIssuer,
    /// `cacheEntries` records handed to `revoke` are held and none has expired: a record
    /// dropped to make room would let its tokens in again, so none is.
    Full,
}

impl fmt::Display for RevokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Off => {
                "revocation is not configured: add a `revocation` section to the configuration"
            }
            Self::UnknownIssuer => "the record's issuer is not a configured issuer",
            Self::Full => {
                "revocation.cacheEntries records are held in this process and none has expired: \
                 write the record to the store instead"
            }
        })
    }
}

/// The records the authorizer holds: the store's answers (a bounded cache: an answer
/// dropped is read again) and the records handed to `revoke` (kept apart, never dropped
/// before they expire: dropping one would let its tokens in).
#[derive(Debug)]
pub(crate) struct Revocations {
    config: RevocationConfig,
    /// By the keyed 128-bit hash of the store key: the hash maps the core already has, no
    /// string map of its own (a collision would need 2^64 keys).
    entries: BoundedCache<u128, Entry>,
    /// Sorted by slot (binary search: records handed to `revoke` are few, and a sorted
    /// vector costs the wasm far less than a map).
    local: Vec<(u128, Local)>,
}

impl Revocations {
    pub(crate) fn new(config: RevocationConfig) -> Self {
        Self {
            config,
            entries: BoundedCache::new(config.cache_entries),
            local: Vec::new(),
        }
    }

    /// The store keys of a caller: its user, its session and its token, when it has them
    /// (a `jti` that is not a string — which RFC 7519 asks it to be — is keyed by its JSON
    /// text, so that no token escapes its records by its claims' types).
    pub(crate) fn keys_of(issuer: &str, subject: &str, claims: &Claims) -> Vec<String> {
        let mut keys = Vec::with_capacity(3);
        keys.push(key("user", issuer, subject));
        for (claim, kind) in [("origin_jti", "session"), ("jti", "token")] {
            // Strings (as RFC 7519 has them) from the index; others by their JSON text.
            match claims.str(claim) {
                Ok(None) => continue,
                Ok(Some(value)) => {
                    keys.push(key(kind, issuer, value));
                    continue;
                }
                Err(()) => {}
            }
            match claims.get(claim) {
                None | Some(Value::Null) => {}
                Some(Value::String(value)) => keys.push(key(kind, issuer, value)),
                Some(other) => keys.push(key(kind, issuer, &crate::json::to_text(other))),
            }
        }
        keys
    }

    /// Whether a caller with these keys, issued at `issued_at`, is revoked at `now`.
    pub(crate) fn check(
        &mut self,
        hasher: &KeyedHasher,
        keys: &[String],
        issued_at: Option<u64>,
        now: u64,
    ) -> Check {
        let config = self.config;
        let fresh_for = config.freshness_seconds;
        let mut until = u64::MAX;
        let mut missing = Vec::new();
        let mut unavailable = false;
        for key in keys {
            let slot = hasher.bytes(key.as_bytes());
            if let Some(local) = self.local_record(slot) {
                let record = Record::Before {
                    before: local.before,
                    expires_at: local.expires_at,
                };
                if record.revokes(issued_at, now) {
                    return Check::Revoked;
                }
            }
            if config.source == RevocationSource::Local {
                continue;
            }
            let Some(entry) = self.entries.get(&slot).copied() else {
                missing.push(key.clone());
                continue;
            };
            let revokes = entry.record.revokes(issued_at, now);
            let failing = entry
                .failed_at
                .is_some_and(|at| at <= now && now < at.saturating_add(RETRY_AFTER_FAILURE));
            // Fresh from the read on, for the freshness: a clock that stepped back before the
            // read makes the answer stale (read again), never longer-lived.
            let fresh_until = entry
                .loaded_at
                .filter(|at| *at <= now)
                .map(|at| at.saturating_add(fresh_for));
            match fresh_until {
                Some(fresh_until) if now < fresh_until => {
                    if revokes {
                        return Check::Revoked;
                    }
                    until = until.min(fresh_until);
                }
                // Stale, or never read: read it again, unless that just failed.
                _ if !failing => missing.push(key.clone()),
                // A revoking record stays revoking while it cannot be read again.
                _ if revokes => return Check::Revoked,
                Some(fresh_until) => {
                    let stale_until = fresh_until.saturating_add(config.max_stale_seconds);
                    if config.when_unavailable == WhenUnavailable::Stale && now < stale_until {
                        // Answered from the last read until the next retry, at most.
                        let retry_at = entry.failed_at.map_or(now, |at| at + RETRY_AFTER_FAILURE);
                        until = until.min(retry_at.min(stale_until));
                    } else {
                        unavailable = true;
                    }
                }
                // Never read (or read "in the future"), and reading failed.
                None => unavailable = true,
            }
        }
        if !missing.is_empty() {
            Check::Missing(missing)
        } else if unavailable {
            Check::Unavailable
        } else {
            Check::Clear(until)
        }
    }

    /// Keeps the record read for `key` (a store answer); returns why it is unreadable.
    pub(crate) fn loaded(
        &mut self,
        hasher: &KeyedHasher,
        key: &str,
        stored: PolicyInput<'_>,
        now: u64,
    ) -> Result<(), RecordError> {
        let (record, error) = parse_record(key, stored);
        let entry = Entry {
            record,
            loaded_at: Some(now),
            failed_at: None,
        };
        self.entries.insert(hasher.bytes(key.as_bytes()), entry);
        error.map_or(Ok(()), Err)
    }

    /// Notes that reading `keys` failed at `now`.
    pub(crate) fn failed(&mut self, hasher: &KeyedHasher, keys: &[String], now: u64) {
        for key in keys {
            let slot = hasher.bytes(key.as_bytes());
            let entry = match self.entries.get(&slot).copied() {
                Some(entry) => Entry {
                    failed_at: Some(now),
                    ..entry
                },
                // Never read: nothing to fall back on, refused until the retry.
                None => Entry {
                    record: Record::Absent,
                    loaded_at: None,
                    failed_at: Some(now),
                },
            };
            self.entries.insert(slot, entry);
        }
    }

    /// Keeps a record handed over in this process, at once and until it expires, beside
    /// whatever the store says for its key.
    pub(crate) fn revoke(
        &mut self,
        hasher: &KeyedHasher,
        revocation: &Revocation,
        expires_at: Option<u64>,
        now: u64,
    ) -> Result<(), RevokeError> {
        let before = match revocation {
            Revocation::User { before, .. } => *before,
            Revocation::Session { .. } | Revocation::Token { .. } => u64::MAX,
        };
        let slot = hasher.bytes(revocation.key().as_bytes());
        let expires_at = expires_at.unwrap_or(u64::MAX);
        match self.local.binary_search_by_key(&slot, |(s, _)| *s) {
            // Two records for one key: the one that refuses more holds.
            Ok(at) => {
                if let Some((_, held)) = self.local.get_mut(at) {
                    held.before = held.before.max(before);
                    held.expires_at = held.expires_at.max(expires_at);
                }
            }
            Err(_) => {
                if self.local.len() >= self.config.cache_entries {
                    self.local.retain(|(_, local)| now < local.expires_at);
                    if self.local.len() >= self.config.cache_entries {
                        return Err(RevokeError::Full);
                    }
                }
                let at = self
                    .local
                    .binary_search_by_key(&slot, |(s, _)| *s)
                    .unwrap_or_else(|at| at);
                self.local.insert(at, (slot, Local { before, expires_at }));
            }
        }
        Ok(())
    }

    fn local_record(&self, slot: u128) -> Option<&Local> {
        let at = self.local.binary_search_by_key(&slot, |(s, _)| *s).ok()?;
        self.local.get(at).map(|(_, local)| local)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use serde_json::json;

    fn revocations(config: RevocationConfig) -> Revocations {
        Revocations::new(config)
    }

    const KEY: &str = "user#https://issuer.test#alice";
    static H: std::sync::LazyLock<KeyedHasher> = std::sync::LazyLock::new(|| KeyedHasher::new(7));

    #[test]
    fn a_user_cutoff_refuses_tokens_issued_at_or_before_it() {
        let mut r = revocations(RevocationConfig::default());
        let keys = [String::from(KEY)];
        assert_eq!(
            r.check(&H, &keys, Some(100), 50),
            Check::Missing(keys.to_vec())
        );
        r.loaded(&H, KEY, PolicyInput::Text(r#"{"before":100}"#), 50)
            .unwrap();
        assert_eq!(r.check(&H, &keys, Some(100), 50), Check::Revoked);
        assert_eq!(r.check(&H, &keys, Some(99), 50), Check::Revoked);
        assert_eq!(r.check(&H, &keys, None, 50), Check::Revoked);
        assert_eq!(r.check(&H, &keys, Some(101), 50), Check::Clear(80));
        // Stale after the freshness window: read again.
        assert_eq!(
            r.check(&H, &keys, Some(101), 80),
            Check::Missing(keys.to_vec())
        );
    }

    #[test]
    fn expired_records_and_absent_ones_revoke_nothing() {
        let mut r = revocations(RevocationConfig::default());
        let keys = [String::from("token#i#j")];
        r.loaded(
            &H,
            &keys[0],
            PolicyInput::Json(&json!({"expiresAt": 60})),
            50,
        )
        .unwrap();
        assert_eq!(r.check(&H, &keys, Some(1), 59), Check::Revoked);
        assert_eq!(r.check(&H, &keys, Some(1), 60), Check::Clear(80));
        r.loaded(&H, &keys[0], PolicyInput::Absent, 70).unwrap();
        assert_eq!(r.check(&H, &keys, Some(1), 70), Check::Clear(100));
    }

    #[test]
    fn unreadable_records_revoke() {
        for bad in [
            "nope",
            "[]",
            r#"{"before":"yesterday"}"#,
            r#"{"after":1}"#,
            r#"{"before":1,"before":2}"#,
            "{}",
        ] {
            let mut r = revocations(RevocationConfig::default());
            assert!(
                r.loaded(&H, KEY, PolicyInput::Text(bad), 0).is_err(),
                "{bad}"
            );
            assert_eq!(
                r.check(&H, &[String::from(KEY)], Some(5), 0),
                Check::Revoked,
                "{bad}"
            );
        }
        // `before` means nothing for a session: refused as unknown, which revokes.
        let mut r = revocations(RevocationConfig::default());
        assert!(r
            .loaded(&H, "session#i#s", PolicyInput::Text(r#"{"before":1}"#), 0)
            .is_err());
    }

    #[test]
    fn a_failed_read_refuses_or_serves_stale_as_configured() {
        let keys = [String::from(KEY)];
        let mut deny = revocations(RevocationConfig::default());
        deny.failed(&H, &keys, 10);
        assert_eq!(deny.check(&H, &keys, Some(1), 10), Check::Unavailable);
        assert_eq!(
            deny.check(&H, &keys, Some(1), 15),
            Check::Missing(keys.to_vec())
        );
        deny.loaded(&H, KEY, PolicyInput::Absent, 20).unwrap();
        deny.failed(&H, &keys, 50);
        assert_eq!(deny.check(&H, &keys, Some(1), 52), Check::Unavailable);

        let stale = RevocationConfig {
            when_unavailable: WhenUnavailable::Stale,
            max_stale_seconds: 60,
            ..RevocationConfig::default()
        };
        let mut r = revocations(stale);
        r.loaded(&H, KEY, PolicyInput::Absent, 20).unwrap();
        r.failed(&H, &keys, 50);
        assert_eq!(r.check(&H, &keys, Some(1), 52), Check::Clear(55));
        r.failed(&H, &keys, 105);
        assert_eq!(r.check(&H, &keys, Some(1), 109), Check::Clear(110));
        r.failed(&H, &keys, 111);
        assert_eq!(r.check(&H, &keys, Some(1), 111), Check::Unavailable);
    }

    #[test]
    fn local_records_hold_until_they_expire() {
        let mut r = revocations(RevocationConfig::default());
        let revocation = Revocation::Session {
            issuer: "i".into(),
            origin_jti: "s".into(),
        };
        r.revoke(&H, &revocation, Some(1000), 5).unwrap();
        let keys = [revocation.key()];
        assert_eq!(r.check(&H, &keys, Some(1), 500), Check::Revoked);
        // The store knows nothing of it: still revoked.
        r.loaded(&H, &keys[0], PolicyInput::Absent, 600).unwrap();
        assert_eq!(r.check(&H, &keys, Some(1), 600), Check::Revoked);
        // Expired: the store's answer (stale by now) is read again.
        assert_eq!(
            r.check(&H, &keys, Some(1), 1000),
            Check::Missing(keys.to_vec())
        );
        r.loaded(&H, &keys[0], PolicyInput::Absent, 1000).unwrap();
        assert_eq!(r.check(&H, &keys, Some(1), 1000), Check::Clear(1030));
    }

    #[test]
    fn a_local_record_and_the_stores_both_hold() {
        let mut r = revocations(RevocationConfig::default());
        let early = Revocation::User {
            issuer: "i".into(),
            subject: "alice".into(),
            before: 100,
        };
        r.revoke(&H, &early, None, 10).unwrap();
        let keys = [early.key()];
        // The store's later cutoff refuses what the local one would let through.
        r.loaded(&H, &keys[0], PolicyInput::Text(r#"{"before":200}"#), 300)
            .unwrap();
        assert_eq!(r.check(&H, &keys, Some(150), 300), Check::Revoked);
        assert_eq!(r.check(&H, &keys, Some(250), 300), Check::Clear(330));
        // And a later local cutoff for the same key raises it.
        let later = Revocation::User {
            issuer: "i".into(),
            subject: "alice".into(),
            before: 260,
        };
        r.revoke(&H, &later, None, 301).unwrap();
        assert_eq!(r.check(&H, &keys, Some(250), 301), Check::Revoked);
    }

    #[test]
    fn local_records_are_never_evicted_and_refuse_to_overflow() {
        let config = RevocationConfig {
            cache_entries: 64,
            ..RevocationConfig::default()
        };
        let mut r = revocations(config);
        let victim = Revocation::Token {
            issuer: "i".into(),
            jti: "victim".into(),
        };
        r.revoke(&H, &victim, Some(10_000), 0).unwrap();
        // Much traffic through the store's cache...
        for n in 0..1000 {
            let key = alloc::format!("user#i#u{n}");
            r.loaded(&H, &key, PolicyInput::Absent, 1).unwrap();
        }
        assert_eq!(r.check(&H, &[victim.key()], Some(1), 2), Check::Revoked);
        // ...and no more local records than configured while none has expired.
        for n in 1..64 {
            let token = Revocation::Token {
                issuer: "i".into(),
                jti: alloc::format!("t{n}"),
            };
            r.revoke(&H, &token, Some(10_000), 0).unwrap();
        }
        let one_more = Revocation::Token {
            issuer: "i".into(),
            jti: "more".into(),
        };
        assert_eq!(
            r.revoke(&H, &one_more, Some(10_000), 5),
            Err(RevokeError::Full)
        );
        assert_eq!(r.check(&H, &[victim.key()], Some(1), 5), Check::Revoked);
        // Once they expire, there is room again.
        assert_eq!(r.revoke(&H, &one_more, None, 10_000), Ok(()));
    }

    #[test]
    fn a_revoking_record_is_read_again_once_stale_and_holds_while_the_store_fails() {
        let mut r = revocations(RevocationConfig::default());
        let keys = [String::from(KEY)];
        r.loaded(&H, KEY, PolicyInput::Text(r#"{"before":"oops"}"#), 0)
            .unwrap_err();
        assert_eq!(r.check(&H, &keys, Some(5), 10), Check::Revoked);
        // Stale: read again; the store failing meanwhile keeps it revoking.
        assert_eq!(
            r.check(&H, &keys, Some(5), 30),
            Check::Missing(keys.to_vec())
        );
        r.failed(&H, &keys, 30);
        assert_eq!(r.check(&H, &keys, Some(5), 31), Check::Revoked);
        // Fixed in the store (deleted): answered clear after the next read.
        r.loaded(&H, KEY, PolicyInput::Absent, 40).unwrap();
        assert_eq!(r.check(&H, &keys, Some(5), 40), Check::Clear(70));
    }

    #[test]
    fn a_clock_that_steps_back_before_a_read_makes_it_stale() {
        let mut r = revocations(RevocationConfig::default());
        let keys = [String::from(KEY)];
        r.loaded(&H, KEY, PolicyInput::Absent, 1000).unwrap();
        assert_eq!(r.check(&H, &keys, Some(5), 1000), Check::Clear(1030));
        assert_eq!(
            r.check(&H, &keys, Some(5), 900),
            Check::Missing(keys.to_vec())
        );
    }

    #[test]
    fn keys_name_issuer_and_claim() {
        let numeric = json!({"origin_jti": 456, "jti": 123, "sub": "s"});
        let Value::Object(numeric) = numeric else {
            unreachable!()
        };
        assert_eq!(
            Revocations::keys_of("i", "s", &Claims::from_map(numeric)),
            ["user#i#s", "session#i#456", "token#i#123"],
            "a jti of another type is keyed by its JSON text, never skipped"
        );
        let claims = json!({"origin_jti": "o", "jti": "j", "sub": "s"});
        let Value::Object(claims) = claims else {
            unreachable!()
        };
        assert_eq!(
            Revocations::keys_of("https://i", "s", &Claims::from_map(claims)),
            [
                "user#https://i#s",
                "session#https://i#o",
                "token#https://i#j"
            ]
        );
        let user = Revocation::User {
            issuer: "https://i".into(),
            subject: "s".into(),
            before: 7,
        };
        assert_eq!(user.key(), "user#https://i#s");
        assert_eq!(
            user.record_json(Some(9)),
            json!({"before": 7, "expiresAt": 9})
        );
    }
}
