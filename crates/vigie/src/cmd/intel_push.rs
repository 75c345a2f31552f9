//! `vigie intel push`: STIX objects from a file added to a TAXII 2.1 collection, the
//! status polled until complete. The client is `vigie_intel::taxii::client`; the report
//! is `vigie_wire::v1::taxii_client::PushReport`, rendered by
//! `vigie_render::taxii_client::push`. Documented in docs/taxii-client.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;
use vigie_intel::taxii::client;
use vigie_wire::v1::taxii_client as wire;

use super::intel_pull::{check_api_root, AuthArgs, Format};

const AFTER_HELP: &str = "\
URL is a TAXII 2.1 API root (https://host/api1/). FILE holds a STIX bundle, a JSON array
of STIX objects, or a TAXII envelope ({\"objects\": [...]}). Entries that are not objects
with a string id and type are not sent (each reported with its JSON pointer); the others
are posted in envelopes under the API root's max_content_length, and each status is read
again every --poll seconds until it is complete or --wait has passed. The summary gives
the final success, failure and pending counts and each object the server refused.

The password may come from VIGIE_TAXII_PASSWORD (and the user from VIGIE_TAXII_USER),
so it stays out of the shell history.

Exit status: 0 every object was added; 1 the server could not be reached or refused the
credentials or the request, an object failed, or some were still pending after --wait;
2 bad arguments, or FILE unreadable or with no object to send.

Examples:
  vigie intel push https://cti.example/api1/ --collection 91a7b528-80eb-42ed-a74d-c6fbd5a26116 bundle.json
  VIGIE_TAXII_PASSWORD=... vigie intel push https://cti.example/api1/ --user soc --collection shared iocs.json
  vigie intel export -o bundle.json && vigie intel push http://127.0.0.1:8080/taxii2/vigie/ --collection shared bundle.json";

#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The API root (https://host/api1/).
    #[arg(value_name = "URL")]
    pub url: String,
    /// The collection to add to (id or alias).
    #[arg(long, value_name = "ID")]
    pub collection: String,
    /// A STIX bundle, a JSON array of objects or a TAXII envelope.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Seconds to wait for each status to be complete.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub wait: u64,
    /// Seconds between two reads of a pending status.
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub poll: f64,
    /// Seconds each request may take.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
    /// Output format: text for people, JSON (docs/taxii-client.md) for programs.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// The objects of a bundle, an array or an envelope; entries that cannot be sent, with
/// their JSON pointer and why.
pub fn objects_of(doc: Value) -> Result<(Vec<Value>, Vec<wire::RefusedObject>), String> {
    let (items, prefix) = match doc {
        Value::Array(a) => (a, ""),
        Value::Object(mut m) => {
            let is_bundle = m.get("type").and_then(Value::as_str) == Some("bundle");
            match m.remove("objects") {
                Some(Value::Array(a)) => (a, "/objects"),
                Some(_) => return Err("/objects: not an array".to_string()),
                None if is_bundle => (Vec::new(), "/objects"),
                None => {
                    return Err(
                        "not a bundle, an array of objects nor an envelope (no \"objects\")"
                            .to_string(),
                    )
                }
            }
        }
        _ => {
            return Err("not a bundle, an array of objects nor an envelope".to_string());
        }
    };
    let mut ok = Vec::with_capacity(items.len());
    let mut refused = Vec::new();
    for (i, o) in items.into_iter().enumerate() {
        let reason = if !o.is_object() {
            Some("not a JSON object")
        } else if o.get("id").and_then(Value::as_str).is_none() {
            Some("no string id")
        } else if o.get("type").and_then(Value::as_str).is_none() {
            Some("no string type")
        } else {
            None
        };
        match reason {
            Some(r) => refused.push(wire::RefusedObject {
                pointer: format!("{prefix}/{i}"),
                reason: r.to_string(),
            }),
            None => ok.push(o),
        }
    }
    Ok((ok, refused))
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if !a.poll.is_finite() || a.poll <= 0.0 {
        anyhow::bail!("--poll {}: a positive number of seconds", a.poll);
    }
    let text = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    let doc: Value = serde_json::from_slice(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: not JSON: {e}",
            a.file.display(),
            e.line(),
            e.column()
        )
    })?;
    let (objects, refused) =
        objects_of(doc).map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    for r in &refused {
        eprintln!(
            "warning: {} {}: {}, not sent",
            a.file.display(),
            r.pointer,
            r.reason
        );
    }
    if objects.is_empty() {
        anyhow::bail!("{}: no STIX object to send", a.file.display());
    }
    let api_root = client::parse_url(&a.url)?.to_string();
    let c = super::intel_pull::client(&a.auth, a.timeout)?;
    // one request checks URL and credentials, and resolves an alias
    let collection = match check_api_root(&c, &api_root).and_then(|_| c.collections(&api_root)) {
        Ok(listed) => listed
            .iter()
            .find(|col| col.id == a.collection || col.alias.as_deref() == Some(&a.collection))
            .map(|col| col.id.clone())
            .unwrap_or_else(|| a.collection.clone()),
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let outcome = match client::push_objects(
        &c,
        &api_root,
        &collection,
        &objects,
        Duration::from_secs_f64(a.poll),
        Duration::from_secs(a.wait),
    ) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let failures: Vec<wire::StatusObject> = outcome
        .statuses
        .iter()
        .flat_map(|s| s.status.failures.iter())
        .map(|f| wire::StatusObject {
            id: f.id.clone(),
            version: f.version.clone(),
            message: f.message.clone(),
        })
        .collect();
    let report = wire::PushReport {
        schema: vigie_wire::SCHEMA_VERSION.to_string(),
        api_root: api_root.clone(),
        collection,
        file: a.file.display().to_string(),
        sent: objects.len() as u64,
        refused,
        envelopes: outcome.statuses.len() as u64,
        status_ids: outcome
            .statuses
            .iter()
            .map(|s| s.status.id.clone())
            .collect(),
        status: if outcome
            .statuses
            .iter()
            .all(|s| s.status.status == "complete")
        {
            "complete".to_string()
        } else {
            "pending".to_string()
        },
        total: outcome.total(),
        success: outcome.successes(),
        failure: outcome.failures(),
        pending: outcome.pendings(),
        failures,
        polls: outcome.statuses.iter().map(|s| u64::from(s.polls)).sum(),
    };
    match a.format {
        Format::Text => print!("{}", vigie_render::taxii_client::push(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    if outcome.timed_out() {
        eprintln!(
            "error: status still pending after {} s (raise --wait, or read it later: {}status/<id>/)",
            a.wait, api_root
        );
    }
    Ok(
        if report.failure > 0 || report.pending > 0 || outcome.timed_out() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bundles_arrays_and_envelopes_with_pointers() {
        let (ok, refused) = objects_of(json!({"type": "bundle", "id": "bundle--1", "objects": [
            {"type": "indicator", "id": "indicator--1"}, 3, {"type": "x"}
        ]}))
        .unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(refused.len(), 2);
        assert_eq!(refused[0].pointer, "/objects/1");
        assert_eq!(refused[1].reason, "no string id");
        let (ok, refused) =
            objects_of(json!([{"id": "a--1"}, {"type": "t", "id": "t--1"}])).unwrap();
        assert_eq!((ok.len(), refused[0].pointer.as_str()), (1, "/0"));
        assert!(objects_of(json!({"type": "indicator"})).is_err());
        assert!(objects_of(json!("x")).is_err());
    }
}
