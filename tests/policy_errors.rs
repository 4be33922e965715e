//! Load-time errors (every one located) and warnings.

use edge_authz::policy::{PolicyCheck, PolicyDocument, PolicyErrors};

fn errors(text: &str) -> PolicyErrors {
    match PolicyDocument::parse(text) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e,
    }
}

fn stmt(s: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#)
}

const OK: &str = r#"{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}"#;

#[test]
fn located_errors() {
    // (document, expected "location: code" of the first error)
    let cases: Vec<(String, &str, &str)> = vec![
        (
            stmt(&format!(
                r#"{OK},{{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":["300.1.2.3/8"]}}}}}}"#
            )),
            "Statement[1].Condition.IpAddress.aws:SourceIp[0]",
            "invalid_cidr",
        ),
        ("not json".into(), "", "invalid_json"),
        ("[]".into(), "", "invalid_type"),
        (
            r#"{"Version":"2012-10-17"}"#.into(),
            "Statement",
            "missing_field",
        ),
        (
            r#"{"Version":"2012-10-18","Statement":[]}"#.into(),
            "Version",
            "unsupported_version",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[],"Extra":1}"#.into(),
            "Extra",
            "unknown_field",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[],"Statement":[]}"#.into(),
            "Statement",
            "duplicate_key",
        ),
        (
            stmt(r#"{"Effect":"Allow","Effect":"Deny","Action":"a:b","Resource":"*"}"#),
            "Statement[0].Effect",
            "duplicate_key",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"jwt:a":"1","jwt:a":"2"}}}"#,
            ),
            "Statement[0].Condition.StringEquals.jwt:a",
            "duplicate_key",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"aws:UserAgent":"1","aws:useragent":"2"}}}"#,
            ),
            "Statement[0].Condition.StringEquals.aws:useragent",
            "duplicate_key",
        ),
        (
            stmt(r#"{"Effect":"Allow","Action":"a:b","NotAction":"c:d","Resource":"*"}"#),
            "Statement[0]",
            "conflicting_fields",
        ),
        (
            stmt(r#"{"Effect":"Allow","Action":"a:b","Resource":"*","NotResource":"*"}"#),
            "Statement[0]",
            "conflicting_fields",
        ),
        (
            stmt(r#"{"Action":"a:b","Resource":"*"}"#),
            "Statement[0]",
            "missing_field",
        ),
        (
            stmt(r#"{"Effect":"Allow","Resource":"*"}"#),
            "Statement[0]",
            "missing_field",
        ),
        (
            stmt(r#"{"Effect":"Allow","Action":"a:b"}"#),
            "Statement[0]",
            "missing_field",
        ),
        (
            stmt(r#"{"Effect":"allow","Action":"a:b","Resource":"*"}"#),
            "Statement[0].Effect",
            "invalid_effect",
        ),
        (
            stmt(r#"{"Effect":"Allow","Principal":"*","Action":"a:b","Resource":"*"}"#),
            "Statement[0].Principal",
            "principal_not_allowed",
        ),
        (
            stmt(r#"{"Effect":"Allow","NotPrincipal":{"AWS":"x"},"Action":"a:b","Resource":"*"}"#),
            "Statement[0].NotPrincipal",
            "principal_not_allowed",
        ),
        (
            stmt(
                r#"{"Sid":"A","Effect":"Allow","Action":"a:b","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"a:b","Resource":"*"}"#,
            ),
            "Statement[1].Sid",
            "duplicate_sid",
        ),
        (
            stmt(r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#),
            "Statement[0].Action",
            "empty_value",
        ),
        (
            stmt(r#"{"Effect":"Allow","Action":["a:b",3],"Resource":"*"}"#),
            "Statement[0].Action[1]",
            "invalid_type",
        ),
        (
            stmt(r#"{"Effect":"Allow","Action":"invoke","Resource":"*"}"#),
            "Statement[0].Action",
            "invalid_action",
        ),
        (
            stmt(r#"{"Effect":"Allow","Action":"a:b","Resource":"petstore/*"}"#),
            "Statement[0].Resource",
            "invalid_arn",
        ),
        (
            stmt(r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Foo":1}"#),
            "Statement[0].Foo",
            "unknown_field",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEqualz":{"jwt:a":"1"}}}"#,
            ),
            "Statement[0].Condition.StringEqualz",
            "unknown_operator",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/x":"1"}}}"#,
            ),
            "Statement[0].Condition.StringEquals.aws:PrincipalTag/x",
            "unsupported_condition_key",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"aws:SourceIp":"1.2.3.4"}}}"#,
            ),
            "Statement[0].Condition.StringEquals.aws:SourceIp",
            "operator_key_mismatch",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"NumericEquals":{"aws:UserAgent":"1"}}}"#,
            ),
            "Statement[0].Condition.NumericEquals.aws:UserAgent",
            "operator_key_mismatch",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"NullIfExists":{"jwt:a":"true"}}}"#,
            ),
            "Statement[0].Condition.NullIfExists",
            "invalid_null",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2024-13-01"}}}"#,
            ),
            "Statement[0].Condition.DateLessThan.aws:CurrentTime",
            "invalid_date",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"NumericLessThan":{"aws:EpochTime":["1","ten"]}}}"#,
            ),
            "Statement[0].Condition.NumericLessThan.aws:EpochTime[1]",
            "invalid_number",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}"#,
            ),
            "Statement[0].Condition.Bool.aws:SecureTransport",
            "invalid_boolean",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"BinaryEquals":{"request:header/x":"!!"}}}"#,
            ),
            "Statement[0].Condition.BinaryEquals.request:header/x",
            "invalid_base64",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"ArnLike":{"jwt:r":"role/x"}}}"#,
            ),
            "Statement[0].Condition.ArnLike.jwt:r",
            "invalid_arn",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"jwt:a":null}}}"#,
            ),
            "Statement[0].Condition.StringEquals.jwt:a",
            "invalid_type",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{}}}"#,
            ),
            "Statement[0].Condition.StringEquals",
            "empty_value",
        ),
        (
            stmt(r#"{"Effect":"Allow","Action":"a:${jwt:x}","Resource":"*"}"#),
            "Statement[0].Action",
            "variable_not_allowed",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:execute-api:${jwt:region}:*:*/*"}"#,
            ),
            "Statement[0].Resource",
            "variable_not_allowed",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"NumericEquals":{"jwt:a":"${jwt:b}"}}}"#,
            ),
            "Statement[0].Condition.NumericEquals.jwt:a",
            "variable_not_allowed",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:execute-api:*:*:*/${aws:username}"}"#,
            ),
            "Statement[0].Resource",
            "unsupported_variable",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:execute-api:*:*:*/${cognito:groups}"}"#,
            ),
            "Statement[0].Resource",
            "unsupported_variable",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:execute-api:*:*:*/${jwt:sub"}"#,
            ),
            "Statement[0].Resource",
            "invalid_variable",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"arn:aws:execute-api:*:*:*/${jwt:sub, public}"}"#,
            ),
            "Statement[0].Resource",
            "invalid_variable",
        ),
        (stmt(r#""x""#), "Statement[0]", "invalid_type"),
    ];
    for (text, loc, code) in cases {
        let errs = errors(&text);
        assert!(
            errs.0
                .iter()
                .any(|e| e.location() == loc && e.code() == code),
            "{text}\nwanted {loc}: {code}, got:\n{errs}"
        );
    }
}

