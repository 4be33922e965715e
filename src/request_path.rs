//! The canonical request path: what is authorized is exactly what the origin serves.
//!
//! Routers and origins disagree about what a path means: Fastify decodes `%61` before
//! matching, Express matches case-insensitively, nginx merges `//`, Tomcat cuts `;params`,
//! IIS drops trailing dots, `serve-static` resolves `..`. An authorizer that matches the
//! text it was given can be walked around by any of these. So every path goes through one
//! function, [`canonical_path`], designed after Envoy's `normalize_path`, `merge_slashes` and
//! `path_with_escaped_slashes_action` and RFC 3986 §6.2.2:
//!
//! - **decoded**: percent-encoded characters are decoded (`%61dmin` → `admin`,
//!   `caf%C3%A9` → `café`), except the three whose decoding would change the path's
//!   structure: `%25`, `%3F`, `%23` stay encoded, with upper-case hex;
//! - **refused** ([`PathError`], answered 400 with a stable reason code): fragments,
//!   control characters, malformed or double encoding, invalid UTF-8, `\` and `%2F`,
//!   dot segments, empty segments (`//`), `;` parameters, segments ending in a dot or a
//!   space, overlong paths, anything but origin-form — each unless [`PathRules`] says to
//!   canonicalise it instead;
//! - **matched** as the router in front of which the adapter stands matches
//!   ([`PathMatching`]: case, trailing slash, duplicate slashes);
//! - **forwarded** in the canonical form, re-encoded for the wire, by the adapters that
//!   forward (the Worker, Lambda@Edge), so the origin never sees another path.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// How a router matches paths: the part of the rules an adapter may know better than the
/// configuration (Express reads its app's settings, Fastify its router options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathMatching {
    /// `false`: policies are matched against the lower-cased path.
    pub case_sensitive: bool,
    /// `true`: `/x/` is matched (and forwarded) as `/x`; the root `/` stays.
    pub strip_trailing_slash: bool,
    /// `true`: `//` is merged into `/`; `false`: refused.
    pub merge_slashes: bool,
}

impl Default for PathMatching {
    fn default() -> Self {
        Self {
            case_sensitive: true,
            strip_trailing_slash: false,
            merge_slashes: false,
        }
    }
}

/// What to do with `.` and `..` segments (raw or encoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DotSegments {
    /// Refuse the request (400 `path_dot_segment`). Browsers resolve them before sending.
    #[default]
    Reject,
    /// Resolve them (RFC 3986 `remove_dot_segments`); a `..` above the root is refused.
    Resolve,
}

/// What to do with `%2F` and `%5C` (Envoy's `path_with_escaped_slashes_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EscapedSlashes {
    /// Refuse the request (400 `path_encoded_slash` / `path_backslash`).
    #[default]
    Reject,
    /// Keep them encoded: `a%2Fb` is one segment, distinct from `a/b`.
    Keep,
}

/// The configuration's path rules (`request` in the JSON configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathRules {
    /// The router's matching, unless the request says otherwise.
    pub matching: PathMatching,
    /// `.` and `..` segments.
    pub dot_segments: DotSegments,
    /// `%2F` and `%5C`.
    pub escaped_slashes: EscapedSlashes,
    /// `false` (default): `;` (raw or `%3B`) is refused, since servlet containers cut
    /// `;params` from a segment before routing; `true`: a literal character.
    pub keep_semicolons: bool,
    /// Longest accepted path in bytes, query excluded (default 8192).
    pub max_path_bytes: usize,
}

impl Default for PathRules {
    fn default() -> Self {
        Self {
            matching: PathMatching::default(),
            dot_segments: DotSegments::Reject,
            escaped_slashes: EscapedSlashes::Reject,
            keep_semicolons: false,
            max_path_bytes: 8192,
        }
    }
}

