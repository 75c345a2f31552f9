//! Network device messages and Sysmon for Linux inside syslog: the fields each vendor's
//! shape gives, `key=value` and XML round trips, no panic on any input, the `--timezone`
//! zone of RFC 3164 times, and FortiGate files sniffed without a syslog header.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};
use vigie_event::netdev::parse_kv;
use vigie_event::syslog::sysmon::parse_event;
use vigie_event::syslog::{parse, parse_document, ParseOptions, Zone};
use vigie_event::{read_bytes, ReadOptions};

fn opts() -> ParseOptions {
    ParseOptions::at(Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).unwrap())
}

fn doc(line: &str) -> Value {
    parse_document(line.as_bytes(), &opts()).unwrap()
}

#[test]
fn cisco_fields() {
    let d = doc("Mar  3 10:17:05 rtr 134: Mar  3 10:17:05.002 CET: %PARSER-5-CFGLOG_LOGGEDCMD: User:netops  logged command:no logging host 10.0.0.5");
    assert_eq!(d["_source"], "cisco");
    assert_eq!(d["cisco_facility"], "PARSER");
    assert_eq!(d["cisco_severity"], 5);
    assert_eq!(d["cisco_mnemonic"], "CFGLOG_LOGGEDCMD");
    assert_eq!(d["cisco_sequence"], "134");
    assert_eq!(d.get("app"), None);
    assert_eq!(d["user"], "netops");
    assert_eq!(d["command"], "no logging host 10.0.0.5");
    // The mnemonic read as the RFC 3164 tag; IOS XR's space before the colon.
    let d = doc("<189>Mar  3 09:06:30 sw %SYS-5-CONFIG_I: Configured from console by netops on vty0 (10.0.0.9)");
    assert_eq!(
        (&d["cisco_facility"], &d["user"]),
        (&json!("SYS"), &json!("netops"))
    );
    assert_eq!(d["app"], "%SYS-5-CONFIG_I");
    let d = doc("Mar  3 10:30:00 pe RP/0/RSP0/CPU0:Mar  3 10:30:00.345 CET: tcp[412]: %IP-TCP-3-BADAUTH : Invalid MD5 digest from 198.51.100.66:179 to 192.0.2.2:11019 (RST)");
    assert_eq!(
        (&d["cisco_facility"], &d["cisco_mnemonic"]),
        (&json!("IP-TCP"), &json!("BADAUTH"))
    );
    // A percent sign in ordinary text is not a Cisco header.
    let d = doc("Mar  3 10:00:00 web01 app[1]: disk at 95%-ok: fine %FOO bar");
    assert_eq!(d.get("_source"), None);
}

#[test]
fn huawei_juniper_fortigate_fields() {
    let d = doc("Mar  3 2024 10:31:00 ne40 %%01BGP/3/BGP_AUTH_FAILED(l)[10]:BGP session authentication failed.");
    assert_eq!(d["_source"], "huawei");
    assert_eq!(
        (
            &d["huawei_module"],
            &d["huawei_severity"],
            &d["huawei_brief"],
            &d["huawei_type"]
        ),
        (
            &json!("BGP"),
            &json!(3),
            &json!("BGP_AUTH_FAILED"),
            &json!("l")
        )
    );
    assert_eq!(d["timestamp"], "2024-03-03T10:31:00Z");
    let d =
        doc("Mar  3 09:05:00 mx mgd[4121]: UI_COMMIT: User 'netops' requested 'commit' operation");
    assert_eq!(
        (&d["_source"], &d["juniper_tag"]),
        (&json!("juniper"), &json!("UI_COMMIT"))
    );
    let d = doc("<28>1 2024-03-03T09:11:00Z mx rpd 2210 BGP_IO_ERROR_CLOSE_SESSION [junos@2636.1.1.1.2.39 peer-name=\"192.0.2.9\"] closing");
    assert_eq!(d["juniper_tag"], "BGP_IO_ERROR_CLOSE_SESSION");
    let d = doc(
        "Mar  3 10:30:00 mx /kernel: tcp_auth_ok: Packet from 198.51.100.66:179 missing MD5 digest",
    );
    assert_eq!(d["_source"], "juniper");
    // Linux kernel lines are not Junos, even with an iptables prefix shaped like a tag.
    assert_eq!(
        doc("Mar  3 10:30:00 web kernel: FW_DROP: IN=eth0 OUT= SRC=203.0.113.9").get("_source"),
        None
    );
    assert_eq!(
        doc("Mar  3 10:30:00 web kernel: EXT4-fs (sda1): mounted").get("_source"),
        None
    );
    let d = doc(
        r#"<189>date=2024-03-03 time=10:16:00 devname="FGT" devid="FG100F" eventtime=1709457360123456789 tz="+0100" logid="0100044547" type="event" subtype="system" user="admin" action="Add" cfgpath="system.admin" cfgobj="x y" msg="Add \"x y\"""#,
    );
    assert_eq!(d["_source"], "fortigate");
    assert_eq!(
        (&d["type"], &d["action"], &d["cfgpath"]),
        (&json!("event"), &json!("Add"), &json!("system.admin"))
    );
    assert_eq!(d["cfgobj"], "x y");
    assert_eq!(d["msg"], "Add \"x y\"");
    assert_eq!(d["timestamp"], "2024-03-03T09:16:00.123456789Z");
}

