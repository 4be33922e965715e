//! The fault matrix through the real `bootstrap` binary (Lambda Runtime API emulator on
//! loopback, REST `REQUEST` events): the JWKS endpoint and DynamoDB (moto) sit behind a
//! switchable front that passes requests through or fails them (port closed, slow past the
//! timeout, an error status, garbage); corrupt policies are written into moto's table.
//! Every case starts on a cold function, asserts the answer and the logged reason during
//! the fault (never an allow), then that the same request is allowed again by the same
//! process once the fault clears, within a bound. The binary reads the real clock, so
//! recoveries take the real penalty/retry seconds: the cases of a matrix run concurrently,
//! each with its own function. Clock skew: tokens signed relative to the real clock, with
//! the exact boundary checked through the handler with an injected clock. The revocation
//! table (`REVOCATION_TABLE`) fails the same ways, answered per `revocation.whenUnavailable`:
//! `deny` refuses (403 `revocations_unavailable`) until a read succeeds, `stale` keeps the
//! last answer for `maxStaleSeconds` past its freshness, then refuses. Each test prints
//! its part of the matrix on stderr (uncaptured).

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use edge_authz_lambda::{Handler, Settings};
use serde_json::{json, Value};

/// `GRACE_SECONDS`.
const GRACE: u64 = 30;
/// `JWKS_TIMEOUT_MS` and `DYNAMODB_TIMEOUT_MS`, and how slow "slow" is.
const TIMEOUT_MS: u64 = 300;
const SLOW: Duration = Duration::from_secs(2);
/// A decision under a fault must come within this (the timeouts plus a loaded machine's slack).
const DECIDED_WITHIN: Duration = Duration::from_secs(3);
/// `jwksCache.penaltySeconds`: a failed fetch is retried this much later.
const JWKS_PENALTY: u64 = 1;
/// The core's fixed retry delay after a failed policy load (`RETRY_AFTER_FAILURE`, src/policies.rs).
const POLICY_RETRY: u64 = 5;
/// `POLICY_TTL_SECONDS`: an invalid policy denies for this long, then is reloaded.
const POLICY_TTL: u64 = 1;
const TABLE: &str = "auth-policy-store";
const PATH: &str = "/petstore/v1/pets";

// ---------------------------------------------------------------- a switchable front

type Responder = Arc<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;

/// What the front does with the next request.
#[derive(Clone)]
enum Fault {
    /// Passes requests through to the upstream.
    None,
    /// The port is closed: connections are refused.
    Down,
    /// Waits this long, then passes the request through.
    Slow(Duration),
    /// Answers itself.
    Answer(Responder),
}

fn answer(f: impl Fn(&HttpRequest) -> HttpResponse + Send + Sync + 'static) -> Fault {
    Fault::Answer(Arc::new(f))
}

struct FrontState {
    fault: Fault,
    /// Bumped by `set`; the accept loop acknowledges it in `applied`.
    generation: usize,
    applied: usize,
}

