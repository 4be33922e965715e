//! The whole `Authorizer`, driven by structured input (`arbitrary`): a configuration built
//! from knobs, then a sequence of operations — `authorize` (a token minted by the harness,
//! reused, from a fixed pool, or arbitrary text; placed in a header, a cookie or the
//! runtime credential; any method, path, source IP, headers, query and `now`), with the
//! harness answering each `Need` honestly or as the input says (an arbitrary JWKS, a failed
//! fetch, arbitrary policies, a failed load, an arbitrary signature verdict, no answer);
//! and unsolicited `jwks_fetched`/`jwks_failed`/`policy_loaded`/`policies_failed`/
//! `signature_checked` calls, and time passing (or a host clock stepping back).
//!
//! Invariants:
//! - it never panics;
//! - an `Allow` is only ever for a token signed by a key the harness published for its
//!   issuer (or one whose signature the harness, as host, reported valid), not tampered
//!   with, unexpired at `now` within the configured grace, whose identity and claims are
//!   the token's, and which the latest policies of its groups (+ `everyone`/`noGroup`)
//!   allow for this request, with no group's policy invalid or never loaded;
//! - every `Need` is one the harness can answer (a configured issuer and its JWKS URL;
//!   groups of the token, only when policies are external; a signature check of this token
//!   only when signatures are deferred to the host);
//! - a request whose needs are all answered is decided within a few rounds.
//!
//! The token pool, the policies and the JWKS are the conformance suite's (see
//! edge_authz_fuzz): its keys sign, its policies are loaded.
#![no_main]

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use edge_authz::policy::{evaluate, EvalContext, PolicyDecision, PolicyDocument};
use edge_authz::token::crypto::DeferToHost;
use edge_authz::{
    Authorizer, Config, Decision, Jwks, Need, Request, SignatureVerdict, SignatureVerifier, Step,
    TokenHash,
};
use edge_authz_fuzz::{
    b64, jwks_document, sign_token, suite_policies, HarnessCrypto, Signer, BASE_NOW,
};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

const ISSUERS: [&str; 2] = [
    "https://idp.example.com/",
    "https://other.example.net/tenant",
];
const GROUPS: [&str; 5] = ["g0", "g1", "g2", "admins", "pet-veterinarian"];
const AUDIENCE: &str = "aud-1";
const ACTION: &str = "execute-api:Invoke";
const MAX_ROUNDS: usize = 16;

// ---------------------------------------------------------------- the input

