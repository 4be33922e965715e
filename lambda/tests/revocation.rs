//! Revocation through the handler against moto's DynamoDB (`REVOCATION_TABLE` and
//! `POLICY_TABLE`), the clock a parameter: a caller allowed, its decision then answered
//! from the core's caches (no DynamoDB call); a user cutoff written with PutItem as
//! `edge-authz revoke --format dynamodb` prints it (hash key `key`, `record` as JSON text,
//! TTL attribute `expiresAt`; tests/cli.rs pins the CLI to that shape); the token still
//! allowed inside the freshness window, refused once it has passed, and never allowed
//! after from any cache: the core's nor API Gateway's, simulated with
//! `AUTHORIZER_CACHE_TTL` equal to the freshness. Also what a first-seen caller costs in
//! DynamoDB calls.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use common::revocations;
use common::*;
use edge_authz::Revocation;
use edge_authz_lambda::dynamo::PolicyTable;
use edge_authz_lambda::{Handler, Settings, Tables};
use serde_json::json;

const POLICIES: &str = "auth-policy-store";
const REVOCATIONS: &str = "auth-revocations";
/// The core's default `revocation.freshnessSeconds`, which `REVOCATION_TABLE` turns on.
const FRESHNESS: u64 = 30;
/// API Gateway's authorizer cache TTL, at most the freshness as the README asks.
const TTL: u64 = FRESHNESS;
const PATH: &str = "/petstore/v1/pets";

fn token(sub: &str, jti: &str, iat: u64) -> String {
    let claims = json!({
        "sub": sub, "iss": ISS, "client_id": CLIENT, "token_use": "access",
        "username": sub, "cognito:groups": ["pet-veterinarian"],
        "iat": iat, "exp": iat + 3600, "jti": jti, "origin_jti": format!("{jti}-session"),
    });
    support::sign_token(&support::suite_keys(), "suite-rsa-1", None, &claims, false)
}

struct World {
    _moto: Moto,
    client: aws_sdk_dynamodb::Client,
    handler: Handler,
    policies: PolicyTable,
    revocations: PolicyTable,
}

