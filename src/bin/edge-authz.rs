//! `edge-authz`: validate and simulate policies, inspect/verify/mint tokens, generate JWKS.
//!
//! Exit codes: 0 success (and `Allow` for `simulate`), 1 the input is invalid / the token is
//! rejected / the request is denied, 2 usage or I/O error.

use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use base64ct::{Base64UrlUnpadded, Encoding};
use edge_authz::policy::{evaluate, EvalContext, PolicyDocument};
use edge_authz::token::crypto::RustCryptoVerifier;
use edge_authz::{Authorizer, Config, ContextValue, Jwks, Need, Request, Step, TokenVerifier};
use jwt_compact::alg::{Ed25519, Es256, ModulusBits, Rsa, RsaPrivateKey};

type Ed25519SecretKey = <Ed25519 as jwt_compact::Algorithm>::SigningKey;
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm as _, AlgorithmSignature as _};
use serde_json::{json, Map, Value};

const USAGE: &str = "\
edge-authz — authorizer tooling

USAGE:
  edge-authz validate POLICY.json...
  edge-authz simulate --policies FILE (--groups a,b --method GET --path /x [--arn ARN]
                      [--source-ip IP] [--claims JSON] [--now RFC3339] [--json] | --cases FILE.jsonl)
  edge-authz config check CONFIG.json
  edge-authz authorize --config FILE [--jwks FILE] [--store FILE] [--token JWT | --authorization VALUE]
                       --method GET --path /x [--arn ARN] [--header 'Name: value']... [--source-ip IP]
                       [--now TIME] [--json] [--api-gateway-policy]
  edge-authz token inspect JWT
  edge-authz token verify --config FILE --jwks FILE [--now RFC3339|EPOCH] JWT
  edge-authz token mint --key FILE --claims JSON|@FILE
  edge-authz jwks generate [--alg RS256|ES256|EdDSA] [--kid KID] --key-out FILE [--jwks-out FILE]

Run `edge-authz COMMAND --help` for one command. Exit codes: 0 ok / allowed,
1 invalid input, rejected token or denied request, 2 usage or I/O error.
";

/// A usage or I/O problem: exit code 2.
struct Fail(String);

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.to_string())
    }
}

type Outcome = Result<ExitCode, Fail>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some("validate") => validate(&args[1..]),
        Some("simulate") => simulate(&args[1..]),
        Some("authorize") => authorize(&args[1..]),
        Some("config") if args.get(1).map(String::as_str) == Some("check") => {
            config_check(&args[2..])
        }
        Some("token") => match args.get(1).map(String::as_str) {
            Some("inspect") => token_inspect(&args[2..]),
            Some("verify") => token_verify(&args[2..]),
            Some("mint") => token_mint(&args[2..]),
            _ => Err(Fail("`token` needs `inspect`, `verify` or `mint`".into())),
        },
        Some("jwks") if args.get(1).map(String::as_str) == Some("generate") => {
            jwks_generate(&args[2..])
        }
        Some(other) => Err(Fail(format!("unknown command `{other}`"))),
    };
    match result {
        Ok(code) => code,
        Err(Fail(message)) => {
            eprintln!("edge-authz: {message}");
            eprintln!("Run `edge-authz --help` for usage.");
            ExitCode::from(2)
        }
    }
}

/// `--flag value` options and positional arguments, checked against what a command takes.
struct Args {
    options: Vec<(String, String)>,
    switches: Vec<String>,
    positional: Vec<String>,
}

impl Args {
    fn parse(
        args: &[String],
        valued: &[&str],
        switches: &[&str],
        help: &str,
    ) -> Result<Option<Self>, Fail> {
        let mut parsed = Args {
            options: Vec::new(),
            switches: Vec::new(),
            positional: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "-h" || arg == "--help" {
                print!("{help}");
                return Ok(None);
            }
            if let Some(name) = arg.strip_prefix("--") {
                if valued.contains(&name) {
                    let value = it
                        .next()
                        .ok_or_else(|| Fail(format!("`--{name}` needs a value")))?;
                    parsed.options.push((name.to_owned(), value.clone()));
                } else if switches.contains(&name) {
                    parsed.switches.push(name.to_owned());
                } else {
                    return Err(Fail(format!("unknown option `--{name}`")));
                }
            } else {
                parsed.positional.push(arg.clone());
            }
        }
        Ok(Some(parsed))
    }

