//! Real parts for the Lambda tests, all on 127.0.0.1: a tiny HTTP server (JWKS endpoint,
//! fault-injecting DynamoDB stand-ins, the Lambda Runtime API emulator), moto's DynamoDB
//! server, the suite's keys and token signing.
#![allow(dead_code, unreachable_pub)]

#[path = "../../../tests/support/mod.rs"]
pub mod support;

pub mod iam;
pub mod revocations;

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use serde_json::{json, Value};

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---------------------------------------------------------------- HTTP server

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body).unwrap(),
        }
    }
    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }
}

type Route = Arc<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;

/// A thread-per-connection HTTP/1.1 server (`Connection: close`), stopped on drop.
pub struct HttpServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl HttpServer {
    pub fn start(route: impl Fn(&HttpRequest) -> HttpResponse + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let route: Route = Arc::new(route);
        let stopped = stop.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let route = route.clone();
                        std::thread::spawn(move || serve(stream, &route));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Self { addr, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(stream: TcpStream, route: &Route) {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = HttpRequest {
        method,
        path,
        headers,
        body,
    };
    let response = route(&request);
    let mut out = format!(
        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        response.status,
        response.body.len()
    );
    for (k, v) in &response.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&response.body);
    let _ = stream.flush();
}

// ---------------------------------------------------------------- JWKS endpoint

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksFault {
    None,
    Status500,
    Garbage,
    Slow(Duration),
}

pub struct JwksState {
    pub served: Vec<String>,
    pub fault: JwksFault,
    pub fetches: usize,
}

/// Serves the suite keys named in `served` as a JWKS at any path; counts fetches.
pub struct JwksServer {
    pub server: HttpServer,
    pub state: Arc<Mutex<JwksState>>,
}

impl JwksServer {
    pub fn start(served: &[&str]) -> Self {
        let state = Arc::new(Mutex::new(JwksState {
            served: served.iter().map(|s| (*s).to_owned()).collect(),
            fault: JwksFault::None,
            fetches: 0,
        }));
        let shared = state.clone();
        let keys = Arc::new(support::suite_keys());
        let server = HttpServer::start(move |_req| {
            let (served, fault) = {
                let mut s = shared.lock().unwrap();
                s.fetches += 1;
                (s.served.clone(), s.fault)
            };
            match fault {
                JwksFault::None => HttpResponse {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: support::jwks_document(&keys, &served),
                },
                JwksFault::Status500 => HttpResponse::text(500, "internal error"),
                JwksFault::Garbage => HttpResponse::text(200, "<html>not a key set</html>"),
                JwksFault::Slow(delay) => {
                    std::thread::sleep(delay);
                    HttpResponse {
                        status: 200,
                        headers: vec![],
                        body: support::jwks_document(&keys, &served),
                    }
                }
            }
        });
        Self { server, state }
    }
    pub fn url(&self) -> String {
        self.server.url("/.well-known/jwks.json")
    }
    pub fn set(&self, served: &[&str]) {
        self.state.lock().unwrap().served = served.iter().map(|s| (*s).to_owned()).collect();
    }
    pub fn fault(&self, fault: JwksFault) {
        self.state.lock().unwrap().fault = fault;
    }
    pub fn fetches(&self) -> usize {
        self.state.lock().unwrap().fetches
    }
    pub fn take_fetches(&self) -> usize {
        std::mem::take(&mut self.state.lock().unwrap().fetches)
    }
}

// ---------------------------------------------------------------- tokens

pub const POOL: &str = "us-east-1_SuitePool1";
pub const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_SuitePool1";
pub const CLIENT: &str = "suite-client";
pub const ARN_PREFIX: &str = "arn:aws:execute-api:us-east-1:123456789012:petstore1/prod";

/// A Cognito access token for `groups`, signed by suite key `kid`, valid for an hour.
pub fn access_token(kid: &str, groups: &[&str], now: u64) -> String {
    let keys = support::suite_keys();
    let claims = json!({
        "sub": "a1b2c3d4-0000-4000-8000-000000000001",
        "iss": ISS,
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "iat": now - 60,
        "exp": now + 3600,
        "username": "cognitouser",
        "cognito:groups": groups,
    });
    support::sign_token(&keys, kid, None, &claims, false)
}

pub fn jwks_of(kids: &[&str]) -> Vec<u8> {
    let keys = support::suite_keys();
    let kids: Vec<String> = kids.iter().map(|k| (*k).to_owned()).collect();
    support::jwks_document(&keys, &kids)
}

/// The seed's policy for `pet-veterinarian` (without the IP condition).
pub fn vet_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "PetStore-API", "Effect": "Allow", "Action": "execute-api:Invoke",
        "Resource": ["arn:aws:execute-api:*:*:*/*/*/petstore/v1/*", "arn:aws:execute-api:*:*:*/*/GET/petstore/v2/status"]}]})
}

