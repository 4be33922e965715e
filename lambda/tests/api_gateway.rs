//! The real `bootstrap` binary under API Gateway's rules (Lambda Runtime API emulator on
//! loopback, one process per configuration, invocations queued in batches):
//!
//! - **the authorizer cache**: policies with header, query, source-IP, user-agent and time
//!   conditions load only where the cache key (`IDENTITY_SOURCES`, `AUTHORIZER_CACHE_TTL`)
//!   holds what they read: init fails (bundled policies) or the policy load fails (DynamoDB)
//!   with the located error otherwise. Then API Gateway's cache is simulated: the policy
//!   returned for a first request is applied, with API Gateway's IAM evaluation
//!   (`common::iam`), to many later requests sharing the identity sources' values (other
//!   paths and path forms, methods, headers, query, address, time within the TTL), and it
//!   must never let through a request that the function, asked fresh (TTL 0: the binary
//!   for now, the same handler in-process with its clock at the TTL's last second), denies.
//!   A control run (conditional policies loaded, answers cached per token) must be caught.
//!   HTTP API simple responses: cached for every route unless the method and the path are
//!   in the key, so the function refuses to start without them.
//! - **the path matrix** (`data/path-matrix.json`): request targets as REST `REQUEST` and
//!   `TOKEN` events and HTTP API 1.0 and 2.0 events, never an allow for an admin variant,
//!   refused forms denied with their reason, and no cached answer letting one through.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use common::iam;
use common::*;
use edge_authz_lambda::{Handler, Settings};
use serde_json::{json, Value};

/// The API's stage: `arn:aws:execute-api:us-east-1:123456789012:petstore1/prod`.
const STAGE: &str = ARN_PREFIX;
const SUB: &str = "a1b2c3d4-0000-4000-8000-000000000001";

// ---------------------------------------------------------------- requests and events

/// The event shapes API Gateway sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    Rest,
    Token,
    HttpV1,
    HttpV2,
}

/// One request as API Gateway sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Req {
    token: String,
    method: String,
    /// The path as the event carries it (`path` / `rawPath`), without the query.
    path: String,
    /// The `methodArn` / `routeArn`.
    arn: String,
    query: Vec<(String, String)>,
    /// Extra headers (lower-case names), `Authorization` and `Host` aside.
    headers: Vec<(String, String)>,
    ip: String,
}

impl Req {
    /// A request with every [`Field`] at its default (`curl/8.0`, `192.0.2.10`, no x-env,
    /// no query).
    fn new(token: &str, method: &str, path: &str) -> Self {
        let req = Self {
            token: token.to_owned(),
            method: method.to_owned(),
            path: path.to_owned(),
            arn: iam::method_arn(STAGE, method, path),
            query: Vec::new(),
            headers: Vec::new(),
            ip: String::new(),
        };
        FIELDS.iter().fold(req, |req, f| f.set(req, f.values()[0]))
    }

    fn header(mut self, name: &str, value: Option<&str>) -> Self {
        self.headers.retain(|(n, _)| n != name);
        if let Some(value) = value {
            self.headers.push((name.to_owned(), value.to_owned()));
            self.headers.sort();
        }
        self
    }

    fn query(mut self, name: &str, value: Option<&str>) -> Self {
        self.query.retain(|(n, _)| n != name);
        if let Some(value) = value {
            self.query.push((name.to_owned(), value.to_owned()));
            self.query.sort();
        }
        self
    }

    fn event(&self, shape: Shape) -> Value {
        let bearer = format!("Bearer {}", self.token);
        if shape == Shape::Token {
            return json!({"type": "TOKEN", "authorizationToken": bearer, "methodArn": self.arn});
        }
        let mut headers = serde_json::Map::new();
        headers.insert(
            "host".into(),
            json!("petstore1.execute-api.us-east-1.amazonaws.com"),
        );
        headers.insert("authorization".into(), json!(bearer));
        for (k, v) in &self.headers {
            headers.insert(k.clone(), json!(v));
        }
        let query: serde_json::Map<String, Value> = self
            .query
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let proxy = self.path.trim_start_matches('/');
        if shape == Shape::HttpV2 {
            let raw_query: Vec<String> =
                self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            return json!({
                "version": "2.0", "type": "REQUEST", "routeArn": self.arn,
                "identitySource": [bearer], "routeKey": "ANY /{proxy+}",
                "rawPath": self.path, "rawQueryString": raw_query.join("&"), "cookies": [],
                "headers": headers, "queryStringParameters": query,
                "requestContext": {
                    "accountId": "123456789012", "apiId": "petstore1", "domainName": "petstore1.execute-api.us-east-1.amazonaws.com",
                    "domainPrefix": "petstore1", "requestId": "id", "routeKey": "ANY /{proxy+}", "stage": "$default",
                    "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390u64,
                    "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1", "sourceIp": self.ip,
                             "userAgent": self.header_value("user-agent").unwrap_or("")}
                },
                "pathParameters": {"proxy": proxy}, "stageVariables": {}
            });
        }
        let multi: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect();
        let multi_query: serde_json::Map<String, Value> =
            query.iter().map(|(k, v)| (k.clone(), json!([v]))).collect();
        let mut e = json!({
            "type": "REQUEST", "methodArn": self.arn, "resource": "/{proxy+}",
            "path": self.path, "httpMethod": self.method,
            "headers": headers, "multiValueHeaders": multi,
            "queryStringParameters": query, "multiValueQueryStringParameters": multi_query,
            "pathParameters": {"proxy": proxy}, "stageVariables": {},
            "requestContext": {
                "path": format!("/prod{}", self.path), "accountId": "123456789012", "resourceId": "abc123",
                "stage": "prod", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "resourcePath": "/{proxy+}",
                "httpMethod": self.method, "apiId": "petstore1", "identity": {"sourceIp": self.ip}
            }
        });
        if shape == Shape::HttpV1 {
            e["version"] = json!("1.0");
            e["identitySource"] = json!(bearer);
            e["authorizationToken"] = json!(bearer);
        }
        e
    }

    fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether an answer allows: IAM responses carry a context (with `sub`) only on an allow,
