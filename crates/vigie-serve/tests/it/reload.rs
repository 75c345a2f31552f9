//! Reload (SIGHUP, `POST /api/v1/admin/reload`): rules and model again, correlation
//! state rebuilt from the store, nothing lost.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_correlation_state() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = start(config(dir.path())).await;
    let first: Vec<RawEvent> = (0..4)
        .map(|i| failed_logon(i + 1, i as i64 * 10, "mallory"))
        .collect();
    submit(&r, "http", first).await;
    let v = r.reload().await.expect("reload");
    assert!(
        v["rules"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")),
        "{v}"
    );
    submit(&r, "http", vec![failed_logon(5, 40, "mallory")]).await;
    submit(&r, "http", vec![logon(100, 100, "alice", 4624)]).await;
    let hits = correlation_hits(&r);
    assert_eq!(hits.len(), 1, "{hits:?}");
    r.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reload_keeps_what_runs() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = config(dir.path());
    let model = dir.path().join("model.yaml");
    std::fs::write(&model, vigie_model::DEMO_YAML).expect("write");
    c.model = Some(model.clone());
    let r = start(c).await;
    std::fs::write(&model, "assets: [unclosed").expect("break it");
    let e = r.reload().await.expect_err("refused");
    assert!(e.contains("model"), "{e}");
    // Still serving on what was loaded.
    let out = submit(&r, "http", vec![logon(7, 0, "adm", 1102)]).await;
    assert_eq!(out.accepted, 1);
    assert_eq!(all_detections(&r).len(), 1);
    r.shutdown().await.expect("shutdown");
}
