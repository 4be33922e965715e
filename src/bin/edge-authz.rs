//! `edge-authz`: validate and simulate policies, inspect/verify/mint tokens, generate JWKS.
//!
//! Exit codes: 0 success (and `Allow` for `simulate`), 1 the input is invalid / the token is
//! rejected / the request is denied, 2 usage or I/O error.
//!
//! Conventions, as in cargo and ripgrep: `--opt value` or `--opt=value`; `--` ends the
//! options; `-` in place of a file or a token reads it from stdin (one `-` per invocation);
//! errors name the argument and the reason.

use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use base64ct::{Base64UrlUnpadded, Encoding};
use edge_authz::policy::{evaluate, EvalContext, JsonStep as Step, PolicyCheck, PolicyDocument};
use edge_authz::token::crypto::RustCryptoVerifier;
use edge_authz::token::Claims;
use edge_authz::{
    drive_blocking, Authorizer, Config, Event, Host, Jwks, PolicyInput, Request, Revocation,
    RevocationsLoaded, SignatureCheck, SignatureVerdict, StoredPolicy, TokenVerifier,
};
use jwt_compact::alg::{Ed25519, Es256, ModulusBits, Rsa, RsaPrivateKey};

type Ed25519SecretKey = <Ed25519 as jwt_compact::Algorithm>::SigningKey;
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm as _, AlgorithmSignature as _};
use serde_json::{json, Map, Value};

const USAGE: &str = "\
edge-authz — authorizer tooling

USAGE:
  edge-authz validate POLICY_FILE...
  edge-authz simulate --policies POLICY_FILE (--groups a,b --method GET --path /x [--arn ARN]
                      [--source-ip IP] [--claims JSON] [--now RFC3339] [--json] | --cases FILE.jsonl)
  edge-authz config check CONFIG.json
  edge-authz authorize --config FILE [--jwks FILE] [--store POLICY_FILE] [--token JWT | --authorization VALUE]
                       --method GET --path /x [--arn ARN] [--header 'Name: value']... [--source-ip IP]
                       [--now TIME] [--json] [--api-gateway-policy]
  edge-authz revoke (--sub ID [--before TIME] | --origin-jti ID | --jti ID) (--issuer URL | --config FILE)
                    [--expires TIME] [--format json|kv|dynamodb] [--table NAME]
  edge-authz token inspect JWT
  edge-authz token verify --config FILE --jwks FILE [--now RFC3339|EPOCH] JWT
  edge-authz token mint --key FILE --claims JSON|@FILE
  edge-authz jwks generate [--alg RS256|ES256|EdDSA] [--kid KID] --key-out FILE [--jwks-out FILE]
  edge-authz help COMMAND
  edge-authz --version

A POLICY_FILE is one policy {\"Version\", \"Statement\"}, a policy document
{\"groups\": {\"GROUP\": policy | null}}, or a map {\"GROUP\": policy | null}.
Options take `--opt value` or `--opt=value`; `--` ends the options.
`-` in place of a file or a token reads it from stdin (one `-` per invocation): prefer
`edge-authz token verify ... - < token.txt` to a token on the command line, where `ps`
and the shell history see it. A `Bearer ` prefix is accepted wherever a token is expected.

Run `edge-authz COMMAND --help` for one command. Exit codes: 0 ok / allowed,
1 invalid input, rejected token or denied request, 2 usage or I/O error.
";

const CONFIG_HELP: &str = "\
edge-authz config check CONFIG.json

Subcommands:
  check   validates a configuration; prints every problem with its location

Run `edge-authz config check --help` for its options.
";

const TOKEN_HELP: &str = "\
edge-authz token inspect|verify|mint ...

Subcommands:
  inspect JWT                                   decodes a token WITHOUT verifying it
  verify --config FILE --jwks FILE [--now] JWT  verifies a token offline
  mint --key FILE --claims JSON|@FILE           signs claims (local development only)

A token argument may be `-` (read from stdin) and may carry a `Bearer ` prefix.
Run `edge-authz token SUBCOMMAND --help` for one subcommand.
";

const JWKS_HELP: &str = "\
edge-authz jwks generate [--alg RS256|ES256|EdDSA] [--kid KID] --key-out FILE [--jwks-out FILE]

Subcommands:
  generate   a new signing key (private JWK) and its public JWKS (local development only)

Run `edge-authz jwks generate --help` for its options.
";

/// A usage or I/O problem: exit code 2.
struct Fail(String);

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.to_string())
    }
}

type Outcome = Result<ExitCode, Fail>;

type Command = fn(&[String]) -> Outcome;

