//! Wildcard patterns (`*` any run of characters, `?` exactly one) with optional policy
//! variables, compiled once and matched without allocating.

use alloc::{string::String, vec::Vec};

use super::keys::{resolve_var, Key, TextBuf};
use super::EvalContext;

/// A `${key}` or `${key, 'default'}` reference.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VarRef {
    pub(crate) key: Key,
    pub(crate) default: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    /// Literal bytes `text[start..end]`.
    Lit(u32, u32),
    Star,
    One,
    /// Index into `vars`.
    Var(u32),
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Any,
    Exact,
    Prefix,
    General,
}

/// A 4096-bit set of hashed byte triples of a request's resource (sparse enough that a
/// missing triple is a reliable "cannot match"). Bit 0 is always set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Filter([u64; 64]);

#[inline]
fn triple_hash(a: u8, b: u8, c: u8) -> u16 {
    let x = u32::from(a) | (u32::from(b) << 8) | (u32::from(c) << 16);
    (x.wrapping_mul(0x9E37_79B1) >> 20) as u16
}

impl Filter {
    /// The triples present in `input`.
    pub(crate) fn of(input: &str) -> Filter {
        let mut f = Filter([0; 64]);
        f.set(0);
        for w in input.as_bytes().windows(3) {
            if let [a, b, c] = w {
                f.set(triple_hash(*a, *b, *c));
            }
        }
        f
    }
    #[inline]
    fn set(&mut self, h: u16) {
        if let Some(w) = self.0.get_mut(usize::from(h >> 6) & 63) {
            *w |= 1u64 << (h & 63);
        }
    }
    /// Whether hash `h` is in the set.
    #[inline]
    pub(crate) fn has(&self, h: u16) -> bool {
        self.0
            .get(usize::from(h >> 6) & 63)
            .is_some_and(|w| w & (1u64 << (h & 63)) != 0)
    }
}

/// Up to eight hashed triples that every match of a pattern contains, taken from the end of
/// the pattern (where execute-api ARNs are most specific). If one is missing from the
/// request's [`Filter`], the pattern cannot match: this rejects most statements with eight
/// bit tests, which is what makes a thousand statements per request affordable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sketch([u16; 8]);

impl Sketch {
    /// The most specific triple (0 if the pattern has none).
    pub(crate) fn keys(&self) -> &[u16; 8] {
        &self.0
    }

    /// Whether the request may match.
    #[inline]
    pub(crate) fn within(&self, f: &Filter) -> bool {
        self.0.iter().all(|h| f.has(*h))
    }
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Glob {
    text: String,
    tokens: Vec<Token>,
    vars: Vec<VarRef>,
    kind: Kind,
    /// ASCII case-insensitive (actions): literals are stored lowercased.
    ci: bool,
    /// Substituted variable values are lower-cased (the resources of a policy's
    /// case-folded form, matched against lower-cased paths).
    pub(crate) fold_values: bool,
    sketch: Sketch,
}

/// Why a pattern could not be parsed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GlobError {
    /// Malformed `${...}`.
    Syntax,
    /// A variable names a key we cannot substitute.
    UnsupportedVariable(String),
}

/// How to read a pattern's text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (Like operators, Action, Resource).
    pub(crate) wildcards: bool,
    /// `${...}` is a policy variable (Version 2012-10-17 and an element that allows them).
    pub(crate) variables: bool,
    /// Match ASCII case-insensitively.
    pub(crate) ci: bool,
}