// ---------------------------------------------------------------- API Gateway events

pub fn token_event(token: Option<&str>, method: &str, path: &str) -> Value {
    let mut e = json!({"type": "TOKEN", "methodArn": format!("{ARN_PREFIX}/{method}{path}")});
    if let Some(t) = token {
        e["authorizationToken"] = json!(format!("Bearer {t}"));
    }
    e
}

pub fn request_event(token: Option<&str>, method: &str, path: &str, source_ip: &str) -> Value {
    let mut headers = serde_json::Map::new();
    headers.insert(
        "Host".into(),
        json!("petstore1.execute-api.us-east-1.amazonaws.com"),
    );
    if let Some(t) = token {
        headers.insert("Authorization".into(), json!(format!("Bearer {t}")));
    }
    let multi: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    json!({
        "type": "REQUEST",
        "methodArn": format!("{ARN_PREFIX}/{method}{path}"),
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {"proxy": path.trim_start_matches('/')},
        "stageVariables": {},
        "requestContext": {
            "path": format!("/prod{path}"), "accountId": "123456789012", "resourceId": "abc123", "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "resourcePath": "/{proxy+}", "httpMethod": method,
            "apiId": "petstore1", "identity": {"sourceIp": source_ip, "userAgent": "curl/8.0"}
        }
    })
}

pub fn http_v1_event(token: Option<&str>, method: &str, path: &str, source_ip: &str) -> Value {
    let mut e = request_event(token, method, path, source_ip);
    e["version"] = json!("1.0");
    e["identitySource"] = json!(token.map(|t| format!("Bearer {t}")).unwrap_or_default());
    e["authorizationToken"] = e["identitySource"].clone();
    e
}

pub fn http_v2_event(token: Option<&str>, method: &str, path: &str, source_ip: &str) -> Value {
    let mut headers = serde_json::Map::new();
    headers.insert(
        "host".into(),
        json!("petstore1.execute-api.us-east-1.amazonaws.com"),
    );
    headers.insert("user-agent".into(), json!("curl/8.0"));
    if let Some(t) = token {
        headers.insert("authorization".into(), json!(format!("Bearer {t}")));
    }
    json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": format!("{ARN_PREFIX}/{method}{path}"),
        "identitySource": token.map(|t| vec![format!("Bearer {t}")]).unwrap_or_default(),
        "routeKey": "ANY /{proxy+}",
        "rawPath": path,
        "rawQueryString": "",
        "cookies": [],
        "headers": headers,
        "queryStringParameters": {},
        "requestContext": {
            "accountId": "123456789012", "apiId": "petstore1", "domainName": "petstore1.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "petstore1",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip, "userAgent": "curl/8.0"},
            "requestId": "id", "routeKey": "ANY /{proxy+}", "stage": "prod", "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390u64
        },
        "pathParameters": {"proxy": path.trim_start_matches('/')},
        "stageVariables": {}
    })
}

/// Whether an IAM-policy response allows `arn`, as API Gateway evaluates it (`iam::allows`:
/// Deny wins, `*`/`?` over the whole ARN, in time linear in the ARN's length).
pub fn policy_allows(response: &Value, arn: &str) -> bool {
    iam::allows(&response["policyDocument"], arn)
}

// ---------------------------------------------------------------- moto (DynamoDB API)

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// moto's server on 127.0.0.1 (from `make lambda-test`'s venv, or `$MOTO_SERVER`).
pub struct Moto {
    pub endpoint: String,
    child: Option<Child>,
}

impl Moto {
    pub fn start() -> Self {
        let exe = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/lambda-venv/bin/moto_server"));
        assert!(
            exe.exists(),
            "{} not found: run `make lambda-test` (it installs moto[server])",
            exe.display()
        );
        // moto binds port 0 itself and prints the port it got. Picking a free port here and
        // handing it over would leave a window in which another test's listener can take it:
        // the readiness probe then reaches that listener, and requests meant for this moto go
        // to another test's (a CI failure: connection refused once that listener closed).
        let mut child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start moto_server");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        // Werkzeug logs every request to stderr: keep draining it, or moto blocks on a full pipe.
        std::thread::spawn(move || {
            let mut port_tx = Some(port_tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .split_once("Running on http://127.0.0.1:")
                    .and_then(|(_, port)| port.trim().parse::<u16>().ok())
                {
                    if let Some(tx) = port_tx.take() {
                        let _ = tx.send(port);
                    }
                }
            }
        });
        let port = match port_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!("moto_server did not report its port within 30 s");
            }
        };
        TcpStream::connect(("127.0.0.1", port))
            .expect("moto_server listens on the port it reported");
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        }
    }

    /// Stops the server (DynamoDB "down").
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(2))
                .connect_timeout(Duration::from_secs(1))
                .build(),
        )
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::standard().with_max_attempts(2))
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

