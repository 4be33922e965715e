//! [`Claims`]: a token's JSON object, read strictly in one pass with few allocations.
//!
//! It accepts exactly what [`crate::json::parse_strict`] accepts as an object (serde_json's
//! grammar, no duplicate member at any depth, at most 64 levels of nesting) but keeps the
//! decoded text and an index of its top-level members instead of building a
//! `Map<String, Value>`: one allocation for the index where serde_json made one per key,
//! value and array. Strings are borrowed from the text (an escaped one is decoded once into a
//! side buffer). The general `serde_json` view is built on first use only (policy
//! conditions on claims, the CLI), from the same text by the same strict parser.
//! `tests/claims_differential.rs` holds both readers to the same answers.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use once_cell::race::OnceBox;
use serde_json::{Map, Number, Value};

/// Nesting limit, as [`crate::json::parse_strict`]'s.
const MAX_DEPTH: usize = 64;
/// Objects with more members than this are checked for duplicates by sorting their keys.
const PAIRWISE_KEYS: usize = 16;

/// Where a string is: in the text as written (no escapes), or decoded in the side buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
    decoded: bool,
}

/// A top-level member's value (or an item of a top-level array).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Val {
    Str(Span),
    /// The number's text (serde_json's grammar, checked in range).
    Num(Span),
    Bool(bool),
    Null,
    /// A top-level array: its items are `items[first..first + len]`.
    List {
        first: u32,
        len: u32,
    },
    /// An object, or an array inside an array: read through [`Claims::get`].
    Nested,
}

/// The claims of a token (and, read the same way, its JOSE header): a JSON object read
/// strictly. Duplicate members at any depth, nesting deeper than 64 levels and anything
/// serde_json refuses are refused.
pub struct Claims {
    text: String,
    side: String,
    members: Vec<(Span, Val)>,
    items: Vec<Val>,
    map: OnceBox<Map<String, Value>>,
}

impl Clone for Claims {
    fn clone(&self) -> Self {
        Self {
            text: self.text.clone(),
            side: self.side.clone(),
            members: self.members.clone(),
            items: self.items.clone(),
            map: OnceBox::new(),
        }
    }
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Claims").field(&self.text).finish()
    }
}

impl PartialEq for Claims {
    /// Equal when they hold the same members with the same values (JSON equality).
    fn eq(&self, other: &Self) -> bool {
        self.map() == other.map()
    }
}

impl serde::Serialize for Claims {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.map().serialize(serializer)
    }
}

