//! MISP feeds: a feed written by pymisp's `MISPEvent.to_feed()` and
//! `pymisp.tools.feed_meta_generator` loads with exactly the to_ids attributes of the
//! indexed types; the others are refused with a reason.

use std::collections::BTreeSet;
use std::process::Command;

use vigie_intel::feed::{load, LoadOptions, Source};
use vigie_intel::index::IntelIndex;
use vigie_intel::indicator::IocType;

const GEN: &str = r#"
import json, sys
from pathlib import Path
from pymisp import MISPEvent, MISPOrganisation
from pymisp.tools import feed_meta_generator

out = Path(sys.argv[1])
expect = []
for k in range(3):
    ev = MISPEvent()
    ev.info = f"Campaign {k}"
    org = MISPOrganisation(); org.name = "CERT-X"; org.uuid = "5f6e7d8c-0000-4000-8000-00000000000%d" % k
    ev.Orgc = org
    ev.add_tag("tlp:green")
    ev.add_tag('misp-galaxy:mitre-attack-pattern="PowerShell - T1059.001"')
    attrs = [
        ("ip-dst", f"198.51.100.{k + 1}", True),
        ("ip-src", f"2001:db8::{k + 1}", True),
        ("domain", f"c2-{k}.evil.example", True),
        ("hostname", f"www.bad-{k}.example", True),
        ("url", f"http://evil.example/{k}/payload", True),
        ("md5", "%032x" % (k + 1), True),
        ("sha1", "%040x" % (k + 1), True),
        ("sha256", "%064x" % (k + 1), True),
        ("filename", f"dropper{k}.exe", True),
        ("filename|md5", f"stage{k}.dll|" + "%032x" % (k + 100), True),
        ("ip-dst", "192.0.2.77", False),
        ("email-src", "attacker@evil.example", True),
        ("comment", "seen on the VPN", False),
    ]
    for t, v, ids in attrs:
        a = ev.add_attribute(t, v, to_ids=ids)
        if ids and t not in ("email-src",):
            expect.append(a.uuid)
    feed = ev.to_feed()
    (out / f"{ev.uuid}.json").write_text(json.dumps(feed))
feed_meta_generator(out)
print(json.dumps(expect))
"#;

#[test]
fn pymisp_feed_loads_to_ids_attributes() {
    let Some(venv) = vigie_test_support::python::intel_venv() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(GEN)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pymisp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("manifest.json").is_file());
    let expect: BTreeSet<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(expect.len(), 30);

    let (set, report) = load(&[Source::new(dir.path())], &LoadOptions::default());
    let got: BTreeSet<String> = set.indicators.iter().map(|i| i.id.to_string()).collect();
    assert_eq!(got, expect, "refused: {:#?}", report.refused);
    // Refused: 3 x (to_ids false x 2, email-src not indexed).
    assert_eq!(report.refused.len(), 9, "{:#?}", report.refused);
    assert_eq!(
        report
            .refused
            .iter()
            .filter(|r| r.reason.starts_with("to_ids is false"))
            .count(),
        6
    );
    assert!(report
        .refused
        .iter()
        .all(|r| r.file.ends_with(".json")
            && r.position.to_string().starts_with("/Event/Attribute/")));
    let by = report.by_type();
    assert_eq!(by[&IocType::Ipv4], 3);
    assert_eq!(by[&IocType::Ipv6], 3);
    assert_eq!(by[&IocType::Domain], 6);
    assert_eq!(by[&IocType::Md5], 6, "md5 and filename|md5's hash");
    let ind = &set.indicators[0];
    assert!(ind.techniques().contains(&"T1059.001".to_string()));
    assert!(ind.labels().contains(&"tlp:green".to_string()));
    assert!(ind.name().starts_with("Campaign"));

    let ix = IntelIndex::build(&set);
    let mut hits = Vec::new();
    ix.lookup(IocType::Domain, "a.C2-1.Evil.Example.", &mut hits);
    assert_eq!(hits.len(), 1);
    hits.clear();
    ix.lookup(IocType::Ipv4, "192.0.2.77", &mut hits);
    assert!(
        hits.is_empty(),
        "a to_ids=false attribute is not an indicator"
    );
    hits.clear();
    ix.lookup(IocType::FileName, r"C:\Users\x\Dropper2.EXE", &mut hits);
    assert_eq!(hits.len(), 1);

    // With --misp-include-non-ids the context attributes of indexed types load too.
    let (set2, _) = load(
        &[Source::new(dir.path())],
        &LoadOptions {
            misp_include_non_ids: true,
        },
    );
    assert_eq!(set2.len(), 33);
}
