//! CEF, LEEF and access logs (web server and proxy): the samples read like any input
//! (sniffed from content, gzip, errors by line), CEF/LEEF inside syslog give the same
//! fields with the syslog header kept, values written with each format's escaping come
//! back as they were, and arbitrary lines never panic.

use proptest::prelude::*;
use serde_json::Value;
use vigie_event::{cef, leef, weblog};
use vigie_event::{discover, Format, Position, ReadErrorKind, ReadOptions};

use crate::common::{gz, read_all};

fn data(name: &str) -> std::path::PathBuf {
    vigie_test_support::repo_root()
        .join("crates/vigie-event/tests/data")
        .join(name)
}

/// (sample, format, events, damaged lines, kind, `_source` values seen in order).
type Sample = (
    &'static str,
    Format,
    u64,
    &'static [u64],
    ReadErrorKind,
    &'static [&'static str],
);

const SAMPLES: &[Sample] = &[
    (
        "cef.log",
        Format::Cef,
        25,
        &[26, 27, 28],
        ReadErrorKind::BadCef,
        &["cef"],
    ),
    (
        "leef.log",
        Format::Leef,
        25,
        &[26, 27, 28],
        ReadErrorKind::BadLeef,
        &["leef"],
    ),
    (
        "access.log",
        Format::AccessLog,
        39,
        &[40, 41, 42, 43],
        ReadErrorKind::BadAccessLog,
        &["webserver"],
    ),
    (
        "squid-access.log",
        Format::AccessLog,
        40,
        &[41, 42, 43],
        ReadErrorKind::BadAccessLog,
        &["proxy"],
    ),
];

