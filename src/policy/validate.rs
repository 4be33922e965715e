//! Phase 2, validation: the syntax tree to a validated tree, every error and warning
//! collected here, located, in document order.
//!
//! Values are parsed into what they mean as they are checked (a CIDR into a [`Cidr`], a
//! pattern into a [`Glob`]), so that [compilation](super::compile) has nothing left to
//! refuse.

use alloc::{format, string::String, vec::Vec};

use base64ct::Encoding;

use super::compile::Effect;
use super::condition::{compatible, Base, CiValue, Condition, OperatorName, Test};
use super::error::{PolicyError, PolicyErrorKind as K, PolicyWarning};
use super::glob::{split_arn, Glob, GlobError, Syntax};
use super::keys::Key;
use super::parse::{
    join, ConditionKey, Located, Member, Operator, Policy, Statement, StatementMember, Typed,
    Values,
};
use super::resource::{canonical_resource, fold_resource, greedy_slot};
use super::scalar::{parse_bool, parse_date, parse_number, Cidr};

/// Collects errors and warnings.
#[derive(Default)]
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
    /// `expected …, found …` at `loc`.
    fn wrong_type(&mut self, loc: &str, expected: &'static str, found: &'static str) {
        self.err(loc, K::InvalidType { expected, found });
    }
}

/// A document without errors.
#[derive(Debug)]
pub(crate) struct Valid<'j> {
    /// `Version` is 2012-10-17: `${...}` are policy variables.
    pub(crate) variables: bool,
    /// Validated for requests matched case-insensitively (see [`validate`]).
    pub(crate) fold: bool,
    pub(crate) statements: Vec<ValidStatement<'j>>,
}

/// A statement without errors.
#[derive(Debug)]
pub(crate) struct ValidStatement<'j> {
    pub(crate) sid: Option<&'j str>,
    pub(crate) effect: Effect,
    pub(crate) not_action: bool,
    /// Each action as written and as a pattern.
    pub(crate) actions: Vec<(&'j str, Glob)>,
    pub(crate) not_resource: bool,
    pub(crate) resources: Vec<ValidResource<'j>>,
    pub(crate) conditions: Vec<Condition>,
}

/// A resource pattern without errors.
#[derive(Debug)]
pub(crate) struct ValidResource<'j> {
    pub(crate) written: &'j str,
    /// Its path written as requests are matched (see [`canonical_resource`]), lower-cased
    /// when folding.
    pub(crate) text: String,
    pub(crate) glob: Glob,
}

/// Validates a document: `Some` exactly when `d` gained no error.
///
/// `fold`: the resource paths (and substituted values) lower-cased, for requests matched
/// case-insensitively. It is done here, where the patterns are parsed, so that a pattern
/// that no longer parses once folded is an error (the caller refuses the policy).
pub(crate) fn validate<'j>(policy: &Policy<'j>, fold: bool, d: &mut Diag) -> Option<Valid<'j>> {
    for dup in &policy.duplicates {
        d.err(&dup.loc, K::DuplicateKey(String::from(dup.node)));
    }
    let members = match &policy.members {
        Ok(members) => members,
        Err(found) => {
            d.wrong_type("", "a policy object", found);
            return None;
        }
    };
    let (version, statements) = top_level(members, d);
    if version.is_none() {
        d.warn(
            "Version",
            "missing_version",
            String::from("no Version: policy variables like ${jwt:sub} are literal text; add \"Version\": \"2012-10-17\""),
        );
    }
    let variables = version == Some("2012-10-17");
    let statements = match statements {
        None => {
            d.err("Statement", K::MissingField("Statement"));
            return None;
        }
        Some(Err(found)) => {
            d.wrong_type("Statement", "an object or an array", found);
            return None;
        }
        Some(Ok(statements)) => statements,
    };
    let statements = statement_list(statements, variables, fold, d);
    d.errors.is_empty().then_some(Valid {
        variables,
        fold,
        statements,
    })
}

type StatementNodes<'a, 'j> = &'a [Located<Typed<Statement<'j>>>];