/// An HTTP front on loopback for one upstream (JWKS server, moto), one request per
/// connection, switched between passing through and a fault. `Down` closes the listening
/// socket; leaving it binds the same port again.
struct FaultFront {
    addr: SocketAddr,
    state: Arc<Mutex<FrontState>>,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl FaultFront {
    fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(FrontState {
            fault: Fault::None,
            generation: 0,
            applied: 0,
        }));
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, counted, stopped) = (state.clone(), hits.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut listener = Some(listener);
            while !stopped.load(Ordering::SeqCst) {
                let down = {
                    let mut s = shared.lock().unwrap();
                    let down = matches!(s.fault, Fault::Down);
                    if down {
                        listener = None;
                    } else if listener.is_none() {
                        // Rebinding the same port (std sets SO_REUSEADDR): retry until free.
                        match TcpListener::bind(addr) {
                            Ok(l) => {
                                l.set_nonblocking(true).unwrap();
                                listener = Some(l);
                            }
                            Err(_) => {
                                drop(s);
                                std::thread::sleep(Duration::from_millis(5));
                                continue;
                            }
                        }
                    }
                    s.applied = s.generation;
                    down
                };
                let accepted = listener.as_ref().filter(|_| !down).map(TcpListener::accept);
                match accepted {
                    Some(Ok((stream, _))) => {
                        let (state, hits) = (shared.clone(), counted.clone());
                        std::thread::spawn(move || relay(stream, upstream, &state, &hits));
                    }
                    _ => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Self {
            addr,
            state,
            hits,
            stop,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Switches the behaviour; returns once the port is closed / open as the fault says.
    fn set(&self, fault: Fault) {
        let generation = {
            let mut s = self.state.lock().unwrap();
            s.fault = fault;
            s.generation += 1;
            s.generation
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.state.lock().unwrap().applied < generation {
            assert!(Instant::now() < deadline, "the front did not switch");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for FaultFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// One request: read it, then answer per the fault of the moment it arrived.
fn relay(stream: TcpStream, upstream: SocketAddr, state: &Mutex<FrontState>, hits: &AtomicUsize) {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let Some(request) = read_request(&stream) else {
        return;
    };
    hits.fetch_add(1, Ordering::SeqCst);
    let fault = state.lock().unwrap().fault.clone();
    let response = match fault {
        Fault::Down => return, // accepted just before the port closed: drop it
        Fault::None => forward(&request, upstream),
        Fault::Slow(delay) => {
            std::thread::sleep(delay);
            forward(&request, upstream)
        }
        Fault::Answer(respond) => respond(&request),
    };
    let mut head = format!(
        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        response.status,
        response.body.len()
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&response.body);
    let _ = stream.flush();
}

fn read_request(stream: &TcpStream) -> Option<HttpRequest> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(HttpRequest {
        method,
        path,
        headers,
        body,
    })
}

/// Sends `request` upstream as HTTP/1.0 (no chunked answer, the connection closes after
/// it) and returns the upstream's answer; 502 if the upstream cannot be reached.
fn forward(request: &HttpRequest, upstream: SocketAddr) -> HttpResponse {
    let hop_by_hop = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "upgrade",
    ];
    let mut raw = format!("{} {} HTTP/1.0\r\n", request.method, request.path);
    for (name, value) in &request.headers {
        if !hop_by_hop.contains(&name.to_ascii_lowercase().as_str()) {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    raw.push_str("connection: close\r\n\r\n");
    let exchange = || -> std::io::Result<Vec<u8>> {
        let mut s = TcpStream::connect_timeout(&upstream, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.write_all(raw.as_bytes())?;
        s.write_all(&request.body)?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer)?;
        Ok(answer)
    };
    let Ok(answer) = exchange() else {
        return HttpResponse::text(502, "upstream unreachable");
    };
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer from upstream");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            assert_ne!(k, "transfer-encoding", "upstream answered HTTP/1.0 chunked");
            k != "content-length" && k != "connection" && k != "keep-alive"
        })
        .collect();
    HttpResponse {
        status,
        headers,
        body: answer[split + 4..].to_vec(),
    }
}

// ---------------------------------------------------------------- the function under test

#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// An IAM policy allowing the request (API Gateway: the request goes on).
    Allow,
    /// An IAM policy denying it (403).
    Deny,
    /// The error `Unauthorized` (401).
    Unauthorized,
    /// Any other error (500).
    Error(String),
}

/// One invocation: the function's answer and the reason it logged.
#[derive(Debug, Clone)]
struct Outcome {
    answer: Answer,
    reason: String,
    took: Duration,
}

impl Outcome {
    fn is(&self, answer: &Answer, reason: &str) -> bool {
        self.answer == *answer && self.reason == reason
    }
}

impl Outcome {
    /// `403 Deny jwks_unavailable`, `200 Allow`: what API Gateway does, and why.
    fn verdict(&self) -> String {
        match &self.answer {
            Answer::Allow if self.reason == "allowed" => "200 Allow".to_owned(),
            Answer::Allow => format!("200 Allow {}", self.reason),
            Answer::Deny => format!("403 Deny {}", self.reason),
            Answer::Unauthorized => format!("401 Unauthorized {}", self.reason),
            Answer::Error(e) => format!("500 {e} {}", self.reason),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} ms)", self.verdict(), self.took.as_millis())
    }
}

/// The `bootstrap` binary behind its own Runtime API emulator, init done.
struct Function {
    emulator: Emulator,
    bootstrap: Bootstrap,
}

impl Function {
    fn start(vars: &[(&str, String)]) -> Self {
        let emulator = Emulator::start();
        let bootstrap = Bootstrap::spawn(&emulator, vars);
        assert!(
            emulator.wait_ready(Duration::from_secs(20)),
            "no init: {}",
            bootstrap.logs()
        );
        Self {
            emulator,
            bootstrap,
        }
    }

    fn decisions(&self) -> Vec<Value> {
        self.bootstrap
            .logs()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["fields"]["event"] == "decision")
            .collect()
    }

    /// `GET /petstore/v1/pets` with `token`, from an address the policy does not restrict.
    fn call(&self, token: &str) -> Outcome {
        let seen = self.decisions().len();
        let started = Instant::now();
        let invocation =
            self.emulator
                .invoke(request_event(Some(token), "GET", PATH, "192.0.2.10"));
        let took = started.elapsed();
        let answer = match invocation {
            Invocation::Response(r) if policy_allows(&r, &format!("{ARN_PREFIX}/GET{PATH}")) => {
                Answer::Allow
            }
            Invocation::Response(r) => {
                assert_eq!(r["policyDocument"]["Statement"][0]["Effect"], "Deny", "{r}");
                Answer::Deny
            }
            Invocation::Error { error_type, .. } if error_type == "Unauthorized" => {
                Answer::Unauthorized
            }
            Invocation::Error { error_type, .. } => Answer::Error(error_type),
        };
        // The decision's log line: the log reader may trail the answer a little.
        let deadline = Instant::now() + Duration::from_secs(5);
        let reason = loop {
            if let Some(line) = self.decisions().get(seen) {
                break line["fields"]["reason"].as_str().unwrap_or("").to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no decision logged:\n{}",
                self.bootstrap.logs()
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        Outcome {
            answer,
            reason,
            took,
        }
    }

    /// After a fault clears: calls until allowed, each earlier answer being `during`'s;
    /// how long it took from the clearing.
    fn recovers(&self, token: &str, during: &Outcome, within: Duration) -> Duration {
        let cleared = Instant::now();
        loop {
            let outcome = self.call(token);
            if outcome.answer == Answer::Allow {
                return cleared.elapsed();
            }
            assert!(
                outcome.is(&during.answer, &during.reason),
                "while recovering: {outcome}, during the fault: {during}"
            );
            assert!(
                cleared.elapsed() < within,
                "not allowed again within {within:?}:\n{}",
                self.bootstrap.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    pairs
        .iter()
        .map(|(k, v)| {
            let k: &'static str = Box::leak((*k).to_owned().into_boxed_str());
            (k, (*v).to_owned())
        })
        .collect()
}

/// A token signed by suite key `kid` for `sub` in `groups`; `claims` override.
fn token_with(kid: &str, sub: &str, groups: &[&str], claims: &Value) -> String {
    let now = now();
    let mut all = json!({
        "sub": sub, "iss": ISS, "client_id": CLIENT, "token_use": "access",
        "username": sub, "cognito:groups": groups, "iat": now - 60, "exp": now + 3600,
    });
    for (name, value) in claims.as_object().unwrap() {
        all[name] = value.clone();
    }
    support::sign_token(&support::suite_keys(), kid, None, &all, false)
}

// ---------------------------------------------------------------- the matrix

type Row = [String; 3];
type Case<'a> = (String, Box<dyn FnOnce() -> Vec<Row> + Send + 'a>);

fn case<'a>(name: &str, run: impl FnOnce() -> Vec<Row> + Send + 'a) -> Case<'a> {
    (name.to_owned(), Box::new(run))
}

/// Runs `cases` concurrently (each builds its own function); prints the matrix, then fails
/// with every failed case.
fn run_matrix(title: &str, cases: Vec<Case<'_>>) {
    let results: Vec<(String, std::thread::Result<Vec<Row>>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .into_iter()
            .map(|(name, case)| (name, scope.spawn(case)))
            .collect();
        handles
            .into_iter()
            .map(|(name, handle)| (name, handle.join()))
            .collect()
    });
    let mut table = format!(
        "\nfault matrix: {title}\n| fault | outcome during the fault | recovery, same process (no restart) |\n| --- | --- | --- |\n"
    );
    let mut failed = Vec::new();
    for (name, result) in results {
        match result {
            Ok(rows) => {
                for row in rows {
                    table.push_str(&format!("| {} |\n", row.join(" | ")));
                }
            }
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                table.push_str(&format!(
                    "| {name} | FAILED | {} |\n",
                    why.lines().next().unwrap_or("")
                ));
                failed.push(format!("{name}: {why}"));
            }
        }
    }
    // Straight to stderr: the test harness captures `eprintln!`, not this.
    let _ = writeln!(std::io::stderr(), "{table}");
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// A fault on a cold function: the answer during the fault, then allowed again.
fn fault_case(
    function: &Function,
    token: &str,
    inject: impl FnOnce(),
    clear: impl FnOnce(),
    reason: &str,
    within: Duration,
) -> (Outcome, Duration) {
    inject();
    let during = function.call(token);
    assert!(
        during.is(&Answer::Deny, reason),
        "during the fault: {during} (expected 403 Deny {reason})"
    );
    assert!(during.took < DECIDED_WITHIN, "decided in {:?}", during.took);
    // Still failing: the same answer again, never an allow.
    let again = function.call(token);
    assert!(again.is(&Answer::Deny, reason), "again: {again}");
    clear();
    let took = function.recovers(token, &during, within);
    (during, took)
}

fn jwks_function(jwks_url: &str, policies: &std::path::Path, extra: &[(&str, &str)]) -> Function {
    let mut v = vars(&[
        ("USER_POOL_ID", POOL),
        ("CLIENT_IDS", CLIENT),
        ("JWKS_URI", jwks_url),
        ("POLICIES_FILE", &policies.display().to_string()),
        ("JWKS_TIMEOUT_MS", &TIMEOUT_MS.to_string()),
        ("GRACE_SECONDS", &GRACE.to_string()),
        (
            "CONFIG",
            &json!({"jwksCache": {"penaltySeconds": JWKS_PENALTY}}).to_string(),
        ),
    ]);
    v.extend(vars(extra));
    Function::start(&v)
}

fn bundled_policies() -> std::path::PathBuf {
    temp_file(
        "policies.json",
        json!({ "pet-veterinarian": vet_policy() })
            .to_string()
            .as_bytes(),
    )
}

#[test]
fn jwks_faults_then_recovery() {
    let policies = bundled_policies();
    let policies = policies.as_path();
    let faults: Vec<(&str, Fault)> = vec![
        ("JWKS down (port closed)", Fault::Down),
        ("JWKS slow (2 s, JWKS_TIMEOUT_MS 300)", Fault::Slow(SLOW)),
        (
            "JWKS 500",
            answer(|_| HttpResponse::text(500, "internal error")),
        ),
        (
            "JWKS garbage (200, HTML)",
            answer(|_| HttpResponse::text(200, "<html>not a key set</html>")),
        ),
    ];
    let mut cases: Vec<Case<'_>> = faults
        .into_iter()
        .map(|(name, fault)| {
            case(name, move || {
                let jwks = JwksServer::start(&["suite-rsa-1"]);
                let front = FaultFront::start(jwks.server.addr);
                let function = jwks_function(&front.url("/.well-known/jwks.json"), policies, &[]);
                let token = token_with(
                    "suite-rsa-1",
                    "jwks-fault",
                    &["pet-veterinarian"],
                    &json!({}),
                );
                let within = Duration::from_secs(JWKS_PENALTY + 4);
                let (during, took) = fault_case(
                    &function,
                    &token,
                    || front.set(fault),
                    || front.set(Fault::None),
                    "jwks_unavailable",
                    within,
                );
                assert!(front.hits() >= 1 || name.contains("down"));
                vec![[
                    name.to_owned(),
                    during.to_string(),
                    format!(
                        "200 Allow {:.1} s after clearing (refetch penalty {JWKS_PENALTY} s)",
                        took.as_secs_f64()
                    ),
                ]]
            })
        })
        .collect();
    cases.push(case("JWKS rotates mid-traffic", || rotation(policies)));
    run_matrix("AWS Lambda authorizer (bootstrap binary): JWKS", cases);
}

/// The issuer rotates: a token of a key it has not published yet is denied; once it is
/// published (the old key retired) it is allowed with one refetch; the retired key's tokens
/// are denied, fresh ones and one verified (and cached) before the retirement alike: the
/// refresh that drops a key clears the core's caches (src/authorizer.rs, `jwks_fetched`).
fn rotation(policies: &std::path::Path) -> Vec<Row> {
    let jwks = JwksServer::start(&["suite-rsa-1"]);
    let function = jwks_function(&jwks.url(), policies, &[]);
    let seen = token_with(
        "suite-rsa-1",
        "before-rotation",
        &["pet-veterinarian"],
        &json!({}),
    );
    assert_eq!(function.call(&seen).answer, Answer::Allow, "steady traffic");
    let early = token_with("suite-rsa-2", "new-key", &["pet-veterinarian"], &json!({}));
    let refused = function.call(&early);
    assert!(refused.is(&Answer::Deny, "unknown_kid"), "{refused}");
    jwks.set(&["suite-rsa-2"]); // rsa-2 in, rsa-1 retired
    let before = jwks.fetches();
    let took = function.recovers(&early, &refused, Duration::from_secs(JWKS_PENALTY + 4));
    assert_eq!(jwks.fetches(), before + 1, "one refetch for the new kid");
    let retired = function.call(&token_with(
        "suite-rsa-1",
        "after-rotation",
        &["pet-veterinarian"],
        &json!({}),
    ));
    assert!(retired.is(&Answer::Deny, "unknown_kid"), "{retired}");
    // Allowed before the retirement (its verification cached), refused after the refresh.
    let replayed = function.call(&seen);
    assert!(
        replayed.is(&Answer::Deny, "unknown_kid"),
        "a token verified before its key was retired: {replayed}"
    );
    vec![[
        "JWKS rotates mid-traffic".to_owned(),
        format!("{refused} before the key is published"),
        format!(
            "200 Allow {:.1} s after publishing (1 refetch); retired key: fresh token {}, token seen before {}",
            took.as_secs_f64(),
            retired,
            replayed,
        ),
    ]]
}

// ---------------------------------------------------------------- DynamoDB

/// A DynamoDB JSON error answer.
fn dynamodb_error(status: u16, kind: &str, message: &str) -> HttpResponse {
    let mut r = HttpResponse::json(
        status,
        &json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message}),
    );
    r.headers = vec![("content-type".into(), "application/x-amz-json-1.0".into())];
    r
}

/// `BatchGetItem` answered with every key left unprocessed (as under throttling).
fn unprocessed(request: &HttpRequest) -> HttpResponse {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let keys = body["RequestItems"][TABLE]["Keys"].clone();
    let mut r = HttpResponse::json(
        200,
        &json!({"Responses": {TABLE: []}, "UnprocessedKeys": {TABLE: {"Keys": keys}}}),
    );
    r.headers = vec![("content-type".into(), "application/x-amz-json-1.0".into())];
    r
}

fn put_policy(endpoint: &str, group: &str, policy: &Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = dynamodb_client(endpoint);
    rt.block_on(async {
        client
            .put_item()
            .table_name(TABLE)
            .item(
                "group",
                aws_sdk_dynamodb::types::AttributeValue::S(group.to_owned()),
            )
            .item("policy", attribute(policy))
            .send()
            .await
            .expect("put item");
    });
}

fn table_function(endpoint: &str, jwks: &std::path::Path) -> Function {
    Function::start(&vars(&[
        ("USER_POOL_ID", POOL),
        ("CLIENT_IDS", CLIENT),
        // Nothing listens there: the bundled JWKS is all the function needs.
        ("JWKS_URI", "http://127.0.0.1:9/jwks.json"),
        ("JWKS_FILE", &jwks.display().to_string()),
        ("POLICY_TABLE", TABLE),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
        ("DYNAMODB_TIMEOUT_MS", &TIMEOUT_MS.to_string()),
        ("POLICY_TTL_SECONDS", &POLICY_TTL.to_string()),
    ]))
}

#[test]
#[ignore = "needs moto_server: run by `make lambda-test`"]
fn dynamodb_faults_then_recovery() {
    let moto = Moto::start();
    let endpoint = moto.endpoint.as_str();
    let upstream: SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    let items: serde_json::Map<String, Value> =
        ["pet-veterinarian", "corrupt-text", "corrupt-policy"]
            .iter()
            .map(|g| ((*g).to_owned(), vet_policy()))
            .collect();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(seed_table(&dynamodb_client(endpoint), TABLE, &items));
    let jwks = temp_file("jwks.json", &jwks_of(&["suite-rsa-1"]));
    let jwks = jwks.as_path();

    // Faults of the service, through the front: a failed load, retried POLICY_RETRY s later.
    let service_faults: Vec<(&str, Fault)> = vec![
        ("DynamoDB down (port closed)", Fault::Down),
        (
            "DynamoDB slow (2 s, DYNAMODB_TIMEOUT_MS 300)",
            Fault::Slow(SLOW),
        ),
        (
            "DynamoDB throttled (400 ProvisionedThroughputExceededException)",
            answer(|_| {
                dynamodb_error(
                    400,
                    "ProvisionedThroughputExceededException",
                    "Rate exceeded",
                )
            }),
        ),
        (
            "DynamoDB throttled (UnprocessedKeys every round)",
            answer(unprocessed),
        ),
        (
            "DynamoDB corrupt answer (200, not JSON)",
            answer(|_| {
                let mut r = HttpResponse::text(200, "<html>not DynamoDB</html>");
                r.headers = vec![("content-type".into(), "application/x-amz-json-1.0".into())];
                r
            }),
        ),
    ];
    let mut cases: Vec<Case<'_>> = service_faults
        .into_iter()
        .map(|(name, fault)| {
            case(name, move || {
                let front = FaultFront::start(upstream);
                let function = table_function(&front.url(""), jwks);
                let token = token_with("suite-rsa-1", "store-fault", &["pet-veterinarian"], &json!({}));
                let (during, took) = fault_case(
                    &function,
                    &token,
                    || front.set(fault),
                    || front.set(Fault::None),
                    "policies_unavailable",
                    Duration::from_secs(POLICY_RETRY + 4),
                );
                vec![[
                    name.to_owned(),
                    during.to_string(),
                    format!(
                        "200 Allow {:.1} s after clearing (the core's retry after a failed load, {POLICY_RETRY} s)",
                        took.as_secs_f64()
                    ),
                ]]
            })
        })
        .collect();

    // Corrupt items in the table: the group's callers are denied until the TTL, then reloaded.
    let corrupt_items = [
        (
            "DynamoDB corrupt item (policy not JSON)",
            "corrupt-text",
            json!("{ this is not json"),
        ),
        (
            "DynamoDB corrupt item (policy fails validation)",
            "corrupt-policy",
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "execute-api:Invoke", "Resource": "*"}]}),
        ),
    ];
    for (name, group, corrupt) in corrupt_items {
        cases.push(case(name, move || {
            let function = table_function(endpoint, jwks);
            let token = token_with("suite-rsa-1", "corrupt-item", &[group], &json!({}));
            let (during, took) = fault_case(
                &function,
                &token,
                || put_policy(endpoint, group, &corrupt),
                || put_policy(endpoint, group, &vet_policy()),
                "invalid_policy",
                Duration::from_secs(POLICY_TTL + 4),
            );
            assert!(function
                .bootstrap
                .logs_once_containing("policy_invalid")
                .contains("policy_invalid"));
            vec![[
                name.to_owned(),
                during.to_string(),
                format!(
                    "200 Allow {:.1} s after fixing the item (POLICY_TTL_SECONDS {POLICY_TTL})",
                    took.as_secs_f64()
                ),
            ]]
        }));
    }
    run_matrix("AWS Lambda authorizer (bootstrap binary): DynamoDB", cases);
}

