//! TAXII collections: object versions, dates added, duplicates, filters by id and type,
//! deletes, status resources, and all of it after reopening the store.

use serde_json::json;
use vigie_store::*;

use crate::support::*;

fn obj(id: &str, ty: &str, modified: Option<i64>) -> TaxiiNewObject {
    let version = modified.map(t);
    TaxiiNewObject {
        id: id.into(),
        object_type: ty.into(),
        version,
        version_text: version.map(rfc3339),
        spec_version: "2.1".into(),
        document: json!({"type": ty, "id": id, "modified": version.map(rfc3339)}),
    }
}

const A: &str = "indicator--11111111-1111-4111-8111-111111111111";
const B: &str = "malware--22222222-2222-4222-8222-222222222222";
const C: &str = "ipv4-addr--33333333-3333-5333-8333-333333333333";

pub fn versions_and_dates(b: &Backend) {
    let s = &b.store;
    let out = s
        .taxii_add(
            "shared",
            &[
                obj(A, "indicator", Some(1)),
                obj(A, "indicator", Some(2)),
                obj(B, "malware", Some(1)),
            ],
            None,
        )
        .unwrap();
    assert!(out.iter().all(|o| matches!(o, TaxiiAdded::Added(_))));
    // The same version again is a duplicate; a new one is added; an SCO without a
    // version takes its date added.
    let out = s
        .taxii_add(
            "shared",
            &[
                obj(A, "indicator", Some(2)),
                obj(A, "indicator", Some(3)),
                obj(C, "ipv4-addr", None),
            ],
            None,
        )
        .unwrap();
    assert_eq!(out[0], TaxiiAdded::Duplicate);
    let TaxiiAdded::Added(c_added) = out[2] else {
        panic!("{out:?}")
    };
    let rows = s.taxii_objects("shared", &[], &[]).unwrap();
    assert_eq!(rows.len(), 5);
    // Strictly increasing dates added, in order.
    for w in rows.windows(2) {
        assert!(w[0].date_added < w[1].date_added, "{w:?}");
    }
    let c = rows.iter().find(|r| r.id == C).unwrap();
    assert_eq!((c.version, c.date_added), (c_added, c_added));
    assert_eq!(c.version_text, rfc3339(c_added));
    let a2 = rows
        .iter()
        .find(|r| r.id == A && r.version == t(2))
        .unwrap();
    assert_eq!(a2.version_text, rfc3339(t(2)));
    assert_eq!(a2.document["id"], A);
    // Another collection is apart.
    assert!(s.taxii_objects("incidents", &[], &[]).unwrap().is_empty());
    s.taxii_add("incidents", &[obj(A, "indicator", Some(2))], None)
        .unwrap();
    assert_eq!(
        s.taxii_counts().unwrap(),
        vec![("incidents".to_string(), 1), ("shared".to_string(), 5)]
    );
}

pub fn filters_and_delete(b: &Backend) {
    let s = &b.store;
    s.taxii_add(
        "shared",
        &[
            obj(A, "indicator", Some(1)),
            obj(A, "indicator", Some(2)),
            obj(B, "malware", Some(1)),
            obj(C, "ipv4-addr", None),
        ],
        None,
    )
    .unwrap();
    let ids = |rows: Vec<TaxiiObjectRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.taxii_objects("shared", &[A.into()], &[]).unwrap()),
        vec![A, A]
    );
    assert_eq!(
        ids(s
            .taxii_objects("shared", &[], &["malware".into(), "ipv4-addr".into()])
            .unwrap()),
        vec![B, C]
    );
    assert!(s
        .taxii_objects("shared", &[B.into()], &["indicator".into()])
        .unwrap()
        .is_empty());
    let first_a = s.taxii_objects("shared", &[A.into()], &[]).unwrap()[0].seq;
    assert_eq!(s.taxii_delete("shared", &[first_a]).unwrap(), 1);
    assert_eq!(
        s.taxii_delete("incidents", &[first_a]).unwrap(),
        0,
        "scoped"
    );
    let left = s.taxii_objects("shared", &[A.into()], &[]).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].version, t(2));
}

pub fn status_and_reopen(b: &Backend) {
    let s = &b.store;
    let status = TaxiiStatusRow {
        id: "2d086da7-4bdc-4f91-900e-d77486753710".into(),
        collection: "shared".into(),
        request_timestamp: t(7),
        document: json!({"id": "2d086da7-4bdc-4f91-900e-d77486753710", "status": "complete"}),
    };
    s.taxii_add("shared", &[obj(A, "indicator", Some(1))], Some(&status))
        .unwrap();
    assert_eq!(s.taxii_status(&status.id).unwrap(), Some(status.clone()));
    assert_eq!(s.taxii_status("nope").unwrap(), None);
    let mut changed = status.clone();
    changed.document["status"] = json!("pending");
    s.taxii_save_status(&changed).unwrap();
    assert_eq!(s.taxii_status(&status.id).unwrap(), Some(changed.clone()));
    let before = s.taxii_objects("shared", &[], &[]).unwrap();
    s.checkpoint().unwrap();
    let again = Store::open(&b.spec).unwrap();
    assert_eq!(again.taxii_objects("shared", &[], &[]).unwrap(), before);
    assert_eq!(again.taxii_status(&status.id).unwrap(), Some(changed));
    // Dates added keep increasing after a reopen.
    again
        .taxii_add("shared", &[obj(B, "malware", Some(1))], None)
        .unwrap();
    let rows = again.taxii_objects("shared", &[], &[]).unwrap();
    assert!(rows[0].date_added < rows[1].date_added);
}
