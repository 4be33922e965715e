//! The `edge-authz` binary, run as a user would: every command, and the conformance suite
//! through `edge-authz authorize`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use support::{jwks_document, sign_token, suite_keys};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edge-authz"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run edge-authz")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
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
    ] {
        let o = run(&args);
        assert!(o.status.success(), "{args:?}");
        assert!(stdout(&o).contains("edge-authz"), "{args:?}");
    }
    let o = run(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown command `frobnicate`"));
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
        for case in scenario["cases"].as_array().unwrap() {
            if let Some(kids) = case.get("jwks") {
                served = serde_json::from_value(kids.clone()).unwrap();
            }
            if let Some(d) = case.get("jwksDown") {
                down = d.as_bool().unwrap();
            }
            // A JWKS outage is about cache state over time: only the library run has it.
            if down {
                skipped += 1;
                continue;
            }
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
