//! The condition keys we populate and how their values are read from an [`EvalContext`].

use alloc::string::String;
use core::{fmt, net::IpAddr};

use serde_json::Value;

use super::glob::VarRef;
use super::scalar::format_iso8601;
use super::{Dependencies, EvalContext};

/// A supported condition key. Names are matched case-insensitively, except the part after
/// `jwt:` (claim names are case-sensitive JSON) and after `request:query/` (query
/// parameter names are case-sensitive); header names are lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    SourceIp,
    CurrentTime,
    EpochTime,
    SecureTransport,
    UserAgent,
    Referer,
    Claim(String),
    CognitoGroups,
    CognitoUsername,
    Header(String),
    Query(String),
}

/// What a key holds, which decides the operators that may test it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyType {
    Ip,
    /// `aws:CurrentTime`: Date operators.
    Date,
    /// `aws:EpochTime`: Date and Numeric operators.
    Epoch,
    Bool,
    /// Request text (user agent, referer, headers, query): String and Binary operators.
    Text,
    /// Token claims: anything but IP operators; values are typed by their JSON.
    Claim,
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

impl Key {
    /// Parses a key name; `None` if we do not populate it.
    pub(crate) fn parse(name: &str) -> Option<Key> {
        const FIXED: [(&str, Key); 8] = [
            ("aws:SourceIp", Key::SourceIp),
            ("aws:CurrentTime", Key::CurrentTime),
            ("aws:EpochTime", Key::EpochTime),
            ("aws:SecureTransport", Key::SecureTransport),
            ("aws:UserAgent", Key::UserAgent),
            ("aws:Referer", Key::Referer),
            ("cognito:groups", Key::CognitoGroups),
            ("cognito:username", Key::CognitoUsername),
        ];
        for (n, k) in FIXED {
            if n.eq_ignore_ascii_case(name) {
                return Some(k);
            }
        }
        if let Some(claim) = strip_prefix_ci(name, "jwt:") {
            return (!claim.is_empty()).then(|| Key::Claim(String::from(claim)));
        }
        if let Some(h) = strip_prefix_ci(name, "request:header/") {
            return (!h.is_empty()).then(|| Key::Header(h.to_ascii_lowercase()));
        }
        if let Some(q) = strip_prefix_ci(name, "request:query/") {
            return (!q.is_empty()).then(|| Key::Query(String::from(q)));
        }
        None
    }

    /// The key's name as a policy writes it.
    pub(crate) fn name(&self) -> String {
        let fixed = match self {
            Key::SourceIp => "aws:SourceIp",
            Key::CurrentTime => "aws:CurrentTime",
            Key::EpochTime => "aws:EpochTime",
            Key::SecureTransport => "aws:SecureTransport",
            Key::UserAgent => "aws:UserAgent",
            Key::Referer => "aws:Referer",
            Key::CognitoGroups => "cognito:groups",
            Key::CognitoUsername => "cognito:username",
            Key::Claim(c) => return alloc::format!("jwt:{c}"),
            Key::Header(h) => return alloc::format!("request:header/{h}"),
            Key::Query(q) => return alloc::format!("request:query/{q}"),
        };
        String::from(fixed)
    }

    pub(crate) fn key_type(&self) -> KeyType {
        match self {
            Key::SourceIp => KeyType::Ip,
            Key::CurrentTime => KeyType::Date,
            Key::EpochTime => KeyType::Epoch,
            Key::SecureTransport => KeyType::Bool,
            Key::UserAgent | Key::Referer | Key::Header(_) | Key::Query(_) => KeyType::Text,
            Key::Claim(_) | Key::CognitoGroups | Key::CognitoUsername => KeyType::Claim,
        }
    }

    /// Whether `${key}` may name this key (multi-valued keys cannot be substituted).
    pub(crate) fn substitutable(&self) -> bool {
        !matches!(self, Key::CognitoGroups)
    }

    /// The request data this key reads.
    pub(crate) fn dependency(&self) -> Dependencies {
        let mut d = Dependencies::default();
        match self {
            Key::SourceIp => d.source_ip = true,
            Key::CurrentTime | Key::EpochTime => d.time = true,
            Key::SecureTransport => d.secure_transport = true,
            Key::UserAgent => d.user_agent = true,
            Key::Referer => d.referer = true,
            Key::Header(_) => d.headers = true,
            Key::Query(_) => d.query = true,
            Key::Claim(_) | Key::CognitoGroups | Key::CognitoUsername => {}
        }
        d
    }
}

