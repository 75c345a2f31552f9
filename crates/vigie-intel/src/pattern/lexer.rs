//! The tokens of `STIXPattern.g4`, read the way its ANTLR lexer reads them: the longest
//! match wins, and a keyword wins over an identifier of the same length. Whitespace
//! (including the grammar's Unicode spaces) and `/* */` and `//` comments are skipped.

/// A token kind. Literal tokens carry their decoded value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Kw(Kw),
    IdentNoHyphen(String),
    IdentHyphen(String),
    /// `+`? digits (text without the sign kept for qualifiers).
    IntPos(String),
    IntNeg(String),
    FloatPos(String),
    FloatNeg(String),
    Str(String),
    Hex(Vec<u8>),
    Binary(Vec<u8>),
    Timestamp(String),
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    Colon,
    Dot,
    Comma,
    LParen,
    RParen,
    LBrack,
    RBrack,
    Plus,
    Minus,
    Power,
    Divide,
    Asterisk,
    /// A quote that does not start a valid literal (unterminated string, bad escape).
    Quote(&'static str),
    Invalid(char),
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Exists,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    True,
    False,
    Within,
    Repeats,
    Times,
}

impl Kw {
    pub(crate) fn text(self) -> &'static str {
        match self {
            Kw::And => "AND",
            Kw::Or => "OR",
            Kw::Not => "NOT",
            Kw::FollowedBy => "FOLLOWEDBY",
            Kw::Like => "LIKE",
            Kw::Matches => "MATCHES",
            Kw::IsSuperset => "ISSUPERSET",
            Kw::IsSubset => "ISSUBSET",
            Kw::Exists => "EXISTS",
            Kw::Last => "LAST",
            Kw::In => "IN",
            Kw::Start => "START",
            Kw::Stop => "STOP",
            Kw::Seconds => "SECONDS",
            Kw::True => "true",
            Kw::False => "false",
            Kw::Within => "WITHIN",
            Kw::Repeats => "REPEATS",
            Kw::Times => "TIMES",
        }
    }
}

/// The keyword spelled exactly `s` (keywords are case-sensitive in STIX 2.1).
pub(crate) fn keyword(s: &str) -> Option<Kw> {
    Some(match s {
        "AND" => Kw::And,
        "OR" => Kw::Or,
        "NOT" => Kw::Not,
        "FOLLOWEDBY" => Kw::FollowedBy,
        "LIKE" => Kw::Like,
        "MATCHES" => Kw::Matches,
        "ISSUPERSET" => Kw::IsSuperset,
        "ISSUBSET" => Kw::IsSubset,
        "EXISTS" => Kw::Exists,
        "LAST" => Kw::Last,
        "IN" => Kw::In,
        "START" => Kw::Start,
        "STOP" => Kw::Stop,
        "SECONDS" => Kw::Seconds,
        "true" => Kw::True,
        "false" => Kw::False,
        "WITHIN" => Kw::Within,
        "REPEATS" => Kw::Repeats,
        "TIMES" => Kw::Times,
        _ => return None,
    })
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Char offset.
    pub offset: usize,
    pub line: u32,
    pub column: u32,
}

fn is_ws(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\r'
            | '\n'
            | '\u{000B}'
            | '\u{000C}'
            | '\u{0085}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

struct Cursor {
    chars: Vec<char>,
    pos: usize,
    line: u32,
    column: u32,
}

impl Cursor {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.pos + k).copied()
    }
    fn bump(&mut self, n: usize) {
        for _ in 0..n {
            if let Some(&c) = self.chars.get(self.pos) {
                self.pos += 1;
                if c == '\n' {
                    self.line += 1;
                    self.column = 1;
                } else {
                    self.column += 1;
                }
            }
        }
    }
}

/// Split `text` into tokens (ending with [`Tok::Eof`]). Never fails: characters the
/// grammar has no token for become [`Tok::Invalid`], for the parser to report.
pub(crate) fn tokenize(text: &str, v20: bool) -> Vec<Token> {
    let mut c = Cursor {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
        column: 1,
    };
    let mut out = Vec::new();
    loop {
        // Skip whitespace and comments.
        loop {
            match (c.peek(0), c.peek(1)) {
                (Some(ch), _) if is_ws(ch) => c.bump(1),
                (Some('/'), Some('*')) => {
                    // An unterminated comment is not a comment: '/' then '*'.
                    let rest = &c.chars[c.pos + 2..];
                    match rest.windows(2).position(|w| w == ['*', '/']) {
                        Some(end) => c.bump(2 + end + 2),
                        None => break,
                    }
                }
                (Some('/'), Some('/')) => {
                    while let Some(ch) = c.peek(0) {
                        if ch == '\r' || ch == '\n' {
                            break;
                        }
                        c.bump(1);
                    }
                }
                _ => break,
            }
        }
        let (offset, line, column) = (c.pos, c.line, c.column);
        let Some(ch) = c.peek(0) else {
            out.push(Token {
                tok: Tok::Eof,
                offset,
                line,
                column,
            });
            return out;
        };
        let (mut tok, len) = lex_one(&c.chars[c.pos..], ch);
        if v20 && tok == Tok::Kw(Kw::Exists) {
            // STIX 2.0 has no EXISTS.
            tok = Tok::IdentNoHyphen("EXISTS".into());
        }
        c.bump(len.max(1));
        out.push(Token {
            tok,
            offset,
            line,
            column,
        });
    }
}

