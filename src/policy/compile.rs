//! From a JSON tree to a validated, compiled [`PolicyDocument`].

use alloc::{format, string::String, vec::Vec};

use super::condition::{compile_operator, Condition, Diag};
use super::error::PolicyErrorKind as K;
use super::glob::{split_arn, Filter, Glob, GlobError, Syntax};
use super::json::Json;
use super::{Dependencies, PolicyDocument};

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Allow,
    Deny,
}

/// One compiled statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) actions: Vec<Glob>,
    pub(crate) action_text: Vec<String>,
    pub(crate) not_action: bool,
    pub(crate) resources: Vec<Glob>,
    /// The resources as written (the Deny twins of `resources` are not among them).
    pub(crate) resource_text: Vec<String>,
    pub(crate) not_resource: bool,
    pub(crate) conditions: Vec<Condition>,
}

/// What evaluation reads of every statement, kept small and contiguous so scanning a
/// thousand statements stays in cache; the rest is only read for candidates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hot {
    /// Bits of the document's action table this statement lists (valid when `masked`).
    pub(crate) action_mask: u64,
    /// False when an action is beyond the table's 64 entries: match them one by one.
    pub(crate) masked: bool,
    pub(crate) allow: bool,
    pub(crate) not_action: bool,
    pub(crate) not_resource: bool,
    pub(crate) conditional: bool,
    /// The statement's resource filters: `filters[res_start..res_end]`.
    pub(crate) res_start: u32,
    pub(crate) res_end: u32,
}

/// Which statements a request can possibly target, from the most specific triple of each
/// resource pattern: a request visits only the statements whose triple it contains.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Index {
    /// Distinct first triples, each with its statements `entries[start..end]`.
    keys: Vec<(u16, u32, u32)>,
    entries: Vec<u32>,
    /// Statements that cannot be indexed (NotResource, patterns without a triple).
    always: Vec<u32>,
    /// Triples that every resource pattern of the document contains (when all statements
    /// are indexed): a request missing one targets nothing here.
    shared: Vec<u16>,
}

/// Documents with more statements are scanned linearly.
pub(crate) const INDEXED_MAX: usize = 256;