/// Why a request path (or method) is refused: each is answered 400 `bad_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// Not origin-form: empty, `*`, or absolute-form (`http://host/...`).
    NotOriginForm,
    /// A `#`: fragments are never sent by clients that mean well.
    Fragment,
    /// A control character (U+0000–U+001F, U+007F–U+009F), raw or percent-encoded.
    ControlCharacter,
    /// A `%` not followed by two hexadecimal digits.
    BadEscape,
    /// `%25` followed by two hexadecimal digits: decoded twice, it means something else.
    DoubleEncoding,
    /// Percent-encoded bytes that are not UTF-8.
    InvalidUtf8,
    /// A `\`, raw or `%5C` (some servers read it as `/`).
    Backslash,
    /// `%2F` (some servers decode it into a separator).
    EncodedSlash,
    /// A `.` or `..` segment, raw or encoded, or a `..` above the root.
    DotSegment,
    /// An empty segment (`//`).
    EmptySegment,
    /// A `;` (raw or `%3B`): servlet containers cut `;params` from a segment.
    Semicolon,
    /// A segment ending in `.` or a space (Windows servers drop them).
    TrailingDot,
    /// Longer than the configured maximum.
    TooLong,
    /// The method is not 1–32 ASCII letters.
    InvalidMethod,
    /// An API Gateway `methodArn` that is not `arn:…:execute-api:…:{api}/{stage}/{METHOD}/…`.
    InvalidMethodArn,
    /// A header or query parameter holds a NUL character (which no header may hold and no
    /// query needs; the JavaScript boundary cannot carry it).
    NulInRequest,
}

impl PathError {
    /// The stable reason code (`path_fragment`, ...).
    pub fn code(self) -> &'static str {
        match self {
            Self::NotOriginForm => "path_not_origin_form",
            Self::Fragment => "path_fragment",
            Self::ControlCharacter => "path_control_character",
            Self::BadEscape => "path_bad_escape",
            Self::DoubleEncoding => "path_double_encoding",
            Self::InvalidUtf8 => "path_invalid_utf8",
            Self::Backslash => "path_backslash",
            Self::EncodedSlash => "path_encoded_slash",
            Self::DotSegment => "path_dot_segment",
            Self::EmptySegment => "path_empty_segment",
            Self::Semicolon => "path_semicolon",
            Self::TrailingDot => "path_trailing_dot",
            Self::TooLong => "path_too_long",
            Self::InvalidMethod => "invalid_method",
            Self::InvalidMethodArn => "invalid_method_arn",
            Self::NulInRequest => "request_nul",
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotOriginForm => "the request target is not a path starting with `/`",
            Self::Fragment => "the path contains a fragment (`#`)",
            Self::ControlCharacter => "the path contains a control character",
            Self::BadEscape => "a `%` in the path is not followed by two hexadecimal digits",
            Self::DoubleEncoding => "the path is percent-encoded twice (`%25` + hex digits)",
            Self::InvalidUtf8 => "the path's percent-encoded bytes are not UTF-8",
            Self::Backslash => "the path contains a backslash (raw or `%5C`)",
            Self::EncodedSlash => "the path contains an encoded slash (`%2F`)",
            Self::DotSegment => "the path contains a `.` or `..` segment",
            Self::EmptySegment => "the path contains an empty segment (`//`)",
            Self::Semicolon => "the path contains a `;` parameter",
            Self::TrailingDot => "a path segment ends in a dot or a space",
            Self::TooLong => "the path is longer than the configured maximum",
            Self::InvalidMethod => "the method is not 1 to 32 ASCII letters",
            Self::InvalidMethodArn => "the methodArn is not an execute-api method ARN",
            Self::NulInRequest => "a header or query parameter holds a NUL character",
        })
    }
}

impl core::error::Error for PathError {}

/// A request path made canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath {
    /// The path policies are matched against: decoded, then as the router matches
    /// (lower-cased, trailing slash stripped, as the matching says). Starts with `/`.
    pub matched: String,
    /// The path to forward to the origin, percent-encoded for the wire; `None` when it is
    /// the given path (without its query) unchanged.
    pub forward: Option<String>,
}

/// Checks an HTTP method: 1–32 ASCII letters (compared case-insensitively).
pub fn check_method(method: &str) -> Result<(), PathError> {
    if (1..=32).contains(&method.len()) && method.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(PathError::InvalidMethod)
    }
}

