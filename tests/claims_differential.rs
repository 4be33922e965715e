//! The strict claims reader (`Claims`) against the parser it replaced: serde_json with a
//! duplicate-refusing, depth-limited visitor into a `Map<String, Value>`, and the claim
//! rules as they read that map, kept in tests/support/claims_reference.rs. On random claim
//! sets and on their text mutated (duplicates, escapes, numbers at the edges, broken
//! syntax, deep nesting), the two must accept the same documents, see the same members,
//! and give every issuer rule the same answer (identity or error) at every clock.

use edge_authz::token::Claims;
use proptest::prelude::*;
use serde_json::{json, Map, Number, Value};

#[path = "support/claims_reference.rs"]
mod reference;
use reference::{issuers, old_check, old_parse, NOWS};

// ---- the comparison ----

/// Both readers on `bytes`: the same acceptance, members and rule answers.
fn compare(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let old = old_parse(bytes);
    let new = Claims::from_slice(bytes);
    prop_assert_eq!(
        old.is_some(),
        new.is_some(),
        "acceptance differs on {:?}",
        String::from_utf8_lossy(bytes)
    );
    let (Some(old), Some(new)) = (old, new) else {
        return Ok(false);
    };
    prop_assert_eq!(&old, new.map());
    for (name, value) in &old {
        prop_assert_eq!(new.get(name), Some(value));
        prop_assert!(new.contains_key(name));
        prop_assert_eq!(new.get_str(name), value.as_str());
    }
    prop_assert_eq!(new.get_str("absent claim"), None);
    prop_assert!(!new.contains_key("absent claim"));
    for issuer in issuers() {
        for (now, grace) in NOWS {
            prop_assert_eq!(
                issuer.check(&new, now, grace),
                old_check(&issuer, &old, now, grace),
                "{:?} at {} (grace {})",
                String::from_utf8_lossy(bytes),
                now,
                grace
            );
        }
    }
    Ok(true)
}

const NAMES: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "scope",
    "token_use",
    "client_id",
    "username",
    "cognito:username",
    "cognito:groups",
    "groups",
    "roles",
    "x",
    "é",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..4_000_000_000).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![
            "access",
            "id",
            "c1",
            "c2",
            "é",
            "read write",
            " read  ",
            "admin",
            "a\"b",
            "",
            "\u{1F600}",
            "\\",
            "\n",
            "\u{7f}",
            "read",
        ])
        .prop_map(Value::from),
        "[a-z\u{e9}\u{1F600}\"\\\\\n\t ]{0,8}".prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(NAMES).prop_map(String::from),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn claims() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(
        prop::sample::select(NAMES).prop_map(String::from),
        value(),
        0..12,
    )
    .prop_map(|m| m.into_iter().collect())
}

/// Text edits that keep a document close to valid: the interesting side of the border.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, &'static str),
    Delete(usize, usize),
    Replace(usize, &'static str),
}

const PIECES: &[&str] = &[
    ",",
    ":",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "\\",
    " ",
    "\t",
    "\r\n",
    "\u{1}",
    "0",
    "-",
    ".",
    "e",
    "E+",
    "\u{1f}",
    "1e400",
    "-0",
    "00",
    "1.",
    ".5",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678",
    "1234567890123456789",
    "1e-400",
    "true",
    "nul",
    "\\u0073",
    "\\ud83d\\ude00",
    "\\ud83d",
    "\\ude00",
    "\\ud83d\\u0041",
    "\\u00e9",
    "\\uZZZZ",
    "\\x",
    "\\/",
    "\"sub\":1,",
    "\"exp\":1e2,",
    "\"iat\":-0,",
    "\"nbf\":1.5,",
    "é",
    "\u{ff}",
    "\"a\":{}",
    "\"a\":[],",
    "\"s\\u0075b\":\"x\",",
];

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let piece = prop::sample::select(PIECES);
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), piece.clone()).prop_map(|(at, p)| Edit::Insert(at, p)),
            (any::<usize>(), 1usize..4).prop_map(|(at, n)| Edit::Delete(at, n)),
            (any::<usize>(), piece).prop_map(|(at, p)| Edit::Replace(at, p)),
        ],
        1..4,
    )
}

fn apply(text: &str, edits: &[Edit]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len() + 1;
        match *edit {
            Edit::Insert(at, piece) => {
                let at = at % len;
                bytes.splice(at..at, piece.bytes());
            }
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Edit::Replace(at, piece) => {
                let at = at % len;
                let end = (at + 1).min(bytes.len());
                bytes.splice(at..end, piece.bytes());
            }
        }
    }
    bytes
}