impl Index {
    fn new(statements: &[Statement]) -> Index {
        // Index each pattern under its rarest triple within the document, the one most
        // likely to be absent from an unrelated request.
        let mut freq = alloc::vec![0u32; 4096];
        for g in statements.iter().flat_map(|st| &st.resources) {
            for k in g.sketch().keys() {
                if let Some(n) = freq.get_mut(usize::from(*k)) {
                    *n += 1;
                }
            }
        }
        let rarest = |g: &Glob| {
            g.sketch()
                .keys()
                .iter()
                .copied()
                .filter(|k| *k != 0)
                .min_by_key(|k| freq.get(usize::from(*k)).copied().unwrap_or(0))
        };
        let mut pairs: Vec<(u16, u32)> = Vec::new();
        let mut always = Vec::new();
        for (i, st) in statements.iter().enumerate() {
            let i = i as u32;
            let keys: Option<Vec<u16>> = st.resources.iter().map(rarest).collect();
            match keys {
                Some(keys) if !st.not_resource => pairs.extend(keys.into_iter().map(|k| (k, i))),
                _ => always.push(i),
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut keys: Vec<(u16, u32, u32)> = Vec::new();
        let mut entries = Vec::with_capacity(pairs.len());
        for (k, st) in pairs {
            let n = entries.len() as u32;
            match keys.last_mut() {
                Some(last) if last.0 == k => last.2 = n + 1,
                _ => keys.push((k, n, n + 1)),
            }
            entries.push(st);
        }
        let mut shared: Vec<u16> = Vec::new();
        if always.is_empty() {
            let mut sketches = statements
                .iter()
                .flat_map(|st| &st.resources)
                .map(Glob::sketch);
            if let Some(first) = sketches.next() {
                shared = first.keys().iter().copied().filter(|k| *k != 0).collect();
                for sk in sketches {
                    shared.retain(|k| sk.keys().contains(k));
                }
            }
        }
        Index {
            keys,
            entries,
            always,
            shared,
        }
    }

    /// The statements `rf` may target, as a bitset (`None`: too many statements, scan all).
    #[inline]
    pub(crate) fn candidates(&self, count: usize, rf: &Filter) -> Option<[u64; 4]> {
        if count > INDEXED_MAX {
            return None;
        }
        let mut set = [0u64; 4];
        if !self.shared.iter().all(|k| rf.has(*k)) {
            return Some(set);
        }
        let mut mark = |s: u32| {
            if let Some(w) = set.get_mut((s >> 6) as usize) {
                *w |= 1u64 << (s & 63);
            }
        };
        for &s in &self.always {
            mark(s);
        }
        for &(key, start, end) in &self.keys {
            if rf.has(key) {
                for &s in self
                    .entries
                    .get(start as usize..end as usize)
                    .unwrap_or(&[])
                {
                    mark(s);
                }
            }
        }
        Some(set)
    }
}

/// The members of an object, first occurrence of each (duplicates are reported by
/// [`check_duplicates`]).
fn members(obj: &[(String, Json)]) -> Vec<(&str, &Json)> {
    let mut seen = hashbrown::HashSet::with_capacity(obj.len());
    obj.iter()
        .filter(|(k, _)| seen.insert(k.as_str()))
        .map(|(k, v)| (k.as_str(), v))
        .collect()
}

/// Reports duplicate keys anywhere below `v` (objects we do not otherwise walk, such as a
/// rejected `Principal`, still must not hide a duplicate).
fn check_duplicates(v: &Json, loc: &str, d: &mut Diag) {
    let container = |v: &Json| matches!(v, Json::Object(_) | Json::Array(_));
    match v {
        Json::Object(o) => {
            let mut seen = hashbrown::HashSet::with_capacity(o.len());
            for (k, child) in o {
                if !seen.insert(k.as_str()) {
                    d.err(&join(loc, k), K::DuplicateKey(k.clone()));
                }
                if container(child) {
                    check_duplicates(child, &join(loc, k), d);
                }
            }
        }
        Json::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                if container(child) {
                    check_duplicates(child, &format!("{loc}[{i}]"), d);
                }
            }
        }
        _ => {}
    }
}

fn join(loc: &str, key: &str) -> String {
    if loc.is_empty() {
        String::from(key)
    } else {
        format!("{loc}.{key}")
    }
}

/// A string or a non-empty array of strings, with each element's location.
fn string_list<'j>(v: &'j Json, loc: &str, d: &mut Diag) -> Vec<(String, &'j str)> {
    match v {
        Json::String(s) => alloc::vec![(String::from(loc), s.as_str())],
        Json::Array(items) => {
            if items.is_empty() {
                d.err(loc, K::EmptyValue);
            }
            let mut out = Vec::new();
            for (i, it) in items.iter().enumerate() {
                let iloc = format!("{loc}[{i}]");
                match it {
                    Json::String(s) => out.push((iloc, s.as_str())),
                    other => d.err(
                        &iloc,
                        K::InvalidType {
                            expected: "a string",
                            found: other.type_name(),
                        },
                    ),
                }
            }
            out
        }
        other => {
            d.err(
                loc,
                K::InvalidType {
                    expected: "a string or an array of strings",
                    found: other.type_name(),
                },
            );
            Vec::new()
        }
    }
}

