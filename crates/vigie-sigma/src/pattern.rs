//! Compiled string patterns: the fast shapes (exact, prefix, suffix, contains, ordered
//! fragments) and a general glob for `?` and character classes.

use std::sync::OnceLock;

use memchr::memmem;

use crate::sstr::{Piece, SStr};

/// A substring to search for, its searcher built on first use: most patterns of a rule
/// set never run (the literal index rules their rules out first), and building a memmem
/// searcher was about 3 % of loading SigmaHQ's rules.
#[derive(Debug, Clone)]
pub struct Needle {
    text: Box<[u8]>,
    finder: OnceLock<memmem::Finder<'static>>,
}

impl Needle {
    pub fn new(text: &[u8]) -> Needle {
        Needle {
            text: text.into(),
            finder: OnceLock::new(),
        }
    }

    /// The bytes searched for.
    pub fn needle(&self) -> &[u8] {
        &self.text
    }

    /// Offset of the first occurrence in `hay`.
    pub fn find(&self, hay: &[u8]) -> Option<usize> {
        self.finder
            .get_or_init(|| memmem::Finder::new(&self.text).into_owned())
            .find(hay)
    }
}

/// A string test compiled from a Sigma value. Case folding is the caller's business:
/// case-insensitive patterns hold lowercase text and are run on lowercased values.
#[derive(Debug, Clone)]
pub enum StrPat {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(Box<Needle>),
    /// `a*b*c` shapes: optional prefix, fragments in order, optional suffix.
    Frags {
        first: String,
        mids: Vec<Needle>,
        last: String,
    },
    /// Anything with `?` or classes.
    Glob(Vec<GTok>),
    /// `*` alone: any value.
    Any,
}

/// One token of the general glob, char by char.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GTok {
    Char(char),
    Star,
    One,
    Class(&'static [char]),
}

impl StrPat {
    pub fn compile(s: &SStr) -> StrPat {
        let p = &s.0;
        if p.iter().any(|x| matches!(x, Piece::One | Piece::Class(_))) {
            let mut toks = Vec::new();
            for x in p {
                match x {
                    Piece::Lit(l) => toks.extend(l.chars().map(GTok::Char)),
                    Piece::Star => toks.push(GTok::Star),
                    Piece::One => toks.push(GTok::One),
                    Piece::Class(c) => toks.push(GTok::Class(c)),
                }
            }
            return StrPat::Glob(toks);
        }
        let lit = |x: &Piece| match x {
            Piece::Lit(l) => Some(l.clone()),
            _ => None,
        };
        match p.as_slice() {
            [] => StrPat::Exact(String::new()),
            [Piece::Star] => StrPat::Any,
            [Piece::Lit(l)] => StrPat::Exact(l.clone()),
            [Piece::Lit(l), Piece::Star] => StrPat::Prefix(l.clone()),
            [Piece::Star, Piece::Lit(l)] => StrPat::Suffix(l.clone()),
            [Piece::Star, Piece::Lit(l), Piece::Star] => {
                StrPat::Contains(Box::new(Needle::new(l.as_bytes())))
            }
            _ => {
                // Only literals and stars remain, alternating (stars are collapsed).
                let first = if matches!(p.first(), Some(Piece::Lit(_))) {
                    p.first().and_then(lit).unwrap_or_default()
                } else {
                    String::new()
                };
                let last = if matches!(p.last(), Some(Piece::Lit(_))) && p.len() > 1 {
                    p.last().and_then(lit).unwrap_or_default()
                } else {
                    String::new()
                };
                let inner_start = usize::from(!first.is_empty());
                let inner_end = p.len() - usize::from(!last.is_empty());
                let mids = p[inner_start..inner_end]
                    .iter()
                    .filter_map(lit)
                    .map(|m| Needle::new(m.as_bytes()))
                    .collect();
                StrPat::Frags { first, mids, last }
            }
        }
    }

    /// The pattern as Sigma would write it (`*` and `?` wildcards, `[..]` for a class),
    /// for showing which keyword matched.
    pub fn describe(&self) -> String {
        let text = |f: &Needle| String::from_utf8_lossy(f.needle()).into_owned();
        match self {
            StrPat::Exact(s) => s.clone(),
            StrPat::Prefix(s) => format!("{s}*"),
            StrPat::Suffix(s) => format!("*{s}"),
            StrPat::Contains(f) => format!("*{}*", text(f)),
            StrPat::Any => "*".into(),
            StrPat::Frags { first, mids, last } => {
                let mut out = first.clone();
                out.push('*');
                for m in mids {
                    out.push_str(&text(m));
                    out.push('*');
                }
                out.push_str(last);
                out
            }
            StrPat::Glob(toks) => toks
                .iter()
                .map(|t| match t {
                    GTok::Char(c) => c.to_string(),
                    GTok::Star => "*".into(),
                    GTok::One => "?".into(),
                    GTok::Class(cs) => format!("[{}]", cs.iter().collect::<String>()),
                })
                .collect(),
        }
    }

    pub fn is_match(&self, v: &str) -> bool {
        match self {
            StrPat::Exact(s) => v == s,
            StrPat::Prefix(s) => v.starts_with(s.as_str()),
            StrPat::Suffix(s) => v.ends_with(s.as_str()),
            StrPat::Contains(f) => f.find(v.as_bytes()).is_some(),
            StrPat::Any => true,
            StrPat::Frags { first, mids, last } => {
                if v.len() < first.len() + last.len()
                    || !v.starts_with(first.as_str())
                    || !v.ends_with(last.as_str())
                {
                    return false;
                }
                let mut rest = &v.as_bytes()[first.len()..v.len() - last.len()];
                for m in mids {
                    match m.find(rest) {
                        Some(i) => rest = &rest[i + m.needle().len()..],
                        None => return false,
                    }
                }
                true
            }
            StrPat::Glob(toks) => glob(toks, v),
        }
    }
}

