//! The literal index, logsource groups and value cache only skip work: with all SigmaHQ
//! rules, matching through them gives exactly the matches of evaluating every rule.

use crate::synth;

use serde_json::json;
use vigie_event::Event;
use vigie_sigma::{LoadOptions, RuleSet};
use vigie_test_support::shared;

#[test]
fn indexed_matching_equals_evaluating_every_rule() {
    let sigma = shared().join("sigma");
    let dirs = [
        sigma.join("rules"),
        sigma.join("rules-emerging-threats"),
        sigma.join("rules-threat-hunting"),
    ];
    let (rs, _) = RuleSet::load(&dirs, &LoadOptions::default()).unwrap();
    let mut docs = synth::events(3000, 99);
    // Flat events without routing fields, keyword bait, arrays, EVTX shape.
    docs.push(
        json!({"CommandLine": "cmd.exe /c whoami /all", "Image": "C:\\Windows\\System32\\cmd.exe"}),
    );
    docs.push(json!({"msg": "mimikatz sekurlsa::logonpasswords", "n": 4}));
    // Keyword literals in other cases, after a non-ASCII fold (the Kelvin sign folds to
    // `k`), and in a number.
    docs.push(json!({"msg": "MIMIKATZ SeKurLSA::LogonPasswords", "n": 4}));
    docs.push(json!({"a": "\u{212A}erberos::golden ÉTÉ", "b": "privilege::DEBUG", "n": 4624}));
    docs.push(json!({"Hashes": ["MD5=1", "SHA256=2"], "QueryName": ["a.ngrok.io"]}));
    docs.push(json!({"Event": {"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational"},
        "EventData": {"Image": "C:\\x\\rundll32.exe", "CommandLine": "rundll32.exe javascript:\"\\..\\mshtml,RunHTMLApplication\""}}}));
    // Flat members with an empty key and a key with spaces (Sigma strips them).
    docs.push(json!({"": "mimikatz", "Threat Name": "HackTool:Win32/Mimikatz", "EventID": 1116}));
    // The same records read from JSON lines: the flat ones come out as member lists
    // (`Event::flat`) and must match exactly as their trees do.
    let lines: String = docs.iter().map(|d| format!("{d}\n")).collect();
    let mut read = Vec::new();
    vigie_event::read_bytes(
        "t.jsonl",
        lines.as_bytes(),
        &vigie_event::ReadOptions::default(),
        &mut |e| read.push(e),
        &mut |e| panic!("{e}"),
    )
    .unwrap();
    assert_eq!(read.len(), docs.len());
    assert!(read.iter().filter(|e| e.flat().is_some()).count() > 1000);
    let evs: Vec<Event> = docs
        .into_iter()
        .enumerate()
        .map(|(i, d)| Event::new("t".into(), i as u64, d))
        .collect();
    let mut fast = rs.matcher();
    let mut slow = rs.matcher();
    slow.set_unindexed(true);
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let mut total = 0;
    // Twice over, so the second pass goes through the value caches.
    for _ in 0..2 {
        for (e, r) in evs.iter().zip(&read) {
            a.clear();
            b.clear();
            c.clear();
            fast.scan(e, &mut a);
            slow.scan(e, &mut b);
            fast.scan(r, &mut c);
            let ra: Vec<u32> = a.iter().map(|m| m.rule.0).collect();
            let rb: Vec<u32> = b.iter().map(|m| m.rule.0).collect();
            assert_eq!(ra, rb, "event {}: {}", e.record, e.doc());
            let fa: Vec<_> = a.iter().map(|m| (m.rule.0, &m.fields)).collect();
            let fc: Vec<_> = c.iter().map(|m| (m.rule.0, &m.fields)).collect();
            assert_eq!(fa, fc, "read back, line {}: {}", r.record, e.doc());
            total += ra.len();
        }
    }
    assert!(total > 500, "{total}");
}

#[test]
fn indexed_matching_equals_evaluating_every_rule_on_evtx() {
    use vigie_event::{discover, read_input, ReadOptions};
    let shared = shared();
    let (rs, _) = RuleSet::load(&[shared.join("sigma/rules")], &LoadOptions::default()).unwrap();
    let (inputs, _) = discover(&[shared.join("evtx")]);
    // Every 20th record of every file: all channels and shapes, in a bounded time.
    let mut evs = Vec::new();
    for i in &inputs {
        let mut k = 0usize;
        let _ = read_input(
            i,
            &ReadOptions::default(),
            &mut |e| {
                if k.is_multiple_of(20) {
                    evs.push(e);
                }
                k += 1;
            },
            &mut |_| {},
        );
    }
    assert!(evs.len() > 500, "{}", evs.len());
    assert!(evs.iter().filter(|e| e.node().is_some()).count() > 500);
    let total = indexed_equals_unindexed_and_tree_twin(&rs, &evs);
    assert!(total > 50, "{total}");
}

