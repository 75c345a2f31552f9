//! Sigma string values: wildcards (`*`, `?`), the escape rules of the specification,
//! and the modifier transformations that act on them (contains, windash, base64, ...).

/// The five characters `windash` makes interchangeable.
pub const DASHES: &[char] = &['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// One element of a Sigma string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Plain text (escapes already resolved).
    Lit(String),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
    /// Exactly one character out of a set (produced by `windash`).
    Class(&'static [char]),
}

/// A Sigma string value as a sequence of pieces; adjacent literals are merged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SStr(pub Vec<Piece>);

impl SStr {
    /// Parses a rule value: `*` and `?` are wildcards; `\*`, `\?` and `\\` escape them
    /// (and a backslash before anything else is a plain backslash), per the spec's
    /// "Escape Character" section.
    pub fn parse(s: &str) -> SStr {
        let mut out = SStr::default();
        let b = s.as_bytes();
        // Runs between wildcards and escapes are pushed whole (all the bytes looked at
        // are ASCII, so every cut is on a character boundary).
        let (mut run, mut i) = (0, 0);
        while i < b.len() {
            let piece = match b[i] {
                b'\\' => match b.get(i + 1) {
                    Some(&n @ (b'*' | b'?' | b'\\')) => {
                        out.push_str(&s[run..i]);
                        out.push_char(n as char);
                        i += 2;
                        run = i;
                        continue;
                    }
                    // A lone backslash is itself.
                    _ => None,
                },
                b'*' => Some(Piece::Star),
                b'?' => Some(Piece::One),
                _ => None,
            };
            if let Some(p) = piece {
                out.push_str(&s[run..i]);
                out.push(p);
                run = i + 1;
            }
            i += 1;
        }
        out.push_str(&s[run..]);
        out
    }

    /// A value that is plain text with no wildcard.
    pub fn literal(s: &str) -> SStr {
        let mut out = SStr::default();
        if !s.is_empty() {
            out.0.push(Piece::Lit(s.to_string()));
        }
        out
    }

    pub fn push_char(&mut self, c: char) {
        if let Some(Piece::Lit(l)) = self.0.last_mut() {
            l.push(c);
        } else {
            self.0.push(Piece::Lit(c.to_string()));
        }
    }

    pub fn push_str(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Piece::Lit(l)) = self.0.last_mut() {
            l.push_str(s);
        } else {
            self.0.push(Piece::Lit(s.to_string()));
        }
    }

    pub fn push(&mut self, p: Piece) {
        match p {
            // Moved in whole unless it extends the literal before it (no copy).
            Piece::Lit(s) if s.is_empty() => {}
            Piece::Lit(s) => match self.0.last_mut() {
                Some(Piece::Lit(l)) => l.push_str(&s),
                _ => self.0.push(Piece::Lit(s)),
            },
            // `**` is the same as `*`; collapsing keeps the fast paths applicable.
            Piece::Star if matches!(self.0.last(), Some(Piece::Star)) => {}
            p => self.0.push(p),
        }
    }

    /// The text when the value has no wildcard at all.
    pub fn as_plain(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(l) => s.push_str(l),
                _ => return None,
            }
        }
        Some(s)
    }

    /// `contains`: `*` on both sides.
    pub fn contains(self) -> SStr {
        self.starts_with().ends_with()
    }

    /// `startswith`: `*` at the end.
    pub fn starts_with(mut self) -> SStr {
        self.push(Piece::Star);
        self
    }

    /// `endswith`: `*` at the start.
    pub fn ends_with(self) -> SStr {
        if matches!(self.0.first(), Some(Piece::Star)) {
            return self;
        }
        let mut out = SStr(vec![Piece::Star]);
        for p in self.0 {
            out.push(p);
        }
        out
    }

    /// `windash`: every dash-like character in literal text may be any of [`DASHES`].
    /// A character class instead of the permutations keeps this linear in the length.
    pub fn windash(self) -> SStr {
        let mut out = SStr::default();
        for p in self.0 {
            match p {
                Piece::Lit(l) => {
                    for c in l.chars() {
                        if DASHES.contains(&c) {
                            out.push(Piece::Class(DASHES));
                        } else {
                            out.push_char(c);
                        }
                    }
                }
                p => out.push(p),
            }
        }
        out
    }

    /// Lowercases literal text (case-insensitive matching compares lowercase forms).
    pub fn lowercase(self) -> SStr {
        let mut out = SStr::default();
        for p in self.0 {
            match p {
                // ASCII text is folded in place: no new string.
                Piece::Lit(mut l) if l.is_ascii() => {
                    l.make_ascii_lowercase();
                    out.push(Piece::Lit(l));
                }
                Piece::Lit(l) => out.push(Piece::Lit(lower(&l))),
                p => out.push(p),
            }
        }
        out
    }

    /// The longest literal run, which any matching value must contain.
    pub fn longest_literal(&self) -> Option<&str> {
        self.0
            .iter()
            .filter_map(|p| match p {
                Piece::Lit(l) => Some(l.as_str()),
                _ => None,
            })
            .max_by_key(|l| l.len())
    }
}

/// Lowercase form used on both sides of case-insensitive comparisons.
pub fn lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    lower_into(s, &mut out);
    out
}

/// [`lower`] into a reused buffer.
pub fn lower_into(s: &str, out: &mut String) {
    out.clear();
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
    } else {
        // The standard conversion (final sigma handled); both rule and event sides go
        // through here, so they fold alike. Without a capital sigma it is the
        // per-character one, done here without its allocation.
        if s.contains('\u{3A3}') {
            out.push_str(&s.to_lowercase());
        } else {
            for c in s.chars() {
                if c.is_ascii() {
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.extend(c.to_lowercase());
                }
            }
        }
    }
}

