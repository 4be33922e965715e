//! Load-time errors and warnings, each with the location of the offending element.

use alloc::{string::String, vec::Vec};
use core::fmt;

/// What is wrong with a policy element. Every variant has a stable snake_case
/// [`code`](PolicyError::code).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The text is not JSON (`invalid_json`).
    InvalidJson(String),
    /// A member appears twice in one object (`duplicate_key`).
    DuplicateKey(String),
    /// A member we do not know (`unknown_field`).
    UnknownField(String),
    /// A required member is missing (`missing_field`).
    MissingField(&'static str),
    /// The element has the wrong JSON type (`invalid_type`).
    InvalidType {
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// `Version` is neither `2012-10-17` nor `2008-10-17` (`unsupported_version`).
    UnsupportedVersion(String),
    /// `Effect` is neither `Allow` nor `Deny` (`invalid_effect`).
    InvalidEffect(String),
    /// `Principal`/`NotPrincipal` in an identity policy (`principal_not_allowed`).
    PrincipalNotAllowed,
    /// Both `X` and `NotX` (`conflicting_fields`).
    ConflictingFields(&'static str, &'static str),
    /// Two statements share a Sid (`duplicate_sid`).
    DuplicateSid(String),
    /// An empty array or string where a value is required (`empty_value`).
    EmptyValue,
    /// An action that is not `*` nor `service:action` (`invalid_action`).
    InvalidAction(String),
    /// An unknown condition operator (`unknown_operator`).
    UnknownOperator(String),
    /// A condition key we do not populate (`unsupported_condition_key`).
    UnsupportedConditionKey(String),
    /// An operator that cannot apply to this key (`operator_key_mismatch`).
    OperatorKeyMismatch {
        /// The operator.
        operator: String,
        /// The key.
        key: String,
    },
    /// `Null` combined with `IfExists` or a set qualifier (`invalid_null`).
    InvalidNull(&'static str),
    /// A malformed CIDR (`invalid_cidr`).
    InvalidCidr(String),
    /// A malformed date (`invalid_date`).
    InvalidDate(String),
    /// A malformed number (`invalid_number`).
    InvalidNumber(String),
    /// A malformed boolean (`invalid_boolean`).
    InvalidBoolean(String),
    /// A malformed base64 value (`invalid_base64`).
    InvalidBase64(String),
    /// A malformed ARN (`invalid_arn`).
    InvalidArn(String),
    /// A malformed `${...}` (`invalid_variable`).
    InvalidVariable(String),
    /// A policy variable where IAM does not allow one (`variable_not_allowed`).
    VariableNotAllowed(&'static str),
    /// A policy variable naming a key we cannot substitute (`unsupported_variable`).
    UnsupportedVariable(String),
    /// A condition or variable reads a request value that API Gateway's authorizer cache
    /// does not key on, so a cached policy would be reused where it no longer holds
    /// (`uncached_request_value`).
    UncachedRequestValue {
        /// The key (`request:header/x-env`, `aws:SourceIp`, ...).
        key: String,
        /// How to make it safe.
        fix: String,
    },
}

impl PolicyErrorKind {
    /// The stable snake_case code of this kind.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson(_) => "invalid_json",
            Self::DuplicateKey(_) => "duplicate_key",
            Self::UnknownField(_) => "unknown_field",
            Self::MissingField(_) => "missing_field",
            Self::InvalidType { .. } => "invalid_type",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::InvalidEffect(_) => "invalid_effect",
            Self::PrincipalNotAllowed => "principal_not_allowed",
            Self::ConflictingFields(..) => "conflicting_fields",
            Self::DuplicateSid(_) => "duplicate_sid",
            Self::EmptyValue => "empty_value",
            Self::InvalidAction(_) => "invalid_action",
            Self::UnknownOperator(_) => "unknown_operator",
            Self::UnsupportedConditionKey(_) => "unsupported_condition_key",
            Self::OperatorKeyMismatch { .. } => "operator_key_mismatch",
            Self::InvalidNull(_) => "invalid_null",
            Self::InvalidCidr(_) => "invalid_cidr",
            Self::InvalidDate(_) => "invalid_date",
            Self::InvalidNumber(_) => "invalid_number",
            Self::InvalidBoolean(_) => "invalid_boolean",
            Self::InvalidBase64(_) => "invalid_base64",
            Self::InvalidArn(_) => "invalid_arn",
            Self::InvalidVariable(_) => "invalid_variable",
            Self::VariableNotAllowed(_) => "variable_not_allowed",
            Self::UnsupportedVariable(_) => "unsupported_variable",
            Self::UncachedRequestValue { .. } => "uncached_request_value",
        }
    }
}

impl fmt::Display for PolicyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidJson(e) => write!(f, "invalid JSON: {e}"),
            Self::DuplicateKey(k) => write!(f, "duplicate key {k:?}"),
            Self::UnknownField(k) => write!(f, "unknown field {k:?}"),
            Self::MissingField(k) => write!(f, "missing {k}"),
            Self::InvalidType { expected, found } => write!(f, "expected {expected}, found {found}"),
            Self::UnsupportedVersion(v) => {
                write!(f, "unsupported Version {v:?} (expected \"2012-10-17\" or \"2008-10-17\")")
            }
            Self::InvalidEffect(e) => write!(f, "invalid Effect {e:?} (expected \"Allow\" or \"Deny\")"),
            Self::PrincipalNotAllowed => f.write_str(
                "Principal/NotPrincipal is not allowed in an identity policy (the principal is the token's user)",
            ),
            Self::ConflictingFields(a, b) => write!(f, "{a} and {b} cannot both be present"),
            Self::DuplicateSid(s) => write!(f, "duplicate Sid {s:?}"),
            Self::EmptyValue => f.write_str("empty value"),
            Self::InvalidAction(a) => {
                write!(f, "invalid action {a:?} (expected \"*\" or \"service:action\")")
            }
            Self::UnknownOperator(o) => write!(f, "unknown condition operator {o:?}"),
            Self::UnsupportedConditionKey(k) => write!(f, "unsupported condition key {k:?}"),
            Self::OperatorKeyMismatch { operator, key } => {
                write!(f, "operator {operator} cannot be used with key {key}")
            }
            Self::InvalidNull(why) => write!(f, "Null {why}"),
            Self::InvalidCidr(v) => write!(f, "invalid CIDR {v:?}"),
            Self::InvalidDate(v) => write!(f, "invalid date {v:?} (expected ISO 8601 or epoch seconds)"),
            Self::InvalidNumber(v) => write!(f, "invalid number {v:?}"),
            Self::InvalidBoolean(v) => write!(f, "invalid boolean {v:?} (expected \"true\" or \"false\")"),
            Self::InvalidBase64(v) => write!(f, "invalid base64 {v:?}"),
            Self::InvalidArn(v) => write!(f, "invalid ARN {v:?}"),
            Self::InvalidVariable(v) => write!(f, "invalid policy variable in {v:?}"),
            Self::VariableNotAllowed(why) => write!(f, "policy variables are not allowed {why}"),
            Self::UnsupportedVariable(k) => write!(f, "unsupported policy variable ${{{k}}}"),
            Self::UncachedRequestValue { key, fix } => write!(
                f,
                "reads `{key}`, which API Gateway's authorizer cache does not key on: a cached policy would be reused for requests where it no longer holds; {fix}"
            ),
        }
    }
}