impl World {
    async fn start(t0: u64) -> Self {
        let moto = Moto::start();
        let client = dynamodb_client(&moto.endpoint);
        let items = serde_json::Map::from_iter([("pet-veterinarian".to_owned(), vet_policy())]);
        seed_table(&client, POLICIES, &items).await;
        revocations::create_table(&client, REVOCATIONS).await;
        let jwks = temp_file("jwks.json", &jwks_of(&["suite-rsa-1"]));
        let vars: BTreeMap<String, String> = [
            ("USER_POOL_ID", POOL),
            ("CLIENT_IDS", CLIENT),
            ("JWKS_URI", "http://127.0.0.1:9/jwks.json"),
            ("JWKS_FILE", &jwks.display().to_string()),
            ("POLICY_TABLE", POLICIES),
            ("REVOCATION_TABLE", REVOCATIONS),
            ("AUTHORIZER_CACHE_TTL", &TTL.to_string()),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let settings = Settings::from_vars(&vars).expect("settings");
        assert!(
            settings.config.warnings.is_empty(),
            "TTL = freshness: no warning, got {:?}",
            settings.config.warnings
        );
        let budget = Duration::from_secs(5);
        let policies = PolicyTable::new(client.clone(), POLICIES.into(), 4, budget);
        let revocations = PolicyTable::revocations(client.clone(), REVOCATIONS.into(), 4, budget);
        let tables = Tables {
            policies: Some(policies.clone()),
            revocations: Some(revocations.clone()),
        };
        let handler = Handler::with_tables(settings, tables, t0).expect("handler");
        Self {
            _moto: moto,
            client,
            handler,
            policies,
            revocations,
        }
    }

    /// (allowed, reason, policy table calls, revocation table calls) of one invocation.
    async fn call(&self, token: &str, now: u64) -> (bool, &'static str, u64, u64) {
        let (p, r) = (self.policies.calls(), self.revocations.calls());
        let event = request_event(Some(token), "GET", PATH, "192.0.2.10");
        let handled = self.handler.handle(event, now).await;
        let allowed = handled
            .result
            .as_ref()
            .is_ok_and(|response| policy_allows(response, &format!("{ARN_PREFIX}/GET{PATH}")));
        (
            allowed,
            handled.reason(),
            self.policies.calls() - p,
            self.revocations.calls() - r,
        )
    }

    /// Writes the item `edge-authz revoke --format dynamodb` prints for `revocation` at
    /// `now` (its default `--expires`: a day after the cutoff).
    async fn put_as_the_cli_does(&self, revocation: &Revocation, start: u64) {
        let expires_at = start + 86_400;
        let record = revocation.record_json(Some(expires_at)).to_string();
        self.client
            .put_item()
            .table_name(REVOCATIONS)
            .item("key", AttributeValue::S(revocation.key()))
            .item("record", AttributeValue::S(record))
            .item("expiresAt", AttributeValue::N(expires_at.to_string()))
            .send()
            .await
            .expect("put item");
    }
}

/// API Gateway's authorizer cache for one identity source value: the answer of the last
/// invocation, served without asking for `TTL` seconds.
struct ApiGatewayCache {
    cached: Option<(u64, bool)>,
}

impl ApiGatewayCache {
    async fn request(&mut self, world: &World, token: &str, now: u64) -> (bool, bool) {
        if let Some((at, allowed)) = self.cached {
            if now < at + TTL {
                return (allowed, true);
            }
        }
        let (allowed, ..) = world.call(token, now).await;
        self.cached = Some((now, allowed));
        (allowed, false)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: run by `make lambda-test`"]
async fn a_written_cutoff_refuses_a_cached_caller_within_the_window() {
    let t0 = 1_767_225_600;
    let world = World::start(t0).await;
    let alice = token("alice", "alice-1", t0 - 60);

    // First seen: ONE BatchGetItem for both tables (the caller's three record keys and its
    // group's policy, which the core names with the records it asks for).
    let first = world.call(&alice, t0).await;
    assert_eq!(
        first,
        (true, "allowed", 0, 1),
        "first-seen caller: one call for both tables"
    );
    // Seen: answered from the core's caches, no DynamoDB call.
    assert_eq!(world.call(&alice, t0 + 1).await, (true, "allowed", 0, 0));

    // The user signs out: a cutoff at t0 + 5, written as the CLI prints it.
    let written = t0 + 5;
    let cutoff = Revocation::User {
        issuer: ISS.to_owned(),
        subject: "alice".to_owned(),
        before: written,
    };
    world.put_as_the_cli_does(&cutoff, written).await;

    // Within the freshness window of the last read (t0): still allowed, from the caches.
    assert_eq!(
        world.call(&alice, t0 + FRESHNESS - 1).await,
        (true, "allowed", 0, 0)
    );
    // The window has passed: read again, refused.
    assert_eq!(
        world.call(&alice, t0 + FRESHNESS).await,
        (false, "revoked", 0, 1)
    );
    // And never allowed again: the core's caches hold the refusal, re-read per window.
    for dt in [FRESHNESS + 1, 2 * FRESHNESS - 1, 2 * FRESHNESS, 600, 3_000] {
        let (allowed, reason, policy_calls, _) = world.call(&alice, t0 + dt).await;
        assert!(!allowed && reason == "revoked", "t0 + {dt}: {reason}");
        assert_eq!(policy_calls, 0);
    }
    // Another user, and alice's token issued after the cutoff, are allowed.
    let bob = token("bob", "bob-1", t0 - 60);
    assert_eq!(world.call(&bob, t0 + 40).await, (true, "allowed", 0, 1));
    let fresh = token("alice", "alice-2", written + 1);
    assert!(world.call(&fresh, t0 + 40).await.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: run by `make lambda-test`"]
async fn api_gateways_cache_holds_an_allow_at_most_freshness_plus_ttl() {
    let t0 = 1_767_225_600;
    let world = World::start(t0).await;
    let carol = token("carol", "carol-1", t0 - 60);
    let mut gateway = ApiGatewayCache { cached: None };
    let written = t0 + 17;
    let mut last_allowed = None;
    let mut first_refused_by_function = None;
    // A request every second for 5 minutes; the session is revoked at t0 + 17.
    for now in t0..t0 + 300 {
        if now == written {
            let session = Revocation::Session {
                issuer: ISS.to_owned(),
                origin_jti: "carol-1-session".to_owned(),
            };
            world.put_as_the_cli_does(&session, written).await;
        }
        let (allowed, from_cache) = gateway.request(&world, &carol, now).await;
        if allowed {
            last_allowed = Some(now);
            assert!(
                first_refused_by_function.is_none(),
                "allowed at t0 + {} ({}) after the function refused",
                now - t0,
                if from_cache {
                    "API Gateway's cache"
                } else {
                    "the function"
                }
            );
        } else if !from_cache && first_refused_by_function.is_none() {
            first_refused_by_function = Some(now);
        }
    }
    let last = last_allowed.expect("allowed before the revocation");
    let refused = first_refused_by_function.expect("refused after it");
    assert!(
        refused < written + FRESHNESS + TTL && last < written + FRESHNESS + TTL,
        "revocation at t0 + 17 took effect at t0 + {} (last allow t0 + {}): beyond freshness + TTL",
        refused - t0,
        last - t0
    );
    println!(
        "session revoked at t0 + 17: the function refuses from t0 + {}, last allow (API Gateway's cache) at t0 + {}; bound freshness {FRESHNESS} + TTL {TTL} s",
        refused - t0,
        last - t0
    );
}