/// The canonical form of `path` (a `?query` after it is ignored) under `rules`, matched as
/// `matching` says. See the module docs for what is decoded, refused and kept.
pub fn canonical_path(
    path: &str,
    rules: &PathRules,
    matching: PathMatching,
) -> Result<CanonicalPath, PathError> {
    let mut matched = String::new();
    let forward = canonicalize_into(path, rules, matching, &mut matched)?;
    Ok(CanonicalPath { matched, forward })
}

/// Bytes that stand for themselves in a canonical path: RFC 3986 `pchar` without `%`, and
/// `/`. The fast path needs nothing else; `;` is one unless the rules refuse it.
fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}

/// Writes the matched form of `path` into `matched` (cleared first) and returns the form to
/// forward when it differs from the given one. Allocation-free for a path that is already
/// canonical and needs no change for matching, the usual case.
pub(crate) fn canonicalize_into(
    path: &str,
    rules: &PathRules,
    matching: PathMatching,
    matched: &mut String,
) -> Result<Option<String>, PathError> {
    matched.clear();
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    if path.len() > rules.max_path_bytes {
        return Err(PathError::TooLong);
    }
    if !path.starts_with('/') {
        return Err(PathError::NotOriginForm);
    }
    if is_canonical(path, rules, matching) {
        matched.push_str(path);
        if !matching.case_sensitive {
            matched.make_ascii_lowercase();
        }
        return Ok(None);
    }
    let decoded = decode(path, rules)?;
    let segments = normalize_segments(&decoded, rules, matching)?;
    let mut canonical = String::with_capacity(decoded.len());
    for segment in &segments {
        canonical.push('/');
        canonical.push_str(segment);
    }
    if canonical.is_empty() {
        canonical.push('/');
    }
    let wire = encode_for_wire(&canonical);
    // Re-encoding can lengthen it (`|` is `%7C`): the origin gets no longer a path either.
    if wire.len() > rules.max_path_bytes {
        return Err(PathError::TooLong);
    }
    if matching.case_sensitive {
        matched.push_str(&canonical);
    } else {
        // `str::to_lowercase`, not per char: it applies the final-sigma rule (`ΑΣ` → `ας`)
        // as JavaScript's `toLowerCase` does, which case-insensitive routers use.
        matched.push_str(&canonical.to_lowercase());
    }
    Ok((wire != path).then_some(wire))
}

/// The fast path: only plain bytes, no empty, dot or dot-ended segment, nothing the
/// matching changes besides the letter case.
fn is_canonical(path: &str, rules: &PathRules, matching: PathMatching) -> bool {
    let bytes = path.as_bytes();
    if !bytes
        .iter()
        .all(|&b| is_plain(b) || (b == b';' && rules.keep_semicolons))
    {
        return false;
    }
    if matching.strip_trailing_slash && bytes.len() > 1 && bytes.ends_with(b"/") {
        return false;
    }
    let mut segments = path.split('/').skip(1).peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if (segment.is_empty() && !last) || segment.ends_with('.') {
            return false;
        }
    }
    true
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'%');
    out.push(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
    out.push(HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0'));
}

/// Decodes percent-escapes, refusing what cannot be decoded unambiguously. The result keeps
/// `%25`, `%3F`, `%23` (and, when the rules keep them, `%2F`, `%5C`, `%3B`) as escapes.
fn decode(path: &str, rules: &PathRules) -> Result<String, PathError> {
    let bytes = path.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    // Where a `%25` was written: decoded once more, with two hex digits after it (whether
    // they came raw or encoded: `%2561`, `%25%36%31`), it would be another character.
    let mut literal_percents: Vec<usize> = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'#' => return Err(PathError::Fragment),
            0..=0x1f | 0x7f => return Err(PathError::ControlCharacter),
            b'\\' => return Err(PathError::Backslash),
            b';' if !rules.keep_semicolons => return Err(PathError::Semicolon),
            b'%' => {
                let (Some(hi), Some(lo)) = (
                    bytes.get(i).copied().and_then(hex_value),
                    bytes.get(i + 1).copied().and_then(hex_value),
                ) else {
                    return Err(PathError::BadEscape);
                };
                i += 2;
                let value = hi << 4 | lo;
                match value {
                    0..=0x1f | 0x7f => return Err(PathError::ControlCharacter),
                    b'/' | b'\\' if rules.escaped_slashes == EscapedSlashes::Keep => {
                        push_escape(&mut out, value)
                    }
                    b'/' => return Err(PathError::EncodedSlash),
                    b'\\' => return Err(PathError::Backslash),
                    b'%' => {
                        literal_percents.push(out.len());
                        push_escape(&mut out, value);
                    }
                    b'?' | b'#' => push_escape(&mut out, value),
                    // `%3B` is a literal `;` to servlet containers, unlike a raw one: keep the
                    // difference when semicolons are allowed at all.
                    b';' if rules.keep_semicolons => push_escape(&mut out, value),
                    b';' => return Err(PathError::Semicolon),
                    _ => out.push(value),
                }
            }
            _ => out.push(b),
        }
    }
    let is_hex = |at: usize| out.get(at).copied().and_then(hex_value).is_some();
    if literal_percents
        .iter()
        .any(|&at| is_hex(at + 3) && is_hex(at + 4))
    {
        return Err(PathError::DoubleEncoding);
    }
    let decoded = String::from_utf8(out).map_err(|_| PathError::InvalidUtf8)?;
    // C1 controls (U+0080–U+009F), raw or encoded, are controls too.
    if decoded.chars().any(char::is_control) {
        return Err(PathError::ControlCharacter);
    }
    Ok(decoded)
}