#[test]
fn fortigate_files_without_a_syslog_header() {
    let text = "date=2024-03-03 time=08:16:00 devname=\"FGT\" devid=\"FG100F\" tz=\"+0100\" logid=\"0100032001\" type=\"event\" subtype=\"system\" action=\"login\"\n\
                date=2024-03-03 time=08:17:00 devname=\"FGT\" cut\n";
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    read_bytes(
        "fgt.log",
        text.as_bytes(),
        &ReadOptions::default(),
        &mut |e| events.push(e),
        &mut |e| errors.push(e),
    )
    .unwrap();
    assert_eq!(events.len(), 1, "{errors:?}");
    assert_eq!(events[0].get("action"), Some(&json!("login")));
    assert_eq!(
        events[0].timestamp.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-03-03T07:16:00+00:00")
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "fgt.log: line 2: byte 0: not syslog: no `<PRI>` and no timestamp at the start"
    );
}

#[test]
fn sysmon_for_linux_inside_syslog() {
    let line = r#"Mar  3 11:12:05 web01 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version><Channel>Linux-Sysmon/Operational</Channel><Computer>web01</Computer></System><EventData><Data Name="Image">/usr/bin/bash</Data><Data Name="CommandLine">bash -c "a &amp;&amp; b"</Data></EventData></Event>"#;
    let d = doc(line);
    assert_eq!(d["EventID"], 1);
    assert_eq!(d["Channel"], "Linux-Sysmon/Operational");
    assert_eq!(d["Provider_Name"], "Linux-Sysmon");
    assert_eq!(d["Image"], "/usr/bin/bash");
    assert_eq!(d["CommandLine"], r#"bash -c "a && b""#);
    assert_eq!(d["host"], "web01");
    // Damaged XML: the syslog fields only from `to_document`, an error from the checked
    // form (which file readers use, so the line is counted).
    let cut = &line[..200];
    let m = parse(cut.as_bytes(), &opts()).unwrap();
    assert_eq!(m.to_document().get("EventID"), None);
    let e = m.to_document_checked().unwrap_err();
    assert!(e.to_string().starts_with("Sysmon event XML: byte "), "{e}");
}

#[test]
fn timezones() {
    let at = |zone: &str, line: &str| {
        let mut o = opts();
        o.zone = Zone::parse(zone).unwrap();
        parse(line.as_bytes(), &o)
            .unwrap()
            .timestamp
            .unwrap()
            .to_rfc3339()
    };
    // Paris: UTC+2 in summer, UTC+1 in winter; a fixed offset does not move.
    assert_eq!(
        at("Europe/Paris", "Jun 15 10:00:00 h a: m"),
        "2024-06-15T08:00:00+00:00"
    );
    assert_eq!(
        at("Europe/Paris", "Jan 15 10:00:00 h a: m"),
        "2024-01-15T09:00:00+00:00"
    );
    assert_eq!(
        at("+02:00", "Jan 15 10:00:00 h a: m"),
        "2024-01-15T08:00:00+00:00"
    );
    assert_eq!(
        at("-0530", "Jan 15 10:00:00 h a: m"),
        "2024-01-15T15:30:00+00:00"
    );
    assert_eq!(
        at("UTC", "Jan 15 10:00:00 h a: m"),
        "2024-01-15T10:00:00+00:00"
    );
    // ISO without offset takes the zone; with one, its own.
    assert_eq!(
        at("Europe/Paris", "2024-06-15T10:00:00 h a: m"),
        "2024-06-15T08:00:00+00:00"
    );
    assert_eq!(
        at("Europe/Paris", "2024-06-15T10:00:00Z h a: m"),
        "2024-06-15T10:00:00+00:00"
    );
    // The autumn fold (02:30 twice on 27 October 2024): the earlier, summer one; the
    // spring gap (02:30 skipped on 31 March 2024): as if the clock had not moved.
    assert_eq!(
        at("Europe/Paris", "Oct 27 02:30:00 h a: m"),
        "2023-10-27T00:30:00+00:00"
    );
    assert_eq!(
        at("Europe/Paris", "2024-10-27 02:30:00 h a: m"),
        "2024-10-27T00:30:00+00:00"
    );
    assert_eq!(
        at("Europe/Paris", "2024-03-31 02:30:00 h a: m"),
        "2024-03-31T01:30:00+00:00"
    );
    for bad in ["Mars/Olympus", "+2", "+25:00", "+02:61", "", "12"] {
        let e = Zone::parse(bad).unwrap_err().to_string();
        assert!(e.starts_with(&format!("time zone `{bad}`")), "{e}");
    }
}

/// FortiOS `key=value` text as a device writes it: values with spaces or quotes quoted,
/// `"` and `\` escaped inside quotes.
fn forti_line(kv: &[(String, String)]) -> String {
    kv.iter()
        .map(|(k, v)| {
            if v.is_empty() || v.contains([' ', '"', '\\']) {
                format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

proptest! {
    #[test]
    fn kv_round_trip(kv in prop::collection::vec(("[a-z_][a-z0-9_]{0,11}", "[ -~]{0,30}"), 0..20)) {
        let line = forti_line(&kv);
        let back: Vec<(String, String)> = parse_kv(&line).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        prop_assert_eq!(back, kv);
    }

    #[test]
    fn sysmon_xml_round_trip(
        eid in 1u64..30,
        data in prop::collection::vec(("[A-Za-z][A-Za-z0-9]{0,19}", "[^\u{0}-\u{1f}]{0,40}"), 0..30),
    ) {
        let mut xml = format!("<Event><System><EventID>{eid}</EventID><Channel>Linux-Sysmon/Operational</Channel></System><EventData>");
        for (k, v) in &data {
            xml.push_str(&format!("<Data Name=\"{k}\">{}</Data>", xml_escape(v)));
        }
        xml.push_str("</EventData></Event>");
        let fields = parse_event(&xml).unwrap();
        prop_assert_eq!(&fields[0], &("EventID".to_string(), Value::from(eid)));
        let back: Vec<(String, String)> = fields[2..].iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect();
        prop_assert_eq!(back, data);
    }

    #[test]
    fn never_panics(head in 0usize..6, text in "\\PC{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let heads = [
            "<189>Mar  3 09:00:01 rtr 12: %",
            "Mar  3 2024 09:00:00 ne40 %%01",
            "Mar  3 09:00:00 mx rpd[1]: ",
            "<189>date=2024-03-03 logid=\"1\" type=\"event\" devid=",
            "Mar  3 09:00:00 h sysmon: <Event>",
            "",
        ];
        let line = format!("{}{text}", heads[head]);
        if let Ok(m) = parse(line.as_bytes(), &opts()) {
            let _ = m.to_document();
            let _ = m.to_document_checked();
        }
        let lossy = String::from_utf8_lossy(&bytes);
        if let Err(e) = parse_event(&lossy) {
            prop_assert!(e.offset <= lossy.len());
        }
        let _ = parse_kv(&lossy);
    }
}