pub fn attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(attribute).collect()),
        Value::Object(map) => {
            AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), attribute(v))).collect())
        }
    }
}

/// Creates the seed's table (`group` S hash key) and puts `items` (group → policy: a JSON
/// object is stored as a map, a string as a string; null → no item).
pub async fn seed_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    items: &serde_json::Map<String, Value>,
) {
    client
        .create_table()
        .table_name(table)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("group")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("group")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    for (group, policy) in items {
        if policy.is_null() {
            continue;
        }
        client
            .put_item()
            .table_name(table)
            .item("group", AttributeValue::S(group.clone()))
            .item("policy", attribute(policy))
            .send()
            .await
            .expect("put item");
    }
}

// ---------------------------------------------------------------- Lambda Runtime API emulator

#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    Response(Value),
    Error {
        error_type: String,
        error_message: String,
    },
}

#[derive(Default)]
struct EmulatorState {
    queue: VecDeque<(String, Value)>,
    results: HashMap<String, Invocation>,
    init_error: Option<String>,
    next_calls: usize,
}

/// `GET /2018-06-01/runtime/invocation/next`, `POST .../invocation/{id}/response|error`,
/// `POST .../init/error`, on loopback.
pub struct Emulator {
    pub server: HttpServer,
    state: Arc<(Mutex<EmulatorState>, Condvar)>,
    counter: AtomicUsize,
}

impl Emulator {
    pub fn start() -> Self {
        let state: Arc<(Mutex<EmulatorState>, Condvar)> = Arc::default();
        let shared = state.clone();
        let server = HttpServer::start(move |req| {
            let (lock, cv) = &*shared;
            let path = req.path.as_str();
            if req.method == "GET" && path == "/2018-06-01/runtime/invocation/next" {
                let mut s = lock.lock().unwrap();
                s.next_calls += 1;
                cv.notify_all();
                loop {
                    if let Some((id, event)) = s.queue.pop_front() {
                        let deadline = SystemTime::now()
                            .duration_since(UNIX_EPOCH)
                            .unwrap()
                            .as_millis() as u64
                            + 30_000;
                        return HttpResponse {
                            status: 200,
                            headers: vec![
                                ("content-type".into(), "application/json".into()),
                                ("lambda-runtime-aws-request-id".into(), id),
                                ("lambda-runtime-deadline-ms".into(), deadline.to_string()),
                                (
                                    "lambda-runtime-invoked-function-arn".into(),
                                    "arn:aws:lambda:us-east-1:123456789012:function:edge-authz".into(),
                                ),
                                ("lambda-runtime-trace-id".into(), "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".into()),
                            ],
                            body: serde_json::to_vec(&event).unwrap(),
                        };
                    }
                    s = cv.wait_timeout(s, Duration::from_millis(200)).unwrap().0;
                }
            }
            let mut s = lock.lock().unwrap();
            if req.method == "POST" && path == "/2018-06-01/runtime/init/error" {
                s.init_error = Some(String::from_utf8_lossy(&req.body).into_owned());
                cv.notify_all();
                return HttpResponse::json(202, &json!({"status": "OK"}));
            }
            let rest = path
                .strip_prefix("/2018-06-01/runtime/invocation/")
                .unwrap_or("");
            if let Some((id, what)) = rest.split_once('/') {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let result = match what {
                    "response" => Invocation::Response(body),
                    "error" => Invocation::Error {
                        error_type: body["errorType"].as_str().unwrap_or("").to_owned(),
                        error_message: body["errorMessage"].as_str().unwrap_or("").to_owned(),
                    },
                    _ => return HttpResponse::text(404, "not found"),
                };
                s.results.insert(id.to_owned(), result);
                cv.notify_all();
                return HttpResponse::json(202, &json!({"status": "OK"}));
            }
            HttpResponse::text(404, "not found")
        });
        Self {
            server,
            state,
            counter: AtomicUsize::new(0),
        }
    }

    pub fn api(&self) -> String {
        self.server.addr.to_string()
    }

    /// Queues `event` and waits (bounded) for the function's answer.
    pub fn invoke(&self, event: Value) -> Invocation {
        self.try_invoke(event, Duration::from_secs(20))
            .expect("the function answered within 20 s")
    }

