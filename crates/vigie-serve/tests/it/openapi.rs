//! The OpenAPI document served at `/api/v1/openapi.json`: generated from the code (the
//! same as `ApiDoc::openapi()`), OpenAPI 3.1, every route of the conventions with its
//! methods, auth declared where the route needs a token and not on the open ones.

use serde_json::Value;
use utoipa::OpenApi;
use vigie_serve::api::ApiDoc;

use super::api_harness::{Api, Endpoint as _, Opts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_covers_every_route() {
    let api = Api::start(Opts {
        tokens: true,
        seed: false,
        ..Opts::default()
    })
    .await;
    let (s, doc) = api.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(s, 200);
    let generated = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    assert_eq!(doc, generated, "served = generated from the code");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );

    let routes: &[(&str, &[&str], bool)] = &[
        ("/api/v1/events", &["post"], true),
        ("/api/v1/detections", &["get"], true),
        ("/api/v1/incidents", &["get"], true),
        ("/api/v1/incidents/{id}", &["get", "patch"], true),
        ("/api/v1/rules", &["get"], true),
        ("/api/v1/model", &["get"], true),
        ("/api/v1/model/assets", &["get"], true),
        ("/api/v1/audit", &["get"], true),
        ("/api/v1/admin/reload", &["post"], true),
        ("/api/v1/admin/committer", &["post"], true),
        ("/metrics", &["get"], true),
        ("/healthz", &["get"], false),
        ("/readyz", &["get"], false),
        ("/api/v1/openapi.json", &["get"], false),
    ];
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    assert_eq!(
        paths.len(),
        routes.len(),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, methods, secured) in routes {
        let p = &paths[*path];
        for m in *methods {
            let op = &p[*m];
            assert!(op.is_object(), "{m} {path} documented");
            let sec = op["security"].as_array().map(|s| s.len()).unwrap_or(0);
            assert_eq!(sec > 0, *secured, "{m} {path} security");
            // Every documented error answers with the one error shape.
            for (code, r) in op["responses"].as_object().cloned().unwrap_or_default() {
                if code.starts_with('4') || code.starts_with('5') {
                    let schema = &r["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{m} {path} {code}"
                    );
                }
            }
            if *secured {
                assert!(op["responses"]["401"].is_object(), "{m} {path} 401");
            }
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["basic"]["scheme"], "basic");
    // The wire types are the schemas: a detection carries the hunt fields plus id.
    let schemas = &doc["components"]["schemas"];
    for s in [
        "StoredDetection",
        "Detection",
        "IncidentSummary",
        "IncidentDetail",
        "IngestResult",
        "ErrorBody",
    ] {
        assert!(schemas[s].is_object(), "schema {s}");
    }
    let required: Vec<&str> = schemas["IncidentSummary"]["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for k in [
        "id",
        "state",
        "severity",
        "risk",
        "assets",
        "compromised",
        "detection_count",
        "opened_at",
        "updated_at",
        "version",
    ] {
        assert!(required.contains(&k), "IncidentSummary requires {k}");
    }
}