/// simple responses say it. `Err` for a function error (API Gateway: 401 or 500).
fn allowed(inv: &Invocation) -> Result<bool, String> {
    match inv {
        Invocation::Response(r) => Ok(match r.get("isAuthorized") {
            Some(v) => v == true,
            None => r["context"]["sub"] == SUB,
        }),
        Invocation::Error {
            error_type,
            error_message,
        } => Err(format!("error {error_type}: {error_message}")),
    }
}

// ---------------------------------------------------------------- functions

fn var(k: &str, v: &str) -> (&'static str, String) {
    (Box::leak(k.to_owned().into_boxed_str()), v.to_owned())
}

/// The variables of a function with bundled JWKS and `policies` (group → policy), `extra`
/// on top.
fn bundled(policies: &Value, extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    // Functions start concurrently: each its own file.
    static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = FILES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let jwks = temp_file("jwks.json", &jwks_of(&["suite-rsa-1"]));
    let policies = temp_file(
        &format!("policies-{n}.json"),
        policies.to_string().as_bytes(),
    );
    let mut vars = vec![
        var("USER_POOL_ID", POOL),
        var("CLIENT_IDS", CLIENT),
        var("JWKS_URI", "http://127.0.0.1:9/jwks.json"),
        var("JWKS_FILE", &jwks.display().to_string()),
        var("POLICIES_FILE", &policies.display().to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| var(k, v)));
    vars
}

/// A running function: its emulator, its process, the decisions it logged so far.
struct Function {
    emulator: Emulator,
    process: Bootstrap,
    decisions: usize,
}

impl Function {
    /// Starts `bootstrap` with `vars`: the function once it polls for events, or the init's
    /// logs when it exits instead.
    fn start(vars: &[(&'static str, String)]) -> Result<Self, String> {
        let emulator = Emulator::start();
        let mut process = Bootstrap::spawn(&emulator, vars);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if emulator.wait_ready(Duration::from_millis(20)) {
                return Ok(Self {
                    emulator,
                    process,
                    decisions: 0,
                });
            }
            if let Some(code) = process.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50)); // the log readers drain
                return Err(format!("exit {code}: {}", process.logs()));
            }
            assert!(
                Instant::now() < deadline,
                "no init in 20 s: {}",
                process.logs()
            );
        }
    }

    fn expect(vars: &[(&'static str, String)], what: &str) -> Self {
        Self::start(vars).unwrap_or_else(|logs| panic!("{what}: the function must start: {logs}"))
    }

    /// Invokes every event; the answers and the logged decisions (`reason`, `outcome`), in
    /// order.
    fn invoke(&mut self, events: Vec<Value>) -> Vec<(Invocation, Value)> {
        let n = events.len();
        let answers = self.emulator.invoke_many(events);
        let logged = self.process.log_events("decision", self.decisions + n);
        assert!(
            logged.len() >= self.decisions + n,
            "one decision line per invocation: {} for {}",
            logged.len(),
            self.decisions + n
        );
        let decisions = logged[self.decisions..self.decisions + n].to_vec();
        self.decisions += n;
        answers.into_iter().zip(decisions).collect()
    }
}

// ---------------------------------------------------------------- the IAM evaluator itself

#[test]
fn the_iam_evaluator_is_api_gateways() {
    let g = iam::glob;
    assert!(g("arn:*:*/GET/a/*", "arn:x:y/prod/GET/a/b/c", true));
    assert!(g("a*%*", "a/b%61", true));
    assert!(!g("a*%*", "a/b", true));
    assert!(g("a?c", "abc", true) && !g("a?c", "ac", true));
    assert!(!g("ABC", "abc", true));
    assert!(g("Execute-Api:*", "execute-api:Invoke", false));
    assert!(g("*", "", true));
    let long = format!("x{}", "a".repeat(20_000));
    assert!(!g("*b*c*d*e*", &long, true), "linear, not exponential");

    let policy = json!({"Statement": [
        {"Effect": "Allow", "Action": "execute-api:*", "Resource": "arn:a/prod/GET/*"},
        {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": ["arn:a/*/admin"]},
        {"Effect": "Deny", "Action": "*", "Resource": "arn:a/*/secret",
         "Condition": {"StringEquals": {"request:header/x": "y"}}},
        {"Effect": "Allow", "Action": "*", "Resource": "arn:a/prod/POST/x",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
    ]});
    assert!(iam::allows(&policy, "arn:a/prod/GET/pets"));
    assert!(
        !iam::allows(&policy, "arn:a/prod/GET/admin"),
        "Deny wins; `*` crosses `/`"
    );
    assert!(
        iam::allows(&policy, "arn:a/prod/GET/secret"),
        "a conditional Deny may not apply"
    );
    assert!(
        iam::allows(&policy, "arn:a/prod/POST/x"),
        "a conditional Allow may"
    );
    assert!(!iam::allows(&policy, "arn:a/prod/PUT/pets"), "default deny");
    assert_eq!(iam::conditions(&policy), 2);
    let not = json!({"Statement": {"Effect": "Allow", "Action": "execute-api:Invoke", "NotResource": "arn:a/*/admin"}});
    assert!(iam::allows(&not, "arn:a/prod/GET/x") && !iam::allows(&not, "arn:a/prod/GET/admin"));

    assert_eq!(
        iam::arn_forms("arn:s", "get", "/a/%61dmin"),
        vec![
            "arn:s/GET/a/%61dmin".to_owned(),
            "arn:s/GET/a/admin".to_owned()
        ]
    );
    assert_eq!(
        iam::arn_forms("arn:s", "GET", "/"),
        vec!["arn:s/GET/".to_owned()]
    );
    assert_eq!(iam::arn_forms("arn:s", "GET", "/a%zz").len(), 1);
    assert_eq!(iam::percent_decode("/caf%C3%A9").as_deref(), Some("/café"));
    assert_eq!(iam::percent_decode("/%C3%28"), None);
    let (path, query) = iam::split_target("/a?x=1&y=%41");
    assert_eq!(path, "/a");
    assert_eq!(
        query,
        vec![("x".into(), "1".into()), ("y".into(), "A".into())]
    );
}

// ---------------------------------------------------------------- the cache invariant

/// `YYYY-MM-DDThh:mm:ssZ` for `secs` since the epoch.
fn iso8601(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn statement(effect: &str, resources: &[&str], condition: Option<Value>) -> Value {
    let resources: Vec<String> = resources.iter().map(|r| format!("{STAGE}/{r}")).collect();
    let mut s = json!({"Effect": effect, "Action": "execute-api:Invoke", "Resource": resources});
    if let Some(c) = condition {
        s["Condition"] = c;
    }
    s
}

/// The groups: one without conditions, and one per request value a condition can read,
/// each with the key its located error names.
fn cache_groups(now: u64) -> Vec<(&'static str, Value, Option<&'static str>)> {
    let doc = |statements: Vec<Value>| json!({"Version": "2012-10-17", "Statement": statements});
    vec![
        (
            "base",
            doc(vec![
                statement("Allow", &["GET/petstore/*"], None),
                statement("Deny", &["*/petstore/v2/admin"], None),
            ]),
            None,
        ),
        (
            "hdr",
            doc(vec![
                statement("Allow", &["GET/petstore/v1/*"], None),
                // The case: a Deny conditioned on a header.
                statement(
                    "Deny",
                    &["*/petstore/v1/secrets"],
                    Some(json!({"StringEquals": {"request:header/x-env": "prod"}})),
                ),
                statement(
                    "Allow",
                    &["GET/petstore/v2/*"],
                    Some(json!({"StringEquals": {"request:header/x-env": "staging"}})),
                ),
            ]),
            Some("request:header/x-env"),
        ),
        (
            "qry",
            doc(vec![
                statement("Allow", &["GET/petstore/v1/pets"], None),
                statement(
                    "Allow",
                    &["GET/petstore/v1/reports"],
                    Some(json!({"StringEquals": {"request:query/format": "csv"}})),
                ),
            ]),
            Some("request:query/format"),
        ),
        (
            "ip",
            doc(vec![
                statement(
                    "Allow",
                    &["GET/petstore/v1/*"],
                    Some(json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})),
                ),
                statement(
                    "Deny",
                    &["*/petstore/v1/admin"],
                    Some(json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
                ),
            ]),
            Some("aws:SourceIp"),
        ),
        (
            "ua",
            doc(vec![statement(
                "Allow",
                &["GET/petstore/v1/*"],
                Some(json!({"StringLike": {"aws:UserAgent": "curl/*"}})),
            )]),
            Some("aws:UserAgent"),
        ),
        (
            "time",
            doc(vec![
                statement(
                    "Allow",
                    &["GET/petstore/v1/*"],
                    Some(json!({"DateLessThan": {"aws:CurrentTime": iso8601(now + 3600)}})),
                ),
                statement(
                    "Allow",
                    &["GET/petstore/v2/*"],
                    Some(json!({"DateGreaterThan": {"aws:CurrentTime": iso8601(now + 120)}})),
                ),
            ]),
            Some("aws:CurrentTime"),
        ),
    ]
}

/// A request field that a condition can read, and the values the simulation gives it
/// (the first is the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    XEnv,
    Format,
    Ip,
    UserAgent,
}

const FIELDS: [Field; 4] = [Field::XEnv, Field::Format, Field::Ip, Field::UserAgent];

impl Field {
    fn values(self) -> &'static [Option<&'static str>] {
        match self {
            Field::XEnv => &[None, Some("prod"), Some("staging")],
            Field::Format => &[None, Some("csv"), Some("json")],
            Field::Ip => &[Some("192.0.2.10"), Some("10.1.2.3"), Some("198.51.100.7")],
            Field::UserAgent => &[Some("curl/8.0"), Some("Mozilla/5.0"), None],
        }
    }

    fn set(self, req: Req, value: Option<&str>) -> Req {
        match self {
            Field::XEnv => req.header("x-env", value),
            Field::Format => req.query("format", value),
            Field::Ip => Req {
                ip: value.unwrap_or("192.0.2.10").to_owned(),
                ..req
            },
            Field::UserAgent => req.header("user-agent", value),
        }
    }
}

