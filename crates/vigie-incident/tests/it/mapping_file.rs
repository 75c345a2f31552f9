//! The mapping file: the default loads and covers what the docs say; a user file loads
//! from disk; every kind of mistake is reported with file, line and column, all at once.

use vigie_incident::{EntityMapping, FieldKind, MappingError, Role};

#[test]
fn the_default_mapping_loads() {
    let m = EntityMapping::parse(
        vigie_incident::mapping::DEFAULT_ENTITY_MAPPING,
        "entities.yml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let spec = m.default_spec("TargetUserName").expect("TargetUserName");
    assert_eq!((spec.kind, spec.role), (FieldKind::Account, Role::Target));
    assert_eq!(spec.domain.as_deref(), Some("TargetDomainName"));
    assert_eq!(m.default_spec("Computer").map(|s| s.role), Some(Role::Host));
    assert_eq!(
        m.default_spec("Hashes").map(|s| s.kind),
        Some(FieldKind::Hashes)
    );
    let fields = m.capture_fields();
    for name in [
        "EventID",
        "Channel",
        "Computer",
        "host.name",
        "IpAddress",
        "WorkstationName",
        "TargetDomainName",
        "SubjectDomainName",
        "user.domain",
        "winlog.event_id",
        "event.code",
        "winlog.channel",
        "ServiceName",
        "QueryName",
        "Security_UserID",
    ] {
        assert!(fields.iter().any(|f| &**f == name), "{name} not captured");
    }
    let mut sorted = fields.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(fields, sorted);
    assert_eq!(
        m.capture().names(),
        fields,
        "the capture set is the field list"
    );
}

#[test]
fn typed_fields_cover_what_threat_intelligence_matches() {
    let m = EntityMapping::default();
    let typed = m.typed_fields();
    let has = |name: &str, kind: FieldKind, ty: Option<&str>| {
        typed
            .iter()
            .any(|(n, k, t)| &**n == name && *k == kind && t.as_deref() == ty)
    };
    // QueryName is only typed by the Sysmon 22 entry, and still listed.
    assert!(has("QueryName", FieldKind::Domain, None));
    assert!(has("DestinationHostname", FieldKind::Domain, None));
    assert!(has("url.full", FieldKind::Url, None));
    assert!(has("IpAddress", FieldKind::Ip, None));
    assert!(has("Hashes", FieldKind::Hashes, None));
    assert!(has("file.hash.md5", FieldKind::Hash, Some("MD5")));
    assert!(has("Image", FieldKind::Process, None));
    assert!(has("TargetFilename", FieldKind::File, None));
    // Image is a process in every entry: listed once, whatever its role.
    assert_eq!(typed.iter().filter(|(n, _, _)| &**n == "Image").count(), 1);
    let mut sorted = typed.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(typed, sorted);
    assert_eq!(FieldKind::Domain.name(), "domain");
}

#[test]
fn a_mapping_file_loads_from_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mine.yml");
    std::fs::write(&path, "fields:\n  Src: {kind: ip, role: source}\n").expect("write");
    let m = EntityMapping::load(&path).expect("loads");
    assert_eq!(m.capture_fields().len(), 3, "Src, EventID, Channel");
    assert!(m.origin().ends_with("mine.yml"));

    let missing = dir.path().join("absent.yml");
    let err = EntityMapping::load(&missing).expect_err("absent");
    assert!(matches!(err, MappingError::Io { .. }));
    assert!(err.to_string().contains("absent.yml"), "{err}");
}

