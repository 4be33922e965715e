//! The tables read with `BatchGetItem`: the seed's policy table (hash key `group` S,
//! attribute `policy`: a map, or a JSON string) and the revocation table (hash key `key` S,
//! attribute `record`: JSON text or a map, TTL attribute `expiresAt` N). In chunks of 100
//! keys, only the key and the value attributes projected, `UnprocessedKeys` retried with
//! exponential backoff, everything bounded in time.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use serde_json::{Map, Number, Value};

/// BatchGetItem's limit.
pub const BATCH_SIZE: usize = 100;

/// What a table holds under a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// No item (or, in a table with a TTL attribute, an item past it): no policy, no record.
    Absent,
    /// The value attribute as a JSON value (from a map).
    Value(Value),
    /// The value attribute as JSON text.
    Text(String),
    /// An item without a usable value attribute: a group denied, a record taken as
    /// revoking; logged.
    Unusable(&'static str),
}

/// The shape of a table's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// The hash key attribute (S).
    pub key: &'static str,
    /// The attribute holding the value (a map, or JSON text).
    pub value: &'static str,
    /// The table's TTL attribute (N, seconds since the epoch), if it has one: an item past
    /// it is absent, as DynamoDB would delete it (its deletion lags, reads do not filter).
    pub expires_at: Option<&'static str>,
    /// Messages for an item without a usable value.
    pub no_value: &'static str,
    /// And for a value of another type.
    pub wrong_type: &'static str,
}

/// The seed's policy table: `group` → `policy`.
pub const POLICIES: Schema = Schema {
    key: "group",
    value: "policy",
    expires_at: None,
    no_value: "the item has no `policy` attribute",
    wrong_type: "`policy` is neither a map nor a JSON string",
};

/// The revocation table: `key` → `record`, TTL attribute `expiresAt`.
pub const REVOCATIONS: Schema = Schema {
    key: "key",
    value: "record",
    expires_at: Some("expiresAt"),
    no_value: "the item has no `record` attribute",
    wrong_type: "`record` is neither a map nor a JSON string",
};

/// Why loading failed (the callers get a deny, or a stale answer where configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(pub String);

/// A table read with `BatchGetItem`: the policy table ([`POLICIES`], the name kept from
/// when it was the only one) or the revocation table ([`REVOCATIONS`]).
#[derive(Debug, Clone)]
pub struct PolicyTable {
    client: Client,
    table: String,
    schema: Schema,
    attempts: u32,
    budget: Duration,
    /// `BatchGetItem` calls sent, shared by clones (logs, tests).
    calls: Arc<AtomicU64>,
}

impl PolicyTable {
    /// The policy table, read with `client`; `attempts` bounds the `UnprocessedKeys`
    /// rounds and `budget` the whole load.
    pub fn new(client: Client, table: String, attempts: u32, budget: Duration) -> Self {
        Self::with_schema(client, table, POLICIES, attempts, budget)
    }

    /// The revocation table (`REVOCATION_TABLE`), as [`new`](Self::new) otherwise.
    pub fn revocations(client: Client, table: String, attempts: u32, budget: Duration) -> Self {
        Self::with_schema(client, table, REVOCATIONS, attempts, budget)
    }

    /// A table of items shaped as `schema`.
    pub fn with_schema(
        client: Client,
        table: String,
        schema: Schema,
        attempts: u32,
        budget: Duration,
    ) -> Self {
        Self {
            client,
            table,
            schema,
            attempts: attempts.max(1),
            budget,
            calls: Arc::default(),
        }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.table
    }

    /// How many `BatchGetItem` calls were sent so far (retries of `UnprocessedKeys`
    /// included; the SDK's own retries of a failed call not). A call that read another
    /// table with this one ([`load_together`]) counts for the first table it read only.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Loads the items of `keys` (every key gets an answer, or the load fails). `now`
    /// (seconds since the epoch) is compared with the TTL attribute, if the table has one.
    pub async fn load(
        &self,
        keys: &[String],
        now: u64,
    ) -> Result<Vec<(String, Stored)>, LoadError> {
        let mut loaded = load_together(&[(self, keys)], now).await?;
        Ok(loaded.pop().unwrap_or_default())
    }

    /// The request for `keys` of this table: only the attributes read (`group` and `key`
    /// are reserved words, hence the names).
    fn request(&self, keys: &[&String]) -> Result<KeysAndAttributes, LoadError> {
        let schema = self.schema;
        let mut projection = String::from("#k, #v");
        let mut names = HashMap::from([
            ("#k".to_owned(), schema.key.to_owned()),
            ("#v".to_owned(), schema.value.to_owned()),
        ]);
        if let Some(ttl) = schema.expires_at {
            projection.push_str(", #t");
            names.insert("#t".to_owned(), ttl.to_owned());
        }
        let keys = keys
            .iter()
            .map(|k| HashMap::from([(schema.key.to_owned(), AttributeValue::S((*k).clone()))]))
            .collect::<Vec<_>>();
        KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(false)
            .projection_expression(projection)
            .set_expression_attribute_names(Some(names))
            .build()
            .map_err(|e| LoadError(format!("request: {e}")))
    }
}

