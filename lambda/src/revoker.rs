//! The revoker: Cognito's user-pool API calls, as CloudTrail records them and EventBridge
//! delivers them (`detail-type` "AWS API Call via CloudTrail", `source` `aws.cognito-idp`),
//! turned into user cutoffs in the authorizer's revocation table, so that sign-out, disable,
//! delete and group removal revoke the user's tokens at the edge within the authorizer's
//! freshness window.
//!
//! [`plan`] maps one event to what to write, without I/O; [`Revoker::handle`] writes it with
//! `PutItem`. Cognito records the user's `sub` in the event's `additionalEventData` and never
//! the username (it shows `HIDDEN_DUE_TO_SECURITY_REASONS`), so no Cognito lookup is made:
//! an event without a `sub` cannot be mapped and is logged as `revocation_missed` (see
//! `lambda/README.md` for what each call carries and what to do instead).

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use edge_authz::Revocation;
use serde_json::Value;

/// How long a cutoff is kept (`expiresAt`): the core's [`edge_authz::RECORD_LIFETIME`], a
/// day and the largest grace, after which it covers no token.
pub const MAX_TOKEN_LIFETIME: u64 = edge_authz::RECORD_LIFETIME;

/// The EventBridge `detail-type` of CloudTrail's API call events.
pub const DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// What Cognito writes in place of the values it keeps out of CloudTrail.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// The calls that end a user's access: each one becomes a cutoff at the event's time. The
/// template's EventBridge rule lists exactly these.
pub const REVOKING_CALLS: [&str; 6] = [
    "AdminUserGlobalSignOut",
    "GlobalSignOut",
    "AdminDisableUser",
    "AdminDeleteUser",
    "DeleteUser",
    "AdminRemoveUserFromGroup",
];

/// The revoker's configuration (environment variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokerSettings {
    /// The user pool whose calls are acted on (`USER_POOL_ID`).
    pub user_pool_id: String,
    /// The tokens' `iss` (derived from the pool, or `ISSUER`): the records' key prefix.
    pub issuer: String,
    /// The revocation table (`REVOCATION_TABLE`).
    pub table: String,
    /// How long after its cutoff a record may be dropped (`RECORD_TTL_SECONDS`, default a
    /// day: Cognito's longest token lifetime).
    pub record_ttl: u64,
}

impl RevokerSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self, String> {
        let vars = std::env::vars()
            .filter(|(k, _)| {
                matches!(
                    k.as_str(),
                    "USER_POOL_ID" | "ISSUER" | "REVOCATION_TABLE" | "RECORD_TTL_SECONDS"
                )
            })
            .collect();
        Self::from_vars(&vars)
    }

    /// Reads the settings from `vars`; every problem in one message.
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<Self, String> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut problems = Vec::new();
        let pool = get("USER_POOL_ID").unwrap_or_default().to_owned();
        let region = pool
            .split_once('_')
            .filter(|(region, id)| !region.is_empty() && !id.is_empty())
            .map(|(region, _)| region.to_owned());
        if region.is_none() {
            problems.push(format!(
                "USER_POOL_ID: {pool:?} is not a user pool id like `us-east-1_AbC123`"
            ));
        }
        let issuer = get("ISSUER").map_or_else(
            || {
                format!(
                    "https://cognito-idp.{}.amazonaws.com/{pool}",
                    region.clone().unwrap_or_default()
                )
            },
            str::to_owned,
        );
        let table = get("REVOCATION_TABLE").unwrap_or_default().to_owned();
        if table.is_empty() {
            problems.push("REVOCATION_TABLE: is required".to_owned());
        }
        let record_ttl = match get("RECORD_TTL_SECONDS") {
            None => MAX_TOKEN_LIFETIME,
            Some(text) => match text.parse::<u64>() {
                Ok(seconds) if seconds > 0 => seconds,
                _ => {
                    problems.push(format!(
                        "RECORD_TTL_SECONDS: {text:?} is not a positive number of seconds"
                    ));
                    MAX_TOKEN_LIFETIME
                }
            },
        };
        if problems.is_empty() {
            Ok(Self {
                user_pool_id: pool,
                issuer,
                table,
                record_ttl,
            })
        } else {
            Err(format!("invalid configuration: {}", problems.join("; ")))
        }
    }
}

/// A user cutoff to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cutoff {
    /// The API call it comes from.
    pub call: String,
    /// CloudTrail's `eventID` (for logs).
    pub event_id: String,
    /// The user (`sub`) and the cutoff (the call's `eventTime`).
    pub revocation: Revocation,
    /// When the table may drop the record.
    pub expires_at: u64,
}

impl Cutoff {
    /// The table's key.
    pub fn key(&self) -> String {
        self.revocation.key()
    }

