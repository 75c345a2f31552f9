//! HTTPS with rustls (ring): a self-signed certificate from `Config.tls` PEM files,
//! a client trusting it; plain HTTP on the same port is refused; bad PEM files are
//! named in the error.

use std::path::Path;

use vigie_serve::api::tls::server_config;
use vigie_serve::config::TlsConfig;

use super::api_harness::{Api, Endpoint as _, Opts};

fn self_signed(dir: &Path) -> TlsConfig {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let c = rcgen::generate_simple_self_signed(names).unwrap_or_else(|e| panic!("rcgen: {e}"));
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, c.cert.pem()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&key, c.key_pair.serialize_pem()).unwrap_or_else(|e| panic!("{e}"));
    TlsConfig { cert, key }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_configured_certificate() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let tls = self_signed(dir.path());
    let api = Api::start(Opts {
        tls: Some(tls),
        ..Opts::default()
    })
    .await;
    assert!(api.base.starts_with("https://localhost:"));
    let (s, v) = api.get_json("/healthz", None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
    let (s, v) = api.get_json("/api/v1/incidents", None).await;
    assert_eq!(s, 200, "{v}");
    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = api.base.replace("https://", "http://");
    let r = reqwest::Client::new()
        .get(format!("{plain}/healthz"))
        .send()
        .await;
    assert!(r.map(|r| r.status().as_u16()).unwrap_or(0) != 200);
    // A client that does not trust the certificate is refused.
    let r = reqwest::Client::new().get(api.url("/healthz")).send().await;
    assert!(r.is_err(), "untrusted certificate accepted");
}

#[test]
fn bad_pem_files_are_named() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let good = self_signed(dir.path());
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap_or_else(|e| panic!("{e}"));
    let cases = [
        TlsConfig {
            cert: dir.path().join("missing.pem"),
            key: good.key.clone(),
        },
        TlsConfig {
            cert: junk.clone(),
            key: good.key.clone(),
        },
        TlsConfig {
            cert: good.cert.clone(),
            key: junk.clone(),
        },
    ];
    for c in cases {
        let e = server_config(&c).map(|_| ()).map_err(|e| e.to_string());
        let named = [&c.cert, &c.key].iter().any(|p| {
            e.as_ref()
                .is_err_and(|m| m.contains(&p.display().to_string()))
        });
        assert!(named, "{c:?}: {e:?}");
    }
    assert!(server_config(&good).is_ok());
}