impl Claims {
    /// Reads `bytes` as a JSON object; `None` if it is not one, or not strict JSON.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        Self::from_vec(bytes.to_vec())
    }

    /// The claims of a JSON object value (the CLI's `--claims`, tests).
    pub fn from_map(map: Map<String, Value>) -> Self {
        let value = Value::Object(map);
        let text = crate::json::to_text(&value);
        // serde_json wrote it, so it is strict JSON without duplicates; it may be nested
        // deeper than tokens may be (serde_json reads up to 128 levels), so no limit here.
        let mut claims = Self::read(text.into_bytes(), usize::MAX).unwrap_or_else(|| Self {
            text: String::new(),
            side: String::new(),
            members: Vec::new(),
            items: Vec::new(),
            map: OnceBox::new(),
        });
        if let Value::Object(map) = value {
            claims.map = OnceBox::with_value(alloc::boxed::Box::new(map));
        }
        claims
    }

    /// Reads a decoded token segment, keeping its buffer as the text.
    pub(crate) fn from_vec(bytes: Vec<u8>) -> Option<Self> {
        Self::read(bytes, MAX_DEPTH)
    }

    fn read(bytes: Vec<u8>, max_depth: usize) -> Option<Self> {
        // Valid UTF-8 throughout: serde_json checks every string, and a byte outside the
        // ASCII range anywhere else is a syntax error anyway.
        let text = String::from_utf8(bytes).ok()?;
        let mut reader = Reader {
            b: text.as_bytes(),
            i: 0,
            max_depth,
            side: String::new(),
            keys: Vec::new(),
            members: Vec::with_capacity(16),
            items: Vec::new(),
        };
        reader.ws();
        if reader.peek() != Some(b'{') {
            return None;
        }
        reader.i += 1;
        reader.top_object()?;
        reader.ws();
        if reader.i != reader.b.len() {
            return None;
        }
        let Reader {
            side,
            members,
            items,
            ..
        } = reader;
        Some(Self {
            text,
            side,
            members,
            items,
            map: OnceBox::new(),
        })
    }

    /// The JSON text, as received.
    pub fn as_json(&self) -> &str {
        &self.text
    }

    /// All members as serde_json values (built on first use, then kept).
    pub fn map(&self) -> &Map<String, Value> {
        self.map.get_or_init(|| {
            let map = match crate::json::parse_strict(self.text.as_bytes()) {
                Ok(Value::Object(map)) => map,
                // Cannot happen: the text was read by the stricter reader above.
                _ => Map::new(),
            };
            alloc::boxed::Box::new(map)
        })
    }

    /// The value of member `name`, as serde_json sees it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map().get(name)
    }

    /// Whether member `name` is present.
    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The string member `name`, borrowed; `None` when absent or not a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.str(name).ok().flatten()
    }

    /// The string member `name`: `Ok(None)` when absent, `Err(())` when not a string.
    pub(crate) fn str(&self, name: &str) -> Result<Option<&str>, ()> {
        match self.find(name) {
            None => Ok(None),
            Some(Val::Str(s)) => Ok(Some(self.span(s))),
            Some(_) => Err(()),
        }
    }

    /// The top-level value of `name`, from the index.
    pub(crate) fn find(&self, name: &str) -> Option<Val> {
        self.members
            .iter()
            .find(|(key, _)| self.span(*key) == name)
            .map(|(_, value)| *value)
    }

    /// `value` as a reference into the index (for reading one value as a list of one).
    pub(crate) fn value_ref(&self, value: Val) -> &Val {
        self.members
            .iter()
            .map(|(_, v)| v)
            .find(|v| **v == value)
            .unwrap_or(&Val::Nested)
    }

    /// The items of a top-level array value.
    pub(crate) fn items(&self, first: u32, len: u32) -> &[Val] {
        let first = first as usize;
        self.items
            .get(first..first + len as usize)
            .unwrap_or_default()
    }

    /// The text of a string value or of a number.
    pub(crate) fn text_of(&self, value: Val) -> Option<&str> {
        match value {
            Val::Str(s) | Val::Num(s) => Some(self.span(s)),
            _ => None,
        }
    }

    fn span(&self, s: Span) -> &str {
        let buf = if s.decoded { &self.side } else { &self.text };
        buf.get(s.start as usize..s.end as usize)
            .unwrap_or_default()
    }
}