/// Compiles a whole document.
/// Compiles `root`. `fold`: the case-folded form, whose resource paths (and substituted
/// values) are lower-cased, for requests matched case-insensitively.
pub(crate) fn compile(root: &Json, d: &mut Diag, fold: bool) -> Option<PolicyDocument> {
    check_duplicates(root, "", d);
    let Json::Object(obj) = root else {
        d.err(
            "",
            K::InvalidType {
                expected: "a policy object",
                found: root.type_name(),
            },
        );
        return None;
    };
    let mut version = None;
    let mut statement = None;
    for (k, v) in members(obj) {
        match k {
            "Version" => match v {
                Json::String(s) if s == "2012-10-17" || s == "2008-10-17" => {
                    version = Some(s.as_str())
                }
                Json::String(s) => d.err(k, K::UnsupportedVersion(s.clone())),
                other => d.err(
                    k,
                    K::InvalidType {
                        expected: "a string",
                        found: other.type_name(),
                    },
                ),
            },
            "Id" => {
                if !matches!(v, Json::String(_)) {
                    d.err(
                        k,
                        K::InvalidType {
                            expected: "a string",
                            found: v.type_name(),
                        },
                    );
                }
            }
            "Statement" => statement = Some(v),
            other => d.err(other, K::UnknownField(String::from(other))),
        }
    }
    if version.is_none() {
        d.warn(
            "Version",
            "missing_version",
            String::from("no Version: policy variables like ${jwt:sub} are literal text; add \"Version\": \"2012-10-17\""),
        );
    }
    let variables = version == Some("2012-10-17");
    let Some(statement) = statement else {
        d.err("Statement", K::MissingField("Statement"));
        return None;
    };
    let items: Vec<(String, &Json)> = match statement {
        Json::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("Statement[{i}]"), s))
            .collect(),
        Json::Object(_) => alloc::vec![(String::from("Statement"), statement)],
        other => {
            d.err(
                "Statement",
                K::InvalidType {
                    expected: "an object or an array",
                    found: other.type_name(),
                },
            );
            return None;
        }
    };
    let mut statements = Vec::new();
    let mut signatures: hashbrown::HashMap<String, usize> = hashbrown::HashMap::new();
    let mut sids: hashbrown::HashSet<&str> = hashbrown::HashSet::new();
    for (idx, (loc, item)) in items.iter().enumerate() {
        // Sids must be unique within the document.
        if let Json::Object(o) = item {
            if let Some((_, Json::String(sid))) = o.iter().find(|(k, _)| k == "Sid") {
                if !sids.insert(sid.as_str()) {
                    d.err(&join(loc, "Sid"), K::DuplicateSid(sid.clone()));
                }
            }
        }
        if let Some(st) = compile_statement(item, loc, variables, fold, d) {
            // Redundancy: the same statement (Sid aside) twice.
            if let Json::Object(o) = item {
                let mut sig: Vec<(&str, &Json)> = o
                    .iter()
                    .filter(|(k, _)| k != "Sid")
                    .map(|(k, v)| (k.as_str(), v))
                    .collect();
                sig.sort_by(|a, b| a.0.cmp(b.0));
                match signatures.entry(format!("{sig:?}")) {
                    hashbrown::hash_map::Entry::Occupied(first) => d.warn(
                        loc,
                        "redundant_statement",
                        format!("this statement repeats Statement[{}]", first.get()),
                    ),
                    hashbrown::hash_map::Entry::Vacant(v) => {
                        v.insert(idx);
                    }
                }
            }
            statements.push(st);
        }
    }
    let mut deps = Dependencies::default();
    for st in &statements {
        for g in &st.resources {
            for v in g.vars() {
                deps = deps.union(v.key.dependency());
            }
        }
        for c in &st.conditions {
            for k in c.keys() {
                deps = deps.union(k.dependency());
            }
        }
    }
    if !d.errors.is_empty() {
        return None;
    }
    // Statements of a policy mostly name the same few actions: match each distinct one once
    // per request instead of once per statement.
    let mut action_table: Vec<Glob> = Vec::new();
    let mut hot = Vec::with_capacity(statements.len());
    let mut filters = Vec::new();
    for st in &statements {
        let mut mask = Some(0u64);
        for g in &st.actions {
            let idx = match action_table.iter().position(|t| t == g) {
                Some(i) => i,
                None => {
                    action_table.push(g.clone());
                    action_table.len() - 1
                }
            };
            mask = mask.and_then(|m| (idx < 64).then(|| m | (1u64 << idx)));
        }
        let res_start = filters.len() as u32;
        filters.extend(st.resources.iter().map(Glob::sketch));
        hot.push(Hot {
            action_mask: mask.unwrap_or(0),
            masked: mask.is_some(),
            allow: st.effect == Effect::Allow,
            not_action: st.not_action,
            not_resource: st.not_resource,
            conditional: !st.conditions.is_empty(),
            res_start,
            res_end: filters.len() as u32,
        });
    }
    action_table.truncate(64);
    let index = Index::new(&statements);
    Some(PolicyDocument {
        statements,
        deps,
        action_table,
        hot,
        filters,
        index,
        folded: None,
    })
}