#[test]
fn error_display_is_located() {
    let errs = errors(&stmt(&format!(
        r#"{OK},{{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":["300.1.2.3/8"]}}}}}}"#
    )));
    assert_eq!(
        errs.to_string(),
        r#"Statement[1].Condition.IpAddress.aws:SourceIp[0]: invalid CIDR "300.1.2.3/8""#
    );
}

#[test]
fn all_errors_are_collected() {
    let errs = errors(
        r#"{"Version":"2012-10-17","Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["300.1.2.3/8","10.0.0.0/33"]}}},
            {"Effect":"Maybe","Action":"a:b","Resource":"*"},
            {"Effect":"Allow","Principal":"*","Action":"a:b","NotAction":"x:y","Resource":"*"}]}"#,
    );
    let codes: Vec<&str> = errs.0.iter().map(|e| e.code()).collect();
    assert_eq!(
        codes,
        [
            "duplicate_key",
            "invalid_cidr",
            "invalid_cidr",
            "invalid_effect",
            "principal_not_allowed",
            "conflicting_fields"
        ],
        "{errs}"
    );
    assert_eq!(errs.to_string().lines().count(), 6);
}

/// (document, location, code): one document per warning code, each valid.
fn warning_cases() -> Vec<(String, &'static str, &'static str)> {
    vec![
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"}]}"#.into(),
            "Version",
            "missing_version",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"jwt:a":["x","y*"]}}}"#,
            ),
            "Statement[0].Condition.StringEquals.jwt:a[1]",
            "wildcard_in_string_equals",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.1.2.3/8"}}}"#,
            ),
            "Statement[0].Condition.IpAddress.aws:SourceIp",
            "cidr_host_bits",
        ),
        (
            stmt(r#"{"Effect":"Allow","NotAction":"a:b","Resource":"*"}"#),
            "Statement[0].NotAction",
            "allow_with_not_action",
        ),
        (
            stmt(r#"{"Effect":"Allow","Action":"a:b","NotResource":"*"}"#),
            "Statement[0].NotResource",
            "allow_with_not_resource",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":["arn:aws:execute-api:*:*:*/prod/GET/x","arn:aws:execute-api:*:*:*/*/GET/petstore/v2/status"]}"#,
            ),
            "Statement[0].Resource[1]",
            "greedy_execute_api_wildcard",
        ),
        (
            stmt(
                r#"{"Effect":"Allow","Action":"a:b","Resource":"*"},{"Sid":"B","Effect":"Allow","Action":"a:b","Resource":"*"}"#,
            ),
            "Statement[1]",
            "redundant_statement",
        ),
    ]
}

#[test]
fn warnings() {
    for (text, loc, code) in warning_cases() {
        let parsed = PolicyDocument::parse(&text).unwrap_or_else(|e| panic!("{text}\n{e}"));
        assert!(
            parsed
                .warnings
                .iter()
                .any(|w| w.location() == loc && w.code() == code),
            "{text}\nwanted {loc}: {code}, got: {:?}",
            parsed.warnings
        );
    }
    // No warnings for a clean policy.
    let clean = stmt(
        r#"{"Effect":"Allow","Action":"execute-api:Invoke","Resource":["arn:aws:execute-api:us-east-1:1:api/prod/GET/*","arn:aws:execute-api:*:*:*/*/*/*"]}"#,
    );
    assert_eq!(PolicyDocument::parse(&clean).unwrap().warnings, vec![]);
}

fn located(check: &PolicyCheck) -> (Vec<String>, Vec<String>) {
    (
        check
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.location(), e.code()))
            .collect(),
        check
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.location(), w.code()))
            .collect(),
    )
}

#[test]
fn check_agrees_with_parse() {
    let invalid = stmt(&format!(
        r#"{OK},{{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":["300.1.2.3/8"]}}}}}}"#
    ));
    let valid = warning_cases().into_iter().map(|(text, _, _)| text);
    for text in valid.chain([invalid, "not json".into(), "[]".into()]) {
        let check = PolicyDocument::check(&text);
        match PolicyDocument::parse(&text) {
            Ok(parsed) => {
                assert_eq!(check.document.as_ref(), Some(&parsed.document), "{text}");
                assert_eq!(check.errors, vec![], "{text}");
                assert_eq!(check.warnings, parsed.warnings, "{text}");
            }
            Err(errors) => {
                assert_eq!(check.document, None, "{text}");
                assert_eq!(check.errors, errors.0, "{text}");
            }
        }
        // From a value (JSON text aside), the same.
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
            assert_eq!(
                located(&PolicyDocument::check_value(&value)),
                located(&check),
                "{text}"
            );
        }
    }
    let check = PolicyDocument::check("not json");
    assert_eq!(located(&check), (vec![": invalid_json".to_owned()], vec![]));
}

/// A policy with errors keeps the warnings of its valid parts: each warning of a valid
/// policy survives a broken statement appended to it.
#[test]
fn check_keeps_warnings_with_errors() {
    let broken = r#"{"Effect":"Allow","Action":7,"Resource":"*"}"#;
    for (text, loc, code) in warning_cases() {
        let parsed = PolicyDocument::parse(&text).unwrap();
        let last = parsed.document.statement_count();
        let text = format!("{},{broken}]}}", text.strip_suffix("]}").unwrap());
        let check = PolicyDocument::check(&text);
        assert!(check.document.is_none(), "{text}");
        assert_eq!(
            located(&check).0,
            [format!("Statement[{last}].Action: invalid_type")],
            "{text}"
        );
        assert_eq!(check.warnings, parsed.warnings, "{text}");
        assert!(
            check
                .warnings
                .iter()
                .any(|w| w.location() == loc && w.code() == code),
            "{text}"
        );
    }

    // Warnings of the statement that has the error, even of the member that has it.
    let check = PolicyDocument::check(&stmt(
        r#"{"Effect":"Allow","Action":["bad","a:b"],"NotResource":"not an arn","Condition":{
            "IpAddress":{"aws:SourceIp":["300.1.2.3/8","10.0.0.1/8"]},
            "StringEquals":{"jwt:a":"x*","aws:SourceIp":"y"}}}"#,
    ));
    assert!(check.document.is_none());
    assert_eq!(
        located(&check),
        (
            vec![
                "Statement[0].Action[0]: invalid_action".to_owned(),
                "Statement[0].NotResource: invalid_arn".to_owned(),
                "Statement[0].Condition.IpAddress.aws:SourceIp[0]: invalid_cidr".to_owned(),
                "Statement[0].Condition.StringEquals.aws:SourceIp: operator_key_mismatch"
                    .to_owned(),
            ],
            vec![
                "Statement[0].NotResource: allow_with_not_resource".to_owned(),
                "Statement[0].Condition.IpAddress.aws:SourceIp[1]: cidr_host_bits".to_owned(),
                "Statement[0].Condition.StringEquals.jwt:a: wildcard_in_string_equals".to_owned(),
            ]
        )
    );

    // Repeated statements are compared among the valid ones, with their own indices.
    let check = PolicyDocument::check(&stmt(&format!(
        r#"{OK},{{"Effect":"Maybe","Action":"a:b","Resource":"*"}},{OK}"#
    )));
    assert_eq!(
        located(&check),
        (
            vec!["Statement[1].Effect: invalid_effect".to_owned()],
            vec!["Statement[2]: redundant_statement".to_owned()]
        )
    );
    assert!(check.warnings[0].message().contains("Statement[0]"));

    // A Version that is there but unsupported is an error, not a missing Version.
    let check = PolicyDocument::check(r#"{"Version":"2012-10-18","Statement":[]}"#);
    assert_eq!(
        located(&check),
        (vec!["Version: unsupported_version".to_owned()], vec![])
    );
    let check = PolicyDocument::check(
        r#"{"Statement":[{"Effect":"Maybe","Action":"a:b","Resource":"*"}]}"#,
    );
    assert_eq!(
        located(&check),
        (
            vec!["Statement[0].Effect: invalid_effect".to_owned()],
            vec!["Version: missing_version".to_owned()]
        )
    );
}

/// A conflicting `Action`/`NotAction` (or `Resource`/`NotResource`) is an error, and the
/// `NotX` of an Allow is still a warning: the author wrote it either way.
#[test]
fn check_warns_about_not_x_beside_its_conflict() {
    let check = PolicyDocument::check(&stmt(
        r#"{"Effect":"Allow","Action":"a:b","NotAction":"c:d","Resource":"*"}"#,
    ));
    assert_eq!(
        located(&check),
        (
            vec!["Statement[0]: conflicting_fields".to_owned()],
            vec!["Statement[0].NotAction: allow_with_not_action".to_owned()]
        )
    );
    let check = PolicyDocument::check(&stmt(
        r#"{"Effect":"Allow","Action":"a:b","Resource":"*","NotResource":"*"}"#,
    ));
    assert_eq!(
        located(&check),
        (
            vec!["Statement[0]: conflicting_fields".to_owned()],
            vec!["Statement[0].NotResource: allow_with_not_resource".to_owned()]
        )
    );
    // A Deny's NotAction is not a warning, conflicting or not.
    let check = PolicyDocument::check(&stmt(
        r#"{"Effect":"Deny","Action":"a:b","NotAction":"c:d","Resource":"*"}"#,
    ));
    assert_eq!(
        located(&check),
        (vec!["Statement[0]: conflicting_fields".to_owned()], vec![])
    );
}
