//! Recursive-descent parser for `STIXPattern.g4` (STIX 2.1, section 9).
//!
//! Precedence, loosest first: `FOLLOWEDBY`, `OR`, `AND` between observation
//! expressions (all left-associative), then the postfix qualifiers; inside `[...]`,
//! `OR` then `AND`. The first error stops the parse (like the reference's bail-out
//! strategy) and names the token found and what was expected there.

use super::ast::*;
use super::lexer::{describe, tokenize, Kw, Tok, Token};
use super::PatternError;

/// Deep nesting is refused rather than overflowing the stack.
const MAX_DEPTH: usize = 200;
/// Binary operators and qualifiers in one pattern, for the same reason (a chain of
/// `AND`s is a tree as deep as it is long).
const MAX_OPERATORS: usize = 1000;

pub(crate) fn parse(text: &str, v20: bool) -> Result<PatternExpr, PatternError> {
    let toks = tokenize(text, v20);
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        operators: 0,
        v20,
    };
    let e = p.followed_by()?;
    if p.peek() != &Tok::Eof {
        let what = match p.peek() {
            Tok::Kw(Kw::Within | Kw::Repeats | Kw::Start) => {
                "`AND`, `OR`, `FOLLOWEDBY` or the end of the pattern (a qualifier applies to an observation `[...]` or a parenthesised group)"
            }
            _ => "`AND`, `OR`, `FOLLOWEDBY`, a qualifier (`WITHIN`, `REPEATS`, `START`) or the end of the pattern",
        };
        return Err(p.error(what));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    operators: usize,
    /// STIX 2.0: `START`/`STOP` take string literals, no `EXISTS`.
    v20: bool,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.cur().tok
    }

    fn cur(&self) -> &Token {
        // tokenize always ends with Eof and the parser never steps past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Tok {
        let t = self.cur().tok.clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn error(&self, expected: &str) -> PatternError {
        let t = self.cur();
        PatternError {
            offset: t.offset,
            line: t.line,
            column: t.column,
            message: format!("expected {expected}, found {}", describe(&t.tok)),
        }
    }

    fn error_at(&self, t: &Token, message: String) -> PatternError {
        PatternError {
            offset: t.offset,
            line: t.line,
            column: t.column,
            message,
        }
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), PatternError> {
        if *self.peek() == want {
            self.next();
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// One more binary operator or qualifier (the token just consumed).
    fn operator(&mut self) -> Result<(), PatternError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            let t = self.cur().clone();
            return Err(self.error_at(
                &t,
                format!("the pattern has more than {MAX_OPERATORS} operators and qualifiers"),
            ));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let t = self.cur().clone();
            return Err(self.error_at(
                &t,
                format!("the pattern nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn followed_by(&mut self) -> Result<PatternExpr, PatternError> {
        let mut lhs = self.obs_or()?;
        while *self.peek() == Tok::Kw(Kw::FollowedBy) {
            self.next();
            self.operator()?;
            let rhs = self.obs_or()?;
            lhs = PatternExpr::FollowedBy(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn obs_or(&mut self) -> Result<PatternExpr, PatternError> {
        let mut lhs = self.obs_and()?;
        while *self.peek() == Tok::Kw(Kw::Or) {
            self.next();
            self.operator()?;
            let rhs = self.obs_and()?;
            lhs = PatternExpr::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn obs_and(&mut self) -> Result<PatternExpr, PatternError> {
        let mut lhs = self.obs_qualified()?;
        while *self.peek() == Tok::Kw(Kw::And) {
            self.next();
            self.operator()?;
            let rhs = self.obs_qualified()?;
            lhs = PatternExpr::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn obs_qualified(&mut self) -> Result<PatternExpr, PatternError> {
        let mut e = self.obs_primary()?;
        loop {
            let q = match self.peek() {
                Tok::Kw(Kw::Within) => {
                    self.next();
                    let n = match self.peek().clone() {
                        Tok::IntPos(s) | Tok::FloatPos(s) => {
                            self.next();
                            number(&s)
                        }
                        _ => {
                            return Err(self.error("a positive number of seconds after `WITHIN`"));
                        }
                    };
                    self.expect(Tok::Kw(Kw::Seconds), "`SECONDS`")?;
                    Qualifier::Within(n)
                }
                Tok::Kw(Kw::Repeats) => {
                    self.next();
                    let n = match self.peek().clone() {
                        Tok::IntPos(s) => {
                            self.next();
                            number(&s)
                        }
                        _ => {
                            return Err(self.error("a positive integer after `REPEATS`"));
                        }
                    };
                    self.expect(Tok::Kw(Kw::Times), "`TIMES`")?;
                    Qualifier::Repeats(n)
                }
                Tok::Kw(Kw::Start) => {
                    self.next();
                    let a = self.timestamp("a timestamp t'...' after `START`")?;
                    self.expect(Tok::Kw(Kw::Stop), "`STOP`")?;
                    let b = self.timestamp("a timestamp t'...' after `STOP`")?;
                    Qualifier::StartStop(a, b)
                }
                _ => return Ok(e),
            };
            self.operator()?;
            e = PatternExpr::Qualified(Box::new(e), q);
        }
    }

    fn timestamp(&mut self, what: &str) -> Result<Timestamp, PatternError> {
        if self.v20 {
            return match self.peek() {
                Tok::Str(s) => {
                    let t = Timestamp {
                        value: super::value::parse_json_timestamp(s),
                        text: s.clone(),
                    };
                    self.next();
                    Ok(t)
                }
                _ => Err(self.error("a timestamp string '...' (STIX 2.0)")),
            };
        }
        match self.peek() {
            Tok::Timestamp(s) => {
                let t = Timestamp {
                    value: super::value::parse_timestamp(s),
                    text: s.clone(),
                };
                self.next();
                Ok(t)
            }
            _ => Err(self.error(what)),
        }
    }

    fn obs_primary(&mut self) -> Result<PatternExpr, PatternError> {
        match self.peek() {
            Tok::LBrack => {
                self.next();
                self.enter()?;
                let expr = self.cmp_or()?;
                self.depth -= 1;
                self.expect(Tok::RBrack, "`]`, `AND` or `OR`")?;
                Ok(PatternExpr::Observation(Observation { expr }))
            }
            Tok::LParen => {
                self.next();
                self.enter()?;
                let e = self.followed_by()?;
                self.depth -= 1;
                self.expect(Tok::RParen, "`)`, `AND`, `OR`, `FOLLOWEDBY` or a qualifier")?;
                Ok(PatternExpr::Group(Box::new(e)))
            }
            _ => Err(self.error("an observation expression (`[` or `(`)")),
        }
    }

    fn cmp_or(&mut self) -> Result<ComparisonExpr, PatternError> {
        let mut lhs = self.cmp_and()?;
        while *self.peek() == Tok::Kw(Kw::Or) {
            self.next();
            self.operator()?;
            let rhs = self.cmp_and()?;
            lhs = ComparisonExpr::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn cmp_and(&mut self) -> Result<ComparisonExpr, PatternError> {
        let mut lhs = self.prop_test()?;
        while *self.peek() == Tok::Kw(Kw::And) {
            self.next();
            self.operator()?;
            let rhs = self.prop_test()?;
            lhs = ComparisonExpr::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn prop_test(&mut self) -> Result<ComparisonExpr, PatternError> {
        match self.peek() {
            Tok::LParen => {
                self.next();
                self.enter()?;
                let e = self.cmp_or()?;
                self.depth -= 1;
                self.expect(Tok::RParen, "`)`, `AND` or `OR`")?;
                return Ok(ComparisonExpr::Group(Box::new(e)));
            }
            Tok::Kw(Kw::Exists) => {
                self.next();
                let path = self.object_path()?;
                return Ok(ComparisonExpr::Test(Comparison {
                    path,
                    negated: false,
                    op: CompOp::Exists,
                }));
            }
            _ => {}
        }
        let path = self.object_path()?;
        let negated = if *self.peek() == Tok::Kw(Kw::Not) {
            self.next();
            true
        } else {
            false
        };
        let op_tok = self.cur().clone();
        let op = match &op_tok.tok {
            Tok::Eq | Tok::Neq => {
                self.next();
                let l = self.literal(true)?;
                if op_tok.tok == Tok::Eq {
                    CompOp::Eq(l)
                } else {
                    CompOp::Ne(l)
                }
            }
            Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge => {
                self.next();
                let l = self.literal(false)?;
                match op_tok.tok {
                    Tok::Lt => CompOp::Lt(l),
                    Tok::Le => CompOp::Le(l),
                    Tok::Gt => CompOp::Gt(l),
                    _ => CompOp::Ge(l),
                }
            }
            Tok::Kw(Kw::In) => {
                self.next();
                self.expect(Tok::LParen, "`(` opening the set after `IN`")?;
                let mut set = Vec::new();
                if *self.peek() == Tok::RParen {
                    self.next();
                } else {
                    loop {
                        set.push(self.literal(true)?);
                        match self.peek() {
                            Tok::Comma => {
                                self.next();
                            }
                            Tok::RParen => {
                                self.next();
                                break;
                            }
                            _ => return Err(self.error("`,` or `)` in the set")),
                        }
                    }
                }
                CompOp::In(set)
            }
            Tok::Kw(k @ (Kw::Like | Kw::Matches | Kw::IsSubset | Kw::IsSuperset)) => {
                let k = *k;
                self.next();
                let s = match self.peek() {
                    Tok::Str(s) => s.clone(),
                    _ => return Err(self.error(&format!("a string literal after `{}`", k.text()))),
                };
                self.next();
                match k {
                    Kw::Like => CompOp::Like(s),
                    Kw::Matches => CompOp::Matches(s),
                    Kw::IsSubset => CompOp::IsSubset(s),
                    _ => CompOp::IsSuperset(s),
                }
            }
            _ => {
                let what = if negated {
                    "a comparison operator after `NOT` (`=`, `!=`, `<`, `<=`, `>`, `>=`, `IN`, `LIKE`, `MATCHES`, `ISSUBSET`, `ISSUPERSET`)"
                } else {
                    "a comparison operator (`=`, `!=`, `<`, `<=`, `>`, `>=`, `IN`, `LIKE`, `MATCHES`, `ISSUBSET`, `ISSUPERSET`) or `NOT`"
                };
                return Err(self.error(what));
            }
        };
        Ok(ComparisonExpr::Test(Comparison { path, negated, op }))
    }

    fn object_path(&mut self) -> Result<ObjectPath, PatternError> {
        let object_type = match self.peek() {
            Tok::IdentNoHyphen(s) | Tok::IdentHyphen(s) => s.clone(),
            _ => return Err(self.error("an object type (e.g. `file`, `ipv4-addr`)")),
        };
        self.next();
        self.expect(Tok::Colon, "`:` after the object type")?;
        let first = match self.peek() {
            Tok::IdentNoHyphen(s) | Tok::Str(s) => s.clone(),
            _ => {
                return Err(self
                    .error("a property name (an identifier without hyphen, or a quoted string)"))
            }
        };
        self.next();
        let mut steps = vec![PathStep::Key(first)];
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.next();
                    match self.peek() {
                        Tok::IdentNoHyphen(s) | Tok::Str(s) => {
                            steps.push(PathStep::Key(s.clone()));
                            self.next();
                        }
                        _ => {
                            return Err(self.error(
                                "a property name after `.` (an identifier without hyphen, or a quoted string)",
                            ))
                        }
                    }
                }
                Tok::LBrack => {
                    self.next();
                    let step = match self.peek().clone() {
                        Tok::Asterisk => PathStep::Star,
                        Tok::IntPos(s) | Tok::IntNeg(s) => match s.parse::<i64>() {
                            Ok(n) => PathStep::Index(n),
                            Err(_) => {
                                // Out of range: no list is that long.
                                PathStep::Index(if s.starts_with('-') {
                                    i64::MIN
                                } else {
                                    i64::MAX
                                })
                            }
                        },
                        _ => return Err(self.error("a list index (an integer or `*`)")),
                    };
                    self.next();
                    self.expect(Tok::RBrack, "`]` closing the list index")?;
                    steps.push(step);
                }
                _ => break,
            }
        }
        Ok(ObjectPath { object_type, steps })
    }

    fn literal(&mut self, bool_ok: bool) -> Result<Literal, PatternError> {
        let l = match self.peek().clone() {
            Tok::IntPos(s) | Tok::IntNeg(s) => match s.parse::<i128>() {
                Ok(n) => Literal::Int(n),
                Err(_) => Literal::Float(s.parse::<f64>().unwrap_or(f64::MAX)),
            },
            Tok::FloatPos(s) | Tok::FloatNeg(s) => Literal::Float(s.parse::<f64>().unwrap_or(0.0)),
            Tok::Str(s) => Literal::Str(s),
            Tok::Hex(b) => Literal::Bytes {
                bytes: b,
                hex: true,
            },
            Tok::Binary(b) => Literal::Bytes {
                bytes: b,
                hex: false,
            },
            Tok::Timestamp(s) => Literal::Timestamp(Timestamp {
                value: super::value::parse_timestamp(&s),
                text: s,
            }),
            Tok::Kw(Kw::True) if bool_ok => Literal::Bool(true),
            Tok::Kw(Kw::False) if bool_ok => Literal::Bool(false),
            _ => {
                return Err(self.error(if bool_ok {
                    "a literal (string, number, boolean, b'...', h'...', t'...')"
                } else {
                    "an orderable literal (string, number, b'...', h'...', t'...')"
                }))
            }
        };
        self.next();
        Ok(l)
    }
}

fn number(s: &str) -> NumberText {
    let t = s.strip_prefix('+').unwrap_or(s);
    NumberText {
        text: t.to_string(),
        value: t.parse::<f64>().unwrap_or(f64::MAX),
    }
}