/// Each bad text with the `line:column` and words its first problem must have.
#[test]
fn mistakes_are_reported_with_their_position() {
    let cases: &[(&str, &str, &str)] = &[
        ("fields: [a, b", "2:1", "YAML syntax"),
        (
            "fields:\n  A: {kind: host, role: host}\n  A: {kind: ip, role: source}\n",
            "3:3",
            "duplicate key",
        ),
        ("- a\n- b\n", "1:1", "an entity mapping is a mapping"),
        (
            "feilds:\n  A: {kind: host, role: host}\n",
            "1:1",
            "unknown key `feilds`",
        ),
        (
            "fields:\n  A: {kind: hots, role: host}\n",
            "2:13",
            "unknown kind `hots`",
        ),
        (
            "fields:\n  A: {kind: host, role: owner}\n",
            "2:25",
            "unknown role `owner`",
        ),
        (
            "fields:\n  A: {kind: host}\n",
            "2:6",
            "needs both `kind` and `role`",
        ),
        (
            "fields:\n  A: {kind: host, role: host, colour: red}\n",
            "2:31",
            "unknown key `colour`",
        ),
        (
            "fields:\n  A: {kind: hash, role: actor}\n",
            "2:6",
            "needs a `type`",
        ),
        (
            "fields:\n  A: {kind: ip, role: host, domain: D}\n",
            "2:6",
            "`domain` only applies",
        ),
        (
            "fields:\n  A: host\n",
            "2:6",
            "expected {kind: ..., role: ...}",
        ),
        (
            "fields:\n  A: null\n",
            "2:6",
            "fields: A: a default cannot be null",
        ),
        (
            "noise:\n  ips: [10.0.0.1, 10.0.0.0/33, banana]\n",
            "2:19",
            "10.0.0.0/33",
        ),
        (
            "noise:\n  hostz: [a]\n",
            "2:3",
            "unknown noise list `hostz`",
        ),
        ("noise:\n  hosts: localhost\n", "2:10", "expected a list"),
        (
            "events:\n  - when: [{EventID: 1}]\n",
            "2:5",
            "needs `when` and `fields`",
        ),
        (
            "events:\n  - name: x\n    when: {EventID: 1}\n    fields: {}\n",
            "3:11",
            "list of alternatives",
        ),
        (
            "events:\n  - when: [[1]]\n    fields: {}\n",
            "2:12",
            "each alternative is a mapping",
        ),
        (
            "events:\n  - when: [{EventID: 1}]\n    fields:\n      A: {kind: x, role: host}\n",
            "4:17",
            "events[0]: fields: A: unknown kind `x`",
        ),
        (
            "events:\n  - when: [{EventID: 1}]\n    fields: {}\n    then: 2\n",
            "4:5",
            "unknown key `then`",
        ),
        ("keys:\n  EventID: {a: 1}\n", "2:12", "expected a text"),
    ];
    let mut failures = Vec::new();
    for (text, pos, words) in cases {
        let first = match EntityMapping::parse(text, "bad.yml") {
            Ok(_) => "accepted".to_string(),
            Err(e) => e.to_string().lines().next().unwrap_or_default().to_string(),
        };
        if !(first.starts_with(&format!("bad.yml:{pos}")) && first.contains(words)) {
            failures.push(format!(
                "{text:?}\n  got: {first}\n  want: bad.yml:{pos}...{words}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = "fields:\n  A: {kind: hots, role: host}\n  B: {kind: ip, role: nobody}\nnoise:\n  ips: [x]\n";
    let Err(MappingError::Invalid { origin, problems }) = EntityMapping::parse(text, "bad.yml")
    else {
        panic!("accepted");
    };
    assert_eq!(origin, "bad.yml");
    let lines: Vec<u32> = problems.iter().map(|p| p.pos.line).collect();
    assert_eq!(lines, vec![2, 3, 5], "{problems:?}");
}

/// An empty file is refused (it would name no entity at all), with its position.
#[test]
fn an_empty_file_is_refused() {
    for text in ["", "# only a comment\n"] {
        let err = EntityMapping::parse(text, "empty.yml").expect_err("refused");
        let msg = err.to_string();
        assert!(msg.starts_with("empty.yml:"), "{msg}");
        assert!(
            msg.to_lowercase().contains("empty") || msg.contains("no document"),
            "{msg}"
        );
    }
}
