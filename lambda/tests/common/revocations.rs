//! The revocation table in moto: created, written and deleted through the SDK, items shaped
//! as `edge-authz revoke --format dynamodb` prints them (hash key `key` S, `record` as JSON
//! text or a map, TTL attribute `expiresAt` N when the record has one).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use serde_json::{Map, Value};

use super::attribute;

/// How a record is written: JSON text (as the CLI prints it) or a DynamoDB map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordForm {
    Text,
    Map,
}

/// The item for `record` under `key`: a JSON object as `form` says, with `expiresAt` as the
/// TTL attribute when it has one; any other JSON (a string: the text itself) as text.
pub fn item(key: &str, record: &Value, form: RecordForm) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([("key".to_owned(), AttributeValue::S(key.to_owned()))]);
    let value = match (record, form) {
        (Value::String(text), _) => AttributeValue::S(text.clone()),
        (Value::Object(_), RecordForm::Map) => attribute(record),
        (other, _) => AttributeValue::S(other.to_string()),
    };
    item.insert("record".to_owned(), value);
    if let Some(at) = record.get("expiresAt").and_then(Value::as_u64) {
        item.insert("expiresAt".to_owned(), AttributeValue::N(at.to_string()));
    }
    item
}

/// Creates the revocation table (`key` S hash key).
pub async fn create_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    client
        .create_table()
        .table_name(table)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("key")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("key")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create the revocation table");
}

/// Writes `record` under `key` (PutItem), or deletes the item for a null record.
pub async fn write(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
    record: &Value,
    form: RecordForm,
) {
    if record.is_null() {
        client
            .delete_item()
            .table_name(table)
            .key("key", AttributeValue::S(key.to_owned()))
            .send()
            .await
            .expect("delete item");
        return;
    }
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item(key, record, form)))
        .send()
        .await
        .expect("put item");
}

/// Creates the table and writes `records` (key → record; null: no item).
pub async fn seed(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    records: &Map<String, Value>,
    form: RecordForm,
) {
    create_table(client, table).await;
    for (key, record) in records {
        if !record.is_null() {
            write(client, table, key, record, form).await;
        }
    }
}

/// Deletes the table (reads fail with ResourceNotFoundException: the store is "down").
pub async fn drop_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    client
        .delete_table()
        .table_name(table)
        .send()
        .await
        .expect("delete the revocation table");
}
