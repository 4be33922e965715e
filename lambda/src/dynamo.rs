//! Group policies from the seed's DynamoDB table: hash key `group` (S), attribute `policy`
//! (a map, or a JSON string). `BatchGetItem` in chunks of 100 keys, `UnprocessedKeys`
//! retried with exponential backoff, everything bounded in time.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use serde_json::{Map, Number, Value};

/// BatchGetItem's limit.
pub const BATCH_SIZE: usize = 100;

/// What the table holds for a group.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// No item: the group has no policy.
    Absent,
    /// The `policy` attribute as a JSON value (from a map).
    Value(Value),
    /// The `policy` attribute as JSON text.
    Text(String),
    /// An item that is not a policy (no `policy`, or an unusable type): denied, logged.
    Unusable(&'static str),
}

/// Why loading failed (the groups' callers get a deny).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(pub String);

/// The policy table.
#[derive(Debug, Clone)]
pub struct PolicyTable {
    client: Client,
    table: String,
    attempts: u32,
    budget: Duration,
}

impl PolicyTable {
    /// A table read with `client`; `attempts` bounds the `UnprocessedKeys` rounds and
    /// `budget` the whole load.
    pub fn new(client: Client, table: String, attempts: u32, budget: Duration) -> Self {
        Self {
            client,
            table,
            attempts: attempts.max(1),
            budget,
        }
    }

    /// Loads the policies of `groups` (every group gets an answer, or the load fails).
    pub async fn load(&self, groups: &[String]) -> Result<Vec<(String, Stored)>, LoadError> {
        let started = Instant::now();
        let mut found: HashMap<String, Stored> = HashMap::new();
        let unique: Vec<&String> = {
            let mut seen = HashSet::new();
            groups.iter().filter(|g| seen.insert(g.as_str())).collect()
        };
        for chunk in unique.chunks(BATCH_SIZE) {
            let keys = chunk
                .iter()
                .map(|g| HashMap::from([("group".to_owned(), AttributeValue::S((*g).clone()))]))
                .collect::<Vec<_>>();
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(false)
                    .build()
                    .map_err(|e| LoadError(format!("request: {e}")))?,
            );
            let mut attempt = 0u32;
            while let Some(request) = pending.take() {
                attempt += 1;
                let remaining = self.budget.saturating_sub(started.elapsed());
                if remaining.is_zero() {
                    return Err(LoadError("time budget exhausted".into()));
                }
                let call = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
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
                for item in output
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    let Some(AttributeValue::S(group)) = item.get("group") else {
                        continue;
                    };
                    found.insert(group.clone(), stored(&item));
                }
                let unprocessed = output
                    .unprocessed_keys
                    .unwrap_or_default()
                    .remove(&self.table)
                    .filter(|k| !k.keys.is_empty());
                if let Some(unprocessed) = unprocessed {
                    if attempt >= self.attempts {
                        return Err(LoadError(format!(
                            "{} keys still unprocessed after {attempt} attempts",
                            unprocessed.keys.len()
                        )));
                    }
                    // 25 ms, 50 ms, 100 ms, ... capped at 800 ms, within the budget.
                    let backoff = Duration::from_millis(25u64 << (attempt - 1).min(5));
                    tokio::time::sleep(backoff.min(self.budget.saturating_sub(started.elapsed())))
                        .await;
                    pending = Some(unprocessed);
                }
            }
        }
        Ok(unique
            .into_iter()
            .map(|g| {
                (
                    g.clone(),
                    found.remove(g.as_str()).unwrap_or(Stored::Absent),
                )
            })
            .collect())
    }
}

fn stored(item: &HashMap<String, AttributeValue>) -> Stored {
    match item.get("policy") {
        None | Some(AttributeValue::Null(_)) => {
            Stored::Unusable("the item has no `policy` attribute")
        }
        Some(AttributeValue::S(text)) => Stored::Text(text.clone()),
        Some(map @ AttributeValue::M(_)) => match to_json(map) {
            Ok(value) => Stored::Value(value),
            Err(why) => Stored::Unusable(why),
        },
        Some(_) => Stored::Unusable("`policy` is neither a map nor a JSON string"),
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
        _ => return Err("the policy holds a binary or unknown attribute type"),
    })
}

fn number(text: &str) -> Result<Number, &'static str> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Number::from(i));
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .ok_or("the policy holds a number JSON cannot represent")
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
        assert!(matches!(stored(&item), Stored::Unusable(_)));
        let item = HashMap::from([("policy".to_owned(), AttributeValue::N("1".into()))]);
        assert!(matches!(stored(&item), Stored::Unusable(_)));
        let item = HashMap::from([("policy".to_owned(), AttributeValue::S("{}".into()))]);
        assert_eq!(stored(&item), Stored::Text("{}".into()));
    }
}
