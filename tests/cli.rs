//! The `edge-authz` binary, run as a user would: every command, and the conformance suite
//! through `edge-authz authorize`.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};
use support::{jwks_document, sign_token, suite_keys};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edge-authz"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run edge-authz")
}

/// Runs with `input` on stdin.
fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run edge-authz");
    let written = child.stdin.take().unwrap().write_all(input.as_bytes());
    // A command that refuses its arguments exits before reading stdin: the pipe is closed
    // under the writer, which is the command's answer, not the test's failure.
    if let Err(error) = written {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().expect("edge-authz output")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a usage error (exit 2) whose message contains `expected`.
fn assert_usage_error(o: &Output, expected: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(
        stderr(o).contains(expected),
        "missing `{expected}` in:\n{}",
        stderr(o)
    );
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("edge-authz-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write");
        path.to_string_lossy().into_owned()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const SEED_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PetStore-API","Effect":"Allow","Action":"execute-api:Invoke","Resource":["arn:aws:execute-api:*:*:*/*/*/petstore/v1/*","arn:aws:execute-api:*:*:*/*/GET/petstore/v2/status"],"Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","198.51.100.0/24"]}}}]}"#;

#[test]
fn help_everywhere() {
    for args in [
        vec!["--help"],
        vec!["validate", "--help"],
        vec!["simulate", "--help"],
        vec!["authorize", "--help"],
        vec!["config", "check", "--help"],
        vec!["token", "inspect", "--help"],
        vec!["token", "verify", "--help"],
        vec!["token", "mint", "--help"],
        vec!["jwks", "generate", "--help"],
        // The groups of subcommands have their own help, and `help COMMAND` is `COMMAND --help`.
        vec!["config", "--help"],
        vec!["token", "--help"],
        vec!["jwks", "--help"],
        vec!["help"],
        vec!["help", "simulate"],
        vec!["help", "token", "verify"],
    ] {
        let o = run(&args);
        assert!(o.status.success(), "{args:?}");
        assert!(stdout(&o).contains("edge-authz"), "{args:?}");
    }
    assert!(stdout(&run(&["config", "--help"])).contains("check"));
    assert!(stdout(&run(&["jwks", "-h"])).contains("generate"));
    assert!(stdout(&run(&["help", "token", "verify"])).contains("--jwks FILE"));
    let o = run(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown command `frobnicate`"));
    // Errors name what went wrong, suggest a near miss, and point at the right help.
    let o = run(&["valdate", "x.json"]);
    assert_usage_error(&o, "unknown command `valdate` (did you mean `validate`?)");
    let o = run(&["config"]);
    assert_usage_error(&o, "`config` needs a subcommand: `check`");
    assert_usage_error(&o, "Run `edge-authz config --help`");
    let o = run(&["config", "chek", "x.json"]);
    assert_usage_error(
        &o,
        "unknown `config` subcommand `chek` (did you mean `check`?)",
    );
    let o = run(&["jwks", "make"]);
    assert_usage_error(&o, "unknown `jwks` subcommand `make` (expected `generate`)");
    let o = run(&["token"]);
    assert_usage_error(
        &o,
        "`token` needs a subcommand: `inspect`, `verify`, `mint`",
    );
}

#[test]
fn version() {
    let expected = format!("edge-authz {}\n", env!("CARGO_PKG_VERSION"));
    for flag in ["--version", "-V"] {
        let o = run(&[flag]);
        assert!(o.status.success(), "{flag}");
        assert_eq!(stdout(&o), expected, "{flag}");
    }
}

#[test]
fn options_take_equals_and_errors_name_the_argument() {
    let dir = TempDir::new("options");
    let policies = dir.file(
        "policies.json",
        &format!(r#"{{"pet-veterinarian": {SEED_POLICY}}}"#),
    );
    let o = run(&[
        "simulate",
        &format!("--policies={policies}"),
        "--groups=pet-veterinarian",
        "--method=GET",
        "--path=/petstore/v1/pets",
        "--source-ip=192.0.2.1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["decision"], "Allow");
    // An `=` inside the value belongs to the value.
    let o = run(&[
        "simulate",
        "--policies",
        &policies,
        "--method=GET",
        "--path=/petstore/v1/pets",
        r#"--claims={"a":"b=c"}"#,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    let o = run(&["simulate", "--policies", &policies, "--json=yes"]);
    assert_usage_error(&o, "`--json` takes no value (given `--json=yes`)");
    let o = run(&["simulate", "--polices", &policies]);
    assert_usage_error(
        &o,
        "unknown option `--polices` (did you mean `--policies`?)",
    );
    assert_usage_error(&o, "Run `edge-authz simulate --help`");
    let o = run(&["simulate", "--policies", "--groups", "a"]);
    assert_usage_error(&o, "`--policies` needs a value, but `--groups` follows it");
    let o = run(&["simulate", "--groups", "a", "--policies"]);
    assert_usage_error(&o, "`--policies` needs a value");
    let o = run(&["validate", "-q", &policies]);
    assert_usage_error(&o, "unknown option `-q`");
    let o = run(&[
        "simulate",
        "--policies",
        "/nonexistent/p.json",
        "--groups",
        "a",
    ]);
    assert_usage_error(&o, "cannot read `--policies /nonexistent/p.json`: ");
    let o = run(&[
        "simulate",
        "--policies",
        &policies,
        "--method",
        "GET",
        "--path",
        "/",
        "--source-ip",
        "nope",
    ]);
    assert_usage_error(&o, "`--source-ip nope`: not an IP address");

    // `--` ends the options: a file whose name starts with `-`.
    std::fs::write(dir.0.join("-odd.json"), SEED_POLICY).unwrap();
    let o = bin()
        .current_dir(&dir.0)
        .args(["validate", "--", "-odd.json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("-odd.json: ok (1 statements"));
}

/// An issuer for the token tests: a fresh ES256 key, its JWKS, a configuration trusting it,
/// and a token for `u1` in group `pet-veterinarian` (expiring in 2033).
struct Issuer {
    config: String,
    jwks: String,
    key: String,
    token: String,
}

fn issuer(dir: &TempDir) -> Issuer {
    let key = dir.path("key.json");
    let jwks = dir.path("jwks.json");
    let o = run(&[
        "jwks",
        "generate",
        "--alg",
        "ES256",
        "--kid",
        "k1",
        "--key-out",
        &key,
        "--jwks-out",
        &jwks,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let config = dir.file(
        "config.json",
        &json!({"issuers": [{"issuer": "https://issuer.test/", "jwksUri": "https://issuer.test/jwks", "audience": ["api"]}]}).to_string(),
    );
    let claims = json!({"iss": "https://issuer.test/", "sub": "u1", "aud": "api", "exp": 2_000_000_000u64, "groups": ["pet-veterinarian"]}).to_string();
    let o = run(&["token", "mint", "--key", &key, "--claims", &claims]);
    assert!(o.status.success(), "{}", stderr(&o));
    Issuer {
        config,
        jwks,
        key,
        token: stdout(&o).trim().to_owned(),
    }
}

/// `authorize` of GET /petstore/v1/pets from 192.0.2.1 with `extra` arguments.
fn authorize(issuer: &Issuer, extra: &[&str], input: Option<&str>) -> Output {
    let mut args = vec![
        "authorize",
        "--config",
        &issuer.config,
        "--jwks",
        &issuer.jwks,
        "--method",
        "GET",
        "--path",
        "/petstore/v1/pets",
        "--source-ip",
        "192.0.2.1",
        "--now",
        "1900000000",
        "--json",
    ];
    args.extend(extra);
    match input {
        Some(input) => run_stdin(&args, input),
        None => run(&args),
    }
}

#[test]
fn stdin_for_tokens_and_files() {
    let dir = TempDir::new("stdin");
    let iss = issuer(&dir);
    let map = dir.file(
        "policies.json",
        &format!(r#"{{"pet-veterinarian": {SEED_POLICY}}}"#),
    );
    // Tokens: `-` reads the token (a trailing newline, as `echo` or a file gives, is fine).
    let piped = format!("{}\n", iss.token);
    let o = run_stdin(&["token", "inspect", "-"], &piped);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&o)).unwrap()["claims"]["sub"],
        "u1"
    );
    let o = run_stdin(
        &[
            "token",
            "verify",
            "--config",
            &iss.config,
            "--jwks",
            &iss.jwks,
            "--now",
            "2030-01-01T00:00:00Z",
            "-",
        ],
        &piped,
    );
    assert!(o.status.success(), "{}", stdout(&o));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&o)).unwrap()["claims"]["sub"],
        "u1"
    );
    let o = authorize(&iss, &["--store", &map, "--token", "-"], Some(&piped));
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&o)).unwrap()["reason"],
        "allowed"
    );
    let o = authorize(
        &iss,
        &["--store", &map, "--authorization", "-"],
        Some(&format!("Bearer {}\n", iss.token)),
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = run_stdin(&["token", "inspect", "-"], "\n");
    assert_usage_error(&o, "the token `-`: no token (stdin was empty)");

    // Files: policies, cases, configurations, JWKS, keys, claims.
    let o = run_stdin(&["validate", "-"], SEED_POLICY);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("<stdin>: ok (1 statements"),
        "{}",
        stdout(&o)
    );
    let o = run_stdin(
        &["validate", "-"],
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allo"}}"#,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("<stdin>: error: Statement.Effect"),
        "{}",
        stdout(&o)
    );
    let config = std::fs::read_to_string(&iss.config).unwrap();
    let o = run_stdin(&["config", "check", "-"], &config);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("<stdin>: ok (1 issuers)"));
    let o = run_stdin(
        &[
            "simulate",
            "--policies",
            "-",
            "--groups",
            "pet-veterinarian",
            "--method",
            "GET",
            "--path",
            "/petstore/v1/pets",
            "--source-ip",
            "192.0.2.1",
        ],
        &std::fs::read_to_string(&map).unwrap(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_stdin(
        &["simulate", "--policies", &map, "--cases", "-"],
        "{\"groups\":[\"pet-veterinarian\"],\"method\":\"GET\",\"path\":\"/petstore/v2/status\",\"sourceIp\":\"198.51.100.3\"}\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        serde_json::from_str::<Value>(stdout(&o).trim()).unwrap()["decision"],
        "Allow"
    );
    let o = authorize(
        &iss,
        &["--store", "-", "--token", &iss.token],
        Some(&std::fs::read_to_string(&map).unwrap()),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_stdin(
        &[
            "authorize",
            "--config",
            "-",
            "--jwks",
            &iss.jwks,
            "--store",
            &map,
            "--token",
            &iss.token,
            "--method",
            "GET",
            "--path",
            "/petstore/v1/pets",
            "--source-ip",
            "192.0.2.1",
            "--now",
            "1900000000",
        ],
        &config,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let jwks = std::fs::read_to_string(&iss.jwks).unwrap();
    let o = authorize(
        &iss,
        &["--jwks", "-", "--store", &map, "--token", &iss.token],
        Some(&jwks),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let claims = r#"{"iss":"https://issuer.test/","sub":"u2","aud":"api","exp":2000000000}"#;
    let o = run_stdin(
        &["token", "mint", "--key", "-", "--claims", claims],
        &std::fs::read_to_string(&iss.key).unwrap(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for claims_arg in ["-", "@-"] {
        let o = run_stdin(
            &["token", "mint", "--key", &iss.key, "--claims", claims_arg],
            claims,
        );
        assert!(o.status.success(), "{claims_arg}: {}", stderr(&o));
        let o = run(&["token", "inspect", stdout(&o).trim()]);
        assert_eq!(
            serde_json::from_str::<Value>(&stdout(&o)).unwrap()["claims"]["sub"],
            "u2"
        );
    }

    // stdin is read once: two `-` are refused before anything is read.
    let o = run_stdin(&["validate", "-", "-"], SEED_POLICY);
    assert_usage_error(
        &o,
        "only one argument can be `-` (stdin), but `-` and `-` are",
    );
    let o = run_stdin(&["simulate", "--policies", "-", "--cases", "-"], "");
    assert_usage_error(&o, "`--policies -` and `--cases -`");
    let o = authorize(&iss, &["--store", "-", "--token", "-"], Some(""));
    assert_usage_error(&o, "`--store -` and `--token -`");
}

#[test]
fn bearer_prefix_accepted_where_a_token_is_expected() {
    let dir = TempDir::new("bearer");
    let iss = issuer(&dir);
    let store = dir.file(
        "store.json",
        &format!(r#"{{"pet-veterinarian": {SEED_POLICY}}}"#),
    );
    for prefixed in [
        format!("Bearer {}", iss.token),
        format!("bearer  {}", iss.token),
        format!("BEARER\t{}\n", iss.token),
    ] {
        let o = run(&["token", "inspect", &prefixed]);
        assert!(o.status.success(), "{prefixed:?}: {}", stderr(&o));
        assert_eq!(
            serde_json::from_str::<Value>(&stdout(&o)).unwrap()["claims"]["sub"],
            "u1"
        );
        let o = run(&[
            "token",
            "verify",
            "--config",
            &iss.config,
            "--jwks",
            &iss.jwks,
            "--now",
            "2030-01-01T00:00:00Z",
            &prefixed,
        ]);
        assert!(o.status.success(), "{prefixed:?}: {}", stdout(&o));
        let o = authorize(&iss, &["--store", &store, "--token", &prefixed], None);
        assert!(o.status.success(), "{prefixed:?}: {}", stdout(&o));
        assert_eq!(
            serde_json::from_str::<Value>(&stdout(&o)).unwrap()["reason"],
            "allowed"
        );
    }
    // A token that merely starts with the letters is not cut.
    let o = run(&["token", "inspect", "Bearerish.x.y"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("not base64url"), "{}", stderr(&o));
}

#[test]
fn validate_reports_located_errors_and_warnings() {
    let dir = TempDir::new("validate");
    let good = dir.file("good.json", SEED_POLICY);
    let o = run(&["validate", &good]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("ok (1 statements"), "{}", stdout(&o));

    let bad = dir.file(
        "bad.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"},
            {"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["300.1.2.3/8"]}}}]}"#,
    );
    let o = run(&["validate", &good, &bad]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(
            r#"Statement[1].Condition.IpAddress.aws:SourceIp[0]: invalid CIDR "300.1.2.3/8""#
        ),
        "{out}"
    );
}

/// `validate` shows a file's warnings with its errors (`PolicyDocument::check`): the
/// warnings of every valid part, even of a statement or member with an error.
#[test]
fn validate_shows_warnings_with_errors() {
    let dir = TempDir::new("validate-warnings");
    let greedy = "arn:aws:execute-api:*:*:*/*/*/x";
    let file = dir.file(
        "bad.json",
        &json!({"Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": greedy},
            {"Sid": "again", "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": greedy},
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": ["300.1.2.3/8"]}, "StringEquals": {"jwt:sub": "a*"}}},
            {"Effect": "Allw", "Action": "execute-api:Invoke", "Resource": ["not an arn", greedy],
             "Condition": {"IpAddress": {"aws:SourceIp": ["300.1.2.3/8", "10.0.0.1/8"]}}}
        ]})
        .to_string(),
    );
    let o = run(&["validate", &file]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for expected in [
        "error: Statement[2].Condition.IpAddress.aws:SourceIp[0]: invalid CIDR \"300.1.2.3/8\"",
        "error: Statement[3].Effect: invalid Effect \"Allw\"",
        "error: Statement[3].Resource[0]",
        "warning: Version: no Version",
        "warning: Statement[0].Resource: a `*` in the api-id/stage/method slot",
        "warning: Statement[1].Resource: a `*`",
        "warning: Statement[1]: this statement repeats Statement[0] [redundant_statement]",
        "warning: Statement[2].Condition.StringEquals.jwt:sub: StringEquals compares \"a*\" literally",
        "warning: Statement[3].Resource[1]: a `*` in the api-id/stage/method slot",
        "warning: Statement[3].Condition.IpAddress.aws:SourceIp[1]: CIDR \"10.0.0.1/8\" has host bits set",
        ": invalid (4 errors, 7 warnings)",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }

    // The warnings shown despite errors are the ones the core gives once the errors are
    // fixed: each statement with a warning, then a broken statement appended.
    let with_warnings = [
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "execute-api:Invoke", "Resource": "*"}]}),
        json!({"Statement": {"Effect": "Allow", "Action": "execute-api:Invoke", "NotResource": greedy}}),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*", "Condition": {"StringEqualsIgnoreCase": {"jwt:email": ["?x", "ok"]}, "NotIpAddress": {"aws:SourceIp": "10.1.1.1/16"}}},
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*", "Condition": {"StringEqualsIgnoreCase": {"jwt:email": ["?x", "ok"]}, "NotIpAddress": {"aws:SourceIp": "10.1.1.1/16"}}}]}),
    ];
    for policy in with_warnings {
        let good = dir.file("good.json", &policy.to_string());
        let o = run(&["validate", &good]);
        assert!(o.status.success(), "{}", stdout(&o));
        let expected: Vec<String> = stdout(&o)
            .lines()
            .filter(|l| l.contains(": warning: "))
            .map(|l| l.split_once(": warning: ").unwrap().1.to_owned())
            .collect();
        assert!(!expected.is_empty(), "{policy}");
        let mut broken = policy.clone();
        let statements = match broken["Statement"].take() {
            Value::Array(items) => items,
            one => vec![one],
        };
        broken["Statement"] = Value::Array(statements);
        broken["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Effect": "Allow", "Action": 7, "Resource": "*"}));
        let bad = dir.file("broken.json", &broken.to_string());
        let o = run(&["validate", &bad]);
        assert_eq!(o.status.code(), Some(1));
        let got: Vec<String> = stdout(&o)
            .lines()
            .filter(|l| l.contains(": warning: "))
            .map(|l| l.split_once(": warning: ").unwrap().1.to_owned())
            .collect();
        let expected: Vec<String> = expected
            .iter()
            .map(|w| w.replacen("Statement.", "Statement[0].", 1))
            .collect();
        assert_eq!(got, expected, "{broken}");
    }

    // A warning on the member that has an error; no "no Version" for a Version that is
    // there but unsupported (its error says so).
    let file = dir.file(
        "same.json",
        &json!({"Version": "2012-10-18", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "NotResource": "not an arn"}]})
        .to_string(),
    );
    let o = run(&["validate", &file]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out
        .lines()
        .map(|l| l.strip_prefix(&format!("{file}: ")).unwrap_or(l))
        .collect();
    assert_eq!(
        lines,
        [
            "error: Version: unsupported Version \"2012-10-18\" (expected \"2012-10-17\" or \"2008-10-17\")",
            "error: Statement[0].NotResource: invalid ARN \"not an arn\"",
            "warning: Statement[0].NotResource: Allow with NotResource allows every resource not listed [allow_with_not_resource]",
            "invalid (2 errors, 1 warnings)",
        ],
        "{out}"
    );
}

/// One policy, a policy document `{"groups": ...}`, a map `{group: policy}`: each policy
/// command takes each shape (the store takes the two with groups, and says why not the one).
#[test]
fn every_policy_command_takes_every_policy_file_shape() {
    let dir = TempDir::new("shapes");
    let iss = issuer(&dir);
    let seed_text = serde_json::to_string(SEED_POLICY).unwrap();
    let one = dir.file("one.json", SEED_POLICY);
    let document = dir.file(
        "document.json",
        &format!(r#"{{"groups": {{"pet-veterinarian": {SEED_POLICY}, "nobody": null}}}}"#),
    );
    let map = dir.file(
        "map.json",
        &format!(
            r#"{{"pet-veterinarian": {SEED_POLICY}, "as-text": {seed_text}, "nobody": null}}"#
        ),
    );
    // A map with a group named `groups`: its value is a policy, so this is no document.
    let groups_group = dir.file(
        "groups-group.json",
        &format!(r#"{{"groups": {SEED_POLICY}, "pet-veterinarian": {SEED_POLICY}}}"#),
    );

    let o = run(&["validate", &one, &document, &map, &groups_group]);
    assert!(o.status.success(), "{}", stdout(&o));
    let out = stdout(&o);
    for expected in [
        "one.json: ok (1 statements, 2 warnings)",
        "document.json: warning: groups.pet-veterinarian.Statement[0].Resource[0]",
        "document.json: ok (2 groups, 1 statements, 2 warnings)",
        "map.json: warning: as-text.Statement[0].Resource[0]",
        "map.json: ok (3 groups, 2 statements, 4 warnings)",
        "groups-group.json: ok (2 groups, 2 statements, 4 warnings)",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
    let broken = dir.file(
        "broken.json",
        r#"{"groups": {"admins": {"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*", "Principal": "*"}]}, "typo": 7}}"#,
    );
    let o = run(&["validate", &broken]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("error: groups.admins.Statement[0].Principal"),
        "{out}"
    );
    assert!(
        out.contains(
            "error: groups.typo: expected a policy object, its JSON text, or null; found a number"
        ),
        "{out}"
    );
    assert!(
        out.contains("warning: groups.admins.Version: no Version"),
        "{out}"
    );

    for (file, group) in [
        (&one, None),
        (&document, Some("pet-veterinarian")),
        (&map, Some("pet-veterinarian")),
        (&map, Some("as-text")),
    ] {
        let o = run(&[
            "simulate",
            "--policies",
            file,
            "--groups",
            group.unwrap_or("anyone"),
            "--method",
            "GET",
            "--path",
            "/petstore/v1/pets",
            "--source-ip",
            "192.0.2.1",
            "--json",
        ]);
        assert!(
            o.status.success(),
            "{file} {group:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["decision"], "Allow");
        assert_eq!(v["decidedBy"]["group"], json!(group), "{v}");
    }
    // One policy applies whatever the groups, and needs none.
    let o = run(&[
        "simulate",
        "--policies",
        &one,
        "--method",
        "GET",
        "--path",
        "/petstore/v1/pets",
        "--source-ip",
        "192.0.2.1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Allow by "), "{}", stdout(&o));
    // A group without a policy (null) contributes nothing, silently.
    let o = run(&[
        "simulate",
        "--policies",
        &document,
        "--groups",
        "nobody",
        "--method",
        "GET",
        "--path",
        "/petstore/v1/pets",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "");

    for store in [&document, &map] {
        let o = authorize(&iss, &["--store", store, "--token", &iss.token], None);
        assert!(o.status.success(), "{store}: {}{}", stdout(&o), stderr(&o));
    }
    let o = authorize(&iss, &["--store", &one, "--token", &iss.token], None);
    assert_usage_error(&o, &format!("`--store {one}` is one policy"));
    assert_usage_error(
        &o,
        r#"write {"GROUP": <policy>} or {"groups": {"GROUP": <policy>}}"#,
    );

    // No shape: the error names the three.
    let array = dir.file("array.json", "[]");
    let shapes = r#"expected one policy {"Version": ..., "Statement": [...]}, a policy document {"groups": {"GROUP": policy | null}}, or a map {"GROUP": policy | null}; found an array"#;
    let o = run(&["validate", &array]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains(shapes), "{}", stdout(&o));
    let o = run(&[
        "simulate",
        "--policies",
        &array,
        "--groups",
        "a",
        "--method",
        "GET",
        "--path",
        "/",
    ]);
    assert_usage_error(&o, &format!("`--policies {array}`: {shapes}"));
    let o = authorize(&iss, &["--store", &array, "--token", &iss.token], None);
    assert_usage_error(&o, &format!("`--store {array}`: {shapes}"));
    // A document has nothing but `groups`.
    let extra = dir.file(
        "extra.json",
        &format!(r#"{{"groups": {{"a": {SEED_POLICY}}}, "everyone": {SEED_POLICY}}}"#),
    );
    let o = run(&["validate", &extra]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("which has no other member, but it also has `everyone`"),
        "{}",
        stdout(&o)
    );
    // Invalid policies stop `simulate` (exit 2), every error located.
    let o = run(&[
        "simulate",
        "--policies",
        &broken,
        "--groups",
        "admins",
        "--method",
        "GET",
        "--path",
        "/",
    ]);
    assert_usage_error(&o, "broken.json: groups.admins.Statement[0].Principal");
    assert_usage_error(&o, "broken.json: groups.typo: expected a policy object");
}

/// A policy file read two ways is no answer: JSON readers disagree on which of two equal
/// members counts (serde_json and `JSON.parse` keep the last, others the first), so a
/// repeated member anywhere in a file of groups is an error, as the core makes it one in a
/// policy's own text — never a last-one-wins Allow.
#[test]
fn repeated_members_in_policy_files_are_refused() {
    let dir = TempDir::new("duplicates");
    let iss = issuer(&dir);
    let deny_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"*"}]}"#;
    let allow_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#;
    // The group named twice: first denied everything, then allowed everything.
    let twice = dir.file(
        "twice.json",
        &format!(r#"{{"pet-veterinarian": {deny_all}, "pet-veterinarian": {allow_all}}}"#),
    );
    // A statement's Effect given twice, in a map and in a document.
    let effect = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#;
    let in_map = dir.file(
        "in-map.json",
        &format!(r#"{{"pet-veterinarian": {effect}}}"#),
    );
    let in_document = dir.file(
        "in-document.json",
        &format!(r#"{{"groups": {{"pet-veterinarian": {effect}, "nobody": null}}}}"#),
    );
    for (file, error) in [
        (
            &twice,
            r#"pet-veterinarian: duplicate key "pet-veterinarian""#,
        ),
        (
            &in_map,
            r#"pet-veterinarian.Statement[0].Effect: duplicate key "Effect""#,
        ),
        (
            &in_document,
            r#"groups.pet-veterinarian.Statement[0].Effect: duplicate key "Effect""#,
        ),
    ] {
        let o = run(&["validate", file]);
        assert_eq!(o.status.code(), Some(1), "{file}: {}", stdout(&o));
        assert!(
            stdout(&o).contains(&format!("error: {error}")),
            "{file}: {}",
            stdout(&o)
        );
        let o = run(&[
            "simulate",
            "--policies",
            file,
            "--groups",
            "pet-veterinarian",
            "--method",
            "GET",
            "--path",
            "/petstore/v1/pets",
        ]);
        assert_usage_error(&o, error);
        let o = authorize(&iss, &["--store", file, "--token", &iss.token], None);
        assert_usage_error(&o, error);
    }
    let o = run(&[
        "validate",
        &dir.file("groups-twice.json", r#"{"groups": {}, "groups": {}}"#),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains(r#"error: groups: duplicate key "groups""#),
        "{}",
        stdout(&o)
    );
    // Claims too.
    let o = run(&[
        "simulate",
        "--policies",
        &dir.file("one.json", allow_all),
        "--method",
        "GET",
        "--path",
        "/",
        "--claims",
        r#"{"sub":"a","sub":"b"}"#,
    ]);
    assert_usage_error(&o, r#"`--claims`: sub: duplicate key "sub""#);
}

/// A `--cases` line is read as strictly as the options: a member not understood, or of
/// another type, is an error, never skipped (a request simulated without its address can be
/// allowed where the real one is denied).
#[test]
fn simulate_cases_refuse_what_they_do_not_understand() {
    let dir = TempDir::new("cases-strict");
    let policies = dir.file(
        "policies.json",
        r#"{"vets": {"Version": "2012-10-17", "Statement": [
            {"Sid": "All", "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
            {"Sid": "BadNet", "Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]}}"#,
    );
    let o = run_stdin(
        &["simulate", "--policies", &policies, "--cases", "-"],
        "{\"groups\":[\"vets\"],\"method\":\"GET\",\"path\":\"/x\",\"sourceIp\":\"203.0.113.5\"}\n\
         {\"groups\":\"vets\",\"method\":\"GET\",\"path\":\"/x\",\"sourceIp\":null,\"claims\":null}\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let decisions: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["decision"].clone())
        .collect();
    assert_eq!(decisions, ["ExplicitDeny", "Allow"]);
    for (line, error) in [
        (
            r#"{"groups":["vets"],"method":"GET","path":"/x","sourceIP":"203.0.113.5"}"#,
            "<stdin>:1: unknown member `sourceIP` (did you mean `sourceIp`?)",
        ),
        (
            r#"{"groups":["vets"],"method":"GET","path":"/x","sourceIp":3405803781}"#,
            "<stdin>:1: `sourceIp` must be a string; found a number",
        ),
        (
            r#"{"groups":["vets",7],"method":"GET","path":"/x"}"#,
            "`groups` must be an array of strings or a comma-separated string",
        ),
        (
            r#"{"groups":["vets"],"method":"GET","path":"/x","claims":"sub=a"}"#,
            "`claims` must be an object; found a string",
        ),
        (
            r#"{"groups":[],"groups":["vets"],"method":"GET","path":"/x"}"#,
            r#"<stdin>:1: groups: duplicate key "groups""#,
        ),
        ("[]", "<stdin>:1: expected a JSON object"),
    ] {
        let o = run_stdin(&["simulate", "--policies", &policies, "--cases", "-"], line);
        assert_usage_error(&o, error);
        assert_eq!(stdout(&o), "", "{line}");
    }
}

/// Commands that take options only refuse a stray word rather than ignore it (a path given
/// without `--path` was decided as `/`), and never echo it: it may be a token. A `--header`
/// without `Name:` is not echoed either.
#[test]
fn stray_arguments_are_refused_and_not_echoed() {
    let dir = TempDir::new("stray");
    let iss = issuer(&dir);
    let store = dir.file(
        "store.json",
        r#"{"pet-veterinarian": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/*/GET/"}]}}"#,
    );
    let base = [
        "authorize",
        "--config",
        &iss.config,
        "--jwks",
        &iss.jwks,
        "--store",
        &store,
        "--now",
        "1900000000",
        "--method",
        "GET",
    ];
    // The root is allowed; `/petstore/v1/pets` without `--path` is no request for it.
    let o = run(&[&base[..], &["--token", &iss.token, "/petstore/v1/pets"]].concat());
    assert_usage_error(
        &o,
        "`authorize` takes options only, but 1 other argument is given",
    );
    let o = run(&[&base[..], &["--path", "/", &iss.token]].concat());
    assert_usage_error(&o, "`authorize` takes options only");
    let o = run(&[&base[..], &["--token", &iss.token, "--", "--path", "/x"]].concat());
    assert_usage_error(&o, "but 2 other arguments are given");
    let bearer = format!("Bearer {}", iss.token);
    let o = run(&[&base[..], &["--path", "/", "--header", &bearer]].concat());
    assert_usage_error(
        &o,
        "`--header` (the 1st): not `Name: value` (it has no `:`)",
    );
    for o in [
        run(&[&base[..], &["--path", "/", &iss.token]].concat()),
        run(&[&base[..], &["--path", "/", "--header", &bearer]].concat()),
    ] {
        for part in iss.token.split('.') {
            assert!(!stderr(&o).contains(part), "{}", stderr(&o));
        }
    }
    for args in [
        vec!["simulate", "--policies", &store, "--method", "GET", "/"],
        vec![
            "revoke",
            "--sub",
            "u1",
            "--issuer",
            "https://issuer.test/",
            "extra",
        ],
        vec![
            "token", "mint", "--key", &iss.key, "--claims", "{}", "extra",
        ],
        vec![
            "jwks",
            "generate",
            "--key-out",
            "/nonexistent/k.json",
            "extra",
        ],
    ] {
        let o = run(&args);
        assert_usage_error(&o, "takes options only");
    }
}

#[test]
fn simulate_warns_about_unknown_groups() {
    let dir = TempDir::new("unknown-groups");
    let policies = dir.file(
        "policies.json",
        &format!(r#"{{"pet-veterinarian": {SEED_POLICY}, "readers": null}}"#),
    );
    let o = run(&[
        "simulate",
        "--policies",
        &policies,
        "--groups",
        "pet-veterinarain,ghosts",
        "--method",
        "GET",
        "--path",
        "/petstore/v1/pets",
        "--source-ip",
        "192.0.2.1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["decision"], "ImplicitDeny");
    assert_eq!(v["unknownGroups"], json!(["pet-veterinarain", "ghosts"]));
    let err = stderr(&o);
    assert!(
        err.contains("warning: group `pet-veterinarain` is not in ")
            && err.contains("(it has `pet-veterinarian`, `readers`) (did you mean `pet-veterinarian`?): it contributes no policy"),
        "{err}"
    );
    assert!(err.contains("warning: group `ghosts` is not in "), "{err}");
    // Known groups: no warning, an empty list.
    let o = run(&[
        "simulate",
        "--policies",
        &policies,
        "--groups",
        "pet-veterinarian,readers",
        "--method",
        "GET",
        "--path",
        "/petstore/v1/pets",
        "--source-ip",
        "192.0.2.1",
        "--json",
    ]);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&o)).unwrap()["unknownGroups"],
        json!([])
    );
    // In --cases, the warning names the line.
    let cases = dir.file(
        "cases.jsonl",
        "{\"groups\":[\"pet-veterinarian\"],\"method\":\"GET\",\"path\":\"/x\"}\n{\"groups\":[\"admins\"],\"method\":\"GET\",\"path\":\"/x\"}\n",
    );
    let o = run(&["simulate", "--policies", &policies, "--cases", &cases]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("cases.jsonl:2: warning: group `admins` is not in "),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("cases.jsonl:1:"), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[1]["unknownGroups"], json!(["admins"]));
    // One policy has no groups to miss: `--groups` is noted as unused.
    let one = dir.file("one.json", SEED_POLICY);
    let o = run(&[
        "simulate",
        "--policies",
        &one,
        "--groups",
        "whoever",
        "--method",
        "GET",
        "--path",
        "/petstore/v1/pets",
        "--source-ip",
        "192.0.2.1",
    ]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("note: `--groups` is not used"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn simulate_explains_and_scripts() {
    let dir = TempDir::new("simulate");
    let policies = dir.file(
        "policies.json",
        &format!(r#"{{"pet-veterinarian": {SEED_POLICY}}}"#),
    );
    let o = run(&[
        "simulate",
        "--policies",
        &policies,
        "--groups",
        "pet-veterinarian",
        "--method",
        "GET",
        "--path",
        "/petstore/v1/pets",
        "--source-ip",
        "192.0.2.1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(v["decision"], "Allow");
    assert_eq!(v["decidedBy"]["sid"], "PetStore-API");

    let o = run(&[
        "simulate",
        "--policies",
        &policies,
        "--groups",
        "pet-veterinarian",
        "--method",
        "GET",
        "--path",
        "/petstore/v1/pets",
        "--source-ip",
        "203.0.113.9",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("condition IpAddress aws:SourceIp not met"),
        "{}",
        stdout(&o)
    );

    let cases = dir.file(
        "cases.jsonl",
        "{\"groups\":[\"pet-veterinarian\"],\"method\":\"GET\",\"path\":\"/petstore/v2/status\",\"sourceIp\":\"198.51.100.3\"}\n\
         {\"groups\":[\"pet-veterinarian\"],\"method\":\"GET\",\"path\":\"/petstore/v2/pets\",\"sourceIp\":\"198.51.100.3\"}\n\
         {\"groups\":[],\"arn\":\"arn:aws:execute-api:us-east-1:1:a/prod/GET/petstore/v1/pets\",\"sourceIp\":\"198.51.100.3\"}\n",
    );
    let o = run(&["simulate", "--policies", &policies, "--cases", &cases]);
    assert!(o.status.success());
    let decisions: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("line")["decision"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(decisions, ["Allow", "ImplicitDeny", "ImplicitDeny"]);
}

#[test]
fn jwks_generate_mint_verify_inspect() {
    let dir = TempDir::new("tokens");
    for alg in ["RS256", "ES256", "EdDSA"] {
        let key = dir.path(&format!("{alg}.key.json"));
        let jwks = dir.path(&format!("{alg}.jwks.json"));
        // A key file left readable by others (an old one, a `touch`) is made private too.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::write(&key, "old").unwrap();
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let o = run(&[
            "jwks",
            "generate",
            "--alg",
            alg,
            "--kid",
            "k1",
            "--key-out",
            &key,
            "--jwks-out",
            &jwks,
        ]);
        assert!(
            o.status.success(),
            "{alg}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let public = std::fs::read_to_string(&jwks).unwrap();
        assert!(
            !public.contains("\"d\""),
            "{alg}: the JWKS must not carry private members"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let config = dir.file(
            "config.json",
            &json!({"issuers": [{"issuer": "https://issuer.test/", "jwksUri": "https://issuer.test/jwks", "audience": ["api"]}]}).to_string(),
        );
        let claims = json!({"iss": "https://issuer.test/", "sub": "u1", "aud": "api", "exp": 2_000_000_000u64}).to_string();
        let o = run(&["token", "mint", "--key", &key, "--claims", &claims]);
        assert!(o.status.success(), "{alg}");
        let token = stdout(&o).trim().to_owned();
        let o = run(&[
            "token",
            "verify",
            "--config",
            &config,
            "--jwks",
            &jwks,
            "--now",
            "2030-01-01T00:00:00Z",
            &token,
        ]);
        assert!(o.status.success(), "{alg}: {}", stdout(&o));
        assert_eq!(
            serde_json::from_str::<Value>(&stdout(&o)).unwrap()["claims"]["sub"],
            "u1"
        );
        let o = run(&[
            "token",
            "verify",
            "--config",
            &config,
            "--jwks",
            &jwks,
            "--now",
            "2040-01-01T00:00:00Z",
            &token,
        ]);
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(
            serde_json::from_str::<Value>(&stdout(&o)).unwrap()["error"],
            "expired"
        );
        let o = run(&["token", "inspect", &token]);
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["verified"], false);
        assert_eq!(v["header"]["alg"], alg);
    }
}

#[test]
fn config_check_lists_every_problem() {
    let dir = TempDir::new("config");
    let config = dir.file(
        "config.json",
        r#"{"issuers":[{"userPoolId":"not a pool","tokenUse":"access"},{"issuer":"https://x/","jwksUri":"http://example.com/jwks","audience":null}],
            "graceSeconds": 100000, "colour": "blue", "jwksCache": {"ttlSeconds": 0},
            "policies":{"groups":{"admins":{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Principal":"*"}]}}}}"#,
    );
    let o = run(&["config", "check", &config]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for expected in [
        "issuers[0].userPoolId: `not a pool` is not a user pool id",
        "issuers[0].clientId: is required",
        "issuers[1].jwksUri: must be an https:// URL",
        "graceSeconds: must be an integer from 0 to 300",
        "jwksCache.ttlSeconds: must be at least 1",
        "colour: unknown field",
        "policies.groups.admins.Statement[0]",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
}

/// Every case of the conformance suite whose state a single invocation can reproduce
/// (a fresh authorizer with the JWKS served at that point) must give the same status and
/// reason through the binary as through the library.
#[test]
fn conformance_suite_through_the_binary() {
    let keys = suite_keys();
    let dir = TempDir::new("conformance");
    let cases_dir = support::cases_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&cases_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("keys.json"))
        .collect();
    paths.sort();
    let (mut ran, mut skipped, mut failures) = (0, 0, Vec::new());
    for path in &paths {
        let scenario: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let name = Path::new(path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let config = dir.file(
            &format!("{name}.config.json"),
            &scenario["config"].to_string(),
        );
        let store = dir.file(
            &format!("{name}.store.json"),
            &scenario
                .get("store")
                .cloned()
                .unwrap_or(json!({}))
                .to_string(),
        );
        let mut served: Vec<String> = serde_json::from_value(scenario["jwks"].clone()).unwrap();
        let mut down = false;
        let mut revocations = scenario.get("revocations").cloned().unwrap_or(json!({}));
        let mut revocations_down = false;
        for case in scenario["cases"].as_array().unwrap() {
            if let Some(kids) = case.get("jwks") {
                served = serde_json::from_value(kids.clone()).unwrap();
            }
            if let Some(d) = case.get("jwksDown") {
                down = d.as_bool().unwrap();
            }
            for (key, record) in case
                .get("revoke")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                match record {
                    Value::Null => revocations.as_object_mut().unwrap().remove(key),
                    record => revocations
                        .as_object_mut()
                        .unwrap()
                        .insert(key.clone(), record.clone()),
                };
            }
            if let Some(d) = case.get("revocationsDown") {
                revocations_down = d.as_bool().unwrap();
            }
            // Outages and answers from a cache are about state over time: only the library
            // run has it (each CLI run is a fresh process reading the stores as they are).
            let from_cache = case["expect"].get("revocationReads") == Some(&json!(0));
            if down || revocations_down || from_cache {
                skipped += 1;
                continue;
            }
            let revocation_store = dir.file(
                &format!("{name}.revocations.json"),
                &revocations.to_string(),
            );
            let jwks = dir.file(
                "jwks.json",
                &String::from_utf8(jwks_document(&keys, &served)).unwrap(),
            );
            let token = case.get("token").map(|t| match t.get("raw") {
                Some(raw) => raw.as_str().unwrap().to_owned(),
                None => sign_token(
                    &keys,
                    t["key"].as_str().unwrap(),
                    t.get("header").and_then(Value::as_object),
                    &t["claims"],
                    t.get("tamper").is_some(),
                ),
            });
            let req = &case["request"];
            let now = case["now"].as_u64().unwrap().to_string();
            let mut args: Vec<String> = [
                "authorize",
                "--config",
                &config,
                "--jwks",
                &jwks,
                "--store",
                &store,
                "--revocations",
                &revocation_store,
                "--json",
                "--now",
                &now,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.extend([
                "--method".into(),
                req["method"].as_str().unwrap().into(),
                "--path".into(),
                req["path"].as_str().unwrap().into(),
            ]);
            if let Some(ip) = req.get("sourceIp").and_then(Value::as_str) {
                args.extend(["--source-ip".into(), ip.into()]);
            }
            if let Some(arn) = req.get("methodArn").and_then(Value::as_str) {
                args.extend(["--arn".into(), arn.into()]);
            }
            let mut has_authorization = false;
            for (k, v) in req
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let v = v
                    .as_str()
                    .unwrap()
                    .replace("{token}", token.as_deref().unwrap_or(""));
                has_authorization |= k.eq_ignore_ascii_case("authorization");
                args.extend(["--header".into(), format!("{k}: {v}")]);
            }
            if let (Some(token), false) = (&token, has_authorization) {
                args.extend(["--token".into(), token.clone()]);
            }
            let o = bin().args(&args).output().unwrap();
            let out: Value = match serde_json::from_slice(&o.stdout) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!(
                        "{name} / {}: no JSON ({e}): {}",
                        case["name"],
                        String::from_utf8_lossy(&o.stderr)
                    ));
                    continue;
                }
            };
            ran += 1;
            let expect = &case["expect"];
            if out["status"] != expect["status"] || out["reason"] != expect["reason"] {
                failures.push(format!(
                    "{name} / {}: got {} {}, expected {} {}",
                    case["name"], out["status"], out["reason"], expect["status"], expect["reason"]
                ));
            }
            let expected_exit = if expect["status"] == 200 { 0 } else { 1 };
            if o.status.code() != Some(expected_exit) {
                failures.push(format!(
                    "{name} / {}: exit {:?}",
                    case["name"],
                    o.status.code()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(ran >= 75, "only {ran} cases ran through the binary");
    println!(
        "conformance through the binary: {ran} cases passed, {skipped} skipped (JWKS outage state)"
    );
}

#[test]
fn revoke_prints_the_record_for_each_store() {
    const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool";
    let o = run(&[
        "revoke", "--sub", "alice", "--before", "100", "--issuer", ISS, "--now", "50",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        printed,
        json!({
            "key": format!("user#{ISS}#alice"),
            "record": { "before": 100, "expiresAt": 100 + 86_700 },
            "expiresAt": 100 + 86_700,
        })
    );

    let o = run(&[
        "revoke",
        "--origin-jti",
        "o'1",
        "--issuer",
        ISS,
        "--now",
        "50",
        "--format",
        "kv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).trim(),
        format!(
            "wrangler kv key put --binding=REVOCATIONS 'session#{ISS}#o'\\''1' '{{\"expiresAt\":86750}}' --expiration=86750"
        )
    );

    let o = run(&[
        "revoke",
        "--jti",
        "t1",
        "--issuer",
        ISS,
        "--expires",
        "900",
        "--format",
        "dynamodb",
        "--table",
        "revocations",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stdout(&o);
    let item = line
        .trim()
        .strip_prefix("aws dynamodb put-item --table-name 'revocations' --item '")
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{line}"));
    let item: Value = serde_json::from_str(item).unwrap();
    assert_eq!(item["key"]["S"], format!("token#{ISS}#t1"));
    assert_eq!(item["record"]["S"], r#"{"expiresAt":900}"#);
    assert_eq!(item["expiresAt"]["N"], "900");

    // A user cutoff: the put never replaces a later cutoff stored (as the revoker writes).
    let o = run(&[
        "revoke",
        "--sub",
        "bob",
        "--before",
        "100",
        "--issuer",
        ISS,
        "--format",
        "dynamodb",
        "--table",
        "revocations",
    ]);
    let line = stdout(&o);
    assert!(
        line.contains("--condition-expression 'attribute_not_exists(#b) OR #b < :b' --expression-attribute-names '{\"#b\":\"before\"}' --expression-attribute-values '{\":b\":{\"N\":\"100\"}}'"),
        "{line}"
    );
    assert!(line.contains(r#""before":{"N":"100"}"#), "{line}");
}

#[test]
fn revoke_refuses_what_it_cannot_mean() {
    for (args, says) in [
        (
            vec!["revoke", "--sub", "a", "--jti", "b", "--issuer", "i"],
            "exactly one",
        ),
        (
            vec!["revoke", "--jti", "b", "--before", "1", "--issuer", "i"],
            "--before applies to --sub",
        ),
        (vec!["revoke", "--sub", "a"], "--issuer"),
        (vec!["revoke", "--sub", "", "--issuer", "i"], "non-empty"),
        (
            vec!["revoke", "--sub", "a", "--issuer", "i", "--format", "xml"],
            "json, kv or dynamodb",
        ),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
}