/// The supported Version and the Statement member, reporting the other members.
fn top_level<'a, 'j>(
    members: &'a [Located<Member<'j>>],
    d: &mut Diag,
) -> (Option<&'j str>, Option<Typed<StatementNodes<'a, 'j>>>) {
    let mut version = None;
    let mut statements = None;
    for Located { loc, node } in members {
        match node {
            Member::Version(Ok(v)) if *v == "2012-10-17" || *v == "2008-10-17" => {
                version = Some(*v)
            }
            Member::Version(Ok(v)) => d.err(loc, K::UnsupportedVersion(String::from(*v))),
            Member::Version(Err(found)) | Member::Id(Err(found)) => {
                d.wrong_type(loc, "a string", found)
            }
            Member::Id(Ok(())) => {}
            Member::Statement(s) => statements = Some(s.as_deref().map_err(|found| *found)),
            Member::Unknown(name) => d.err(loc, K::UnknownField(String::from(*name))),
        }
    }
    (version, statements)
}

/// The valid statements; Sids must be unique, and a repeated statement is a warning.
fn statement_list<'j>(
    items: StatementNodes<'_, 'j>,
    variables: bool,
    fold: bool,
    d: &mut Diag,
) -> Vec<ValidStatement<'j>> {
    let mut out = Vec::new();
    let mut signatures: Vec<(Signature<'_>, usize)> = Vec::new();
    let mut sids: crate::HashSet<&str> = crate::HashSet::default();
    for (idx, Located { loc, node }) in items.iter().enumerate() {
        let st = match node {
            Ok(st) => st,
            Err(found) => {
                d.wrong_type(loc, "a statement object", found);
                continue;
            }
        };
        if let Some((_, super::json::Json::String(sid))) = st.raw.iter().find(|(k, _)| k == "Sid") {
            if !sids.insert(sid.as_str()) {
                d.err(&join(loc, "Sid"), K::DuplicateSid(sid.clone()));
            }
        }
        if let Some(valid) = statement(st, loc, variables, fold, d) {
            redundancy(st, loc, idx, &mut signatures, d);
            out.push(valid);
        }
    }
    out
}

/// A statement's members, Sid aside, sorted by name: two statements with the same
/// signature mean the same.
type Signature<'j> = Vec<(&'j str, &'j super::json::Json)>;

/// Warns when a statement repeats an earlier valid one, Sid aside. (Compared member by
/// member: statements are few, and no text form of them is needed.)
fn redundancy<'j>(
    st: &Statement<'j>,
    loc: &str,
    idx: usize,
    signatures: &mut Vec<(Signature<'j>, usize)>,
    d: &mut Diag,
) {
    // By name, members of the same name in document order (a stable sort by name).
    let mut keyed: Vec<(usize, (&'j str, &'j super::json::Json))> = st
        .raw
        .iter()
        .filter(|(k, _)| k != "Sid")
        .map(|(k, v)| (k.as_str(), v))
        .enumerate()
        .collect();
    crate::sort::heapsort(&mut keyed, |a, b| (a.1 .0, a.0) < (b.1 .0, b.0));
    let sig: Signature<'j> = keyed.into_iter().map(|(_, member)| member).collect();
    match signatures.iter().find(|(seen, _)| *seen == sig) {
        Some((_, first)) => d.warn(
            loc,
            "redundant_statement",
            format!("this statement repeats Statement[{first}]"),
        ),
        None => signatures.push((sig, idx)),
    }
}

/// A statement's members, sorted out (the first occurrence of each).
#[derive(Default)]
struct Members<'a, 'j> {
    sid: Option<&'j str>,
    effect: Option<Effect>,
    has_effect: bool,
    action: Option<&'a Typed<Values<'j>>>,
    not_action: Option<&'a Typed<Values<'j>>>,
    resource: Option<&'a Typed<Values<'j>>>,
    not_resource: Option<&'a Typed<Values<'j>>>,
    condition: Option<&'a Located<StatementMember<'j>>>,
}