// ---------------------------------------------------------------- the revocation table

/// `revocation.freshnessSeconds` and `maxStaleSeconds` of the revocation matrix.
const REVOCATION_FRESHNESS: u64 = 1;
const REVOCATION_MAX_STALE: u64 = 3;
/// The core's retry delay after a failed revocation read (`RETRY_AFTER_FAILURE`,
/// src/revocation.rs).
const REVOCATION_RETRY: u64 = 5;

fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// `BatchGetItem` answered with every key of every table left unprocessed.
fn all_unprocessed(request: &HttpRequest) -> HttpResponse {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let items = body["RequestItems"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let responses: serde_json::Map<String, Value> =
        items.keys().map(|t| (t.clone(), json!([]))).collect();
    let unprocessed: serde_json::Map<String, Value> = items
        .iter()
        .map(|(t, k)| (t.clone(), json!({"Keys": k["Keys"]})))
        .collect();
    let mut r = HttpResponse::json(
        200,
        &json!({"Responses": responses, "UnprocessedKeys": unprocessed}),
    );
    r.headers = vec![("content-type".into(), "application/x-amz-json-1.0".into())];
    r
}

/// Bundled policies, revocation records from `table` through `endpoint`.
fn revocation_function(
    endpoint: &str,
    table: &str,
    mode: &str,
    jwks: &std::path::Path,
    policies: &std::path::Path,
) -> Function {
    let config = json!({"revocation": {
        "freshnessSeconds": REVOCATION_FRESHNESS,
        "whenUnavailable": mode,
        "maxStaleSeconds": REVOCATION_MAX_STALE,
    }});
    Function::start(&vars(&[
        ("USER_POOL_ID", POOL),
        ("CLIENT_IDS", CLIENT),
        ("JWKS_URI", "http://127.0.0.1:9/jwks.json"),
        ("JWKS_FILE", &jwks.display().to_string()),
        ("POLICIES_FILE", &policies.display().to_string()),
        ("REVOCATION_TABLE", table),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
        ("DYNAMODB_TIMEOUT_MS", &TIMEOUT_MS.to_string()),
        ("CONFIG", &config.to_string()),
        // API Gateway's TTL past the freshness: allowed, with a warning at init.
        ("AUTHORIZER_CACHE_TTL", "60"),
    ]))
}

/// Stale mode: a caller read before the fault is allowed past its freshness, until
/// `maxStaleSeconds`; then refused; allowed again once reads succeed.
fn stale_case(
    function: &Function,
    token: &str,
    inject: impl FnOnce(),
    clear: impl FnOnce(),
) -> (Outcome, Outcome, Duration) {
    let read = function.call(token);
    assert_eq!(read.answer, Answer::Allow, "before the fault: {read}");
    let read_at = Instant::now();
    inject();
    // Past the freshness: the read fails, the last answer holds.
    std::thread::sleep(Duration::from_millis(REVOCATION_FRESHNESS * 1000 + 1100));
    let stale = function.call(token);
    assert!(
        stale.is(&Answer::Allow, "allowed"),
        "within maxStaleSeconds: {stale}"
    );
    assert!(stale.took < DECIDED_WITHIN, "decided in {:?}", stale.took);
    // Past freshness + maxStaleSeconds: refused, never allowed from a cache.
    let beyond = Duration::from_secs(REVOCATION_FRESHNESS + REVOCATION_MAX_STALE + 1);
    loop {
        let outcome = function.call(token);
        if read_at.elapsed() >= beyond {
            assert!(
                outcome.is(&Answer::Deny, "revocations_unavailable"),
                "beyond freshness + maxStaleSeconds: {outcome}"
            );
            clear();
            let took =
                function.recovers(token, &outcome, Duration::from_secs(REVOCATION_RETRY + 4));
            return (stale, outcome, took);
        }
        assert!(
            outcome.answer == Answer::Allow || outcome.is(&Answer::Deny, "revocations_unavailable"),
            "{outcome}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
#[ignore = "needs moto_server: run by `make lambda-test`"]
fn revocation_table_faults_then_recovery() {
    let moto = Moto::start();
    let endpoint = moto.endpoint.as_str();
    let upstream: SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    let jwks = temp_file("jwks.json", &jwks_of(&["suite-rsa-1"]));
    let policies = bundled_policies();
    let (jwks, policies) = (jwks.as_path(), policies.as_path());
    let client = dynamodb_client(endpoint);

    #[derive(Clone)]
    enum Failure {
        Front(Fault),
        /// REVOCATION_TABLE names a table that does not exist (deleted, then created again).
        MissingTable,
    }
    let failures: Vec<(&str, Failure)> = vec![
        (
            "throttled (400 ProvisionedThroughputExceededException)",
            Failure::Front(answer(|_| {
                dynamodb_error(
                    400,
                    "ProvisionedThroughputExceededException",
                    "Rate exceeded",
                )
            })),
        ),
        (
            "throttled (UnprocessedKeys every round)",
            Failure::Front(answer(all_unprocessed)),
        ),
        (
            "slow (2 s, DYNAMODB_TIMEOUT_MS 300)",
            Failure::Front(Fault::Slow(SLOW)),
        ),
        (
            "missing table (ResourceNotFoundException)",
            Failure::MissingTable,
        ),
    ];
    let mut cases: Vec<Case<'_>> = Vec::new();
    for (n, (name, failure)) in failures.into_iter().enumerate() {
        for mode in ["deny", "stale"] {
            let (failure, client) = (failure.clone(), client.clone());
            let row = format!("revocation table {name}, whenUnavailable {mode}");
            cases.push(case(&row.clone(), move || {
                let table = format!("revocations-{n}-{mode}");
                block(revocations::create_table(&client, &table));
                let front = FaultFront::start(upstream);
                let function = revocation_function(&front.url(""), &table, mode, jwks, policies);
                let ttl_warning = |w: &Value| {
                    w["warning"]
                        .as_str()
                        .is_some_and(|w| w.contains("AUTHORIZER_CACHE_TTL=60"))
                };
                let warned = function.bootstrap.wait_log_event("config_warning", ttl_warning);
                assert!(
                    warned.iter().any(ttl_warning),
                    "the TTL past the freshness is logged at init: {warned:?}"
                );
                let token = token_with("suite-rsa-1", &format!("rev-{n}-{mode}"), &["pet-veterinarian"], &json!({"jti": format!("jti-{n}-{mode}")}));
                let inject = || match &failure {
                    Failure::Front(fault) => front.set(fault.clone()),
                    Failure::MissingTable => block(revocations::drop_table(&client, &table)),
                };
                let clear = || match &failure {
                    Failure::Front(_) => front.set(Fault::None),
                    Failure::MissingTable => block(revocations::create_table(&client, &table)),
                };
                if mode == "deny" {
                    let (during, took) = fault_case(
                        &function,
                        &token,
                        inject,
                        clear,
                        "revocations_unavailable",
                        Duration::from_secs(REVOCATION_RETRY + 4),
                    );
                    vec![[
                        row,
                        during.to_string(),
                        format!(
                            "200 Allow {:.1} s after clearing (the core's retry after a failed read, {REVOCATION_RETRY} s)",
                            took.as_secs_f64()
                        ),
                    ]]
                } else {
                    let (stale, refused, took) = stale_case(&function, &token, inject, clear);
                    vec![[
                        row,
                        format!(
                            "{stale} while the last read is within freshness {REVOCATION_FRESHNESS} s + maxStaleSeconds {REVOCATION_MAX_STALE} s, then {refused}"
                        ),
                        format!("200 Allow {:.1} s after clearing", took.as_secs_f64()),
                    ]]
                }
            }));
        }
    }
    run_matrix(
        "AWS Lambda authorizer (bootstrap binary): the revocation table",
        cases,
    );
}

// ---------------------------------------------------------------- clock skew

#[test]
fn clock_skew_at_the_grace_boundary() {
    let policies = bundled_policies();
    let jwks = temp_file("jwks.json", &jwks_of(&["suite-rsa-1"]));
    let (policies, jwks) = (policies.as_path(), jwks.as_path());
    run_matrix(
        &format!("AWS Lambda authorizer: clock skew (GRACE_SECONDS {GRACE})"),
        vec![
            case("binary, real clock", || {
                skew_through_the_binary(policies, jwks)
            }),
            case("handler, injected clock", || {
                skew_through_the_handler(policies, jwks)
            }),
        ],
    );
}

fn skew_vars<'a>(policies: &'a str, jwks: &'a str, grace: &'a str) -> [(&'a str, &'a str); 6] {
    [
        ("USER_POOL_ID", POOL),
        ("CLIENT_IDS", CLIENT),
        ("JWKS_URI", "http://127.0.0.1:9/jwks.json"),
        ("JWKS_FILE", jwks),
        ("POLICIES_FILE", policies),
        ("GRACE_SECONDS", grace),
    ]
}

/// The binary reads the real clock: tokens are signed relative to it. The boundary itself
/// is checked where the clock can only help (`exp + grace = now` is expired and
/// `nbf = now + grace` accepted whenever the call happens); the other side with a margin of
/// `MARGIN` seconds, after which the same token must flip.
fn skew_through_the_binary(policies: &std::path::Path, jwks: &std::path::Path) -> Vec<Row> {
    const MARGIN: u64 = 3;
    let (p, j, g) = (
        policies.display().to_string(),
        jwks.display().to_string(),
        GRACE.to_string(),
    );
    let function = Function::start(&vars(&skew_vars(&p, &j, &g)));
    let warm = token_with("suite-rsa-1", "warm", &["pet-veterinarian"], &json!({}));
    assert_eq!(function.call(&warm).answer, Answer::Allow, "warm-up");
    let sign =
        |sub: &str, claims: Value| token_with("suite-rsa-1", sub, &["pet-veterinarian"], &claims);
    let allow = || (Answer::Allow, "allowed");
    let deny = |reason| (Answer::Deny, reason);
    for attempt in 1..=3 {
        let t = now();
        // (name, token, first answer, answer once MARGIN s have passed)
        let cases = [
            (
                "exp + grace = now",
                sign("exp-at", json!({"exp": t - GRACE})),
                deny("expired"),
                deny("expired"),
            ),
            (
                "nbf = now + grace",
                sign("nbf-at", json!({"nbf": t + GRACE})),
                allow(),
                allow(),
            ),
            (
                "iat = now + grace",
                sign("iat-at", json!({"iat": t + GRACE})),
                allow(),
                allow(),
            ),
            (
                "exp + grace = now + 3",
                sign("exp-in", json!({"exp": t - GRACE + MARGIN})),
                allow(),
                deny("expired"),
            ),
            (
                "nbf = now + grace + 3",
                sign("nbf-out", json!({"nbf": t + GRACE + MARGIN})),
                deny("not_yet_valid"),
                allow(),
            ),
            (
                "iat = now + grace + 3",
                sign(
                    "iat-out",
                    json!({"iat": t + GRACE + MARGIN, "exp": t + 3600}),
                ),
                deny("issued_in_future"),
                allow(),
            ),
        ];
        let first: Vec<Outcome> = cases.iter().map(|c| function.call(&c.1)).collect();
        if now() >= t + MARGIN {
            assert!(
                attempt < 3,
                "the calls took more than {MARGIN} s three times"
            );
            continue;
        }
        for (c, got) in cases.iter().zip(&first) {
            assert!(got.is(&c.2 .0, c.2 .1), "{}: {got}", c.0);
        }
        // The margin passes: the same tokens flip, in the same process.
        let mut flipped: Vec<Option<u64>> = vec![None; cases.len()];
        let deadline = Instant::now() + Duration::from_secs(MARGIN + 4);
        while flipped
            .iter()
            .zip(&cases)
            .any(|(f, c)| f.is_none() && c.2 != c.3)
        {
            assert!(
                Instant::now() < deadline,
                "tokens did not flip: {flipped:?}"
            );
            std::thread::sleep(Duration::from_millis(250));
            for (i, c) in cases.iter().enumerate() {
                if flipped[i].is_some() || c.2 == c.3 {
                    continue;
                }
                let got = function.call(&c.1);
                if got.is(&c.3 .0, c.3 .1) {
                    flipped[i] = Some(now() - t);
                } else {
                    assert!(got.is(&c.2 .0, c.2 .1), "{}: {got} before flipping", c.0);
                }
            }
        }
        let at = |i: usize| flipped[i].map_or_else(String::new, |s| format!("t+{s}s"));
        let show = |i: usize| first[i].verdict();
        return vec![
            [
                "exp at the grace boundary (binary, real clock)".to_owned(),
                format!(
                    "exp+grace = now: {}; exp+grace = now+{MARGIN}: {}",
                    show(0),
                    show(3)
                ),
                format!(
                    "the same token: 403 Deny expired at {} (when exp+grace passes)",
                    at(3)
                ),
            ],
            [
                "nbf at the grace boundary (binary, real clock)".to_owned(),
                format!(
                    "nbf = now+grace: {}; nbf = now+grace+{MARGIN}: {}",
                    show(1),
                    show(4)
                ),
                format!("the same token: 200 Allow at {}", at(4)),
            ],
            [
                "iat at the grace boundary (binary, real clock)".to_owned(),
                format!(
                    "iat = now+grace: {}; iat = now+grace+{MARGIN}: {}",
                    show(2),
                    show(5)
                ),
                format!("the same token: 200 Allow at {}", at(5)),
            ],
        ];
    }
    unreachable!()
}

/// The binary's handler with the clock injected: each side of the boundary, to the second.
fn skew_through_the_handler(policies: &std::path::Path, jwks: &std::path::Path) -> Vec<Row> {
    const T: u64 = 1_767_225_600;
    let (p, j, g) = (
        policies.display().to_string(),
        jwks.display().to_string(),
        GRACE.to_string(),
    );
    let vars: BTreeMap<String, String> = skew_vars(&p, &j, &g)
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _runtime = rt.enter();
    let handler = Handler::new(Settings::from_vars(&vars).unwrap(), None, T).unwrap();
    let decide = |token: &str, now: u64| {
        rt.block_on(handler.handle(request_event(Some(token), "GET", PATH, "192.0.2.10"), now))
            .reason()
    };
    let sign = |sub: &str, claims: Value| {
        let mut all = json!({"iat": T - 60, "exp": T + 3600});
        for (k, v) in claims.as_object().unwrap() {
            all[k] = v.clone();
        }
        token_with("suite-rsa-1", sub, &["pet-veterinarian"], &all)
    };
    let last_second = sign("exp-inside", json!({"exp": T - GRACE + 1}));
    assert_eq!(decide(&last_second, T), "allowed", "exp + grace = now + 1");
    assert_eq!(
        decide(&last_second, T + 1),
        "expired",
        "the same token, exp + grace = now"
    );
    assert_eq!(
        decide(&sign("exp-at", json!({"exp": T - GRACE})), T),
        "expired"
    );
    let mut rows = vec![[
        "exp at the grace boundary (handler, injected clock)".to_owned(),
        "exp+grace = now: 403 Deny expired; exp+grace = now+1: 200 Allow".to_owned(),
        "n/a: the same token flips to 403 expired the next second".to_owned(),
    ]];
    for (claim, reason) in [("nbf", "not_yet_valid"), ("iat", "issued_in_future")] {
        assert_eq!(
            decide(&sign(&format!("{claim}-at"), json!({claim: T + GRACE})), T),
            "allowed",
            "{claim} = now + grace"
        );
        let ahead = sign(&format!("{claim}-past"), json!({claim: T + GRACE + 1}));
        assert_eq!(decide(&ahead, T), reason, "{claim} = now + grace + 1");
        assert_eq!(
            decide(&ahead, T + 1),
            "allowed",
            "the same token a second later"
        );
        rows.push([
            format!("{claim} at the grace boundary (handler, injected clock)"),
            format!("{claim} = now+grace: 200 Allow; now+grace+1: 403 Deny {reason}"),
            "the same token: 200 Allow one second later".to_owned(),
        ]);
    }
    rows
}
