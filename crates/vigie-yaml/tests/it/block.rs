//! The line-based fast reader against yaml-rust2's reader: on every YAML file of the
//! shared data and of the repository, on mutations of them, and on generated documents,
//! whenever the fast reader accepts a text its tree (positions included) or its errors
//! equal the full reader's. It must also accept nearly all of SigmaHQ's rules, or it
//! would not be the fast path it is for.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use vigie_yaml::{parse_yaml_fast, parse_yaml_full, Limits, Node, Value};

/// Documents of a YAML file, split at `---` lines as the Sigma loader splits them.
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") {
            docs.push(String::new());
        } else if let Some(d) = docs.last_mut() {
            d.push_str(line);
        }
    }
    docs
}

fn yaml_files(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| {
            let n = e.file_name().to_string_lossy();
            !matches!(n.as_ref(), "target" | "node_modules" | ".git")
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            matches!(
                e.path().extension().and_then(|x| x.to_str()),
                Some("yml" | "yaml")
            )
        })
        .map(|e| e.into_path())
        .collect()
}

/// `Some(true)` when the fast reader accepted `text` (and agreed), `Some(false)` when it
/// declined, `None` (with the difference in `diffs`) when it disagreed.
fn compare(text: &str, what: &str, diffs: &mut Vec<String>) -> Option<bool> {
    let limits = Limits::default();
    let Some(fast) = parse_yaml_fast(text, &limits) else {
        return Some(false);
    };
    let full = parse_yaml_full(text, &limits);
    if fast == full {
        Some(true)
    } else {
        let first = match (&fast, &full) {
            (Ok(a), Ok(b)) => first_difference(a, b, String::new()),
            _ => format!("fast {fast:?}\nfull {full:?}"),
        };
        diffs.push(format!(
            "{what}:\n--- text\n{text}\n--- first difference\n{first}"
        ));
        None
    }
}