fn statement<'j>(
    st: &Statement<'j>,
    loc: &str,
    variables: bool,
    fold: bool,
    d: &mut Diag,
) -> Option<ValidStatement<'j>> {
    let errors_before = d.errors.len();
    let m = statement_members(st, d);
    if !m.has_effect {
        d.err(loc, K::MissingField("Effect"));
    }
    let allow = m.effect == Some(Effect::Allow);
    let (action, not_action) = either(loc, ("Action", m.action), ("NotAction", m.not_action), d);
    let actions = action.map_or_else(Vec::new, |(aloc, a)| actions(a, &aloc, variables, d));
    let (resource, not_resource) = either(
        loc,
        ("Resource", m.resource),
        ("NotResource", m.not_resource),
        d,
    );
    let resources = resource.map_or_else(Vec::new, |(rloc, r)| {
        resources(r, &rloc, variables, fold, d)
    });
    // Whenever the member is there, even beside a conflicting Action (or Resource): the
    // author wrote it, and `check` shows the warnings of statements with errors too.
    if allow && m.not_action.is_some() {
        d.warn(
            &join(loc, "NotAction"),
            "allow_with_not_action",
            String::from(
                "Allow with NotAction allows every action not listed, including future ones",
            ),
        );
    }
    if allow && m.not_resource.is_some() {
        d.warn(
            &join(loc, "NotResource"),
            "allow_with_not_resource",
            String::from("Allow with NotResource allows every resource not listed"),
        );
    }
    let conditions = m
        .condition
        .map_or_else(Vec::new, |c| conditions(c, variables, d));
    if d.errors.len() != errors_before {
        return None;
    }
    Some(ValidStatement {
        sid: m.sid,
        effect: m.effect?,
        not_action,
        actions,
        not_resource,
        resources,
        conditions,
    })
}

/// Sorts out a statement's members, reporting those that are wrong on their own.
fn statement_members<'a, 'j>(st: &'a Statement<'j>, d: &mut Diag) -> Members<'a, 'j> {
    use StatementMember as M;
    let mut m = Members::default();
    for member in &st.members {
        let loc = &member.loc;
        match &member.node {
            M::Sid(Ok(s)) => m.sid = Some(s),
            M::Effect(Ok("Allow")) => m.effect = Some(Effect::Allow),
            M::Effect(Ok("Deny")) => m.effect = Some(Effect::Deny),
            M::Effect(Ok(s)) => d.err(loc, K::InvalidEffect(String::from(*s))),
            M::Sid(Err(found)) | M::Effect(Err(found)) => d.wrong_type(loc, "a string", found),
            M::Action(v) => m.action = Some(v),
            M::NotAction(v) => m.not_action = Some(v),
            M::Resource(v) => m.resource = Some(v),
            M::NotResource(v) => m.not_resource = Some(v),
            M::Condition(_) => m.condition = Some(member),
            M::Principal => d.err(loc, K::PrincipalNotAllowed),
            M::Unknown(name) => d.err(loc, K::UnknownField(String::from(*name))),
        }
        m.has_effect |= matches!(member.node, M::Effect(_));
    }
    m
}

type Choice<'a, 'j> = Option<(String, &'a Typed<Values<'j>>)>;