/// A configuration of API Gateway's cache, as the function's variables give it.
struct CacheCase {
    name: &'static str,
    ttl: Option<&'static str>,
    sources: Option<&'static str>,
    /// The request fields in the cache key (besides the token).
    keyed: &'static [Field],
    /// The groups whose policies load.
    loads: &'static [&'static str],
}

const AUTH: &str = "method.request.header.Authorization";

fn cache_cases() -> Vec<CacheCase> {
    vec![
        CacheCase {
            name: "variables unset (API Gateway's defaults: 300 s, the Authorization header)",
            ttl: None,
            sources: None,
            keyed: &[],
            loads: &["base"],
        },
        CacheCase {
            name: "300 s, the token",
            ttl: Some("300"),
            sources: Some(AUTH),
            keyed: &[],
            loads: &["base"],
        },
        CacheCase {
            name: "3600 s, the token and x-env",
            ttl: Some("3600"),
            sources: Some("method.request.header.Authorization, method.request.header.X-Env"),
            keyed: &[Field::XEnv],
            loads: &["base", "hdr"],
        },
        CacheCase {
            name: "300 s, the token and ?format",
            ttl: Some("300"),
            sources: Some("method.request.header.Authorization,method.request.querystring.format"),
            keyed: &[Field::Format],
            loads: &["base", "qry"],
        },
        CacheCase {
            name: "60 s, the token and the source IP",
            ttl: Some("60"),
            sources: Some("method.request.header.Authorization,context.identity.sourceIp"),
            keyed: &[Field::Ip],
            loads: &["base", "ip"],
        },
        CacheCase {
            name: "300 s, every value but the time",
            ttl: Some("300"),
            sources: Some("method.request.header.Authorization,method.request.header.x-env,method.request.querystring.format,context.identity.sourceIp,method.request.header.User-Agent"),
            keyed: &[Field::XEnv, Field::Format, Field::Ip, Field::UserAgent],
            loads: &["base", "hdr", "qry", "ip", "ua"],
        },
        CacheCase {
            name: "TTL 0 (no cache)",
            ttl: Some("0"),
            sources: None,
            keyed: &[],
            loads: &["base", "hdr", "qry", "ip", "ua", "time"],
        },
    ]
}