fn compile_statement(
    item: &Json,
    loc: &str,
    variables: bool,
    fold: bool,
    d: &mut Diag,
) -> Option<Statement> {
    let Json::Object(obj) = item else {
        d.err(
            loc,
            K::InvalidType {
                expected: "a statement object",
                found: item.type_name(),
            },
        );
        return None;
    };
    let errors_before = d.errors.len();
    let mut sid = None;
    let mut effect = None;
    let (mut action, mut not_action, mut resource, mut not_resource, mut condition) =
        (None, None, None, None, None);
    for (k, v) in members(obj) {
        let kloc = join(loc, k);
        match k {
            "Sid" => match v {
                Json::String(s) => sid = Some(s.clone()),
                other => d.err(
                    &kloc,
                    K::InvalidType {
                        expected: "a string",
                        found: other.type_name(),
                    },
                ),
            },
            "Effect" => match v {
                Json::String(s) if s == "Allow" => effect = Some(Effect::Allow),
                Json::String(s) if s == "Deny" => effect = Some(Effect::Deny),
                Json::String(s) => d.err(&kloc, K::InvalidEffect(s.clone())),
                other => d.err(
                    &kloc,
                    K::InvalidType {
                        expected: "a string",
                        found: other.type_name(),
                    },
                ),
            },
            "Action" => action = Some(v),
            "NotAction" => not_action = Some(v),
            "Resource" => resource = Some(v),
            "NotResource" => not_resource = Some(v),
            "Condition" => condition = Some(v),
            "Principal" | "NotPrincipal" => d.err(&kloc, K::PrincipalNotAllowed),
            other => d.err(&kloc, K::UnknownField(String::from(other))),
        }
    }
    if effect.is_none() && !obj.iter().any(|(k, _)| k == "Effect") {
        d.err(loc, K::MissingField("Effect"));
    }
    // Action / NotAction
    let (act_json, not_action_flag, act_name) = match (action, not_action) {
        (Some(_), Some(_)) => {
            d.err(loc, K::ConflictingFields("Action", "NotAction"));
            (None, false, "Action")
        }
        (Some(a), None) => (Some(a), false, "Action"),
        (None, Some(a)) => (Some(a), true, "NotAction"),
        (None, None) => {
            d.err(loc, K::MissingField("Action or NotAction"));
            (None, false, "Action")
        }
    };
    let mut actions = Vec::new();
    let mut action_text = Vec::new();
    if let Some(a) = act_json {
        for (aloc, s) in string_list(a, &join(loc, act_name), d) {
            if variables && s.contains("${") {
                d.err(&aloc, K::VariableNotAllowed("in Action"));
                continue;
            }
            let valid = s == "*"
                || s.split_once(':')
                    .is_some_and(|(svc, act)| !svc.is_empty() && !act.is_empty());
            if !valid {
                d.err(&aloc, K::InvalidAction(String::from(s)));
                continue;
            }
            match Glob::new(
                s,
                Syntax {
                    wildcards: true,
                    variables: false,
                    ci: true,
                },
            ) {
                Ok(g) => actions.push(g),
                Err(_) => d.err(&aloc, K::InvalidAction(String::from(s))),
            }
            action_text.push(String::from(s));
        }
    }
    // Resource / NotResource
    let (res_json, not_resource_flag, res_name) = match (resource, not_resource) {
        (Some(_), Some(_)) => {
            d.err(loc, K::ConflictingFields("Resource", "NotResource"));
            (None, false, "Resource")
        }
        (Some(r), None) => (Some(r), false, "Resource"),
        (None, Some(r)) => (Some(r), true, "NotResource"),
        (None, None) => {
            d.err(loc, K::MissingField("Resource or NotResource"));
            (None, false, "Resource")
        }
    };
    let mut resources = Vec::new();
    let mut resource_text = Vec::new();
    let mut twins = Vec::new();
    if let Some(r) = res_json {
        // A Deny widened, or an Allow's exclusions widened, only narrows what is allowed.
        let widen = (effect == Some(Effect::Deny)) != not_resource_flag;
        for (rloc, s) in string_list(r, &join(loc, res_name), d) {
            let canonical = match canonical_resource(s, variables) {
                Ok(canonical) => canonical,
                Err(why) => {
                    d.err(&rloc, K::InvalidArn(format!("{s} ({why})")));
                    continue;
                }
            };
            let text = if fold {
                fold_resource(&canonical)
            } else {
                canonical
            };
            if let Some(mut g) = compile_resource(&text, &rloc, variables, d) {
                g.fold_values = fold;
                resources.push(g);
                resource_text.push(String::from(s));
                if widen {
                    twins.extend(request_twins(&text));
                }
            }
        }
    }
    // After every written resource, so that explanations and errors keep their indices.
    for twin in twins {
        let syntax = Syntax {
            wildcards: true,
            variables,
            ci: false,
        };
        if let Ok(mut g) = Glob::new(&twin, syntax) {
            g.fold_values = fold;
            if !resources.contains(&g) {
                resources.push(g);
            }
        }
    }
    if effect == Some(Effect::Allow) && not_action_flag {
        d.warn(
            &join(loc, "NotAction"),
            "allow_with_not_action",
            String::from(
                "Allow with NotAction allows every action not listed, including future ones",
            ),
        );
    }
    if effect == Some(Effect::Allow) && not_resource_flag {
        d.warn(
            &join(loc, "NotResource"),
            "allow_with_not_resource",
            String::from("Allow with NotResource allows every resource not listed"),
        );
    }
    // Condition
    let mut conditions = Vec::new();
    if let Some(c) = condition {
        let cloc = join(loc, "Condition");
        match c {
            Json::Object(ops) => {
                for (op, body) in members(ops) {
                    compile_operator(op, body, &join(&cloc, op), variables, d, &mut conditions);
                }
            }
            other => d.err(
                &cloc,
                K::InvalidType {
                    expected: "an object",
                    found: other.type_name(),
                },
            ),
        }
    }
    if d.errors.len() != errors_before {
        return None;
    }
    Some(Statement {
        sid,
        effect: effect?,
        actions,
        action_text,
        not_action: not_action_flag,
        resources,
        resource_text,
        not_resource: not_resource_flag,
        conditions,
    })
}

