//! Phase 1, parsing: a JSON tree to the policy's syntax tree, every element located.
//!
//! Parsing never fails once the text is JSON: an element of the wrong JSON type is kept in
//! the tree as the type found (`Err("a number")`), so that [validation](super::validate)
//! reports every problem in one place, in document order.

use alloc::{format, string::String, vec::Vec};

use super::json::Json;

/// An element of one expected JSON type, or the type found instead.
pub(crate) type Typed<T> = Result<T, &'static str>;

/// An element and where it is, e.g. `Statement[0].Condition.IpAddress`.
#[derive(Debug)]
pub(crate) struct Located<T> {
    pub(crate) loc: String,
    pub(crate) node: T,
}

/// A whole document.
#[derive(Debug)]
pub(crate) struct Policy<'j> {
    /// Every repeated key, anywhere (also in members we reject or skip), in document order.
    pub(crate) duplicates: Vec<Located<&'j str>>,
    /// The top-level members (first occurrence of each) in document order.
    pub(crate) members: Typed<Vec<Located<Member<'j>>>>,
}

/// A top-level member.
#[derive(Debug)]
pub(crate) enum Member<'j> {
    Version(Typed<&'j str>),
    Id(Typed<()>),
    /// One statement object, or an array of anything.
    Statement(Typed<Vec<Located<Typed<Statement<'j>>>>>),
    Unknown(&'j str),
}

/// A statement object.
#[derive(Debug)]
pub(crate) struct Statement<'j> {
    /// Its members as written, duplicates included: what `redundant_statement` compares.
    pub(crate) raw: &'j [(String, Json)],
    /// Its members, first occurrence of each, in document order.
    pub(crate) members: Vec<Located<StatementMember<'j>>>,
}

/// A statement member.
#[derive(Debug)]
pub(crate) enum StatementMember<'j> {
    Sid(Typed<&'j str>),
    Effect(Typed<&'j str>),
    Action(Typed<Values<'j>>),
    NotAction(Typed<Values<'j>>),
    Resource(Typed<Values<'j>>),
    NotResource(Typed<Values<'j>>),
    Condition(Typed<Vec<Located<Operator<'j>>>>),
    Principal,
    Unknown(&'j str),
}

/// A value that may be one scalar or an array: its elements, each located (empty exactly
/// when the array is). Numbers and booleans are their JSON text, as IAM reads them.
pub(crate) type Values<'j> = Vec<Located<Typed<Scalar<'j>>>>;

/// A scalar value as text, and its JSON type (`a string`, `a number`, `a boolean`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scalar<'j> {
    pub(crate) text: &'j str,
    pub(crate) json_type: &'static str,
}

/// `"Operator": {"key": values, ...}`, every key kept (names that differ only in case are
/// duplicates, which only validation can tell).
#[derive(Debug)]
pub(crate) struct Operator<'j> {
    pub(crate) name: &'j str,
    pub(crate) keys: Typed<Vec<Located<ConditionKey<'j>>>>,
}

/// `"key": values` in a condition.
#[derive(Debug)]
pub(crate) struct ConditionKey<'j> {
    pub(crate) name: &'j str,
    pub(crate) values: Values<'j>,
}

/// Parses a policy's JSON tree.
pub(crate) fn parse(root: &Json) -> Policy<'_> {
    let mut duplicates = Vec::new();
    find_duplicates(root, "", &mut duplicates);
    let members = object(root).map(|obj| {
        let mut out = Vec::new();
        for (loc, name, v) in members(obj, "") {
            out.push(Located {
                node: member(name, v),
                loc,
            });
        }
        out
    });
    Policy {
        duplicates,
        members,
    }
}

fn member<'j>(name: &'j str, v: &'j Json) -> Member<'j> {
    match name {
        "Version" => Member::Version(string(v)),
        "Id" => Member::Id(string(v).map(|_| ())),
        "Statement" => Member::Statement(statements(v)),
        other => Member::Unknown(other),
    }
}

/// `Statement`: one object (located at `Statement`) or an array (`Statement[i]`).
fn statements(v: &Json) -> Typed<Vec<Located<Typed<Statement<'_>>>>> {
    let items: Vec<(String, &Json)> = match v {
        Json::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("Statement[{i}]"), s))
            .collect(),
        Json::Object(_) => alloc::vec![(String::from("Statement"), v)],
        other => return Err(other.type_name()),
    };
    let mut out = Vec::with_capacity(items.len());
    for (loc, v) in items {
        out.push(Located {
            node: statement(v, &loc),
            loc,
        });
    }
    Ok(out)
}

fn statement<'j>(v: &'j Json, loc: &str) -> Typed<Statement<'j>> {
    let Json::Object(raw) = v else {
        return Err(v.type_name());
    };
    let mut out = Vec::new();
    for (loc, name, v) in members(raw, loc) {
        out.push(Located {
            node: statement_member(name, v, &loc),
            loc,
        });
    }
    Ok(Statement { raw, members: out })
}