impl CacheCase {
    fn vars(&self) -> Vec<(&'static str, &'static str)> {
        let mut vars = Vec::new();
        if let Some(ttl) = self.ttl {
            vars.push(("AUTHORIZER_CACHE_TTL", ttl));
        }
        if let Some(sources) = self.sources {
            vars.push(("IDENTITY_SOURCES", sources));
        }
        vars
    }

    fn ttl_seconds(&self) -> u64 {
        self.ttl.map_or(300, |t| t.parse().unwrap())
    }
}

/// Paths of the later requests: plain ones and the forms a cached policy must not let
/// through where the function would not (encoded letters, case, slashes, dots, `;`).
const LATER_PATHS: &[&str] = &[
    "/petstore/v1/pets",
    "/petstore/v1/secrets",
    "/petstore/v1/SECRETS",
    "/petstore/v1/%73ecrets",
    "/petstore/v1/secrets/",
    "/petstore/v1//secrets",
    "/petstore/v1/secrets;x=1",
    "/petstore/v1/./secrets",
    "/petstore/v1/reports",
    "/petstore/v1/%72eports",
    "/petstore/v1/admin",
    "/petstore/v1/%61dmin",
    "/petstore/v1/ADMIN",
    "/petstore/v1/admin/",
    "/petstore/v1/admin.",
    "/petstore//v1/admin",
    "/petstore/v2/admin",
    "/petstore/v2/%61dmin",
    "/petstore/v2/admin/",
    "/petstore/v2/pets",
    "/petstore/v2/status",
    "/petstore/v1/../v2/admin",
    "/petstore/v1/%2e%2e/v2/admin",
    "/",
];
const LATER_METHODS: &[&str] = &["GET", "HEAD", "POST", "DELETE"];
const FIRST_PATHS: &[&str] = &["/petstore/v1/pets", "/petstore/v2/pets"];

/// Requests with every field at its default but `field`, one value at a time (and the
/// all-default one), for the fields in `fields`.
fn one_at_a_time(base: &Req, fields: &[Field]) -> Vec<Req> {
    let mut out = vec![base.clone()];
    for &field in fields {
        for &value in &field.values()[1..] {
            out.push(field.set(base.clone(), value));
        }
    }
    out
}

/// Later requests sharing `first`'s identity-source values: other methods and paths, and
/// every other value of the fields that are not in the key.
fn later_requests(first: &Req, keyed: &[Field]) -> Vec<Req> {
    let free: Vec<Field> = FIELDS
        .iter()
        .copied()
        .filter(|f| !keyed.contains(f))
        .collect();
    let mut out = Vec::new();
    for method in LATER_METHODS {
        for path in LATER_PATHS {
            let moved = Req {
                method: (*method).to_owned(),
                path: (*path).to_owned(),
                arn: iam::method_arn(STAGE, method, path),
                ..first.clone()
            };
            // Unkeyed fields back to their defaults, then varied one at a time.
            let mut reset = moved;
            for &f in &free {
                reset = f.set(reset, f.values()[0]);
            }
            out.extend(one_at_a_time(&reset, &free));
        }
    }
    out
}

/// A request as API Gateway could present it with each ARN it may build for it.
fn with_arn_forms(req: &Req) -> Vec<Req> {
    iam::arn_forms(STAGE, &req.method, &req.path)
        .into_iter()
        .map(|arn| Req { arn, ..req.clone() })
        .collect()
}

/// The fresh decisions: the function with API Gateway's cache off (TTL 0) and every group,
/// as a process (now) and in-process with the clock moved (the last second of a TTL).
struct Oracle {
    function: Function,
    memo: HashMap<Req, bool>,
    handler: Handler,
    rt: tokio::runtime::Runtime,
    later: HashMap<(Req, u64), bool>,
}

impl Oracle {
    fn new(groups: &Value, now: u64) -> Self {
        let vars = bundled(groups, &[("AUTHORIZER_CACHE_TTL", "0")]);
        let function = Function::expect(&vars, "the TTL 0 oracle with every group");
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let handler = {
            let _guard = rt.enter();
            Handler::new(
                Settings::from_vars(&map).expect("TTL 0 settings"),
                None,
                now,
            )
            .unwrap()
        };
        Self {
            function,
            memo: HashMap::new(),
            handler,
            rt,
            later: HashMap::new(),
        }
    }

    /// Asks the function about every request not asked yet (in one batch).
    fn ask(&mut self, requests: &[Req]) {
        let fresh: Vec<Req> = requests
            .iter()
            .filter(|r| !self.memo.contains_key(*r))
            .cloned()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if fresh.is_empty() {
            return;
        }
        let answers = self
            .function
            .invoke(fresh.iter().map(|r| r.event(Shape::Rest)).collect());
        for (req, (answer, decision)) in fresh.into_iter().zip(answers) {
            let allow = allowed(&answer).unwrap_or_else(|e| panic!("oracle: {e} for {req:?}"));
            assert_eq!(allow, decision["reason"] == "allowed", "{decision}");
            self.memo.insert(req, allow);
        }
    }

    fn allows(&self, req: &Req) -> bool {
        self.memo[req]
    }

    /// The fresh decision at `at` (the handler with an injected clock).
    fn allows_at(&mut self, req: &Req, at: u64) -> bool {
        if let Some(&a) = self.later.get(&(req.clone(), at)) {
            return a;
        }
        let handled = self
            .rt
            .block_on(self.handler.handle(req.event(Shape::Rest), at));
        let allow = allowed(&Invocation::Response(
            handled.result.clone().unwrap_or(Value::Null),
        ))
        .unwrap();
        self.later.insert((req.clone(), at), allow);
        allow
    }
}

