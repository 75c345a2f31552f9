//! Live threat intelligence in serve: an indicator POSTed to the TAXII `shared`
//! collection detects within 5 s, survives a restart, and a changed `intel` file is
//! used after a reload.

use std::time::{Duration, Instant};

use super::*;

const IP: &str = "198.51.100.77";
const INDICATOR: &str = "indicator--7b1f5a70-2c1e-4f55-9a3e-0d6f2b8c4e11";

/// An event with `ip` as its destination, distinct by `n`, timed now.
fn connection(n: u64, ip: &str) -> Value {
    json!({"@timestamp": vigie_wire::rfc3339(&chrono::Utc::now()), "event": {"code": "conn"},
           "source.ip": "10.1.2.3", "destination.ip": ip, "n": n})
}

async fn post_events(client: &reqwest::Client, url: &str, docs: &[Value]) {
    let body: String = docs.iter().map(|d| format!("{d}\n")).collect();
    let r = client
        .post(format!("{url}/api/v1/events?source=fw01"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 202, "{:?}", r.text().await);
}

/// Whether the loaded rules hold `key` (an indicator is a rule of kind indicator).
fn has_rule(r: &Running, key: &str) -> bool {
    r.state.loaded().rule_metas.iter().any(|m| &*m.key == key)
}

/// The detections of rule `rule` the API lists (ids).
async fn detections_of(client: &reqwest::Client, url: &str, rule: &str) -> Vec<Value> {
    let r = client
        .get(format!("{url}/api/v1/detections?limit=500"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap_or_default();
    v["detections"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d["rule_id"] == rule)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indicator_posted_over_taxii_detects_within_5_s_and_after_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = start(config(dir.path())).await;
    let url = r.url();
    let client = reqwest::Client::new();

    // Before: the address is nothing.
    post_events(&client, &url, &[connection(0, IP)]).await;
    assert!(detections_of(&client, &url, INDICATOR).await.is_empty());

    let envelope = json!({"objects": [{
        "type": "indicator", "spec_version": "2.1", "id": INDICATOR,
        "created": "2025-07-25T08:00:00.000Z", "modified": "2025-07-25T08:00:00.000Z",
        "name": "C2 shared by a peer operator", "confidence": 90,
        "pattern": format!("[ipv4-addr:value = '{IP}']"), "pattern_type": "stix",
        "valid_from": "2025-07-25T08:00:00Z"}]});
    let posted = Instant::now();
    let resp = client
        .post(format!("{url}/taxii2/vigie/collections/shared/objects/"))
        .header("content-type", vigie_intel::taxii::MEDIA_TYPE_TAXII)
        .header("accept", vigie_intel::taxii::MEDIA_TYPE_TAXII)
        .body(envelope.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or_default();
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["success_count"], 1, "{body}");

    // An event holding the value every 100 ms until the detection shows in the API.
    let mut n = 1;
    let found = loop {
        post_events(&client, &url, &[connection(n, IP)]).await;
        let d = detections_of(&client, &url, INDICATOR).await;
        if !d.is_empty() {
            break d;
        }
        assert!(
            posted.elapsed() < Duration::from_secs(5),
            "no detection of {INDICATOR} 5 s after the POST ({n} events sent)"
        );
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let took = posted.elapsed();
    println!("indicator detected {took:?} after the POST ({n} events)");
    assert!(took < Duration::from_secs(5));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["level"], "high", "confidence 90");
    assert_eq!(
        found[0]["rule_title"], "C2 shared by a peer operator",
        "{}",
        found[0]
    );
    assert!(has_rule(&r, INDICATOR), "the indicator is a loaded rule");
    r.shutdown().await.expect("shutdown");

    // The collection is stored: a restart detects with it from the first event.
    let r = start(config(dir.path())).await;
    let url = r.url();
    post_events(&client, &url, &[connection(1000, IP)]).await;
    let d = detections_of(&client, &url, INDICATOR).await;
    assert_eq!(d.len(), 2, "{d:?}");

    // Deleting it from the collection stops the detections.
    let del = client
        .delete(format!(
            "{url}/taxii2/vigie/collections/shared/objects/{INDICATOR}/"
        ))
        .header("accept", vigie_intel::taxii::MEDIA_TYPE_TAXII)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(del.status().as_u16(), 200);
    let t = Instant::now();
    while has_rule(&r, INDICATOR) {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "no reload after the DELETE"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    post_events(&client, &url, &[connection(1001, IP)]).await;
    assert_eq!(detections_of(&client, &url, INDICATOR).await.len(), 2);
    r.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_intel_file_is_used_after_a_reload() {
    let dir = tempfile::tempdir().expect("tmp");
    let list = dir.path().join("bad-ips.txt");
    std::fs::write(&list, "# type: ip\n192.0.2.1\n192.0.2.9\n").expect("write");
    let mut c = config(dir.path());
    c.intel = vec![list.clone()];
    let r = start(c).await;
    let url = r.url();
    let client = reqwest::Client::new();
    // The entries of one list are one rule.
    let rule = vigie_intel::detect::list_rule_key("bad-ips.txt", "bad-ips.txt");

    post_events(
        &client,
        &url,
        &[connection(1, "192.0.2.1"), connection(2, "192.0.2.2")],
    )
    .await;
    assert_eq!(detections_of(&client, &url, &rule).await.len(), 1);

    std::fs::write(&list, "# type: ip\n192.0.2.1\n192.0.2.9\n192.0.2.2\n").expect("rewrite");
    let v = r.reload().await.expect("reload");
    assert_eq!(v["intel"]["indicators"], 3, "{v}");
    post_events(&client, &url, &[connection(3, "192.0.2.2")]).await;
    let d = detections_of(&client, &url, &rule).await;
    assert_eq!(d.len(), 2, "{d:?}");
    r.shutdown().await.expect("shutdown");
}
