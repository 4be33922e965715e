//! Condition operators: compiled once from the policy, evaluated per request.

use alloc::{format, string::String, vec::Vec};

use base64ct::Encoding;
use serde_json::Value;

use super::error::{PolicyError, PolicyErrorKind as K, PolicyWarning};
use super::glob::{split_arn, Glob, GlobError, Syntax};
use super::json::Json;
use super::keys::{text, values, CtxVal, Key, KeyType, TextBuf};
use super::scalar::{parse_bool, parse_date, parse_number, Cidr};
use super::EvalContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
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
enum CiValue {
    Plain(String),
    Vars(Glob),
}

/// The positive test of an operator against one context value.
#[derive(Debug, Clone, PartialEq)]
enum Test {
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

enum Base {
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
    fn family(&self) -> Family {
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
}

fn compatible(family: Family, ty: KeyType) -> bool {
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

/// Collects errors and warnings while compiling.
pub(crate) struct Diag {
    pub(crate) errors: Vec<PolicyError>,
    pub(crate) warnings: Vec<PolicyWarning>,
}

impl Diag {
    pub(crate) fn err(&mut self, loc: &str, kind: K) {
        self.errors.push(PolicyError::new(String::from(loc), kind));
    }
    pub(crate) fn warn(&mut self, loc: &str, code: &'static str, message: String) {
        self.warnings
            .push(PolicyWarning::new(String::from(loc), code, message));
    }
}

/// A condition value as text with its location. Numbers and booleans become their JSON
/// text, as in IAM.
fn scalar_values<'j>(v: &'j Json, loc: &str, d: &mut Diag) -> Vec<(String, &'j str)> {
    let one = |v: &'j Json, loc: String, d: &mut Diag| match v {
        Json::String(s) | Json::Number(s) => Some((loc, s.as_str())),
        Json::Bool(true) => Some((loc, "true")),
        Json::Bool(false) => Some((loc, "false")),
        other => {
            d.err(
                &loc,
                K::InvalidType {
                    expected: "a string, number or boolean",
                    found: other.type_name(),
                },
            );
            None
        }
    };
    match v {
        Json::Array(items) => {
            if items.is_empty() {
                d.err(loc, K::EmptyValue);
            }
            items
                .iter()
                .enumerate()
                .filter_map(|(i, it)| one(it, format!("{loc}[{i}]"), d))
                .collect()
        }
        other => one(other, String::from(loc), d).into_iter().collect(),
    }
}

fn glob_error(e: GlobError, text: &str) -> K {
    match e {
        GlobError::Syntax => K::InvalidVariable(String::from(text)),
        GlobError::UnsupportedVariable(k) => K::UnsupportedVariable(k),
    }
}

/// Compiles `"Operator": {"key": values, ...}` into one condition per key.
pub(crate) fn compile_operator(
    op: &str,
    body: &Json,
    loc: &str,
    variables: bool,
    d: &mut Diag,
    out: &mut Vec<Condition>,
) {
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
    let Some((base, negated)) = base_operator(base_name) else {
        d.err(loc, K::UnknownOperator(String::from(op)));
        return;
    };
    let family = base.family();
    if family == Family::Null && if_exists {
        d.err(loc, K::InvalidNull("cannot be combined with IfExists"));
        return;
    }
    if family == Family::Null && set != SetQual::None {
        d.err(
            loc,
            K::InvalidNull("cannot be combined with ForAllValues/ForAnyValue"),
        );
        return;
    }
    let Json::Object(members) = body else {
        d.err(
            loc,
            K::InvalidType {
                expected: "an object of condition keys",
                found: body.type_name(),
            },
        );
        return;
    };
    if members.is_empty() {
        d.err(loc, K::EmptyValue);
    }
    let mut seen = hashbrown::HashSet::with_capacity(members.len());
    for (name, value) in members {
        let kloc = format!("{loc}.{name}");
        let Some(key) = Key::parse(name) else {
            d.err(&kloc, K::UnsupportedConditionKey(name.clone()));
            continue;
        };
        // Key names are case-insensitive, so `aws:SourceIp` and `aws:sourceip` are duplicates.
        if !seen.insert(key.clone()) {
            d.err(&kloc, K::DuplicateKey(name.clone()));
            continue;
        }
        if !compatible(family, key.key_type()) {
            d.err(
                &kloc,
                K::OperatorKeyMismatch {
                    operator: String::from(op),
                    key: name.clone(),
                },
            );
            continue;
        }
        let vals = scalar_values(value, &kloc, d);
        let vars_here = variables && matches!(family, Family::String | Family::Arn);
        let mut test_ok = true;
        let check_no_vars = |s: &str, vloc: &str, d: &mut Diag| {
            if variables && s.contains("${") {
                d.err(
                    vloc,
                    K::VariableNotAllowed(
                        "in this operator's values (only String and Arn operators)",
                    ),
                );
                false
            } else {
                true
            }
        };
        let syntax = |wildcards| Syntax {
            wildcards,
            variables: vars_here,
            ci: false,
        };
        let mut globs = |wildcards: bool, d: &mut Diag| -> Vec<Glob> {
            let mut v = Vec::new();
            for (vloc, s) in &vals {
                match Glob::new(s, syntax(wildcards)) {
                    Ok(g) => v.push(g),
                    Err(e) => {
                        d.err(vloc, glob_error(e, s));
                        test_ok = false;
                    }
                }
            }
            v
        };
        let test = match base {
            Base::StrEq => {
                for (vloc, s) in &vals {
                    if s.contains(['*', '?']) {
                        d.warn(
                            vloc,
                            "wildcard_in_string_equals",
                            format!("{op} compares {s:?} literally: `*` and `?` are wildcards only in StringLike"),
                        );
                    }
                }
                Test::StrEq(globs(false, d))
            }
            Base::StrLike => Test::StrLike(globs(true, d)),
            Base::StrEqCi => {
                for (vloc, s) in &vals {
                    if s.contains(['*', '?']) {
                        d.warn(
                            vloc,
                            "wildcard_in_string_equals",
                            format!("{op} compares {s:?} literally: `*` and `?` are wildcards only in StringLike"),
                        );
                    }
                }
                let gs = globs(false, d);
                Test::StrEqCi(
                    gs.into_iter()
                        .zip(&vals)
                        .map(|(g, (_, s))| {
                            if g.vars().is_empty() {
                                CiValue::Plain(s.to_lowercase())
                            } else {
                                CiValue::Vars(g)
                            }
                        })
                        .collect(),
                )
            }
            Base::Num(cmp) => {
                let mut nums = Vec::new();
                for (vloc, s) in &vals {
                    if !check_no_vars(s, vloc, d) {
                        test_ok = false;
                    } else if let Some(n) = parse_number(s) {
                        nums.push(n);
                    } else {
                        d.err(vloc, K::InvalidNumber(String::from(*s)));
                        test_ok = false;
                    }
                }
                Test::Num(cmp, nums)
            }
            Base::Date(cmp) => {
                let mut ds = Vec::new();
                for (vloc, s) in &vals {
                    if !check_no_vars(s, vloc, d) {
                        test_ok = false;
                    } else if let Some(n) = parse_date(s) {
                        ds.push(n);
                    } else {
                        d.err(vloc, K::InvalidDate(String::from(*s)));
                        test_ok = false;
                    }
                }
                Test::Date(cmp, ds)
            }
            Base::Bool | Base::Null => {
                let mut bs = Vec::new();
                for (vloc, s) in &vals {
                    if !check_no_vars(s, vloc, d) {
                        test_ok = false;
                    } else if let Some(b) = parse_bool(s) {
                        bs.push(b);
                    } else {
                        d.err(vloc, K::InvalidBoolean(String::from(*s)));
                        test_ok = false;
                    }
                }
                if family == Family::Null {
                    Test::Null(bs)
                } else {
                    Test::Bool(bs)
                }
            }
            Base::Binary => {
                let mut bs = Vec::new();
                for (vloc, s) in &vals {
                    if !check_no_vars(s, vloc, d) {
                        test_ok = false;
                        continue;
                    }
                    match base64ct::Base64::decode_vec(s) {
                        Ok(b) => bs.push(b),
                        Err(_) => {
                            d.err(vloc, K::InvalidBase64(String::from(*s)));
                            test_ok = false;
                        }
                    }
                }
                Test::Binary(bs)
            }
            Base::Ip => {
                let mut cs = Vec::new();
                for (vloc, s) in &vals {
                    if !check_no_vars(s, vloc, d) {
                        test_ok = false;
                        continue;
                    }
                    match Cidr::parse(s) {
                        Some((c, host_bits)) => {
                            if host_bits {
                                d.warn(
                                    vloc,
                                    "cidr_host_bits",
                                    format!("CIDR {s:?} has host bits set; they are ignored"),
                                );
                            }
                            cs.push(c);
                        }
                        None => {
                            d.err(vloc, K::InvalidCidr(String::from(*s)));
                            test_ok = false;
                        }
                    }
                }
                Test::Ip(cs)
            }
            Base::Arn => {
                let mut arns = Vec::new();
                for (vloc, s) in &vals {
                    let parts = if *s == "*" {
                        Some(["*"; 6])
                    } else {
                        split_arn(s, vars_here).filter(|p| p.first() == Some(&"arn"))
                    };
                    let Some(parts) = parts else {
                        d.err(vloc, K::InvalidArn(String::from(*s)));
                        test_ok = false;
                        continue;
                    };
                    let compiled: Result<Vec<Glob>, GlobError> =
                        parts.iter().map(|p| Glob::new(p, syntax(true))).collect();
                    match compiled.map(<[Glob; 6]>::try_from) {
                        Ok(Ok(a)) => arns.push(a),
                        Ok(Err(_)) => test_ok = false,
                        Err(e) => {
                            d.err(vloc, glob_error(e, s));
                            test_ok = false;
                        }
                    }
                }
                Test::Arn(arns)
            }
        };
        if test_ok {
            out.push(Condition {
                key,
                test,
                negated,
                if_exists,
                set,
                label: format!("{op} {name}"),
            });
        }
    }
}

impl Condition {
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