/// For every first request, API Gateway's cache applied to the later requests: the cached
/// policy must not let through what the oracle denies. Returns the violations and counts.
fn simulate_cache(
    function: &mut Function,
    oracle: &mut Oracle,
    case: &CacheCase,
    tokens: &HashMap<&str, String>,
    now: u64,
) -> (Vec<String>, [usize; 3]) {
    let mut firsts = Vec::new();
    for group in case.loads {
        for path in FIRST_PATHS {
            // Whoever comes first: every value of every field, keyed or not.
            let base = Req::new(&tokens[group], "GET", path);
            firsts.extend(one_at_a_time(&base, &FIELDS));
        }
    }
    let answers = function.invoke(firsts.iter().map(|r| r.event(Shape::Rest)).collect());
    let mut violations = Vec::new();
    let mut checks = Vec::new(); // (first index, later request) the cached policy allows
    let mut evaluated = 0;
    for (i, (first, (answer, _))) in firsts.iter().zip(&answers).enumerate() {
        let Invocation::Response(response) = answer else {
            violations.push(format!("first request {first:?}: {answer:?}"));
            continue;
        };
        let policy = &response["policyDocument"];
        if iam::conditions(policy) > 0 {
            violations.push(format!(
                "the returned policy holds conditions or variables, for {first:?}: {policy}"
            ));
        }
        for later in later_requests(first, case.keyed) {
            for form in with_arn_forms(&later) {
                evaluated += 1;
                if iam::allows(policy, &form.arn) {
                    checks.push((i, form));
                }
            }
        }
    }
    let asked: Vec<Req> = checks.iter().map(|(_, r)| r.clone()).collect();
    oracle.ask(&asked);
    let last_second = now + case.ttl_seconds() - 1;
    for (i, later) in &checks {
        if !oracle.allows(later) {
            violations.push(format!(
                "cached for {:?} {} (x-env {:?}, query {:?}, ip {}): API Gateway would let {} {} (ARN {}, headers {:?}, query {:?}, ip {}) through; the function denies it",
                firsts[*i].method, firsts[*i].path, firsts[*i].header_value("x-env"), firsts[*i].query, firsts[*i].ip,
                later.method, later.path, later.arn, later.headers, later.query, later.ip
            ));
        } else if !oracle.allows_at(later, last_second) {
            violations.push(format!(
                "cached at {now}, API Gateway would let {} {} through at {last_second} (within the TTL); the function then denies it",
                later.method, later.path
            ));
        }
    }
    (violations, [firsts.len(), evaluated, checks.len()])
}

fn group_tokens(
    groups: &[(&'static str, Value, Option<&'static str>)],
    now: u64,
) -> HashMap<&'static str, String> {
    groups
        .iter()
        .map(|(name, _, _)| (*name, access_token("suite-rsa-1", &[*name], now)))
        .collect()
}

fn policies_of(groups: &[(&'static str, Value, Option<&'static str>)], names: &[&str]) -> Value {
    let map: serde_json::Map<String, Value> = groups
        .iter()
        .filter(|(n, _, _)| names.contains(n))
        .map(|(n, p, _)| ((*n).to_owned(), p.clone()))
        .collect();
    Value::Object(map)
}

/// The located error of a policy that reads `key` outside the cache key, with the fix and
/// the variables that make the key.
/// `location`: where the error must point (`policies.groups.hdr.Statement[` at init; the
/// loaded document's `Statement[` in a `policy_invalid` line, whose `group` names it).
fn check_located_error(
    text: &str,
    location: &str,
    group: &str,
    key: &str,
    case: &CacheCase,
) -> Option<String> {
    for needle in [
        location.to_owned(),
        key.to_owned(),
        "authorizer cache".to_owned(),
        format!("AUTHORIZER_CACHE_TTL={}", case.ttl_seconds()),
        "IDENTITY_SOURCES=".to_owned(),
    ] {
        if !text.contains(&needle) {
            return Some(format!(
                "[{}] {group}: `{needle}` missing from the error:\n{text}",
                case.name
            ));
        }
    }
    None
}

