//! The loader is total on untrusted text: arbitrary YAML or JSON never panics, mutated valid
//! models give diagnostics with positions inside the text; generated models always validate.

use proptest::prelude::*;
use vigie_model::{generate, generate_model, load_str, validate, Format, GenOptions};

const SMALL: &str = vigie_test_support::EXAMPLE_SMALL_MODEL;

fn line_count(text: &str) -> u32 {
    text.lines().count().max(1) as u32 + 1
}

fn check_positions(text: &str, format: Format) {
    if let Err(diags) = load_str(text, "p", format) {
        assert!(!diags.is_empty());
        for d in diags {
            assert!(
                d.line <= line_count(text),
                "{d} beyond {} lines",
                line_count(text)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = load_str(&text, "p", Format::Yaml);
        let _ = load_str(&text, "p", Format::Json);
    }

    #[test]
    fn yaml_like_text_never_panics(text in "[a-z_:{}\\[\\],\\-&*!|>'\" \n0-9.#]{0,300}") {
        check_positions(&text, Format::Yaml);
        check_positions(&text, Format::Json);
    }

    /// Cut, duplicate or overwrite bytes of a valid model: diagnostics, never a panic, and
    /// every position lies inside the text.
    #[test]
    fn mutated_models_give_positioned_diagnostics(
        start in 0usize..SMALL.len(),
        len in 0usize..40,
        insert in "[a-z0-9:\\-\\[\\]{}, \n]{0,12}",
    ) {
        let mut text = SMALL.as_bytes().to_vec();
        let end = (start + len).min(text.len());
        text.splice(start..end, insert.bytes());
        if let Ok(text) = String::from_utf8(text) {
            check_positions(&text, Format::Yaml);
        }
    }

    #[test]
    fn mutated_json_gives_positioned_diagnostics(
        start in 0usize..2000,
        len in 0usize..30,
        insert in "[a-z0-9:\"\\[\\]{}, \n]{0,10}",
    ) {
        let loaded = load_str(SMALL, "s", Format::Yaml);
        prop_assume!(loaded.is_ok());
        let model = loaded.map(|l| l.model).unwrap_or_default();
        let json = serde_json::to_string_pretty(&model).unwrap_or_default();
        let mut bytes = json.into_bytes();
        let start = start.min(bytes.len());
        let end = (start + len).min(bytes.len());
        bytes.splice(start..end, insert.bytes());
        if let Ok(text) = String::from_utf8(bytes) {
            check_positions(&text, Format::Json);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn generated_models_always_validate(seed in any::<u64>(), assets in 0usize..1500) {
        let m = generate_model(GenOptions::new(assets, seed));
        let d = validate(&m);
        prop_assert!(d.is_empty(), "{:?}", &d[..d.len().min(3)]);
        prop_assert_eq!(m.assets.len(), assets.max(vigie_model::min_assets()));
    }

    #[test]
    fn generated_text_loads(seed in any::<u64>(), assets in 90usize..400, json in any::<bool>()) {
        let format = if json { Format::Json } else { Format::Yaml };
        let mut buf = Vec::new();
        let written = generate(GenOptions::new(assets, seed), format, &mut buf);
        prop_assert!(written.is_ok());
        let text = String::from_utf8(buf).unwrap_or_default();
        let loaded = load_str(&text, "g", format);
        prop_assert!(loaded.is_ok(), "{:?}", loaded.err().map(|d| d.into_iter().take(3).collect::<Vec<_>>()));
    }
}