fn compile_resource(s: &str, loc: &str, variables: bool, d: &mut Diag) -> Option<Glob> {
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
    match Glob::new(
        s,
        Syntax {
            wildcards: true,
            variables,
            ci: false,
        },
    ) {
        Ok(g) => Some(g),
        Err(GlobError::Syntax) => {
            d.err(loc, K::InvalidVariable(String::from(s)));
            None
        }
        Err(GlobError::UnsupportedVariable(k)) => {
            d.err(loc, K::UnsupportedVariable(k));
            None
        }
    }
}

/// Where the `/{path}` of an execute-api resource pattern starts (after
/// `{api}/{stage}/{METHOD}`), if it is one.
pub(crate) fn path_start(resource: &str) -> Option<usize> {
    let (colon, _) = resource.match_indices(':').nth(4)?;
    let head = resource.get(..colon)?;
    if !head.contains(":execute-api") {
        return None;
    }
    let rest = resource.get(colon + 1..)?;
    let (slash, _) = rest.match_indices('/').nth(2)?;
    Some(colon + 1 + slash)
}

/// A resource pattern with its path written as requests are matched (the canonical path,
/// `request_path`): escapes the core decodes are decoded (`caf%C3%A9` → `café`,
/// `a%2Bb` → `a+b`), the escapes it keeps are upper-cased (`%3f` → `%3F`), and a raw `%`,
/// `#` or `\` becomes its escape — so a pattern written encoded still matches the
/// requests it names. `%2A` and `%24` become the literal escapes `${*}` and `${$}`.
fn canonical_resource(resource: &str, variables: bool) -> Result<String, &'static str> {
    let Some(start) = path_start(resource) else {
        return Ok(String::from(resource));
    };
    let (head, path) = resource.split_at(start);
    let bytes = path.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(resource.len());
    out.extend_from_slice(head.as_bytes());
    let hex = |b: Option<&u8>| b.and_then(|&b| char::from(b).to_digit(16));
    let escape = |out: &mut Vec<u8>, v: u8| {
        out.extend_from_slice(format!("%{v:02X}").as_bytes());
    };
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if variables && b == b'$' && bytes.get(i + 1) == Some(&b'{') {
            // A variable (or an escape like `${*}`) is copied as written.
            let end = path
                .get(i..)
                .and_then(|r| r.find('}'))
                .map_or(bytes.len(), |e| i + e + 1);
            out.extend_from_slice(bytes.get(i..end).unwrap_or_default());
            i = end;
            continue;
        }
        i += 1;
        match (b, hex(bytes.get(i)), hex(bytes.get(i + 1))) {
            (b'%', Some(hi), Some(lo)) => {
                i += 2;
                let v = (hi << 4 | lo) as u8;
                match v {
                    0..=0x1f | 0x7f | b'%' | b'?' | b'#' | b'/' | b'\\' | b';' => escape(&mut out, v),
                    b'*' if variables => out.extend_from_slice(b"${*}"),
                    b'$' if variables => out.extend_from_slice(b"${$}"),
                    b'*' => return Err("`%2A` is a literal `*`, which needs Version 2012-10-17 to be written as `${*}`"),
                    _ => out.push(v),
                }
            }
            (b'%', _, _) => escape(&mut out, b'%'),
            (b'#' | b'\\', _, _) => escape(&mut out, b),
            _ => out.push(b),
        }
    }
    String::from_utf8(out).map_err(|_| "its percent-encoded bytes are not UTF-8")
}