/// UTF-16 little-endian bytes of `s`.
pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// UTF-16 big-endian bytes of `s`.
pub fn utf16be(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
}

/// UTF-16 with a little-endian byte order mark.
pub fn utf16bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    v.extend(utf16le(s));
    v
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The three encodings of `bytes` as it can appear inside a longer base64 text, one per
/// alignment (0, 1 or 2 bytes before it). Characters that depend on the unknown
/// neighbouring bytes are cut off at both ends.
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::with_capacity(3);
    for shift in 0..3usize {
        let mut buf = vec![0u8; shift];
        buf.extend_from_slice(bytes);
        let enc = base64(&buf);
        // Leading characters that mix in the `shift` unknown bytes.
        let start = [0, 2, 3][shift];
        // Trailing characters that depend on the unknown bytes after the value
        // (partial sextet and padding).
        let cut_end = [0, 3, 2][(bytes.len() + shift) % 3];
        let end = enc.len().saturating_sub(cut_end);
        if start < end {
            out.push(enc[start..end].to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_into_agrees_with_the_standard_conversion() {
        let cases = [
            "",
            "C:\\Windows\\System32\\CMD.EXE /C Whoami",
            "Microsoft\u{ae} Windows\u{ae} Operating System",
            "\u{c9}COLE \u{130}stanbul \u{212a}elvin \u{1e9e}",
            "\u{3a3}\u{39f}\u{3a3} \u{39f}\u{394}\u{3a5}\u{3a3}\u{3a3}\u{395}\u{3a5}\u{3a3} abc",
        ];
        let mut out = String::from("junk");
        for c in cases {
            lower_into(c, &mut out);
            assert_eq!(out, c.to_lowercase(), "{c:?}");
        }
        for i in 0u32..0x3_0000 {
            let Some(ch) = char::from_u32(i) else {
                continue;
            };
            let t = format!("AB{ch}C {ch}");
            lower_into(&t, &mut out);
            assert_eq!(out, t.to_lowercase(), "{t:?}");
        }
    }

    fn lit(s: &str) -> Piece {
        Piece::Lit(s.into())
    }

    #[test]
    fn escapes_follow_the_spec() {
        assert_eq!(SStr::parse(r"a*b").0, vec![lit("a"), Piece::Star, lit("b")]);
        assert_eq!(SStr::parse(r"a\*b").0, vec![lit("a*b")]);
        assert_eq!(SStr::parse(r"a\?b").0, vec![lit("a?b")]);
        // Plain backslash: single or double.
        assert_eq!(SStr::parse(r"C:\Windows").0, vec![lit(r"C:\Windows")]);
        assert_eq!(SStr::parse(r"C:\\Windows").0, vec![lit(r"C:\Windows")]);
        // Escaped backslash before a wildcard keeps the wildcard.
        assert_eq!(SStr::parse(r"a\\*").0, vec![lit(r"a\"), Piece::Star]);
        // Three backslashes: backslash and a plain star.
        assert_eq!(SStr::parse(r"a\\\*").0, vec![lit(r"a\*")]);
        // Three or four backslashes are a double backslash.
        assert_eq!(SStr::parse(r"a\\\\b").0, vec![lit(r"a\\b")]);
        assert_eq!(SStr::parse(r"a\\\b").0, vec![lit(r"a\\b")]);
        assert_eq!(SStr::parse("?").0, vec![Piece::One]);
        assert_eq!(SStr::parse("**").0, vec![Piece::Star]);
    }

    #[test]
    fn anchors() {
        assert_eq!(
            SStr::parse("x").contains().0,
            vec![Piece::Star, lit("x"), Piece::Star]
        );
        assert_eq!(SStr::parse("*x").ends_with().0, vec![Piece::Star, lit("x")]);
        assert_eq!(
            SStr::parse("x*").starts_with().0,
            vec![lit("x"), Piece::Star]
        );
    }

    #[test]
    fn windash_uses_a_class() {
        let s = SStr::parse("-a /b").windash();
        assert_eq!(
            s.0,
            vec![
                Piece::Class(DASHES),
                lit("a "),
                Piece::Class(DASHES),
                lit("b")
            ]
        );
    }

    #[test]
    fn encodings() {
        assert_eq!(utf16le("cmd"), vec![0x63, 0, 0x6d, 0, 0x64, 0]);
        assert_eq!(utf16be("cmd"), vec![0, 0x63, 0, 0x6d, 0, 0x64]);
        assert_eq!(utf16bom("cmd")[..2], [0xFF, 0xFE]);
        assert_eq!(base64(b"Hello"), "SGVsbG8=");
    }

    #[test]
    fn base64_offsets_appear_in_encoded_texts() {
        let needle = b"http://";
        let offs = base64_offsets(needle);
        assert_eq!(offs.len(), 3);
        // Whatever precedes and follows the value, one variant is a substring.
        for pre in ["", "a", "ab", "abc"] {
            for post in ["", "x", "xy"] {
                let text = format!("{pre}http://{post}");
                let enc = base64(text.as_bytes());
                assert!(
                    offs.iter().any(|o| enc.contains(o.as_str())),
                    "{text:?} -> {enc} has none of {offs:?}"
                );
            }
        }
        assert_eq!(base64_offsets(b"Hello")[0], "SGVsbG");
    }
}