fn lex_one(s: &[char], ch: char) -> (Tok, usize) {
    // Prefixed literals: the longest match beats the one-letter identifier.
    if s.get(1) == Some(&'\'') {
        match ch {
            'h' => {
                if let Some((bytes, len)) = lex_hex(s) {
                    return (Tok::Hex(bytes), len);
                }
            }
            'b' => {
                if let Some((bytes, len)) = lex_binary(s) {
                    return (Tok::Binary(bytes), len);
                }
            }
            't' => {
                if let Some(len) = lex_timestamp(s) {
                    let text: String = s[2..len - 1].iter().collect();
                    return (Tok::Timestamp(text), len);
                }
            }
            _ => {}
        }
    }
    if ch.is_ascii_alphabetic() || ch == '_' {
        let mut n = 1;
        let mut hyphen = false;
        while let Some(&d) = s.get(n) {
            if d.is_ascii_alphanumeric() || d == '_' {
                n += 1;
            } else if d == '-' {
                hyphen = true;
                n += 1;
            } else {
                break;
            }
        }
        let word: String = s[..n].iter().collect();
        if hyphen {
            return (Tok::IdentHyphen(word), n);
        }
        if let Some(kw) = keyword(&word) {
            return (Tok::Kw(kw), n);
        }
        return (Tok::IdentNoHyphen(word), n);
    }
    if ch.is_ascii_digit() || ch == '.' || ch == '+' || ch == '-' {
        if let Some(t) = lex_number(s) {
            return t;
        }
    }
    if ch == '\'' {
        return lex_string(s);
    }
    let two = s.get(1).copied();
    match (ch, two) {
        ('=', Some('=')) => (Tok::Eq, 2),
        ('=', _) => (Tok::Eq, 1),
        ('!', Some('=')) => (Tok::Neq, 2),
        ('<', Some('>')) => (Tok::Neq, 2),
        ('<', Some('=')) => (Tok::Le, 2),
        ('<', _) => (Tok::Lt, 1),
        ('>', Some('=')) => (Tok::Ge, 2),
        ('>', _) => (Tok::Gt, 1),
        (':', _) => (Tok::Colon, 1),
        ('.', _) => (Tok::Dot, 1),
        (',', _) => (Tok::Comma, 1),
        ('(', _) => (Tok::LParen, 1),
        (')', _) => (Tok::RParen, 1),
        ('[', _) => (Tok::LBrack, 1),
        (']', _) => (Tok::RBrack, 1),
        ('+', _) => (Tok::Plus, 1),
        ('-', _) => (Tok::Minus, 1),
        ('^', _) => (Tok::Power, 1),
        ('/', _) => (Tok::Divide, 1),
        ('*', _) => (Tok::Asterisk, 1),
        (c, _) => (Tok::Invalid(c), 1),
    }
}