fn statement_member<'j>(name: &'j str, v: &'j Json, loc: &str) -> StatementMember<'j> {
    use StatementMember as M;
    match name {
        "Sid" => M::Sid(string(v)),
        "Effect" => M::Effect(string(v)),
        "Action" => M::Action(string_list(v, loc)),
        "NotAction" => M::NotAction(string_list(v, loc)),
        "Resource" => M::Resource(string_list(v, loc)),
        "NotResource" => M::NotResource(string_list(v, loc)),
        "Condition" => M::Condition(object(v).map(|ops| {
            let mut out = Vec::new();
            for (loc, name, body) in members(ops, loc) {
                out.push(Located {
                    node: operator(name, body, &loc),
                    loc,
                });
            }
            out
        })),
        "Principal" | "NotPrincipal" => M::Principal,
        other => M::Unknown(other),
    }
}

fn operator<'j>(name: &'j str, body: &'j Json, loc: &str) -> Operator<'j> {
    let keys = object(body).map(|keys| {
        let mut out = Vec::with_capacity(keys.len());
        for (k, v) in keys {
            let loc = format!("{loc}.{k}");
            let values = values(v, &loc);
            out.push(Located {
                node: ConditionKey { name: k, values },
                loc,
            });
        }
        out
    });
    Operator { name, keys }
}

/// A string or an array (of anything: its elements are checked one by one).
fn string_list<'j>(v: &'j Json, loc: &str) -> Typed<Values<'j>> {
    match v {
        Json::String(_) | Json::Array(_) => Ok(values(v, loc)),
        other => Err(other.type_name()),
    }
}

/// The elements of a scalar-or-array value at `loc`.
fn values<'j>(v: &'j Json, loc: &str) -> Values<'j> {
    let Json::Array(items) = v else {
        return alloc::vec![Located {
            loc: String::from(loc),
            node: scalar(v),
        }];
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        out.push(Located {
            loc: format!("{loc}[{i}]"),
            node: scalar(it),
        });
    }
    out
}

fn scalar(v: &Json) -> Typed<Scalar<'_>> {
    let text = match v {
        Json::String(s) | Json::Number(s) => s.as_str(),
        Json::Bool(true) => "true",
        Json::Bool(false) => "false",
        other => return Err(other.type_name()),
    };
    Ok(Scalar {
        text,
        json_type: v.type_name(),
    })
}

fn string(v: &Json) -> Typed<&str> {
    match v {
        Json::String(s) => Ok(s),
        other => Err(other.type_name()),
    }
}

fn object(v: &Json) -> Typed<&[(String, Json)]> {
    match v {
        Json::Object(o) => Ok(o),
        other => Err(other.type_name()),
    }
}

/// The members of an object, first occurrence of each (the others are `duplicates`), with
/// their locations below `loc`.
fn members<'j>(obj: &'j [(String, Json)], loc: &str) -> Vec<(String, &'j str, &'j Json)> {
    let mut seen = crate::HashSet::with_capacity_and_hasher(obj.len(), Default::default());
    let mut out = Vec::with_capacity(obj.len());
    for (k, v) in obj {
        if seen.insert(k.as_str()) {
            out.push((join(loc, k), k.as_str(), v));
        }
    }
    out
}

/// Every repeated key below `v`, in document order.
fn find_duplicates<'j>(v: &'j Json, loc: &str, out: &mut Vec<Located<&'j str>>) {
    let container = |v: &Json| matches!(v, Json::Object(_) | Json::Array(_));
    match v {
        Json::Object(o) => {
            let mut seen = crate::HashSet::with_capacity_and_hasher(o.len(), Default::default());
            for (k, child) in o {
                if !seen.insert(k.as_str()) {
                    out.push(Located {
                        loc: join(loc, k),
                        node: k,
                    });
                }
                if container(child) {
                    find_duplicates(child, &join(loc, k), out);
                }
            }
        }
        Json::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                if container(child) {
                    find_duplicates(child, &format!("{loc}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// `loc.key` (or `key` at the root).
pub(crate) fn join(loc: &str, key: &str) -> String {
    if loc.is_empty() {
        String::from(key)
    } else {
        format!("{loc}.{key}")
    }
}
