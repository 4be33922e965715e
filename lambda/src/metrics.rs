//! Metrics in CloudWatch's Embedded Metric Format (EMF): one JSON line per decision on
//! stdout, which CloudWatch Logs turns into metrics as it ingests the function's log stream
//! (no `PutMetricData` call, no permission, nothing added to the invocation's latency but
//! the write).
//!
//! Namespace `METRICS_NAMESPACE` (default `EdgeAuthz`); dimension sets `[Outcome]` and
//! `[Outcome, Reason]`; metrics `Decisions` (Count, 1 per decision) and `Latency`
//! (Milliseconds, from the event's arrival to the answer). The event kind rides along as the
//! property `Kind` (searchable in Logs Insights, not a dimension). Never a token, a principal
//! or a path: only the outcome and the reason code, whose sets are bounded, so the custom
//! metrics are too (2 metrics × (outcomes + outcome/reason pairs seen)).

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

/// The namespace when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_NAMESPACE: &str = "EdgeAuthz";

/// Where and how decisions are counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    namespace: String,
}

impl Metrics {
    /// EMF metrics under `namespace`: 1–255 ASCII letters, digits, spaces and `.-_/#:`, not
    /// starting with `AWS/` (CloudWatch's rules for custom namespaces).
    pub fn new(namespace: &str) -> Result<Self, String> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || " .-_/#:".contains(c);
        if namespace.trim().is_empty() || namespace.len() > 255 {
            return Err(format!("{namespace:?} must be 1 to 255 characters"));
        }
        if let Some(bad) = namespace.chars().find(|c| !allowed(*c)) {
            return Err(format!(
                "{namespace:?} holds {bad:?}: CloudWatch namespaces are ASCII letters, digits, spaces and . - _ / # :"
            ));
        }
        if namespace.starts_with("AWS/") {
            return Err(format!(
                "{namespace:?}: namespaces starting with AWS/ are AWS's own"
            ));
        }
        Ok(Self {
            namespace: namespace.to_owned(),
        })
    }

    /// The CloudWatch namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The EMF line (without its newline) for one decision at `timestamp_ms` (milliseconds
    /// since the epoch).
    pub fn line(
        &self,
        outcome: &str,
        reason: &str,
        kind: &str,
        latency_ms: f64,
        timestamp_ms: u64,
    ) -> String {
        json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [["Outcome"], ["Outcome", "Reason"]],
                    "Metrics": [
                        { "Name": "Decisions", "Unit": "Count" },
                        { "Name": "Latency", "Unit": "Milliseconds" }
                    ]
                }]
            },
            "Outcome": outcome,
            "Reason": reason,
            "Kind": kind,
            "Decisions": 1,
            // Microsecond resolution is plenty; fewer digits in the log.
            "Latency": (latency_ms * 1000.0).round() / 1000.0,
        })
        .to_string()
    }

    /// Writes the decision's line to stdout, in one write under stdout's lock (the JSON
    /// logs share the stream: lines never interleave). A failed write is dropped: metrics
    /// never fail an invocation.
    pub fn emit(&self, outcome: &str, reason: &str, kind: &str, latency_ms: f64) {
        let timestamp_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut line = self.line(outcome, reason, kind, latency_ms, timestamp_ms);
        line.push('\n');
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn one_line_of_emf() {
        let metrics = Metrics::new("EdgeAuthz/prod").unwrap();
        let line = metrics.line(
            "forbidden",
            "implicit_deny",
            "request",
            1.234_567,
            1_700_000_000_123,
        );
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_123u64);
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "EdgeAuthz/prod");
        // Every dimension and metric a directive names is a member of the line.
        for set in directive["Dimensions"].as_array().unwrap() {
            for name in set.as_array().unwrap() {
                assert!(v[name.as_str().unwrap()].is_string(), "{name}");
            }
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(v[metric["Name"].as_str().unwrap()].is_number(), "{metric}");
        }
        assert_eq!(v["Outcome"], "forbidden");
        assert_eq!(v["Reason"], "implicit_deny");
        assert_eq!(v["Kind"], "request");
        assert_eq!(v["Decisions"], 1);
        assert_eq!(v["Latency"], 1.235);
    }

    #[test]
    fn namespaces_as_cloudwatch_takes_them() {
        for good in ["EdgeAuthz", "My App/prod", "a.b-c_d/e#f:g"] {
            assert!(Metrics::new(good).is_ok(), "{good}");
        }
        for bad in ["", "   ", "AWS/Lambda", "é", "a\"b", &"x".repeat(256)] {
            assert!(Metrics::new(bad).is_err(), "{bad}");
        }
    }
}
