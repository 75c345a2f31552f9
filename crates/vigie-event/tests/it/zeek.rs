//! Zeek logs: the TSV and JSON samples read like any input (sniffed, gzip, errors by
//! line, `_path` from the header or the shape), TSV values written with Zeek's escaping
//! come back as they were, and arbitrary lines never panic.

use proptest::prelude::*;
use serde_json::{json, Value};
use vigie_event::zeek::{json_record, parse_tsv};
use vigie_event::{discover, Format, Position, ReadErrorKind, ReadOptions};

use crate::common::{gz, read_all};

fn data(name: &str) -> std::path::PathBuf {
    vigie_test_support::repo_root()
        .join("crates/vigie-event/tests/data")
        .join(name)
}

#[test]
fn samples_are_sniffed_and_typed() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["zeek.log", "zeek.json"] {
        let bytes = std::fs::read(data(name)).unwrap();
        std::fs::write(dir.path().join(name), &bytes).unwrap();
        std::fs::write(dir.path().join(format!("{name}.gz")), gz(&bytes)).unwrap();
    }
    let (inputs, errors) = discover(&[dir.path().to_path_buf()]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(inputs.len(), 4);
    for input in &inputs {
        let tsv = input.name.contains("zeek.log");
        let want = if tsv {
            Format::ZeekTsv
        } else {
            Format::ZeekJson
        };
        assert_eq!(input.format, want, "{}", input.name);
        let out = read_all(input, &ReadOptions::default());
        let stats = out.result.unwrap();
        let bad: Vec<(Position, ReadErrorKind)> =
            out.errors.iter().map(|e| (e.position, e.kind)).collect();
        if tsv {
            assert_eq!((stats.events, stats.skipped), (40, 2));
            assert_eq!(
                bad,
                [32, 55].map(|l| (Position::Line(l), ReadErrorKind::BadZeek))
            );
        } else {
            assert_eq!((stats.events, stats.skipped), (40, 3));
            assert_eq!(
                bad,
                [
                    (Position::Line(8), ReadErrorKind::BadJson),
                    (Position::Line(16), ReadErrorKind::NotAnObject),
                    (Position::Line(43), ReadErrorKind::BadJson)
                ]
            );
        }
        let mut logs: Vec<String> = out
            .events
            .iter()
            .map(|e| e.doc()["_path"].as_str().unwrap_or("?").to_string())
            .collect();
        logs.dedup();
        assert_eq!(
            logs,
            [
                "conn",
                "dns",
                "http",
                "ssl",
                "x509",
                "files",
                "smb_mapping",
                "smb_files",
                "dce_rpc",
                "kerberos",
                "rdp",
                "ssh"
            ],
            "{}",
            input.name
        );
        let conn = out.events[0].doc();
        assert_eq!(conn["id.resp_p"], 53);
        assert_eq!(conn["local_orig"], true);
        assert_eq!(conn["tunnel_parents"], json!([]));
        assert_eq!(
            out.events[0].timestamp.unwrap().to_rfc3339(),
            "2025-12-02T08:00:07.250+00:00"
        );
        // Unset fields are left out; `\x5c` is a backslash.
        assert!(out.events[3].doc().get("duration").is_none());
        let smb = out
            .events
            .iter()
            .find(|e| e.doc()["name"] == "atsvc")
            .expect("atsvc");
        assert_eq!(smb.doc()["path"], r"\\*\IPC$");
        let dns = out
            .events
            .iter()
            .find(|e| e.doc()["query"] == "corp.local")
            .expect("mx query");
        assert_eq!(dns.doc()["answers"], json!(["mail.corp.local"]));
        assert_eq!(dns.doc()["TTLs"], json!([3600.0]));
    }
}

/// A string as Zeek's ASCII writer writes it: separators, backslashes and unprintable
/// bytes as `\xHH`; the unset and empty markers escaped too.
fn escaped(s: &str) -> String {
    if s.is_empty() {
        return "(empty)".into();
    }
    if s == "-" {
        return "\\x2d".into();
    }
    let mut out = String::new();
    for ch in s.chars() {
        if ch == '\t' || ch == ',' || ch == '\\' || ch.is_control() {
            for b in ch.to_string().bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            out.push(ch);
        }
    }
    out
}

proptest! {
    #[test]
    fn arbitrary_lines_never_panic(line in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut tsv = b"#separator \\x09\n#fields\ta\tb\n#types\tcount\tset[string]\n".to_vec();
        tsv.extend_from_slice(&line);
        let _ = parse_tsv(&tsv);
        let _ = parse_tsv(&line);
        let _ = json_record(&line);
    }

    /// Strings, counts, doubles and sets written as Zeek writes them read back the same.
    #[test]
    fn tsv_round_trip(
        name in "[ -~\t,\\\\\u{e9}\u{1}]{0,16}",
        tags in prop::collection::vec("[a-z,\\\\]{1,6}", 0..4),
        port in any::<u16>(),
        bytes in any::<u64>(),
        // Zeek's own precision is microseconds; multiples of 1/1024 print and parse exactly.
        rtt in (0u32..1 << 20).prop_map(|n| f64::from(n) / 1024.0),
    ) {
        let set = if tags.is_empty() {
            "(empty)".to_string()
        } else {
            tags.iter().map(|t| escaped(t)).collect::<Vec<_>>().join(",")
        };
        let text = format!(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tx\n\
             #fields\tname\ttags\tid.resp_p\tbytes\trtt\tgone\n\
             #types\tstring\tset[string]\tport\tcount\tinterval\tstring\n\
             {}\t{set}\t{port}\t{bytes}\t{rtt:?}\t-\n",
            escaped(&name)
        );
        let (docs, errs) = parse_tsv(text.as_bytes());
        prop_assert!(errs.is_empty(), "{:?}", errs);
        let want = json!({
            "_path": "x", "name": name, "tags": tags, "id.resp_p": port, "bytes": bytes, "rtt": rtt
        });
        prop_assert_eq!(&docs[0], &want);
        // The same record as Zeek JSON, by shape: no `_path` for an unknown log.
        let mut obj = want.clone();
        if let Value::Object(m) = &mut obj {
            m.remove("_path");
            m.insert("ts".into(), json!(1.5));
        }
        let back = json_record(obj.to_string().as_bytes()).unwrap();
        prop_assert_eq!(back, obj);
    }
}
