//! The canonical request path: `canonical_path` on arbitrary text, under every combination
//! of the rules, must never panic, and what it accepts must hold the invariants adapters
//! rely on: the forwarded path is canonical again (a fixpoint, matched the same), plain
//! ASCII, and the matched path holds none of the refused forms.
#![no_main]

use edge_authz::{canonical_path, DotSegments, EscapedSlashes, PathMatching, PathRules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(path) = std::str::from_utf8(rest) else {
        return;
    };
    let rules = PathRules {
        matching: PathMatching {
            case_sensitive: flags & 1 == 0,
            strip_trailing_slash: flags & 2 != 0,
            merge_slashes: flags & 4 != 0,
        },
        dot_segments: if flags & 8 != 0 { DotSegments::Resolve } else { DotSegments::Reject },
        escaped_slashes: if flags & 16 != 0 { EscapedSlashes::Keep } else { EscapedSlashes::Reject },
        keep_semicolons: flags & 32 != 0,
        max_path_bytes: if flags & 64 != 0 { 64 } else { 8192 },
    };
    let first = match canonical_path(path, &rules, rules.matching) {
        Ok(first) => first,
        Err(e) => {
            let _ = (e.code(), e.to_string());
            return;
        }
    };
    let given = path.split('?').next().unwrap_or("");
    let forwarded = first.forward.as_deref().unwrap_or(given);
    assert!(forwarded.bytes().all(|b| b.is_ascii_graphic()), "{path:?} -> {forwarded:?}");
    let again = canonical_path(forwarded, &rules, rules.matching)
        .unwrap_or_else(|e| panic!("{path:?} forwarded as {forwarded:?} is refused: {e}"));
    assert_eq!(again.matched, first.matched, "{path:?} -> {forwarded:?}");
    assert_eq!(again.forward, None, "{path:?} -> {forwarded:?} is not a fixpoint");
    let m = &first.matched;
    assert!(m.starts_with('/'));
    assert!(!m.contains("//") && !m.contains('#') && !m.contains('\\') && !m.contains('?'));
    assert!(!m.chars().any(char::is_control));
    assert!(!m.split('/').any(|s| s == "." || s == ".."));
    if !rules.matching.case_sensitive {
        assert_eq!(&m.to_lowercase(), m);
    }
});