#[test]
fn samples_are_sniffed_and_read() {
    let dir = tempfile::tempdir().unwrap();
    for (name, ..) in SAMPLES {
        let bytes = std::fs::read(data(name)).unwrap();
        // Names that say nothing: the format comes from the content.
        std::fs::write(dir.path().join(format!("{name}.txt")), &bytes).unwrap();
        std::fs::write(dir.path().join(format!("{name}.txt.gz")), gz(&bytes)).unwrap();
    }
    let (inputs, errors) = discover(&[dir.path().to_path_buf()]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(inputs.len(), 2 * SAMPLES.len());
    for input in &inputs {
        let (_, format, events, bad, kind, sources) = SAMPLES
            .iter()
            .find(|s| input.name.contains(&format!("/{}.txt", s.0)))
            .unwrap();
        assert_eq!(input.format, *format, "{}", input.name);
        let out = read_all(input, &ReadOptions::default());
        let stats = out.result.unwrap();
        assert_eq!(
            (stats.events, stats.skipped),
            (*events, bad.len() as u64),
            "{}",
            input.name
        );
        let got: Vec<(Position, ReadErrorKind)> =
            out.errors.iter().map(|e| (e.position, e.kind)).collect();
        let want: Vec<(Position, ReadErrorKind)> =
            bad.iter().map(|l| (Position::Line(*l), *kind)).collect();
        assert_eq!(got, want, "{}", input.name);
        let mut seen: Vec<String> = out
            .events
            .iter()
            .map(|e| e.doc()["_source"].as_str().unwrap_or("?").to_string())
            .collect();
        seen.dedup();
        assert_eq!(&seen, sources, "{}", input.name);
        // Every event has its time.
        assert!(
            out.events.iter().all(|e| e.timestamp.is_some())
                || matches!(format, Format::Cef | Format::Leef),
            "{}",
            input.name
        );
    }
}

fn doc_of(name: &str, line: u64) -> Value {
    let (inputs, _) = discover(&[data(name)]);
    let out = read_all(&inputs[0], &ReadOptions::default());
    out.events
        .into_iter()
        .find(|e| e.record == line)
        .map(|e| e.doc().into_owned())
        .unwrap()
}

#[test]
fn field_names() {
    let d = doc_of("cef.log", 21);
    assert_eq!(d["deviceVendor"], "Fortinet");
    assert_eq!(d["deviceProduct"], "FortiGate");
    assert_eq!(d["signatureId"], "0000000013");
    assert_eq!(d["name"], "traffic:forward accept");
    assert_eq!(d["severity"], "3");
    assert_eq!((&d["dpt"], &d["dst_port"]), (&"23".into(), &"23".into()));
    assert_eq!(
        (&d["act"], &d["action"]),
        (&"accept".into(), &"accept".into())
    );
    assert_eq!(d["timestamp"], "2025-12-02T09:00:01Z");
    let d = doc_of("cef.log", 6);
    assert_eq!(d["suser"], r"corp\jdupont");
    assert_eq!(d["duser"], "");
    assert_eq!(d["cs3"], "vsys1");
    assert_eq!(d["cs3Label"], "Virtual System");
    assert_eq!(d["timestamp"], "2025-12-02T08:00:06Z");
    let d = doc_of("leef.log", 5);
    assert_eq!(d["leefVersion"], "2.0");
    assert_eq!(d["eventId"], "allow");
    assert_eq!(d["usrName"], r"corp\jdupont");
    assert_eq!(d["src_port"], "55102");
    assert_eq!(d["ReceiveTime"], "2025/12/02 08:00:04");
    let d = doc_of("leef.log", 10);
    assert_eq!(d["policy"], "MFA required");
    let d = doc_of("access.log", 37);
    assert_eq!(d["cs-method"], "POST");
    assert_eq!(
        d["cs-uri-query"],
        "/uploads/tunnel.jsp?cmd=connect&target=10.20.0.15&port=3389"
    );
    assert_eq!(d["cs-uri-stem"], "/uploads/tunnel.jsp");
    assert_eq!(d["sc-status"], 200);
    assert!(d.get("cs-referer").is_none() && d.get("cs-user-agent").is_none());
    assert_eq!(d["timestamp"], "2025-12-02T09:40:01Z");
    assert_eq!(
        (&d["date"], &d["time"]),
        (&"2025-12-02".into(), &"09:40:01".into())
    );
    let d = doc_of("access.log", 15);
    assert_eq!(d["cs-username"], "ops");
    let d = doc_of("squid-access.log", 26);
    assert_eq!(d["cs-host"], "update-srv.hopto.org");
    assert_eq!(d["c-uri-extension"], "exe");
    assert_eq!(d["s-action"], "TCP_MISS");
    assert_eq!(d["dst_ip"], "203.0.113.77");
    assert_eq!(d["time-taken"], 412);
    let d = doc_of("squid-access.log", 38);
    assert_eq!(d["c-useragent"], "");
    assert_eq!(d["_source"], "proxy");
}

/// Each good CEF/LEEF line of the samples behind an RFC 3164 and an RFC 5424 header,
/// read as syslog: the same CEF/LEEF fields, the syslog header kept.
#[test]
fn inside_syslog() {
    for (name, n) in [("cef.log", 25), ("leef.log", 25)] {
        let text = std::fs::read_to_string(data(name)).unwrap();
        let lines: Vec<&str> = text.lines().take(n).collect();
        for (i, header) in [
            "<134>Dec  2 08:00:00 fw-paris-01 ",
            "<134>1 2025-12-02T08:00:00Z fw-paris-01 - - - - ",
        ]
        .iter()
        .enumerate()
        {
            let framed: String = lines.iter().map(|l| format!("{header}{l}\n")).collect();
            let (mut docs, mut errs) = (Vec::new(), Vec::new());
            let stats = vigie_event::read_bytes(
                "x",
                framed.as_bytes(),
                &ReadOptions::default(),
                &mut |e| docs.push(e.doc().into_owned()),
                &mut |e| errs.push(e),
            )
            .unwrap();
            assert_eq!(stats.events, n as u64, "{name} {i} {errs:?}");
            for (line, d) in lines.iter().zip(&docs) {
                let alone = if name == "cef.log" {
                    cef::parse(line.as_bytes()).unwrap()
                } else {
                    leef::parse(line.as_bytes()).unwrap()
                };
                assert_eq!(d["host"], "fw-paris-01", "{d}");
                assert_eq!(d["facility"], "local0");
                assert_eq!(d["severity"], "info", "syslog's severity is kept");
                assert!(
                    d.get("app").is_none_or(|a| a != "CEF" && a != "LEEF"),
                    "{d}"
                );
                for (k, v) in &alone {
                    let got = d
                        .get(k.as_str())
                        .filter(|_| k != "severity" && k != "timestamp");
                    let got = got.or_else(|| d.get(format!("{}.{k}", &name[..name.len() - 4])));
                    assert_eq!(got, Some(v), "{name} {k} in {d}");
                }
            }
        }
        // Mixed into a CEF/LEEF file, a line with a syslog header is read as well.
        let mut mixed = format!("{}\n", lines[0]);
        mixed.push_str(&format!("Dec  2 08:00:00 fw-paris-01 {}\n", lines[1]));
        let mut docs = Vec::new();
        let stats = vigie_event::read_bytes(
            "x",
            mixed.as_bytes(),
            &ReadOptions::default(),
            &mut |e| docs.push(e.doc().into_owned()),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!((stats.events, stats.skipped), (2, 0), "{name}");
        assert_eq!(docs[1]["host"], "fw-paris-01");
    }
}

/// A CEF header field escaped as the specification says.
fn cef_header_escape(s: &str) -> String {
    s.replace('\\', r"\\").replace('|', r"\|")
}

fn cef_value_escape(s: &str) -> String {
    s.replace('\\', r"\\")
        .replace('=', r"\=")
        .replace('\n', r"\n")
        .replace('\r', r"\r")
}

fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .:/|\\\\=-]{0,16}",
        any::<String>().prop_map(|s| s.replace(['\n', '\r'], "")),
    ]
}

fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .:/|\\\\=\n-]{0,24}",
        any::<String>(),
        Just("a b=c d".to_string()),
        Just(r"C:\Windows\System32".to_string()),
    ]
    .prop_map(|s| s.trim_end_matches([' ', '\t', '\0']).to_string())
    .prop_filter("no trailing line end", |s| {
        !s.ends_with('\n') && !s.ends_with('\r')
    })
}

