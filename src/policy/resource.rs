//! Resource patterns as text: where an execute-api path starts, its canonical and
//! case-folded forms, and the twins a Deny also covers.

use alloc::{format, string::String, vec::Vec};

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
pub(crate) fn canonical_resource(resource: &str, variables: bool) -> Result<String, &'static str> {
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
pub(crate) fn fold_resource(resource: &str) -> String {
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
pub(crate) fn request_twins(resource: &str) -> Vec<String> {
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
pub(crate) fn greedy_slot(res: &str) -> bool {
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