    /// The cutoff: tokens issued at or before it are refused.
    pub fn before(&self) -> u64 {
        match &self.revocation {
            Revocation::User { before, .. } => *before,
            // `plan` makes user cutoffs only; anything else refuses every token.
            _ => u64::MAX,
        }
    }

    /// The `record` attribute: `{"before":T,"expiresAt":E}`.
    pub fn record(&self) -> String {
        self.revocation
            .record_json(Some(self.expires_at))
            .to_string()
    }
}

/// Why an event writes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Not a CloudTrail API call event of Cognito user pools.
    NotCognitoCall,
    /// A call that revokes nothing here (`RevokeToken` included: see [`plan`]).
    NotRevoking {
        /// The call.
        call: String,
    },
    /// The call failed (`errorCode`): nothing changed in Cognito.
    CallFailed {
        /// The call.
        call: String,
        /// CloudTrail's `errorCode`.
        error: String,
    },
    /// The call was made on another user pool.
    OtherPool {
        /// The call.
        call: String,
        /// Its pool.
        pool: String,
    },
    /// The event does not name the user (no `additionalEventData.sub`): the revocation is
    /// missed, and must be written by hand (`edge-authz revoke --sub`).
    NoSubject {
        /// The call.
        call: String,
        /// CloudTrail's `eventID`.
        event_id: String,
    },
    /// The event has no readable `eventTime`.
    NoTime {
        /// The call.
        call: String,
    },
}

impl Skip {
    /// Whether a revocation that should have happened did not (logged as an error).
    pub fn missed(&self) -> bool {
        matches!(self, Self::NoSubject { .. } | Self::NoTime { .. })
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotCognitoCall => f.write_str("not a Cognito user pool API call from CloudTrail"),
            Self::NotRevoking { call } if call == "RevokeToken" => f.write_str(
                "RevokeToken ends one sign-in (its origin_jti), which the event does not carry; \
                 the app that revokes the token writes the session record",
            ),
            Self::NotRevoking { call } => write!(f, "{call} revokes nothing"),
            Self::CallFailed { call, error } => {
                write!(f, "{call} failed ({error}): nothing changed")
            }
            Self::OtherPool { call, pool } => write!(f, "{call} on another user pool ({pool})"),
            Self::NoSubject { call, event_id } => write!(
                f,
                "{call} (event {event_id}) does not carry the user's sub: write the cutoff with \
                 `edge-authz revoke --sub SUB --format dynamodb`"
            ),
            Self::NoTime { call } => write!(f, "{call}: the event has no readable eventTime"),
        }
    }
}

