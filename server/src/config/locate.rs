//! Line numbers for keys and values of a JSON text.
//!
//! serde_json's `Value` forgets where things were, and we deserialize from a `Value` (so that
//! duplicate and case-variant keys can be resolved first), so this small scanner records the
//! line of every key and array element. It runs only on text serde_json already accepted, but
//! it still never panics: on anything unexpected it stops and keeps what it found.

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// Lines (1-based) of the keys and values of one JSON text.
#[derive(Debug, Default)]
pub(crate) struct LineIndex {
    /// Every key and array element in document order, with the line where it starts
    /// (for object members, the line of the key).
    entries: Vec<(Vec<Seg>, usize)>,
}

/// serde_json refuses deeper documents anyway; this only bounds our own recursion.
const MAX_DEPTH: usize = 256;

impl LineIndex {
    /// Scans `text` (expected to be valid JSON).
    pub(crate) fn scan(text: &str) -> LineIndex {
        let mut scanner = Scanner {
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
        };
        let mut index = LineIndex::default();
        let mut path = Vec::new();
        // A scan that stops early still leaves the entries found so far.
        let _ = scanner.value(&mut path, &mut index.entries, 0);
        index
    }

    /// The top-level keys in document order (duplicates included), with their lines.
    pub(crate) fn top_level_keys(&self) -> impl Iterator<Item = (&str, usize)> {
        self.entries
            .iter()
            .filter_map(|(path, line)| match path.as_slice() {
                [Seg::Key(k)] => Some((k.as_str(), *line)),
                _ => None,
            })
    }

    /// The line of the value at `path` (the last occurrence, which is the one that counts),
    /// or of its closest recorded ancestor.
    pub(crate) fn line_of(&self, path: &[Seg]) -> Option<usize> {
        (1..=path.len()).rev().find_map(|len| {
            let prefix = &path[..len];
            self.entries
                .iter()
                .rev()
                .find(|(p, _)| p.as_slice() == prefix)
                .map(|(_, line)| *line)
        })
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
        }
        Some(b)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        (self.bump()? == want).then_some(())
    }

    fn value(
        &mut self,
        path: &mut Vec<Seg>,
        out: &mut Vec<(Vec<Seg>, usize)>,
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        match self.peek()? {
            b'{' => {
                self.bump();
                self.skip_ws();
                if self.peek()? == b'}' {
                    self.bump();
                    return Some(());
                }
                loop {
                    self.skip_ws();
                    let line = self.line;
                    let key = self.string()?;
                    self.skip_ws();
                    self.expect(b':')?;
                    path.push(Seg::Key(key));
                    out.push((path.clone(), line));
                    let walked = self.value(path, out, depth + 1);
                    path.pop();
                    walked?;
                    self.skip_ws();
                    match self.bump()? {
                        b',' => continue,
                        b'}' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.bump();
                self.skip_ws();
                if self.peek()? == b']' {
                    self.bump();
                    return Some(());
                }
                let mut index = 0;
                loop {
                    self.skip_ws();
                    path.push(Seg::Index(index));
                    out.push((path.clone(), self.line));
                    let walked = self.value(path, out, depth + 1);
                    path.pop();
                    walked?;
                    index += 1;
                    self.skip_ws();
                    match self.bump()? {
                        b',' => continue,
                        b']' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(drop),
            _ => {
                // Number, true, false or null: runs up to the next delimiter.
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.bump();
                }
                Some(())
            }
        }
    }

    /// A JSON string, decoded (keys must compare equal to serde_json's decoding of them).
    fn string(&mut self) -> Option<String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.bump()? {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let decoded = match self.bump()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(decoded.encode_utf8(&mut buf).as_bytes());
                }
                b => out.push(b),
            }
        }
    }

    /// The code point after `\u` (a surrogate pair takes a second `\uXXXX`).
    fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        if (0xD800..0xDC00).contains(&high) {
            self.expect(b'\\')?;
            self.expect(b'u')?;
            let low = self.hex4()?;
            if !(0xDC00..0xE000).contains(&low) {
                return None;
            }
            char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        } else {
            char::from_u32(high)
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            v = v * 16 + char::from(self.bump()?).to_digit(16)?;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Seg {
        Seg::Key(k.to_owned())
    }

    #[test]
    fn records_top_level_keys_with_lines() {
        let text =
            "{\n  \"A\": 1,\n  \"B\": [\n    \"x\",\n    \"y\"\n  ],\n  \"C\": {\"k\": \"v\"}\n}";
        let index = LineIndex::scan(text);
        let top: Vec<_> = index.top_level_keys().collect();
        assert_eq!(top, vec![("A", 2), ("B", 3), ("C", 7)]);
        assert_eq!(index.line_of(&[key("B"), Seg::Index(1)]), Some(5));
        assert_eq!(index.line_of(&[key("C"), key("k")]), Some(7));
        // Unknown deeper paths fall back to the closest ancestor.
        assert_eq!(index.line_of(&[key("A"), Seg::Index(3)]), Some(2));
        assert_eq!(index.line_of(&[key("Z")]), None);
    }

    #[test]
    fn duplicate_keys_resolve_to_the_last() {
        let index = LineIndex::scan("{\"A\": 1,\n\"A\": 2}");
        assert_eq!(index.line_of(&[key("A")]), Some(2));
        assert_eq!(index.top_level_keys().count(), 2);
    }

    #[test]
    fn escapes_are_decoded_like_serde_json() {
        let index = LineIndex::scan(r#"{"a\"b\u00e9\ud83d\ude00": true}"#);
        let top: Vec<_> = index.top_level_keys().collect();
        assert_eq!(top, vec![("a\"bé😀", 1)]);
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            "",
            "{",
            "{\"a",
            "{\"a\":",
            "[1,",
            "\"\\u12",
            "{\"a\":[{]}",
            "\\",
            "{\"\\ud800\":1}",
        ] {
            let _ = LineIndex::scan(text);
        }
    }
}