proptest! {
    #[test]
    fn cef_round_trip(
        header in prop::collection::vec(header_text(), 6),
        values in prop::collection::vec(value_text(), 0..6),
    ) {
        let mut line = String::from("CEF:0");
        for h in &header {
            line.push('|');
            line.push_str(&cef_header_escape(h));
        }
        line.push('|');
        let pairs: Vec<(String, &String)> =
            values.iter().enumerate().map(|(i, v)| (format!("k{i}"), v)).collect();
        let ext: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{k}={}", cef_value_escape(v))).collect();
        line.push_str(&ext.join(" "));
        let m = cef::parse(line.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}: {line}")))?;
        let names = ["deviceVendor", "deviceProduct", "deviceVersion", "signatureId", "name", "severity"];
        for (n, h) in names.iter().zip(&header) {
            prop_assert_eq!(m[*n].as_str(), Some(h.as_str()), "{}", line);
        }
        for (k, v) in &pairs {
            prop_assert_eq!(m[k.as_str()].as_str(), Some(v.as_str()), "{}", line);
        }
    }

    #[test]
    fn leef2_round_trip(
        header in prop::collection::vec("[a-zA-Z0-9 .:-]{0,12}", 4),
        delim in prop::sample::select(vec!['^', '\t', '|', ';', '#']),
        hex in any::<bool>(),
        values in prop::collection::vec("[a-zA-Z0-9 .:/\\\\-]{0,20}", 1..6),
    ) {
        // `|` itself can only be named by its code.
        let d = if hex || delim == '|' { format!("x{:02X}", delim as u32) } else { delim.to_string() };
        let mut line = format!("LEEF:2.0|{}|{d}|", header.join("|"));
        let attrs: Vec<String> =
            values.iter().enumerate().map(|(i, v)| format!("k{i}={v}")).collect();
        line.push_str(&attrs.join(&delim.to_string()));
        let m = leef::parse(line.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}: {line}")))?;
        prop_assert_eq!(m["eventId"].as_str(), Some(header[3].as_str()));
        for (i, v) in values.iter().enumerate() {
            prop_assert_eq!(m[format!("k{i}").as_str()].as_str(), Some(v.as_str()), "{}", line);
        }
    }

    #[test]
    fn combined_round_trip(
        ip in "(10|192|203)\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        user in prop::option::of("[a-z]{1,8}"),
        method in prop::sample::select(vec!["GET", "POST", "HEAD", "OPTIONS", "PUT"]),
        path in "/[a-zA-Z0-9._~%/-]{0,30}",
        query in prop::option::of("[a-zA-Z0-9=&%+._-]{0,30}"),
        status in 100u64..600,
        bytes in prop::option::of(0u64..10_000_000),
        referer in prop::option::of("[ -~]{0,40}"),
        agent in "[ -~]{0,60}",
    ) {
        let target = match &query { Some(q) => format!("{path}?{q}"), None => path.clone() };
        let q = |s: &str| s.replace('\\', r"\\").replace('"', r#"\""#);
        let line = format!(
            "{ip} - {} [02/Dec/2025:08:00:00 +0100] \"{method} {target} HTTP/1.1\" {status} {} \"{}\" \"{}\"",
            user.as_deref().unwrap_or("-"),
            bytes.map_or("-".to_string(), |b| b.to_string()),
            q(referer.as_deref().unwrap_or("-")),
            q(&agent),
        );
        let m = weblog::parse(line.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}: {line}")))?;
        prop_assert_eq!(m["c-ip"].as_str(), Some(ip.as_str()));
        prop_assert_eq!(m.get("cs-username").and_then(Value::as_str), user.as_deref());
        prop_assert_eq!(m["cs-method"].as_str(), Some(method));
        prop_assert_eq!(m["cs-uri-query"].as_str(), Some(target.as_str()));
        prop_assert_eq!(m["cs-uri-stem"].as_str(), Some(path.as_str()));
        prop_assert_eq!(m["sc-status"].as_u64(), Some(status));
        prop_assert_eq!(m.get("sc-bytes").and_then(Value::as_u64), bytes);
        let r = referer.filter(|r| r != "-");
        prop_assert_eq!(m.get("cs-referer").and_then(Value::as_str), r.as_deref());
        let a = Some(agent.as_str()).filter(|a| *a != "-");
        prop_assert_eq!(m.get("cs-user-agent").and_then(Value::as_str), a);
        prop_assert_eq!(m["timestamp"].as_str(), Some("2025-12-02T07:00:00Z"));
        prop_assert_eq!(m["_source"].as_str(), Some("webserver"));
    }

    #[test]
    fn arbitrary_lines_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for prefix in [&b""[..], b"CEF:0|", b"LEEF:2.0|a|b|c|d|", b"1.2.3.4 - - [", b"1.5 1 "] {
            let mut line = prefix.to_vec();
            line.extend_from_slice(&bytes);
            let _ = cef::parse(&line);
            let _ = leef::parse(&line);
            let _ = weblog::parse(&line);
        }
    }
}