    /// The last value given for `--name`.
    fn get(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for a repeatable `--name`.
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.options
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn require(&self, name: &str) -> Result<&str, Fail> {
        self.get(name)
            .ok_or_else(|| Fail(format!("`--{name}` is required")))
    }

    fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }
}

fn read(path: &str) -> Result<String, Fail> {
    std::fs::read_to_string(path).map_err(|e| Fail(format!("cannot read `{path}`: {e}")))
}

/// A JSON argument given inline or as `@FILE`.
fn json_arg(value: &str) -> Result<Value, Fail> {
    let text = match value.strip_prefix('@') {
        Some(path) => read(path)?,
        None => value.to_owned(),
    };
    serde_json::from_str(&text).map_err(|e| Fail(format!("invalid JSON: {e}")))
}

fn validate(args: &[String]) -> Outcome {
    let Some(args) = Args::parse(args, &[], &[], "edge-authz validate POLICY.json...\n\nPrints each policy's located errors and warnings; exits 1 if any has errors.\n")? else {
        return Ok(ExitCode::SUCCESS);
    };
    if args.positional.is_empty() {
        return Err(Fail("`validate` needs at least one policy file".into()));
    }
    let mut failed = false;
    for path in &args.positional {
        let text = read(path)?;
        match PolicyDocument::parse(&text) {
            Ok(parsed) => {
                for w in &parsed.warnings {
                    println!("{path}: warning: {w}");
                }
                println!(
                    "{path}: ok ({} statements, {} warnings)",
                    parsed.document.statement_count(),
                    parsed.warnings.len()
                );
            }
            Err(errors) => {
                failed = true;
                for e in &errors.0 {
                    println!("{path}: error: {e}");
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn config_check(args: &[String]) -> Outcome {
    let Some(args) = Args::parse(args, &[], &[], "edge-authz config check CONFIG.json\n\nValidates a configuration; prints every problem with its location.\n")? else {
        return Ok(ExitCode::SUCCESS);
    };
    let [path] = args.positional.as_slice() else {
        return Err(Fail("`config check` needs one file".into()));
    };
    match Config::from_json(&read(path)?) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                println!("{path}: warning: {w}");
            }
            println!("{path}: ok ({} issuers)", loaded.config.issuers.len());
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for e in &errors.0 {
                println!("{path}: error: {e}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// Loads `{ "group": policy, ... }`; every group's errors are reported before failing.
fn load_policies(path: &str) -> Result<Vec<(String, PolicyDocument)>, Fail> {
    let value: Value = serde_json::from_str(&read(path)?)
        .map_err(|e| Fail(format!("{path}: invalid JSON: {e}")))?;
    let Value::Object(groups) = value else {
        return Err(Fail(format!(
            "{path}: must be an object mapping group name to policy document"
        )));
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (group, doc) in groups {
        match PolicyDocument::from_value(&doc) {
            Ok(parsed) => out.push((group, parsed.document)),
            Err(e) => errors.extend(e.0.iter().map(|e| format!("{path}: {group}.{e}"))),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Fail(errors.join("\n")))
    }
}

/// One simulated request.
struct Simulation {
    groups: Vec<String>,
    arn: String,
    source_ip: Option<IpAddr>,
    claims: Map<String, Value>,
    now: u64,
}

fn arn_for(method: &str, path: &str) -> String {
    let mut arn = String::new();
    edge_authz::ApiIdentity::default().write_arn(method, path, &mut arn);
    arn
}

fn run_simulation(policies: &[(String, PolicyDocument)], sim: &Simulation) -> (Value, bool) {
    let mut docs: Vec<(&str, &PolicyDocument)> = Vec::new();
    for group in &sim.groups {
        if let Some((label, doc)) = policies.iter().find(|(g, _)| g == group) {
            docs.push((label, doc));
        }
    }
    let ctx = EvalContext {
        source_ip: sim.source_ip,
        now: sim.now,
        secure_transport: Some(true),
        claims: Some(&sim.claims),
        ..EvalContext::default()
    };
    let evaluation = evaluate(&docs, "execute-api:Invoke", &sim.arn, &ctx);
    let explanation = evaluation
        .explain(&docs, "execute-api:Invoke", &sim.arn)
        .to_string();
    let reference = |r: &edge_authz::policy::StatementRef| {
        json!({
            "group": docs.get(r.policy).map(|(l, _)| *l),
            "statement": r.statement,
            "sid": docs.get(r.policy).and_then(|(_, d)| d.sid(r.statement)),
        })
    };
    let out = json!({
        "decision": evaluation.decision.as_str(),
        "resource": sim.arn,
        "decidedBy": evaluation.decided_by.as_ref().map(reference),
        "close": evaluation.close.iter().map(reference).collect::<Vec<_>>(),
        "explanation": explanation,
    });
    (out, evaluation.decision.as_str() == "Allow")
}

fn simulate(args: &[String]) -> Outcome {
    const HELP: &str = "\
edge-authz simulate --policies FILE --groups a,b --method GET --path /x [options]
edge-authz simulate --policies FILE --cases FILE.jsonl

Evaluates the policies of the given groups for one request and explains the decision.
  --policies FILE   JSON object: group name -> policy document
  --groups a,b      the caller's groups
  --method, --path  the request (the ARN is built for a default API), or
  --arn ARN         the full execute-api ARN
  --source-ip IP    aws:SourceIp
  --claims JSON     the token's claims (jwt:*, cognito:* keys and ${...} variables)
  --now TIME        RFC 3339 or epoch seconds (default: the current time)
  --json            one JSON object; its `decision` is Allow, ExplicitDeny or ImplicitDeny
  --cases FILE      JSON Lines of {groups, method, path | arn, sourceIp, claims, now};
                    one JSON decision per line out
Exit: 0 Allow, 1 deny, 2 usage error.
";
    let Some(args) = Args::parse(
        args,
        &[
            "policies",
            "groups",
            "method",
            "path",
            "arn",
            "source-ip",
            "claims",
            "now",
            "cases",
        ],
        &["json"],
        HELP,
    )?
    else {
        return Ok(ExitCode::SUCCESS);
    };
    let policies = load_policies(args.require("policies")?)?;
    if let Some(cases) = args.get("cases") {
        let file =
            std::fs::File::open(cases).map_err(|e| Fail(format!("cannot read `{cases}`: {e}")))?;
        let mut out = std::io::stdout().lock();
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let req: Value =
                serde_json::from_str(&line).map_err(|e| Fail(format!("{cases}:{}: {e}", n + 1)))?;
            let sim = simulation_from_json(&req)
                .map_err(|Fail(e)| Fail(format!("{cases}:{}: {e}", n + 1)))?;
            let (decision, _) = run_simulation(&policies, &sim);
            writeln!(out, "{decision}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let arn = match args.get("arn") {
        Some(arn) => arn.to_owned(),
        None => arn_for(args.require("method")?, args.require("path")?),
    };
    let claims = match args.get("claims") {
        Some(c) => match json_arg(c)? {
            Value::Object(m) => m,
            _ => return Err(Fail("`--claims` must be a JSON object".into())),
        },
        None => Map::new(),
    };
    let sim = Simulation {
        groups: args
            .get("groups")
            .map(|g| {
                g.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        arn,
        source_ip: args
            .get("source-ip")
            .map(|ip| {
                ip.parse()
                    .map_err(|_| Fail(format!("invalid `--source-ip` `{ip}`")))
            })
            .transpose()?,
        claims,
        now: parse_time(args.get("now"))?,
    };
    let (decision, allowed) = run_simulation(&policies, &sim);
    if args.switch("json") {
        println!("{decision}");
    } else {
        println!("{}", decision["explanation"].as_str().unwrap_or_default());
    }
    Ok(if allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn simulation_from_json(req: &Value) -> Result<Simulation, Fail> {
    let s = |k: &str| req.get(k).and_then(Value::as_str);
    let arn = match s("arn") {
        Some(arn) => arn.to_owned(),
        None => arn_for(
            s("method").ok_or(Fail("`method` or `arn` is required".into()))?,
            s("path").ok_or(Fail("`path` or `arn` is required".into()))?,
        ),
    };
    let groups = match req.get("groups") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        Some(Value::String(g)) => g.split(',').map(String::from).collect(),
        _ => Vec::new(),
    };
    let now = match req.get("now") {
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or(Fail("`now` must be epoch seconds".into()))?,
        Some(Value::String(t)) => parse_time(Some(t))?,
        _ => parse_time(None)?,
    };
    Ok(Simulation {
        groups,
        arn,
        source_ip: s("sourceIp")
            .map(|ip| {
                ip.parse()
                    .map_err(|_| Fail(format!("invalid sourceIp `{ip}`")))
            })
            .transpose()?,
        claims: req
            .get("claims")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        now,
    })
}

/// `None` → the current time; otherwise epoch seconds or RFC 3339 (`2026-01-01T00:00:00Z`).
fn parse_time(value: Option<&str>) -> Result<u64, Fail> {
    let Some(value) = value else {
        return Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs());
    };
    if let Ok(secs) = value.parse::<u64>() {
        return Ok(secs);
    }
    rfc3339(value).ok_or_else(|| {
        Fail(format!(
            "`{value}` is not RFC 3339 (2026-01-01T00:00:00Z) or epoch seconds"
        ))
    })
}

fn rfc3339(s: &str) -> Option<u64> {
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (time, offset) = if let Some(t) = time.strip_suffix(['Z', 'z']) {
        (t, 0)
    } else {
        let split = time.rfind(['+', '-'])?;
        let (t, off) = time.split_at(split);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off.get(1..)?.split_once(':')?;
        (
            t,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    };
    let time = time.split('.').next()?;
    let mut t = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss - offset).ok()
}

fn decode_segment(segment: &str) -> Result<Value, Fail> {
    let bytes = Base64UrlUnpadded::decode_vec(segment)
        .map_err(|_| Fail("a segment is not base64url".into()))?;
    serde_json::from_slice(&bytes).map_err(|e| Fail(format!("a segment is not JSON: {e}")))
}

fn token_inspect(args: &[String]) -> Outcome {
    let Some(args) = Args::parse(args, &[], &[], "edge-authz token inspect JWT\n\nDecodes the header and claims WITHOUT verifying anything.\n")? else {
        return Ok(ExitCode::SUCCESS);
    };
    let [token] = args.positional.as_slice() else {
        return Err(Fail("`token inspect` needs one token".into()));
    };
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        println!("not a JWS compact token (three dot-separated segments expected)");
        return Ok(ExitCode::from(1));
    };
    let out = json!({
        "verified": false,
        "note": "decoded only: the signature and claims were NOT checked",
        "header": decode_segment(header)?,
        "claims": decode_segment(claims)?,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

fn token_verify(args: &[String]) -> Outcome {
    const HELP: &str = "edge-authz token verify --config FILE --jwks FILE [--now TIME] JWT\n\nVerifies a token against a JWKS file with the configuration's issuer rules.\nPrints the claims (exit 0) or the error code (exit 1).\n";
    let Some(args) = Args::parse(args, &["config", "jwks", "now"], &[], HELP)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let [token] = args.positional.as_slice() else {
        return Err(Fail("`token verify` needs one token".into()));
    };
    let config = Config::from_json(&read(args.require("config")?)?)
        .map_err(|e| Fail(format!("configuration:\n{e}")))?
        .config;
    let jwks_path = args.require("jwks")?;
    let jwks =
        Jwks::parse(read(jwks_path)?.as_bytes()).map_err(|e| Fail(format!("{jwks_path}: {e}")))?;
    let verifier = TokenVerifier::new(config.issuers, config.grace_seconds, config.max_token_bytes);
    match verifier.verify_with_jwks(
        token,
        &jwks,
        &RustCryptoVerifier,
        parse_time(args.get("now"))?,
    ) {
        Ok(verified) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"valid": true, "claims": verified.claims}))?
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!(
                "{}",
                json!({"valid": false, "error": e.code(), "message": e.to_string()})
            );
            Ok(ExitCode::from(1))
        }
    }
}

fn token_mint(args: &[String]) -> Outcome {
    const HELP: &str = "edge-authz token mint --key FILE --claims JSON|@FILE\n\nSigns claims with a private JWK from `jwks generate`. For local development only.\n";
    let Some(args) = Args::parse(args, &["key", "claims"], &[], HELP)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let key_path = args.require("key")?;
    let jwk_value: Value = serde_json::from_str(&read(key_path)?)?;
    let claims = json_arg(args.require("claims")?)?;
    if !claims.is_object() {
        return Err(Fail("`--claims` must be a JSON object".into()));
    }
    let alg = jwk_value
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(Fail(format!("{key_path}: the key has no `alg`")))?
        .to_owned();
    let kid = jwk_value
        .get("kid")
        .and_then(Value::as_str)
        .map(String::from);
    let jwk: JsonWebKey<'_> = serde_json::from_value(jwk_value.clone())
        .map_err(|e| Fail(format!("{key_path}: not a JWK: {e}")))?;
    let mut header = json!({"alg": alg, "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let b64 = |v: &Value| Base64UrlUnpadded::encode_string(v.to_string().as_bytes());
    let signing_input = format!("{}.{}", b64(&header), b64(&claims));
    let message = signing_input.as_bytes();
    let bad_key =
        |e: &dyn std::fmt::Display| Fail(format!("{key_path}: not a private {alg} key: {e}"));
    let signature = match alg.as_str() {
        "RS256" => Rsa::rs256()
            .sign(
                &RsaPrivateKey::try_from(&jwk).map_err(|e| bad_key(&e))?,
                message,
            )
            .as_bytes()
            .to_vec(),
        "ES256" => Es256
            .sign(
                &<Es256 as jwt_compact::Algorithm>::SigningKey::try_from(&jwk)
                    .map_err(|e| bad_key(&e))?,
                message,
            )
            .as_bytes()
            .to_vec(),
        "EdDSA" => Ed25519
            .sign(
                &Ed25519SecretKey::try_from(&jwk).map_err(|e| bad_key(&e))?,
                message,
            )
            .as_bytes()
            .to_vec(),
        other => {
            return Err(Fail(format!(
                "`mint` signs RS256, ES256 or EdDSA, not `{other}`"
            )))
        }
    };
    println!(
        "{signing_input}.{}",
        Base64UrlUnpadded::encode_string(&signature)
    );
    Ok(ExitCode::SUCCESS)
}

fn jwks_generate(args: &[String]) -> Outcome {
    const HELP: &str = "edge-authz jwks generate [--alg RS256|ES256|EdDSA] [--kid KID] --key-out FILE [--jwks-out FILE]\n\nWrites a new private JWK to --key-out (mode 0600) and its public JWKS to --jwks-out\nor stdout. For local development only.\n";
    let Some(args) = Args::parse(args, &["alg", "kid", "key-out", "jwks-out"], &[], HELP)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let alg = args.get("alg").unwrap_or("RS256");
    let kid = args
        .get("kid")
        .map_or_else(|| format!("local-{}", rand::random::<u32>()), String::from);
    let key_out = args.require("key-out")?;
    let mut rng = rand::thread_rng();
    let private: Value = match alg {
        "RS256" => {
            let (sk, _) = Rsa::generate(&mut rng, ModulusBits::TwoKibibytes)?;
            serde_json::to_value(JsonWebKey::from(sk.as_ref()))?
        }
        "ES256" => {
            let sk = <Es256 as jwt_compact::Algorithm>::SigningKey::random(&mut rng);
            serde_json::to_value(JsonWebKey::from(&sk))?
        }
        "EdDSA" => {
            let (sk, _) = Ed25519::generate(&mut rng);
            serde_json::to_value(JsonWebKey::from(&sk))?
        }
        other => {
            return Err(Fail(format!(
                "`--alg` must be RS256, ES256 or EdDSA, not `{other}`"
            )))
        }
    };
    let mut private = private.as_object().cloned().unwrap_or_default();
    private.insert("kid".into(), json!(kid));
    private.insert("alg".into(), json!(alg));
    private.insert("use".into(), json!("sig"));
    let mut public = private.clone();
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
        public.remove(member);
    }
    write_private(
        key_out,
        &serde_json::to_string_pretty(&Value::Object(private))?,
    )?;
    let jwks = serde_json::to_string_pretty(&json!({"keys": [Value::Object(public)]}))?;
    match args.get("jwks-out") {
        Some(path) => std::fs::write(path, jwks + "\n")
            .map_err(|e| Fail(format!("cannot write `{path}`: {e}")))?,
        None => println!("{jwks}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn write_private(path: &str, text: &str) -> Result<(), Fail> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Fail(format!("cannot write `{path}`: {e}")))?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}

fn authorize(args: &[String]) -> Outcome {
    const HELP: &str = "\
edge-authz authorize --config FILE --method GET --path /x [options]

Runs one request through the whole authorizer, as an adapter would, and prints the decision.
  --config FILE          the authorizer configuration (policies bundled or external)
  --jwks FILE            the JWKS served for every issuer (the CLI never fetches URLs)
  --store FILE           external policies: JSON object group -> policy document, JSON text or null
  --token JWT            sent as `Authorization: Bearer JWT`, or
  --authorization VALUE  the raw Authorization header value
  --header 'Name: value' another request header (repeatable)
  --arn ARN              the execute-api ARN (else built from the configured API, method and path)
  --source-ip IP         the client address
  --now TIME             RFC 3339 or epoch seconds (default: the current time)
  --json                 one JSON object: status, outcome, reason, explanation, context
  --api-gateway-policy   with --json, add the IAM policy an API Gateway authorizer returns
Exit: 0 allowed, 1 denied (401/403/503), 2 usage or I/O error.
";
    let Some(args) = Args::parse(
        args,
        &[
            "config",
            "jwks",
            "store",
            "token",
            "authorization",
            "header",
            "method",
            "path",
            "arn",
            "source-ip",
            "now",
        ],
        &["json", "api-gateway-policy"],
        HELP,
    )?
    else {
        return Ok(ExitCode::SUCCESS);
    };
    let config_path = args.require("config")?;
    let loaded =
        Config::from_json(&read(config_path)?).map_err(|e| Fail(format!("{config_path}:\n{e}")))?;
    let mut authorizer = Authorizer::new(loaded.config);
    let jwks = args.get("jwks").map(read).transpose()?;
    let store: serde_json::Map<String, Value> = match args.get("store") {
        Some(path) => match serde_json::from_str(&read(path)?)? {
            Value::Object(map) => map,
            _ => {
                return Err(Fail(format!(
                    "{path}: must be a JSON object mapping group to policy"
                )))
            }
        },
        None => serde_json::Map::new(),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for header in args.all("header") {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| Fail(format!("`--header {header}` is not `Name: value`")))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    if let Some(token) = args.get("token") {
        headers.push(("authorization".into(), format!("Bearer {token}")));
    }
    if let Some(value) = args.get("authorization") {
        headers.push(("authorization".into(), value.to_owned()));
    }
    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = Request {
        method: args.require("method")?,
        path: args.get("path").unwrap_or("/"),
        method_arn: args.get("arn"),
        headers: &header_refs,
        source_ip: args
            .get("source-ip")
            .map(|ip| {
                ip.parse()
                    .map_err(|_| Fail(format!("invalid `--source-ip` `{ip}`")))
            })
            .transpose()?,
        secure_transport: Some(true),
        ..Request::default()
    };
    let now = parse_time(args.get("now"))?;
    let decision = loop {
        match authorizer.authorize(&request, now) {
            Step::Decided(decision) => break decision,
            Step::Need(Need::FetchJwks { issuer, url }) => match &jwks {
                Some(doc) => {
                    if let Err(e) = authorizer.jwks_fetched(issuer, doc.as_bytes(), now) {
                        return Err(Fail(format!("--jwks: {e}")));
                    }
                }
                None => {
                    return Err(Fail(format!(
                        "the token's issuer needs its JWKS ({url}): pass `--jwks FILE`"
                    )))
                }
            },
            Step::Need(Need::AwaitJwks { .. }) => {
                return Err(Fail("unexpected concurrent JWKS fetch".into()))
            }
            Step::Need(Need::LoadPolicies { groups }) => {
                for group in groups {
                    let result = match store.get(&group) {
                        Some(Value::String(text)) => {
                            authorizer.policy_loaded(&group, Some(text), now)
                        }
                        Some(Value::Null) | None => authorizer.policy_loaded(&group, None, now),
                        Some(doc) => authorizer.policy_value_loaded(&group, Some(doc), now),
                    };
                    if let Err(errors) = result {
                        eprintln!("edge-authz: the policy of group `{group}` is invalid (its members are denied):\n{errors}");
                    }
                }
            }
            Step::Need(Need::CheckSignature { token, check }) => {
                let ok = edge_authz::SignatureVerifier::verify(
                    &RustCryptoVerifier,
                    check.algorithm,
                    &check.key,
                    check.signing_input.as_bytes(),
                    &check.signature,
                );
                authorizer.signature_checked(token, ok == edge_authz::SignatureVerdict::Valid);
            }
        }
    };
    let status = authorizer.response(&decision).map_or(200, |r| r.status);
    if args.switch("json") {
        let context: serde_json::Map<String, Value> = decision
            .context()
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    ContextValue::String(s) => json!(s),
                    ContextValue::Number(n) => json!(n),
                    ContextValue::Bool(b) => json!(b),
                };
                (k.to_string(), v)
            })
            .collect();
        let mut out = json!({
            "status": status,
            "outcome": decision.outcome.as_str(),
            "reason": decision.reason,
            "principalId": decision.identity().map(|i| i.subject.clone()),
            "explanation": decision.explain(),
            "context": context,
        });
        if args.switch("api-gateway-policy") {
            out["policyDocument"] = authorizer.api_gateway_policy(&decision, &request, now);
        }
        println!("{out}");
    } else {
        println!(
            "{status} {} ({}): {}",
            decision.outcome.as_str(),
            decision.reason,
            decision.explain()
        );
    }
    Ok(if decision.is_allowed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
