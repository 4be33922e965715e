//! The statement index: which statements a request can possibly target.

use alloc::vec::Vec;

use super::compile::Statement;
use super::glob::{Filter, Glob};

/// Which statements a request can possibly target, from the most specific triple of each
/// resource pattern: a request visits only the statements whose triple it contains.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Index {
    /// Distinct first triples, each with its statements `entries[start..end]`.
    keys: Vec<(u16, u32, u32)>,
    entries: Vec<u32>,
    /// Statements that cannot be indexed (NotResource, patterns without a triple).
    always: Vec<u32>,
    /// Triples that every resource pattern of the document contains (when all statements
    /// are indexed): a request missing one targets nothing here.
    shared: Vec<u16>,
}

/// Documents with more statements are scanned linearly.
pub(crate) const INDEXED_MAX: usize = 256;

impl Index {
    pub(crate) fn new(statements: &[Statement]) -> Index {
        // Index each pattern under its rarest triple within the document, the one most
        // likely to be absent from an unrelated request.
        let mut freq = alloc::vec![0u32; 4096];
        for g in statements.iter().flat_map(|st| &st.resources) {
            for k in g.sketch().keys() {
                if let Some(n) = freq.get_mut(usize::from(*k)) {
                    *n += 1;
                }
            }
        }
        let rarest = |g: &Glob| {
            g.sketch()
                .keys()
                .iter()
                .copied()
                .filter(|k| *k != 0)
                .min_by_key(|k| freq.get(usize::from(*k)).copied().unwrap_or(0))
        };
        let mut pairs: Vec<(u16, u32)> = Vec::new();
        let mut always = Vec::new();
        for (i, st) in statements.iter().enumerate() {
            let i = i as u32;
            let keys: Option<Vec<u16>> = st.resources.iter().map(rarest).collect();
            match keys {
                Some(keys) if !st.not_resource => pairs.extend(keys.into_iter().map(|k| (k, i))),
                _ => always.push(i),
            }
        }
        // Plain pairs: any sort gives the same order.
        crate::sort::heapsort(&mut pairs, |a, b| a < b);
        pairs.dedup();
        let mut keys: Vec<(u16, u32, u32)> = Vec::new();
        let mut entries = Vec::with_capacity(pairs.len());
        for (k, st) in pairs {
            let n = entries.len() as u32;
            match keys.last_mut() {
                Some(last) if last.0 == k => last.2 = n + 1,
                _ => keys.push((k, n, n + 1)),
            }
            entries.push(st);
        }
        let mut shared: Vec<u16> = Vec::new();
        if always.is_empty() {
            let mut sketches = statements
                .iter()
                .flat_map(|st| &st.resources)
                .map(Glob::sketch);
            if let Some(first) = sketches.next() {
                shared = first.keys().iter().copied().filter(|k| *k != 0).collect();
                for sk in sketches {
                    shared.retain(|k| sk.keys().contains(k));
                }
            }
        }
        Index {
            keys,
            entries,
            always,
            shared,
        }
    }

    /// The statements `rf` may target, as a bitset (`None`: too many statements, scan all).
    #[inline]
    pub(crate) fn candidates(&self, count: usize, rf: &Filter) -> Option<[u64; 4]> {
        if count > INDEXED_MAX {
            return None;
        }
        let mut set = [0u64; 4];
        if !self.shared.iter().all(|k| rf.has(*k)) {
            return Some(set);
        }
        let mut mark = |s: u32| {
            if let Some(w) = set.get_mut((s >> 6) as usize) {
                *w |= 1u64 << (s & 63);
            }
        };
        for &s in &self.always {
            mark(s);
        }
        for &(key, start, end) in &self.keys {
            if rf.has(key) {
                for &s in self
                    .entries
                    .get(start as usize..end as usize)
                    .unwrap_or(&[])
                {
                    mark(s);
                }
            }
        }
        Some(set)
    }
}