/// The first place where two trees differ, with its path, shallowly.
fn first_difference(a: &Node, b: &Node, path: String) -> String {
    let here = || {
        let shallow = |n: &Node| match &n.value {
            Value::Scalar { .. } => format!("{n:?}"),
            Value::Seq(v) => format!("seq of {} at {}", v.len(), n.pos),
            Value::Map(v) => format!("map of {} at {}", v.len(), n.pos),
        };
        format!("at {path}: fast {}\n  full {}", shallow(a), shallow(b))
    };
    if a.pos != b.pos {
        return here();
    }
    match (&a.value, &b.value) {
        (Value::Seq(x), Value::Seq(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find(|(_, (p, q))| p != q)
            .map_or_else(here, |(i, (p, q))| {
                first_difference(p, q, format!("{path}/{i}"))
            }),
        (Value::Map(x), Value::Map(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .find(|(p, q)| p != q)
            .map_or_else(here, |((k1, v1), (k2, v2))| {
                if k1 != k2 {
                    first_difference(k1, k2, format!("{path}/key"))
                } else {
                    first_difference(v1, v2, format!("{path}/{}", k1.as_scalar().unwrap_or("?")))
                }
            }),
        _ => here(),
    }
}

fn corpus() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for root in [
        vigie_test_support::shared(),
        vigie_test_support::repo_root(),
    ] {
        for path in yaml_files(&root) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for (i, doc) in documents(&text).into_iter().enumerate() {
                out.push((format!("{} doc {i}", path.display()), doc));
            }
        }
    }
    out
}

#[test]
fn fast_reader_equals_full_reader_on_every_yaml_file_and_accepts_the_sigma_rules() {
    let mut diffs = Vec::new();
    let (mut accepted, mut declined) = (0usize, 0usize);
    let (mut rules, mut rules_declined) = (0usize, Vec::new());
    let rules_dir = vigie_test_support::shared().join("sigma/rules");
    for (what, doc) in corpus() {
        let got = compare(&doc, &what, &mut diffs);
        match got {
            Some(true) => accepted += 1,
            Some(false) => declined += 1,
            None => {}
        }
        if what.starts_with(&rules_dir.display().to_string()) {
            rules += 1;
            if got == Some(false) {
                rules_declined.push(what);
            }
        }
    }
    if std::env::var_os("SHOW_DECLINED").is_some() {
        eprintln!("declined rules: {rules_declined:#?}");
    }
    assert!(
        diffs.is_empty(),
        "{} documents read differently (of {accepted} accepted, {declined} declined); first:\n{}",
        diffs.len(),
        diffs[0]
    );
    assert!(
        rules > 3000,
        "only {rules} documents under {}",
        rules_dir.display()
    );
    // The fast path is the point: nearly every rule must take it.
    assert!(
        rules_declined.len() * 100 <= rules,
        "{} of {rules} SigmaHQ rule documents declined, e.g. {:?}",
        rules_declined.len(),
        &rules_declined[..rules_declined.len().min(10)]
    );
}

/// Bytes that matter to YAML's syntax, for mutations.
const SIGNIFICANT: &[u8] = b" :-#'\"|>\n\\[]{},&*!?%@`\tx0";

fn mutate(doc: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut b = doc.as_bytes().to_vec();
    for &(at, op, ch) in edits {
        if b.is_empty() {
            break;
        }
        let at = at % b.len();
        let ch = SIGNIFICANT[ch as usize % SIGNIFICANT.len()];
        match op % 3 {
            0 => b.insert(at, ch),
            1 => {
                b.remove(at);
            }
            _ => b[at] = ch,
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn sample_docs() -> &'static [(String, String)] {
    static DOCS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    DOCS.get_or_init(|| {
        let all = corpus();
        // Every 25th document: a few hundred, of every kind.
        all.into_iter().step_by(25).collect()
    })
}

/// Deterministic mutations (one to three edits each, from a fixed seed) of the sampled
/// documents: no difference, and the fast reader must still take a good share of them,
/// or the comparison would be vacuous (it declines most damaged text by design).
#[test]
fn fast_reader_takes_many_mutated_documents_and_agrees_on_all() {
    let docs = sample_docs();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut accepted, mut total) = (0usize, 0usize);
    let mut diffs = Vec::new();
    for _ in 0..3000 {
        let (what, doc) = &docs[(next() % docs.len() as u64) as usize];
        let edits: Vec<(usize, u8, u8)> = (0..1 + next() % 3)
            .map(|_| (next() as usize, next() as u8, next() as u8))
            .collect();
        let text = mutate(doc, &edits);
        total += 1;
        if compare(&text, &format!("{what} mutated by {edits:?}"), &mut diffs) == Some(true) {
            accepted += 1;
        }
    }
    eprintln!("fast reader took {accepted} of {total} mutated documents");
    assert!(diffs.is_empty(), "{}", diffs[0]);
    // 1,880 of 3,000 when written.
    assert!(
        accepted * 2 >= total,
        "the fast reader took only {accepted} of {total} mutated documents"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn fast_reader_equals_full_reader_on_mutated_documents(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..4),
    ) {
        let docs = sample_docs();
        let (what, doc) = &docs[pick.index(docs.len())];
        let text = mutate(doc, &edits);
        let mut diffs = Vec::new();
        let got = compare(&text, &format!("{what} mutated by {edits:?}"), &mut diffs);
        prop_assert!(got.is_some(), "{}", diffs[0]);
    }

    #[test]
    fn fast_reader_equals_full_reader_on_generated_documents(doc in document()) {
        let mut diffs = Vec::new();
        let got = compare(&doc, "generated", &mut diffs);
        prop_assert!(got.is_some(), "{}", diffs[0]);
    }
}

/// A scalar as rule authors write them: plain, quoted, with the characters that matter.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.\\\\/|*-]{1,12}",
        "[a-z]{1,5}[ :#,]{1,2}[a-z]{0,5}",
        "'[a-z:#\" \\\\]{0,8}'",
        "'[a-z]{0,3}''[a-z]{0,3}'",
        "\"[a-z:#' ]{0,8}\"",
        "\"[a-z]{0,3}\\\\[ntx0\"\\\\/u][a-f0-9]{0,4}\"",
        "[é€a-z]{1,6}",
        Just(String::new()),
        Just("~".to_string()),
        Just("-1".to_string()),
        Just("|".to_string()),
        Just(">-".to_string()),
    ]
}

/// A block document of mappings, sequences and block scalars, indentation varied.
fn document() -> impl Strategy<Value = String> {
    let leaf = scalar().prop_map(|s| vec![s]);
    let tree = leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            // A mapping: key lines with values indented below or inline.
            prop::collection::vec(("[a-zA-Z|_]{1,8}", inner.clone(), 1..4usize), 1..5).prop_map(
                |entries| {
                    let mut out = Vec::new();
                    for (k, v, ind) in entries {
                        if v.len() == 1 && !v[0].starts_with(['|', '>']) {
                            out.push(format!("{k}: {}", v[0]));
                        } else if v.len() == 1 {
                            out.push(format!("{k}: {}", v[0]));
                            out.push(format!("{}line one", " ".repeat(ind)));
                            out.push(String::new());
                            out.push(format!("{}line two # not a comment", " ".repeat(ind)));
                        } else {
                            out.push(format!("{k}:"));
                            out.extend(v.into_iter().map(|l| format!("{}{l}", " ".repeat(ind))));
                        }
                    }
                    out
                }
            ),
            // A sequence: `- ` items, nested ones indented or compact.
            prop::collection::vec((inner, any::<bool>()), 1..4).prop_map(|items| {
                let mut out = Vec::new();
                for (v, comment) in items {
                    let mut lines = v.into_iter();
                    if let Some(first) = lines.next() {
                        out.push(format!("- {first}"));
                    }
                    out.extend(lines.map(|l| format!("  {l}")));
                    if comment {
                        out.push("  # a comment".to_string());
                    }
                }
                out
            }),
        ]
    });
    tree.prop_map(|lines| {
        let mut s = lines.join("\n");
        s.push('\n');
        s
    })
}