/// `X` or `NotX`, exactly one: the one present with its location, and whether it is `NotX`.
fn either<'a, 'j>(
    loc: &str,
    (name, x): (&'static str, Option<&'a Typed<Values<'j>>>),
    (not_name, not_x): (&'static str, Option<&'a Typed<Values<'j>>>),
    d: &mut Diag,
) -> (Choice<'a, 'j>, bool) {
    match (x, not_x) {
        (Some(_), Some(_)) => d.err(loc, K::ConflictingFields(name, not_name)),
        (Some(v), None) => return (Some((join(loc, name), v)), false),
        (None, Some(v)) => return (Some((join(loc, not_name), v)), true),
        (None, None) => d.err(
            loc,
            K::MissingField(if name == "Action" {
                "Action or NotAction"
            } else {
                "Resource or NotResource"
            }),
        ),
    }
    (None, false)
}

/// The strings of a string-or-array member (`loc`), reporting the elements that are not.
fn strings<'v, 'j>(v: &'v Typed<Values<'j>>, loc: &str, d: &mut Diag) -> Vec<(&'v str, &'j str)> {
    let values = match v {
        Ok(values) => values,
        Err(found) => {
            d.wrong_type(loc, "a string or an array of strings", found);
            return Vec::new();
        }
    };
    if values.is_empty() {
        d.err(loc, K::EmptyValue);
    }
    let mut out = Vec::new();
    for Located { loc, node } in values {
        match node {
            Ok(s) if s.json_type == "a string" => out.push((loc.as_str(), s.text)),
            Ok(s) => d.wrong_type(loc, "a string", s.json_type),
            Err(found) => d.wrong_type(loc, "a string", found),
        }
    }
    out
}

fn actions<'j>(
    v: &Typed<Values<'j>>,
    loc: &str,
    variables: bool,
    d: &mut Diag,
) -> Vec<(&'j str, Glob)> {
    let mut out = Vec::new();
    for (aloc, s) in strings(v, loc, d) {
        if variables && s.contains("${") {
            d.err(aloc, K::VariableNotAllowed("in Action"));
            continue;
        }
        let valid = s == "*"
            || s.split_once(':')
                .is_some_and(|(svc, act)| !svc.is_empty() && !act.is_empty());
        let syntax = Syntax {
            wildcards: true,
            variables: false,
            ci: true,
        };
        match Glob::new(s, syntax).ok().filter(|_| valid) {
            Some(g) => out.push((s, g)),
            None => d.err(aloc, K::InvalidAction(String::from(s))),
        }
    }
    out
}

fn resources<'j>(
    v: &Typed<Values<'j>>,
    loc: &str,
    variables: bool,
    fold: bool,
    d: &mut Diag,
) -> Vec<ValidResource<'j>> {
    let mut out = Vec::new();
    for (rloc, s) in strings(v, loc, d) {
        let canonical = match canonical_resource(s, variables) {
            Ok(canonical) => canonical,
            Err(why) => {
                d.err(rloc, K::InvalidArn(format!("{s} ({why})")));
                continue;
            }
        };
        let text = if fold {
            fold_resource(&canonical)
        } else {
            canonical
        };
        if let Some(mut glob) = resource_pattern(&text, rloc, variables, d) {
            glob.fold_values = fold;
            out.push(ValidResource {
                written: s,
                text,
                glob,
            });
        }
    }
    out
}

/// The pattern of a resource (its path canonical): `*` or an ARN, variables only in its
/// resource part.
fn resource_pattern(s: &str, loc: &str, variables: bool, d: &mut Diag) -> Option<Glob> {
    if s != "*" {
        let Some(parts) = split_arn(s, variables).filter(|p| p.first() == Some(&"arn")) else {
            d.err(loc, K::InvalidArn(String::from(s)));
            return None;
        };
        if variables && parts.iter().take(5).any(|p| p.contains("${")) {
            d.err(
                loc,
                K::VariableNotAllowed("before the resource part of an ARN (after the fifth colon)"),
            );
            return None;
        }
        let [_, _, service, _, _, res] = parts;
        if service == "execute-api" && greedy_slot(res) {
            d.warn(
                loc,
                "greedy_execute_api_wildcard",
                format!(
                    "a `*` in the api-id/stage/method slot of {s:?} also matches `/`, so it spans \
                     several path segments (e.g. `GET/admin/...` can match); spell out the slots"
                ),
            );
        }
    }
    let syntax = Syntax {
        wildcards: true,
        variables,
        ci: false,
    };
    Glob::new(s, syntax)
        .map_err(|e| d.err(loc, glob_error(e, s)))
        .ok()
}

fn glob_error(e: GlobError, text: &str) -> K {
    match e {
        GlobError::Syntax => K::InvalidVariable(String::from(text)),
        GlobError::UnsupportedVariable(k) => K::UnsupportedVariable(k),
    }
}