/// One load-time error: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    location: String,
    kind: PolicyErrorKind,
}

impl PolicyError {
    pub(crate) fn new(location: String, kind: PolicyErrorKind) -> Self {
        Self { location, kind }
    }
    /// Where, e.g. `Statement[1].Condition.IpAddress.aws:SourceIp[0]` (empty for the document).
    pub fn location(&self) -> &str {
        &self.location
    }
    /// What.
    pub fn kind(&self) -> &PolicyErrorKind {
        &self.kind
    }
    /// The stable snake_case code, e.g. `invalid_cidr`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}: {}", self.location, self.kind)
        }
    }
}

impl core::error::Error for PolicyError {}

/// Every error found in a document (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl core::error::Error for PolicyErrors {}

/// A load-time warning: the policy is valid but probably not what its author meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWarning {
    location: String,
    code: &'static str,
    message: String,
}

impl PolicyWarning {
    pub(crate) fn new(location: String, code: &'static str, message: String) -> Self {
        Self {
            location,
            code,
            message,
        }
    }
    /// Where.
    pub fn location(&self) -> &str {
        &self.location
    }
    /// Stable snake_case code: `missing_version`, `wildcard_in_string_equals`,
    /// `cidr_host_bits`, `allow_with_not_action`, `allow_with_not_resource`,
    /// `greedy_execute_api_wildcard`, `redundant_statement`.
    pub fn code(&self) -> &'static str {
        self.code
    }
    /// Human-readable explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PolicyWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{} [{}]", self.message, self.code)
        } else {
            write!(f, "{}: {} [{}]", self.location, self.message, self.code)
        }
    }
}
