//! Condition operators: their names, their values as [validation](super::validate) parses
//! them, and their evaluation per request.

use alloc::{string::String, vec::Vec};

use serde_json::Value;

use super::glob::{split_arn, Glob};
use super::keys::{text, values, CtxVal, Key, KeyType, TextBuf};
use super::scalar::{parse_bool, parse_date, parse_number, Cidr};
use super::EvalContext;

/// How a numeric or date operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn test<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// A `StringEqualsIgnoreCase` value: lowercased text, or a pattern with variables.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CiValue {
    Plain(String),
    Vars(Glob),
}

/// The positive test of an operator against one context value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    StrEq(Vec<Glob>),
    StrEqCi(Vec<CiValue>),
    StrLike(Vec<Glob>),
    Num(Cmp, Vec<f64>),
    Date(Cmp, Vec<i64>),
    Bool(Vec<bool>),
    Binary(Vec<Vec<u8>>),
    Ip(Vec<Cidr>),
    Arn(Vec<[Glob; 6]>),
    Null(Vec<bool>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQual {
    None,
    ForAll,
    ForAny,
}

/// One operator applied to one key: `{"IpAddress": {"aws:SourceIp": [...]}}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    key: Key,
    test: Test,
    negated: bool,
    if_exists: bool,
    set: SetQual,
    /// `IpAddress aws:SourceIp`, as written, for explanations.
    pub(crate) label: String,
}

/// The type of value an operator reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// An operator without its qualifiers, negation folded in [`OperatorName`].
pub(crate) enum Base {
    StrEq,
    StrEqCi,
    StrLike,
    Num(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

fn base_operator(name: &str) -> Option<(Base, bool)> {
    use Base::*;
    Some(match name {
        "StringEquals" => (StrEq, false),
        "StringNotEquals" => (StrEq, true),
        "StringEqualsIgnoreCase" => (StrEqCi, false),
        "StringNotEqualsIgnoreCase" => (StrEqCi, true),
        "StringLike" => (StrLike, false),
        "StringNotLike" => (StrLike, true),
        "NumericEquals" => (Num(Cmp::Eq), false),
        "NumericNotEquals" => (Num(Cmp::Eq), true),
        "NumericLessThan" => (Num(Cmp::Lt), false),
        "NumericLessThanEquals" => (Num(Cmp::Le), false),
        "NumericGreaterThan" => (Num(Cmp::Gt), false),
        "NumericGreaterThanEquals" => (Num(Cmp::Ge), false),
        "DateEquals" => (Date(Cmp::Eq), false),
        "DateNotEquals" => (Date(Cmp::Eq), true),
        "DateLessThan" => (Date(Cmp::Lt), false),
        "DateLessThanEquals" => (Date(Cmp::Le), false),
        "DateGreaterThan" => (Date(Cmp::Gt), false),
        "DateGreaterThanEquals" => (Date(Cmp::Ge), false),
        "Bool" => (Bool, false),
        "BinaryEquals" => (Binary, false),
        "IpAddress" => (Ip, false),
        "NotIpAddress" => (Ip, true),
        "ArnEquals" | "ArnLike" => (Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Arn, true),
        "Null" => (Null, false),
        _ => return None,
    })
}

impl Base {
    pub(crate) fn family(&self) -> Family {
        match self {
            Base::StrEq | Base::StrEqCi | Base::StrLike => Family::String,
            Base::Num(_) => Family::Numeric,
            Base::Date(_) => Family::Date,
            Base::Bool => Family::Bool,
            Base::Binary => Family::Binary,
            Base::Ip => Family::Ip,
            Base::Arn => Family::Arn,
            Base::Null => Family::Null,
        }
    }

    /// Whether the values may hold policy variables (String and Arn operators).
    pub(crate) fn takes_variables(&self) -> bool {
        matches!(self.family(), Family::String | Family::Arn)
    }
}

/// Whether an operator of `family` can read a key of type `ty`.
pub(crate) fn compatible(family: Family, ty: KeyType) -> bool {
    match family {
        Family::Null => true,
        Family::String | Family::Binary => matches!(ty, KeyType::Text | KeyType::Claim),
        Family::Numeric => matches!(ty, KeyType::Epoch | KeyType::Claim),
        Family::Date => matches!(ty, KeyType::Date | KeyType::Epoch | KeyType::Claim),
        Family::Bool => matches!(ty, KeyType::Bool | KeyType::Claim),
        Family::Ip => ty == KeyType::Ip,
        Family::Arn => ty == KeyType::Claim,
    }
}

/// An operator name taken apart: `ForAnyValue:StringNotLikeIfExists`.
pub(crate) struct OperatorName {
    pub(crate) base: Base,
    negated: bool,
    if_exists: bool,
    set: SetQual,
}

impl OperatorName {
    /// `None` for an unknown operator (names are case-sensitive).
    pub(crate) fn parse(op: &str) -> Option<OperatorName> {
        let (set, rest) = if let Some(r) = op.strip_prefix("ForAllValues:") {
            (SetQual::ForAll, r)
        } else if let Some(r) = op.strip_prefix("ForAnyValue:") {
            (SetQual::ForAny, r)
        } else {
            (SetQual::None, op)
        };
        let (if_exists, base_name) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let (base, negated) = base_operator(base_name)?;
        Some(OperatorName {
            base,
            negated,
            if_exists,
            set,
        })
    }

    /// Why a `Null` operator is malformed, if it is: it tests presence, so "if it exists"
    /// and per-value qualifiers make no sense.
    pub(crate) fn invalid_null(&self) -> Option<&'static str> {
        if self.base.family() != Family::Null {
            None
        } else if self.if_exists {
            Some("cannot be combined with IfExists")
        } else if self.set != SetQual::None {
            Some("cannot be combined with ForAllValues/ForAnyValue")
        } else {
            None
        }
    }
}

impl CiValue {
    /// A `StringEqualsIgnoreCase` value: lower-cased once here unless it has variables.
    pub(crate) fn new(pattern: Glob, text: &str) -> CiValue {
        if pattern.vars().is_empty() {
            CiValue::Plain(text.to_lowercase())
        } else {
            CiValue::Vars(pattern)
        }
    }
}

impl Condition {
    /// `name` applied to `key`, with its values parsed into `test`.
    pub(crate) fn new(key: Key, name: &OperatorName, test: Test, label: String) -> Condition {
        Condition {
            key,
            test,
            negated: name.negated,
            if_exists: name.if_exists,
            set: name.set,
            label,
        }
    }