/// A statement's `Condition` member.
fn conditions(
    member: &Located<StatementMember<'_>>,
    variables: bool,
    d: &mut Diag,
) -> Vec<Condition> {
    let mut out = Vec::new();
    match &member.node {
        StatementMember::Condition(Ok(operators)) => {
            for op in operators {
                operator(op, variables, d, &mut out);
            }
        }
        StatementMember::Condition(Err(found)) => d.wrong_type(&member.loc, "an object", found),
        _ => {}
    }
    out
}

/// `"Operator": {"key": values, ...}`: one condition per key.
fn operator(op: &Located<Operator<'_>>, variables: bool, d: &mut Diag, out: &mut Vec<Condition>) {
    let Located { loc, node } = op;
    let Some(name) = OperatorName::parse(node.name) else {
        d.err(loc, K::UnknownOperator(String::from(node.name)));
        return;
    };
    if let Some(why) = name.invalid_null() {
        d.err(loc, K::InvalidNull(why));
        return;
    }
    let keys = match &node.keys {
        Ok(keys) => keys,
        Err(found) => return d.wrong_type(loc, "an object of condition keys", found),
    };
    if keys.is_empty() {
        d.err(loc, K::EmptyValue);
    }
    let mut seen = crate::HashSet::with_capacity_and_hasher(keys.len(), Default::default());
    for key in keys {
        let Some(k) = condition_key(node.name, &name, key, &mut seen, d) else {
            continue;
        };
        let vals = scalars(&key.node.values, &key.loc, d);
        let test = values(&name, node.name, &vals, variables, d);
        out.push(Condition::new(
            k,
            &name,
            test,
            format!("{} {}", node.name, key.node.name),
        ));
    }
}

/// The key of `"key": values`, if it is supported, new and of a type the operator reads.
fn condition_key(
    op: &str,
    name: &OperatorName,
    key: &Located<ConditionKey<'_>>,
    seen: &mut crate::HashSet<Key>,
    d: &mut Diag,
) -> Option<Key> {
    let text = key.node.name;
    let Some(k) = Key::parse(text) else {
        d.err(&key.loc, K::UnsupportedConditionKey(String::from(text)));
        return None;
    };
    // Key names are case-insensitive, so `aws:SourceIp` and `aws:sourceip` are duplicates.
    if !seen.insert(k.clone()) {
        d.err(&key.loc, K::DuplicateKey(String::from(text)));
        return None;
    }
    if !compatible(name.base.family(), k.key_type()) {
        let mismatch = K::OperatorKeyMismatch {
            operator: String::from(op),
            key: String::from(text),
        };
        d.err(&key.loc, mismatch);
        return None;
    }
    Some(k)
}

/// A condition value with its location.
type Val<'v> = (&'v str, &'v str);

/// The scalar values of a condition key, reporting the others.
fn scalars<'v>(values: &'v Values<'_>, loc: &str, d: &mut Diag) -> Vec<Val<'v>> {
    if values.is_empty() {
        d.err(loc, K::EmptyValue);
    }
    let mut out = Vec::new();
    for Located { loc, node } in values {
        match node {
            Ok(s) => out.push((loc.as_str(), s.text)),
            Err(found) => d.wrong_type(loc, "a string, number or boolean", found),
        }
    }
    out
}