impl Glob {
    /// Compiles `pattern`.
    pub(crate) fn new(pattern: &str, syntax: Syntax) -> Result<Glob, GlobError> {
        let mut g = Glob {
            text: String::new(),
            tokens: Vec::new(),
            vars: Vec::new(),
            fold_values: false,
            kind: Kind::General,
            ci: syntax.ci,
            sketch: Sketch::default(),
        };
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            if syntax.variables && rest.starts_with("${") {
                let end = rest.find('}').ok_or(GlobError::Syntax)?;
                let inner = rest.get(2..end).ok_or(GlobError::Syntax)?;
                rest = rest.get(end + 1..).ok_or(GlobError::Syntax)?;
                match inner {
                    "*" | "?" | "$" => g.push_lit(inner),
                    _ => {
                        let var = parse_var(inner)?;
                        g.tokens.push(Token::Var(g.vars.len() as u32));
                        g.vars.push(var);
                    }
                }
                continue;
            }
            rest = rest.get(c.len_utf8()..).unwrap_or("");
            match c {
                '*' if syntax.wildcards => {
                    // `**` is the same as `*`.
                    if g.tokens.last() != Some(&Token::Star) {
                        g.tokens.push(Token::Star);
                    }
                }
                '?' if syntax.wildcards => g.tokens.push(Token::One),
                _ => {
                    let mut buf = [0u8; 4];
                    g.push_lit(c.encode_utf8(&mut buf));
                }
            }
        }
        g.kind = match g.tokens.as_slice() {
            [Token::Star] => Kind::Any,
            [] | [Token::Lit(..)] => Kind::Exact,
            [Token::Lit(..), Token::Star] => Kind::Prefix,
            _ => Kind::General,
        };
        if !g.ci {
            let mut keys: Vec<u16> = Vec::new();
            for t in g.tokens.iter().rev() {
                if let Token::Lit(s, e) = *t {
                    let lit = g.text.as_bytes().get(s as usize..e as usize).unwrap_or(&[]);
                    for w in lit.windows(3).rev() {
                        if let [a, b, c] = w {
                            let h = triple_hash(*a, *b, *c);
                            if keys.len() < 8 && !keys.contains(&h) {
                                keys.push(h);
                            }
                        }
                    }
                }
            }
            // Fewer than eight: pad with bit 0, which every request has.
            let mut sketch = [0u16; 8];
            for (slot, k) in sketch.iter_mut().zip(keys) {
                *slot = k;
            }
            g.sketch = Sketch(sketch);
        }
        Ok(g)
    }

    fn push_lit(&mut self, s: &str) {
        let start = self.text.len() as u32;
        if self.ci {
            self.text.push_str(&s.to_ascii_lowercase());
        } else {
            self.text.push_str(s);
        }
        let end = self.text.len() as u32;
        // Merge with a preceding literal so matching compares whole runs.
        if let Some(Token::Lit(_, e)) = self.tokens.last_mut() {
            if *e == start {
                *e = end;
                return;
            }
        }
        self.tokens.push(Token::Lit(start, end));
    }

    /// The policy variables this pattern reads.
    pub(crate) fn vars(&self) -> &[VarRef] {
        &self.vars
    }

    /// Whether the pattern may match an input whose triples are `input` (cheap pre-check).
    #[cfg(test)]
    pub(crate) fn may_match(&self, input: &Filter) -> bool {
        self.sketch.within(input)
    }

    /// Triples every match must contain.
    pub(crate) fn sketch(&self) -> Sketch {
        self.sketch
    }

    fn lit(&self, s: u32, e: u32) -> &[u8] {
        self.text
            .as_bytes()
            .get(s as usize..e as usize)
            .unwrap_or(&[])
    }

    /// Matches `input`; variables are resolved from `ctx` (an unresolvable one matches nothing).
    pub(crate) fn matches(&self, input: &str, ctx: Option<&EvalContext<'_>>) -> bool {
        self.matches_as(input, ctx, self.ci)
    }

    /// Matches an input that is already ASCII-lowercase (for case-insensitive patterns,
    /// whose literals are stored lowercase): plain byte comparisons.
    pub(crate) fn matches_lowercase(&self, input: &str) -> bool {
        self.matches_as(input, None, false)
    }

    fn matches_as(&self, input: &str, ctx: Option<&EvalContext<'_>>, ci: bool) -> bool {
        let bytes = input.as_bytes();
        match self.kind {
            Kind::Any => true,
            Kind::Exact => {
                let lit = match self.tokens.first() {
                    Some(Token::Lit(s, e)) => self.lit(*s, *e),
                    _ => &[],
                };
                eq_bytes(lit, bytes, ci)
            }
            Kind::Prefix => {
                let lit = match self.tokens.first() {
                    Some(Token::Lit(s, e)) => self.lit(*s, *e),
                    _ => &[],
                };
                bytes.get(..lit.len()).is_some_and(|p| eq_bytes(lit, p, ci))
            }
            Kind::General => self.matches_general(bytes, ctx, ci),
        }
    }

    /// The classic iterative wildcard match: only the last `*` ever needs to be retried,
    /// because every other token has a fixed length once variables are resolved.
    fn matches_general(&self, input: &[u8], ctx: Option<&EvalContext<'_>>, ci: bool) -> bool {
        let n = input.len();
        // Anchored ends first: most near misses differ at the end of the path.
        if let Some(Token::Lit(s, e)) = self.tokens.last() {
            let lit = self.lit(*s, *e);
            if !input
                .get(n.wrapping_sub(lit.len())..)
                .is_some_and(|p| n >= lit.len() && eq_bytes(lit, p, ci))
            {
                return false;
            }
        }
        if let Some(Token::Lit(s, e)) = self.tokens.first() {
            let lit = self.lit(*s, *e);
            if !input.get(..lit.len()).is_some_and(|p| eq_bytes(lit, p, ci)) {
                return false;
            }
        }
        let (mut ti, mut pos) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        loop {
            let advanced = match self.tokens.get(ti) {
                None => {
                    if pos == n {
                        return true;
                    }
                    false
                }
                Some(Token::Star) => {
                    star = Some((ti + 1, pos));
                    ti += 1;
                    continue;
                }
                Some(Token::One) => match input.get(pos) {
                    Some(&b) if !is_continuation(b) => {
                        pos += utf8_len(b);
                        true
                    }
                    _ => false,
                },
                Some(Token::Lit(s, e)) => {
                    let lit = self.lit(*s, *e);
                    if input
                        .get(pos..pos + lit.len())
                        .is_some_and(|p| eq_bytes(lit, p, ci))
                    {
                        pos += lit.len();
                        true
                    } else {
                        false
                    }
                }
                Some(Token::Var(i)) => {
                    let mut buf = TextBuf::new();
                    let value = match (ctx, self.vars.get(*i as usize)) {
                        (Some(ctx), Some(var)) => resolve_var(var, ctx, &mut buf),
                        _ => None,
                    };
                    let Some(value) = value else { return false };
                    let folded;
                    let lit = if self.fold_values {
                        folded = value.to_lowercase();
                        folded.as_bytes()
                    } else {
                        value.as_bytes()
                    };
                    // Substituted values are literal text, never wildcards.
                    if input.get(pos..pos + lit.len()).is_some_and(|p| p == lit) {
                        pos += lit.len();
                        true
                    } else {
                        false
                    }
                }
            };
            if advanced {
                ti += 1;
                continue;
            }
            match star {
                Some((sti, spos)) if spos < n => {
                    let mut next = spos + input.get(spos).map_or(1, |&b| utf8_len(b));
                    // Jump straight to the next place the literal after the `*` occurs.
                    if let Some(Token::Lit(s, e)) = self.tokens.get(sti) {
                        let lit = self.lit(*s, *e);
                        match find(input.get(next..).unwrap_or(&[]), lit, ci) {
                            Some(off) => next += off,
                            None => return false,
                        }
                    }
                    star = Some((sti, next));
                    ti = sti;
                    pos = next;
                }
                _ => return false,
            }
        }
    }

    /// The pattern's text with variables substituted from `ctx`, for a specialised policy.
    /// `None` if a variable cannot be resolved. `exact` is false when a literal `*`, `?` or
    /// `$` (from an escape or a substituted value) had to be written, since the output
    /// can then only express it as a wildcard or a variable.
    pub(crate) fn render(&self, ctx: &EvalContext<'_>) -> Option<(String, bool)> {
        let mut out = String::new();
        let mut exact = true;
        for t in &self.tokens {
            match *t {
                Token::Star => out.push('*'),
                Token::One => out.push('?'),
                Token::Lit(s, e) => {
                    let lit = self.text.get(s as usize..e as usize).unwrap_or("");
                    exact &= !lit.contains(['*', '?', '$']);
                    out.push_str(lit);
                }
                Token::Var(i) => {
                    let mut buf = TextBuf::new();
                    let v = resolve_var(self.vars.get(i as usize)?, ctx, &mut buf)?;
                    exact &= !v.contains(['*', '?', '$']);
                    if self.fold_values {
                        out.push_str(&v.to_lowercase());
                    } else {
                        out.push_str(v);
                    }
                }
            }
        }
        Some((out, exact))
    }
}