/// What one event means: a cutoff to write, or why nothing is written.
pub fn plan(event: &Value, settings: &RevokerSettings) -> Result<Cutoff, Skip> {
    // The EventBridge envelope, or a bare CloudTrail record (replayed from a trail).
    let detail = match event.get("detail") {
        Some(detail) => {
            if event.get("detail-type").and_then(Value::as_str) != Some(DETAIL_TYPE)
                || event.get("source").and_then(Value::as_str) != Some("aws.cognito-idp")
            {
                return Err(Skip::NotCognitoCall);
            }
            detail
        }
        None => event,
    };
    if detail.get("eventSource").and_then(Value::as_str) != Some("cognito-idp.amazonaws.com") {
        return Err(Skip::NotCognitoCall);
    }
    let Some(call) = detail.get("eventName").and_then(Value::as_str) else {
        return Err(Skip::NotCognitoCall);
    };
    let call = call.to_owned();
    if !REVOKING_CALLS.contains(&call.as_str()) {
        return Err(Skip::NotRevoking { call });
    }
    if let Some(error) = detail
        .get("errorCode")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
    {
        return Err(Skip::CallFailed {
            call,
            error: error.to_owned(),
        });
    }
    // Admin calls name their pool; token-authorized ones (GlobalSignOut, DeleteUser) do not,
    // and are taken as this pool's (a sub of another pool never matches this issuer's keys).
    let pool = [
        detail.pointer("/requestParameters/userPoolId"),
        detail.pointer("/additionalEventData/userPoolId"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_str);
    if let Some(pool) = pool.filter(|p| *p != settings.user_pool_id) {
        return Err(Skip::OtherPool {
            call,
            pool: pool.to_owned(),
        });
    }
    let event_id = detail
        .get("eventID")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let subject = detail
        .pointer("/additionalEventData/sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && *s != HIDDEN && !s.chars().any(char::is_control));
    let Some(subject) = subject else {
        return Err(Skip::NoSubject { call, event_id });
    };
    let Some(before) = detail
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(parse_event_time)
    else {
        return Err(Skip::NoTime { call });
    };
    Ok(Cutoff {
        call,
        event_id,
        revocation: Revocation::User {
            issuer: settings.issuer.clone(),
            subject: subject.to_owned(),
            before,
        },
        expires_at: before.saturating_add(settings.record_ttl),
    })
}

/// CloudTrail's `eventTime` (`2024-05-06T07:08:09Z`, fractions ignored) in seconds since
/// the epoch.
pub fn parse_event_time(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let time = time.split_once('.').map_or(time, |(whole, _)| whole);
    let number = |s: &str, len: usize| -> Option<u64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut d = date.split('-');
    let (year, month, day) = (
        number(d.next()?, 4)?,
        number(d.next()?, 2)?,
        number(d.next()?, 2)?,
    );
    let mut t = time.split(':');
    let (hour, minute, second) = (
        number(t.next()?, 2)?,
        number(t.next()?, 2)?,
        number(t.next()?, 2)?,
    );
    if d.next().is_some()
        || t.next().is_some()
        || !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), proleptic Gregorian.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// What [`Revoker::handle`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// The cutoff was written.
    Written(Cutoff),
    /// The table already held a cutoff as late or later (events may arrive out of order).
    Covered(Cutoff),
    /// Nothing to write.
    Skipped(Skip),
}

/// Writes the cutoffs of Cognito's calls to the revocation table.
#[derive(Debug, Clone)]
pub struct Revoker {
    settings: RevokerSettings,
    client: Client,
}

impl Revoker {
    /// A revoker writing with `client`.
    pub fn new(settings: RevokerSettings, client: Client) -> Self {
        Self { settings, client }
    }

    /// The settings.
    pub fn settings(&self) -> &RevokerSettings {
        &self.settings
    }

    /// Handles one event: `PutItem` of the cutoff, unless the table holds a later one. A
    /// failed write is an error, so that Lambda retries the (asynchronous) invocation.
    pub async fn handle(&self, event: &Value) -> Result<Handled, String> {
        let cutoff = match plan(event, &self.settings) {
            Ok(cutoff) => cutoff,
            Err(skip) => return Ok(Handled::Skipped(skip)),
        };
        let written = self
            .client
            .put_item()
            .table_name(&self.settings.table)
            .item("key", AttributeValue::S(cutoff.key()))
            .item("record", AttributeValue::S(cutoff.record()))
            .item(
                "expiresAt",
                AttributeValue::N(cutoff.expires_at.to_string()),
            )
            .item("before", AttributeValue::N(cutoff.before().to_string()))
            // A later cutoff is never replaced by an earlier one, whatever either's
            // `expiresAt` (an operator may have written a longer one): that would let tokens
            // issued in between through again. `edge-authz revoke --format dynamodb` writes
            // `before` and the same condition.
            .condition_expression("attribute_not_exists(#b) OR #b < :b")
            .expression_attribute_names("#b", "before")
            .expression_attribute_values(":b", AttributeValue::N(cutoff.before().to_string()))
            .send()
            .await;
        match written {
            Ok(_) => Ok(Handled::Written(cutoff)),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(Handled::Covered(cutoff))
            }
            Err(e) => Err(format!(
                "PutItem {} on {}: {}",
                cutoff.key(),
                self.settings.table,
                aws_sdk_dynamodb::error::DisplayErrorContext(&e)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_are_utc_seconds() {
        assert_eq!(parse_event_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_event_time("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            parse_event_time("2024-02-29T12:34:56Z"),
            Some(1_709_210_096)
        );
        assert_eq!(
            parse_event_time("2024-02-29T12:34:56.789Z"),
            Some(1_709_210_096)
        );
        for bad in [
            "",
            "2024-02-29T12:34:56",
            "2024-02-29 12:34:56Z",
            "2024-13-01T00:00:00Z",
            "2024-2-01T00:00:00Z",
            "2024-02-29T24:00:00Z",
            "+024-02-29T12:34:56Z",
            "2024-02-29T12:34:56+01:00",
        ] {
            assert_eq!(parse_event_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn settings_derive_the_issuer_and_report_every_problem() {
        let vars = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let s = RevokerSettings::from_vars(&vars(&[
            ("USER_POOL_ID", "eu-west-1_Abc"),
            ("REVOCATION_TABLE", "revocations"),
        ]))
        .unwrap();
        assert_eq!(
            s.issuer,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc"
        );
        assert_eq!(s.record_ttl, MAX_TOKEN_LIFETIME);
        let e = RevokerSettings::from_vars(&vars(&[
            ("USER_POOL_ID", "nope"),
            ("RECORD_TTL_SECONDS", "0"),
        ]))
        .unwrap_err();
        assert!(
            e.contains("USER_POOL_ID") && e.contains("REVOCATION_TABLE"),
            "{e}"
        );
        assert!(e.contains("RECORD_TTL_SECONDS"), "{e}");
    }
}
