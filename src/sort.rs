//! One small sort for the whole core.
//!
//! `sort_unstable` and `sort_by` each instantiate several KB of wasm (quicksorts, small
//! sorts, merges, drift sort) per element type; the core sorts little (a policy's index
//! pairs, a statement's members, an object's keys for the duplicate check), so a heapsort
//! does: a few hundred bytes, O(n log n) in every case, no allocation.

/// Sorts `v` so that no element is `less` than one before it. Not stable: callers whose
/// equal elements differ make their order total (an index as the last key).
pub(crate) fn heapsort<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let is_less = |v: &[T], a: usize, b: usize| match (v.get(a), v.get(b)) {
        (Some(x), Some(y)) => less(x, y),
        _ => false,
    };
    let sift = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && is_less(v, child, child + 1) {
            child += 1;
        }
        if !is_less(v, root, child) {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    let len = v.len();
    for root in (0..len / 2).rev() {
        sift(v, root, len);
    }
    for end in (1..len).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::heapsort;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorts_as_the_standard_sort(mut v in proptest::collection::vec((0u16..8, 0u32..8), 0..64)) {
            let mut expected = v.clone();
            expected.sort_unstable();
            heapsort(&mut v, |a, b| a < b);
            prop_assert_eq!(v, expected);
        }

        #[test]
        fn with_an_index_it_is_the_stable_sort(v in proptest::collection::vec((0u8..4, 0u8..255), 0..64)) {
            let mut expected = v.clone();
            expected.sort_by_key(|a| a.0);
            let mut keyed: Vec<(usize, (u8, u8))> = v.into_iter().enumerate().collect();
            heapsort(&mut keyed, |a, b| (a.1 .0, a.0) < (b.1 .0, b.0));
            let sorted: Vec<(u8, u8)> = keyed.into_iter().map(|(_, x)| x).collect();
            prop_assert_eq!(sorted, expected);
        }
    }
}