/// Splits the decoded path into segments and applies the segment rules: empty segments,
/// dot segments, trailing dots, the trailing slash.
fn normalize_segments<'d>(
    decoded: &'d str,
    rules: &PathRules,
    matching: PathMatching,
) -> Result<Vec<&'d str>, PathError> {
    let body = decoded.strip_prefix('/').unwrap_or(decoded);
    let raw: Vec<&str> = body.split('/').collect();
    let count = raw.len();
    let mut out: Vec<&str> = Vec::with_capacity(count);
    for (index, segment) in raw.into_iter().enumerate() {
        let last = index + 1 == count;
        match segment {
            "" if last => out.push(""),
            "" if matching.merge_slashes => {}
            "" => return Err(PathError::EmptySegment),
            "." | ".." if rules.dot_segments == DotSegments::Reject => {
                return Err(PathError::DotSegment)
            }
            "." => {
                // `/a/.` is `/a/`: the directory itself.
                if last {
                    out.push("");
                }
            }
            ".." => {
                // `..` pops the segment before it; the root has none.
                if out.pop().is_none() {
                    return Err(PathError::DotSegment);
                }
                if last {
                    out.push("");
                }
            }
            s if s.ends_with('.') || s.ends_with(' ') => return Err(PathError::TrailingDot),
            s => out.push(s),
        }
    }
    // Merging can leave `/a/` from `/a//`: an empty segment only ever ends the path.
    if matching.strip_trailing_slash && out.len() > 1 && out.last() == Some(&"") {
        out.pop();
    }
    Ok(out)
}

/// The canonical path as it travels: `pchar`s as they are, everything else (space, `"`,
/// `<`, non-ASCII, ...) percent-encoded with upper-case hex. `%` only ever starts one of
/// the escapes the decoder kept.
fn encode_for_wire(canonical: &str) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(canonical.len());
    for &b in canonical.as_bytes() {
        if is_plain(b) || b == b'%' || b == b';' {
            out.push(b);
        } else {
            push_escape(&mut out, b);
        }
    }
    // Only ASCII was pushed.
    String::from_utf8(out).unwrap_or_default()
}