/// One value of a key in the request context.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CtxVal<'a> {
    Str(&'a str),
    Ip(IpAddr),
    /// Epoch seconds.
    Time(u64),
    Bool(bool),
    Json(&'a Value),
}

enum Inner<'a> {
    Empty,
    One(Option<CtxVal<'a>>),
    Array(core::slice::Iter<'a, Value>),
    Pairs(core::slice::Iter<'a, (&'a str, &'a str)>, &'a str),
}

/// The values of a key in the request context: absent, one, or several.
pub(crate) struct Values<'a> {
    /// Whether the key is in the context at all (an empty claim array is present).
    pub(crate) present: bool,
    inner: Inner<'a>,
}

impl<'a> Iterator for Values<'a> {
    type Item = CtxVal<'a>;
    fn next(&mut self) -> Option<CtxVal<'a>> {
        match &mut self.inner {
            Inner::Empty => None,
            Inner::One(v) => v.take(),
            Inner::Array(it) => it.next().map(CtxVal::Json),
            Inner::Pairs(it, name) => it.find(|(n, _)| n == name).map(|(_, v)| CtxVal::Str(v)),
        }
    }
}

fn absent<'a>() -> Values<'a> {
    Values {
        present: false,
        inner: Inner::Empty,
    }
}

fn one(v: CtxVal<'_>) -> Values<'_> {
    Values {
        present: true,
        inner: Inner::One(Some(v)),
    }
}

fn opt<'a>(v: Option<CtxVal<'a>>) -> Values<'a> {
    v.map_or_else(absent, one)
}

fn claim_values(v: Option<&Value>) -> Values<'_> {
    match v {
        None | Some(Value::Null) => absent(),
        Some(Value::Array(a)) => Values {
            present: true,
            inner: Inner::Array(a.iter()),
        },
        Some(v) => one(CtxVal::Json(v)),
    }
}

/// The values of `key` in `ctx`.
pub(crate) fn values<'a>(key: &'a Key, ctx: &EvalContext<'a>) -> Values<'a> {
    match key {
        Key::SourceIp => opt(ctx.source_ip.map(CtxVal::Ip)),
        Key::CurrentTime | Key::EpochTime => one(CtxVal::Time(ctx.now)),
        Key::SecureTransport => opt(ctx.secure_transport.map(CtxVal::Bool)),
        Key::UserAgent => opt(ctx.user_agent.map(CtxVal::Str)),
        Key::Referer => opt(ctx.referer.map(CtxVal::Str)),
        Key::Claim(name) => claim_values(ctx.claims.and_then(|c| c.get(name.as_str()))),
        Key::CognitoGroups => claim_values(ctx.claims.and_then(|c| c.get("cognito:groups"))),
        Key::CognitoUsername => claim_values(
            ctx.claims
                .and_then(|c| c.get("cognito:username").or_else(|| c.get("username"))),
        ),
        Key::Header(name) => pairs(ctx.headers, name),
        Key::Query(name) => pairs(ctx.query, name),
    }
}

fn pairs<'a>(list: &'a [(&'a str, &'a str)], name: &'a str) -> Values<'a> {
    Values {
        present: list.iter().any(|(n, _)| *n == name),
        inner: Inner::Pairs(list.iter(), name),
    }
}

/// A small stack buffer for values that must be formatted (numbers, addresses, times).
pub(crate) struct TextBuf {
    buf: [u8; 64],
    len: usize,
}

impl TextBuf {
    pub(crate) fn new() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }
    fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.buf.get(..self.len)?).ok()
    }
    fn format(&mut self, args: fmt::Arguments<'_>) -> Option<&str> {
        self.len = 0;
        fmt::write(self, args).ok()?;
        self.as_str()
    }
}

impl fmt::Write for TextBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The text of a value, as String operators and variables see it: numbers and booleans as
/// their JSON text. `None` for values with no text (objects, arrays inside arrays, null).
pub(crate) fn text<'r, 'a: 'r>(v: CtxVal<'a>, buf: &'r mut TextBuf) -> Option<&'r str> {
    match v {
        CtxVal::Str(s) => Some(s),
        CtxVal::Bool(b) => Some(if b { "true" } else { "false" }),
        CtxVal::Ip(ip) => buf.format(format_args!("{ip}")),
        CtxVal::Time(t) => buf.format(format_args!("{t}")),
        CtxVal::Json(Value::String(s)) => Some(s),
        CtxVal::Json(Value::Bool(b)) => Some(if *b { "true" } else { "false" }),
        CtxVal::Json(Value::Number(n)) => buf.format(format_args!("{n}")),
        CtxVal::Json(_) => None,
    }
}

/// Resolves a policy variable: its single value, else its default, else `None`.
pub(crate) fn resolve_var<'r>(
    var: &'r VarRef,
    ctx: &'r EvalContext<'_>,
    buf: &'r mut TextBuf,
) -> Option<&'r str> {
    let mut vals = values(&var.key, ctx);
    if !vals.present {
        return var.default.as_deref();
    }
    if let Inner::Array(_) = vals.inner {
        return None; // multi-valued: cannot be substituted
    }
    let first = vals.next()?;
    if vals.next().is_some() {
        return None; // multi-valued: cannot be substituted
    }
    match (&var.key, first) {
        (Key::CurrentTime, CtxVal::Time(t)) => format_iso8601(t, buf),
        (_, v) => text(v, buf),
    }
}

impl TextBuf {
    pub(crate) fn format_args(&mut self, args: fmt::Arguments<'_>) -> Option<&str> {
        self.format(args)
    }
}