/// Loads the keys of several tables together: one `BatchGetItem` per round for all of them
/// (a revocation check and the policies it leads to, in one call), with the client, the
/// `UnprocessedKeys` rounds and the time budget of the first. Every key of every table gets
/// an answer, in the order of `reads`, or the whole load fails. More keys than one call
/// takes, or two reads of one table, are loaded table by table.
pub async fn load_together(
    reads: &[(&PolicyTable, &[String])],
    now: u64,
) -> Result<Vec<Vec<(String, Stored)>>, LoadError> {
    let unique: Vec<Vec<&String>> = reads
        .iter()
        .map(|(_, keys)| {
            let mut seen = HashSet::new();
            keys.iter().filter(|k| seen.insert(k.as_str())).collect()
        })
        .collect();
    let total: usize = unique.iter().map(Vec::len).sum();
    let names: HashSet<&str> = reads.iter().map(|(t, _)| t.table.as_str()).collect();
    if reads.len() > 1 && (total > BATCH_SIZE || names.len() < reads.len()) {
        let mut out = Vec::with_capacity(reads.len());
        for (table, keys) in reads {
            out.push(
                Box::pin(load_together(&[(table, keys)], now))
                    .await?
                    .pop()
                    .unwrap_or_default(),
            );
        }
        return Ok(out);
    }
    let Some((first, _)) = reads.first() else {
        return Ok(Vec::new());
    };
    let started = Instant::now();
    let mut found: Vec<HashMap<String, Stored>> = reads.iter().map(|_| HashMap::new()).collect();
    for round in chunks(&unique) {
        let mut pending: HashMap<String, KeysAndAttributes> = HashMap::new();
        for (i, keys) in round.iter().enumerate() {
            if let (Some((table, _)), false) = (reads.get(i), keys.is_empty()) {
                pending.insert(table.table.clone(), table.request(keys)?);
            }
        }
        let mut attempt = 0u32;
        while !pending.is_empty() {
            attempt += 1;
            let remaining = first.budget.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                return Err(LoadError("time budget exhausted".into()));
            }
            // Counted once, by the first table the call reads.
            if let Some((table, _)) = reads.iter().find(|(t, _)| pending.contains_key(&t.table)) {
                table.calls.fetch_add(1, Ordering::Relaxed);
            }
            let call = first
                .client
                .batch_get_item()
                .set_request_items(Some(std::mem::take(&mut pending)))
                .send();
            let output = match tokio::time::timeout(remaining, call).await {
                Ok(Ok(output)) => output,
                Ok(Err(e)) => {
                    return Err(LoadError(format!(
                        "BatchGetItem: {}",
                        aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                    )))
                }
                Err(_) => return Err(LoadError("BatchGetItem timed out".into())),
            };
            let mut responses = output.responses.unwrap_or_default();
            let mut unprocessed = output.unprocessed_keys.unwrap_or_default();
            for (i, (table, _)) in reads.iter().enumerate() {
                let schema = table.schema;
                for item in responses.remove(&table.table).unwrap_or_default() {
                    let Some(AttributeValue::S(key)) = item.get(schema.key) else {
                        continue;
                    };
                    if let Some(found) = found.get_mut(i) {
                        found.insert(key.clone(), stored(&item, &schema, now));
                    }
                }
                if let Some(left) = unprocessed
                    .remove(&table.table)
                    .filter(|k| !k.keys.is_empty())
                {
                    pending.insert(table.table.clone(), left);
                }
            }
            if !pending.is_empty() {
                if attempt >= first.attempts {
                    let left: usize = pending.values().map(|k| k.keys.len()).sum();
                    return Err(LoadError(format!(
                        "{left} keys still unprocessed after {attempt} attempts"
                    )));
                }
                // 25 ms, 50 ms, 100 ms, ... capped at 800 ms, within the budget.
                let backoff = Duration::from_millis(25u64 << (attempt - 1).min(5));
                tokio::time::sleep(backoff.min(first.budget.saturating_sub(started.elapsed())))
                    .await;
            }
        }
    }
    Ok(unique
        .into_iter()
        .zip(found)
        .map(|(keys, mut found)| {
            keys.into_iter()
                .map(|k| {
                    (
                        k.clone(),
                        found.remove(k.as_str()).unwrap_or(Stored::Absent),
                    )
                })
                .collect()
        })
        .collect())
}

/// The rounds of a load: `BATCH_SIZE` keys at most per call. Several tables come in one
/// round (their sum fits, see `load_together`); one table's keys are cut into rounds.
fn chunks<'k>(unique: &[Vec<&'k String>]) -> Vec<Vec<Vec<&'k String>>> {
    match unique {
        [one] => one.chunks(BATCH_SIZE).map(|c| vec![c.to_vec()]).collect(),
        many => vec![many.to_vec()],
    }
}