/// Splits an execute-api method ARN, `arn:{partition}:execute-api:{region}:{account}:{api}/
/// {stage}/{METHOD}/{path}`, into its `…/{stage}/` prefix, the method and the `/{path}` (as
/// given: the path may hold `:` and `//`). `None` for another service or a missing slot.
pub fn split_method_arn(arn: &str) -> Option<(&str, &str, &str)> {
    // The resource starts after the fifth `:`; the path may contain more of them.
    let mut colons = arn.match_indices(':').map(|(i, _)| i);
    let (first, second, third) = (colons.next()?, colons.next()?, colons.next()?);
    let resource_at = colons.nth(1)? + 1;
    if arn.get(..first) != Some("arn") || arn.get(second + 1..third) != Some("execute-api") {
        return None;
    }
    let resource = arn.get(resource_at..)?;
    let mut slashes = resource.match_indices('/').map(|(i, _)| i);
    let (api_end, stage_end, method_end) = (slashes.next()?, slashes.next()?, slashes.next()?);
    if api_end == 0 || stage_end == api_end + 1 || method_end == stage_end + 1 {
        return None;
    }
    let prefix_len = resource_at + stage_end + 1;
    let method = arn.get(prefix_len..resource_at + method_end)?;
    let path = arn.get(resource_at + method_end..)?;
    Some((arn.get(..prefix_len)?, method, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(path: &str) -> Result<(String, Option<String>), &'static str> {
        canonical_path(path, &PathRules::default(), PathMatching::default())
            .map(|c| (c.matched, c.forward))
            .map_err(PathError::code)
    }

    #[test]
    fn plain_paths_are_kept_without_a_forward_copy() {
        assert_eq!(
            canon("/petstore/v1/pets"),
            Ok(("/petstore/v1/pets".into(), None))
        );
        assert_eq!(canon("/"), Ok(("/".into(), None)));
        assert_eq!(canon("/a/b/"), Ok(("/a/b/".into(), None)));
        assert_eq!(canon("/a:b/c@d"), Ok(("/a:b/c@d".into(), None)));
        assert_eq!(canon("/v1.2/x"), Ok(("/v1.2/x".into(), None)));
        assert_eq!(canon("/pets?limit=1#x"), Ok(("/pets".into(), None)));
    }

    #[test]
    fn escapes_are_decoded_and_reencoded_for_the_wire() {
        assert_eq!(
            canon("/petstore/v2/%61dmin"),
            Ok((
                "/petstore/v2/admin".into(),
                Some("/petstore/v2/admin".into())
            ))
        );
        assert_eq!(
            canon("/%61%64%6d%69%6E"),
            Ok(("/admin".into(), Some("/admin".into())))
        );
        assert_eq!(
            canon("/caf%c3%a9"),
            Ok(("/café".into(), Some("/caf%C3%A9".into())))
        );
        assert_eq!(
            canon("/café"),
            Ok(("/café".into(), Some("/caf%C3%A9".into())))
        );
        assert_eq!(canon("/a%20b"), Ok(("/a b".into(), None)));
        assert_eq!(canon("/100%25"), Ok(("/100%25".into(), None)));
        assert_eq!(
            canon("/what%3f"),
            Ok(("/what%3F".into(), Some("/what%3F".into())))
        );
        assert_eq!(canon("/a%2Bb"), Ok(("/a+b".into(), Some("/a+b".into()))));
    }

    #[test]
    fn ambiguous_paths_are_refused_with_their_code() {
        let refused = [
            ("", "path_not_origin_form"),
            ("*", "path_not_origin_form"),
            ("http://h/admin", "path_not_origin_form"),
            ("/admin#x", "path_fragment"),
            ("/ad\0min", "path_control_character"),
            ("/ad%00min", "path_control_character"),
            ("/ad%7fmin", "path_control_character"),
            ("/ad\tmin", "path_control_character"),
            ("/ad\u{8f}min", "path_control_character"),
            ("/ad%C2%85min", "path_control_character"),
            ("/a%", "path_bad_escape"),
            ("/a%6", "path_bad_escape"),
            ("/a%zz", "path_bad_escape"),
            ("/%2561dmin", "path_double_encoding"),
            ("/%25%36%31dmin", "path_double_encoding"),
            ("/%25b%41", "path_double_encoding"),
            ("/%ff", "path_invalid_utf8"),
            ("/%c3", "path_invalid_utf8"),
            ("/a\\b", "path_backslash"),
            ("/a%5cb", "path_backslash"),
            ("/a%2fb", "path_encoded_slash"),
            ("/a/./b", "path_dot_segment"),
            ("/a/../b", "path_dot_segment"),
            ("/a/%2e%2E/b", "path_dot_segment"),
            ("/a/.", "path_dot_segment"),
            ("/a//b", "path_empty_segment"),
            ("//a", "path_empty_segment"),
            ("/admin;x=1", "path_semicolon"),
            ("/admin%3b", "path_semicolon"),
            ("/admin.", "path_trailing_dot"),
            ("/admin%2e", "path_trailing_dot"),
            ("/admin%20", "path_trailing_dot"),
            ("/admin./x", "path_trailing_dot"),
        ];
        for (path, code) in refused {
            assert_eq!(canon(path).err(), Some(code), "{path:?}");
        }
        let long = alloc::format!("/{}", "a".repeat(9000));
        assert_eq!(canon(&long).err(), Some("path_too_long"));
    }

    #[test]
    fn rules_can_canonicalise_instead_of_refusing() {
        let rules = PathRules {
            matching: PathMatching {
                case_sensitive: false,
                strip_trailing_slash: true,
                merge_slashes: true,
            },
            dot_segments: DotSegments::Resolve,
            escaped_slashes: EscapedSlashes::Keep,
            keep_semicolons: true,
            max_path_bytes: 100,
        };
        let c = |p: &str| canonical_path(p, &rules, rules.matching).map_err(PathError::code);
        let got = c("/Petstore//v1/../V2/./ADMIN/").unwrap();
        assert_eq!(got.matched, "/petstore/v2/admin");
        assert_eq!(got.forward.as_deref(), Some("/Petstore/V2/ADMIN"));
        assert_eq!(c("/a%2fb").unwrap().matched, "/a%2fb");
        assert_eq!(c("/a%2fb").unwrap().forward.as_deref(), Some("/a%2Fb"));
        assert_eq!(c("/a;b%3b").unwrap().matched, "/a;b%3b");
        assert_eq!(c("/..").err(), Some("path_dot_segment"));
        assert_eq!(c("/a/..").unwrap().matched, "/");
        assert_eq!(c("/").unwrap().matched, "/");
        assert_eq!(c("//").unwrap().matched, "/");
        // As JavaScript lower-cases: the final sigma, the Kelvin sign.
        assert_eq!(c("/%CE%91%CE%A3").unwrap().matched, "/ας");
        assert_eq!(c("/%CE%A3%CE%91").unwrap().matched, "/σα");
        assert_eq!(c("/%E2%84%AA").unwrap().matched, "/k");
    }

    #[test]
    fn methods_and_method_arns() {
        assert!(check_method("GET").is_ok());
        assert!(check_method("get").is_ok());
        for bad in ["", "GET ", "G-T", "GÉT", &"A".repeat(33)] {
            assert_eq!(check_method(bad), Err(PathError::InvalidMethod), "{bad:?}");
        }
        assert_eq!(
            split_method_arn("arn:aws:execute-api:us-east-1:123:abc/prod/GET/a:b/c"),
            Some((
                "arn:aws:execute-api:us-east-1:123:abc/prod/",
                "GET",
                "/a:b/c"
            ))
        );
        assert_eq!(
            split_method_arn("arn:aws:execute-api:us-east-1:123:abc/prod/GET/"),
            Some(("arn:aws:execute-api:us-east-1:123:abc/prod/", "GET", "/"))
        );
        assert_eq!(
            split_method_arn("arn:aws:execute-api:r:a:abc/prod/GET"),
            None
        );
        assert_eq!(split_method_arn("arn:aws:s3:::bucket/a/b/c"), None);
        assert_eq!(split_method_arn("arn:aws:s3:execute-api:1:a/b/GET/x"), None);
        assert_eq!(split_method_arn("arn:aws:execute-api:r:1:a//GET/x"), None);
        assert_eq!(split_method_arn("arn:aws:execute-api:r:1:a/b//x"), None);
    }
}
