//! Unit properties of the internals: the wildcard matcher against a reference.

use alloc::{string::String, vec::Vec};

use proptest::prelude::*;

use super::glob::{Glob, Syntax};

/// Textbook dynamic-programming wildcard match over characters.
fn reference(pattern: &[char], input: &[char]) -> bool {
    let (m, n) = (pattern.len(), input.len());
    // dp[i][j]: pattern[..i] matches input[..j]
    let mut dp = alloc::vec![alloc::vec![false; n + 1]; m + 1];
    dp[0][0] = true;
    for i in 1..=m {
        for j in 0..=n {
            dp[i][j] = match pattern[i - 1] {
                '*' => dp[i - 1][j] || (j > 0 && dp[i][j - 1]),
                '?' => j > 0 && dp[i - 1][j - 1],
                c => j > 0 && input[j - 1] == c && dp[i - 1][j - 1],
            };
        }
    }
    dp[m][n]
}

fn chars(alphabet: &'static [char], max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(alphabet), 0..max)
        .prop_map(|v| v.into_iter().collect())
}

const PAT: &[char] = &['a', 'b', '/', ':', 'é', '*', '?'];
const INP: &[char] = &['a', 'b', '/', ':', 'é'];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn glob_agrees_with_reference(p in chars(PAT, 12), s in chars(INP, 14)) {
        let g = Glob::new(&p, Syntax { wildcards: true, variables: false, ci: false }).unwrap();
        let pc: Vec<char> = p.chars().collect();
        let sc: Vec<char> = s.chars().collect();
        prop_assert_eq!(g.matches(&s, None), reference(&pc, &sc), "{} vs {}", p, s);
    }

    #[test]
    fn filter_never_rejects_a_match(p in chars(PAT, 12), s in chars(INP, 14)) {
        let g = Glob::new(&p, Syntax { wildcards: true, variables: false, ci: false }).unwrap();
        if g.matches(&s, None) {
            prop_assert!(g.may_match(&super::glob::Filter::of(&s)));
        }
    }

    #[test]
    fn literal_mode_is_equality(p in chars(PAT, 8), s in chars(PAT, 8)) {
        let g = Glob::new(&p, Syntax { wildcards: false, variables: false, ci: false }).unwrap();
        prop_assert_eq!(g.matches(&s, None), p == s);
    }
}

#[test]
fn ci_agrees_with_lowercased_reference() {
    let g = Glob::new(
        "Ex*:In?oke",
        Syntax {
            wildcards: true,
            variables: false,
            ci: true,
        },
    )
    .unwrap();
    for s in ["ex:invoke", "EXECUTE-API:INVOKE", "execute-api:Inboke"] {
        assert!(g.matches(s, None), "{s}");
    }
    assert!(!g.matches("execute-api:Invok", None));
}

fn arn_tail() -> impl Strategy<Value = String> {
    let parts = proptest::sample::select(alloc::vec![
        "*", "?", "prod", "GET", "res1", "res18", "a:b", "s*e", ""
    ]);
    proptest::collection::vec(parts, 0..5).prop_map(|p| p.join("/"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The index never hides a statement the request targets.
    #[test]
    fn index_keeps_every_target(tails in proptest::collection::vec((arn_tail(), any::<bool>()), 1..12), req in arn_tail()) {
        use alloc::format;
        let statements: Vec<serde_json::Value> = tails
            .iter()
            .map(|(t, not)| {
                let key = if *not { "NotResource" } else { "Resource" };
                serde_json::json!({"Effect": "Allow", "Action": "*", key: format!("arn:aws:execute-api:*:*:{t}")})
            })
            .collect();
        let doc = super::PolicyDocument::from_value(&serde_json::json!({"Version": "2012-10-17", "Statement": statements}))
            .unwrap()
            .document;
        let resource = format!("arn:aws:execute-api:us-east-1:1:{req}");
        let rf = super::glob::Filter::of(&resource);
        let ctx = super::EvalContext::default();
        let mut seen = Vec::new();
        doc.scan(&rf, |si, _| { seen.push(si); true });
        for (si, st) in doc.statements.iter().enumerate() {
            let hit = st.resources.iter().any(|g| g.matches(&resource, Some(&ctx))) != st.not_resource;
            if hit {
                prop_assert!(seen.contains(&si), "statement {} hidden for {}", si, resource);
            }
        }
        // Candidates come in order.
        prop_assert!(seen.windows(2).all(|w| w[0] < w[1]));
    }
}

#[test]
fn many_distinct_actions_and_statements() {
    use alloc::format;
    // More than 64 distinct actions and more than 256 statements take the slow paths.
    let statements: Vec<serde_json::Value> = (0..300)
        .map(|i| serde_json::json!({"Effect": "Allow", "Action": format!("svc:Act{i}"), "Resource": format!("arn:aws:execute-api:*:*:*/p/GET/r{i}")}))
        .collect();
    let doc = super::PolicyDocument::from_value(
        &serde_json::json!({"Version": "2012-10-17", "Statement": statements}),
    )
    .unwrap()
    .document;
    let ctx = super::EvalContext::default();
    for i in [0usize, 63, 64, 200, 299] {
        let e = super::evaluate(
            &[("d", &doc)],
            &format!("SVC:act{i}"),
            &format!("arn:aws:execute-api:r:1:a/p/GET/r{i}"),
            &ctx,
        );
        assert_eq!(e.decision, super::PolicyDecision::Allow, "{i}");
        assert_eq!(e.decided_by.map(|r| r.statement), Some(i));
        let e = super::evaluate(
            &[("d", &doc)],
            &format!("svc:Act{i}"),
            "arn:aws:execute-api:r:1:a/p/GET/r",
            &ctx,
        );
        assert_eq!(e.decision, super::PolicyDecision::ImplicitDeny, "{i}");
    }
}