/// Integer: `[+-]?('0'|[1-9][0-9]*)`; float: `[+-]?[0-9]*'.'[0-9]+`; longest wins.
fn lex_number(s: &[char]) -> Option<(Tok, usize)> {
    let (neg, start) = match s.first() {
        Some('-') => (true, 1),
        Some('+') => (false, 1),
        _ => (false, 0),
    };
    let digits = s[start..].iter().take_while(|c| c.is_ascii_digit()).count();
    // Float candidate.
    let mut float_len = None;
    if s.get(start + digits) == Some(&'.') {
        let frac = s[start + digits + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if frac > 0 {
            float_len = Some(start + digits + 1 + frac);
        }
    }
    // Integer candidate.
    let int_len = if digits == 0 {
        None
    } else if s[start] == '0' {
        Some(start + 1)
    } else {
        Some(start + digits)
    };
    let text = |n: usize| -> String { s[..n].iter().collect() };
    match (float_len, int_len) {
        (Some(f), i) if i.is_none_or(|i| f > i) => Some(if neg {
            (Tok::FloatNeg(text(f)), f)
        } else {
            (Tok::FloatPos(text(f)), f)
        }),
        (_, Some(i)) => Some(if neg {
            (Tok::IntNeg(text(i)), i)
        } else {
            (Tok::IntPos(text(i)), i)
        }),
        _ => None,
    }
}

/// `'` ( not `'`/`\` | `\'` | `\\` )* `'`.
fn lex_string(s: &[char]) -> (Tok, usize) {
    let mut out = String::new();
    let mut i = 1;
    loop {
        match s.get(i) {
            None => return (Tok::Quote("an unterminated string"), 1),
            Some('\'') => return (Tok::Str(out), i + 1),
            Some('\\') => match s.get(i + 1) {
                Some(&c @ ('\'' | '\\')) => {
                    out.push(c);
                    i += 2;
                }
                _ => {
                    return (
                        Tok::Quote(
                            "a string with an invalid escape (only \\' and \\\\ are allowed)",
                        ),
                        1,
                    )
                }
            },
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

fn lex_hex(s: &[char]) -> Option<(Vec<u8>, usize)> {
    let mut i = 2;
    let mut bytes = Vec::new();
    loop {
        match (s.get(i), s.get(i + 1)) {
            (Some('\''), _) => return Some((bytes, i + 1)),
            (Some(a), Some(b)) => {
                let hi = a.to_digit(16)?;
                let lo = b.to_digit(16)?;
                bytes.push((hi * 16 + lo) as u8);
                i += 2;
            }
            _ => return None,
        }
    }
}

fn b64_val(c: char) -> Option<u32> {
    Some(match c {
        'A'..='Z' => c as u32 - 'A' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 26,
        '0'..='9' => c as u32 - '0' as u32 + 52,
        '+' => 62,
        '/' => 63,
        _ => return None,
    })
}

/// `b'` then groups of four base64 chars, the last one possibly `xxx=` or `xx==`, `'`.
/// At least one group (the grammar has no empty binary literal).
fn lex_binary(s: &[char]) -> Option<(Vec<u8>, usize)> {
    let end = s[2..].iter().position(|&c| c == '\'')? + 2;
    let body = &s[2..end];
    if body.is_empty() || !body.len().is_multiple_of(4) {
        return None;
    }
    let mut bytes = Vec::new();
    for (gi, g) in body.chunks(4).enumerate() {
        let last = gi == body.len() / 4 - 1;
        let pad = g.iter().rev().take_while(|&&c| c == '=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &g[..4 - pad] {
            acc = (acc << 6) | b64_val(c)?;
        }
        acc <<= 6 * pad as u32;
        let all = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        bytes.extend_from_slice(&all[..3 - pad]);
    }
    Some((bytes, end + 1))
}

/// `t'YYYY-MM-DDTHH:MM:SS(.f+)?Z'` with the grammar's ranges (month 01-12, day 01-31,
/// hour 00-23, minute 00-59, second 00-60). Returns the length including `t'` and `'`.
fn lex_timestamp(s: &[char]) -> Option<usize> {
    let d = |i: usize| {
        s.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| *c as u8 - b'0')
    };
    let is = |i: usize, c: char| s.get(i) == Some(&c);
    let two = |i: usize| Some(d(i)? * 10 + d(i + 1)?);
    // positions after t'
    let b = 2;
    for k in 0..4 {
        d(b + k)?;
    }
    if !is(b + 4, '-') {
        return None;
    }
    let month = two(b + 5)?;
    if !(1..=12).contains(&month) || !is(b + 7, '-') {
        return None;
    }
    let day = two(b + 8)?;
    if !(1..=31).contains(&day) || !is(b + 10, 'T') {
        return None;
    }
    let hour = two(b + 11)?;
    if hour > 23 || !is(b + 13, ':') {
        return None;
    }
    if two(b + 14)? > 59 || !is(b + 16, ':') {
        return None;
    }
    if two(b + 17)? > 60 {
        return None;
    }
    let mut i = b + 19;
    if is(i, '.') {
        let frac = s[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 {
            return None;
        }
        i += 1 + frac;
    }
    if !is(i, 'Z') || !is(i + 1, '\'') {
        return None;
    }
    Some(i + 2)
}

/// How a token is named in "expected ..., found ..." messages.
pub(crate) fn describe(t: &Tok) -> String {
    match t {
        Tok::Kw(k) => format!("`{}`", k.text()),
        Tok::IdentNoHyphen(s) | Tok::IdentHyphen(s) => format!("identifier `{s}`"),
        Tok::IntPos(s) | Tok::IntNeg(s) => format!("integer `{s}`"),
        Tok::FloatPos(s) | Tok::FloatNeg(s) => format!("float `{s}`"),
        Tok::Str(_) => "a string".into(),
        Tok::Hex(_) => "a hex literal".into(),
        Tok::Binary(_) => "a binary literal".into(),
        Tok::Timestamp(_) => "a timestamp".into(),
        Tok::Eq => "`=`".into(),
        Tok::Neq => "`!=`".into(),
        Tok::Lt => "`<`".into(),
        Tok::Le => "`<=`".into(),
        Tok::Gt => "`>`".into(),
        Tok::Ge => "`>=`".into(),
        Tok::Colon => "`:`".into(),
        Tok::Dot => "`.`".into(),
        Tok::Comma => "`,`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBrack => "`[`".into(),
        Tok::RBrack => "`]`".into(),
        Tok::Plus => "`+`".into(),
        Tok::Minus => "`-`".into(),
        Tok::Power => "`^`".into(),
        Tok::Divide => "`/`".into(),
        Tok::Asterisk => "`*`".into(),
        Tok::Quote(what) => (*what).to_string(),
        Tok::Invalid(c) => format!("invalid character {c:?}"),
        Tok::Eof => "the end of the pattern".into(),
    }
}
