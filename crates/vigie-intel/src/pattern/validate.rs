//! The pattern validator's checks beyond the grammar (`stix2-patterns` 2.1.2, used by
//! `stix2-validator`), as documented behaviour: duplicate qualifier types directly on
//! one observation, hash values that do not have their hash type's form, and the text
//! not starting with `[` after any opening parentheses and whitespace.

use super::ast::*;

pub(crate) fn validate(text: &str, root: &PatternExpr) -> Vec<String> {
    let mut out = Vec::new();
    let first = text.chars().find(|&c| c != '(' && !c.is_whitespace());
    if first != Some('[') {
        out.push(
            "the pattern does not start with `[` (after any `(`): missing square brackets"
                .to_string(),
        );
    }
    qualifiers(root, &mut out);
    hashes(root, &mut out);
    out
}

fn qualifiers(e: &PatternExpr, out: &mut Vec<String>) {
    match e {
        PatternExpr::Observation(_) => {}
        PatternExpr::Group(inner) => qualifiers(inner, out),
        PatternExpr::And(a, b) | PatternExpr::Or(a, b) | PatternExpr::FollowedBy(a, b) => {
            qualifiers(a, out);
            qualifiers(b, out);
        }
        PatternExpr::Qualified(..) => {
            // The chain of qualifiers and what they qualify.
            let mut kinds = Vec::new();
            let mut cur = e;
            while let PatternExpr::Qualified(inner, q) = cur {
                kinds.push(match q {
                    Qualifier::Within(_) => "WITHIN",
                    Qualifier::Repeats(_) => "REPEATS",
                    Qualifier::StartStop(..) => "STARTSTOP",
                });
                cur = inner;
            }
            if let PatternExpr::Observation(_) = cur {
                // Innermost first, as the validator meets them.
                kinds.reverse();
                for (i, k) in kinds.iter().enumerate() {
                    if kinds[..i].contains(k) {
                        out.push(format!("duplicate qualifier type encountered: {k}"));
                        break;
                    }
                }
            }
            qualifiers(cur, out);
        }
    }
}

fn hex_run(s: &str) -> usize {
    s.chars().take_while(|c| c.is_ascii_hexdigit()).count()
}

/// Python's `re.match('^...$')`: the whole string, or all but a final newline.
fn whole(s: &str, ok: impl Fn(&str) -> bool) -> bool {
    ok(s) || s.strip_suffix('\n').is_some_and(ok)
}

fn hash_ok(kind: &str, v: &str) -> Option<bool> {
    let hex_len = |n: usize| whole(v, |s| s.len() == n && hex_run(s) == n);
    Some(match kind {
        "MD5" => hex_len(32),
        // The validator's MD6 expression only anchors its first alternative.
        "MD6" => hex_run(v) >= 32 || v.strip_prefix("\n    ").is_some_and(|r| hex_run(r) >= 64),
        "RIPEMD160" | "SHA1" => hex_len(40),
        "SHA224" | "SHA3224" => hex_len(56),
        "SHA256" | "SHA3256" => hex_len(64),
        "SHA384" | "SHA3384" => hex_len(96),
        "SHA512" | "SHA3512" | "WHIRLPOOL" => hex_len(128),
        "SSDEEP" => whole(v, |s| {
            let n = s.chars().count();
            (1..=128).contains(&n)
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/+:.".contains(c))
        }),
        _ => return None,
    })
}

fn hashes(e: &PatternExpr, out: &mut Vec<String>) {
    match e {
        PatternExpr::Observation(o) => cmp_hashes(&o.expr, out),
        PatternExpr::Group(inner) | PatternExpr::Qualified(inner, _) => hashes(inner, out),
        PatternExpr::And(a, b) | PatternExpr::Or(a, b) | PatternExpr::FollowedBy(a, b) => {
            hashes(a, out);
            hashes(b, out);
        }
    }
}

/// The literal as the validator sees it: its text with every quote removed.
fn literal_text(op: &CompOp) -> Option<String> {
    let raw = match op {
        CompOp::Eq(l)
        | CompOp::Ne(l)
        | CompOp::Lt(l)
        | CompOp::Le(l)
        | CompOp::Gt(l)
        | CompOp::Ge(l) => raw_literal(l),
        CompOp::In(set) => {
            let items: Vec<String> = set.iter().map(raw_literal).collect();
            format!("({})", items.join(","))
        }
        CompOp::Like(s) | CompOp::Matches(s) | CompOp::IsSubset(s) | CompOp::IsSuperset(s) => {
            Quoted(s).to_string()
        }
        CompOp::Exists => return None,
    };
    Some(raw.replace('\'', ""))
}

fn raw_literal(l: &Literal) -> String {
    l.to_string()
}

fn cmp_hashes(e: &ComparisonExpr, out: &mut Vec<String>) {
    match e {
        ComparisonExpr::And(a, b) | ComparisonExpr::Or(a, b) => {
            cmp_hashes(a, out);
            cmp_hashes(b, out);
        }
        ComparisonExpr::Group(inner) => cmp_hashes(inner, out),
        ComparisonExpr::Test(c) => {
            let has_hashes = c
                .path
                .steps
                .iter()
                .any(|s| matches!(s, PathStep::Key(k) if k == "hashes"));
            if !has_hashes {
                return;
            }
            let Some(PathStep::Key(sel)) = c.path.steps.last() else {
                return;
            };
            let kind = sel.to_uppercase().replace(['-', '\''], "");
            let Some(v) = literal_text(&c.op) else { return };
            if hash_ok(&kind, &v) == Some(false) {
                out.push(format!("'{v}' is not a valid {sel} hash"));
            }
        }
    }
}