/// A non-negative integer of up to 18 digits (`None` for any other number text).
pub(crate) fn small_integer(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 18 {
        return None;
    }
    text.bytes().try_fold(0u64, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// A number's value as serde_json holds it, read from its (checked) text.
pub(crate) fn number(text: &str) -> Option<Number> {
    match crate::json::parse_strict(text.as_bytes()) {
        Ok(Value::Number(n)) => Some(n),
        _ => None,
    }
}

struct Reader<'b> {
    b: &'b [u8],
    i: usize,
    max_depth: usize,
    side: String,
    /// Keys of the objects being read (for the duplicate check), innermost last.
    keys: Vec<Span>,
    members: Vec<(Span, Val)>,
    items: Vec<Val>,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.next()? == c).then_some(())
    }

    fn text(&self, s: Span) -> &[u8] {
        let buf = if s.decoded {
            self.side.as_bytes()
        } else {
            self.b
        };
        buf.get(s.start as usize..s.end as usize)
            .unwrap_or_default()
    }

    /// The root object's members, after its `{`, into the index.
    fn top_object(&mut self) -> Option<()> {
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.eat(b':')?;
            self.ws();
            let side_mark = self.side.len();
            let value = match self.peek()? {
                b'[' => {
                    self.i += 1;
                    self.top_array()?
                }
                _ => self.value(1)?,
            };
            if value == Val::Nested {
                // Nothing keeps the decoded strings of a nested value.
                self.side.truncate(side_mark);
            }
            self.members.push((key, value));
            if !self.object_goes_on()? {
                break;
            }
        }
        self.keys.clear();
        self.keys.extend(self.members.iter().map(|(k, _)| *k));
        self.keys_unique_since(0).then_some(())
    }

    /// A top-level array's items (after its `[`), into `items`.
    fn top_array(&mut self) -> Option<Val> {
        let first = self.items.len();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                let side_mark = self.side.len();
                let item = self.value(2)?;
                if item == Val::Nested {
                    self.side.truncate(side_mark);
                }
                self.items.push(item);
                self.ws();
                match self.next()? {
                    b',' => {}
                    b']' => break,
                    _ => return None,
                }
            }
        }
        Some(Val::List {
            first: u32::try_from(first).ok()?,
            len: u32::try_from(self.items.len() - first).ok()?,
        })
    }

    /// Any value at `depth` (the root object is at 0), whitespace before it skipped.
    fn value(&mut self, depth: usize) -> Option<Val> {
        Some(match self.peek()? {
            b'"' => Val::Str(self.string()?),
            b'{' => {
                self.i += 1;
                self.object(depth)?;
                Val::Nested
            }
            b'[' => {
                self.i += 1;
                self.array(depth)?;
                Val::Nested
            }
            b't' => self.literal(b"true", Val::Bool(true))?,
            b'f' => self.literal(b"false", Val::Bool(false))?,
            b'n' => self.literal(b"null", Val::Null)?,
            b'-' | b'0'..=b'9' => Val::Num(self.number()?),
            _ => return None,
        })
    }

    fn literal(&mut self, word: &[u8], value: Val) -> Option<Val> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| {
            self.i = end;
            value
        })
    }

    /// A nested object (after its `{`) at `depth`.
    fn object(&mut self, depth: usize) -> Option<()> {
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(());
        }
        // parse_strict refuses a member below the limit (an empty object there is fine).
        if depth >= self.max_depth {
            return None;
        }
        let base = self.keys.len();
        loop {
            self.ws();
            let key = self.string()?;
            self.keys.push(key);
            self.eat(b':')?;
            self.ws();
            self.value(depth + 1)?;
            if !self.object_goes_on()? {
                break;
            }
        }
        self.keys_unique_since(base).then_some(())
    }

    /// A nested array (after its `[`) at `depth`.
    fn array(&mut self, depth: usize) -> Option<()> {
        // parse_strict refuses an array below the limit, even an empty one.
        if depth >= self.max_depth {
            return None;
        }
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            self.value(depth + 1)?;
            self.ws();
            match self.next()? {
                b',' => {}
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// After an object's member: `Some(true)` for `,`, `Some(false)` for `}`, `None` for
    /// anything else.
    fn object_goes_on(&mut self) -> Option<bool> {
        self.ws();
        match self.next()? {
            b',' => Some(true),
            b'}' => Some(false),
            _ => None,
        }
    }

    /// Whether the keys pushed since `base` (one object's) are all different; they are
    /// dropped, as the object is done.
    fn keys_unique_since(&mut self, base: usize) -> bool {
        let mut keys = core::mem::take(&mut self.keys);
        let unique = self.unique(&mut keys, base);
        keys.truncate(base);
        self.keys = keys;
        unique
    }

    /// Whether the keys `keys[base..]` (of one object) are all different.
    fn unique(&self, keys: &mut [Span], base: usize) -> bool {
        let Some(keys) = keys.get_mut(base..) else {
            return true;
        };
        if keys.len() <= PAIRWISE_KEYS {
            for (n, key) in keys.iter().enumerate() {
                let text = self.text(*key);
                if keys
                    .get(..n)
                    .unwrap_or_default()
                    .iter()
                    .any(|k| self.text(*k) == text)
                {
                    return false;
                }
            }
            return true;
        }
        crate::sort::heapsort(keys, |a, b| self.text(*a) < self.text(*b));
        keys.windows(2).all(|pair| match pair {
            [a, b] => self.text(*a) != self.text(*b),
            _ => true,
        })
    }

    /// A string (at its `"`): where its text is, decoded if it has escapes.
    fn string(&mut self) -> Option<Span> {
        if self.next()? != b'"' {
            return None;
        }
        let start = self.i;
        loop {
            match self.next()? {
                b'"' => {
                    return Some(Span {
                        start: u32::try_from(start).ok()?,
                        end: u32::try_from(self.i - 1).ok()?,
                        decoded: false,
                    })
                }
                b'\\' => break,
                0..=0x1f => return None,
                _ => {}
            }
        }
        // Escapes: decode the whole string into the side buffer.
        let from = self.side.len();
        let plain = core::str::from_utf8(self.b.get(start..self.i - 1)?).ok()?;
        self.side.push_str(plain);
        self.escape()?;
        loop {
            let run = self.i;
            let c = loop {
                if let c @ (b'"' | b'\\' | 0..=0x1f) = self.next()? {
                    break c;
                }
            };
            let plain = core::str::from_utf8(self.b.get(run..self.i - 1)?).ok()?;
            self.side.push_str(plain);
            match c {
                b'"' => break,
                b'\\' => self.escape()?,
                _ => return None,
            }
        }
        Some(Span {
            start: u32::try_from(from).ok()?,
            end: u32::try_from(self.side.len()).ok()?,
            decoded: true,
        })
    }

    /// One escape (after its `\`), as serde_json reads it: surrogates must pair.
    fn escape(&mut self) -> Option<()> {
        let c = match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let n = self.hex4()?;
                let code = match n {
                    0xD800..=0xDBFF => {
                        if self.next()? != b'\\' || self.next()? != b'u' {
                            return None;
                        }
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        (((n - 0xD800) << 10) | (low - 0xDC00)) + 0x1_0000
                    }
                    _ => n,
                };
                // A lone trailing surrogate is no char: refused, as serde_json does.
                char::from_u32(code)?
            }
            _ => return None,
        };
        self.side.push(c);
        Some(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = char::from(self.next()?).to_digit(16)?;
            n = (n << 4) | digit;
        }
        Some(n)
    }

    /// A number (at its first char) in serde_json's grammar; one that serde_json would
    /// refuse as out of range (`1e400`) is refused.
    fn number(&mut self) -> Option<Span> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let mut simple = true;
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.digit()?;
            self.digits();
            simple = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.digit()?;
            self.digits();
            simple = false;
        }
        // A `0` followed by a digit is refused by serde_json right there.
        if self.b.get(start..self.i)? == b"0" || self.b.get(start..self.i)? == b"-0" {
            if let Some(b'0'..=b'9') = self.peek() {
                return None;
            }
        }
        let text = self.b.get(start..self.i)?;
        // Up to 18 digits always fit; anything else is checked by serde_json itself.
        if !(simple && text.len() <= 18) {
            number(core::str::from_utf8(text).ok()?)?;
        }
        Some(Span {
            start: u32::try_from(start).ok()?,
            end: u32::try_from(self.i).ok()?,
            decoded: false,
        })
    }

    fn digit(&mut self) -> Option<()> {
        self.next()?.is_ascii_digit().then_some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }
}
