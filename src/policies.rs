//! Group policies held by the authorizer: bundled, or loaded on demand by the adapter.

use alloc::string::String;
use alloc::sync::Arc;

use crate::HashMap;

use crate::config::{PolicyConfig, PolicySource};
use crate::policy::PolicyDocument;

/// After a failed load, how long a group is answered as unavailable before the
/// authorizer asks for it again (seconds).
const RETRY_AFTER_FAILURE: u64 = 5;

/// The state of one group's policy.
#[derive(Debug, Clone)]
pub(crate) enum GroupPolicy {
    /// The group has this policy.
    Present(Arc<PolicyDocument>),
    /// The group has no policy: it contributes nothing.
    Absent,
    /// The store holds a policy for the group that failed validation: deny.
    Invalid,
}

/// What [`PolicyStore::get`] found.
#[derive(Debug)]
pub(crate) enum Lookup {
    Found(GroupPolicy, /* valid until */ u64),
    /// Not loaded (or expired): the adapter must load it.
    Missing,
    /// Loading failed recently and nothing usable is kept.
    Unavailable,
}

#[derive(Debug)]
struct Entry {
    policy: GroupPolicy,
    loaded_at: u64,
    failed_at: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct PolicyStore {
    bundled: Option<HashMap<String, Arc<PolicyDocument>>>,
    loaded: HashMap<String, Entry>,
    failed: HashMap<String, u64>,
    ttl: u64,
    max_stale: u64,
    /// Bumped whenever a policy changes, so cached decisions made with the old one die.
    generation: u64,
}

impl PolicyStore {
    pub(crate) fn new(config: &PolicyConfig) -> Self {
        let bundled = match &config.source {
            PolicySource::Bundled(groups) => Some(groups.iter().cloned().collect()),
            PolicySource::External => None,
        };
        Self {
            bundled,
            loaded: HashMap::default(),
            failed: HashMap::default(),
            ttl: config.ttl_seconds,
            max_stale: config.max_stale_seconds,
            generation: 0,
        }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn get(&self, group: &str, now: u64) -> Lookup {
        if let Some(bundled) = &self.bundled {
            return Lookup::Found(
                bundled
                    .get(group)
                    .map_or(GroupPolicy::Absent, |p| GroupPolicy::Present(p.clone())),
                u64::MAX,
            );
        }
        let recently_failed = |at: u64| now < at.saturating_add(RETRY_AFTER_FAILURE);
        match self.loaded.get(group) {
            Some(entry) => {
                let fresh_until = entry.loaded_at.saturating_add(self.ttl);
                let failing = entry.failed_at.is_some_and(recently_failed);
                if now < fresh_until {
                    Lookup::Found(entry.policy.clone(), fresh_until)
                } else if failing && now < fresh_until.saturating_add(self.max_stale) {
                    // Reloading fails: keep serving the last good policy, briefly.
                    let retry_at = entry.failed_at.map_or(now, |at| at + RETRY_AFTER_FAILURE);
                    Lookup::Found(entry.policy.clone(), retry_at)
                } else if failing {
                    Lookup::Unavailable
                } else {
                    Lookup::Missing
                }
            }
            None => match self.failed.get(group) {
                Some(at) if recently_failed(*at) => Lookup::Unavailable,
                _ => Lookup::Missing,
            },
        }
    }

    pub(crate) fn insert(&mut self, group: &str, policy: GroupPolicy, now: u64) {
        self.failed.remove(group);
        self.loaded.insert(
            String::from(group),
            Entry {
                policy,
                loaded_at: now,
                failed_at: None,
            },
        );
        self.generation = self.generation.wrapping_add(1);
    }

    pub(crate) fn failed(&mut self, groups: &[String], now: u64) {
        for group in groups {
            match self.loaded.get_mut(group.as_str()) {
                Some(entry) => entry.failed_at = Some(now),
                None => {
                    self.failed.insert(group.clone(), now);
                }
            }
        }
    }

    /// Whether policies come from the adapter.
    pub(crate) fn is_external(&self) -> bool {
        self.bundled.is_none()
    }
}