    pub fn try_invoke(&self, event: Value, timeout: Duration) -> Option<Invocation> {
        let id = format!("req-{}", self.counter.fetch_add(1, Ordering::SeqCst));
        let (lock, cv) = &*self.state;
        let mut s = lock.lock().unwrap();
        s.queue.push_back((id.clone(), event));
        cv.notify_all();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(result) = s.results.remove(&id) {
                return Some(result);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            s = cv
                .wait_timeout(s, left.min(Duration::from_millis(100)))
                .unwrap()
                .0;
        }
    }

    /// Queues every event at once and waits (bounded) for all the answers, in order: the
    /// function takes them one after another without waiting for the test in between.
    pub fn invoke_many(&self, events: Vec<Value>) -> Vec<Invocation> {
        let ids: Vec<String> = {
            let (lock, cv) = &*self.state;
            let mut s = lock.lock().unwrap();
            let ids = events
                .into_iter()
                .map(|event| {
                    let id = format!("req-{}", self.counter.fetch_add(1, Ordering::SeqCst));
                    s.queue.push_back((id.clone(), event));
                    id
                })
                .collect();
            cv.notify_all();
            ids
        };
        let (lock, cv) = &*self.state;
        let mut s = lock.lock().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20 + ids.len() as u64 / 20);
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            loop {
                if let Some(result) = s.results.remove(id) {
                    out.push(result);
                    break;
                }
                let left = deadline
                    .checked_duration_since(Instant::now())
                    .unwrap_or_else(|| {
                        panic!(
                            "the function answered {} of {} events in time",
                            out.len(),
                            ids.len()
                        )
                    });
                s = cv
                    .wait_timeout(s, left.min(Duration::from_millis(100)))
                    .unwrap()
                    .0;
            }
        }
        out
    }

    /// Waits until the function polls for its first event (init done).
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        let (lock, cv) = &*self.state;
        let mut s = lock.lock().unwrap();
        let deadline = Instant::now() + timeout;
        while s.next_calls == 0 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            s = cv
                .wait_timeout(s, left.min(Duration::from_millis(50)))
                .unwrap()
                .0;
        }
        true
    }
}

/// The real `bootstrap` binary, its stdout (JSON logs) collected.
pub struct Bootstrap {
    pub child: Child,
    pub logs: Arc<Mutex<String>>,
}

impl Bootstrap {
    pub fn spawn(emulator: &Emulator, vars: &[(&str, String)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bootstrap"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", emulator.api())
            .env("AWS_LAMBDA_FUNCTION_NAME", "edge-authz")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/edge-authz")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn bootstrap");
        let logs = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let logs = logs.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut l = logs.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        Self { child, logs }
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// The logs once they contain `needle`, or after 10 s: the process writes a line before it
    /// answers, but the reader thread may not have read it yet when the answer arrives.
    pub fn logs_once_containing(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let logs = self.logs();
            if logs.contains(needle) || Instant::now() > deadline {
                return logs;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The `fields` of the JSON log lines whose `event` is `event`, once there are at least
    /// `at_least` of them (the logs arrive through a reader thread), in order.
    pub fn log_events(&self, event: &str, at_least: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<Value> = self
                .logs()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|l| l["fields"]["event"] == event)
                .map(|l| l["fields"].clone())
                .collect();
            if found.len() >= at_least || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits (bounded) for a log line of `event` whose fields satisfy `matches`; the events of
    /// that kind seen by then. Init logs several warnings, in no fixed order across lines.
    pub fn wait_log_event(&self, event: &str, matches: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.log_events(event, 0);
            if found.iter().any(&matches) || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the process to exit (bounded); its status code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50)); // let the log readers drain
                return Some(status.code().unwrap_or(-1));
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Bootstrap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The authorizer's environment with the suite's JWKS and the vet policy bundled as files
/// (nothing listens at `JWKS_URI`: a cold start must be network-free), plus `extra`.
pub fn bundled_vars(extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let jwks = temp_file("jwks.json", &jwks_of(&["suite-rsa-1"]));
    let policies = temp_file(
        "policies.json",
        json!({ "pet-veterinarian": vet_policy() })
            .to_string()
            .as_bytes(),
    );
    let mut vars = vec![
        ("USER_POOL_ID", POOL.to_owned()),
        ("CLIENT_IDS", CLIENT.to_owned()),
        ("JWKS_URI", "http://127.0.0.1:9/jwks.json".to_owned()),
        ("JWKS_FILE", jwks.display().to_string()),
        ("POLICIES_FILE", policies.display().to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    vars
}

/// Writes `contents` to a fresh file under the target directory; its path.
pub fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = workspace_root().join("target/lambda-tests").join(format!(
        "{}-{}",
        std::process::id(),
        now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}
