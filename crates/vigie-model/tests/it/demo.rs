//! The built-in demo operator loads, validates cleanly and tells the intended story.

use vigie_model::{demo, derive_attack_edges, load_str, Format, DEMO_YAML};

#[test]
fn demo_is_valid_without_warnings() {
    let loaded = match load_str(DEMO_YAML, "demo", Format::Yaml) {
        Ok(l) => l,
        Err(d) => panic!(
            "demo invalid:\n{}",
            d.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let m = loaded.model;
    let customers: u64 = m.segments.iter().map(|s| s.customers).sum();
    assert!(
        (29_000_000..=33_000_000).contains(&customers),
        "{customers}"
    );
    assert!(m.assets.len() >= 150, "{}", m.assets.len());
}

#[test]
fn demo_function_matches_text() {
    let m = demo();
    assert_eq!(m.operator.name, "Armorique Telecom");
    let g = derive_attack_edges(&m.index());
    assert!(g.edges.len() > 500, "{}", g.edges.len());
}