const COMMANDS: [&str; 8] = [
    "validate",
    "simulate",
    "authorize",
    "revoke",
    "config",
    "token",
    "jwks",
    "help",
];
const CONFIG_COMMANDS: [(&str, Command); 1] = [("check", config_check)];
const TOKEN_COMMANDS: [(&str, Command); 3] = [
    ("inspect", token_inspect),
    ("verify", token_verify),
    ("mint", token_mint),
];
const JWKS_COMMANDS: [(&str, Command); 1] = [("generate", jwks_generate)];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(Fail(message)) => {
            eprintln!("edge-authz: {message}");
            eprintln!("Run `edge-authz {}--help` for usage.", help_path(&args));
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Outcome {
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some("-V" | "--version") => {
            println!("edge-authz {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        // `help token verify` is `token verify --help`.
        Some("help") if args.len() > 1 => {
            let mut rest = args[1..].to_vec();
            rest.push("--help".into());
            run(&rest)
        }
        Some("help") => run(&[]),
        Some("validate") => validate(&args[1..]),
        Some("simulate") => simulate(&args[1..]),
        Some("authorize") => authorize(&args[1..]),
        Some("revoke") => revoke(&args[1..]),
        Some("config") => subcommand("config", &args[1..], CONFIG_HELP, &CONFIG_COMMANDS),
        Some("token") => subcommand("token", &args[1..], TOKEN_HELP, &TOKEN_COMMANDS),
        Some("jwks") => subcommand("jwks", &args[1..], JWKS_HELP, &JWKS_COMMANDS),
        Some(other) if other.starts_with('-') => Err(Fail(format!(
            "unknown option `{other}` (options follow the command: `edge-authz COMMAND {other}`)"
        ))),
        Some(other) => Err(Fail(format!(
            "unknown command `{other}`{}",
            did_you_mean(other, COMMANDS.iter().copied(), "")
        ))),
    }
}

/// `config`, `token`, `jwks`: a group of subcommands with its own `--help`.
fn subcommand(group: &str, args: &[String], help: &str, commands: &[(&str, Command)]) -> Outcome {
    let names = || {
        commands
            .iter()
            .map(|(n, _)| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match args.first().map(String::as_str) {
        Some("-h" | "--help") => {
            print!("{help}");
            Ok(ExitCode::SUCCESS)
        }
        None => Err(Fail(format!("`{group}` needs a subcommand: {}", names()))),
        Some(sub) => match commands.iter().find(|(n, _)| *n == sub) {
            Some((_, command)) => command(&args[1..]),
            None => {
                let hint = did_you_mean(sub, commands.iter().map(|(n, _)| *n), "");
                Err(Fail(if hint.is_empty() {
                    format!(
                        "unknown `{group}` subcommand `{sub}` (expected {})",
                        names()
                    )
                } else {
                    format!("unknown `{group}` subcommand `{sub}`{hint}")
                }))
            }
        },
    }
}

/// `simulate ` or `token verify ` for the usage hint after an error (empty: the top level).
fn help_path(args: &[String]) -> String {
    let mut path = String::new();
    let Some(first) = args
        .first()
        .filter(|a| COMMANDS.contains(&a.as_str()) && *a != "help")
    else {
        return path;
    };
    path.push_str(first);
    path.push(' ');
    let subs: &[(&str, Command)] = match first.as_str() {
        "config" => &CONFIG_COMMANDS,
        "token" => &TOKEN_COMMANDS,
        "jwks" => &JWKS_COMMANDS,
        _ => &[],
    };
    if let Some(sub) = args
        .get(1)
        .filter(|s| subs.iter().any(|(n, _)| n == &s.as_str()))
    {
        path.push_str(sub);
        path.push(' ');
    }
    path
}

/// ` (did you mean `validate`?)` when a candidate is within two edits of `given`.
fn did_you_mean<'a>(
    given: &str,
    candidates: impl Iterator<Item = &'a str>,
    prefix: &str,
) -> String {
    candidates
        .map(|c| (edit_distance(given, c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map_or_else(String::new, |(_, c)| {
            format!(" (did you mean `{prefix}{c}`?)")
        })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// The options whose value is a file or a token, so `-` there reads stdin.
const STDIN_OPTIONS: [&str; 10] = [
    "policies",
    "revocations",
    "cases",
    "config",
    "jwks",
    "store",
    "token",
    "authorization",
    "key",
    "claims",
];

/// `--flag value` / `--flag=value` options and positional arguments, checked against what a
/// command takes.
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
            if arg == "--" {
                parsed.positional.extend(it.by_ref().cloned());
                break;
            }
            if arg == "-h" || arg == "--help" {
                print!("{help}");
                return Ok(None);
            }
            if let Some(body) = arg.strip_prefix("--") {
                let (name, inline) = match body.split_once('=') {
                    Some((name, value)) => (name, Some(value)),
                    None => (body, None),
                };
                if valued.contains(&name) {
                    let value = match inline {
                        Some(value) => value.to_owned(),
                        None => match it.next() {
                            Some(next) if next.starts_with("--") && next.len() > 2 => {
                                return Err(Fail(format!(
                                    "`--{name}` needs a value, but `{next}` follows it \
                                     (write `--{name}={next}` if that is the value)"
                                )))
                            }
                            Some(next) => next.clone(),
                            None => return Err(Fail(format!("`--{name}` needs a value"))),
                        },
                    };
                    parsed.options.push((name.to_owned(), value));
                } else if switches.contains(&name) {
                    if inline.is_some() {
                        return Err(Fail(format!("`--{name}` takes no value (given `{arg}`)")));
                    }
                    parsed.switches.push(name.to_owned());
                } else {
                    return Err(Fail(format!(
                        "unknown option `--{name}`{}",
                        did_you_mean(name, valued.iter().chain(switches).copied(), "--")
                    )));
                }
            } else if arg.len() > 1 && arg.starts_with('-') {
                return Err(Fail(format!(
                    "unknown option `{arg}` (a file or value starting with `-` goes after `--`)"
                )));
            } else {
                parsed.positional.push(arg.clone());
            }
        }
        // stdin can be read once: say which arguments compete for it before reading any.
        let mut readers: Vec<String> = parsed
            .options
            .iter()
            .filter(|(n, v)| STDIN_OPTIONS.contains(&n.as_str()) && (v == "-" || v == "@-"))
            .map(|(n, v)| format!("`--{n} {v}`"))
            .collect();
        readers.extend(
            parsed
                .positional
                .iter()
                .filter(|p| *p == "-")
                .map(|_| "`-`".to_owned()),
        );
        if readers.len() > 1 {
            return Err(Fail(format!(
                "only one argument can be `-` (stdin), but {} are",
                readers.join(" and ")
            )));
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

    /// For a command that takes options only: a stray word (a value whose option was
    /// forgotten, or anything after `--`) is refused, never ignored. Not echoed: it may be
    /// a token.
    fn no_positional(&self, command: &str) -> Result<(), Fail> {
        match self.positional.len() {
            0 => Ok(()),
            n => Err(Fail(format!(
                "`{command}` takes options only, but {n} other argument{} given \
                 (a value follows its option, as in `--path /x`; `--` ends the options)",
                if n == 1 { " is" } else { "s are" }
            ))),
        }
    }

    fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// `--name`'s file (or `-`), when given.
    fn input<'a>(&'a self, name: &'a str) -> Option<Input<'a>> {
        self.get(name).map(|path| Input {
            arg: Some(name),
            path,
        })
    }

    fn require_input<'a>(&'a self, name: &'a str) -> Result<Input<'a>, Fail> {
        self.require(name).map(|path| Input {
            arg: Some(name),
            path,
        })
    }
}

/// A file named on the command line, or stdin for `-`.
#[derive(Clone, Copy)]
struct Input<'a> {
    /// The option that named it (`None`: a positional argument).
    arg: Option<&'a str>,
    path: &'a str,
}

static STDIN_READ: AtomicBool = AtomicBool::new(false);

impl<'a> Input<'a> {
    fn positional(path: &'a str) -> Self {
        Input { arg: None, path }
    }

    fn is_stdin(&self) -> bool {
        self.path == "-"
    }

    /// How messages name it: the path, or `<stdin>`.
    fn name(&self) -> &'a str {
        if self.is_stdin() {
            "<stdin>"
        } else {
            self.path
        }
    }

    /// The argument as typed, for error messages: `--policies FILE` or `FILE`.
    fn argument(&self) -> String {
        match self.arg {
            Some(arg) => format!("--{arg} {}", self.path),
            None => self.path.to_owned(),
        }
    }

    fn read(&self) -> Result<String, Fail> {
        let cannot = |e: std::io::Error| Fail(format!("cannot read `{}`: {e}", self.argument()));
        if !self.is_stdin() {
            return std::fs::read_to_string(self.path).map_err(cannot);
        }
        if STDIN_READ.swap(true, Ordering::SeqCst) {
            return Err(Fail(format!(
                "`{}`: stdin was already read by another argument",
                self.argument()
            )));
        }
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!(
                "edge-authz: reading `{}` from the terminal; end with Ctrl-D",
                self.argument()
            );
        }
        let mut text = String::new();
        stdin.lock().read_to_string(&mut text).map_err(cannot)?;
        Ok(text)
    }

    /// The JSON in it; errors name the argument.
    fn json(&self) -> Result<Value, Fail> {
        strict_json(&self.read()?).map_err(|e| Fail(format!("`{}`: {e}", self.argument())))
    }
}

/// A token argument: `-` reads it from stdin; surrounding whitespace and a `Bearer ` prefix
/// (as copied from an Authorization header) are dropped.
fn token_arg(arg: Option<&str>, value: &str) -> Result<String, Fail> {
    let text = if value == "-" {
        Input { arg, path: value }.read()?
    } else {
        value.to_owned()
    };
    let token = strip_bearer(&text);
    if token.is_empty() {
        let what = match arg {
            Some(arg) => format!("`--{arg} {value}`"),
            None => format!("the token `{value}`"),
        };
        let from = if value == "-" {
            " (stdin was empty)"
        } else {
            ""
        };
        return Err(Fail(format!("{what}: no token{from}")));
    }
    Ok(token.to_owned())
}

/// `Bearer eyJ…` → `eyJ…` (the scheme is case-insensitive, RFC 9110 §11.1).
fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.get(..6) {
        Some(scheme)
            if scheme.eq_ignore_ascii_case("bearer")
                && value[6..].starts_with(|c: char| c.is_ascii_whitespace()) =>
        {
            value[6..].trim_start()
        }
        _ => value,
    }
}

/// A JSON argument given inline, as `@FILE`, or as `-` / `@-` (stdin).
fn json_arg(name: &str, value: &str) -> Result<Value, Fail> {
    let text = match value {
        "-" | "@-" => Input {
            arg: Some(name),
            path: "-",
        }
        .read()?,
        _ => match value.strip_prefix('@') {
            Some(path) => Input {
                arg: Some(name),
                path,
            }
            .read()?,
            None => value.to_owned(),
        },
    };
    strict_json(&text).map_err(|e| Fail(format!("`--{name}`: {e}")))
}

/// `Statement[0].Effect`, as the core locates policy errors.
fn location(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The JSON in `text` as `serde_json` reads it (the last of two equal members kept), and
/// the location of each repeated member (its key last): readers disagree on which one
/// counts (the core refuses them in tokens, configurations and policy text), so a file
/// holding one is ambiguous.
fn parse_json(text: &str) -> Result<(Value, Vec<Vec<Step>>), serde_json::Error> {
    let value = serde_json::from_str(text)?;
    Ok((value, edge_authz::policy::repeated_members(text)?))
}

/// The JSON in `text`, refusing repeated members (`invalid JSON: ...` or `LOCATION:
/// duplicate key "KEY"`).
fn strict_json(text: &str) -> Result<Value, String> {
    let (value, duplicates) = parse_json(text).map_err(|e| format!("invalid JSON: {e}"))?;
    match duplicates.first() {
        Some(path) => Err(duplicate_key(path)),
        None => Ok(value),
    }
}

/// `Statement[0].Effect: duplicate key "Effect"`, as the core says it.
fn duplicate_key(path: &[Step]) -> String {
    let key = match path.last() {
        Some(Step::Key(key)) => key.as_str(),
        _ => "",
    };
    format!("{}: duplicate key {key:?}", location(path))
}

/// The policy-file shapes every policy command understands, for error messages.
const POLICY_SHAPES: &str = "one policy {\"Version\": ..., \"Statement\": [...]}, \
     a policy document {\"groups\": {\"GROUP\": policy | null}}, \
     or a map {\"GROUP\": policy | null}";

/// A policy file, by shape. Detection is by keys, never by trying each shape in turn:
/// `Version` or `Statement` → one policy; `groups` holding an object that is not itself a
/// policy → the policy document of the npm package and the Worker; any other object → a map
/// of group name to policy (the `--store` of `authorize`, DynamoDB's items, KV's keys).
enum PolicyFile {
    One,
    Groups {
        /// `{"groups": {...}}` (locations are then `groups.NAME...`).
        document: bool,
        groups: Map<String, Value>,
    },
}

fn is_policy_like(object: &Map<String, Value>) -> bool {
    object.contains_key("Version") || object.contains_key("Statement")
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The file's shape, or why it has none (to print after the file's name).
fn policy_file(value: Value) -> Result<PolicyFile, String> {
    let Value::Object(mut object) = value else {
        return Err(format!(
            "expected {POLICY_SHAPES}; found {}",
            json_type(&value)
        ));
    };
    if is_policy_like(&object) {
        return Ok(PolicyFile::One);
    }
    if matches!(object.get("groups"), Some(Value::Object(g)) if !is_policy_like(g)) {
        if let Some(extra) = object.keys().find(|k| *k != "groups") {
            return Err(format!(
                "`groups` makes this a policy document {{\"groups\": {{\"GROUP\": policy}}}}, \
                 which has no other member, but it also has `{extra}` (in a map of groups, \
                 give the group named `groups` a policy with a `Statement`)"
            ));
        }
        let Some(Value::Object(groups)) = object.remove("groups") else {
            unreachable!("checked above")
        };
        return Ok(PolicyFile::Groups {
            document: true,
            groups,
        });
    }
    Ok(PolicyFile::Groups {
        document: false,
        groups: object,
    })
}

/// `groups.admins` + `Statement[0].Effect` → `groups.admins.Statement[0].Effect`.
fn located(prefix: &str, inner: &str) -> String {
    match (prefix.is_empty(), inner.is_empty()) {
        (true, _) => inner.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}.{inner}"),
    }
}

/// `location: text`, or `text` without a location.
fn with_location(location: &str, text: &dyn std::fmt::Display) -> String {
    if location.is_empty() {
        text.to_string()
    } else {
        format!("{location}: {text}")
    }
}

/// One policy of a file, checked.
struct CheckedPolicy {
    /// The group it belongs to (`None`: the file is one policy).
    group: Option<String>,
    /// `None`: the group has no policy (`null`), or the policy is invalid.
    document: Option<PolicyDocument>,
    statements: usize,
    /// Located, as printed.
    errors: Vec<String>,
    warnings: Vec<String>,
}

/// Every policy of a file, validated, with the warnings of invalid ones too. `Err`: invalid
/// JSON or no known shape (the message, to print after the file's name).
fn check_policy_file(text: &str) -> Result<(PolicyFile, Vec<CheckedPolicy>), String> {
    let (value, duplicates) = parse_json(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let shape = policy_file(value)?;
    let mut checked = match &shape {
        // From the text, so that duplicate keys are caught.
        PolicyFile::One => vec![check_policy(None, "", PolicyDocument::check(text))],
        PolicyFile::Groups { document, groups } => groups
            .iter()
            .map(|(group, policy)| {
                let prefix = if *document {
                    format!("groups.{group}")
                } else {
                    group.clone()
                };
                let group = Some(group.clone());
                match policy {
                    Value::Null => CheckedPolicy {
                        group,
                        document: None,
                        statements: 0,
                        errors: Vec::new(),
                        warnings: Vec::new(),
                    },
                    // A policy stored as JSON text (DynamoDB, KV).
                    Value::String(text) => {
                        check_policy(group, &prefix, PolicyDocument::check(text))
                    }
                    Value::Object(_) => {
                        check_policy(group, &prefix, PolicyDocument::check_value(policy))
                    }
                    other => CheckedPolicy {
                        group,
                        document: None,
                        statements: 0,
                        errors: vec![format!(
                            "{prefix}: expected a policy object, its JSON text, or null; found {}",
                            json_type(other)
                        )],
                        warnings: Vec::new(),
                    },
                }
            })
            .collect(),
    };
    // One policy's repeated members are the core's to report (it checks the text); a
    // group's are lost in the parsed value, so they are reported here, with the group's
    // (a group named twice is one of them: which of its policies counts is ambiguous).
    if let PolicyFile::Groups { document, .. } = &shape {
        for path in &duplicates {
            let within = if *document { &path[1..] } else { &path[..] };
            let group = match within.first() {
                Some(Step::Key(group)) => group,
                // `groups` itself twice, at the top of a document.
                _ => return Err(duplicate_key(path)),
            };
            if let Some(c) = checked
                .iter_mut()
                .find(|c| c.group.as_deref() == Some(group.as_str()))
            {
                c.errors.push(duplicate_key(path));
                c.document = None;
            }
        }
    }
    Ok((shape, checked))
}

/// A policy's check, its errors and warnings located under `prefix` (its group).
fn check_policy(group: Option<String>, prefix: &str, check: PolicyCheck) -> CheckedPolicy {
    CheckedPolicy {
        group,
        statements: check
            .document
            .as_ref()
            .map_or(0, PolicyDocument::statement_count),
        document: check.document,
        errors: check
            .errors
            .iter()
            .map(|e| with_location(&located(prefix, e.location()), e.kind()))
            .collect(),
        warnings: check
            .warnings
            .iter()
            .map(|w| {
                let text = format!("{} [{}]", w.message(), w.code());
                with_location(&located(prefix, w.location()), &text)
            })
            .collect(),
    }
}

fn validate(args: &[String]) -> Outcome {
    const HELP: &str = "\
edge-authz validate POLICY_FILE...

Prints each file's located errors and warnings (the warnings of a policy with errors too);
exits 1 if any has errors. A POLICY_FILE is one policy {\"Version\", \"Statement\"}, a policy
document {\"groups\": {\"GROUP\": policy | null}}, or a map {\"GROUP\": policy | null};
a group's policy may be the policy's JSON text (as stored in DynamoDB or KV).
`-` reads one file from stdin.
Exit: 0 every file is valid, 1 some file has errors, 2 usage or I/O error.
";
    let Some(args) = Args::parse(args, &[], &[], HELP)? else {
        return Ok(ExitCode::SUCCESS);
    };
    if args.positional.is_empty() {
        return Err(Fail("`validate` needs at least one policy file".into()));
    }
    let mut failed = false;
    for path in &args.positional {
        let input = Input::positional(path);
        let name = input.name();
        let (shape, checked) = match check_policy_file(&input.read()?) {
            Ok(checked) => checked,
            Err(message) => {
                failed = true;
                println!("{name}: error: {message}");
                continue;
            }
        };
        let errors: Vec<&String> = checked.iter().flat_map(|c| &c.errors).collect();
        let warnings: Vec<&String> = checked.iter().flat_map(|c| &c.warnings).collect();
        for e in &errors {
            println!("{name}: error: {e}");
        }
        for w in &warnings {
            println!("{name}: warning: {w}");
        }
        let statements: usize = checked.iter().map(|c| c.statements).sum();
        if !errors.is_empty() {
            failed = true;
            println!(
                "{name}: invalid ({} errors, {} warnings)",
                errors.len(),
                warnings.len()
            );
        } else if let PolicyFile::One = shape {
            println!(
                "{name}: ok ({statements} statements, {} warnings)",
                warnings.len()
            );
        } else {
            println!(
                "{name}: ok ({} groups, {statements} statements, {} warnings)",
                checked.len(),
                warnings.len()
            );
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn config_check(args: &[String]) -> Outcome {
    let Some(args) = Args::parse(args, &[], &[], "edge-authz config check CONFIG.json\n\nValidates a configuration; prints every problem with its location.\n`-` reads the configuration from stdin.\nExit: 0 valid, 1 invalid, 2 usage or I/O error.\n")? else {
        return Ok(ExitCode::SUCCESS);
    };
    let [path] = args.positional.as_slice() else {
        return Err(Fail("`config check` needs one file".into()));
    };
    let input = Input::positional(path);
    let name = input.name();
    match Config::from_json(&input.read()?) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                println!("{name}: warning: {w}");
            }
            println!("{name}: ok ({} issuers)", loaded.config.issuers.len());
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            for e in &errors.0 {
                println!("{name}: error: {e}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// What `simulate` evaluates: one policy for every caller, or the policies of groups.
struct Policies {
    /// The file, as messages name it.
    name: String,
    /// The file is one policy (it applies whatever the groups).
    one: Option<PolicyDocument>,
    /// Group → its policy (`None`: the group has none).
    groups: Vec<(String, Option<PolicyDocument>)>,
}

/// Loads a policy file of any shape; every policy's errors are reported before failing.
fn load_policies(input: Input<'_>) -> Result<Policies, Fail> {
    let name = input.name();
    let (shape, checked) = check_policy_file(&input.read()?)
        .map_err(|message| Fail(format!("`{}`: {message}", input.argument())))?;
    let errors: Vec<String> = checked
        .iter()
        .flat_map(|c| &c.errors)
        .map(|e| format!("{name}: {e}"))
        .collect();
    if !errors.is_empty() {
        return Err(Fail(errors.join("\n")));
    }
    let mut policies = Policies {
        name: name.to_owned(),
        one: None,
        groups: Vec::new(),
    };
    for c in checked {
        match (&shape, c.group) {
            (PolicyFile::One, _) | (_, None) => policies.one = c.document,
            (_, Some(group)) => policies.groups.push((group, c.document)),
        }
    }
    Ok(policies)
}

/// One simulated request.
struct Simulation {
    groups: Vec<String>,
    arn: String,
    source_ip: Option<IpAddr>,
    claims: Claims,
    now: u64,
}

fn arn_for(method: &str, path: &str) -> String {
    let mut arn = String::new();
    edge_authz::ApiIdentity::default().write_arn(method, path, &mut arn);
    arn
}

/// The requested groups that the policy file does not name (none for a one-policy file).
fn unknown_groups<'a>(policies: &Policies, sim: &'a Simulation) -> Vec<&'a str> {
    if policies.one.is_some() {
        return Vec::new();
    }
    sim.groups
        .iter()
        .filter(|g| !policies.groups.iter().any(|(known, _)| known == *g))
        .map(String::as_str)
        .collect()
}

/// `group `x` is not in FILE (it has `a`, `b`): it contributes no policy`.
fn unknown_group_warning(policies: &Policies, group: &str) -> String {
    let known: Vec<String> = policies
        .groups
        .iter()
        .take(10)
        .map(|(g, _)| format!("`{g}`"))
        .collect();
    let known = match (known.len(), policies.groups.len()) {
        (0, _) => "no groups".to_owned(),
        (n, total) if n < total => format!("{}, … ({total} groups)", known.join(", ")),
        _ => known.join(", "),
    };
    format!(
        "warning: group `{group}` is not in {} (it has {known}){}: it contributes no policy",
        policies.name,
        did_you_mean(group, policies.groups.iter().map(|(g, _)| g.as_str()), "")
    )
}

fn run_simulation(policies: &Policies, sim: &Simulation) -> (Value, bool) {
    let mut docs: Vec<(&str, &PolicyDocument)> = Vec::new();
    if let Some(doc) = &policies.one {
        docs.push((&policies.name, doc));
    }
    for group in &sim.groups {
        if let Some((label, Some(doc))) = policies.groups.iter().find(|(g, _)| g == group) {
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
    let one = policies.one.is_some();
    let reference = |r: &edge_authz::policy::StatementRef| {
        json!({
            "group": if one { None } else { docs.get(r.policy).map(|(l, _)| *l) },
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
        "unknownGroups": unknown_groups(policies, sim),
    });
    (out, evaluation.decision.as_str() == "Allow")
}

fn simulate(args: &[String]) -> Outcome {
    const HELP: &str = "\
edge-authz simulate --policies POLICY_FILE --groups a,b --method GET --path /x [options]
edge-authz simulate --policies POLICY_FILE --cases FILE.jsonl

Evaluates the policies of the given groups for one request and explains the decision.
  --policies FILE   one policy {\"Version\", \"Statement\"} (applies whatever the groups),
                    a policy document {\"groups\": {\"GROUP\": policy | null}},
                    or a map {\"GROUP\": policy | null}
  --groups a,b      the caller's groups (a group the file does not name is warned about)
  --method, --path  the request (the ARN is built for a default API), or
  --arn ARN         the full execute-api ARN
  --source-ip IP    aws:SourceIp
  --claims JSON     the token's claims (jwt:*, cognito:* keys and ${...} variables);
                    inline, @FILE, or - for stdin
  --now TIME        RFC 3339 or epoch seconds (default: the current time)
  --json            one JSON object; its `decision` is Allow, ExplicitDeny or ImplicitDeny,
                    `unknownGroups` lists the groups the file does not name
  --cases FILE      JSON Lines of {groups, method, path | arn, sourceIp, claims, now};
                    one JSON decision per line out
`-` for one of --policies, --cases, --claims reads it from stdin.
Exit: 0 Allow (or --cases done), 1 deny, 2 usage error, I/O error or invalid policies.
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
    args.no_positional("simulate")?;
    let policies = load_policies(args.require_input("policies")?)?;
    if policies.one.is_some() && args.get("groups").is_some() {
        eprintln!(
            "edge-authz: note: `--groups` is not used: {} is one policy, evaluated whatever the groups",
            policies.name
        );
    }
    if let Some(cases) = args.input("cases") {
        let name = cases.name();
        let reader: Box<dyn BufRead> = if cases.is_stdin() {
            Box::new(std::io::Cursor::new(cases.read()?))
        } else {
            let file = std::fs::File::open(cases.path)
                .map_err(|e| Fail(format!("cannot read `{}`: {e}", cases.argument())))?;
            Box::new(std::io::BufReader::new(file))
        };
        let mut out = std::io::stdout().lock();
        for (n, line) in reader.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let req = strict_json(&line).map_err(|e| Fail(format!("{name}:{}: {e}", n + 1)))?;
            let sim = simulation_from_json(&req)
                .map_err(|Fail(e)| Fail(format!("{name}:{}: {e}", n + 1)))?;
            for group in unknown_groups(&policies, &sim) {
                eprintln!(
                    "{name}:{}: {}",
                    n + 1,
                    unknown_group_warning(&policies, group)
                );
            }
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
        Some(c) => match json_arg("claims", c)? {
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
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        arn,
        source_ip: source_ip(&args)?,
        claims: Claims::from_map(claims),
        now: parse_time(args.get("now"))?,
    };
    for group in unknown_groups(&policies, &sim) {
        eprintln!("edge-authz: {}", unknown_group_warning(&policies, group));
    }
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

/// The members of a `--cases` line.
const CASE_MEMBERS: [&str; 7] = [
    "groups", "method", "path", "arn", "sourceIp", "claims", "now",
];

fn simulation_from_json(req: &Value) -> Result<Simulation, Fail> {
    // A member not understood, or of another type, is refused, never skipped: a request
    // simulated without its `sourceIp` or `claims` can be allowed where the real one is not.
    let Value::Object(members) = req else {
        return Err(Fail(format!(
            "expected a JSON object {{groups, method, path | arn, sourceIp, claims, now}}; found {}",
            json_type(req)
        )));
    };
    for (member, value) in members {
        if !CASE_MEMBERS.contains(&member.as_str()) {
            return Err(Fail(format!(
                "unknown member `{member}`{} (expected {})",
                did_you_mean(member, CASE_MEMBERS.iter().copied(), ""),
                CASE_MEMBERS.join(", ")
            )));
        }
        let fits = match (member.as_str(), value) {
            (_, Value::Null) => true,
            ("claims", _) => value.is_object(),
            ("groups", Value::Array(items)) => items.iter().all(Value::is_string),
            ("now", Value::Number(_)) | (_, Value::String(_)) => true,
            _ => false,
        };
        if !fits {
            let expected = match member.as_str() {
                "groups" => "an array of strings or a comma-separated string",
                "claims" => "an object",
                "now" => "epoch seconds or an RFC 3339 string",
                _ => "a string",
            };
            let found = match value {
                Value::Array(_) if member == "groups" => "an array holding a non-string",
                other => json_type(other),
            };
            return Err(Fail(format!(
                "`{member}` must be {expected}; found {found}"
            )));
        }
    }
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
        claims: Claims::from_map(
            req.get("claims")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        ),
        now,
    })
}

/// `None` → the current time; otherwise epoch seconds or RFC 3339 (`2026-01-01T00:00:00Z`).
/// `--source-ip`, when given: an IPv4 or IPv6 address.
fn source_ip(args: &Args) -> Result<Option<IpAddr>, Fail> {
    args.get("source-ip")
        .map(|ip| {
            ip.parse()
                .map_err(|_| Fail(format!("`--source-ip {ip}`: not an IP address")))
        })
        .transpose()
}

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
    const HELP: &str = "\
edge-authz token inspect JWT

Decodes the header and claims WITHOUT verifying anything. JWT may carry a `Bearer `
prefix; `-` reads it from stdin (keeps it out of `ps` and the shell history).
Exit: 0 decoded, 1 not a JWS compact token, 2 usage error.
";
    let Some(args) = Args::parse(args, &[], &[], HELP)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let [token] = args.positional.as_slice() else {
        return Err(Fail(
            "`token inspect` needs one token (or `-` to read it from stdin)".into(),
        ));
    };
    let token = token_arg(None, token)?;
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
    const HELP: &str = "\
edge-authz token verify --config FILE --jwks FILE [--now TIME] JWT

Verifies a token against a JWKS file with the configuration's issuer rules.
Prints the claims (exit 0) or the error code (exit 1). JWT may carry a `Bearer ` prefix;
`-` in place of JWT (or of one FILE) reads it from stdin:
  edge-authz token verify --config config.json --jwks jwks.json - < token.txt
Exit: 0 valid, 1 rejected, 2 usage or I/O error.
";
    let Some(args) = Args::parse(args, &["config", "jwks", "now"], &[], HELP)? else {
        return Ok(ExitCode::SUCCESS);
    };
    let [token] = args.positional.as_slice() else {
        return Err(Fail(
            "`token verify` needs one token (or `-` to read it from stdin)".into(),
        ));
    };
    let config_input = args.require_input("config")?;
    let config = Config::from_json(&config_input.read()?)
        .map_err(|e| {
            Fail(format!(
                "`{}`: invalid configuration:\n{e}",
                config_input.argument()
            ))
        })?
        .config;
    let jwks_input = args.require_input("jwks")?;
    let jwks = Jwks::parse(jwks_input.read()?.as_bytes())
        .map_err(|e| Fail(format!("`{}`: {e}", jwks_input.argument())))?;
    let now = parse_time(args.get("now"))?;
    let token = token_arg(None, token)?;
    let verifier = TokenVerifier::new(config.issuers, config.grace_seconds, config.max_token_bytes);
    match verifier.verify_with_jwks(&token, &jwks, &RustCryptoVerifier, now) {
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
    const HELP: &str = "\
edge-authz token mint --key FILE --claims JSON|@FILE

Signs claims with a private JWK from `jwks generate`. For local development only.
`--key -` reads the key from stdin, `--claims -` (or `@-`) the claims.
Exit: 0 signed, 2 usage or I/O error.
";
    let Some(args) = Args::parse(args, &["key", "claims"], &[], HELP)? else {
        return Ok(ExitCode::SUCCESS);
    };
    args.no_positional("token mint")?;
    let key = args.require_input("key")?;
    let key_path = key.name();
    let jwk_value: Value = key.json()?;
    let claims = json_arg("claims", args.require("claims")?)?;
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
    const HELP: &str = "\
edge-authz jwks generate [--alg RS256|ES256|EdDSA] [--kid KID] --key-out FILE [--jwks-out FILE]

Writes a new private JWK to --key-out (mode 0600) and its public JWKS to --jwks-out
or stdout. For local development only.
Exit: 0 written, 2 usage or I/O error.
";
    let Some(args) = Args::parse(args, &["alg", "kid", "key-out", "jwks-out"], &[], HELP)? else {
        return Ok(ExitCode::SUCCESS);
    };
    args.no_positional("jwks generate")?;
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
    // `mode` applies to a file it creates only: one that exists keeps its mode, so it is
    // made private before the key is written into it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Fail(format!("cannot make `{path}` private (mode 0600): {e}")))?;
    }
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}

fn revoke(args: &[String]) -> Outcome {
    const HELP: &str = "\
edge-authz revoke (--sub ID [--before TIME] | --origin-jti ID | --jti ID) (--issuer URL | --config FILE)
                  [--expires TIME] [--format json|kv|dynamodb] [--table NAME] [--now TIME]

Prints a revocation record for the store the authorizer reads (it does no network itself):
  --sub ID          a user: their tokens issued at or before --before (default: now) are refused
  --origin-jti ID   a sign-in (Cognito's origin_jti): every token of it is refused
  --jti ID          one token
  --issuer URL      the tokens' `iss`, or --config FILE with one issuer (records are per issuer)
  --expires TIME    when the store may drop the record (default: a day and the largest grace,
                    300 s, after --before or now: when every token it covers has expired)
  --format json     {\"key\", \"record\", \"expiresAt\"} (default)
  --format kv       the `wrangler kv key put` command for the Worker's REVOCATIONS namespace
  --format dynamodb the `aws dynamodb put-item` command for the Lambda's REVOCATION_TABLE
                    (--table NAME, default $REVOCATION_TABLE)
A revocation takes effect within the authorizer's `revocation.freshnessSeconds` (default 30).
";
    let Some(args) = Args::parse(
        args,
        &[
            "sub",
            "before",
            "origin-jti",
            "jti",
            "issuer",
            "config",
            "expires",
            "format",
            "table",
            "now",
        ],
        &[],
        HELP,
    )?
    else {
        return Ok(ExitCode::SUCCESS);
    };
    args.no_positional("revoke")?;
    let now = parse_time(args.get("now"))?;
    let issuer = match (args.get("issuer"), args.input("config")) {
        (Some(issuer), None) => issuer.to_owned(),
        (None, Some(input)) => {
            let loaded = Config::from_json(&input.read()?).map_err(|e| {
                Fail(format!(
                    "`{}`: invalid configuration:\n{e}",
                    input.argument()
                ))
            })?;
            match loaded.config.issuers.as_slice() {
                [one] => one.issuer.clone(),
                _ => {
                    return Err(Fail(format!(
                        "`{}` has {} issuers: name one with --issuer",
                        input.argument(),
                        loaded.config.issuers.len()
                    )))
                }
            }
        }
        _ => {
            return Err(Fail(
                "give --issuer URL or --config FILE (exactly one)".into(),
            ))
        }
    };
    let chosen = ["sub", "origin-jti", "jti"]
        .iter()
        .filter(|name| args.get(name).is_some())
        .count();
    if chosen != 1 {
        return Err(Fail(
            "give exactly one of --sub, --origin-jti, --jti".into(),
        ));
    }
    if args.get("before").is_some() && args.get("sub").is_none() {
        return Err(Fail("--before applies to --sub only".into()));
    }
    let value = |name: &str| -> Result<String, Fail> {
        let value = args.require(name)?;
        if value.is_empty() || value.chars().any(char::is_control) {
            return Err(Fail(format!(
                "--{name}: must be a non-empty value without control characters"
            )));
        }
        Ok(value.to_owned())
    };
    let (revocation, start) = if args.get("sub").is_some() {
        let before = parse_time(Some(args.get("before").unwrap_or(&now.to_string())))?;
        (
            Revocation::User {
                issuer,
                subject: value("sub")?,
                before,
            },
            before,
        )
    } else if args.get("origin-jti").is_some() {
        let origin_jti = value("origin-jti")?;
        (Revocation::Session { issuer, origin_jti }, now)
    } else {
        (
            Revocation::Token {
                issuer,
                jti: value("jti")?,
            },
            now,
        )
    };
    let expires_at = match args.get("expires") {
        Some(at) => parse_time(Some(at))?,
        None => start.saturating_add(edge_authz::RECORD_LIFETIME),
    };
    let key = revocation.key();
    let record = revocation.record_json(Some(expires_at)).to_string();
    let quote = |text: &str| format!("'{}'", text.replace('\'', r"'\''"));
    match args.get("format").unwrap_or("json") {
        "json" => println!(
            "{}",
            json!({ "key": key, "record": serde_json::from_str::<Value>(&record)?, "expiresAt": expires_at })
        ),
        "kv" => println!(
            "wrangler kv key put --binding=REVOCATIONS {} {} --expiration={expires_at}",
            quote(&key),
            quote(&record)
        ),
        "dynamodb" => {
            let mut item = json!({
                "key": { "S": key },
                "record": { "S": record },
                "expiresAt": { "N": expires_at.to_string() },
            });
            let table = args
                .get("table")
                .map_or_else(|| "\"$REVOCATION_TABLE\"".to_owned(), quote);
            let mut command = format!("aws dynamodb put-item --table-name {table}");
            if let Revocation::User { before, .. } = &revocation {
                // A later cutoff already stored is never replaced by an earlier one (the
                // revoker writes the same way): the put fails with ConditionalCheckFailed.
                item["before"] = json!({ "N": before.to_string() });
                command.push_str(&format!(
                    " --condition-expression {} --expression-attribute-names {} --expression-attribute-values {}",
                    quote("attribute_not_exists(#b) OR #b < :b"),
                    quote(r##"{"#b":"before"}"##),
                    quote(&json!({ ":b": { "N": before.to_string() } }).to_string()),
                ));
            }
            println!("{command} --item {}", quote(&item.to_string()));
        }
        other => {
            return Err(Fail(format!(
                "--format {other}: expected json, kv or dynamodb"
            )))
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `1st`, `2nd`, `3rd`, `4th`, ...
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The CLI's host for the core's driver: the JWKS and the policies come from files, the
/// signatures are checked with the built-in crypto. It never touches the network.
struct CliHost {
    authorizer: RefCell<Authorizer>,
    jwks: Option<String>,
    store: Map<String, Value>,
    /// The revocation store (`--revocations`).
    revocations: Map<String, Value>,
    now: u64,
    /// A problem with the command's input, reported instead of a decision.
    fatal: RefCell<Option<String>>,
}

impl Host for CliHost {
    type Error = String;

    fn with_authorizer<R>(&self, f: impl FnOnce(&mut Authorizer) -> R) -> R {
        f(&mut self.authorizer.borrow_mut())
    }

    fn now(&self) -> u64 {
        self.now
    }

    async fn fetch_jwks(&self, _issuer: usize, url: &str) -> Result<Vec<u8>, String> {
        match &self.jwks {
            Some(document) => Ok(document.clone().into_bytes()),
            None => {
                let message =
                    format!("the token's issuer needs its JWKS ({url}): pass `--jwks FILE`");
                self.fatal.replace(Some(message.clone()));
                Err(message)
            }
        }
    }

    async fn await_jwks(&self, _issuer: usize) {
        self.fatal
            .replace(Some("unexpected concurrent JWKS fetch".into()));
    }

    async fn load_policies(
        &self,
        groups: &[String],
    ) -> Result<Vec<(String, StoredPolicy)>, String> {
        Ok(groups
            .iter()
            .map(|group| {
                (
                    group.clone(),
                    PolicyInput::stored(self.store.get(group)).into(),
                )
            })
            .collect())
    }

    async fn load_revocations(
        &self,
        keys: &[String],
        _groups: &[String],
    ) -> Result<RevocationsLoaded, String> {
        Ok(RevocationsLoaded::records(
            keys.iter()
                .map(|key| {
                    (
                        key.clone(),
                        PolicyInput::stored(self.revocations.get(key)).into(),
                    )
                })
                .collect(),
        ))
    }

    async fn check_signature(&self, check: &SignatureCheck) -> SignatureVerdict {
        edge_authz::SignatureVerifier::verify(
            &RustCryptoVerifier,
            check.algorithm,
            &check.key,
            check.signing_input.as_bytes(),
            &check.signature,
        )
    }

    fn observe(&self, event: Event<'_>) {
        match event {
            Event::JwksInvalid { error, .. } => {
                self.fatal.replace(Some(format!("--jwks: {error}")));
            }
            Event::RevocationInvalid { error } => eprintln!("edge-authz: {error}"),
            Event::PolicyInvalid { group, errors } => eprintln!(
                "edge-authz: the policy of group `{group}` is invalid (its members are denied):\n{errors}"
            ),
            _ => {}
        }
    }
}

fn authorize(args: &[String]) -> Outcome {
    const HELP: &str = "\
edge-authz authorize --config FILE --method GET --path /x [options]

Runs one request through the whole authorizer, as an adapter would, and prints the decision.
  --config FILE          the authorizer configuration (policies bundled or external)
  --jwks FILE            the JWKS served for every issuer (the CLI never fetches URLs)
  --store POLICY_FILE    external policies: a map {\"GROUP\": policy | JSON text | null} or a
                         policy document {\"groups\": {...}} (not one policy: it has no group)
  --token JWT            sent as `Authorization: Bearer JWT` (a `Bearer ` prefix is accepted), or
  --authorization VALUE  the raw Authorization header value
  --header 'Name: value' another request header (repeatable)
  --arn ARN              the execute-api ARN (else built from the configured API, method and path)
  --source-ip IP         the client address
  --now TIME             RFC 3339 or epoch seconds (default: the current time)
  --json                 one JSON object: status, outcome, reason, explanation, context
  --api-gateway-policy   with --json, add the IAM policy an API Gateway authorizer returns
  --revocations FILE     the revocation store: {\"KEY\": record | null} (`edge-authz revoke` prints records)
`-` for one FILE, --token or --authorization reads it from stdin:
  edge-authz authorize --config config.json --jwks jwks.json --token - --method GET --path /x < token.txt
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
            "revocations",
        ],
        &["json", "api-gateway-policy"],
        HELP,
    )?
    else {
        return Ok(ExitCode::SUCCESS);
    };
    args.no_positional("authorize")?;
    let config_input = args.require_input("config")?;
    let loaded = Config::from_json(&config_input.read()?).map_err(|e| {
        Fail(format!(
            "`{}`: invalid configuration:\n{e}",
            config_input.argument()
        ))
    })?;
    let authorizer = Authorizer::new(loaded.config);
    let jwks = args.input("jwks").map(|i| i.read()).transpose()?;
    let store: Map<String, Value> = match args.input("store") {
        Some(input) => match policy_file(input.json()?) {
            Ok(PolicyFile::Groups { groups, .. }) => groups,
            Ok(PolicyFile::One) => {
                return Err(Fail(format!(
                    "`{}` is one policy (it has `Version` or `Statement`), but the store maps \
                     each group to its policy: write {{\"GROUP\": <policy>}} or \
                     {{\"groups\": {{\"GROUP\": <policy>}}}}",
                    input.argument()
                )))
            }
            Err(message) => return Err(Fail(format!("`{}`: {message}", input.argument()))),
        },
        None => Map::new(),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for (n, header) in args.all("header").enumerate() {
        // Not echoed: without its `Name:`, the value may be a credential.
        let (name, value) = header.split_once(':').ok_or_else(|| {
            Fail(format!(
                "`--header` (the {}): not `Name: value` (it has no `:`)",
                ordinal(n + 1)
            ))
        })?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    if let Some(token) = args.get("token") {
        let token = token_arg(Some("token"), token)?;
        headers.push(("authorization".into(), format!("Bearer {token}")));
    }
    if let Some(value) = args.get("authorization") {
        let value = match value {
            "-" => Input {
                arg: Some("authorization"),
                path: value,
            }
            .read()?
            .trim()
            .to_owned(),
            _ => value.to_owned(),
        };
        headers.push(("authorization".into(), value));
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
        source_ip: source_ip(&args)?,
        secure_transport: Some(true),
        ..Request::default()
    };
    let now = parse_time(args.get("now"))?;
    let revocations = match args.input("revocations") {
        Some(input) => match input.json()? {
            Value::Object(records) => records,
            _ => {
                return Err(Fail(format!(
                    "`{}`: the revocation store is a map {{\"KEY\": record | null}}",
                    input.argument()
                )))
            }
        },
        None => Map::new(),
    };
    let host = CliHost {
        authorizer: RefCell::new(authorizer),
        jwks,
        store,
        revocations,
        now,
        fatal: RefCell::new(None),
    };
    let decided = drive_blocking(&host, &request);
    if let Some(fatal) = host.fatal.take() {
        return Err(Fail(fatal));
    }
    let decision = decided.map_err(|e| Fail(format!("the authorizer did not settle: {e}")))?;
    let authorizer = host.authorizer.into_inner();
    let rendered = authorizer.render(&decision);
    let status = rendered.status;
    if args.switch("json") {
        let context = rendered.context_json();
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