fn parse_var(inner: &str) -> Result<VarRef, GlobError> {
    let (name, default) = match inner.split_once(',') {
        None => (inner.trim(), None),
        Some((name, d)) => {
            let d = d.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .ok_or(GlobError::Syntax)?;
            if d.contains('\'') {
                return Err(GlobError::Syntax);
            }
            (name.trim(), Some(String::from(d)))
        }
    };
    if name.is_empty() {
        return Err(GlobError::Syntax);
    }
    match Key::parse(name) {
        Some(key) if key.substitutable() => Ok(VarRef { key, default }),
        _ => Err(GlobError::UnsupportedVariable(String::from(name))),
    }
}

#[inline]
fn eq_bytes(lit: &[u8], input: &[u8], ci: bool) -> bool {
    if ci {
        lit.len() == input.len()
            && lit
                .iter()
                .zip(input)
                .all(|(a, b)| *a == b.to_ascii_lowercase())
    } else {
        lit == input
    }
}

/// The first offset of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8], ci: bool) -> Option<usize> {
    let first = *needle.first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    (0..=last_start).find(|&i| {
        hay.get(i).is_some_and(|&b| {
            if ci {
                b.to_ascii_lowercase() == first
            } else {
                b == first
            }
        }) && hay
            .get(i..i + needle.len())
            .is_some_and(|p| eq_bytes(needle, p, ci))
    })
}

