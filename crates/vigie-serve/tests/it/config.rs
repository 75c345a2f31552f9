//! Start-up checks of the config: positioned errors, the loopback rule.

use super::*;

#[test]
fn a_bad_file_names_its_position() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("serve.toml");
    std::fs::write(&f, "listen = \"127.0.0.1:0\"\n\n[ingest]\nqueue = 5\n").expect("write");
    let e = Config::load(Some(&f), &|_| None, &Default::default()).expect_err("unknown key");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("{}:4:1: ", f.display())),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_needs_a_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = config(dir.path());
    c.listen = "0.0.0.0:0".parse().expect("addr");
    let e = server::start(c, DEFAULTS).await.err().expect("refused");
    assert!(e.to_string().contains("refusing to listen"), "{e}");
}
