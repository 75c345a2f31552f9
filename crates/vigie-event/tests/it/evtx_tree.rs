//! EVTX records are read as `Node` trees (member lists); the field walk over them must
//! give exactly what it gives over the same record as a `serde_json::Value`: every name,
//! every value, in order, and the same time. Checked on every record of the shared EVTX
//! corpus, whose trees must also equal the `evtx` crate's own `Value`s.

use crate::common;

use serde_json::Value;
use vigie_event::{discover, read_input, Event, Format, ReadOptions};

fn walk(e: &Event) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut scratch = String::new();
    e.visit_fields(&mut scratch, &mut |n, v| {
        out.push((n.to_owned(), v.clone()))
    });
    out
}

#[test]
fn node_walk_equals_value_walk_on_every_record() {
    let (inputs, _) = discover(&[common::shared().join("evtx")]);
    let mut records = 0usize;
    for input in inputs.iter().filter(|i| i.format == Format::Evtx) {
        // The crate's own `Value` of each record, to hold the reader's trees to.
        let mut theirs = std::collections::HashMap::new();
        if let Ok(mut p) = evtx::EvtxParser::from_path(&input.path) {
            let p = p.records_json_value();
            for r in p.flatten() {
                theirs.insert(r.event_record_id, r.data);
            }
        }
        let _ = read_input(
            input,
            &ReadOptions::default(),
            &mut |e| {
                let doc = e.doc().into_owned();
                if let Some(t) = theirs.get(&e.record) {
                    assert_eq!(&doc, t, "{} record {}", e.source, e.record);
                    // Same members in the same order, too.
                    assert_eq!(
                        doc.to_string(),
                        t.to_string(),
                        "{} record {}",
                        e.source,
                        e.record
                    );
                }
                let twin = Event::new(e.source.clone(), e.record, doc);
                assert_eq!(e.shape, twin.shape, "{} record {}", e.source, e.record);
                assert_eq!(
                    e.timestamp, twin.timestamp,
                    "{} record {}",
                    e.source, e.record
                );
                assert_eq!(walk(&e), walk(&twin), "{} record {}", e.source, e.record);
                records += 1;
            },
            &mut |_| {},
        );
    }
    assert!(records > 20_000, "{records}");
}