/// The operator's values, parsed as its type reads them (an invalid one is reported and
/// left out: the statement is refused).
fn values(name: &OperatorName, op: &str, vals: &[Val<'_>], variables: bool, d: &mut Diag) -> Test {
    let patterns = |wildcards, d: &mut Diag| {
        let vars = variables && name.base.takes_variables();
        vals.iter()
            .filter_map(|(loc, s)| pattern(s, loc, wildcards, vars, d))
            .collect::<Vec<_>>()
    };
    match name.base {
        Base::StrEq => {
            literal_wildcards(op, vals, d);
            Test::StrEq(patterns(false, d))
        }
        Base::StrLike => Test::StrLike(patterns(true, d)),
        Base::StrEqCi => {
            literal_wildcards(op, vals, d);
            let ci = patterns(false, d).into_iter().zip(vals);
            Test::StrEqCi(ci.map(|(g, (_, s))| CiValue::new(g, s)).collect())
        }
        Base::Num(cmp) => Test::Num(
            cmp,
            typed(vals, variables, d, parse_number, K::InvalidNumber),
        ),
        Base::Date(cmp) => Test::Date(cmp, typed(vals, variables, d, parse_date, K::InvalidDate)),
        Base::Bool => Test::Bool(typed(vals, variables, d, parse_bool, K::InvalidBoolean)),
        Base::Null => Test::Null(typed(vals, variables, d, parse_bool, K::InvalidBoolean)),
        Base::Binary => Test::Binary(typed(vals, variables, d, base64, K::InvalidBase64)),
        Base::Ip => Test::Ip(cidrs(vals, variables, d)),
        Base::Arn => Test::Arn(
            vals.iter()
                .filter_map(|(loc, s)| arn(s, loc, variables, d))
                .collect(),
        ),
    }
}

/// Warns about `*` and `?` in operators that compare literally.
fn literal_wildcards(op: &str, vals: &[Val<'_>], d: &mut Diag) {
    for (loc, s) in vals {
        if s.contains(['*', '?']) {
            d.warn(
                loc,
                "wildcard_in_string_equals",
                format!(
                    "{op} compares {s:?} literally: `*` and `?` are wildcards only in StringLike"
                ),
            );
        }
    }
}

fn pattern(s: &str, loc: &str, wildcards: bool, variables: bool, d: &mut Diag) -> Option<Glob> {
    let syntax = Syntax {
        wildcards,
        variables,
        ci: false,
    };
    Glob::new(s, syntax)
        .map_err(|e| d.err(loc, glob_error(e, s)))
        .ok()
}

/// Values of a type without variables, parsed by `parse` (`invalid` names what is wrong).
fn typed<T>(
    vals: &[Val<'_>],
    variables: bool,
    d: &mut Diag,
    parse: fn(&str) -> Option<T>,
    invalid: fn(String) -> K,
) -> Vec<T> {
    let mut out = Vec::new();
    for (loc, s) in vals {
        if variables && s.contains("${") {
            d.err(
                loc,
                K::VariableNotAllowed("in this operator's values (only String and Arn operators)"),
            );
        } else if let Some(v) = parse(s) {
            out.push(v);
        } else {
            d.err(loc, invalid(String::from(*s)));
        }
    }
    out
}

fn base64(s: &str) -> Option<alloc::vec::Vec<u8>> {
    base64ct::Base64::decode_vec(s).ok()
}

/// CIDRs, warning about host bits (which are ignored).
fn cidrs(vals: &[Val<'_>], variables: bool, d: &mut Diag) -> Vec<Cidr> {
    let mut out = Vec::new();
    for (loc, s) in vals {
        let one = [(*loc, *s)];
        for (cidr, host_bits) in typed(&one, variables, d, Cidr::parse, K::InvalidCidr) {
            if host_bits {
                d.warn(
                    loc,
                    "cidr_host_bits",
                    format!("CIDR {s:?} has host bits set; they are ignored"),
                );
            }
            out.push(cidr);
        }
    }
    out
}

/// An ARN pattern, one pattern per ARN segment.
fn arn(s: &str, loc: &str, variables: bool, d: &mut Diag) -> Option<[Glob; 6]> {
    let parts = if s == "*" {
        Some(["*"; 6])
    } else {
        split_arn(s, variables).filter(|p| p.first() == Some(&"arn"))
    };
    let Some(parts) = parts else {
        d.err(loc, K::InvalidArn(String::from(s)));
        return None;
    };
    let syntax = Syntax {
        wildcards: true,
        variables,
        ci: false,
    };
    let globs: Result<Vec<Glob>, GlobError> = parts.iter().map(|p| Glob::new(p, syntax)).collect();
    match globs {
        Ok(globs) => <[Glob; 6]>::try_from(globs).ok(),
        Err(e) => {
            d.err(loc, glob_error(e, s));
            None
        }
    }
}