/// Size bounds of one compiled rule regex (NFA and lazy DFA), as before lazy compilation.
const REGEX_SIZE_LIMIT: usize = 1 << 24;

/// A rule's `|re` value: its syntax is checked when the rule loads (a bad pattern refuses
/// the rule, with the parser's message), the automaton is built the first time an event
/// value reaches it. Most rules are never evaluated on a given log (routing and the
/// literal index rule them out), and building every regex of SigmaHQ at load was the
/// larger part of load time and of the rule set's memory.
///
/// The one error the syntax check cannot foresee is a pattern whose automaton exceeds
/// the size bound; it is logged once (warning, with the pattern) and then matches nothing.
#[derive(Clone)]
pub struct LazyRegex {
    src: Box<str>,
    re: std::sync::OnceLock<Option<regex::Regex>>,
}

impl std::fmt::Debug for LazyRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LazyRegex({:?})", self.src)
    }
}

impl LazyRegex {
    /// Checks the syntax of `src` (inline flags included) as the `regex` crate reads it;
    /// the error is the parser's message.
    pub fn new(src: String) -> Result<LazyRegex, String> {
        regex_syntax::ParserBuilder::new()
            .build()
            .parse(&src)
            .map_err(|e| e.to_string())?;
        Ok(LazyRegex::unchecked(src))
    }

    /// A regex whose syntax is not checked here (from the compiled-rule cache, whose
    /// patterns were checked when they were first loaded; a bad one still only ever
    /// fails to compile, logged, and matches nothing).
    pub(crate) fn unchecked(src: String) -> LazyRegex {
        LazyRegex {
            src: src.into_boxed_str(),
            re: std::sync::OnceLock::new(),
        }
    }

    /// The pattern text, flags inline.
    pub fn as_str(&self) -> &str {
        &self.src
    }

    /// The compiled regex, built on first call (`None`: over the size bound, logged).
    pub fn compiled(&self) -> Option<&regex::Regex> {
        self.re
            .get_or_init(|| {
                let mut b = regex::RegexBuilder::new(&self.src);
                b.size_limit(REGEX_SIZE_LIMIT);
                b.dfa_size_limit(REGEX_SIZE_LIMIT);
                match b.build() {
                    Ok(r) => Some(r),
                    Err(e) => {
                        tracing::warn!(
                            "regular expression {:?} cannot be compiled ({e}); it matches nothing",
                            self.src
                        );
                        None
                    }
                }
            })
            .as_ref()
    }

    pub fn is_match(&self, v: &str) -> bool {
        self.compiled().is_some_and(|r| r.is_match(v))
    }
}

/// Classic wildcard matching with backtracking to the last star: linear in practice,
/// never exponential. Walks the text by byte offsets, without allocating.
fn glob(toks: &[GTok], text: &str) -> bool {
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < text.len() {
        let Some(c) = text[ti..].chars().next() else {
            break;
        };
        let step = match toks.get(pi) {
            Some(GTok::Char(p)) => *p == c,
            Some(GTok::One) => true,
            Some(GTok::Class(cs)) => cs.contains(&c),
            Some(GTok::Star) => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            None => false,
        };
        if step {
            ti += c.len_utf8();
            pi += 1;
        } else if let Some((sp, st)) = star {
            // Let the star swallow one more character and retry after it.
            let w = text[st..].chars().next().map_or(1, char::len_utf8);
            pi = sp + 1;
            ti = st + w;
            star = Some((sp, st + w));
        } else {
            return false;
        }
    }
    toks[pi.min(toks.len())..]
        .iter()
        .all(|x| matches!(x, GTok::Star))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pat: &str, v: &str) -> bool {
        StrPat::compile(&SStr::parse(pat)).is_match(v)
    }

    #[test]
    fn shapes() {
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abcd"));
        assert!(m("ab*", "abcd"));
        assert!(!m("ab*", "xabcd"));
        assert!(m("*cd", "abcd"));
        assert!(m("*bc*", "abcd"));
        assert!(!m("*bd*", "abcd"));
        assert!(m("a*c*e", "abcde"));
        assert!(!m("a*c*e", "abcdef"));
        // Prefix and suffix must not overlap.
        assert!(!m("ab*ba", "aba"));
        assert!(m("ab*ba", "abba"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*b*a*", "xxaxxbxx"));
        assert!(m("*", ""));
        assert!(m("", ""));
        assert!(!m("", "a"));
    }

    #[test]
    fn question_mark_and_classes() {
        assert!(m("prog?.exe", "progA.exe"));
        assert!(!m("prog?.exe", "prog.exe"));
        assert!(!m("prog?.exe", "progAB.exe"));
        assert!(m("*é?x", "aaéyx"));
        let w = StrPat::compile(&SStr::parse("* -enc *").windash());
        assert!(w.is_match("powershell /enc abc"));
        assert!(w.is_match("powershell \u{2013}enc abc"));
        assert!(!w.is_match("powershell +enc abc"));
        assert!(m("a*?b", "axb"));
        assert!(!m("a*?b", "ab"));
    }
}
