//! A JSON tree that keeps object members in order and keeps duplicates, so validation can
//! report every duplicate key with its location (serde_json's `Value` silently keeps the
//! last one, which would let a policy say one thing to a reviewer and another to us).

use alloc::{
    string::{String, ToString},
    vec::Vec,
};
use core::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A parsed JSON value; numbers are kept as their canonical text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Members in document order, duplicates included.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A short name of the JSON type, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// Converts an already-parsed `serde_json::Value` (which cannot hold duplicates).
    pub(crate) fn from_value(value: &serde_json::Value) -> Json {
        match value {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => Json::Number(n.to_string()),
            serde_json::Value::String(s) => Json::String(s.clone()),
            serde_json::Value::Array(a) => Json::Array(a.iter().map(Json::from_value).collect()),
            serde_json::Value::Object(o) => Json::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Json::from_value(v)))
                    .collect(),
            ),
        }
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Number(
            serde_json::Number::from_f64(v).map_or_else(|| "NaN".to_string(), |n| n.to_string()),
        ))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Json>()? {
            out.push(v);
        }
        Ok(Json::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            out.push((k, v));
        }
        Ok(Json::Object(out))
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

/// One step of a location in a JSON document: an object member's key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonStep {
    /// An object member, by key.
    Key(String),
    /// An array element, by index.
    Index(usize),
}

/// The location of every object member whose key repeats an earlier member's in the same
/// object, in document order (the repeated key last). `serde_json::Value` keeps the last of
/// such members silently, other readers the first: a tool that reads a document through
/// `Value` asks here first which parts of it are ambiguous. `Err`: `text` is not JSON.
pub fn repeated_members(text: &str) -> Result<Vec<Vec<JsonStep>>, serde_json::Error> {
    let json: Json = serde_json::from_str(text)?;
    let mut found = Vec::new();
    let mut path = Vec::new();
    json.collect_repeated(&mut path, &mut found);
    Ok(found)
}

impl Json {
    fn collect_repeated(&self, path: &mut Vec<JsonStep>, found: &mut Vec<Vec<JsonStep>>) {
        match self {
            Json::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(JsonStep::Index(i));
                    item.collect_repeated(path, found);
                    path.pop();
                }
            }
            Json::Object(members) => {
                let mut seen = alloc::collections::BTreeSet::new();
                for (key, value) in members {
                    path.push(JsonStep::Key(key.clone()));
                    if !seen.insert(key.as_str()) {
                        found.push(path.clone());
                    }
                    value.collect_repeated(path, found);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{repeated_members, JsonStep};
    use alloc::{string::ToString, vec};

    #[test]
    fn repeated_members_are_located_at_any_depth_in_document_order() {
        let key = |k: &str| JsonStep::Key(k.to_string());
        let text = r#"{"a": 1, "b": [{"c": 1, "c": 2, "c": 3}], "a": {"d": {"e": 0, "e": 0}}}"#;
        assert_eq!(
            repeated_members(text).unwrap(),
            vec![
                vec![key("b"), JsonStep::Index(0), key("c")],
                vec![key("b"), JsonStep::Index(0), key("c")],
                vec![key("a")],
                vec![key("a"), key("d"), key("e")],
            ]
        );
        assert!(repeated_members(r#"{"a": {"a": 1}, "b": [1, 1]}"#)
            .unwrap()
            .is_empty());
        assert!(repeated_members(r#"{"a": 1,}"#).is_err());
    }
}