    /// The key this condition reads and the variables in its values.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &Key> {
        let globs: &[Glob] = match &self.test {
            Test::StrEq(g) | Test::StrLike(g) => g,
            _ => &[],
        };
        let ci = match &self.test {
            Test::StrEqCi(v) => v.as_slice(),
            _ => &[],
        };
        let arns = match &self.test {
            Test::Arn(a) => a.as_slice(),
            _ => &[],
        };
        core::iter::once(&self.key)
            .chain(globs.iter().flat_map(|g| g.vars().iter().map(|v| &v.key)))
            .chain(ci.iter().flat_map(|c| {
                match c {
                    CiValue::Vars(g) => g.vars(),
                    CiValue::Plain(_) => &[],
                }
                .iter()
                .map(|v| &v.key)
            }))
            .chain(
                arns.iter()
                    .flatten()
                    .flat_map(|g| g.vars().iter().map(|v| &v.key)),
            )
    }

    /// Whether the condition holds in `ctx`.
    pub(crate) fn holds(&self, ctx: &EvalContext<'_>) -> bool {
        let mut vals = values(&self.key, ctx);
        if let Test::Null(expect) = &self.test {
            // `Null: true` means "the key is absent"; values OR.
            return expect.iter().any(|&e| e != vals.present);
        }
        if !vals.present {
            return self.if_exists
                || match self.set {
                    SetQual::ForAll => true,
                    SetQual::ForAny => false,
                    SetQual::None => self.negated,
                };
        }
        let per_value = |v: CtxVal<'_>| self.test_one(v, ctx) != self.negated;
        match self.set {
            SetQual::ForAll => vals.all(per_value),
            SetQual::ForAny => vals.any(per_value),
            // Negated operators are NOR over the policy values and every context value.
            SetQual::None if self.negated => vals.all(per_value),
            SetQual::None => vals.any(per_value),
        }
    }

    /// The positive test: does one context value match any of the policy values?
    fn test_one(&self, v: CtxVal<'_>, ctx: &EvalContext<'_>) -> bool {
        let mut buf = TextBuf::new();
        match &self.test {
            Test::StrEq(gs) | Test::StrLike(gs) => {
                text(v, &mut buf).is_some_and(|t| gs.iter().any(|g| g.matches(t, Some(ctx))))
            }
            Test::StrEqCi(cs) => text(v, &mut buf).is_some_and(|t| {
                cs.iter().any(|c| match c {
                    CiValue::Plain(p) => eq_ci(t, p),
                    CiValue::Vars(g) => g.render(ctx).is_some_and(|(r, _)| eq_ci(t, &r)),
                })
            }),
            Test::Num(cmp, ns) => as_number(v).is_some_and(|x| ns.iter().any(|n| cmp.test(x, *n))),
            Test::Date(cmp, ds) => as_date(v).is_some_and(|x| ds.iter().any(|n| cmp.test(x, *n))),
            Test::Bool(bs) => as_bool(v).is_some_and(|x| bs.contains(&x)),
            Test::Binary(bs) => {
                text(v, &mut buf).is_some_and(|t| bs.iter().any(|b| b == t.as_bytes()))
            }
            Test::Ip(cs) => match v {
                CtxVal::Ip(ip) => cs.iter().any(|c| c.contains(ip)),
                _ => false,
            },
            Test::Arn(arns) => text(v, &mut buf)
                .and_then(|t| split_arn(t, false))
                .is_some_and(|parts| {
                    arns.iter().any(|a| {
                        a.iter()
                            .zip(parts.iter())
                            .all(|(g, p)| g.matches(p, Some(ctx)))
                    })
                }),
            Test::Null(_) => false,
        }
    }
}

fn eq_ci(a: &str, lower: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(lower.chars().flat_map(char::to_lowercase))
}

fn as_number(v: CtxVal<'_>) -> Option<f64> {
    match v {
        CtxVal::Time(t) => Some(t as f64),
        CtxVal::Json(Value::Number(n)) => n.as_f64(),
        CtxVal::Json(Value::String(s)) => parse_number(s),
        CtxVal::Str(s) => parse_number(s),
        _ => None,
    }
}

fn as_date(v: CtxVal<'_>) -> Option<i64> {
    match v {
        CtxVal::Time(t) => i64::try_from(t).ok()?.checked_mul(1000),
        CtxVal::Json(Value::Number(n)) => {
            let f = n.as_f64()?;
            (f.abs() < 1.0e13).then_some((f * 1000.0) as i64)
        }
        CtxVal::Json(Value::String(s)) => parse_date(s),
        CtxVal::Str(s) => parse_date(s),
        _ => None,
    }
}

fn as_bool(v: CtxVal<'_>) -> Option<bool> {
    match v {
        CtxVal::Bool(b) => Some(b),
        CtxVal::Json(Value::Bool(b)) => Some(*b),
        CtxVal::Json(Value::String(s)) => parse_bool(s),
        CtxVal::Str(s) => parse_bool(s),
        _ => None,
    }
}