/// Scans `evs` twice (the second pass goes through the value caches) through the index
/// and with every rule evaluated, and each record's `Value` tree (the plain walk)
/// through the index: the same matches each way. Returns the matches of both passes.
fn indexed_equals_unindexed_and_tree_twin(rs: &RuleSet, evs: &[Event]) -> usize {
    let mut fast = rs.matcher();
    let mut slow = rs.matcher();
    slow.set_unindexed(true);
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let mut total = 0;
    for _ in 0..2 {
        for e in evs {
            a.clear();
            b.clear();
            c.clear();
            fast.scan(e, &mut a);
            slow.scan(e, &mut b);
            let ra: Vec<u32> = a.iter().map(|m| m.rule.0).collect();
            let rb: Vec<u32> = b.iter().map(|m| m.rule.0).collect();
            assert_eq!(ra, rb, "{} record {}", e.source, e.record);
            let twin = Event::new(e.source.clone(), e.record, e.doc().into_owned());
            fast.scan(&twin, &mut c);
            let fa: Vec<_> = a.iter().map(|m| (m.rule.0, &m.fields)).collect();
            let fc: Vec<_> = c.iter().map(|m| (m.rule.0, &m.fields)).collect();
            assert_eq!(fa, fc, "{} record {} as a Value", e.source, e.record);
            total += ra.len();
        }
    }
    total
}

/// The project's samples of the non-Windows readers (auditd events are member lists with
/// list values, syslog lines member lists or trees), with all SigmaHQ rules: indexed
/// matching equals evaluating every rule, and each record matches as its `Value` tree.
#[test]
fn indexed_matching_equals_evaluating_every_rule_on_linux_and_network_samples() {
    use vigie_event::{discover, read_input, ReadOptions};
    let shared = shared();
    let (rs, _) = RuleSet::load(&[shared.join("sigma/rules")], &LoadOptions::default()).unwrap();
    let data = vigie_test_support::repo_root().join("crates/vigie-event/tests/data");
    let mut evs = Vec::new();
    for name in [
        "auditd.log",
        "syslog-linux.log",
        "sysmon-linux.log",
        "cisco-ios.log",
        "juniper-huawei.log",
        "fortigate.log",
        "cef.log",
    ] {
        let (inputs, errs) = discover(&[data.join(name)]);
        assert!(errs.is_empty() && inputs.len() == 1, "{name}: {errs:?}");
        read_input(
            &inputs[0],
            &ReadOptions::default(),
            &mut |e| evs.push(e),
            &mut |_| {},
        )
        .unwrap();
    }
    let flat = evs.iter().filter(|e| e.flat().is_some()).count();
    assert!(flat > 50 && flat < evs.len(), "{flat} of {}", evs.len());
    let lists = evs
        .iter()
        .filter_map(|e| e.flat())
        .filter(|f| f.iter().any(|(_, v)| v.is_array()))
        .count();
    assert!(lists > 10, "{lists}");
    let total = indexed_equals_unindexed_and_tree_twin(&rs, &evs);
    assert!(total > 50, "{total}");
}

/// A literal several selections share (`type: EXECVE`) does not let every event that has
/// it through the index: the selections' own literals must show too, and the rule still
/// matches where one selection holds.
#[test]
fn a_literal_shared_by_selections_does_not_make_every_event_a_candidate() {
    let yaml = "title: t\nid: r1\nlogsource:\n    product: linux\n    service: auditd\ndetection:\n    sel_path:\n        type: PATH\n        name: /etc/lsb-release\n    sel_a:\n        type: EXECVE\n        a0: uname\n    sel_b:\n        type: EXECVE\n        a0: lsmod\n    sel_c:\n        type: EXECVE\n        a0: kmod\n        a1: list\n    condition: 1 of sel_*\nlevel: low\n";
    let (rs, rep) = RuleSet::load_str("t.yml", yaml, &LoadOptions::default());
    assert!(rep.refused.is_empty(), "{:?}", rep.refused);
    let mut m = rs.matcher();
    let mut out = Vec::new();
    let ev = |a0: &str, a1: &str| {
        Event::new(
            "e".into(),
            1,
            json!({"_source": "linux.auditd", "type": ["SYSCALL", "EXECVE"], "a0": a0, "a1": a1}),
        )
    };
    m.scan(&ev("ls", "-la"), &mut out);
    assert!(m.last_candidates().is_empty(), "{:?}", m.last_candidates());
    assert!(out.is_empty());
    m.scan(&ev("kmod", "list"), &mut out);
    assert_eq!(out.len(), 1);
    out.clear();
    m.scan(&ev("lsmod", "-x"), &mut out);
    assert_eq!(out.len(), 1);
}

/// An equality with a value too short to be a selective substring (`a0: id`, `w`) is
/// looked up whole: other values are no candidates, and values that contain it are not
/// taken for it.
#[test]
fn short_exact_values_are_indexed_whole() {
    let yaml = "title: t\nid: r1\nlogsource:\n    product: linux\n    service: auditd\ndetection:\n    sel:\n        type: EXECVE\n        a0:\n            - id\n            - w\n            - whoami\n    condition: sel\nlevel: low\n";
    let (rs, rep) = RuleSet::load_str("t.yml", yaml, &LoadOptions::default());
    assert!(rep.refused.is_empty(), "{:?}", rep.refused);
    let mut m = rs.matcher();
    let mut out = Vec::new();
    for (a0, hit) in [
        ("ID", true),
        ("w", true),
        ("whoami", true),
        ("idle", false),
        ("ls", false),
    ] {
        out.clear();
        let ev = Event::new(
            "e".into(),
            1,
            json!({"_source": "linux.auditd", "type": "EXECVE", "a0": [a0, "x"]}),
        );
        m.scan(&ev, &mut out);
        assert_eq!(out.len(), usize::from(hit), "{a0}");
        assert_eq!(m.last_candidates().is_empty(), !hit, "{a0}");
    }
}
