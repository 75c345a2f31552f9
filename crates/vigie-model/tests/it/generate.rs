//! The generator makes valid models of the requested size, deterministically.

use vigie_model::{generate, generate_model, load_str, min_assets, validate, Format, GenOptions};

fn errors(m: &vigie_model::Model) -> Vec<String> {
    validate(m).into_iter().map(|d| d.to_string()).collect()
}

#[test]
fn exact_size_and_valid() {
    for n in [min_assets(), min_assets() + 1, 500, 1000, 2500] {
        let m = generate_model(GenOptions { assets: n, seed: 7 });
        assert_eq!(m.assets.len(), n, "size {n}");
        assert!(errors(&m).is_empty(), "{:?}", errors(&m));
    }
}

#[test]
fn small_request_gives_one_site() {
    let m = generate_model(GenOptions { assets: 3, seed: 1 });
    assert_eq!(m.assets.len(), min_assets());
}

#[test]
fn written_text_loads_back_identically() {
    let opts = GenOptions {
        assets: 700,
        seed: 42,
    };
    let expected = generate_model(opts);
    for format in [Format::Json, Format::Yaml] {
        let mut buf = Vec::new();
        let sum = generate(opts, format, &mut buf).unwrap_or_default();
        assert_eq!(sum.assets, 700);
        let text = String::from_utf8(buf).unwrap_or_default();
        let loaded = match load_str(&text, "gen", format) {
            Ok(l) => l,
            Err(d) => panic!("{format:?}: {:?}", &d[..d.len().min(5)]),
        };
        assert_eq!(loaded.model, expected, "{format:?}");
    }
}

#[test]
fn deterministic_per_seed() {
    let a = generate_model(GenOptions {
        assets: 400,
        seed: 3,
    });
    let b = generate_model(GenOptions {
        assets: 400,
        seed: 3,
    });
    let c = generate_model(GenOptions {
        assets: 400,
        seed: 4,
    });
    assert_eq!(a, b);
    assert_ne!(a, c);
}