/// The pattern's path lower-cased, variables (and escapes like `${*}`) as written.
fn fold_resource(resource: &str) -> String {
    let Some(start) = path_start(resource) else {
        return String::from(resource);
    };
    let (head, mut rest) = resource.split_at(start);
    let mut out = String::from(head);
    while let Some(at) = rest.find("${") {
        out.push_str(&rest.get(..at).unwrap_or_default().to_lowercase());
        let end = rest
            .get(at..)
            .and_then(|r| r.find('}'))
            .map_or(rest.len(), |e| at + e + 1);
        out.push_str(rest.get(at..end).unwrap_or_default());
        rest = rest.get(end..).unwrap_or_default();
    }
    out.push_str(&rest.to_lowercase());
    out
}

/// The patterns a Deny resource also covers, because routers serve them alike: a path and
/// its trailing-slash twin (Express and many origins route `/admin/` to `/admin` and back),
/// and `HEAD` where it names `GET` (Express and Fastify answer HEAD with the GET handler).
/// Widening a Deny only narrows what is allowed, and being patterns, the twins travel in
/// the IAM policy handed to API Gateway. A `NotResource` Deny is not widened: more
/// exceptions would allow more; an Allow's `NotResource` is, the same way.
fn request_twins(resource: &str) -> Vec<String> {
    if resource == "*" {
        return Vec::new();
    }
    let mut forms = alloc::vec![String::from(resource)];
    // Requests `x/` that a pattern matching `x` must also deny: append `/` (a final `*`
    // already matches it).
    if !resource.ends_with('*') {
        forms.push(format!("{resource}/"));
    }
    // Requests `x` whose twin `x/` the pattern matches: drop what matched the final `/`
    // (`P/`, `P?`, and through an empty final `*`, `P/*` and `P?*`).
    let body = resource.trim_end_matches('*');
    if let Some(stripped) = body.strip_suffix('/').or_else(|| body.strip_suffix('?')) {
        forms.push(String::from(stripped));
    }
    let heads: Vec<String> = forms
        .iter()
        .flat_map(|form| {
            form.match_indices("/GET/").map(move |(at, _)| {
                let (before, after) = (form.get(..at), form.get(at + 5..));
                format!("{}/HEAD/{}", before.unwrap_or(""), after.unwrap_or(""))
            })
        })
        .collect();
    forms.extend(heads);
    forms.remove(0);
    forms
}

/// Whether a `*` in one of the first three `/` slots (api-id, stage, method) is followed by
/// literal text, so that it can swallow `/` and shift the rest of the pattern.
fn greedy_slot(res: &str) -> bool {
    let mut slash = 0;
    for (i, c) in res.char_indices() {
        match c {
            '/' => slash += 1,
            '*' if slash < 3 => {
                let after = res.get(i + 1..).unwrap_or("");
                return after.chars().any(|c| c != '*' && c != '/');
            }
            _ => {}
        }
    }
    false
}