#[inline]
fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

#[inline]
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Splits an ARN into its six colon-separated parts (the last keeps any further colons),
/// ignoring colons inside `${...}` when `variables` is set.
pub(crate) fn split_arn(s: &str, variables: bool) -> Option<[&str; 6]> {
    let mut parts: [&str; 6] = [""; 6];
    let mut start = 0;
    let mut idx = 0;
    let mut depth = false;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && idx < 5 {
        match bytes.get(i) {
            Some(b'$') if variables && bytes.get(i + 1) == Some(&b'{') => depth = true,
            Some(b'}') if depth => depth = false,
            Some(b':') if !depth => {
                *parts.get_mut(idx)? = s.get(start..i)?;
                idx += 1;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if idx < 5 {
        return None;
    }
    *parts.get_mut(5)? = s.get(start..)?;
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(p: &str) -> Glob {
        Glob::new(
            p,
            Syntax {
                wildcards: true,
                variables: false,
                ci: false,
            },
        )
        .unwrap()
    }

    #[test]
    fn basics() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "a/b:c", true),
            ("a*", "abc", true),
            ("a*", "ba", false),
            ("*/*/*", "a/b/c/d", true),
            ("*/*/*", "a/b", false),
            ("a?c", "abc", true),
            ("a?c", "aéc", true),
            ("a?c", "ac", false),
            ("a*b*c", "axxbyybzc", true),
            ("a*b*c", "axxbyybz", false),
            ("*?", "", false),
            ("*?", "é", true),
            ("", "", true),
            ("", "a", false),
        ];
        for (p, i, want) in cases {
            assert_eq!(g(p).matches(i, None), *want, "{p} vs {i}");
        }
    }

    #[test]
    fn case_insensitive() {
        let p = Glob::new(
            "Execute-API:Inv*",
            Syntax {
                wildcards: true,
                variables: false,
                ci: true,
            },
        )
        .unwrap();
        assert!(p.matches("execute-api:invoke", None));
        assert!(p.matches("EXECUTE-API:INVOKE", None));
    }

    #[test]
    fn arn_split() {
        assert_eq!(
            split_arn("arn:aws:s3:::b/${jwt:a:b}:x", true),
            Some(["arn", "aws", "s3", "", "", "b/${jwt:a:b}:x"])
        );
        assert_eq!(split_arn("arn:aws:s3", true), None);
    }
}
