//! The condition grammar: `and`/`or`/`not`, brackets, `1 of`/`any of`/`all of`/`N of`
//! over patterns or `them`, selection names with `*` wildcards. Precedence, from least
//! to most binding: or, and, not, `x of`, brackets.

use crate::detect::Expr;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    /// `N of` (`any`/`1` → 1), `all of` → None.
    Of(Option<usize>),
    Word(String),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut words: Vec<(usize, String)> = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    let flush = |cur: &mut String, words: &mut Vec<(usize, String)>, at: usize| {
        if !cur.is_empty() {
            words.push((at, std::mem::take(cur)));
        }
    };
    // First split into words and brackets.
    let mut parts: Vec<Result<String, char>> = Vec::new();
    for (i, c) in s.char_indices() {
        match c {
            '(' | ')' => {
                flush(&mut cur, &mut words, start);
                parts.extend(words.drain(..).map(|(_, w)| Ok(w)));
                parts.push(Err(c));
            }
            c if c.is_whitespace() => {
                flush(&mut cur, &mut words, start);
            }
            c => {
                if cur.is_empty() {
                    start = i;
                }
                cur.push(c)
            }
        }
    }
    flush(&mut cur, &mut words, start);
    parts.extend(words.drain(..).map(|(_, w)| Ok(w)));

    let mut i = 0;
    while i < parts.len() {
        match &parts[i] {
            Err('(') => toks.push(Tok::LParen),
            Err(_) => toks.push(Tok::RParen),
            Ok(w) => {
                let lw = w.to_ascii_lowercase();
                let next_is_of =
                    matches!(parts.get(i + 1), Some(Ok(n)) if n.eq_ignore_ascii_case("of"));
                match lw.as_str() {
                    "and" => toks.push(Tok::And),
                    "or" => toks.push(Tok::Or),
                    "not" => toks.push(Tok::Not),
                    "all" if next_is_of => {
                        toks.push(Tok::Of(None));
                        i += 1;
                    }
                    "any" if next_is_of => {
                        toks.push(Tok::Of(Some(1)));
                        i += 1;
                    }
                    n if next_is_of && n.chars().all(|c| c.is_ascii_digit()) => {
                        let k: usize = n.parse().map_err(|_| format!("bad count {w:?}"))?;
                        if k == 0 {
                            return Err("`0 of` is meaningless".into());
                        }
                        toks.push(Tok::Of(Some(k)));
                        i += 1;
                    }
                    "of" => return Err("`of` without a count before it".into()),
                    _ => toks.push(Tok::Word(w.clone())),
                }
            }
        }
        i += 1;
    }
    Ok(toks)
}

/// Parses `cond` and resolves the names against `names` (the selections of the rule,
/// in order). Errors say what is wrong in words.
pub fn parse(cond: &str, names: &[String]) -> Result<Expr, String> {
    let toks = tokenize(cond)?;
    if toks.is_empty() {
        return Err("empty condition".into());
    }
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        names,
    };
    let e = p.or()?;
    if p.pos != toks.len() {
        return Err(format!(
            "unexpected {} after a complete expression",
            describe(&toks[p.pos])
        ));
    }
    Ok(e)
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::And => "`and`".into(),
        Tok::Or => "`or`".into(),
        Tok::Not => "`not`".into(),
        Tok::Of(_) => "`of`".into(),
        Tok::Word(w) => format!("`{w}`"),
    }
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut v = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Expr::Or(v)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut v = vec![self.not()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            v.push(self.not()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Expr::And(v)
        })
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Tok::Not) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, String> {
        let Some(t) = self.peek().cloned() else {
            return Err("condition ends where an operand was expected".into());
        };
        self.pos += 1;
        match t {
            Tok::LParen => {
                let e = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err("missing `)`".into());
                }
                self.pos += 1;
                Ok(e)
            }
            Tok::Of(n) => {
                let Some(Tok::Word(w)) = self.peek().cloned() else {
                    return Err("`of` must be followed by a name pattern or `them`".into());
                };
                self.pos += 1;
                let idx = self.matching(&w)?;
                let ops: Vec<Expr> = idx.into_iter().map(Expr::Sel).collect();
                Ok(match n {
                    None => Expr::And(ops),
                    Some(1) => Expr::Or(ops),
                    Some(k) => Expr::AtLeast(k, ops),
                })
            }
            Tok::Word(w) => {
                if w.contains('*') {
                    return Err(format!(
                        "`{w}`: a name pattern needs `1 of` or `all of` before it"
                    ));
                }
                match self.names.iter().position(|n| *n == w) {
                    Some(i) => Ok(Expr::Sel(i)),
                    None => Err(format!("unknown search identifier `{w}`")),
                }
            }
            other => Err(format!(
                "unexpected {} where an operand was expected",
                describe(&other)
            )),
        }
    }

    /// Selections matched by a pattern (or `them`: all not starting with `_`).
    fn matching(&self, pat: &str) -> Result<Vec<usize>, String> {
        let idx: Vec<usize> = if pat == "them" {
            (0..self.names.len())
                .filter(|&i| !self.names[i].starts_with('_'))
                .collect()
        } else {
            (0..self.names.len())
                .filter(|&i| name_glob(pat, &self.names[i]))
                .collect()
        };
        if idx.is_empty() {
            return Err(format!("`{pat}` matches no search identifier"));
        }
        Ok(idx)
    }
}