#[test]
fn api_gateway_cache_bundled_policies() {
    let started = Instant::now();
    let now = now();
    let groups = cache_groups(now);
    let tokens = group_tokens(&groups, now);
    let cases = cache_cases();

    // 1. Where a group reads a value outside the key, init fails with the located error:
    // one function per (case, refused group), started together.
    let refused: Vec<(&CacheCase, &str, &str)> = cases
        .iter()
        .flat_map(|case| {
            groups
                .iter()
                .filter(|(name, _, _)| !case.loads.contains(name))
                .map(move |(name, _, key)| (case, *name, key.expect("a keyless group loads")))
        })
        .collect();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = refused
            .iter()
            .map(|(case, group, key)| {
                let vars = bundled(&policies_of(&groups, &[*group]), &case.vars());
                scope.spawn(move || match Function::start(&vars) {
                    Ok(_) => Some(format!(
                        "[{}] the function started with group {group}, which reads {key} outside the cache key",
                        case.name
                    )),
                    Err(logs) => check_located_error(
                        &logs,
                        &format!("policies.groups.{group}.Statement["),
                        group,
                        key,
                        case,
                    ),
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!(
        "{} refusals at init, each with its located error: {:?}",
        refused.len(),
        started.elapsed()
    );

    // 2. Where the key holds what they read (or TTL 0), the function starts; API Gateway's
    // cache, simulated, never lets through what the function denies.
    let mut oracle = Oracle::new(
        &policies_of(&groups, &["base", "hdr", "qry", "ip", "ua", "time"]),
        now,
    );
    let mut violations = Vec::new();
    for case in cases.iter().filter(|c| c.ttl != Some("0")) {
        let mut function = Function::expect(
            &bundled(&policies_of(&groups, case.loads), &case.vars()),
            case.name,
        );
        let t = Instant::now();
        let (found, [firsts, evaluated, allowed]) =
            simulate_cache(&mut function, &mut oracle, case, &tokens, now);
        println!(
            "[{}] {firsts} first requests, {evaluated} later (request, ARN) pairs under the cached policy, {allowed} allowed from the cache, each allowed fresh: {:?}",
            case.name,
            t.elapsed()
        );
        violations.extend(found);
    }
    // The simulation has teeth: a function that loads the conditional groups (TTL 0) while
    // API Gateway caches its answers per token hands out policies specialised to the first
    // request, which let later requests through that the function denies.
    static CONDITIONAL: [&str; 4] = ["hdr", "qry", "ip", "ua"];
    let mut control = Function::expect(
        &bundled(
            &policies_of(&groups, &CONDITIONAL),
            &[("AUTHORIZER_CACHE_TTL", "0")],
        ),
        "the control",
    );
    for group in &CONDITIONAL {
        let case = CacheCase {
            name: "control: conditions read outside a token-only key",
            ttl: Some("300"),
            sources: None,
            keyed: &[],
            loads: std::slice::from_ref(group),
        };
        let (found, _) = simulate_cache(&mut control, &mut oracle, &case, &tokens, now);
        assert!(
            !found.is_empty(),
            "{group}: a policy specialised to one request, cached per token, must be caught"
        );
    }

    // The TTL 0 function loads every group, time conditions included, and evaluates them
    // per request: the Allow of v2 starts 120 s from now.
    let time = Req::new(&tokens["time"], "GET", "/petstore/v2/pets");
    oracle.ask(std::slice::from_ref(&time));
    assert!(!oracle.allows(&time));
    assert!(oracle.allows_at(&time, now + 121));
    assert!(
        violations.is_empty(),
        "{} violations:\n{}",
        violations.len(),
        violations[..violations.len().min(40)].join("\n")
    );
    println!(
        "the API Gateway cache invariant, bundled policies: {} fresh decisions asked, {:?}",
        oracle.memo.len(),
        started.elapsed()
    );
}

#[test]
#[ignore = "needs moto_server: run by `make lambda-test`"]
fn api_gateway_cache_dynamodb_policies() {
    let started = Instant::now();
    let moto = Moto::start();
    let now = now();
    let groups = cache_groups(now);
    let tokens = group_tokens(&groups, now);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = dynamodb_client(&moto.endpoint);
    let items = match policies_of(&groups, &["base", "hdr", "qry", "ip", "ua", "time"]) {
        Value::Object(map) => map,
        _ => unreachable!(),
    };
    rt.block_on(seed_table(&client, "auth-policy-store", &items));
    let jwks = temp_file("jwks.json", &jwks_of(&["suite-rsa-1"]));
    let mut oracle = Oracle::new(&Value::Object(items.clone()), now);
    let mut failures = Vec::new();
    for case in cache_cases() {
        let mut vars = vec![
            var("USER_POOL_ID", POOL),
            var("CLIENT_IDS", CLIENT),
            var("JWKS_URI", "http://127.0.0.1:9/jwks.json"),
            var("JWKS_FILE", &jwks.display().to_string()),
            var("POLICY_TABLE", "auth-policy-store"),
            var("AWS_ENDPOINT_URL_DYNAMODB", &moto.endpoint),
        ];
        vars.extend(case.vars().iter().map(|(k, v)| var(k, v)));
        let mut function = Function::expect(&vars, case.name);
        // One request per group: the policy load refuses the groups whose conditions read
        // outside the key (their callers denied, the located error logged), loads the rest.
        let requests: Vec<Req> = groups
            .iter()
            .map(|(name, _, _)| Req::new(&tokens[name], "GET", "/petstore/v1/pets"))
            .collect();
        let answers = function.invoke(requests.iter().map(|r| r.event(Shape::Rest)).collect());
        let invalid = function.process.log_events("policy_invalid", 0);
        for ((name, _, key), (answer, decision)) in groups.iter().zip(&answers) {
            let errors: Vec<String> = invalid
                .iter()
                .filter(|l| l["group"] == *name)
                .map(|l| l["errors"].as_str().unwrap_or("").to_owned())
                .collect();
            if case.loads.contains(name) {
                if !errors.is_empty() {
                    failures.push(format!("[{}] {name} refused: {errors:?}", case.name));
                }
                continue;
            }
            let key = key.unwrap();
            if allowed(answer) != Ok(false) || decision["reason"] != "invalid_policy" {
                failures.push(format!(
                    "[{}] {name} reads {key} outside the key, yet {answer:?} ({decision})",
                    case.name
                ));
            }
            match errors.first() {
                None => failures.push(format!("[{}] {name}: no policy_invalid logged", case.name)),
                Some(text) => {
                    failures.extend(check_located_error(text, "Statement[", name, key, &case))
                }
            }
        }
        if case.ttl != Some("0") {
            let (found, [firsts, evaluated, allowed]) =
                simulate_cache(&mut function, &mut oracle, &case, &tokens, now);
            println!(
                "[{}] from DynamoDB: {firsts} first requests, {evaluated} later pairs, {allowed} allowed from the cache",
                case.name
            );
            failures.extend(found);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
    println!(
        "the API Gateway cache invariant, DynamoDB policies: {:?}",
        started.elapsed()
    );
}

#[test]
fn http_api_simple_responses_need_the_route_in_the_cache_key() {
    let now = now();
    let groups = cache_groups(now);
    let tokens = group_tokens(&groups, now);
    let base = policies_of(&groups, &["base"]);
    let start = |extra: &[(&str, &str)]| Function::start(&bundled(&base, extra));

    // Refused at init: simple responses (the default of HTTP_RESPONSE) cached per token only.
    for extra in [
        &[("EVENT_TYPE", "http-v2")][..],
        &[("EVENT_TYPE", "http-v2"), ("AUTHORIZER_CACHE_TTL", "300")],
        &[
            ("EVENT_TYPE", "http-v2"),
            (
                "IDENTITY_SOURCES",
                "$request.header.Authorization,$context.routeKey",
            ),
        ],
        // A route key is one for every method under `ANY /{proxy+}`.
        &[
            ("EVENT_TYPE", "http-v2"),
            (
                "IDENTITY_SOURCES",
                "$request.header.Authorization,$context.routeKey,$context.path",
            ),
        ],
        &[
            ("EVENT_TYPE", "http-v2"),
            (
                "IDENTITY_SOURCES",
                "$request.header.Authorization,$context.path",
            ),
        ],
        &[("IDENTITY_SOURCES", "$request.header.Authorization")],
    ] {
        match start(extra) {
            Ok(_) => panic!(
                "{extra:?}: simple responses cached for every route, yet the function started"
            ),
            Err(logs) => {
                for needle in [
                    "simple responses",
                    "$context.path",
                    "IDENTITY_SOURCES",
                    "HTTP_RESPONSE",
                    "AUTHORIZER_CACHE_TTL",
                ] {
                    assert!(
                        logs.contains(needle),
                        "{extra:?}: `{needle}` missing from the init error:\n{logs}"
                    );
                }
            }
        }
    }
    // Identity sources in the other API's syntax, or mixed: refused too.
    for extra in [
        &[
            ("EVENT_TYPE", "request"),
            ("IDENTITY_SOURCES", "$request.header.Authorization"),
        ][..],
        &[("EVENT_TYPE", "http-v1"), ("IDENTITY_SOURCES", AUTH)],
        &[(
            "IDENTITY_SOURCES",
            "method.request.header.Authorization,$context.path",
        )],
        &[("IDENTITY_SOURCES", " , ")],
        &[("AUTHORIZER_CACHE_TTL", "3601")],
    ] {
        let logs = start(extra)
            .err()
            .unwrap_or_else(|| panic!("{extra:?} started"));
        let var = if extra.iter().any(|(k, _)| *k == "AUTHORIZER_CACHE_TTL") {
            "AUTHORIZER_CACHE_TTL"
        } else {
            "IDENTITY_SOURCES:"
        };
        assert!(logs.contains(var), "{extra:?}:\n{logs}");
    }

    // Started: TTL 0, IAM responses, or the method and the path in the key.
    for extra in [
        &[("EVENT_TYPE", "http-v2"), ("AUTHORIZER_CACHE_TTL", "0")][..],
        &[("EVENT_TYPE", "http-v2"), ("HTTP_RESPONSE", "iam")],
        &[
            ("EVENT_TYPE", "http-v2"),
            (
                "IDENTITY_SOURCES",
                "$request.header.Authorization,$context.httpMethod,$context.path",
            ),
        ],
    ] {
        start(extra).unwrap_or_else(|logs| panic!("{extra:?}: {logs}"));
    }

    // EVENT_TYPE auto with REST identity sources (the defaults) serves REST: an HTTP API 2.0
    // event that would get a cached simple response is denied, and says why.
    let mut auto = start(&[]).unwrap();
    let v2 = Req::new(&tokens["base"], "GET", "/petstore/v1/pets");
    let answers = auto.invoke(vec![v2.event(Shape::HttpV2), v2.event(Shape::Rest)]);
    assert_eq!(
        answers[0].0,
        Invocation::Response(json!({"isAuthorized": false, "context": {}}))
    );
    assert_eq!(
        allowed(&answers[1].0),
        Ok(true),
        "the same request as a REST event"
    );
    assert!(auto
        .process
        .logs_once_containing("simple_response_refused")
        .contains("simple_response_refused"));

    // With the method and the path in the key, API Gateway's cache of simple responses,
    // simulated: a cached answer reused for requests with the same method, path, token and
    // x-env (in the key) and any query, address or user agent (not in it).
    let loaded = policies_of(&groups, &["base", "hdr"]);
    let mut function = Function::expect(
        &bundled(
            &loaded,
            &[
                ("EVENT_TYPE", "http-v2"),
                ("IDENTITY_SOURCES", "$request.header.Authorization,$context.httpMethod,$context.path,$request.header.x-env"),
            ],
        ),
        "simple responses with the route in the key",
    );
    let mut oracle = Oracle::new(&loaded, now);
    let mut firsts = Vec::new();
    for group in ["base", "hdr"] {
        for method in LATER_METHODS {
            for path in LATER_PATHS {
                let first = Req::new(&tokens[group], method, path);
                firsts.extend(one_at_a_time(&first, &[Field::XEnv]));
            }
        }
    }
    let answers = function.invoke(firsts.iter().map(|r| r.event(Shape::HttpV2)).collect());
    let free = [Field::Format, Field::Ip, Field::UserAgent];
    let mut later = Vec::new();
    for (first, (answer, _)) in firsts.iter().zip(&answers) {
        if allowed(answer).unwrap() {
            later.extend(one_at_a_time(first, &free));
        }
    }
    oracle.ask(&later);
    let violations: Vec<&Req> = later.iter().filter(|r| !oracle.allows(r)).collect();
    assert!(
        violations.is_empty(),
        "cached isAuthorized: true, denied fresh: {violations:?}"
    );
    println!(
        "simple responses: {} first requests, {} later requests allowed from the cache, each allowed fresh",
        firsts.len(),
        later.len()
    );
}

// ---------------------------------------------------------------- the path matrix

#[derive(Debug, Clone)]
struct Variant {
    target: String,
    method: String,
    expect: String,
    case: bool,
    admin: bool,
}

fn path_matrix() -> (Value, Vec<Variant>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/path-matrix.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let variants: Vec<Variant> = doc["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let mut target = v["target"].as_str().unwrap().to_owned();
            if let Some(n) = v["repeat"].as_u64() {
                target.push_str(&"a".repeat(n as usize));
            }
            Variant {
                target,
                method: v["method"].as_str().unwrap_or("GET").to_owned(),
                expect: v["expect"].as_str().unwrap().to_owned(),
                case: v["case"].as_bool().unwrap_or(false),
                admin: v["admin"].as_bool().unwrap(),
            }
        })
        .collect();
    assert!(
        variants.len() >= 40,
        "the matrix shrank to {}",
        variants.len()
    );
    (doc["policy"].clone(), variants)
}

impl Variant {
    /// What the function must answer: `allow`, `deny` (anything but an allow), a refusal's
    /// reason code, or `refused` (any). Upper-case variants are other resources under IAM's
    /// case-sensitive matching (allowed), admin when matching ignores case.
    fn expected(&self, case_insensitive: bool) -> &str {
        if self.case && !case_insensitive {
            "allow"
        } else {
            &self.expect
        }
    }

    fn is_admin(&self, case_insensitive: bool) -> bool {
        self.admin && (!self.case || case_insensitive)
    }

    fn request(&self, token: &str) -> Req {
        let (path, query) = iam::split_target(&self.target);
        let mut req = Req::new(token, &self.method, path);
        req.query = query;
        req
    }
}

/// The decoded path an HTTP API would deliver for `path` (it decodes before routing and
/// cuts at a decoded `?`; it refuses `%25`): `None` when it has none or it is the same.
fn http_api_decoded(path: &str) -> Option<String> {
    if path.contains("%25") {
        return None;
    }
    let decoded = iam::percent_decode(path)?;
    let decoded = decoded.split('?').next().unwrap_or("").to_owned();
    (decoded != path).then_some(decoded)
}

fn is_admin_path(method: &str, path: &str, case_insensitive: bool) -> bool {
    let same = |a: &str, b: &str| {
        if case_insensitive {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    matches!(method, "GET" | "HEAD")
        && ["/petstore/v2/admin", "/petstore/v2/admin/"]
            .iter()
            .any(|admin| same(path, admin))
}

fn check_answer(
    what: &str,
    expected: &str,
    answer: &Invocation,
    decision: &Value,
    failures: &mut Vec<String>,
) {
    let allow = match allowed(answer) {
        Ok(allow) => allow,
        Err(e) => {
            failures.push(format!("{what}: {e} (never a 401/500 here)"));
            return;
        }
    };
    let reason = decision["reason"].as_str().unwrap_or("");
    let outcome = decision["outcome"].as_str().unwrap_or("");
    let ok = match expected {
        "allow" => allow && reason == "allowed",
        "deny" => !allow,
        "refused" => !allow && outcome == "bad_request",
        code => !allow && outcome == "bad_request" && reason == code,
    };
    if !ok {
        failures.push(format!(
            "{what}: expected {expected}, got {} ({outcome} {reason}: {})",
            if allow { "an allow" } else { "a deny" },
            decision["explain"].as_str().unwrap_or("")
        ));
    }
}

#[test]
fn path_matrix_through_the_binary() {
    let started = Instant::now();
    let now = now();
    let (policy, variants) = path_matrix();
    let token = access_token("suite-rsa-1", &["matrix"], now);
    let policies = json!({ "matrix": policy });
    let mut failures = Vec::new();
    let mut invocations = 0;
    for case_insensitive in [false, true] {
        let rules = if case_insensitive {
            json!({"request": {"caseSensitive": false}}).to_string()
        } else {
            "{}".to_owned()
        };
        let label = if case_insensitive {
            "caseSensitive: false"
        } else {
            "default rules"
        };
        // REST REQUEST and TOKEN, HTTP API 1.0 and 2.0 with IAM policy responses; the cache
        // at API Gateway's defaults (300 s, the token).
        let iam_function = Function::expect(
            &bundled(&policies, &[("HTTP_RESPONSE", "iam"), ("CONFIG", &rules)]),
            label,
        );
        // HTTP API 2.0 simple responses: cached per method and path.
        let simple_function = Function::expect(
            &bundled(
                &policies,
                &[
                    ("EVENT_TYPE", "http-v2"),
                    (
                        "IDENTITY_SOURCES",
                        "$request.header.Authorization,$context.httpMethod,$context.path",
                    ),
                    ("CONFIG", &rules),
                ],
            ),
            label,
        );
        let first = Req::new(&token, "GET", "/petstore/v1/pets");
        let mut functions = [iam_function, simple_function];
        for (shape, simple) in [
            (Shape::Rest, false),
            (Shape::Token, false),
            (Shape::HttpV1, false),
            (Shape::HttpV2, false),
            (Shape::HttpV2, true),
        ] {
            let function = &mut functions[usize::from(simple)];
            let kind = format!("[{label}] {shape:?}{}", if simple { " simple" } else { "" });
            // The answer API Gateway caches for the token: the first request's.
            let cached = function.invoke(vec![first.event(shape)]).remove(0).0;
            assert_eq!(
                allowed(&cached),
                Ok(true),
                "{kind}: the first request is allowed"
            );
            let Invocation::Response(cached) = cached else {
                unreachable!()
            };
            // As sent: the path and the ARN carry the target as it is.
            let requests: Vec<Req> = variants.iter().map(|v| v.request(&token)).collect();
            let answers = function.invoke(requests.iter().map(|r| r.event(shape)).collect());
            invocations += 1 + answers.len();
            for ((v, req), (answer, decision)) in variants.iter().zip(&requests).zip(&answers) {
                let what = format!(
                    "{kind} {} {:?}",
                    v.method,
                    v.target.get(..80).unwrap_or(&v.target)
                );
                check_answer(
                    &what,
                    v.expected(case_insensitive),
                    answer,
                    decision,
                    &mut failures,
                );
                // API Gateway's cache: the first answer reused for this request, under each
                // ARN API Gateway may build for it, must not let an admin variant through.
                if v.is_admin(case_insensitive) && !simple {
                    // Not the ARNs with a control character: no request line carries one
                    // raw, and a decoded one would need API Gateway to decode `%00` into
                    // the method ARN (undocumented) and to accept a policy naming control
                    // characters; the function refuses them when asked (checked above).
                    let arns = iam::arn_forms(STAGE, &req.method, &req.path);
                    for arn in arns
                        .into_iter()
                        .filter(|a| !a.chars().any(char::is_control))
                    {
                        if iam::allows(&cached["policyDocument"], &arn) {
                            failures.push(format!(
                                "{what}: the cached policy lets {:?} through",
                                arn.get(..160).unwrap_or(&arn)
                            ));
                        }
                    }
                }
            }
            // As HTTP APIs deliver them: percent-decoded, cut at a decoded `?`.
            if matches!(shape, Shape::HttpV1 | Shape::HttpV2) {
                let decoded: Vec<(Req, &Variant)> = variants
                    .iter()
                    .filter_map(|v| {
                        let req = v.request(&token);
                        let path = http_api_decoded(&req.path)?;
                        Some((
                            Req {
                                arn: iam::method_arn(STAGE, &req.method, &path),
                                path,
                                ..req
                            },
                            v,
                        ))
                    })
                    .collect();
                let answers =
                    function.invoke(decoded.iter().map(|(r, _)| r.event(shape)).collect());
                invocations += answers.len();
                for ((req, v), (answer, decision)) in decoded.iter().zip(&answers) {
                    let what = format!(
                        "{kind} decoded {} {:?} (sent {:?})",
                        req.method, req.path, v.target
                    );
                    match allowed(answer) {
                        Err(e) => failures.push(format!("{what}: {e}")),
                        Ok(true) if is_admin_path(&req.method, &req.path, case_insensitive) => {
                            failures.push(format!("{what}: allowed ({decision})"))
                        }
                        Ok(_) => {}
                    }
                }
            }
        }
        let logs = functions[0].process.logs() + &functions[1].process.logs();
        assert!(!logs.contains(&token), "the token is never logged");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "path matrix: {} variants, {invocations} invocations through the binary: {:?}",
        variants.len(),
        started.elapsed()
    );
}