fn stored(item: &HashMap<String, AttributeValue>, schema: &Schema, now: u64) -> Stored {
    // DynamoDB's TTL ignores an attribute that is not a number; so does this.
    let expired = schema
        .expires_at
        .and_then(|ttl| match item.get(ttl) {
            Some(AttributeValue::N(n)) => n.parse::<u64>().ok(),
            _ => None,
        })
        .is_some_and(|at| at <= now);
    if expired {
        return Stored::Absent;
    }
    match item.get(schema.value) {
        None | Some(AttributeValue::Null(_)) => Stored::Unusable(schema.no_value),
        Some(AttributeValue::S(text)) => Stored::Text(text.clone()),
        Some(map @ AttributeValue::M(_)) => match to_json(map) {
            Ok(value) => Stored::Value(value),
            Err(why) => Stored::Unusable(why),
        },
        Some(_) => Stored::Unusable(schema.wrong_type),
    }
}

/// A DynamoDB attribute as JSON (numbers kept exact when they fit, binary refused).
pub fn to_json(value: &AttributeValue) -> Result<Value, &'static str> {
    Ok(match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => Value::Number(number(n)?),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::L(items) => {
            Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        AttributeValue::M(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k.clone(), to_json(v)?);
            }
            Value::Object(out)
        }
        AttributeValue::Ss(items) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(items) => Value::Array(
            items
                .iter()
                .map(|n| number(n).map(Value::Number))
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err("the value holds a binary or unknown attribute type"),
    })
}

fn number(text: &str) -> Result<Number, &'static str> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Number::from(i));
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or("the value holds a number JSON cannot represent")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_attribute_values() {
        let m = AttributeValue::M(HashMap::from([
            ("Version".to_owned(), AttributeValue::S("2012-10-17".into())),
            ("N".to_owned(), AttributeValue::N("42".into())),
            (
                "L".to_owned(),
                AttributeValue::L(vec![
                    AttributeValue::Bool(true),
                    AttributeValue::N("1.5".into()),
                ]),
            ),
        ]));
        assert_eq!(
            to_json(&m).unwrap(),
            serde_json::json!({"Version": "2012-10-17", "N": 42, "L": [true, 1.5]})
        );
        let b = AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![1]));
        assert!(to_json(&b).is_err());
    }

    #[test]
    fn items_without_a_policy_are_unusable() {
        let item = HashMap::from([("group".to_owned(), AttributeValue::S("g".into()))]);
        assert!(matches!(stored(&item, &POLICIES, 0), Stored::Unusable(_)));
        let item = HashMap::from([("policy".to_owned(), AttributeValue::N("1".into()))]);
        assert!(matches!(stored(&item, &POLICIES, 0), Stored::Unusable(_)));
        let item = HashMap::from([("policy".to_owned(), AttributeValue::S("{}".into()))]);
        assert_eq!(stored(&item, &POLICIES, 0), Stored::Text("{}".into()));
    }

    #[test]
    fn revocation_items_past_their_ttl_are_absent() {
        let item = |ttl: AttributeValue| {
            HashMap::from([
                ("key".to_owned(), AttributeValue::S("token#i#j".into())),
                ("record".to_owned(), AttributeValue::S("{}".into())),
                ("expiresAt".to_owned(), ttl),
            ])
        };
        let live = item(AttributeValue::N("100".into()));
        assert_eq!(stored(&live, &REVOCATIONS, 99), Stored::Text("{}".into()));
        assert_eq!(stored(&live, &REVOCATIONS, 100), Stored::Absent);
        // Not a number: DynamoDB's TTL ignores it, and so does the read.
        let odd = item(AttributeValue::S("100".into()));
        assert_eq!(stored(&odd, &REVOCATIONS, 200), Stored::Text("{}".into()));
        // The policy table has no TTL attribute.
        let policy = HashMap::from([
            ("policy".to_owned(), AttributeValue::S("{}".into())),
            ("expiresAt".to_owned(), AttributeValue::N("1".into())),
        ]);
        assert_eq!(stored(&policy, &POLICIES, 200), Stored::Text("{}".into()));
        let bare = HashMap::from([("key".to_owned(), AttributeValue::S("user#i#s".into()))]);
        assert_eq!(
            stored(&bare, &REVOCATIONS, 0),
            Stored::Unusable("the item has no `record` attribute")
        );
        let map = HashMap::from([(
            "record".to_owned(),
            AttributeValue::M(HashMap::from([(
                "before".to_owned(),
                AttributeValue::N("7".into()),
            )])),
        )]);
        assert_eq!(
            stored(&map, &REVOCATIONS, 0),
            Stored::Value(serde_json::json!({"before": 7}))
        );
    }
}