#[derive(Arbitrary, Debug)]
struct Input {
    setup: Setup,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum Kind {
    Oidc,
    CognitoAccess,
    CognitoId,
    CognitoAny,
}

#[derive(Arbitrary, Debug)]
struct Setup {
    kind: Kind,
    grace: u16,
    require_exp: bool,
    any_client: bool,
    required_scope: bool,
    required_group: bool,
    /// Bits over RS256, ES256, EdDSA, PS256; none set: the issuer's default.
    algorithms: u8,
    second_issuer: bool,
    cache_tokens: u8,
    cache_decisions: u8,
    jwks_ttl: u16,
    penalty: u8,
    jwks_max_stale: u16,
    fetch_timeout: u8,
    /// Policies bundled in the configuration (else the harness's store holds `store`).
    bundled: bool,
    /// The policy of each of `GROUPS` (index into the policy pool; `None`: no policy).
    store: [Option<u8>; 5],
    everyone: Option<u8>,
    no_group: Option<u8>,
    policy_ttl: u16,
    policy_max_stale: u16,
    cookie: bool,
    require_bearer: bool,
    custom_header: bool,
    context_claims: bool,
    defer_to_host: bool,
    hash_key: Option<[u8; 8]>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Authorize(Box<AuthorizeOp>),
    Advance(u16),
    Jump(u32),
    /// The host clock steps back (NTP correction): nothing cached may outlive its token's
    /// `nbf`/`iat` the other way either.
    StepBack(u16),
    JwksFetched {
        issuer: u8,
        doc: DocChoice,
    },
    JwksFailed {
        issuer: u8,
    },
    PolicyLoaded {
        group: GroupChoice,
        policy: PolicyChoice,
    },
    PoliciesFailed {
        groups: Vec<GroupChoice>,
    },
    SignatureChecked {
        which: u8,
        valid: bool,
    },
}

#[derive(Arbitrary, Debug)]
struct AuthorizeOp {
    token: TokenChoice,
    placement: Placement,
    method: MethodChoice,
    path: PathChoice,
    method_arn: Option<String>,
    ip: Option<IpChoice>,
    tls: Option<bool>,
    user_agent: Option<String>,
    headers: Vec<(HeaderName, String)>,
    query: Vec<(u8, String)>,
    answers: Vec<Answer>,
    /// Authorize the same request again afterwards (the cached path).
    again: bool,
}

#[derive(Arbitrary, Debug)]
enum TokenChoice {
    /// A token minted earlier in this run.
    Reuse(u8),
    /// A new token.
    Mint(Box<TokenSpec>),
    /// From the fixed pool, signed at start-up with the real (RSA too) keys.
    Fixed(u8),
    /// Anything.
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct TokenSpec {
    signer: SignerChoice,
    /// 0, 1: the configured issuers; 2: an unknown one; 3: no `iss`.
    issuer: u8,
    kid: KidChoice,
    alg: Option<AlgChoice>,
    sub: Option<u8>,
    exp: Option<i32>,
    exp_fraction: bool,
    nbf: Option<i16>,
    iat: Option<i16>,
    groups: Option<Vec<GroupChoice>>,
    token_use: Option<bool>,
    /// 0: none; 1: `aud-1`; 2: [`aud-1`, other]; 3: other.
    aud: u8,
    client_id: Option<bool>,
    scope: Option<u8>,
    email: bool,
    level: Option<i8>,
    extra: Option<(String, String)>,
    /// Swap in another payload after signing.
    tamper: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum SignerChoice {
    Key(u8),
    /// `alg: none`, empty signature.
    Unsigned,
    /// A signature of random bytes.
    Garbage(u64),
}

#[derive(Arbitrary, Debug)]
enum KidChoice {
    Own,
    Absent,
    Other(u8),
    Text(String),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum AlgChoice {
    None,
    Hs256,
    Rs256,
    Ps256,
    Es256,
    Es384,
    EdDsa,
}

#[derive(Arbitrary, Debug)]
enum GroupChoice {
    Known(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Placement {
    Bearer,
    LowerBearer,
    Tabs,
    Bare,
    Cookie,
    Credential,
    Twice,
    Prefixed(String),
}

#[derive(Arbitrary, Debug)]
enum MethodChoice {
    Get,
    Post,
    Delete,
    Lower,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum PathChoice {
    Pets,
    Status,
    Admin,
    User(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum IpChoice {
    V4([u8; 4]),
    Doc(u8),
    V6([u8; 16]),
}

#[derive(Arbitrary, Debug)]
enum HeaderName {
    UserAgent,
    Referer,
    Tenant,
    Authorization,
    Cookie,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Answer {
    Honest,
    Ignore,
    Jwks(DocChoice),
    JwksFail,
    Policies(Vec<PolicyChoice>),
    PoliciesFail,
    Verdict(bool),
}

#[derive(Arbitrary, Debug)]
enum DocChoice {
    Real,
    Rotated,
    WithForger,
    ForgerOnly,
    Empty,
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum PolicyChoice {
    Pool(u8),
    Absent,
    Text(String),
    Value(u8, u8),
}

// ---------------------------------------------------------------- fixtures

struct Fixtures {
    /// Every policy of the suite, parsed or not.
    pool: &'static [Arc<Value>],
    /// Indices of the pool's valid policies (bundled policies must be valid).
    valid: Vec<usize>,
    real_doc: Vec<u8>,
    /// Fixed tokens, really signed, with what the harness knows of them.
    fixed: Vec<Minted>,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let pool = suite_policies();
        let valid = (0..pool.len())
            .filter(|&i| PolicyDocument::from_value(&pool[i]).is_ok())
            .collect();
        let fixed_specs: [(Signer, &[&str], i64, bool); 7] = [
            (Signer::Rsa1, &["g0"], 3600, false),
            (Signer::Rsa2, &["g1", "admins"], 600, false),
            (Signer::Rsa1, &["pet-veterinarian"], -10, false),
            (Signer::Rsa1, &["admins"], 3600, true),
            (Signer::Ec, &["pet-veterinarian", "g2"], 7200, false),
            (Signer::Ed, &[], 86_400, false),
            (Signer::Forger, &["admins"], 3600, false),
        ];
        let mut fixed = Vec::new();
        for (i, (signer, groups, exp, tamper)) in fixed_specs.into_iter().enumerate() {
            for groups_claim in ["groups", "cognito:groups"] {
                let mut claims = Map::new();
                claims.insert("iss".into(), json!(ISSUERS[0]));
                claims.insert("sub".into(), json!(format!("fixed-{i}")));
                claims.insert("aud".into(), json!(AUDIENCE));
                claims.insert("client_id".into(), json!(AUDIENCE));
                claims.insert("token_use".into(), json!("access"));
                claims.insert("scope".into(), json!("read write"));
                claims.insert("exp".into(), json!(BASE_NOW as i64 + exp));
                claims.insert("iat".into(), json!(BASE_NOW - 60));
                claims.insert(groups_claim.into(), json!(groups));
                let header = edge_authz_fuzz::header_for(signer);
                let header = serde_json::to_vec(&header).expect("JSON");
                let payload = serde_json::to_vec(&claims).expect("JSON");
                let mut text = sign_token(signer, &header, &payload);
                if tamper {
                    let mut other = claims.clone();
                    other.insert(groups_claim.into(), json!(["admins", "g0"]));
                    let forged = b64(&serde_json::to_vec(&other).expect("JSON"));
                    let parts: Vec<&str> = text.split('.').collect();
                    text = format!("{}.{forged}.{}", parts[0], parts[2]);
                    claims = other;
                }
                fixed.push(Minted {
                    text,
                    signer: Some(signer),
                    issuer: Some(0),
                    intact: !tamper,
                    claims: Some(claims),
                });
            }
        }
        Fixtures {
            pool,
            valid,
            real_doc: jwks_document(&[Signer::Rsa1, Signer::Rsa2, Signer::Ec, Signer::Ed]),
            fixed,
        }
    })
}

// ---------------------------------------------------------------- the harness

/// A token the harness made, and what it knows of it.
#[derive(Debug, Clone)]
struct Minted {
    text: String,
    /// Who signed it (`None`: unsigned or a garbage signature).
    signer: Option<Signer>,
    /// The configured issuer its `iss` names.
    issuer: Option<usize>,
    /// The payload is the one that was signed.
    intact: bool,
    /// The claims of the payload sent.
    claims: Option<Map<String, Value>>,
}

/// What the harness stored for a group (the authorizer must use the latest).
#[derive(Debug, Clone)]
enum Stored {
    Present(Arc<PolicyDocument>),
    Absent,
    Invalid,
}

struct Harness {
    authorizer: Authorizer,
    config: Config,
    setup: Setup,
    now: u64,
    /// Signers whose keys were handed over for each issuer (ever).
    published: Vec<HashSet<Signer>>,
    /// The policies handed over, per group (latest).
    stored: HashMap<String, Stored>,
    bundled: HashMap<String, Arc<PolicyDocument>>,
    everyone: Option<Arc<PolicyDocument>>,
    no_group: Option<Arc<PolicyDocument>>,
    minted: Vec<Minted>,
    known: HashMap<String, Minted>,
    /// Token hashes of signature checks, and the token each was for.
    checks: Vec<(TokenHash, String)>,
    /// Tokens whose signature the harness (as host) reported valid.
    vouched: HashSet<String>,
}

/// `EDGE_AUTHZ_FUZZ_TRACE=1` prints every decision (to see which outcomes a corpus reaches:
/// `EDGE_AUTHZ_FUZZ_TRACE=1 target/.../authorizer -runs=1 corpus/authorizer/* 2>&1 | sort | uniq -c`).
fn trace() -> bool {
    static T: OnceLock<bool> = OnceLock::new();
    *T.get_or_init(|| std::env::var_os("EDGE_AUTHZ_FUZZ_TRACE").is_some())
}

fn pick<T: Copy>(items: &[T], i: u8) -> T {
    items[usize::from(i) % items.len()]
}

fn group_name(g: &GroupChoice) -> String {
    match g {
        GroupChoice::Known(i) => pick(&GROUPS, *i).to_string(),
        GroupChoice::Text(t) => t.clone(),
    }
}

fn parse_policy(value: &Value) -> Stored {
    match PolicyDocument::from_value(value) {
        Ok(parsed) => Stored::Present(Arc::new(parsed.document)),
        Err(_) => Stored::Invalid,
    }
}

impl Setup {
    fn config_json(&self, f: &Fixtures) -> Value {
        let algs = ["RS256", "ES256", "EdDSA", "PS256"];
        let chosen: Vec<&str> = algs
            .iter()
            .enumerate()
            .filter(|(i, _)| self.algorithms & (1 << i) != 0)
            .map(|(_, a)| *a)
            .collect();
        let mut issuers = Vec::new();
        let count = if self.second_issuer { 2 } else { 1 };
        for (i, iss) in ISSUERS.iter().enumerate().take(count) {
            let clients = if self.any_client {
                Value::Null
            } else {
                json!([AUDIENCE])
            };
            let mut o = Map::new();
            o.insert("issuer".into(), json!(iss));
            o.insert(
                "jwksUri".into(),
                json!(format!("https://keys.example/{i}/jwks.json")),
            );
            match self.kind {
                Kind::Oidc => {
                    o.insert("audience".into(), clients);
                    o.insert("requireExp".into(), json!(self.require_exp));
                }
                kind => {
                    o.insert("userPoolId".into(), json!(format!("us-east-1_Fuzz{i}")));
                    let token_use = match kind {
                        Kind::CognitoAccess => "access",
                        Kind::CognitoId => "id",
                        _ => "any",
                    };
                    o.insert("tokenUse".into(), json!(token_use));
                    o.insert("clientId".into(), clients);
                }
            }
            if !chosen.is_empty() {
                o.insert("algorithms".into(), json!(chosen));
            }
            if self.required_scope {
                o.insert("scopes".into(), json!(["read"]));
            }
            if self.required_group {
                o.insert("groups".into(), json!(["g1", "admins"]));
            }
            issuers.push(Value::Object(o));
        }
        let sizes = [0, 1, 3, 10_000];
        let valid = |i: u8| {
            f.pool[f.valid[usize::from(i) % f.valid.len()]]
                .as_ref()
                .clone()
        };
        let mut policies = Map::new();
        if self.bundled {
            let mut groups = Map::new();
            for (g, choice) in GROUPS.iter().zip(self.store) {
                if let Some(i) = choice {
                    groups.insert(g.to_string(), valid(i));
                }
            }
            policies.insert("groups".into(), Value::Object(groups));
        }
        if let Some(i) = self.everyone {
            policies.insert("everyone".into(), valid(i));
        }
        if let Some(i) = self.no_group {
            policies.insert("noGroup".into(), valid(i));
        }
        policies.insert("ttlSeconds".into(), json!(1 + u64::from(self.policy_ttl)));
        policies.insert("maxStaleSeconds".into(), json!(self.policy_max_stale));
        let mut config = json!({
            "issuers": issuers,
            "graceSeconds": self.grace % 301,
            "jwksCache": {
                "ttlSeconds": 1 + u64::from(self.jwks_ttl),
                "penaltySeconds": 1 + u64::from(self.penalty),
                "maxStaleSeconds": self.jwks_max_stale,
                "fetchTimeoutSeconds": 1 + u64::from(self.fetch_timeout),
            },
            "credentials": {
                "header": if self.custom_header { "X-Auth" } else { "authorization" },
                "cookie": if self.cookie { Some("id_token") } else { None },
                "requireBearer": self.require_bearer,
            },
            "api": {"region": "us-east-1", "accountId": "123456789012", "apiId": "api1", "stage": "prod"},
            "policies": policies,
            "cache": {
                "tokens": pick(&sizes, self.cache_tokens),
                "decisions": pick(&sizes, self.cache_decisions),
            },
        });
        if self.context_claims {
            config["context"] = json!({"claims": ["email", "level", "groups"]});
        }
        config
    }
}

impl Harness {
    fn new(setup: Setup) -> Option<Self> {
        let f = fixtures();
        let text = setup.config_json(f).to_string();
        let loaded = match Config::from_json(&text) {
            Ok(loaded) => loaded,
            // Every combination of knobs is a valid configuration: a failure is a finding.
            Err(e) => panic!("the harness's configuration does not load: {e}\n{text}"),
        };
        let config = loaded.config;
        let mut authorizer = Authorizer::new(config.clone());
        authorizer = if setup.defer_to_host {
            authorizer.with_verifier(Arc::new(DeferToHost))
        } else {
            authorizer.with_verifier(Arc::new(HarnessCrypto))
        };
        if let Some(key) = setup.hash_key {
            authorizer = authorizer.with_hash_key(key);
        }
        let doc = |v: &Value| match PolicyDocument::from_value(v) {
            Ok(p) => Arc::new(p.document),
            Err(e) => panic!("a bundled policy does not parse: {e:?}"),
        };
        let valid = |i: u8| f.pool[f.valid[usize::from(i) % f.valid.len()]].clone();
        let mut bundled = HashMap::new();
        if setup.bundled {
            for (g, choice) in GROUPS.iter().zip(setup.store) {
                if let Some(i) = choice {
                    bundled.insert(g.to_string(), doc(&valid(i)));
                }
            }
        }
        let everyone = setup.everyone.map(|i| doc(&valid(i)));
        let no_group = setup.no_group.map(|i| doc(&valid(i)));
        Some(Self {
            published: vec![HashSet::new(); config.issuers.len()],
            authorizer,
            config,
            setup,
            now: BASE_NOW,
            stored: HashMap::new(),
            bundled,
            everyone,
            no_group,
            minted: Vec::new(),
            known: HashMap::new(),
            checks: Vec::new(),
            vouched: HashSet::new(),
        })
    }

    fn groups_claim(&self) -> &'static str {
        if self.setup.kind == Kind::Oidc {
            "groups"
        } else {
            "cognito:groups"
        }
    }

    fn mint(&mut self, spec: &TokenSpec) -> Minted {
        let now = self.now as i64;
        let signer = match spec.signer {
            SignerChoice::Key(i) => Some(pick(&Signer::ALL, i)),
            _ => None,
        };
        let mut header = Map::new();
        let alg = match (spec.alg, signer) {
            (Some(a), _) => match a {
                AlgChoice::None => "none",
                AlgChoice::Hs256 => "HS256",
                AlgChoice::Rs256 => "RS256",
                AlgChoice::Ps256 => "PS256",
                AlgChoice::Es256 => "ES256",
                AlgChoice::Es384 => "ES384",
                AlgChoice::EdDsa => "EdDSA",
            },
            (None, Some(s)) => s.alg(),
            (None, None) => "none",
        };
        header.insert("alg".into(), json!(alg));
        header.insert("typ".into(), json!("JWT"));
        match &spec.kid {
            KidChoice::Own => {
                header.insert(
                    "kid".into(),
                    json!(signer.map_or("suite-rsa-1", Signer::kid)),
                );
            }
            KidChoice::Absent => {}
            KidChoice::Other(i) => {
                header.insert("kid".into(), json!(pick(&Signer::ALL, *i).kid()));
            }
            KidChoice::Text(t) => {
                header.insert("kid".into(), json!(t));
            }
        }
        let mut claims = Map::new();
        match spec.issuer % 4 {
            0 | 1 => claims.insert("iss".into(), json!(ISSUERS[usize::from(spec.issuer % 4)])),
            2 => claims.insert("iss".into(), json!("https://evil.example/")),
            _ => None,
        };
        if let Some(sub) = spec.sub {
            claims.insert("sub".into(), json!(format!("user-{}", sub % 8)));
        }
        if let Some(exp) = spec.exp {
            let t = (now + i64::from(exp)).max(0);
            if spec.exp_fraction {
                claims.insert("exp".into(), json!(t as f64 + 0.75));
            } else {
                claims.insert("exp".into(), json!(t));
            }
        }
        if let Some(nbf) = spec.nbf {
            claims.insert("nbf".into(), json!((now + i64::from(nbf)).max(0)));
        }
        if let Some(iat) = spec.iat {
            claims.insert("iat".into(), json!((now + i64::from(iat)).max(0)));
        }
        if let Some(groups) = &spec.groups {
            let names: Vec<String> = groups.iter().take(8).map(group_name).collect();
            claims.insert(self.groups_claim().into(), json!(names));
        }
        if let Some(access) = spec.token_use {
            claims.insert(
                "token_use".into(),
                json!(if access { "access" } else { "id" }),
            );
        }
        match spec.aud % 4 {
            1 => {
                claims.insert("aud".into(), json!(AUDIENCE));
            }
            2 => {
                claims.insert("aud".into(), json!([AUDIENCE, "aud-2"]));
            }
            3 => {
                claims.insert("aud".into(), json!("aud-other"));
            }
            _ => {}
        }
        if let Some(ok) = spec.client_id {
            claims.insert(
                "client_id".into(),
                json!(if ok { AUDIENCE } else { "other-client" }),
            );
        }
        if let Some(scope) = spec.scope {
            let scopes = ["read", "write", "read write", "", "admin read"];
            claims.insert("scope".into(), json!(pick(&scopes, scope)));
        }
        if spec.email {
            claims.insert("email".into(), json!("user@example.com"));
        }
        if let Some(level) = spec.level {
            claims.insert("level".into(), json!(level));
        }
        if let Some((k, v)) = &spec.extra {
            let value = serde_json::from_str::<Value>(v).unwrap_or_else(|_| json!(v));
            claims.insert(k.clone(), value);
        }
        // The configured issuer the token names (the extra claim may have replaced `iss`).
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .and_then(|iss| self.config.issuers.iter().position(|i| i.issuer == iss));
        let header = serde_json::to_vec(&header).expect("JSON");
        let payload = serde_json::to_vec(&claims).expect("JSON");
        let signing_input = format!("{}.{}", b64(&header), b64(&payload));
        let signature = match spec.signer {
            SignerChoice::Key(_) => signer
                .map(|s| b64(&s.sign_fast(signing_input.as_bytes())))
                .unwrap_or_default(),
            SignerChoice::Unsigned => String::new(),
            SignerChoice::Garbage(seed) => {
                let bytes: Vec<u8> = (0..64u64)
                    .map(|i| (seed.rotate_left((i % 64) as u32) >> 3) as u8)
                    .collect();
                b64(&bytes)
            }
        };
        let (sent, intact) = if spec.tamper {
            let mut other = claims.clone();
            other.insert("sub".into(), json!("mallory"));
            other.insert(self.groups_claim().into(), json!(["admins", "g0", "g1"]));
            let sent = b64(&serde_json::to_vec(&other).expect("JSON"));
            claims = other;
            (sent, false)
        } else {
            (b64(&payload), true)
        };
        let text = format!("{}.{sent}.{signature}", b64(&header));
        Minted {
            text,
            signer: if matches!(spec.signer, SignerChoice::Key(_)) {
                signer
            } else {
                None
            },
            issuer,
            intact,
            claims: Some(claims),
        }
    }

    fn token(&mut self, choice: &TokenChoice) -> String {
        let minted = match choice {
            TokenChoice::Reuse(i) if !self.minted.is_empty() => {
                self.minted[usize::from(*i) % self.minted.len()].clone()
            }
            TokenChoice::Reuse(i) | TokenChoice::Fixed(i) => {
                let fixed = &fixtures().fixed;
                fixed[usize::from(*i) % fixed.len()].clone()
            }
            TokenChoice::Mint(spec) => {
                let m = self.mint(spec);
                self.minted.push(m.clone());
                if self.minted.len() > 16 {
                    self.minted.remove(0);
                }
                m
            }
            TokenChoice::Text(t) => return t.clone(),
        };
        let text = minted.text.clone();
        self.known.entry(text.clone()).or_insert(minted);
        text
    }

    /// Publishes the signers whose keys `doc` holds, for `issuer`.
    fn publish(&mut self, issuer: usize, doc: &[u8]) {
        let Ok(jwks) = Jwks::parse(doc) else {
            return;
        };
        let Some(published) = self.published.get_mut(issuer) else {
            return;
        };
        for key in jwks.keys() {
            for signer in Signer::ALL {
                if key.material() == signer.material() {
                    published.insert(signer);
                }
            }
        }
    }

    fn jwks_doc(&self, choice: &DocChoice) -> Vec<u8> {
        match choice {
            DocChoice::Real => fixtures().real_doc.clone(),
            DocChoice::Rotated => jwks_document(&[Signer::Rsa2, Signer::Ed]),
            DocChoice::WithForger => {
                jwks_document(&[Signer::Rsa1, Signer::Ec, Signer::Ed, Signer::Forger])
            }
            DocChoice::ForgerOnly => jwks_document(&[Signer::Forger]),
            DocChoice::Empty => b"{\"keys\":[]}".to_vec(),
            DocChoice::Bytes(b) => b.clone(),
        }
    }

    fn jwks_fetched(&mut self, issuer: usize, doc: &[u8]) {
        let result = self.authorizer.jwks_fetched(issuer, doc, self.now);
        if result.is_ok() {
            self.publish(issuer, doc);
        }
    }

    fn load_policy(&mut self, group: &str, choice: &PolicyChoice) {
        let now = self.now;
        let f = fixtures();
        let stored = match choice {
            PolicyChoice::Pool(i) => {
                let v = f.pool[usize::from(*i) % f.pool.len()].clone();
                let r = self.authorizer.policy_loaded(group, &*v, now);
                let s = parse_policy(&v);
                assert_eq!(r.is_ok(), matches!(s, Stored::Present(_)));
                s
            }
            PolicyChoice::Absent => {
                let r = self.authorizer.policy_loaded(group, edge_authz::PolicyInput::Absent, now);
                assert!(r.is_ok());
                Stored::Absent
            }
            PolicyChoice::Text(t) => {
                let r = self.authorizer.policy_loaded(group, Some(t.as_str()), now);
                match (r, PolicyDocument::parse(t)) {
                    (Ok(_), Ok(p)) => Stored::Present(Arc::new(p.document)),
                    (Err(_), Err(_)) => Stored::Invalid,
                    (r, p) => panic!("policy_loaded {r:?} but parse {:?}", p.is_ok()),
                }
            }
            PolicyChoice::Value(i, j) => {
                // A pool policy with a statement of another one spliced in (DynamoDB maps).
                let mut v = f.pool[usize::from(*i) % f.pool.len()].as_ref().clone();
                let other = &f.pool[usize::from(*j) % f.pool.len()];
                if let (Some(Value::Array(st)), Some(Value::Array(o))) =
                    (v.get_mut("Statement"), other.get("Statement"))
                {
                    st.extend(o.iter().take(2).cloned());
                }
                let r = self.authorizer.policy_loaded(group, &v, now);
                let s = parse_policy(&v);
                assert_eq!(r.is_ok(), matches!(s, Stored::Present(_)));
                s
            }
        };
        self.stored.insert(group.to_string(), stored);
    }

    fn honest_policy(&self, group: &str) -> PolicyChoice {
        match GROUPS.iter().position(|g| *g == group) {
            Some(i) => match self.setup.store[i] {
                Some(p) => PolicyChoice::Pool(p),
                None => PolicyChoice::Absent,
            },
            None => PolicyChoice::Absent,
        }
    }

    fn honest_verdict(check: &edge_authz::SignatureCheck) -> bool {
        HarnessCrypto.verify(
            check.algorithm,
            &check.key,
            check.signing_input.as_bytes(),
            &check.signature,
        ) == SignatureVerdict::Valid
    }

    fn authorize(&mut self, op: &AuthorizeOp) {
        let token = self.token(&op.token);
        let header_name = self.config.credentials.header.clone();
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut credential = None;
        match &op.placement {
            Placement::Bearer => headers.push((header_name, format!("Bearer {token}"))),
            Placement::LowerBearer => headers.push((header_name, format!("bearer {token}"))),
            Placement::Tabs => headers.push((header_name, format!("\tBearer \t {token} "))),
            Placement::Bare => headers.push((header_name, token.clone())),
            Placement::Cookie => {
                headers.push(("Cookie".into(), format!("theme=dark; id_token={token}")))
            }
            Placement::Credential => credential = Some(format!("Bearer {token}")),
            Placement::Twice => {
                headers.push((header_name.clone(), format!("Bearer {token}")));
                headers.push((header_name.to_uppercase(), format!("Bearer {token}")));
            }
            Placement::Prefixed(p) => headers.push((header_name, format!("{p}{token}"))),
        }
        if let Some(ua) = &op.user_agent {
            headers.push(("User-Agent".into(), ua.clone()));
        }
        for (name, value) in op.headers.iter().take(6) {
            let name = match name {
                HeaderName::UserAgent => "user-agent".to_string(),
                HeaderName::Referer => "Referer".to_string(),
                HeaderName::Tenant => "X-Tenant".to_string(),
                HeaderName::Authorization => "Authorization".to_string(),
                HeaderName::Cookie => "cookie".to_string(),
                HeaderName::Text(t) => t.clone(),
            };
            headers.push((name, value.clone()));
        }
        let method = match &op.method {
            MethodChoice::Get => "GET".to_string(),
            MethodChoice::Post => "POST".to_string(),
            MethodChoice::Delete => "DELETE".to_string(),
            MethodChoice::Lower => "get".to_string(),
            MethodChoice::Text(t) => t.clone(),
        };
        let path = match &op.path {
            PathChoice::Pets => "/petstore/v1/pets".to_string(),
            PathChoice::Status => "/petstore/v2/status?x=1".to_string(),
            PathChoice::Admin => "/admin/users".to_string(),
            PathChoice::User(i) => format!("/users/user-{}", i % 8),
            PathChoice::Text(t) => t.clone(),
        };
        let ip: Option<IpAddr> = op.ip.as_ref().map(|ip| match ip {
            IpChoice::V4(o) => IpAddr::from(*o),
            IpChoice::Doc(i) => IpAddr::from([192, 0, 2, *i]),
            IpChoice::V6(o) => IpAddr::from(*o),
        });
        let query: Vec<(String, String)> = op
            .query
            .iter()
            .take(4)
            .map(|(k, v)| (pick(&["page", "x", "filter"], *k).to_string(), v.clone()))
            .collect();
        let header_refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let query_refs: Vec<(&str, &str)> = query
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let request = Request {
            method: &method,
            path: &path,
            method_arn: op.method_arn.as_deref(),
            headers: &header_refs,
            query: &query_refs,
            source_ip: ip,
            secure_transport: op.tls,
            credential: credential.as_deref(),
            matching: None,
        };
        let mut answers = op.answers.iter().take(MAX_ROUNDS);
        for _pass in 0..if op.again { 2 } else { 1 } {
            let mut responsive = true;
            let mut needs = Vec::new();
            let mut decided = false;
            for _round in 0..MAX_ROUNDS {
                match self.authorizer.authorize(&request, self.now) {
                    Step::Decided(decision) => {
                        self.check_decision(&decision, &request);
                        decided = true;
                        break;
                    }
                    Step::Need(need) => {
                        let located = self.config.credentials.extract(&request);
                        let located = located.unwrap_or_else(|e| {
                            panic!("{need:?} for a request without a usable token ({e:?})")
                        });
                        self.check_need(&need, located);
                        let answer = answers.next().unwrap_or(&Answer::Honest);
                        responsive &= self.answer(&need, answer, located);
                        needs.push(need);
                    }
                }
            }
            if !decided && responsive {
                panic!("no decision after {MAX_ROUNDS} answered needs: {needs:#?}");
            }
        }
    }

    /// Answers `need`; false when it was left unanswered.
    fn answer(&mut self, need: &Need, answer: &Answer, token: &str) -> bool {
        let now = self.now;
        match (need, answer) {
            (_, Answer::Ignore) | (Need::AwaitJwks { .. }, _) => false,
            (Need::FetchJwks { issuer, .. }, Answer::Jwks(doc)) => {
                let doc = self.jwks_doc(doc);
                self.jwks_fetched(*issuer, &doc);
                true
            }
            (Need::FetchJwks { issuer, .. }, Answer::JwksFail) => {
                self.authorizer.jwks_failed(*issuer, now);
                true
            }
            (Need::FetchJwks { issuer, .. }, _) => {
                let doc = fixtures().real_doc.clone();
                self.jwks_fetched(*issuer, &doc);
                true
            }
            (Need::LoadPolicies { groups }, Answer::PoliciesFail) => {
                self.authorizer.policies_failed(groups, now);
                true
            }
            (Need::LoadPolicies { groups }, Answer::Policies(choices)) => {
                for (i, g) in groups.iter().enumerate() {
                    match choices.get(i) {
                        Some(choice) => self.load_policy(g, choice),
                        None => self.load_policy(g, &self.honest_policy(g)),
                    }
                }
                true
            }
            (Need::LoadPolicies { groups }, _) => {
                for g in groups {
                    self.load_policy(g, &self.honest_policy(g));
                }
                true
            }
            (Need::CheckSignature { token: hash, check }, answer) => {
                let honest = Self::honest_verdict(check);
                let verdict = match answer {
                    Answer::Verdict(v) => *v,
                    _ => honest,
                };
                self.checks.push((*hash, token.to_string()));
                if verdict {
                    self.vouched.insert(token.to_string());
                }
                self.authorizer.signature_checked(*hash, verdict);
                true
            }
            (Need::LoadRevocations { .. }, _) => {
                panic!("LoadRevocations, but no fuzzed config has revocation")
            }
        }
    }

    fn check_need(&self, need: &Need, token: &str) {
        let issuers = &self.config.issuers;
        match need {
            Need::FetchJwks { issuer, url } => {
                let configured = issuers.get(*issuer).expect("FetchJwks for no issuer");
                assert_eq!(*url, configured.jwks_uri, "fetch of an unconfigured URL");
            }
            Need::AwaitJwks { issuer } => assert!(*issuer < issuers.len()),
            Need::LoadPolicies { groups } => {
                assert!(
                    self.authorizer.loads_policies(),
                    "LoadPolicies with bundled policies"
                );
                assert!(!groups.is_empty(), "LoadPolicies of no group");
                if let Some(claims) = self.known.get(token).and_then(|m| m.claims.as_ref()) {
                    let of_token: Vec<&str> = match claims.get(self.groups_claim()) {
                        Some(Value::Array(items)) => {
                            items.iter().filter_map(Value::as_str).collect()
                        }
                        Some(Value::String(s)) => vec![s.as_str()],
                        _ => Vec::new(),
                    };
                    for g in groups {
                        assert!(
                            of_token.contains(&g.as_str()),
                            "LoadPolicies of `{g}`, not a group of the token ({of_token:?})"
                        );
                    }
                }
            }
            Need::CheckSignature { check, .. } => {
                assert!(
                    self.setup.defer_to_host,
                    "CheckSignature with inline crypto"
                );
                assert!(
                    token
                        .strip_prefix(check.signing_input.as_str())
                        .is_some_and(|rest| rest.starts_with('.')),
                    "CheckSignature of other bytes than the token's"
                );
                assert!(check.key.allows(check.algorithm));
            }
            Need::LoadRevocations { .. } => {
                panic!("LoadRevocations, but no fuzzed config has revocation")
            }
        }
    }

    fn check_decision(&self, decision: &Decision, request: &Request<'_>) {
        if trace() {
            eprintln!(
                "decision: {} {}",
                decision.outcome.as_str(),
                decision.reason
            );
        }
        let _ = self.authorizer.render(decision);
        let _ = self
            .authorizer
            .api_gateway_policy(decision, request, self.now);
        // A denial answers with its configured response, an allow with none.
        if !decision.is_allowed() {
            assert!(self.authorizer.render(decision).body.is_some());
            return;
        }
        assert!(self.authorizer.render(decision).body.is_none());
        let token = match self.config.credentials.extract(request) {
            Ok(token) => token,
            Err(e) => panic!("allowed a request without a usable token: {e:?}"),
        };
        // Signed by a published key (or vouched for by the host), and intact.
        let minted = self.known.get(token);
        let genuine = minted.is_some_and(|m| {
            m.intact
                && m.signer.is_some_and(|s| {
                    m.issuer
                        .is_some_and(|i| self.published.get(i).is_some_and(|p| p.contains(&s)))
                })
        });
        let vouched = self.setup.defer_to_host && self.vouched.contains(token);
        assert!(
            genuine || vouched,
            "allowed a token not signed by a published key: {token} ({minted:?})"
        );
        let identity = decision.identity().expect("an allow has an identity");
        let claims = decision.claims().expect("an allow has claims");
        if let Some(known) = minted.and_then(|m| m.claims.as_ref()) {
            assert_eq!(
                claims.map(),
                known,
                "the decision's claims are not the token's"
            );
        }
        let issuer = self
            .config
            .issuers
            .iter()
            .find(|i| i.issuer == identity.issuer)
            .expect("the identity's issuer is configured");
        assert_eq!(
            claims.get("iss").and_then(Value::as_str),
            Some(issuer.issuer.as_str())
        );
        assert_eq!(
            claims.get("sub").and_then(Value::as_str),
            Some(identity.subject.as_str())
        );
        // Unexpired at now, within the grace.
        let grace = self.config.grace_seconds;
        let date = |name: &str| {
            claims.get(name).and_then(Value::as_number).and_then(|n| {
                n.as_u64()
                    .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            })
        };
        match date("exp") {
            Some(exp) => assert!(
                self.now < exp.saturating_add(grace),
                "allowed at {} a token that expired at {exp} (grace {grace})",
                self.now
            ),
            None => assert!(!issuer.require_exp, "allowed a token without exp"),
        }
        for name in ["nbf", "iat"] {
            if let Some(t) = date(name) {
                assert!(
                    t <= self.now.saturating_add(grace),
                    "allowed at {} a token with {name} {t}",
                    self.now
                );
            }
        }
        // The latest policies of its groups allow this request.
        let mut policies: Vec<(String, Arc<PolicyDocument>)> = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for g in &identity.groups {
            if seen.contains(&g.as_str()) {
                continue;
            }
            seen.push(g);
            if self.setup.bundled {
                if let Some(doc) = self.bundled.get(g) {
                    policies.push((g.clone(), doc.clone()));
                }
                continue;
            }
            match self.stored.get(g) {
                Some(Stored::Present(doc)) => policies.push((g.clone(), doc.clone())),
                Some(Stored::Absent) => {}
                Some(Stored::Invalid) => panic!("allowed although the policy of `{g}` is invalid"),
                None => panic!("allowed without the policy of `{g}` ever loaded"),
            }
        }
        if let Some(doc) = &self.everyone {
            policies.push(("everyone".into(), doc.clone()));
        }
        if identity.groups.is_empty() {
            if let Some(doc) = &self.no_group {
                policies.push(("no-group".into(), doc.clone()));
            }
        }
        let mut arn = String::new();
        match request.method_arn {
            Some(given) => arn.push_str(given),
            None => self
                .config
                .api
                .write_arn(request.method, request.path, &mut arn),
        }
        let lowered: Vec<(String, &str)> = request
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), *v))
            .collect();
        let headers: Vec<(&str, &str)> = lowered.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let ctx = EvalContext {
            source_ip: request.source_ip,
            now: self.now,
            secure_transport: request.secure_transport,
            user_agent: request.header("user-agent"),
            referer: request.header("referer"),
            claims: Some(claims),
            headers: &headers,
            query: request.query,
        };
        let refs: Vec<(&str, &PolicyDocument)> =
            policies.iter().map(|(l, d)| (l.as_str(), &**d)).collect();
        let e = evaluate(&refs, ACTION, &arn, &ctx);
        assert_eq!(
            e.decision,
            PolicyDecision::Allow,
            "allowed {arn} but the latest policies of {:?} say {}",
            identity.groups,
            e.decision
        );
    }

    fn run(&mut self, ops: &[Op]) {
        for op in ops.iter().take(48) {
            match op {
                Op::Authorize(a) => self.authorize(a),
                Op::Advance(s) => self.now += u64::from(*s),
                Op::Jump(s) => self.now = self.now.saturating_add(u64::from(*s)),
                Op::StepBack(s) => self.now = self.now.saturating_sub(u64::from(*s)),
                Op::JwksFetched { issuer, doc } => {
                    let issuer = usize::from(*issuer) % (self.config.issuers.len() + 1);
                    let doc = self.jwks_doc(doc);
                    self.jwks_fetched(issuer, &doc);
                }
                Op::JwksFailed { issuer } => {
                    let issuer = usize::from(*issuer) % (self.config.issuers.len() + 1);
                    self.authorizer.jwks_failed(issuer, self.now);
                }
                Op::PolicyLoaded { group, policy } => self.load_policy(&group_name(group), policy),
                Op::PoliciesFailed { groups } => {
                    let groups: Vec<String> = groups.iter().take(6).map(group_name).collect();
                    self.authorizer.policies_failed(&groups, self.now);
                }
                Op::SignatureChecked { which, valid } => {
                    if self.checks.is_empty() {
                        continue;
                    }
                    let (hash, token) =
                        self.checks[usize::from(*which) % self.checks.len()].clone();
                    if *valid {
                        self.vouched.insert(token);
                    }
                    self.authorizer.signature_checked(hash, *valid);
                }
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let Some(mut harness) = Harness::new(input.setup) else {
        return;
    };
    harness.run(&input.ops);
});
