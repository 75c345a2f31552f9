//! Tokens and roles over HTTP: 401 without or with an unknown token (with
//! `WWW-Authenticate`), 403 for the wrong role, Bearer and Basic, the token's name in
//! history and audit, open routes, tokens added while running, open mode on loopback.

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use vigie_serve::api::auth::{hash_token, new_token};

use super::api_harness::{t, Api, Endpoint as _, Opts};

async fn status(api: &Api, m: Method, path: &str, role: Option<&str>, body: Option<Value>) -> u16 {
    let mut r = api.req(m, path, role);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_decide_what_each_token_may_do() {
    let api = Api::start(Opts {
        tokens: true,
        ..Opts::default()
    })
    .await;
    let inc = format!("/api/v1/incidents/{}", api.incidents[0]);
    let ack = Some(json!({"state": "acknowledged"}));
    let event = Some(json!({"EventID": 1}));
    // (method, path, body, roles allowed among viewer, analyst, ingest, admin)
    let table: Vec<(Method, &str, Option<Value>, [bool; 4])> = vec![
        (
            Method::GET,
            "/api/v1/detections",
            None,
            [true, true, false, true],
        ),
        (
            Method::GET,
            "/api/v1/incidents",
            None,
            [true, true, false, true],
        ),
        (Method::GET, &inc, None, [true, true, false, true]),
        (
            Method::GET,
            "/api/v1/rules",
            None,
            [true, true, false, true],
        ),
        (
            Method::GET,
            "/api/v1/model",
            None,
            [true, true, false, true],
        ),
        (
            Method::GET,
            "/api/v1/model/assets",
            None,
            [true, true, false, true],
        ),
        (Method::GET, "/metrics", None, [true, true, false, true]),
        (Method::PATCH, &inc, ack.clone(), [false, true, false, true]),
        (
            Method::POST,
            "/api/v1/events",
            event.clone(),
            [false, false, true, true],
        ),
        (
            Method::GET,
            "/api/v1/audit",
            None,
            [false, false, false, true],
        ),
        (
            Method::POST,
            "/api/v1/admin/reload",
            None,
            [false, false, false, true],
        ),
        (
            Method::POST,
            "/api/v1/admin/committer",
            Some(json!({"paused": false})),
            [false, false, false, true],
        ),
    ];
    for (m, path, body, allowed) in &table {
        for (role, ok) in ["viewer", "analyst", "ingest", "admin"]
            .into_iter()
            .zip(allowed)
        {
            let s = status(&api, m.clone(), path, Some(role), body.clone()).await;
            let want = if *ok { [200, 202] } else { [403, 403] };
            assert!(want.contains(&s), "{m} {path} as {role}: {s}");
        }
        // No token: 401 with a challenge.
        let mut r = api.req(m.clone(), path, None);
        if let Some(b) = body {
            r = r.json(b);
        }
        let r = r.send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status().as_u16(), 401, "{m} {path} without token");
        assert!(r
            .headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().unwrap_or("").contains("Bearer")));
        let v: Value = r.json().await.unwrap_or_default();
        assert_eq!(v["error"]["code"], "unauthorized");
    }
    // Unknown token: 401. Open routes need none.
    let r = api
        .client
        .get(api.url("/api/v1/incidents"))
        .bearer_auth("vigie_nope")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 401);
    for p in ["/healthz", "/readyz", "/api/v1/openapi.json"] {
        assert_eq!(status(&api, Method::GET, p, None, None).await, 200, "{p}");
    }
    // Basic with the token as password, any user.
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("taxii:{}", api.tokens["viewer"]));
    let r = api
        .client
        .get(api.url("/api/v1/incidents"))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    // The changes carry the token's name: history and audit.
    let (_, d) = api.get_json(&inc, Some("viewer")).await;
    let h = d["history"].as_array().cloned().unwrap_or_default();
    assert!(
        h.iter()
            .any(|l| l["actor"] == "analyst-token" && l["action"] == "acknowledged"),
        "{h:?}"
    );
    let (_, a) = api.get_json("/api/v1/audit", Some("admin")).await;
    let actors: Vec<&str> = a["entries"]
        .as_array()
        .map(|e| e.iter().filter_map(|l| l["actor"].as_str()).collect())
        .unwrap_or_default();
    for want in ["analyst-token", "admin-token"] {
        assert!(actors.contains(&want), "{want} in {actors:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_added_while_running_is_taken() {
    let api = Api::start(Opts {
        tokens: true,
        seed: false,
        ..Opts::default()
    })
    .await;
    let secret = new_token();
    api.store
        .add_token(&vigie_store::TokenRow {
            name: "late".into(),
            role: "viewer".into(),
            hash: hash_token(&secret),
            created_at: t(0),
        })
        .unwrap_or_else(|e| panic!("{e}"));
    // The table is re-read at most once a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = api
        .client
        .get(api.url("/api/v1/incidents"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_without_tokens_on_loopback_only() {
    let api = Api::start(Opts::default()).await;
    assert!(api.state.auth.is_open());
    assert_eq!(
        status(&api, Method::GET, "/api/v1/audit", None, None).await,
        200
    );
    let err = api.state.auth.check_listen(([0, 0, 0, 0], 8080).into());
    assert!(
        err.as_ref().is_err_and(|e| e.contains("token add")),
        "{err:?}"
    );
    assert!(api
        .state
        .auth
        .check_listen(([127, 0, 0, 1], 8080).into())
        .is_ok());
    assert!(api
        .state
        .auth
        .check_listen("[::1]:8080".parse().unwrap_or_else(|e| panic!("{e}")))
        .is_ok());
}
