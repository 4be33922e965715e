//! Phase 3, compilation: a validated tree to the matchers evaluation runs — statements,
//! the action table, the per-statement data the scan reads, and the statement index.

use alloc::{string::String, vec::Vec};

use super::condition::Condition;
use super::glob::{Glob, Syntax};
use super::index::Index;
use super::resource::request_twins;
use super::validate::{Valid, ValidResource, ValidStatement};
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

/// Compiles a validated document.
pub(crate) fn compile(valid: Valid<'_>) -> PolicyDocument {
    let syntax = Syntax {
        wildcards: true,
        variables: valid.variables,
        ci: false,
    };
    let statements: Vec<Statement> = valid
        .statements
        .into_iter()
        .map(|st| statement(st, syntax, valid.fold))
        .collect();
    let (action_table, hot, filters) = scan_data(&statements);
    PolicyDocument {
        deps: dependencies(&statements),
        index: Index::new(&statements),
        statements,
        action_table,
        hot,
        filters,
        folded: None,
    }
}

fn statement(st: ValidStatement<'_>, syntax: Syntax, fold: bool) -> Statement {
    let (action_text, actions) = st
        .actions
        .into_iter()
        .map(|(text, g)| (String::from(text), g))
        .unzip();
    let resource_text = st
        .resources
        .iter()
        .map(|r| String::from(r.written))
        .collect();
    // A Deny widened, or an Allow's exclusions widened, only narrows what is allowed.
    let widen = (st.effect == Effect::Deny) != st.not_resource;
    Statement {
        sid: st.sid.map(String::from),
        effect: st.effect,
        actions,
        action_text,
        not_action: st.not_action,
        resources: resources(st.resources, widen, syntax, fold),
        resource_text,
        not_resource: st.not_resource,
        conditions: st.conditions,
    }
}

/// The statement's resource patterns, then the request twins of those (`widen`: a Deny's,
/// or an Allow's exclusions).
fn resources(
    written: Vec<ValidResource<'_>>,
    widen: bool,
    syntax: Syntax,
    fold: bool,
) -> Vec<Glob> {
    let mut twins = Vec::new();
    let mut out = Vec::with_capacity(written.len());
    for r in written {
        if widen {
            twins.extend(request_twins(&r.text));
        }
        out.push(r.glob);
    }
    // After every written resource, so that explanations and errors keep their indices.
    for twin in twins {
        if let Ok(mut g) = Glob::new(&twin, syntax) {
            g.fold_values = fold;
            if !out.contains(&g) {
                out.push(g);
            }
        }
    }
    out
}

/// What the statements' conditions and resource variables read of the request.
fn dependencies(statements: &[Statement]) -> Dependencies {
    let mut deps = Dependencies::default();
    for st in statements {
        let vars = st.resources.iter().flat_map(|g| g.vars()).map(|v| &v.key);
        let keys = st.conditions.iter().flat_map(Condition::keys);
        for k in vars.chain(keys) {
            deps = deps.union(k.dependency());
        }
    }
    deps
}

/// The action table, each statement's [`Hot`] data and every resource pattern's sketch.
fn scan_data(statements: &[Statement]) -> (Vec<Glob>, Vec<Hot>, Vec<super::glob::Sketch>) {
    // Statements of a policy mostly name the same few actions: match each distinct one once
    // per request instead of once per statement.
    let mut action_table: Vec<Glob> = Vec::new();
    let mut hot = Vec::with_capacity(statements.len());
    let mut filters = Vec::new();
    for st in statements {
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
    (action_table, hot, filters)
}