/// The document's text with a member repeated, written with escapes, or spaced out.
fn variants(map: &Map<String, Value>) -> Vec<Vec<u8>> {
    let text = Value::Object(map.clone()).to_string();
    let mut out = vec![text.clone().into_bytes()];
    out.push(serde_json::to_string_pretty(map).unwrap().into_bytes());
    if let Some((name, value)) = map.iter().next() {
        let dup = format!("{},{}:{}}}", &text[..text.len() - 1], json!(name), value);
        out.push(dup.into_bytes());
        // The same name written with an escape is the same member.
        let escaped: String = name
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32 & 0xffff))
            .collect();
        if name.chars().all(|c| (c as u32) < 0x10000) {
            out.push(format!("{},\"{escaped}\":1}}", &text[..text.len() - 1]).into_bytes());
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_claim_sets_read_alike(map in claims()) {
        for bytes in variants(&map) {
            compare(&bytes)?;
        }
    }

    #[test]
    fn mutated_claim_sets_read_alike(map in claims(), edits in edits()) {
        let text = Value::Object(map).to_string();
        compare(&apply(&text, &edits))?;
    }

    #[test]
    fn arbitrary_bytes_read_alike(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        compare(&bytes)?;
    }

    #[test]
    fn json_alphabet_reads_alike(bytes in "[{}\\[\\]\",:0-9.eE+\\-tnuflrsa \\\\]{0,40}") {
        compare(bytes.as_bytes())?;
    }
}

#[test]
fn nesting_limit_is_the_same() {
    for depth in 60..70 {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            for inner in ["", "1", "{}", "[]"] {
                let text = format!(
                    "{{\"x\":{}{inner}{}}}",
                    open.repeat(depth),
                    close.repeat(depth)
                );
                compare(text.as_bytes()).unwrap();
            }
        }
    }
}

#[test]
fn edge_cases_read_alike() {
    let many: String = (0..300).map(|i| format!("\"k{i}\":{i},")).collect();
    let cases = [
        String::new(),
        "{}".into(),
        " {} ".into(),
        "{} x".into(),
        "[]".into(),
        "\"{}\"".into(),
        r#"{"sub":"a","sub":"b"}"#.into(),
        r#"{"sub":"a","s\u0075b":"b"}"#.into(),
        r#"{"x":{"a":1,"a":2}}"#.into(),
        r#"{"x":[{"a":1},{"a":1}]}"#.into(),
        r#"{"x":[{"a":1,"b":{"c":[{"d":1,"d":1}]}}]}"#.into(),
        format!("{{{many}\"k7\":1}}"),
        format!("{{{many}\"z\":1}}"),
        format!("{{\"x\":{{{many}\"k7\":1}}}}"),
        r#"{"exp":1e400}"#.into(),
        r#"{"exp":-1e400}"#.into(),
        r#"{"exp":1e-400,"sub":"s"}"#.into(),
        r#"{"exp":-0,"sub":"s"}"#.into(),
        r#"{"exp":-0.0,"sub":"s"}"#.into(),
        r#"{"exp":18446744073709551615,"sub":"s"}"#.into(),
        r#"{"exp":18446744073709551616,"sub":"s"}"#.into(),
        r#"{"exp":17999999999999999999,"sub":"s"}"#.into(),
        r#"{"exp":1.8e19,"sub":"s"}"#.into(),
        r#"{"exp":9999999999.99,"sub":"s"}"#.into(),
        r#"{"exp":01}"#.into(),
        r#"{"exp":1.}"#.into(),
        r#"{"exp":.1}"#.into(),
        r#"{"exp":1e}"#.into(),
        r#"{"exp":+1}"#.into(),
        r#"{"sub":"\ud83d\ude00"}"#.into(),
        r#"{"sub":"\ud83d"}"#.into(),
        r#"{"sub":"\ude00"}"#.into(),
        r#"{"sub":"\ud83d\u0041"}"#.into(),
        r#"{"sub":"\ud83d\n"}"#.into(),
        r#"{"sub":"\u00E9\/\b\f\n\r\t\"\\"}"#.into(),
        "{\"sub\":\"\u{1}\"}".into(),
        "{\"sub\":\"\u{7f}\"}".into(),
        r#"{"aud":["c1","c2"],"sub":"s","iss":"i"}"#.into(),
        r#"{"aud":["c1",1],"sub":"s"}"#.into(),
        r#"{"aud":[["c1"]],"sub":"s"}"#.into(),
        r#"{"cognito:groups":["admin",{"a":"b"}],"sub":"s"}"#.into(),
        r#"{"cognito:groups":"admin","sub":"s","token_use":"id","aud":"c1","exp":4000000001}"#
            .into(),
        r#"{"a":1,}"#.into(),
        r#"{"a" 1}"#.into(),
        r#"{"a":tru}"#.into(),
        r#"{"a":nulll}"#.into(),
    ];
    for case in &cases {
        compare(case.as_bytes()).unwrap();
    }
    for invalid_utf8 in [
        &b"{\"sub\":\"\xff\"}"[..],
        b"{\"sub\":\"\xc3\"}",
        b"{\xff:1}",
    ] {
        compare(invalid_utf8).unwrap();
    }
}