/// `*` matches any run of characters in a selection name pattern.
fn name_glob(pat: &str, name: &str) -> bool {
    let parts: Vec<&str> = pat.split('*').collect();
    if parts.len() == 1 {
        return pat == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if name.len() < first.len() + last.len() || !name.starts_with(first) || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for m in &parts[1..parts.len() - 1] {
        match rest.find(m) {
            Some(i) => rest = &rest[i + m.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Evaluates a parsed condition with selection truth values given by a bit mask.
    fn truth(cond: &str, n: &[&str], mask: u32) -> bool {
        fn ev(e: &Expr, m: u32) -> bool {
            match e {
                Expr::And(v) => v.iter().all(|x| ev(x, m)),
                Expr::Or(v) => v.iter().any(|x| ev(x, m)),
                Expr::Not(x) => !ev(x, m),
                Expr::AtLeast(k, v) => v.iter().filter(|x| ev(x, m)).count() >= *k,
                Expr::Sel(i) => m & (1 << i) != 0,
            }
        }
        ev(&parse(cond, &names(n)).unwrap(), mask)
    }

    #[test]
    fn precedence_or_and_not() {
        let n = ["a", "b", "c"];
        // a or b and c == a or (b and c)
        assert!(truth("a or b and c", &n, 0b001));
        assert!(!truth("a or b and c", &n, 0b010));
        assert!(truth("a or b and c", &n, 0b110));
        // not binds tighter than and
        assert!(truth("not a and b", &n, 0b010));
        assert!(!truth("not a and b", &n, 0b011));
        assert!(truth("not (a and b)", &n, 0b001));
        assert!(!truth("(a or b) and c", &n, 0b001));
        assert!(truth("not not a", &n, 1));
        assert!(truth("A AND NOT b", &["A", "b"], 1));
    }

    #[test]
    fn of_forms() {
        let n = ["selection_1", "selection_2", "filter_x", "_hidden"];
        assert!(truth("1 of selection_*", &n, 0b0010));
        assert!(!truth("all of selection_*", &n, 0b0010));
        assert!(truth("all of selection_*", &n, 0b0011));
        assert!(truth("any of selection*", &n, 0b0001));
        assert!(!truth("1 of selection_* and not 1 of filter*", &n, 0b0101));
        // `them` excludes names starting with `_`.
        assert!(!truth("1 of them", &n, 0b1000));
        assert!(!truth("all of them", &n, 0b0111 ^ 0b0100));
        assert!(truth("all of them", &n, 0b0111));
        assert!(truth("2 of them", &n, 0b0101));
        assert!(!truth("2 of them", &n, 0b0100));
        // `x of` binds tighter than not.
        assert!(truth("not 1 of filter*", &n, 0));
        assert!(truth("1 of *_2", &n, 0b0010));
        assert!(truth("1 of sel*_*2", &n, 0b0010));
    }

    #[test]
    fn errors() {
        let n = names(&["a", "b"]);
        for bad in [
            "",
            "a and",
            "a or or b",
            "(a",
            "a)",
            "c",
            "1 of x*",
            "a b",
            "all of",
            "sel*",
            "of a",
            "not",
        ] {
            assert!(parse(bad, &n).is_err(), "{bad:?} should fail");
        }
    }
}
